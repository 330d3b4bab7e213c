import Foundation

/// Temporary outputs being written right now. On SIGINT/SIGTERM/SIGHUP they are unlinked before the process
/// exits, so an interrupted run leaves nothing behind (SIGKILL cannot be caught: the hidden `.tmp` then
/// stays, but the target path is never touched, and the next run to that target removes it: `removeStale`).
///
/// The signal handler may only touch memory that is never freed or reallocated: paths live in a fixed
/// table of fixed-size slots allocated once, and a slot's `active` flag is cleared before it is reused.
public enum TemporaryFiles {
    private static let slotCount = 256
    private static let slotSize = Int(PATH_MAX) + 1
    private static let lock = NSLock()
    nonisolated(unsafe) private static let paths = UnsafeMutablePointer<CChar>.allocate(capacity: slotCount * slotSize)
    nonisolated(unsafe) private static let active = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: slotCount)
    nonisolated(unsafe) private static var installed = false
    nonisolated(unsafe) private static var slotOf: [String: Int] = [:]

    public static func register(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        if !installed {
            installed = true
            active.initialize(repeating: 0, count: slotCount)
            for sig in [SIGINT, SIGTERM, SIGHUP] {
                signal(sig) { s in
                    for i in 0..<TemporaryFiles.slotCount where TemporaryFiles.active[i] != 0 {
                        unlink(TemporaryFiles.paths + i * TemporaryFiles.slotSize)
                    }
                    signal(s, SIG_DFL)
                    raise(s)
                }
            }
        }
        let bytes = Array(path.utf8)
        guard bytes.count < slotSize, let slot = (0..<slotCount).first(where: { active[$0] == 0 }) else { return }
        let dst = paths + slot * slotSize
        bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { dst.update(from: $0.baseAddress!, count: bytes.count) }
        }
        dst[bytes.count] = 0
        active[slot] = 1
        slotOf[path] = slot
    }

    /// The hidden name `target` is written under until it is complete: `.<name>.facefx-<pid>-<random>.tmp`
    /// beside it (the pid tells a later run whether its writer still runs).
    public static func temporaryPath(for target: String) -> String {
        let dir = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        return (dir.isEmpty ? "" : dir + "/") + ".\(name).facefx-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
    }

    /// Removes the temporaries of `target` whose writer no longer runs (a run killed with SIGKILL), before a
    /// new run writes it. Those of a running facefx (another process writing the same target) are kept.
    @discardableResult
    public static func removeStale(for target: String) -> [String] {
        let dir = (target as NSString).deletingLastPathComponent
        let prefix = ".\((target as NSString).lastPathComponent).facefx-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir) else { return [] }
        var removed: [String] = []
        for entry in entries where entry.hasPrefix(prefix) && entry.hasSuffix(".tmp") {
            guard let pid = Int32(entry.dropFirst(prefix.count).prefix { $0 != "-" }), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            let path = (dir.isEmpty ? "" : dir + "/") + entry
            if unlink(path) == 0 { removed.append(path) }
        }
        return removed
    }

    public static func unregister(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        if let slot = slotOf.removeValue(forKey: path) { active[slot] = 0 }
    }
}
