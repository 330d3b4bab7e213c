import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A thread (not yet started) that runs `body` under `name` as the OS shows it (`top -H`,
/// /proc/PID/task/*/comm, `bench/thread_profile.py`), so a profile tells the stages apart. Foundation's
/// `Thread.name` does not reach the OS on Linux, and Glibc's pthread_setname_np is not imported without
/// _GNU_SOURCE: the name is written to /proc/thread-self/comm, which keeps 15 bytes (names are short).
/// `stackSize`: shader compilers and the analyzer recurse deeply on some drivers.
public func makeNamedThread(_ name: String, stackSize: Int = 8 << 20, _ body: @escaping () -> Void) -> Thread {
    let osName = Array(name.utf8.prefix(15))
    let thread = Thread {
        #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        if fd >= 0 { _ = osName.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }; close(fd) }
        #endif
        body()
    }
    thread.name = name
    thread.stackSize = stackSize
    return thread
}
