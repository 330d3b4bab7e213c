// The renderer-dependent knobs of the GPU path, in one place: parsed once at the edge (the CLI, a
// benchmark) from an environment dictionary, validated, carried by the GPUContext and read by whatever
// runs on it. nil fields mean "the renderer's default", decided where the knob applies (compute passes
// on hardware GPUs, fragment passes on llvmpipe, ...). Library code never reads the environment.

import Foundation

/// Tuning of one GPU context (`GPUContext.tuning`); `GPUTuning()` is every default.
public struct GPUTuning: Sendable, Equatable {
    public enum Passes: String, Sendable { case compute, fragment }
    /// Network backend: fp16 or fp32 activations on the GPU, or the plain-Swift CPU reference.
    public enum NetworkBackend: String, Sendable { case fp16, fp32, cpu }

    public var networks: NetworkBackend = .fp16
    /// Network passes (nil: compute on hardware GPUs, fragment on llvmpipe).
    public var networkPasses: Passes?
    /// Baked fragment kernels (nil: standard until the background warm-up has cached the baked ones).
    public var bakedKernels: Bool?
    /// Smallest layer output (pixels per replica) that gets a baked kernel.
    public var bakeMinPixels = 64
    /// Tensor reads through texelFetch (nil: with compute passes).
    public var texelFetch: Bool?
    /// Weights stored as fp16 (nil: with compute passes).
    public var halfWeights: Bool?
    /// A network run's outputs read back in one mapped storage buffer (nil: with compute passes).
    public var gatherOutputs: Bool?
    /// With compute passes, a depthwise convolution and the 1x1 convolution reading it as one pass (nil: yes).
    public var depthwisePointwise: Bool?
    /// With compute passes, convolutions as pixel-major passes: an invocation computes several output slices
    /// of its pixel, the weights in shared memory (nil: yes).
    public var pixelMajorConv: Bool?
    /// With compute passes, a max pool read only as a convolution's residual computed in that convolution's pass
    /// (nil: yes).
    public var poolResiduals: Bool?
    /// With compute passes, chains of small convolutions as one pass, a work group per batch item (nil: yes).
    public var itemChains: Bool?
    /// Blendshape MLP on the CPU (nil: on llvmpipe).
    public var blendshapesOnCPU: Bool?
    /// Network-input crops as compute passes (nil: on hardware GPUs).
    public var cropPasses: Passes?
    /// Readbacks off the GL thread through read-back buffers (a pixel-pack copy or a buffer copy), the wait
    /// for the GPU on the caller's thread.
    public var readThroughPackBuffer = true
    /// Compute work-group size.
    public var computeGroup = ComputeGroup(x: 8, y: 8)
    /// Frames whose blendshapes and emotion run as one batch (nil: 8).
    public var frameBatch: Int?
    /// Frames whose landmarks run as one batch (nil: 8 on hardware GPUs, 1 on llvmpipe).
    public var trackBatch: Int?
    /// Frames of a render drawn and packed ahead of their readback (nil: 4; 1 waits for each frame's
    /// readback before the next is drawn).
    public var readbackDepth: Int?
    /// Renders without filters take the RGBA path, not the I420 copy path (tests, benchmarks).
    public var forceRGBA = false
    /// The context prints how busy its GL thread was when it closes (benchmarks).
    public var profileGLThread = false

    public struct ComputeGroup: Sendable, Equatable {
        public var x: Int, y: Int
        public init(x: Int, y: Int) { self.x = x; self.y = y }
    }

    public init() {}

    /// One environment variable: its name, the values it takes, its default and what it does (the
    /// README's table lists the same).
    public struct Variable: Sendable {
        public let name: String
        public let values: String
        public let defaultValue: String
        public let effect: String
    }

