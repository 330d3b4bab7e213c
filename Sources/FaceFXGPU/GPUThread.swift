// The one thread that owns a GL context. A context is current on exactly one thread and
// Swift concurrency hops threads between awaits, so every GL call is funnelled through here.
import Foundation

public final class GPUThread {
    // The queue state lives in its own object, retained by the running thread, so that the
    // GPUThread itself can be deinitialised (which stops the thread).
    private final class Worker {
        let condition = NSCondition()
        var jobs: [() -> Void] = []
        var stopping = false
        var finished = false
        var threadID: pthread_t?

        func run() {
            condition.lock()
            threadID = pthread_self()
            condition.broadcast()
            condition.unlock()
            while true {
                condition.lock()
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
                for job in batch { job() }
            }
        }
    }

    private let worker = Worker()

    public init(name: String = "facefx.gl") {
        let w = worker
        let t = Thread { w.run() }
        t.name = name
        t.stackSize = 8 << 20  // shader compilers recurse deeply on some drivers
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
    public func sync<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        if isCurrent { return try body() }
        let slot = SyncSlot<T, E>()
        let done = DispatchSemaphore(value: 0)
        withoutActuallyEscaping(body) { escaping in
            // The queued job reaches the body only through the slot, which is emptied before
            // the caller resumes: the non-escaping closure never outlives this call.
            slot.body = escaping
            let queued = enqueue {
                if let f = slot.body {
                    do throws(E) { slot.result = .success(try f()) } catch { slot.result = .failure(error) }
                }
                slot.body = nil
                done.signal()
            }
            if queued { done.wait() } else { slot.body = nil }
        }
        guard let r = slot.result else { fatalError("GPUThread.sync called after stop()") }
        return try r.get()
    }

    /// Queues `body` on the GL thread and returns at once (FIFO with `sync` work).
    /// Dropped if the thread was stopped.
    public func async(_ body: @escaping () -> Void) {
        _ = enqueue(body)
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

    private func enqueue(_ job: @escaping () -> Void) -> Bool {
        let w = worker
        w.condition.lock()
        defer { w.condition.unlock() }
        if w.finished { return false }
        w.jobs.append(job)
        w.condition.signal()
        return true
    }
}

private final class SyncSlot<T, E: Error> {
    var body: (() throws(E) -> T)?
    var result: Result<T, E>?
}
