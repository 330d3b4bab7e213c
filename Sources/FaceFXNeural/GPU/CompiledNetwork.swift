// A Graph compiled ONCE into a list of GPU passes: constants folded, ops fused, programs linked
// through the ProgramCache, weights uploaded, activation textures assigned by liveness from a
// pool (a texture returns to the pool after its last reader). Running creates no GL object.
import FaceFXGPU
import Foundation

/// Shared GPU resources for networks on one context: program cache and pass runner.
public final class NeuralEngine {
    public let context: GPUContext
    public let precision: TensorPrecision
    public let programs: ProgramCache
    let runner: PassRunner
    /// fp16 mode only: activations of at most this many elements per replica (the deep, low-
    /// resolution layers, where rounding errors pile up but bandwidth is negligible) and the
    /// network outputs are stored as RGBA32F. 0 = every activation in fp16.
    public var fp32ElementLimit: Int
    /// Baked convolutions (GPU/BakedConv.swift): planar intermediates written through multiple render
    /// targets, weights as shader literals: faster on llvmpipe once compiled, but ~140 programs to
    /// compile per network (2-core box: the demo took 99 s on a cold Mesa shader cache with them and
    /// 19 s warm; 29 s cold and 24.5 s warm without). Off by default; the face networks turn them on
    /// once `BakedKernelWarmup` has compiled them in the background. `GPUTuning.bakedKernels`
    /// (FACEFX_NN_BAKE=1 / 0) forces them on / off.
    public var bakedKernels: Bool
    /// How layers run: fragment passes (render to texture) or compute passes (imageStore), the same
    /// shaders either way. Compute by default on hardware GPUs: data-centre GPUs run pixel shaders
    /// on a small part of the chip (the H100: 2 TPCs of 57), compute on all of it. Fragment passes
    /// on software renderers, where baked kernels (fragment only) are faster. `GPUTuning.networkPasses`
    /// (FACEFX_NN_PASSES) forces one. Compute turns baked kernels off.
    public var passKind: PassKind {
        didSet { if passKind == .compute { bakedKernels = false } }
    }

    public enum PassKind: String, CaseIterable { case fragment, compute }

    /// Tensor and weight reads with texelFetch instead of texture() at texel centres. Default: with
    /// compute passes (hardware GPUs; H100, batch 64: detector 2.2 → 1.6 ms) but not on llvmpipe, where
    /// texture() is ~1.45× faster. `GPUTuning.texelFetch` (FACEFX_NN_FETCH) overrides.
    public var texelFetchOverride: Bool?
    public var texelFetch: Bool { texelFetchOverride ?? (passKind == .compute) }
    /// fp16 mode: weights stored RGBA16F instead of RGBA32F (half the bytes to fetch). Default: with
    /// compute passes (H100, batch 64, with texelFetch: detector 1.6 → 1.36 ms, full-range detector
    /// 4.4 → 3.7 ms; the MediaPipe weights are fp16 already, so nothing is lost for them); fp32 on
    /// llvmpipe, where fp32 weights fetch faster. `GPUTuning.halfWeights` (FACEFX_NN_WEIGHTS) overrides.
    public var halfWeightsOverride: Bool?
    public var halfWeights: Bool { halfWeightsOverride ?? (passKind == .compute) }
    /// Compute passes: a depthwise convolution and the 1x1 convolution reading it as one pass (fusion E;
    /// H100: landmarks 112 → 78 passes, 1.54 → 1.34 ms at batch 8). `GPUTuning.depthwisePointwise`
    /// (FACEFX_NN_FUSE_DW=0) turns it off for comparison.
    public var depthwisePointwise: Bool
    /// Compute passes: CONV_2D as Conv2DKernel's pixel-major pass (Shaders/nn/conv2d_pixels.glsl; H100,
    /// landmarks at batch 1 / 8 / 32: 0.92 / 1.36 / 2.01 → 0.75 / 1.03 / 1.69 ms). `GPUTuning.pixelMajorConv`
    /// (FACEFX_NN_CONV_PIXELS=0) turns it off for comparison.
    public var pixelMajorConv: Bool
    /// Compute passes: a 2x2/2 MAX_POOL_2D read only as a convolution's residual is computed in that convolution's
    /// pass (fusion F: the stride-2 blocks of the detectors and the landmark network; detector 26 → 23 passes
    /// in 21 → 18 dependency levels, landmarks 78 → 72 passes). `GPUTuning.poolResiduals` (FACEFX_NN_FUSE_POOL=0) turns it off for comparison.
    public var poolResiduals: Bool
    /// Compute passes: a chain of convolutions on small tensors as one pass, a work group per batch item, the
    /// intermediates in shared memory (fusion G, Ops/ItemChain.swift: the landmark network's 4x4 and 2x2 stages).
    /// `GPUTuning.itemChains` (FACEFX_NN_CHAIN=0) turns it off for comparison.
    public var itemChains: Bool
    /// Shared memory a chain may use per work group: the context's GL_MAX_COMPUTE_SHARED_MEMORY_SIZE (NVIDIA 48 KB,
    /// llvmpipe 32 KB). Tests lower it so that chains end sooner and depthwise results go in several rounds.
    var chainSharedBytes: Int
    /// Output texels a chained node may have per item (ItemChainKernel.defaultNodeTexels). Tests raise it so that
    /// the detector's 8x8 blocks chain too and chains need more shared memory than the driver grants.
    var chainNodeTexels = ItemChainKernel.defaultNodeTexels
    /// Invocations the pixel-major kernel's split of output slices aims at (enough to fill a large GPU). Tests
    /// lower it so that small tensors take several slices an invocation.
    var pixelMajorInvocations = 65536