    /// Every variable `init(environment:)` reads.
    public static let variables: [Variable] = [
        Variable(name: "FACEFX_NN", values: "fp16, fp32, cpu", defaultValue: "fp16",
                 effect: "network backend: fp16 or fp32 activations, or the plain-Swift reference (slow)"),
        Variable(name: "FACEFX_NN_PASSES", values: "compute, fragment", defaultValue: "compute on hardware GPUs, fragment on llvmpipe",
                 effect: "network passes"),
        Variable(name: "FACEFX_NN_BAKE", values: "1, 0", defaultValue: "automatic",
                 effect: "baked fragment kernels; unset: standard ones until the background warm-up has put the baked ones in Mesa's shader cache"),
        Variable(name: "FACEFX_NN_BAKE_MIN_PIXELS", values: "integer ≥ 1", defaultValue: "64",
                 effect: "smallest layer (pixels) that gets a baked kernel"),
        Variable(name: "FACEFX_NN_FETCH", values: "texel, texture", defaultValue: "texel with compute passes, else texture",
                 effect: "tensor reads through texelFetch or texture()"),
        Variable(name: "FACEFX_NN_WEIGHTS", values: "fp16, fp32", defaultValue: "fp16 with compute passes, else fp32",
                 effect: "weight storage"),
        Variable(name: "FACEFX_NN_GATHER", values: "1, 0", defaultValue: "1 with compute passes",
                 effect: "a network run's outputs read back in one mapped storage buffer"),
        Variable(name: "FACEFX_NN_FUSE_DW", values: "1, 0", defaultValue: "1",
                 effect: "compute passes: a depthwise convolution and the 1x1 convolution reading it run as one pass (0: two, for comparison)"),
        Variable(name: "FACEFX_NN_CONV_PIXELS", values: "1, 0", defaultValue: "1",
                 effect: "compute passes: a convolution's invocation computes several output channel slices of its pixel, weights in shared memory (0: one slice, weights fetched per invocation, for comparison)"),
        Variable(name: "FACEFX_NN_FUSE_POOL", values: "1, 0", defaultValue: "1",
                 effect: "compute passes: a 2x2 max pool read only as a convolution's residual is computed in that convolution's pass (0: a pass of its own, for comparison)"),
        Variable(name: "FACEFX_NN_CHAIN", values: "1, 0", defaultValue: "1",
                 effect: "compute passes: a chain of convolutions on small tensors (a network's deep layers) runs as one pass, a work group per batch item, its intermediates in shared memory (0: a pass each, for comparison)"),
        Variable(name: "FACEFX_BLENDSHAPES", values: "cpu, gpu", defaultValue: "cpu on llvmpipe, gpu elsewhere",
                 effect: "where the blendshape MLP runs"),
        Variable(name: "FACEFX_CROP_PASSES", values: "compute, fragment", defaultValue: "compute on hardware GPUs",
                 effect: "network-input crops"),
        Variable(name: "FACEFX_READ_PBO", values: "1, 0", defaultValue: "1",
                 effect: "0: float readbacks straight into client memory instead of a pixel-pack buffer"),
        Variable(name: "FACEFX_CS_GROUP", values: "WxH, 1 to 1024 invocations", defaultValue: "8x8",
                 effect: "compute work-group size (benchmarks)"),
        Variable(name: "FACEFX_FRAME_BATCH", values: "integer ≥ 1", defaultValue: "8",
                 effect: "frames whose blendshapes and emotion run as one batch"),
        Variable(name: "FACEFX_TRACK_BATCH", values: "integer ≥ 1", defaultValue: "8 on hardware GPUs, 1 on llvmpipe",
                 effect: "frames whose landmarks run as one batch (extrapolated ROIs)"),
        Variable(name: "FACEFX_READBACK_DEPTH", values: "integer ≥ 1", defaultValue: "4",
                 effect: "frames of a filtered render drawn and packed ahead of their readback (1: each waits for the one before)"),
        Variable(name: "FACEFX_FORCE_RGBA", values: "1, 0", defaultValue: "0",
                 effect: "1: renders without filters take the RGBA path, not the I420 copy path (tests, benchmarks)"),
        Variable(name: "FACEFX_GL_PROFILE", values: "1, 0", defaultValue: "0",
                 effect: "1: each GL context prints, when it closes, how long its GL thread was busy and how long callers waited for the GPU; render and analyze print where their threads waited on each other (benchmarks)"),
    ]

