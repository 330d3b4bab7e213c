// The frame pipeline render and analyze run on, one way: a decode thread per lane (its reader and its
// segments of the plan) → the body thread (the job's body: takes the lanes' frames, analyses and draws,
// its GL calls going through the context's GL thread, hands outputs on) → the calling thread (the job's
// sink: encoder, record writers). Bounded queues
// between them keep memory flat whatever the video length; the first error anywhere stops every stage;
// every thread is joined before `run` returns.

import FaceFXGPU
import FaceFXMedia
import Foundation

final class FramePipeline<Output> {
    let readers: [VideoReader]
    let plan: SegmentPlan
    /// Every frame's timestamp (`VideoReader.frameTimestamps`): needed when a lane seeks to a segment.
    let timestamps: [Int64]?
    /// Decoded frames waiting per lane, and outputs waiting for the sink.
    let frameQueueDepth: Int
    let outputQueueDepth: Int
    /// After `run`: seconds the stages waited on each other (`profileLines`).
    private(set) var waits = Waits()

    struct Waits {
        /// Decoders waiting for the body to take frames, the body waiting for frames (summed over lanes).
        var decodersBlocked = 0.0, bodyStarved = 0.0
        /// The body waiting for the sink to take outputs, the sink waiting for outputs, the sink's own work.
        var bodyBlocked = 0.0, sinkStarved = 0.0, sinkBusy = 0.0
    }

    /// One reader per lane of `plan`. Queue depths: decoded frames per lane (3 keeps a stage that takes
    /// frames one at a time busy; a body that works in batches of N frames needs N more, or the decoder
    /// stalls while the batch runs), and outputs (default 3 per lane).
    init(readers: [VideoReader], plan: SegmentPlan = .whole, timestamps: [Int64]? = nil,
         frameQueueDepth: Int = 3, outputQueueDepth: Int? = nil) {
        precondition(readers.count == plan.lanes, "one reader per lane")
        self.readers = readers; self.plan = plan; self.timestamps = timestamps
        self.frameQueueDepth = frameQueueDepth
        self.outputQueueDepth = outputQueueDepth ?? 3 * plan.lanes
    }

    /// What the job's body sees on its thread.
    final class Stage {
        fileprivate let lanes: [BoundedQueue<LaneItem>]
        fileprivate let outputs: BoundedQueue<Output>
        fileprivate init(lanes: [BoundedQueue<LaneItem>], outputs: BoundedQueue<Output>) {
            self.lanes = lanes; self.outputs = outputs
        }
        /// The lane's next frame or segment end; nil once the lane has no more segments (or the run stops).
        func next(lane: Int) -> LaneItem? { lanes[lane].pop() }
        /// Hands an output to the sink; false when the run is stopping (the body should return).
        func emit(_ output: Output) -> Bool { outputs.push(output) }
    }

    /// The job's body, held where the calling thread can drop it: the body captures the job's GPU objects,
    /// which must be released on the calling thread, never late on the body thread racing process exit.
    private final class BodyBox {
        var body: ((Stage) throws -> Void)?
        init(_ body: @escaping (Stage) throws -> Void) { self.body = body }
    }

    /// Runs the stages: `body` on its own thread (the outputs end when it returns), `sink` on the calling
    /// thread for each output in order. Throws the first error of any stage, after every thread is joined.
    func run(body: @escaping (Stage) throws -> Void, sink: (Output) throws -> Void) throws {
        let lanes = readers.map { _ in BoundedQueue<LaneItem>(capacity: frameQueueDepth) }
        let outputs = BoundedQueue<Output>(capacity: outputQueueDepth)
        let failure = FirstError()
        let abort = { (error: Error) in
            failure.set(error)
            lanes.forEach { $0.cancel() }
            outputs.cancel()
        }
        let stages = DispatchGroup()
        for _ in 0...readers.count { stages.enter() }
        let box = BodyBox(body)
        var sinkBusy = 0.0
        defer {
            stages.wait(); box.body = nil
            let frames = lanes.map(\.waits), out = outputs.waits
            waits = Waits(decodersBlocked: frames.map(\.push).reduce(0, +), bodyStarved: frames.map(\.pop).reduce(0, +),
                          bodyBlocked: out.push, sinkStarved: out.pop, sinkBusy: sinkBusy)
        }
        let stage = Stage(lanes: lanes, outputs: outputs)
        let decoders = readers.indices.map {
            laneDecodeThread(readers[$0], lane: $0, plan: plan, timestamps: timestamps, into: lanes[$0], stages: stages, abort: abort)
        }
        let body = makeNamedThread("fx.frames") { [unowned box] in
            defer { stages.leave() }
            do {
                try box.body?(stage)
                outputs.close()
                lanes.forEach { $0.cancel() }   // a body that stopped early releases the decoders
            } catch { abort(error) }
        }
        decoders.forEach { $0.start() }
        body.start()
        do {
            while let o = outputs.pop() {
                let start = DispatchTime.now().uptimeNanoseconds
                try sink(o)
                sinkBusy += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            }
            if let error = failure.error { throw error }
        } catch {
            abort(error)
            stages.wait()
            throw failure.error ?? error
        }
    }
}

/// The helper threads of a job's body (a render's analysis and finishing threads, an analysis's extra
/// lanes): each named for the OS, the first error kept in `failure`, `onError` run on the failing thread
/// (to cancel the queues the others block on); `wait` joins them all.
final class HelperThreads {
    let failure = FirstError()
    private let group = DispatchGroup()
    private let onError: () -> Void

    init(onError: @escaping () -> Void = {}) { self.onError = onError }

    func start(_ name: String, _ body: @escaping () throws -> Void) {
        group.enter()
        let (group, failure, onError) = (group, failure, onError)
        makeNamedThread(name) {
            defer { group.leave() }
            do { try body() } catch { failure.set(error); onError() }
        }.start()
    }

    func wait() { group.wait() }
}

/// The first error any stage hit; later ones are consequences of the shutdown.
final class FirstError {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    func set(_ e: Error) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
}

/// Runs `first` on a thread of its own (named `name`) and `second` on this one, at once, and returns
/// both results when both are done: a job's set-up steps that do not need each other (opening the input
/// beside creating the GPU context, a filter pack beside the face networks). `first`'s error is thrown
/// before `second`'s, so which mistake is reported does not depend on which step finished first.
func concurrently<A, B>(_ name: String, _ first: @escaping () throws -> A, _ second: () throws -> B) throws -> (A, B) {
    let helper = HelperThreads()
    var a: A?   // written by the helper thread, read after `wait` joins it
    helper.start(name) { a = try first() }
    let b = Result { try second() }
    helper.wait()
    if let error = helper.failure.error { throw error }
    return (a!, try b.get())
}