    public init(context: GPUContext, precision: TensorPrecision = .fp16, programs: ProgramCache? = nil,
                fp32ElementLimit: Int = 32768) {
        self.context = context
        self.precision = precision
        self.fp32ElementLimit = fp32ElementLimit
        let t = context.tuning
        self.passKind = t.networkPasses.map { $0 == .compute ? .compute : .fragment } ?? (context.isSoftware ? .fragment : .compute)
        self.bakedKernels = passKind == .fragment && t.bakedKernels == true
        texelFetchOverride = t.texelFetch
        halfWeightsOverride = t.halfWeights
        depthwisePointwise = t.depthwisePointwise ?? true
        pixelMajorConv = t.pixelMajorConv ?? true
        poolResiduals = t.poolResiduals ?? true
        itemChains = t.itemChains ?? true
        chainSharedBytes = context.maxComputeSharedBytes
        self.programs = programs ?? ProgramCache(context: context)
        runner = PassRunner(context: context)
    }

    /// Compiles `graph` for `batch` inputs per run (stacked vertically, one draw per layer).
    public func compile(_ graph: Graph, batch: Int = 1, keepIntermediates: Bool = false) throws -> CompiledNetwork {
        try CompiledNetwork(engine: self, graph: graph, batch: batch, keepIntermediates: keepIntermediates)
    }
}

public final class CompiledNetwork {
    public let graph: Graph
    public let batch: Int
    public let precision: TensorPrecision
    public let context: GPUContext
    let engine: NeuralEngine

    /// One activation texture with its framebuffer (standard layout), or a 2-D array texture with the
    /// layered framebuffers its producer's draws render to (planar layout).
    final class Storage {
        let layout: TensorLayout
        let texture: Texture
        let framebuffer: Framebuffer?
        var layerFramebuffers: [Framebuffer] = []
        init(layout: TensorLayout, texture: Texture, framebuffer: Framebuffer?) {
            self.layout = layout; self.texture = texture; self.framebuffer = framebuffer
        }
        var isPlanar: Bool { framebuffer == nil }
    }

    /// A layered framebuffer: slices `range` of a planar tensor's array texture.
    struct LayerKey: Hashable { let texture: ObjectIdentifier; let range: Range<Int> }

    struct Pass {
        let label: String
        let program: Program
        let inputs: [PassInput]
        let uniforms: [String: UniformValue]
        let target: Framebuffer
        let output: Int
        let groups: (x: Int, y: Int)?
    }

    private var passes: [Pass] = []
    private var storages: [Int: Storage] = [:]  // root tensor -> storage
    private var alias: [Int: Int] = [:]
    private let pool: TexturePool
    private var weightTextures: [Texture] = []
    private var copyProgram: Program?
    /// The passes resolved for replay (encode).
    private var sequence: PassSequence?
    /// Where `readRows` compacts rows (made on first use, sized for every row of the batch).
    var rowBuffer: StorageBuffer?
    /// How `readOutputs` gathers the outputs (`gathersOutputs`).
    private lazy var outputGather = TexelGather(context: context, programs: engine.programs)

    /// Bytes of weight and constant textures.
    public private(set) var weightBytes = 0
    /// Bytes of activation textures (inputs, outputs and the pooled intermediates).
    public private(set) var activationBytes = 0
    /// Layouts of the network inputs / outputs (batch replicas included).
    public private(set) var inputLayouts: [TensorLayout] = []
    public private(set) var outputLayouts: [TensorLayout] = []
    /// Graph ops fused away or folded (for reports).
    public private(set) var fusedOpCount = 0

    public var passCount: Int { passes.count }
    /// Memory barriers between the passes of one run (compute passes; passes of a level share one).
    public var barrierCount: Int { sequence?.barrierCount ?? 0 }
    /// Intermediate tensors stored planar (written by baked convolutions).
    private(set) var planarTensorCount = 0

    /// Compiles with a private engine (program cache and pass runner of its own).
    public convenience init(graph: Graph, context: GPUContext, batch: Int = 1, precision: TensorPrecision = .fp16,
                            keepIntermediates: Bool = false) throws {
        try self.init(engine: NeuralEngine(context: context, precision: precision), graph: graph, batch: batch,
                      keepIntermediates: keepIntermediates)
    }

    init(engine: NeuralEngine, graph: Graph, batch: Int, keepIntermediates: Bool) throws {
        guard batch >= 1 else { throw NeuralEngineError.invalidInput("batch must be >= 1") }
        self.engine = engine
        self.graph = graph
        self.batch = batch
        self.precision = engine.precision
        self.context = engine.context
        pool = TexturePool(context: engine.context)
        try context.sync { () throws in try compile(keepIntermediates: keepIntermediates) }
    }

    // MARK: - Compile

    private func root(_ t: Int) -> Int {
        var r = t
        while let a = alias[r] { r = a }
        return r
    }