    /// The tuning these variables ask for (unset or empty: the default). A value the variable does not
    /// take is an error naming the variable, the value and what it takes.
    public init(environment: [String: String]) throws(GPUTuningError) {
        func value(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        func choice<T: RawRepresentable>(_ name: String, _: T.Type) throws(GPUTuningError) -> T? where T.RawValue == String {
            guard let v = value(name) else { return nil }
            guard let c = T(rawValue: v.lowercased()) else { throw GPUTuningError(name, v, Self.expected(name)) }
            return c
        }
        func flag(_ name: String) throws(GPUTuningError) -> Bool? {
            switch value(name) {
            case nil: return nil
            case "1": return true
            case "0": return false
            case let v?: throw GPUTuningError(name, v, Self.expected(name))
            }
        }
        func named(_ name: String, _ yes: String, _ no: String) throws(GPUTuningError) -> Bool? {
            switch value(name)?.lowercased() {
            case nil: return nil
            case yes: return true
            case no: return false
            case _: throw GPUTuningError(name, value(name)!, Self.expected(name))
            }
        }
        func count(_ name: String) throws(GPUTuningError) -> Int? {
            guard let v = value(name) else { return nil }
            guard let n = Int(v), n >= 1 else { throw GPUTuningError(name, v, Self.expected(name)) }
            return n
        }
        networks = try choice("FACEFX_NN", NetworkBackend.self) ?? .fp16
        networkPasses = try choice("FACEFX_NN_PASSES", Passes.self)
        bakedKernels = try flag("FACEFX_NN_BAKE")
        bakeMinPixels = try count("FACEFX_NN_BAKE_MIN_PIXELS") ?? 64
        texelFetch = try named("FACEFX_NN_FETCH", "texel", "texture")
        halfWeights = try named("FACEFX_NN_WEIGHTS", "fp16", "fp32")
        gatherOutputs = try flag("FACEFX_NN_GATHER")
        depthwisePointwise = try flag("FACEFX_NN_FUSE_DW")
        pixelMajorConv = try flag("FACEFX_NN_CONV_PIXELS")
        poolResiduals = try flag("FACEFX_NN_FUSE_POOL")
        itemChains = try flag("FACEFX_NN_CHAIN")
        blendshapesOnCPU = try named("FACEFX_BLENDSHAPES", "cpu", "gpu")
        cropPasses = try choice("FACEFX_CROP_PASSES", Passes.self)
        readThroughPackBuffer = try flag("FACEFX_READ_PBO") ?? true
        if let v = value("FACEFX_CS_GROUP") {
            let parts = v.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 2, let x = parts[0], let y = parts[1], x >= 1, y >= 1, x * y <= 1024 else {
                throw GPUTuningError("FACEFX_CS_GROUP", v, Self.expected("FACEFX_CS_GROUP"))
            }
            computeGroup = ComputeGroup(x: x, y: y)
        }
        frameBatch = try count("FACEFX_FRAME_BATCH")
        trackBatch = try count("FACEFX_TRACK_BATCH")
        readbackDepth = try count("FACEFX_READBACK_DEPTH")
        forceRGBA = try flag("FACEFX_FORCE_RGBA") ?? false
        profileGLThread = try flag("FACEFX_GL_PROFILE") ?? false
    }

    static func expected(_ name: String) -> String {
        variables.first { $0.name == name }?.values ?? "?"
    }
}

/// A tuning variable with a value it does not take: `FACEFX_NN_PASSES=vulkan: expected compute, fragment`.
public struct GPUTuningError: Error, CustomStringConvertible, Equatable {
    public let variable: String
    public let value: String
    public let expected: String
    init(_ variable: String, _ value: String, _ expected: String) {
        self.variable = variable; self.value = value; self.expected = expected
    }
    public var description: String { "\(variable)=\(value): expected \(expected)" }
}
