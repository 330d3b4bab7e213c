import Foundation

/// Temporary outputs being written right now. On SIGINT/SIGTERM/SIGHUP they are unlinked before the process
/// exits, so an interrupted run leaves nothing behind (SIGKILL cannot be caught: the hidden `.tmp` then
/// stays, but the target path is never touched).
public enum TemporaryFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: [String] = []
    // C strings for the signal handler, which must not allocate.
    nonisolated(unsafe) private static var cPaths: [UnsafeMutablePointer<CChar>] = []
    nonisolated(unsafe) private static var installed = false

    static func register(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.append(path)
        rebuild()
        if !installed {
            installed = true
            for sig in [SIGINT, SIGTERM, SIGHUP] {
                signal(sig) { s in
                    for p in TemporaryFiles.cPaths { unlink(p) }
                    signal(s, SIG_DFL)
                    raise(s)
                }
            }
        }
    }

    static func unregister(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.removeAll { $0 == path }
        rebuild()
    }

    private static func rebuild() {
        let old = cPaths
        cPaths = paths.map { strdup($0)! }
        for p in old { free(p) }
    }
}