    /// Compiling, step by step: constants folded, the ops planned as nodes and fused (one rewrite each),
    /// baked kernels chosen, passes made, storage assigned by liveness while the passes are recorded.
    private func compile(keepIntermediates: Bool) throws {
        let (ops, constants) = try foldConstants()
        let b = PassBuilder(graph: graph, context: context, programs: engine.programs, precision: precision,
                            batch: batch, constants: constants)
        b.compute = engine.passKind == .compute
        b.pixelMajorConv = engine.pixelMajorConv
        b.pixelMajorInvocations = engine.pixelMajorInvocations
        b.fragmentOutputs = !gathersOutputs
        b.texelFetch = engine.texelFetch
        b.weightFormat = engine.halfWeights && precision == .fp16 ? .rgba16f : .rgba32f
        var plan = FusionPlan(ops: ops, outputs: Set(graph.outputs))
        try aliasReshapes(&plan, b)
        foldReshapesIntoConcatenations(&plan)
        foldPadsIntoConvolutions(&plan)
        fuseResidualAdds(&plan, b)
        fuseActivations(&plan, constants: constants)
        if engine.passKind == .compute && engine.depthwisePointwise { foldDepthwiseIntoPointwise(&plan, b) }
        if engine.passKind == .compute && engine.poolResiduals { try foldPoolsIntoResiduals(&plan, b) }
        let nodes = plan.nodes.compactMap { $0 }.sorted { $0.position < $1.position }
        let specs = scheduleByLevel(try makePasses(nodes, b))
        try recordPasses(specs.passes, levels: specs.levels, keepIntermediates: keepIntermediates)
    }

    /// The passes in order of dependency level (a pass's level: one more than the highest level of a pass
    /// writing a tensor it reads; a tensor's writers keep their order), stable within a level. Passes of
    /// one level do not depend on each other, so they share one memory barrier (PassSequence): the
    /// detector's head convolutions, for one, run beside the backbone's later layers instead of after them.
    private func scheduleByLevel(_ specs: [PassSpec]) -> (passes: [PassSpec], levels: [Int]) {
        var written: [Int: Int] = [:]  // root tensor -> level of its last writer so far
        var level: [Int] = []
        for s in specs {
            var l = 0
            for (_, src) in s.inputs { if case let .tensor(t) = src, let w = written[root(t)] { l = max(l, w + 1) } }
            let o = root(s.output)
            if let w = written[o] { l = max(l, w) }
            written[o] = l
            level.append(l)
        }
        let order = specs.indices.sorted { (level[$0], $0) < (level[$1], $1) }
        return (order.map { specs[$0] }, order.map { level[$0] })
    }

    /// Ops whose inputs are all constants run once on the CPU; the others are left to the GPU.
    private func foldConstants() throws -> (ops: [GraphOp], constants: [Int: Tensor]) {
        var constants: [Int: Tensor] = [:]
        for t in graph.tensors { if let c = t.constant { constants[t.index] = Tensor(shape: t.shape, data: c) } }
        var ops: [GraphOp] = []
        for op in graph.ops {
            if op.inputs.allSatisfy({ constants[$0] != nil }) {
                var r = CPUReference.evaluate(op, op.inputs.map { constants[$0]! })
                r.shape = graph.tensors[op.outputs[0]].shape
                constants[op.outputs[0]] = r
                fusedOpCount += 1
            } else {
                guard KernelRegistry.kernel(for: op.kind) != nil else {
                    throw NeuralEngineError.unsupportedOp(model: graph.name, op: op.kind.rawValue, detail: "operator \(op.sourceIndex)")
                }
                ops.append(op)
            }
        }
        for o in graph.outputs where constants[o] != nil {
            throw NeuralEngineError.unsupported("\(graph.name): output \(graph.tensors[o].name) is a constant")
        }
        return (ops, constants)
    }

    /// One node per GPU op (nil once fused away), with the lookups the fusion rewrites need.
    private struct FusionPlan {
        let ops: [GraphOp]
        var nodes: [PlanNode?]
        /// Tensor → the node writing it (moves to the node an op was fused into).
        var producer: [Int: Int] = [:]
        /// Tensor → the ops reading it.
        var consumers: [Int: [Int]] = [:]
        /// The network's outputs (never fused into a node whose result another op reads).
        let outputs: Set<Int>

        init(ops: [GraphOp], outputs: Set<Int>) {
            self.ops = ops
            self.outputs = outputs
            nodes = ops.enumerated().map { k, op in
                var n = PlanNode(op: op, position: k, inputs: op.inputs, output: op.outputs[0])
                switch op.options {
                case let .conv2D(o): n.activation = ActivationCode(o.activation)
                case let .depthwiseConv2D(o): n.activation = ActivationCode(o.activation)
                case let .fullyConnected(o): n.activation = ActivationCode(o.activation)
                case let .pool2D(o): n.activation = ActivationCode(o.activation)
                case let .elementwise(a): n.activation = ActivationCode(a)
                case let .concatenation(o): n.activation = ActivationCode(o.activation)
                default: break
                }
                return n
            }
            for (k, op) in ops.enumerated() {
                for t in Set(op.inputs) { consumers[t, default: []].append(k) }
                producer[op.outputs[0]] = k
            }
        }

        /// The only op reading `t` (nil when several or none do, or `t` is a network output).
        func soleConsumer(_ t: Int) -> Int? {
            guard !outputs.contains(t), let c = consumers[t], c.count == 1 else { return nil }
            return c[0]
        }
    }

    private func shape(_ t: Int) -> [Int] { graph.tensors[t].shape }

