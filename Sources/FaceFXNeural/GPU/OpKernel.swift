// The kernel side of the GPU engine: one `OpKernel` type per op family (Ops/<Op>.swift) with
// its shader (Shaders/nn/<op>.glsl). Kernels never compile shaders or allocate textures
// themselves: they ask the `PassBuilder` (program cache, one-time weight uploads).
import FaceFXGPU

/// Shader activation codes (`ACT` in Shaders/nn/common.glsl).
enum ActivationCode: Int {
    case none = 0, relu = 1, reluN1To1 = 2, relu6 = 3, tanh = 4, prelu = 5, logistic = 6

    init(_ f: FusedActivation) {
        switch f {
        case .none: self = .none
        case .relu: self = .relu
        case .reluN1To1: self = .reluN1To1
        case .relu6: self = .relu6
        case .tanh: self = .tanh
        }
    }
}

/// One kernel invocation after fusion: the op, its (possibly rewired) inputs and what was
/// folded into it.
struct PlanNode {
    var op: GraphOp
    /// Position in the op list where the node runs (that of the last op fused into it).
    var position: Int
    /// Inputs (op.inputs, with a folded PAD's output replaced by the PAD's input).
    var inputs: [Int]
    /// Tensor written (the last fused op's output).
    var output: Int
    /// Extra zero padding (top, left) from a folded spatial PAD.
    var padBefore: (h: Int, w: Int) = (0, 0)
    /// ADD operand folded into a convolution (may have fewer channels: a folded channel PAD).
    var residual: Int?
    /// The residual is the 2x2/2 max pool of `residual`, computed in the pass (fusion F): the tensor the folded
    /// MAX_POOL_2D wrote, never stored now (whether it would have been fp16 decides the rounding).
    var residualPool: Int?
    var activation: ActivationCode = .none
    /// PReLU alpha (constant tensor, one value per output channel) when activation == .prelu.
    var preluAlpha: Int?
    /// Names of the ops folded into this node (listing).
    var fused: [String] = []
    /// Input k → the tensor whose shape it is read as: a folded RESHAPE's output (input k is then
    /// that RESHAPE's input, read element by element in the reshaped order).
    var inputViews: [Int: Int] = [:]
    /// A 1x1 CONV_2D's input computed in the same pass: the depthwise convolution that alone wrote it
    /// (compute passes, Ops/DepthwisePointwise.swift); `inputs[0]` is then the depthwise's input.
    var depthwise: FoldedDepthwise?
}

extension PlanNode {
    /// The residual's shader defines (common.glsl's residualTexel): RESIDUAL 0 none, 1 a tensor, 2 a tensor's
    /// 2x2/2 max pool; RES_POOL_FP16 where the pool's own texture would have been fp16.
    func residualDefines(_ b: PassBuilder) -> [String: String] {
        ["RESIDUAL": residual == nil ? "0" : residualPool == nil ? "1" : "2",
         "RES_POOL_FP16": residualPool.map(b.storesHalf) == true ? "1" : "0"]
    }
}

/// A DEPTHWISE_CONV_2D node folded into the 1x1 CONV_2D reading it: its op, the tensor it wrote (now
/// never stored) and what was fused into it.
struct FoldedDepthwise {
    let op: GraphOp
    let output: Int
    let padBefore: (h: Int, w: Int)
    let activation: ActivationCode
    let preluAlpha: Int?
}

/// Where a pass input comes from.
enum PassSource {
    case tensor(Int)
    case texture(Texture)
}

/// One draw: a program, its inputs, uniforms and the tensor it writes.
struct PassSpec {
    var label: String
    var program: Program
    var inputs: [(uniform: String, source: PassSource)]
    var uniforms: [String: UniformValue]
    var output: Int
    /// Planar output (`TensorStorageLayout.planar`): the channel slices (layers) this draw writes.
    var layers: Range<Int>? = nil
    /// Work groups of a compute shader with its own layout (nil: a pass program, one invocation per
    /// output texel).
    var groups: (x: Int, y: Int)? = nil
}

protocol OpKernel {
    /// The ops this kernel runs.
    static var kinds: [OpKind] { get }
    /// Its shader under Shaders/.
    static var shader: String { get }
    /// Builds the draw for one node (weights uploaded here, once).
    static func makePass(_ node: PlanNode, _ b: PassBuilder) throws -> PassSpec
}

