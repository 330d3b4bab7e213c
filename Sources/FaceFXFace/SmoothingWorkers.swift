// The offline smoother's worker threads: one pool for the process, shared by every job's smoothing.
import FaceFXGPU
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the lanes of `OfflineSmoother.spread` on threads of their own that run at a lower CPU priority
/// (nice 10) than the pipeline's threads. Smoothing is throughput work beside a chain of threads the
/// output waits for (decoding, analysis, the GL thread, x264's): spread over every core at their
/// priority, it took cores from them while it ran. At a lower priority it gets what they leave idle.
/// H100, 16 cores, 30-s 1080p clip with 4 faces, `--filter mask` ÷ no filter, alternating on one
/// machine: 1.13 / 1.10 / 1.12 with the smoothing at the pipeline's priority, 1.07 / 1.10 / 1.08 at nice
/// 10 (1.09 / 1.08 / 1.10 at nice 19); `analyze` and `batch --analyze-only --jobs 8` the same either way.
final class SmoothingWorkers {
    /// The process's pool: a thread per core but one (the caller runs a lane itself).
    static let shared = SmoothingWorkers(threads: max(1, ProcessInfo.processInfo.activeProcessorCount - 1), nice: 10)

    /// One `run` call: its body (until all its lanes are done: the caller's closure must not outlive the
    /// call) and the lanes not yet done.
    private final class Batch {
        var body: ((Int) -> Void)?
        var remaining: Int
        init(body: @escaping (Int) -> Void, remaining: Int) { self.body = body; self.remaining = remaining }
    }
    private let condition = NSCondition()
    private var queue: [(batch: Batch, lane: Int)] = []
    let threads: Int

    /// `threads` threads at `nice`; they (and so the pool) live as long as the process.
    init(threads: Int, nice: Int32) {
        self.threads = threads
        for i in 0..<threads {
            makeNamedThread("fx.smooth\(i)", stackSize: 1 << 20) {
                #if os(Linux)
                // Linux keeps the nice value per thread: who = 0 is this thread only.
                if nice != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
                #endif
                self.work()
            }.start()
        }
    }

    /// Calls `body(lane)` for every lane in 0..<lanes, lane 0 on this thread, the others on the pool's
    /// threads; returns when all are done.
    func run(lanes: Int, _ body: (Int) -> Void) {
        precondition(lanes >= 1, "SmoothingWorkers.run needs a lane")
        withoutActuallyEscaping(body) { body in
            let batch = Batch(body: body, remaining: lanes)
            condition.lock()
            for lane in 1..<lanes { queue.append((batch, lane)) }
            condition.broadcast()
            condition.unlock()
            body(0)
            condition.lock()
            batch.remaining -= 1
            while batch.remaining > 0 { condition.wait() }
            batch.body = nil
            condition.unlock()
        }
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let (batch, lane) = queue.removeFirst()
            let body = batch.body!
            condition.unlock()
            body(lane)
            // Lets go of the body before the lane counts as done: the caller's closure must not outlive its call.
            _ = consume body
            condition.lock()
            batch.remaining -= 1
            if batch.remaining == 0 { condition.broadcast() }
            condition.unlock()
        }
    }
}
