// Float textures read back through one storage buffer: a compute pass copies their texels
// (Shaders/common/gather_texels.glsl) and one mapped read returns them all. The hardware path's
// readback of small float results (network outputs, the analyzer's crops): one GPU sync and one
// transfer instead of a glReadPixels each, and never a glReadPixels of a texture written by
// imageStore, which on the NVIDIA driver stalls the GL thread until the GPU is idle (H100: 14.7 ms a
// read of the analyzer's crops while the networks wrote their outputs by imageStore too).
public final class TexelGather {
    public let context: GPUContext
    private let runner: PassRunner
    private let programs: ProgramCache
    private var buffer: StorageBuffer?

    public init(context: GPUContext, programs: ProgramCache) {
        self.context = context
        self.programs = programs
        runner = PassRunner(context: context)
    }

    /// The first `rows` rows (all of them when nil) of each texture, RGBA floats per texel, row 0 first.
    public func read(_ textures: [(texture: Texture, rows: Int?)]) throws -> [[Float]] {
        var offsets: [Int] = [], counts: [Int] = [], total = 0
        for (t, rows) in textures {
            let r = rows ?? t.height
            guard t.layers == 0, t.format.isFloat, r >= 0, r <= t.height else {
                throw GPUError.invalidArgument("texel gather of \(r) rows of a \(t.width)x\(t.height) \(t.format) texture (layers \(t.layers))")
            }
            offsets.append(total); counts.append(t.width * r); total += t.width * r
        }
        guard total > 0 else { return textures.map { _ in [] } }
        let b = try StorageBuffer.atLeast(total * 16, reusing: buffer, context: context)
        buffer = b
        let program = try programs.computeShader("common/gather_texels.glsl")
        for ((t, _), (offset, n)) in zip(textures, zip(offsets, counts)) where n > 0 {
            try runner.dispatch(program: program, groups: ((n + 63) / 64, 1, 1), buffer: b, inputs: [PassInput("u_src", t)],
                                uniforms: ["u_width": .int(Int32(t.width)), "u_texels": .int(Int32(n)), "u_offset": .int(Int32(offset))])
        }
        let all = try b.readFloats(offset: 0, count: total * 4)
        return zip(offsets, counts).map { Array(all[($0 * 4)..<(($0 + $1) * 4)]) }
    }
}
