// The one thread that owns a GL context. A context is current on exactly one thread and
// Swift concurrency hops threads between awaits, so every GL call is funnelled through here.
// Callers that wait for the GPU (readbacks) do so on their own thread (`waitForGPU`): one caller's wait
// no longer holds the GL thread, which submits the other callers' work meanwhile.
import CGLES
import Foundation

public final class GPUThread {
    // The queue state lives in its own object, retained by the running thread, so that the
    // GPUThread itself can be deinitialised (which stops the thread).
    private final class Worker {
        let condition = NSCondition()
        var jobs: [Job] = []
        var stopping = false
        var finished = false
        var threadID: pthread_t?
        /// Armed fences (`GPUFence`), oldest first (GL thread only).
        var fences: [(sync: GLsync, fence: GPUFence)] = []
        /// Seconds spent running jobs, and jobs run (`GPUThread.load`; under `condition`).
        var busySeconds = 0.0
        var jobsRun = 0
        /// Per call site (file:line of the `sync`/`async` call): seconds and jobs, when `profileSites`
        /// (under `condition`).
        let profileSites: Bool
        var sites: [String: (seconds: Double, jobs: Int)] = [:]

        init(profileSites: Bool) { self.profileSites = profileSites }

        func run() {
            condition.lock()
            threadID = pthread_self()
            condition.broadcast()
            condition.unlock()
            while true {
                condition.lock()
                if jobs.isEmpty && !fences.isEmpty {
                    // Nothing to submit: watch the oldest fence a moment, then look for new work again.
                    condition.unlock()
                    signalFences(waitNanoseconds: Worker.fenceSlice)
                    continue
                }
                while jobs.isEmpty && !stopping { condition.wait() }
                if jobs.isEmpty {
                    finished = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                let batch = jobs
                jobs.removeAll(keepingCapacity: true)
                condition.unlock()
                let start = DispatchTime.now().uptimeNanoseconds
                var ends: [UInt64] = []   // when each job ended (profileSites only)
                for job in batch {
                    job.body()
                    if profileSites { ends.append(DispatchTime.now().uptimeNanoseconds) }
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                condition.lock()
                busySeconds += seconds
                jobsRun += batch.count
                for k in ends.indices {
                    let site = batch[k].site
                    sites[site, default: (0, 0)].seconds += Double(ends[k] - (k > 0 ? ends[k - 1] : start)) * 1e-9
                    sites[site]!.jobs += 1
                }
                condition.unlock()
                if !fences.isEmpty { signalFences(waitNanoseconds: 0) }
            }
        }

        /// How long the idle GL thread blocks on a fence before it looks for new work (a caller's
        /// job waits at most this long behind another's readback).
        static let fenceSlice: UInt64 = 50_000

        /// Wakes the callers whose fences the GPU has passed (in order: a fence passes only after every
        /// earlier one); waits up to `waitNanoseconds` for the oldest. A fence whose wait fails wakes its
        /// caller too (a map that follows then waits, as without fences).
        func signalFences(waitNanoseconds: UInt64) {
            var wait = waitNanoseconds
            while let f = fences.first {
                let r = glClientWaitSync(f.sync, GLbitfield(GL_SYNC_FLUSH_COMMANDS_BIT), wait)
                if r == GLenum(GL_TIMEOUT_EXPIRED) { return }
                glDeleteSync(f.sync)
                f.fence.settle(nil)
                fences.removeFirst()
                wait = 0
            }
        }
    }

    /// A queued closure and the call site that queued it, or a label naming its work (for the profile).
    struct Job {
        var body: () -> Void
        var file: StaticString
        var line: UInt
        var label: String?
        var site: String { label ?? "\(file):\(line)" }
    }

    private let worker: Worker

    /// `profileSites`: account the GL thread's time per call site (`siteProfile`; `FACEFX_GL_PROFILE`).
    public init(name: String = "fx.gl", profileSites: Bool = false) {
        worker = Worker(profileSites: profileSites)
        let w = worker
        let t = makeNamedThread(name) { w.run() }
        w.condition.lock()
        t.start()
        while w.threadID == nil { w.condition.wait() }
        w.condition.unlock()
    }

    deinit { stop() }

    /// True when called on this GL thread (then `sync` runs its body inline).
    public var isCurrent: Bool {
        guard let id = worker.threadID else { return false }
        return pthread_equal(id, pthread_self()) != 0
    }

    /// Runs `body` on the GL thread and waits for it; inline when already on it, so
    /// nested calls (a wrapper calling another wrapper) never deadlock.
    public func sync<T, E: Error>(file: StaticString = #fileID, line: UInt = #line, label: String? = nil,
                                  _ body: () throws(E) -> T) throws(E) -> T {
        if isCurrent { return try body() }
        let slot = SyncSlot<T, E>()
        let done = DispatchSemaphore(value: 0)
        withoutActuallyEscaping(body) { escaping in
            // The queued job reaches the body only through the slot, which is emptied before
            // the caller resumes: the non-escaping closure never outlives this call.
            slot.body = escaping
            let queued = enqueue(Job(body: {
                if let f = slot.body {
                    do throws(E) { slot.result = .success(try f()) } catch { slot.result = .failure(error) }
                }
                slot.body = nil
                done.signal()
            }, file: file, line: line, label: label))
            if queued { done.wait() } else { slot.body = nil }
        }
        guard let r = slot.result else { fatalError("GPUThread.sync called after stop()") }
        return try r.get()
    }

    /// Queues `body` on the GL thread and returns at once (FIFO with `sync` work).
    /// Dropped if the thread was stopped.
    public func async(file: StaticString = #fileID, line: UInt = #line, _ body: @escaping () -> Void) {
        _ = enqueue(Job(body: body, file: file, line: line))
    }

    /// Blocks the calling thread until the GPU has finished the work queued before this call, while
    /// the GL thread goes on serving other callers (their passes keep the GPU busy). Readbacks call it
    /// before mapping, so the map itself no longer waits on the GL thread. On the GL thread it returns
    /// at once (the map that follows waits there, as it must).
    public func waitForGPU() {
        if isCurrent { return }
        let fence = GPUFence()
        if enqueue(Job(body: { [unowned self] in self.arm(fence) }, file: #fileID, line: #line)) { try? wait(fence) }
    }

    /// GL thread: arms `fence` at this point of the command stream: it passes once the GPU has finished
    /// everything submitted before (the idle GL thread watches it; the command is flushed now).
    public func arm(_ fence: GPUFence) {
        precondition(isCurrent, "GPUThread.arm off the GL thread")
        guard let sync = glFenceSync(GLenum(GL_SYNC_GPU_COMMANDS_COMPLETE), 0) else { fence.settle(nil); return }
        glFlush()
        worker.fences.append((sync, fence))
    }

    /// Waits until `fence` has passed (or throws the error it failed with). Off the GL thread the caller
    /// blocks while the GL thread serves others; on it, the GPU is drained (every armed fence passes).
    public func wait(_ fence: GPUFence) throws {
        if isCurrent && !fence.isSettled {
            glFinish()
            worker.signalFences(waitNanoseconds: 0)
            precondition(fence.isSettled, "GPUThread.wait on the GL thread for a fence never armed")
        }
        try fence.wait()
    }

    /// Seconds the thread has spent running jobs since it started, and how many it ran (the profile
    /// line of `FACEFX_GL_PROFILE`: busy near wall time means the GL thread is what limits).
    public var load: (busySeconds: Double, jobs: Int) {
        let w = worker
        w.condition.lock()
        defer { w.condition.unlock() }
        return (w.busySeconds, w.jobsRun)
    }

    /// The GL thread's time per call site, most first (empty unless made with `profileSites`).
    public var siteProfile: [(site: String, seconds: Double, jobs: Int)] {
        let w = worker
        w.condition.lock()
        defer { w.condition.unlock() }
        return w.sites.map { ($0.key, $0.value.seconds, $0.value.jobs) }.sorted { $0.seconds > $1.seconds }
    }

    /// Runs the work already queued, then ends the thread (waits, unless called on it).
    public func stop() {
        let w = worker
        w.condition.lock()
        w.stopping = true
        w.condition.broadcast()
        if !isCurrent { while !w.finished { w.condition.wait() } }
        w.condition.unlock()
    }

    private func enqueue(_ job: Job) -> Bool {
        let w = worker
        w.condition.lock()
        defer { w.condition.unlock() }
        if w.finished { return false }
        w.jobs.append(job)
        w.condition.signal()
        return true
    }
}

/// A point in a GL thread's command stream that a caller waits for, possibly long after queueing the work
/// before it (`GPUThread.arm` sets it, from the job that queued the work): how a readback waits for just its
/// own passes, not for everything queued since. Work that failed instead settles it with its error, which
/// `wait` throws.
public final class GPUFence {
    private let settled = NSCondition()
    private var done = false
    private var failure: Error?

    public init() {}

    /// Marks the fence passed, or failed with `error`; wakes its waiters.
    public func settle(_ error: Error?) {
        settled.lock()
        if !done { done = true; failure = error }
        settled.broadcast()
        settled.unlock()
    }

    var isSettled: Bool { settled.lock(); defer { settled.unlock() }; return done }

    /// Blocks until settled (use `GPUThread.wait`, which also works on the GL thread).
    fileprivate func wait() throws {
        settled.lock()
        while !done { settled.wait() }
        let error = failure
        settled.unlock()
        if let error { throw error }
    }
}

private final class SyncSlot<T, E: Error> {
    var body: (() throws(E) -> T)?
    var result: Result<T, E>?
}