/// Every kernel; `kernel(for:)` is how the compiler finds one. Kernel coverage test: every
/// `OpKind` case appears here.
enum KernelRegistry {
    static let kernels: [OpKernel.Type] = [
        Conv2DKernel.self, DepthwiseConv2DKernel.self, FullyConnectedKernel.self,
        BinaryKernel.self, UnaryKernel.self, Pool2DKernel.self, ReduceKernel.self, SoftmaxKernel.self,
        GatherKernel.self, ConcatenationKernel.self, ResizeBilinearKernel.self, DepthToSpaceKernel.self,
    ]

    static func kernel(for kind: OpKind) -> OpKernel.Type? {
        kernels.first { $0.kinds.contains(kind) }
    }
}

/// Compile-time services for kernels.
final class PassBuilder {
    let graph: Graph
    let context: GPUContext
    let programs: ProgramCache
    let precision: TensorPrecision
    let batch: Int
    /// Constants after folding (graph constants + ops evaluated at compile time).
    let constants: [Int: Tensor]
    private(set) var weightTextures: [Texture] = []
    /// Whether a tensor's storage is RGBA16F (decided by the compiler before passes are built).
    var storesHalf: (Int) -> Bool = { _ in false }
    /// Whether an activation is stored planar (GPU/BakedConv.swift; decided by the compiler before passes are built).
    var isPlanar: (Int) -> Bool = { _ in false }
    /// Programs as compute passes (NeuralEngine.passKind).
    var compute = false
    /// With compute passes, the passes writing a network output as fragment passes: when the outputs are
    /// read back with glReadPixels (CompiledNetwork.gathersOutputs off), because on the NVIDIA driver
    /// that is ~30-200× slower from a texture written by imageStore than from one rendered to (H100:
    /// 4.9 ms vs 0.8 ms for the detector's outputs at batch 8). Gathered by a compute pass, they stay
    /// compute passes: fragment passes run on a small part of a data-centre GPU (the detector's
    /// concatenated outputs at batch 32 took 0.15 ms as a fragment pass on the H100).
    var fragmentOutputs = true
    /// Reads with texelFetch instead of texture() at texel centres (NeuralEngine.texelFetch).
    var texelFetch = false
    /// With compute passes, CONV_2D as the pixel-major kernel where it applies (NeuralEngine.pixelMajorConv).
    var pixelMajorConv = false
    /// The invocations its split of output slices aims at (NeuralEngine.pixelMajorInvocations).
    var pixelMajorInvocations = 65536
    /// Shared memory a compute work group may always declare: GLES 3.1's minimum GL_MAX_COMPUTE_SHARED_MEMORY_SIZE
    /// (the kernels that use shared memory stay within it, so they run on every GLES 3.1 driver).
    static let guaranteedSharedBytes = 16384
    /// Weight texture format (NeuralEngine.halfWeights).
    var weightFormat: TextureFormat = .rgba32f
    /// Whether a tensor is (an alias of) a network output (set by the compiler).
    var isNetworkOutput: (Int) -> Bool = { _ in false }
    private var constantTextures: [Int: Texture] = [:]

    init(graph: Graph, context: GPUContext, programs: ProgramCache, precision: TensorPrecision, batch: Int,
         constants: [Int: Tensor]) {
        self.graph = graph
        self.context = context
        self.programs = programs
        self.precision = precision
        self.batch = batch
        self.constants = constants
    }

    var modelName: String { graph.name }

    func unsupported(_ op: GraphOp, _ detail: String) -> NeuralEngineError {
        .unsupportedOp(model: graph.name, op: op.kind.rawValue + " (operator \(op.sourceIndex))", detail: detail)
    }

    func isConstant(_ t: Int) -> Bool { constants[t] != nil }

    func constant(_ t: Int) -> Tensor? { constants[t] }

    /// Layout of a tensor: activations have `batch` replicas, constants one.
    func layout(_ t: Int) throws -> TensorLayout {
        try TensorLayout(shape: graph.tensors[t].shape, replicas: isConstant(t) ? 1 : batch)
    }

    /// `defines` and those every nn pass gets: MAXV of the precision, STORE_FP16 of its output.
    private func passDefines(_ defines: [String: String], output: Int) -> [String: String] {
        var d = defines
        d["MAXV"] = precision == .fp16 ? "65504.0" : "1.0e20"
        d["STORE_FP16"] = storesHalf(output) ? "1" : "0"
        return d
    }