    /// A: a RESHAPE whose input and output have the same texels is an alias, no pass.
    private func aliasReshapes(_ plan: inout FusionPlan, _ b: PassBuilder) throws {
        for (k, op) in plan.ops.enumerated() where op.kind == .reshape {
            let (i, o) = (op.inputs[0], op.outputs[0])
            if try b.layout(i).sameTexels(as: b.layout(o)) {
                alias[o] = i
                plan.nodes[k] = nil
                fusedOpCount += 1
            }
        }
    }

    /// A': a RESHAPE (not an alias) read only by a CONCATENATION: the concatenation reads the reshape's
    /// input in the reshaped element order, no copy pass (the detectors' heads: 4 passes and a level fewer).
    private func foldReshapesIntoConcatenations(_ plan: inout FusionPlan) {
        for (k, op) in plan.ops.enumerated() where op.kind == .reshape && plan.nodes[k] != nil {
            let (i, o) = (op.inputs[0], op.outputs[0])
            guard let j = plan.soleConsumer(o), plan.nodes[j] != nil, plan.ops[j].kind == .concatenation else { continue }
            for (q, t) in plan.nodes[j]!.inputs.enumerated() where t == o {
                plan.nodes[j]!.inputs[q] = i
                plan.nodes[j]!.inputViews[q] = o
            }
            if !plan.nodes[j]!.fused.contains("RESHAPE") { plan.nodes[j]!.fused.append("RESHAPE") }
            plan.nodes[k] = nil
            fusedOpCount += 1
        }
    }

    /// B: a spatial zero PAD read only by a convolution becomes the convolution's padding.
    private func foldPadsIntoConvolutions(_ plan: inout FusionPlan) {
        let ops = plan.ops
        for (k, op) in ops.enumerated() where op.kind == .pad {
            guard case let .pad(p) = op.options, p.before.count == 4,
                  p.before[0] == 0, p.after[0] == 0, p.before[3] == 0, p.after[3] == 0,
                  let j = plan.soleConsumer(op.outputs[0]), plan.nodes[j] != nil,
                  ops[j].kind == .conv2D || ops[j].kind == .depthwiseConv2D,
                  ops[j].inputs[0] == op.outputs[0], ops[j].inputs.dropFirst().allSatisfy({ $0 != op.outputs[0] })
            else { continue }
            plan.nodes[j]!.inputs[0] = op.inputs[0]
            plan.nodes[j]!.padBefore = (p.before[1], p.before[2])
            plan.nodes[j]!.fused.append("PAD")
            plan.nodes[k] = nil
            fusedOpCount += 1
        }
    }

    /// C: an ADD of a convolution's output (its only reader) and a same-shape tensor becomes the
    /// convolution's residual input; a channel PAD feeding that tensor is folded in too.
    private func fuseResidualAdds(_ plan: inout FusionPlan, _ b: PassBuilder) {
        let ops = plan.ops
        for (k, op) in ops.enumerated() where op.kind == .add && plan.nodes[k] != nil {
            guard case let .elementwise(act) = op.options else { continue }
            for (xi, yi) in [(0, 1), (1, 0)] {
                let x = op.inputs[xi], y = op.inputs[yi]
                guard x != y, let p = plan.producer[x], plan.nodes[p] != nil, ops[p].kind == .conv2D,
                      plan.soleConsumer(x) == k, plan.nodes[p]!.activation == .none, plan.nodes[p]!.residual == nil,
                      shape(x) == shape(op.outputs[0]), !b.isConstant(y) else { continue }
                guard shape(y) == shape(x) else { continue }
                var residual = y
                var foldedPad: Int?
                // A channel PAD (zeros after the last axis only) into the residual: read its input.
                if let q = plan.producer[y], plan.nodes[q] != nil, ops[q].kind == .pad, case let .pad(pp) = ops[q].options,
                   plan.soleConsumer(y) == k, pp.before.allSatisfy({ $0 == 0 }),
                   pp.after.dropLast().allSatisfy({ $0 == 0 }), shape(y).count == 4,
                   !b.isConstant(ops[q].inputs[0]) {
                    residual = ops[q].inputs[0]
                    foldedPad = q
                }
                if let q = foldedPad { plan.nodes[q] = nil; plan.nodes[p]!.fused.append("PAD"); fusedOpCount += 1 }
                plan.nodes[p]!.residual = residual
                plan.nodes[p]!.output = op.outputs[0]
                plan.nodes[p]!.activation = ActivationCode(act)
                plan.nodes[p]!.position = k
                plan.nodes[p]!.fused.append("ADD")
                plan.producer[op.outputs[0]] = p
                plan.nodes[k] = nil
                fusedOpCount += 1
                break
            }
        }
    }

    /// D: an activation op right after a convolution or binary node whose output it alone reads.
    private func fuseActivations(_ plan: inout FusionPlan, constants: [Int: Tensor]) {
        let fusableProducers: Set<OpKind> = [.conv2D, .depthwiseConv2D, .fullyConnected, .add, .sub, .mul, .div,
                                             .squaredDifference]
        let ops = plan.ops
        for (k, op) in ops.enumerated() where plan.nodes[k] != nil {
            let code: ActivationCode
            switch op.kind {
            case .prelu: code = .prelu
            case .relu: code = .relu
            case .relu6: code = .relu6
            case .logistic: code = .logistic
            default: continue
            }
            let x = op.inputs[0]
            guard let p = plan.producer[x], plan.nodes[p] != nil, fusableProducers.contains(ops[p].kind),
                  plan.nodes[p]!.activation == .none, plan.soleConsumer(x) == k, plan.nodes[p]!.output == x else { continue }
            if code == .prelu {
                let alpha = op.inputs[1]
                guard let a = constants[alpha], a.count == shape(x).last, a.shape.dropLast().allSatisfy({ $0 == 1 }) else { continue }
                plan.nodes[p]!.preluAlpha = alpha
            }
            plan.nodes[p]!.activation = code
            plan.nodes[p]!.output = op.outputs[0]
            plan.nodes[p]!.position = k
            plan.nodes[p]!.fused.append(op.kind.rawValue)
            plan.producer[op.outputs[0]] = p
            plan.nodes[k] = nil
            fusedOpCount += 1
        }
    }

