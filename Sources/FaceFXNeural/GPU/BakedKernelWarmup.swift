// Baked kernels (BakedConv) run the face networks up to 2× faster on llvmpipe than the standard ones,
// but compiling them costs about a minute of CPU on a cold Mesa shader cache: a first run on a fresh
// machine must not pay that. So a process that has no sign of them in the cache runs the standard
// kernels and compiles the baked ones on a background thread (lowest CPU priority, its own GL context,
// each network run once so llvmpipe builds its shader variants, which Mesa keeps on disk). When all are
// done it leaves a marker in the cache folder; later processes find it and run the baked kernels.
// A process that ends first leaves the programs compiled so far in the cache for the next one.

import CGLES
import FaceFXGPU
import Foundation

public enum BakedKernelWarmup {
    /// Bumped when the baked kernels change, so an old marker no longer counts.
    static let generation = 1

    /// Mesa's on-disk shader cache folder (MESA_SHADER_CACHE_DIR, else XDG_CACHE_HOME or ~/.cache).
    static func cacheDirectory(_ env: [String: String]) -> URL? {
        if env["MESA_SHADER_CACHE_DISABLE"] == "true" || env["MESA_SHADER_CACHE_DISABLE"] == "1" { return nil }
        if let d = env["MESA_SHADER_CACHE_DIR"], !d.isEmpty { return URL(fileURLWithPath: d) }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return URL(fileURLWithPath: x).appendingPathComponent("mesa_shader_cache") }
        if let h = env["HOME"], !h.isEmpty { return URL(fileURLWithPath: h).appendingPathComponent(".cache/mesa_shader_cache") }
        return nil
    }

    /// The marker for these networks (named by a digest of their weights, so other models do not count).
    static func marker(for graphs: [Graph], env: [String: String]) -> URL? {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(generation)
        for g in graphs {
            for t in g.tensors {
                guard let c = t.constant else { continue }
                for v in c.prefix(64) { h = (h ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 }
                h = (h ^ UInt64(c.count)) &* 0x100_0000_01b3
            }
        }
        return cacheDirectory(env)?.appendingPathComponent("facefx-baked-\(String(h, radix: 16))")
    }

    /// Whether the baked kernels of these networks are in the shader cache.
    public static func isReady(_ graphs: [Graph], env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let m = marker(for: graphs, env: env) else { return false }
        return FileManager.default.fileExists(atPath: m.path)
    }

    private static let started = NSLock()
    nonisolated(unsafe) private static var running = false

    /// Compiles and runs once, on a background thread of lowest priority with its own GL context, the
    /// baked kernels of these networks at these batch sizes, then writes the marker. Once per process;
    /// errors only mean the marker is not written.
    public static func start(_ networks: [(graph: Graph, batches: [Int])], precision: TensorPrecision, tuning: GPUTuning,
                             env: [String: String] = ProcessInfo.processInfo.environment) {
        guard let m = marker(for: networks.map(\.graph), env: env) else { return }
        started.lock(); defer { started.unlock() }
        guard !running else { return }
        running = true
        let thread = makeNamedThread("fx.bake-warmup") {
            // Linux SCHED_IDLE (5; not imported without _GNU_SOURCE): this thread, and the llvmpipe threads
            // its context starts (they inherit it), run only on CPU time the job leaves unused.
            var param = sched_param()
            pthread_setschedparam(pthread_self(), 5, &param)
            do {
                let context = try GPUContext(device: .cpu, tuning: tuning)
                let engine = NeuralEngine(context: context, precision: precision)
                engine.passKind = .fragment
                engine.bakedKernels = true
                try context.sync { () throws in
                    for (graph, batches) in networks {
                        for b in batches {
                            let net = try engine.compile(graph, batch: b)
                            try net.encode()
                            _ = try net.readOutputs()
                        }
                    }
                }
                try FileManager.default.createDirectory(at: m.deletingLastPathComponent(), withIntermediateDirectories: true)
                // A marker that cannot be written only means the next process warms up again.
                _ = FileManager.default.createFile(atPath: m.path, contents: Data())
            } catch {
                // Nothing to report: the next process tries again, and the standard kernels work.
            }
        }
        thread.start()
    }
}
