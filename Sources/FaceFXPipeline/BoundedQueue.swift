import Foundation

/// A blocking FIFO with a fixed capacity, used between the decode, GPU and encode threads.
/// `push` blocks while the queue is full (back-pressure keeps memory flat); `pop` blocks while it
/// is empty and returns nil once the queue is closed and drained. Closing wakes every waiter.
final class BoundedQueue<Element> {
    private var items: [Element] = []
    private var head = 0
    private let capacity: Int
    private var closed = false
    private let cond = NSCondition()
    /// Seconds producers waited for room and consumers for items (under `cond`): which side of the queue
    /// holds the other up (`waits`, the profile of `FACEFX_GL_PROFILE`).
    private var pushWait = 0.0, popWait = 0.0

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Returns false when the queue was closed (the consumer gave up): the producer should stop.
    @discardableResult
    func push(_ item: Element) -> Bool {
        cond.lock(); defer { cond.unlock() }
        if !closed && items.count - head >= capacity {
            let start = DispatchTime.now().uptimeNanoseconds
            while !closed && items.count - head >= capacity { cond.wait() }
            pushWait += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        }
        if closed { return false }
        items.append(item)
        cond.broadcast()
        return true
    }

    func pop() -> Element? {
        cond.lock(); defer { cond.unlock() }
        if !closed && items.count == head {
            let start = DispatchTime.now().uptimeNanoseconds
            while !closed && items.count == head { cond.wait() }
            popWait += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        }
        if items.count == head { return nil }
        let item = items[head]
        head += 1
        if head > 64 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        cond.broadcast()
        return item
    }

    /// Seconds the producers spent waiting for room (the consumer was slower) and the consumers for items.
    var waits: (push: Double, pop: Double) { cond.lock(); defer { cond.unlock() }; return (pushWait, popWait) }

    /// No more pushes; pending items can still be popped.
    func close() {
        cond.lock(); closed = true; cond.broadcast(); cond.unlock()
    }

    /// Closes and drops pending items (used on failure so producers unblock at once).
    func cancel() {
        cond.lock(); closed = true; items.removeAll(); head = 0; cond.broadcast(); cond.unlock()
    }
}