    /// E (compute passes): a DEPTHWISE_CONV_2D (multiplier 1) read only by a 1x1 CONV_2D (stride 1, as its
    /// input) runs inside that convolution's pass (Ops/DepthwisePointwise.swift): one pass and one memory
    /// barrier instead of two, and the depthwise result never leaves the GPU's shared memory. The
    /// MobileNet-style blocks of the detectors and the landmark network are made of such pairs.
    private func foldDepthwiseIntoPointwise(_ plan: inout FusionPlan, _ b: PassBuilder) {
        let ops = plan.ops
        // Passes writing a network output may have to be fragment passes (PassBuilder.fragmentOutputs).
        let outputs = b.fragmentOutputs ? Set(graph.outputs.map(root)) : []
        for (j, op) in ops.enumerated() where op.kind == .conv2D {
            guard case let .conv2D(o) = op.options, o.strideH == 1, o.strideW == 1,
                  let f = b.constant(op.inputs[1]), f.shape[1] == 1, f.shape[2] == 1,
                  let conv = plan.nodes[j], conv.padBefore == (0, 0), conv.depthwise == nil, !outputs.contains(root(conv.output)),
                  let p = plan.producer[conv.inputs[0]], p != j, let dw = plan.nodes[p], dw.op.kind == .depthwiseConv2D,
                  dw.output == conv.inputs[0], plan.soleConsumer(dw.output) == j, conv.residual != dw.output,
                  DepthwisePointwiseKernel.fits(dw, conv, b) else { continue }
            plan.nodes[j]!.depthwise = FoldedDepthwise(op: dw.op, output: dw.output, padBefore: dw.padBefore,
                                                       activation: dw.activation, preluAlpha: dw.preluAlpha)
            plan.nodes[j]!.inputs[0] = dw.inputs[0]
            plan.nodes[j]!.fused.insert("DEPTHWISE", at: 0)
            plan.nodes[p] = nil
            fusedOpCount += 1
        }
    }

    /// F (compute passes, whose convolutions are never baked: they read the residual unplanar): a 2x2/2
    /// MAX_POOL_2D without padding whose output only a convolution reads, as its residual (the MobileNet-style
    /// stride-2 blocks: x → pool → channel PAD → ADD), is computed where that residual is read
    /// (common.glsl's residualTexel). The pool's pass goes, and in the detectors a dependency level with it:
    /// there the pool read x beside the block's depthwise, and the block's 1x1 waited for both (in the landmark
    /// network a 2x2/2 convolution runs beside the pool, so its levels stay).
    private func foldPoolsIntoResiduals(_ plan: inout FusionPlan, _ b: PassBuilder) throws {
        for (k, node) in plan.nodes.enumerated() {
            guard let node, let r = node.residual, let q = plan.producer[r], q != k, let pool = plan.nodes[q],
                  pool.op.kind == .maxPool2D, case let .pool2D(o) = pool.op.options, pool.output == r, pool.activation == .none,
                  o.filterH == 2, o.filterW == 2, o.strideH == 2, o.strideW == 2, !plan.outputs.contains(root(r)) else { continue }
            let x = pool.inputs[0]
            let xl = try b.layout(x), pl = try b.layout(r)
            // Every window inside the input (no padding, no clipped window).
            guard Graph.window(xl.h, filter: 2, stride: 2, dilation: 1, padding: o.padding).padBefore == 0,
                  Graph.window(xl.w, filter: 2, stride: 2, dilation: 1, padding: o.padding).padBefore == 0,
                  2 * pl.h <= xl.h, 2 * pl.w <= xl.w else { continue }
            // No other node reads the pool's output (or an alias of it).
            let readers = plan.nodes.indices.filter { j in
                guard let n = plan.nodes[j] else { return false }
                return (n.inputs + [n.residual].compactMap { $0 }).contains { root($0) == root(r) }
            }
            guard readers == [k] else { continue }
            plan.nodes[k]!.residual = x
            plan.nodes[k]!.residualPool = r
            plan.nodes[k]!.fused.append("MAX_POOL")
            plan.nodes[q] = nil
            fusedOpCount += 1
        }
    }

    /// Tensors stored as RGBA32F (see `fp32ElementLimit`): everything in fp32 mode, the outputs, and
    /// the small deep layers.
    private func isWide(_ t: Int) -> Bool {
        let r = root(t)
        return precision == .fp32 || outputRoots.contains(r) || graph.tensors[r].elementCount <= engine.fp32ElementLimit
    }

    /// The network outputs' root tensors (after aliasing; set when the passes are made).
    private var outputRoots = Set<Int>()

    /// Tensors written by baked convolutions (stored planar: one texture layer per 4 channels).
    private var planarRoots = Set<Int>()

