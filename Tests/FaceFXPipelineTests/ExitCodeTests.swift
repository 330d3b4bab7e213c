import Foundation
import XCTest

/// The same mistake gives the same exit code and a one-line message naming the culprit in every command
/// that can make it (README: exit codes). Every case stops before any decoding or GPU work.
final class ExitCodeTests: XCTestCase {
    func testSameMistakeSameExitCodeInEveryCommand() throws {
        let dir = try CLI.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.mp4").path
        try FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("samples/face.mp4").path, toPath: input)
        let image = CLI.packageRoot.appendingPathComponent("samples/astronaut.png").path
        for name in ["exists.mp4", "exists.csv", "exists.png"] {
            _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data())
        }
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        /// Per command: its arguments with a given input and output (nil: the command has no such output).
        let commands: [(name: String, args: (String, String?) -> [String]?)] = [
            ("render", { i, o in [i, o ?? p("o.mp4")] }),
            ("analyze", { i, o in ["analyze", i, "--csv", o.map { $0.replacingOccurrences(of: ".mp4", with: ".csv") } ?? p("o.csv")] }),
            ("preview", { i, o in ["preview", i, "--output", o.map { $0.replacingOccurrences(of: ".mp4", with: ".png") } ?? p("o.png"), "--filter", "mask"] }),
            ("batch", { i, o in o == nil ? ["batch", i, "--out-dir", p("done")] : nil }),
            ("detect", { i, o in o == nil ? ["detect", i == input ? image : i] : nil }),
        ]
        // mistake, its arguments' input and output, extra arguments, environment, message.
        let mistakes: [(what: String, input: String, output: String?, extra: [String], env: [String: String], message: String)] = [
            ("missing input", p("missing.mp4"), nil, [], [:], "missing.mp4: no such file"),
            ("output folder missing", input, p("nodir/o.mp4"), [], [:], "folder "),
            ("output exists", input, p("exists.mp4"), [], [:], "already exists (use --overwrite to replace it)"),
            ("bad --gpu", input, nil, ["--gpu", "banana"], [:], "--gpu: expected auto, cpu or a device index, got 'banana'"),
            ("bad tuning variable", input, nil, [], ["FACEFX_NN_PASSES": "vulkan"], "FACEFX_NN_PASSES=vulkan: expected compute, fragment"),
            ("bad tuning number", input, nil, [], ["FACEFX_FRAME_BATCH": "0"], "FACEFX_FRAME_BATCH=0: expected integer ≥ 1"),
        ]
        var table: [String] = []
        for m in mistakes {
            for c in commands {
                guard var args = c.args(m.input, m.output) else { continue }
                args += m.extra
                let r = try CLI.facefx(args, timeout: 60, env: m.env)
                let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
                table.append("\(m.what) × \(c.name): exit \(r.status): \(lines.first ?? "")")
                XCTAssertEqual(r.status, 2, "\(m.what) × \(c.name): \(r.stderr)")
                XCTAssertEqual(lines.count, 1, "\(m.what) × \(c.name): one line, got \(r.stderr)")
                XCTAssertTrue(lines.first?.hasPrefix("facefx: error: ") ?? false, "\(m.what) × \(c.name): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains(m.message), "\(m.what) × \(c.name): \(r.stderr)")
            }
        }
        print(table.joined(separator: "\n"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: p("o.mp4")), "no output written")
    }
}
