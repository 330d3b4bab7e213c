// One GPU context and what the jobs on it can reuse: the jobs of a batch (one per GPU) and the lanes
// of one file share it, so programs are compiled and face networks built once, not once per file.
import FaceFXFace
import FaceFXGPU
import Foundation

public final class SharedGPU {
    public let context: GPUContext
    /// Every job's programs (a job uses a few hundred; each compiled and linked them all again before).
    public let programs: ProgramCache
    /// Face networks no analyzer is using (their weights uploaded, passes resolved).
    private var idleNetworks: [FaceNetworks] = []
    private let lock = NSLock()

    public init(context: GPUContext) {
        self.context = context
        programs = ProgramCache(context: context)
    }

    /// A context of its own on `device` (a job run alone).
    public convenience init(device: GPUDeviceSelection, tuning: GPUTuning) throws {
        self.init(context: try GPUContext(device: device, tuning: tuning))
    }

    /// Face networks for one analyzer: a set an earlier job gave back, else `make()`. A set serves one
    /// analyzer at a time (the inputs and activations it runs on are its own).
    func lendNetworks(orMake make: () throws -> FaceNetworks) rethrows -> FaceNetworks {
        if let idle = lock.withLock({ idleNetworks.popLast() }) { return idle }
        return try make()
    }

    /// An analyzer's networks back once its job's threads are done, without the job's own classifier.
    func giveBack(_ networks: FaceNetworks) {
        var n = networks
        n.classifier = nil
        lock.withLock { idleNetworks.append(n) }
    }
}