    /// The nodes (in execution order) that run as baked convolutions: a node that can be baked is, when
    /// every reader of its output reads it planar (a CONV_2D as input x or residual, a pool, or a
    /// depthwise of multiplier 1 as input x, baked or not).
    private func bakedNodes(_ plan: [PlanNode], _ b: PassBuilder, pinned: Set<Int>) -> Set<Int> {
        guard engine.bakedKernels && engine.passKind == .fragment else { return [] }
        var readers: [Int: [Bool]] = [:]
        for n in plan {
            let readsPlanar = n.op.kind == .conv2D || n.op.kind == .maxPool2D || n.op.kind == .averagePool2D
                || (n.op.kind == .depthwiseConv2D && BakedConvKernel.groupSize(n, b) > 0)
            for (j, t) in n.inputs.enumerated() where !b.isConstant(t) { readers[root(t), default: []].append(readsPlanar && j == 0) }
            if let r = n.residual { readers[root(r), default: []].append(n.op.kind == .conv2D) }
        }
        let aliased = Set(alias.keys.map(root))
        var baked = Set<Int>()
        for (k, n) in plan.enumerated() {
            let o = root(n.output)
            guard BakedConvKernel.groupSize(n, b) > 0, !pinned.contains(o), !aliased.contains(o),
                  (try? b.layout(o).slices).map({ $0 <= context.maxArrayTextureLayers }) == true,
                  let r = readers[o], r.allSatisfy({ $0 }) else { continue }
            baked.insert(k)
        }
        return baked
    }

    /// The passes of the planned nodes in execution order (baked or standard kernels), and the weight
    /// textures they upload.
    private func makePasses(_ plan: [PlanNode], _ b: PassBuilder) throws -> [PassSpec] {
        outputRoots = Set(graph.outputs.map(root))
        b.storesHalf = { [unowned self] in !self.isWide($0) }
        b.isNetworkOutput = { [unowned self] in self.outputRoots.contains(self.root($0)) }
        let baked = bakedNodes(plan, b, pinned: pinnedRoots)
        planarRoots = Set(baked.map { root(plan[$0].output) })
        planarTensorCount = planarRoots.count
        b.isPlanar = { [unowned self] in self.planarRoots.contains(self.root($0)) }
        // G: chains of small convolutions, each one pass (emitted where its last node runs).
        let chains = engine.passKind == .compute && engine.itemChains
            ? ItemChainKernel.chains(plan, b, sharedBytes: engine.chainSharedBytes, nodeTexels: engine.chainNodeTexels,
                                   root: root, outputs: outputRoots) : []
        var chainEnding: [Int: [Int]] = [:]
        var chained = Set<Int>()
        for c in chains { chainEnding[c.last!] = c; chained.formUnion(c) }
        func passes(of k: Int) throws -> [PassSpec] {
            let node = plan[k]
            var made: [PassSpec]
            if baked.contains(k) {
                made = try BakedConvKernel.makePasses(node, b, planar: { [unowned self] in self.planarRoots.contains(self.root($0)) })
            } else {
                made = [try KernelRegistry.kernel(for: node.op.kind)!.makePass(node, b)]
            }
            for i in made.indices where !node.fused.isEmpty { made[i].label += " +" + node.fused.joined(separator: "+") }
            return made
        }
        var specs: [PassSpec] = []
        for k in plan.indices {
            if let c = chainEnding[k] {
                // A chain the driver does not compile (the shared memory it declares, say) runs as a pass per node.
                if let chain = try? ItemChainKernel.makePass(c.map { plan[$0] }, b, sharedBytes: engine.chainSharedBytes, root: root) {
                    specs.append(chain)
                } else {
                    for j in c { specs += try passes(of: j) }
                }
            } else if !chained.contains(k) {
                specs += try passes(of: k)
            }
        }
        weightTextures = b.weightTextures
        weightBytes = weightTextures.reduce(0) { $0 + $1.width * $1.height * ($1.format == .rgba16f ? 8 : 16) }
        return specs
    }

    /// Inputs and outputs own their textures; intermediates share pooled ones.
    private var pinnedRoots: Set<Int> { Set(graph.inputs.map(root) + graph.outputs.map(root)) }

