// `facefx-gpubench networks`: every face network compiled on the GPU engine, timed per run
// (median, glFinish-synchronised, small readback included) for batch 1 and 8, fp16 and fp32.
import FaceFXGPU
import FaceFXNeural
import Foundation

struct NetworkSpec {
    let label: String
    let file: String
    /// Member of a .task bundle, if any.
    let member: String?
}

let benchNetworks = [
    NetworkSpec(label: "detector 128", file: "face_landmarker.task", member: "face_detector.tflite"),
    NetworkSpec(label: "landmarks 256", file: "face_landmarker.task", member: "face_landmarks_detector.tflite"),
    NetworkSpec(label: "blendshapes", file: "face_landmarker.task", member: "face_blendshapes.tflite"),
    NetworkSpec(label: "emotion 64", file: "emotion_fer_quantized.tflite", member: nil),
    NetworkSpec(label: "full-range det 192", file: "face_detection_full_range_sparse.tflite", member: nil),
]

func loadGraph(_ spec: NetworkSpec, in dir: URL) throws -> Graph {
    let url = dir.appendingPathComponent(spec.file)
    if let m = spec.member { return try Graph(model: try TaskBundle(contentsOf: url).model(m)) }
    return try Graph(contentsOf: url)
}

func networks(_ o: Options) throws {
    let dir = try modelsDirectory(o)
    let c = try openContext(o)
    print("renderer: \(c.renderer) | \(c.version) | \(c.displayDescription) | LP_NUM_THREADS=\(ProcessInfo.processInfo.environment["LP_NUM_THREADS"] ?? "unset")")
    print("models: \(dir.path); \(o.iters) timed runs per row (+2 warm-up), median; ms per run includes the output readback; " +
          "back to back: \(o.iters) runs issued without a wait or readback, then one wait\n")
    print("passes: \(NeuralEngine(context: c).passKind.rawValue); submit ms = time to issue the passes (no wait)\n")
    print("| network | precision | batch | ms / run | ms / item | min ms | submit ms | CPU ms / run | passes | barriers | weights MB | activations MB | back-to-back ms / item |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    let engines = Dictionary(uniqueKeysWithValues: TensorPrecision.allCases.map { ($0, NeuralEngine(context: c, precision: $0)) })
    for spec in benchNetworks where o.only == nil || spec.label.contains(o.only!) {
        let graph: Graph
        do { graph = try loadGraph(spec, in: dir) } catch { print("| \(spec.label) | – | – | error: \(error) | | | | |"); continue }
        if o.cpuReference {
            // The plain-Swift CPU reference at batch 1 (the CPU path for blendshapes on a software renderer).
            do {
                var rng = UInt64(12345)
                let inputs = graph.inputShapes.map { sh -> Tensor in
                    let n = sh.reduce(1, *)
                    return Tensor(shape: sh, data: (0..<n).map { _ in
                        rng = rng &* 6364136223846793005 &+ 1442695040888963407
                        return Float(rng >> 40) / Float(1 << 24) * 2 - 1
                    })
                }
                var times: [Double] = []
                let cpu0 = processCPUms()
                for i in 0..<(o.iters + 2) {
                    if i == 2 { times.removeAll() }
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    _ = try CPUReference().run(graph: graph, inputs: inputs)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                }
                let cpuPerRun = (processCPUms() - cpu0) / Double(o.iters + 2)
                print(String(format: "| %@ | cpu-ref | 1 | %.3f | %.3f | %.3f | %@ | %.2f | – | – | – | – | – |", spec.label,
                             percentile(times, 0.5), percentile(times, 0.5), times.min() ?? 0, "–", cpuPerRun))
            } catch {
                print("| \(spec.label) | cpu-ref | 1 | error: \(error) | | | | | | |")
            }
        }
        for p in o.precisions {
            for batch in o.batches {
                do {
                    let tc = DispatchTime.now().uptimeNanoseconds
                    let net = try engines[p]!.compile(graph, batch: batch)
                    print(String(format: "<!-- compile %@ %@ batch %d: %.0f ms (program cache %d) -->", spec.label, p.rawValue, batch,
                                 Double(DispatchTime.now().uptimeNanoseconds - tc) / 1e6, engines[p]!.programs.count))
                    var rng = UInt64(12345)
                    let inputs = net.inputLayouts.map { l -> Tensor in
                        let n = l.elementCount * batch
                        return Tensor(shape: [n], data: (0..<n).map { _ in
                            rng = rng &* 6364136223846793005 &+ 1442695040888963407
                            return Float(rng >> 40) / Float(1 << 24) * 2 - 1
                        })
                    }
                    try net.upload(inputs: inputs)
                    if o.listPasses { print("<!-- passes \(spec.label) \(p.rawValue) batch \(batch)\n" + net.passListing() + "\n-->") }
                    var times: [Double] = []
                    var submits: [Double] = [], gpuDone: [Double] = [], reads: [Double] = []
                    var cpuStart = 0.0
                    for i in 0..<(o.iters + 2) {
                        if i == 2 { cpuStart = processCPUms() }
                        c.finish()
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        try net.encode()
                        if i >= 2 { submits.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
                        if o.splitReadback {
                            c.finish()
                            let t1 = DispatchTime.now().uptimeNanoseconds
                            if i >= 2 { gpuDone.append(Double(t1 - t0) / 1e6) }
                            _ = try net.readOutputs()
                            if i >= 2 { reads.append(Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e6) }
                        } else {
                            _ = try net.readOutputs()
                        }
                        c.finish()
                        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                        if i >= 2 { times.append(ms) }
                    }
                    let cpuPerRun = (processCPUms() - cpuStart) / Double(o.iters)
                    // Back to back: `iters` runs issued without waiting, outputs left on the GPU, one wait at the
                    // end: throughput as a CUDA graph replayed in a loop measures it (bench/vs_pytorch.sh's peer).
                    c.finish()
                    let tb = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<o.iters { try net.encode() }
                    c.finish()
                    let backToBack = Double(DispatchTime.now().uptimeNanoseconds - tb) / 1e6 / Double(o.iters)
                    let med = percentile(times, 0.5)
                    if o.check {
                        // Replica 0 of the last run against the plain-Swift CPU reference on the same input.
                        let gpu = try net.readOutputs()
                        let first = zip(inputs, graph.inputShapes).map { t, sh in Tensor(shape: sh, data: Array(t.data[0..<sh.reduce(1, *)])) }
                        let cpu = try CPUReference().run(graph: graph, inputs: first)
                        var errors: [String] = []
                        for (g, r) in zip(gpu, cpu) {
                            let range = max(Double((r.data.max() ?? 0) - (r.data.min() ?? 0)), 1.0)
                            var worst = 0.0
                            for i in 0..<r.count { worst = max(worst, Double(abs(g.data[i] - r.data[i])) / range) }
                            errors.append(String(format: "%.2e", worst))
                        }
                        print("<!-- check \(spec.label) \(p.rawValue) batch \(batch): replica 0 vs CPU reference, max error per output, " +
                              "as a fraction of its range (floored at 1): \(errors.joined(separator: ", ")) -->")
                    }
                    if o.splitReadback {
                        print(String(format: "<!-- %@ %@ batch %d: passes done %.3f ms, then readback %.3f ms -->", spec.label, p.rawValue, batch,
                                     percentile(gpuDone, 0.5), percentile(reads, 0.5)))
                    }
                    if o.profile {
                        // Per-pass cost (glFinish after each), summed by label over 3 runs.
                        // --profile-cpu: GL-thread CPU time, minimum of 5 runs per pass (use LP_NUM_THREADS=0).
                        var sums: [String: Double] = [:]
                        if o.profileCPU {
                            var best: [Double] = []
                            var labels: [String] = []
                            for k in 0..<5 {
                                let r = try net.profile(threadCPUTime: true)
                                if k == 0 { best = r.map(\.ms); labels = r.map(\.label) } else { for (i, x) in r.enumerated() { best[i] = min(best[i], x.ms) } }
                            }
                            for (l, ms) in zip(labels, best) { sums[l, default: 0] += ms }
                        } else {
                            for _ in 0..<3 { for (l, ms) in try net.profile() { sums[l, default: 0] += ms / 3 } }
                        }
                        let total = sums.values.reduce(0, +)
                        print("<!-- profile \(spec.label) \(p.rawValue) batch \(batch): \(String(format: "%.2f", total)) ms in \(net.passCount) passes")
                        for (l, ms) in sums.sorted(by: { $0.value > $1.value }).prefix(o.profileTop) {
                            print(String(format: "  %8.3f ms  %@", ms, l))
                        }
                        print("-->")
                    }
                    print(String(format: "| %@ | %@ | %d | %.3f | %.3f | %.3f | %.3f | %.2f | %d | %d | %.2f | %.2f | %.4f |", spec.label, p.rawValue, batch, med,
                                 med / Double(batch), times.min() ?? 0, percentile(submits, 0.5), cpuPerRun, net.passCount, net.barrierCount,
                                 Double(net.weightBytes) / 1e6, Double(net.activationBytes) / 1e6, backToBack / Double(batch)))
                } catch {
                    print("| \(spec.label) | \(p.rawValue) | \(batch) | error: \(error) | | | | | | |")
                }
            }
        }
    }
}
