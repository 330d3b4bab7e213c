import FaceFXMedia
import Foundation
import XCTest

/// Runs the built `facefx` binary and the `ffmpeg` CLI (the latter only to make test inputs).
enum CLI {
    /// .build/<config>/facefx, next to the test bundle.
    static var facefxPath: String {
        var dir = Bundle(for: BundleFinder.self).bundleURL
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("facefx").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/facefx").path
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
    }

    /// Runs a program with a wall-clock limit; a run past the limit is killed and reported as timed out.
    /// `env` is added to this process's environment, or replaces it when `exactEnvironment` is set.
    @discardableResult
    static func run(_ path: String, _ args: [String], timeout: TimeInterval = 120, env: [String: String] = [:],
                    exactEnvironment: Bool = false, directory: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        var environment = exactEnvironment ? [:] : ProcessInfo.processInfo.environment
        // Fixed kernels: the baked-kernel warm-up (BakedKernelWarmup) would switch runs to the baked
        // ones mid-suite, and tests compare runs byte for byte.
        if environment["FACEFX_NN_BAKE"] == nil { environment["FACEFX_NN_BAKE"] = "0" }
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        if let directory { p.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        // A blocking reader thread per pipe (drained while the child runs, so it never blocks on a full
        // pipe). Not FileHandle.readabilityHandler: clearing it while its dispatch source had an event
        // pending crashed the test process in libdispatch (_dispatch_event_loop_drain) once.
        try p.run()
        let outData = LockedData(), errData = LockedData()
        let readers = DispatchGroup()
        for (pipe, data) in [(out, outData), (err, errData)] {
            readers.enter()
            Thread { data.append(pipe.fileHandleForReading.readDataToEndOfFile()); readers.leave() }.start()
        }
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while p.isRunning {
            if Date() > deadline { timedOut = true; kill(p.processIdentifier, SIGKILL); break }
            usleep(10_000)
        }
        p.waitUntilExit()
        readers.wait()
        return Result(status: p.terminationStatus, stdout: outData.string, stderr: errData.string, timedOut: timedOut)
    }

    static func facefx(_ args: [String], timeout: TimeInterval = 120, env: [String: String] = [:]) throws -> Result {
        try run(facefxPath, args, timeout: timeout, env: env)
    }

    static var ffmpegPath: String? {
        ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Makes a test input with the ffmpeg CLI (tests only; the product never runs ffmpeg).
    static func ffmpeg(_ args: [String]) throws {
        guard let path = ffmpegPath else { throw MissingTestInput("ffmpeg CLI not installed (scripts/install-deps.sh installs it)") }
        let r = try run(path, ["-y", "-v", "error", "-nostdin"] + args, timeout: 120)
        if r.status != 0 { throw NSError(domain: "ffmpeg", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
    }

    /// One field of a file's first video stream, as ffprobe reads it (tests only).
    static func ffprobeStream(_ path: String, _ field: String) throws -> String {
        let r = try run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=\(field)",
                                             "-of", "csv=p=0", path], timeout: 60)
        guard r.status == 0 else { throw NSError(domain: "ffprobe", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func makeTempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facefx-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

final class BundleFinder {}

final class LockedData {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    var string: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

/// Luma planes of every frame of a file, decoded by facefx's own reader (8-bit values; deeper samples >> (depth-8)).
func decodeLuma(_ path: String) throws -> (width: Int, height: Int, frames: [[UInt8]], pts: [Int64]) {
    let reader = try VideoReader(path: path)
    var frames: [[UInt8]] = []
    var pts: [Int64] = []
    while let f = try reader.nextFrame() {
        let p = f.planes[0]
        var plane = [UInt8](repeating: 0, count: f.width * f.height)
        for y in 0..<f.height {
            let row = p.base + y * p.stride
            for x in 0..<f.width {
                if f.bitDepth > 8 {
                    let v = row.load(fromByteOffset: 2 * x, as: UInt16.self)
                    plane[y * f.width + x] = UInt8(min(255, (Int(v) + (1 << (f.bitDepth - 9))) >> (f.bitDepth - 8)))
                } else {
                    plane[y * f.width + x] = row.load(fromByteOffset: x, as: UInt8.self)
                }
            }
        }
        frames.append(plane)
        pts.append(f.pts)
    }
    return (reader.info.width, reader.info.height, frames, pts)
}

func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count)
    var se = 0.0
    for i in 0..<a.count { let d = Double(a[i]) - Double(b[i]); se += d * d }
    let mse = se / Double(a.count)
    return mse == 0 ? 99 : 10 * log10(255 * 255 / mse)
}

/// Files in `dir` (hidden ones too), for "nothing left behind" checks.
func listing(_ dir: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
}

/// A model, golden, sample, tool or GL context the tests need is missing: a failure, never a skip
/// (CI must not go green with the GPU path or the models gone).
struct MissingTestInput: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