    /// Storage by liveness while the passes are recorded: each pass's output gets a texture (pooled
    /// unless pinned or kept), inputs return to the pool after their last reader's level (so no pass
    /// of that level overwrites what another reads, which would cost a barrier); then the replay list.
    private func recordPasses(_ specs: [PassSpec], levels: [Int], keepIntermediates: Bool) throws {
        let pinned = pinnedRoots
        var lastUse: [Int: Int] = [:]
        for (i, s) in specs.enumerated() {
            for (_, src) in s.inputs { if case let .tensor(t) = src { lastUse[root(t)] = i } }
        }
        var framebuffers: [ObjectIdentifier: Framebuffer] = [:]
        var layerFramebuffers: [LayerKey: Framebuffer] = [:]
        var counted = Set<ObjectIdentifier>()
        func makeStorage(_ r: Int, dedicated: Bool) throws -> Storage {
            let l = try TensorLayout(shape: graph.tensors[r].shape, replicas: batch)
            guard l.width <= context.maxTextureSize, l.height <= context.maxTextureSize else {
                throw NeuralEngineError.unsupported("\(graph.name): tensor \(graph.tensors[r].name) needs \(l.width)x\(l.height) texels (GL limit \(context.maxTextureSize))")
            }
            let wide = isWide(r)
            let format: TextureFormat = wide ? .rgba32f : .rgba16f
            if planarRoots.contains(r) {
                let tex = dedicated ? try Texture(context: context, width: l.w, height: l.height, layers: l.slices, format: format)
                                    : try pool.acquire(width: l.w, height: l.height, layers: l.slices, format: format)
                if counted.insert(ObjectIdentifier(tex)).inserted { activationBytes += l.width * l.height * (wide ? 16 : 8) }
                return Storage(layout: l, texture: tex, framebuffer: nil)
            }
            let tex = dedicated ? try Texture(context: context, width: l.width, height: l.height, format: format)
                                : try pool.acquire(width: l.width, height: l.height, format: format)
            let id = ObjectIdentifier(tex)
            if counted.insert(id).inserted { activationBytes += l.width * l.height * (wide ? 16 : 8) }
            let fb: Framebuffer
            if let f = framebuffers[id] { fb = f } else { fb = try Framebuffer(context: context, color: tex); framebuffers[id] = fb }
            return Storage(layout: l, texture: tex, framebuffer: fb)
        }
        for i in graph.inputs { storages[root(i)] = try makeStorage(root(i), dedicated: true) }
        var releasedAtLevelEnd: [Texture] = []
        for (i, s) in specs.enumerated() {
            if i > 0 && levels[i] != levels[i - 1] {
                for t in releasedAtLevelEnd { pool.recycle(t) }
                releasedAtLevelEnd.removeAll()
            }
            let o = root(s.output)
            if storages[o] == nil { storages[o] = try makeStorage(o, dedicated: pinned.contains(o) || keepIntermediates) }
            var inputs: [PassInput] = []
            for (name, src) in s.inputs {
                switch src {
                case let .texture(t): inputs.append(PassInput(name, t))
                case let .tensor(t):
                    guard let st = storages[root(t)] else {
                        throw NeuralEngineError.unsupported("\(graph.name): \(s.label) reads \(graph.tensors[t].name) before it is written")
                    }
                    inputs.append(PassInput(name, st.texture))
                }
            }
            let st = storages[o]!
            let target: Framebuffer
            if let fb = st.framebuffer {
                target = fb
            } else {
                guard let range = s.layers else { throw NeuralEngineError.unsupported("\(graph.name): \(s.label) writes a planar tensor without layers") }
                let key = LayerKey(texture: ObjectIdentifier(st.texture), range: range)
                if let fb = layerFramebuffers[key] { target = fb } else {
                    target = try Framebuffer(context: context, layersOf: st.texture, range: range)
                    layerFramebuffers[key] = target
                }
                st.layerFramebuffers.append(target)
            }
            passes.append(Pass(label: s.label, program: s.program, inputs: inputs, uniforms: s.uniforms,
                               target: target, output: s.output, groups: s.groups))
            if !keepIntermediates {
                var released = Set<Int>()
                for (_, src) in s.inputs {
                    guard case let .tensor(t) = src else { continue }
                    let r = root(t)
                    if lastUse[r] == i, !pinned.contains(r), !released.contains(r), let st = storages[r] {
                        releasedAtLevelEnd.append(st.texture); released.insert(r)
                    }
                }
                if lastUse[o] == nil, !pinned.contains(o) { releasedAtLevelEnd.append(storages[o]!.texture) }
            }
        }
        for o in graph.outputs where storages[root(o)] == nil {
            throw NeuralEngineError.unsupported("\(graph.name): output \(graph.tensors[o].name) is never written")
        }
        inputLayouts = try graph.inputs.map { try TensorLayout(shape: graph.tensors[$0].shape, replicas: batch) }
        outputLayouts = try graph.outputs.map { try TensorLayout(shape: graph.tensors[$0].shape, replicas: batch) }
        copyProgram = try engine.programs.program("color/copy.glsl")
        let seq = PassSequence(context: context)
        seq.label = "\(graph.name) ×\(batch)"
        for p in passes {
            if p.program.isCompute {
                try seq.appendDispatch(program: p.program, target: p.target.color, inputs: p.inputs, uniforms: p.uniforms,
                                       groups: p.groups)
            } else {
                try seq.appendDraw(program: p.program, target: p.target, inputs: p.inputs, uniforms: p.uniforms)
            }
        }
        sequence = seq
    }

    // MARK: - GPU-side API

    /// The texture of network input `k`: a crop shader renders into `inputFramebuffer(k)` with
    /// the layout `inputLayouts[k]` (texel (w*C4 + c/4, replica*H + h), RGBA = channels 4c4.., unused lanes 0).
    public func inputTexture(_ k: Int = 0) -> Texture { storages[root(graph.inputs[k])]!.texture }
    public func inputFramebuffer(_ k: Int = 0) -> Framebuffer { storages[root(graph.inputs[k])]!.framebuffer! }
    /// The texture holding output `k` after `encode()` (same layout rules).
    public func outputTexture(_ k: Int) -> Texture { storages[root(graph.outputs[k])]!.texture }

    /// Queues every pass (no wait). Inputs must have been written (upload or a crop shader).
    public func encode() throws {
        try sequence?.run()
    }

    /// Copies `texture` (at least the input's size, texel-for-texel in the input layout) into input 0, then encodes.
    public func run(inputTexture texture: Texture) throws {
        let target = inputFramebuffer(0)
        let l = inputLayouts[0]
        try engine.runner.drawFullscreen(program: copyProgram!, target: target, viewport: Viewport(width: l.width, height: l.height),
                               inputs: [PassInput("u_src", texture)])
        try encode()
    }