    /// The program for `shader` with `defines` (+ the pass defines), from the cache.
    func program(_ shader: String, _ defines: [String: String], output: Int) throws -> Program {
        var d = passDefines(defines, output: output)
        if texelFetch { d["NN_TEXEL_FETCH"] = "1" }
        if compute && !(fragmentOutputs && isNetworkOutput(output)) { return try programs.computeProgram(shader, defines: d, imageFormat: storesHalf(output) ? .rgba16f : .rgba32f) }
        return try programs.program(shader, defines: d)
    }

    /// A complete compute shader of the library writing `output` through the image at binding 0 (layout
    /// qualifier in FORMAT), with the defines every nn pass gets.
    func computeShader(_ shader: String, _ defines: [String: String], output: Int) throws -> Program {
        try programs.computeShader(shader, defines: computeShaderDefines(defines, output: output))
    }

    /// A generated compute shader (ItemChainKernel: `body` after Shaders/nn/item_chain.glsl) writing `output`
    /// through the image at binding 0, with the defines every nn pass gets.
    func generatedComputeShader(_ body: String, _ defines: [String: String], output: Int) throws -> Program {
        try programs.generatedComputeShader(header: "nn/item_chain.glsl", body: body, defines: computeShaderDefines(defines, output: output))
    }

    /// The pass defines, the image's layout qualifier (FORMAT) and the fetch mode of a complete compute shader.
    private func computeShaderDefines(_ defines: [String: String], output: Int) -> [String: String] {
        var d = passDefines(defines, output: output)
        d["FORMAT"] = (storesHalf(output) ? TextureFormat.rgba16f : .rgba32f).rawValue
        if texelFetch { d["NN_TEXEL_FETCH"] = "1" }
        return d
    }

    /// A program from generated fragment source (baked kernels), cached by a digest of the source.
    func generatedProgram(_ source: String, _ defines: [String: String], output: Int) throws -> Program {
        let d = passDefines(defines, output: output)
        let key = "generated:\(ProgramCache.digest(source))|" + d.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return try programs.program(key: key, vertexBody: ProgramCache.fullscreenVertexBody, fragmentBody: source, defines: d)
    }

    /// A weight texture of RGBA texels (width x height x 4 floats, row 0 first) in `weightFormat` (RGBA32F
    /// unless half weights: on llvmpipe fp32 weights fetch faster than fp16 ones), packed by `pack` from the
    /// constants of `tensors` (nil: none) the way `layout` names, uploaded once per context: networks with
    /// the same weights (another job's, another batch size) share it (`ProgramCache.constantTexture`).
    func weightTexture(from tensors: [Int?], layout: String,
                       pack: () throws -> (width: Int, height: Int, texels: [Float])) throws -> Texture {
        let t = try programs.constantTexture(sources: tensors.map { $0.flatMap { constants[$0]?.data } ?? [] },
                                             layout: layout, format: weightFormat) {
            let (width, height, texels) = try pack()
            guard width <= context.maxTextureSize, height <= context.maxTextureSize else {
                throw NeuralEngineError.unsupported("\(graph.name): weight texture \(width)x\(height) exceeds the GL limit \(context.maxTextureSize)")
            }
            return (width, height, texels)
        }
        weightTextures.append(t)
        return t
    }

    /// A constant tensor as a texture in the tensor layout (one replica), uploaded once.
    func constantTexture(_ t: Int) throws -> Texture {
        if let tex = constantTextures[t] { return tex }
        guard let value = constants[t] else { throw NeuralEngineError.unsupported("tensor \(t) is not a constant") }
        let l = try layout(t)
        let tex = try weightTexture(from: [t], layout: "tensor \(l.shape)") { (l.width, l.height, l.pack(value.data)) }
        constantTextures[t] = tex
        return tex
    }

    /// A tensor input of a pass: the constant's texture, or the activation resolved at run time.
    func source(_ t: Int) throws -> PassSource {
        isConstant(t) ? .texture(try constantTexture(t)) : .tensor(t)
    }

    /// A per-channel vector (bias, PReLU alpha) padded to `channels` rounded up to 4.
    func channelVector(_ t: Int?, channels: Int) throws -> [Float] {
        var v = [Float](repeating: 0, count: (channels + 3) / 4 * 4)
        if let t {
            guard let c = constants[t], c.count == channels else {
                throw NeuralEngineError.unsupported("\(graph.name): per-channel vector \(t) must be a constant of \(channels) values")
            }
            for i in 0..<channels { v[i] = c.data[i] }
        }
        return v
    }

    static func ivec2(_ a: Int, _ b: Int) -> UniformValue { .ivec2(Int32(a), Int32(b)) }
    static func ivec4(_ v: [Int]) -> UniformValue { .ivec4(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3])) }
}
