// Reading back only the rows of a network's outputs that matter (Shaders/nn/compact_rows.glsl):
// the detector's 896 anchors per tile carry one score and 16 box/keypoint regressors each, and at
// 1080p 66 tiles run per frame: reading every score (1 MB of RGBA32F texels) and then the
// regressors of the tiles with a candidate cost ~1.5 ms per frame on the H100, where the rows
// above the score threshold are a few hundred. One compute pass appends those rows to a storage
// buffer; the CPU maps the count, then just those rows.
import FaceFXGPU

/// One row of `CompiledNetwork.readRows`: replica, row index, score and the row's data values.
public struct ScoredRow: Equatable, Sendable {
    public let replica: Int
    public let row: Int
    public let score: Float
    public let values: [Float]
    public init(replica: Int, row: Int, score: Float, values: [Float]) {
        self.replica = replica; self.row = row; self.score = score; self.values = values
    }
}

extension CompiledNetwork {
    /// Rows of output `data` (shape [1, A, C]) whose score in output `score` (shape [1, A, 1]) is
    /// ≥ `threshold`, for replicas 0..<count: per replica, in row order. Call after `encode()`.
    public func readRows(score: Int, data: Int, count: Int, threshold: Float) throws -> [[ScoredRow]] {
        guard count > 0 else { return [] }
        guard count <= batch else { throw NeuralEngineError.invalidInput("rows of \(count) replicas, batch \(batch)") }
        guard score != data, outputLayouts.indices.contains(score), outputLayouts.indices.contains(data) else {
            throw NeuralEngineError.invalidInput("\(graph.name): no outputs \(score), \(data)")
        }
        let s = outputLayouts[score], d = outputLayouts[data]
        let sTex = outputTexture(score), dTex = outputTexture(data)
        guard s.n == 1, s.h == 1, s.c == 1, d.n == 1, d.h == 1, d.w == s.w, sTex.layers == 0, dTex.layers == 0 else {
            throw NeuralEngineError.invalidInput("\(graph.name): rows need outputs [1, A, 1] and [1, A, C], got \(s.shape) and \(d.shape)")
        }
        let rows = s.w, slices = d.slices, texelsPerRow = 1 + slices
        let bufferBytes = 16 + batch * rows * texelsPerRow * 16
        let buffer = try StorageBuffer.atLeast(bufferBytes, reusing: rowBuffer, context: context)
        rowBuffer = buffer
        let program = try engine.programs.computeShader("nn/compact_rows.glsl")
        buffer.clear(bytes: 16)
        try engine.runner.dispatch(program: program, groups: ((count * rows + 63) / 64, 1, 1), buffer: buffer,
                                   inputs: [PassInput("u_score", sTex), PassInput("u_data", dTex)],
                                   uniforms: ["u_rowsPerReplica": .int(Int32(rows)), "u_replicas": .int(Int32(count)),
                                              "u_dataSlices": .int(Int32(slices)), "u_threshold": .float(threshold)])
        let n = Int(try buffer.readUInt32s(offset: 0, count: 1)[0])
        var out = [[ScoredRow]](repeating: [], count: count)
        guard n > 0 else { return out }
        let f = try buffer.readFloats(offset: 16, count: n * texelsPerRow * 4)
        for k in 0..<n {
            let b = k * texelsPerRow * 4
            let r = Int(f[b].bitPattern), a = Int(f[b + 1].bitPattern)
            guard r < count, a < rows else { throw NeuralEngineError.invalidInput("\(graph.name): row \(a) of replica \(r) out of range") }
            out[r].append(ScoredRow(replica: r, row: a, score: f[b + 2], values: Array(f[(b + 4)..<(b + 4 + d.c)])))
        }
        return out.map { $0.sorted { $0.row < $1.row } }
    }
}