    /// Reads the (small) outputs back: shape [batch] + graph shape (a leading 1 replaced by the batch).
    /// With compute passes (hardware GPUs) every output is first copied into one storage buffer
    /// (TexelGather) and read with one mapped read instead of a glReadPixels each
    /// (`gathersOutputs`).
    public func readOutputs() throws -> [Tensor] {
        if gathersOutputs { return try gatherOutputs() }
        return try graph.outputs.indices.map { try readTensor(graph.outputs[$0]) }
    }

    /// readOutputs through one storage buffer: default with compute passes (the H100: one GPU sync
    /// and one transfer per run instead of one per output); FACEFX_NN_GATHER=0|1 overrides.
    public var gathersOutputs: Bool {
        context.tuning.gatherOutputs ?? (engine.passKind == .compute)
    }

    private func gatherOutputs() throws -> [Tensor] {
        let textures = graph.outputs.indices.map { outputTexture($0) }
        guard textures.allSatisfy({ $0.layers == 0 }) else {
            return try graph.outputs.indices.map { try readTensor(graph.outputs[$0]) }
        }
        let texels = try outputGather.read(textures.map { ($0, nil) })
        return graph.outputs.indices.map { k in
            Tensor(shape: batchedShape(graph.tensors[graph.outputs[k]].shape), data: outputLayouts[k].unpack(texels[k]))
        }
    }

    /// Output `k` of every replica, shaped as `readOutputs`.
    public func outputShape(_ k: Int) -> [Int] { batchedShape(graph.tensors[graph.outputs[k]].shape) }

    func batchedShape(_ s: [Int]) -> [Int] {
        if batch == 1 { return s }
        if s.count >= 2 && s[0] == 1 { return [batch] + s.dropFirst() }
        return [batch] + s
    }

    /// Reads any tensor still held (outputs, or every tensor with keepIntermediates).
    public func readTensor(_ t: Int) throws -> Tensor {
        guard let st = storages[root(t)] else { throw NeuralEngineError.invalidInput("tensor \(graph.tensors[t].name) has no storage") }
        let l = st.layout
        guard let fb = st.framebuffer else {
            // Planar: each layer through the layered framebuffer that wrote it, into the standard texel order.
            var texels = [Float](repeating: 0, count: l.width * l.height * 4)
            for s in 0..<l.slices {
                guard let lfb = st.layerFramebuffers.first(where: { $0.layerRange!.contains(s) }) else {
                    throw NeuralEngineError.invalidInput("tensor \(graph.tensors[t].name): slice \(s) never written")
                }
                let layer = try lfb.readFloats(x: 0, y: 0, width: l.w, height: l.height, attachment: s - lfb.layerRange!.lowerBound)
                for y in 0..<l.height { for w in 0..<l.w { for q in 0..<4 {
                    texels[((y * l.width) + w * l.slices + s) * 4 + q] = layer[(y * l.w + w) * 4 + q]
                }}}
            }
            return Tensor(shape: batchedShape(graph.tensors[t].shape), data: l.unpack(texels))
        }
        let texels = try fb.readFloats(x: 0, y: 0, width: l.width, height: l.height)
        return Tensor(shape: batchedShape(graph.tensors[t].shape), data: l.unpack(texels))
    }

    /// Uploads CPU inputs: tensor k holds `batch` replicas of graph input k (element count checked).
    public func upload(inputs: [Tensor]) throws {
        guard inputs.count == graph.inputs.count else {
            throw NeuralEngineError.invalidInput("\(graph.name): \(inputs.count) inputs given, the network takes \(graph.inputs.count)")
        }
        for (k, t) in inputs.enumerated() {
            let l = inputLayouts[k]
            guard t.count == l.elementCount * batch else {
                throw NeuralEngineError.invalidInput("\(graph.name): input \(k) has \(t.count) values, expected \(batch) x \(l.shape)")
            }
            try inputTexture(k).upload(floats: l.pack(t.data))
        }
    }

    /// Upload, run, read back (tests and CPU-fed use).
    public func run(inputs: [Tensor]) throws -> [Tensor] {
        try upload(inputs: inputs)
        try encode()
        return try readOutputs()
    }

    /// Runs every pass with a glFinish after it: (label, milliseconds) per pass, for profiling.
    /// `threadCPUTime`: CPU time of the GL thread instead of wall time — with a software renderer
    /// rasterising on the calling thread (llvmpipe with `LP_NUM_THREADS=0`) that is the pass's
    /// whole cost, unaffected by other load on the machine.
    public func profile(threadCPUTime: Bool = false) throws -> [(label: String, ms: Double)] {
        func now() -> Double {
            if threadCPUTime {
                var ts = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
                return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
            }
            return Double(DispatchTime.now().uptimeNanoseconds) / 1e6
        }
        // The same replay as `encode`, waiting for each pass.
        return try context.sync { () throws -> [(label: String, ms: Double)] in
            context.finish()
            var out: [(label: String, ms: Double)] = []
            var t0 = now()
            try sequence?.run { [unowned self] k in
                context.finish()
                out.append((passes[k].label + " \(graph.tensors[passes[k].output].shape)", now() - t0))
                t0 = now()
            }
            return out
        }
    }

    /// One line per pass: label, output tensor and shape.
    public func passListing() -> String {
        passes.enumerated().map { i, p in
            "\(i) \(p.label) -> \(graph.tensors[p.output].name.prefix(60)) \(graph.tensors[p.output].shape)"
        }.joined(separator: "\n")
    }
}
