import Foundation
import XCTest

/// Inputs and runners shared by the `facefx batch` tests.
enum BatchFixture {
    static var astronaut: String { CLI.packageRoot.appendingPathComponent("samples/astronaut.png").path }

    /// A small real-face clip (default 160×160, 10 frames, H.264) made with the ffmpeg CLI; the container follows
    /// the extension of `path`.
    static func makeClip(_ path: String, size: Int = 160, frames: Int = 10, fps: Int = 10) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try CLI.ffmpeg(["-loop", "1", "-framerate", String(fps), "-i", astronaut, "-frames:v", String(frames),
                        "-vf", "scale=\(size):\(size),format=yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
                        "-f", formatName(path), path])
    }

    /// Copies of one clip under several names (same frames, different files): faster than encoding each.
    static func makeClips(_ paths: [String], size: Int = 160, frames: Int = 10) throws {
        var made: [String: String] = [:]   // container → first clip of that container
        for p in paths {
            let fmt = formatName(p)
            if let source = made[fmt] {
                try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: source, toPath: p)
            } else {
                try makeClip(p, size: size, frames: frames)
                made[fmt] = p
            }
        }
    }

    static func formatName(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "mov": return "mov"
        case "mkv": return "matroska"
        case "avi": return "avi"
        case "m4v": return "ipod"
        default: return "mp4"
        }
    }

    static let schedulerVariables = ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
                                     "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX",
                                     "FACEFX_SHARD_COUNT"]

    /// The test process's environment without scheduler variables (the tests may themselves run inside a Slurm
    /// job), plus `extra`.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for k in schedulerVariables { env[k] = nil }
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs a program with exactly `environment` in `directory`.
    @discardableResult
    static func run(_ path: String, _ args: [String], environment env: [String: String] = environment(),
                    directory: URL? = nil, timeout: TimeInterval = 60) throws -> CLI.Result {
        try CLI.run(path, args, timeout: timeout, env: env, exactEnvironment: true, directory: directory)
    }

    static func facefx(_ args: [String], environment env: [String: String] = environment(), directory: URL? = nil,
                       timeout: TimeInterval = 60) throws -> CLI.Result {
        try run(CLI.facefxPath, args, environment: env, directory: directory, timeout: timeout)
    }

    /// The `IN → OUT` pairs a `--dry-run` printed.
    static func pairs(_ stdout: String) -> [(String, String)] {
        stdout.split(separator: "\n").compactMap { line in
            let parts = line.components(separatedBy: " → ")
            guard parts.count == 2 else { return nil }
            return (parts[0], parts[1].components(separatedBy: " (").first!)
        }
    }

    /// Every file below `dir` (relative paths, hidden ones included), sorted.
    static func tree(_ dir: URL) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir.path) else { return [] }
        var files: [String] = []
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(rel).path, isDirectory: &isDir), !isDir.boolValue {
                files.append(rel)
            }
        }
        return files.sorted()
    }

    struct Summary: Decodable {
        struct File: Decodable {
            var input: String
            var output: String
            var status: String
            var frames: Int
            var faces: Int
            var seconds: Double
            var error: String?
        }
        struct Totals: Decodable { var files, ok, failed, skipped, frames: Int; var seconds: Double }
        struct Shard: Decodable { var index, count, of: Int }
        var version: String
        var command: [String]
        var cwd: String
        var action: String
        var shard: Shard?
        var started: String
        var finished: String
        var totals: Totals
        var files: [File]
    }

    static func summary(_ path: String) throws -> Summary {
        try JSONDecoder().decode(Summary.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The raw JSON object, to check that `error` and `shard` are present as explicit nulls.
    static func summaryObject(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }
}
