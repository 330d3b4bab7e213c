import FaceFXMedia
import Foundation
import XCTest

/// End-to-end checks of `facefx INPUT OUTPUT` as a user runs it: the built binary, real files, the GPU stage
/// (llvmpipe in CI) between FFmpeg's decoder and encoder.
final class RenderCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = try CLI.makeTempDir()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// A real face moving over a background, with audio (from the committed sample clip when present).
    func faceClip(size: String = "640x360", seconds: Double = 1.0, extra: [String] = [], name: String = "in.mp4") throws -> String {
        let out = dir.appendingPathComponent(name).path
        let source = CLI.packageRoot.appendingPathComponent("samples/astronaut.png").path
        try CLI.ffmpeg(["-loop", "1", "-framerate", "30", "-i", source,
                        "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000",
                        "-t", String(seconds), "-filter_complex",
                        "[0:v]scale=\(size.replacingOccurrences(of: "x", with: ":")),format=yuv420p[v]",
                        "-map", "[v]", "-map", "1:a"] + extra + ["-c:v", "libx264", "-crf", "12", "-c:a", "aac", "-shortest", out])
        return out
    }

    func testIdentityRoundTripKeepsFramesTimestampsAudioAndQuality() throws {
        // Default: no filter, so 8-bit 4:2:0 frames take the copy path through the GPU.
        try identityRoundTrip(env: [:])
    }

    func testIdentityRoundTripThroughRGBA() throws {
        // The path every filter uses: YUV → RGBA frame texture → I420 in shaders.
        try identityRoundTrip(env: ["FACEFX_FORCE_RGBA": "1"])
    }

    func identityRoundTrip(env: [String: String]) throws {
        let input = try faceClip()
        let output = dir.appendingPathComponent("out.mp4").path
        let r = try CLI.facefx([input, output, "--quiet"], env: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.isEmpty, "--quiet prints nothing on success: \(r.stderr)")
        let a = try decodeLuma(input), b = try decodeLuma(output)
        XCTAssertEqual(a.frames.count, b.frames.count)
        XCTAssertEqual(a.pts, b.pts)
        let worst = zip(a.frames, b.frames).map { psnr($0, $1) }.min() ?? 0
        XCTAssertGreaterThanOrEqual(worst, 40, "luma PSNR of the GPU round trip at crf 18")
        let info = try VideoReader.probe(path: output)
        XCTAssertTrue(info.hasAudio)
        XCTAssertEqual(info.audioCodecName, "aac")
        XCTAssertEqual(listing(dir), ["in.mp4", "out.mp4"], "no temporary file left beside the output")
    }

    func testSummaryLineAndPlainProgressWhenNotATerminal() throws {
        let input = try faceClip(seconds: 0.5)
        let r = try CLI.facefx([input, dir.appendingPathComponent("o.mkv").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("facefx: ") && last.contains("15 frames in"), last)
    }

    func testTenBitInputThroughTheGPU() throws {
        let input = try faceClip(size: "640x360", seconds: 0.2,
                                 extra: ["-pix_fmt", "yuv420p10le", "-profile:v", "high10"], name: "in10.mkv")
        let output = dir.appendingPathComponent("out.mp4").path
        let r = try CLI.facefx([input, output, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try decodeLuma(input), b = try decodeLuma(output)
        XCTAssertEqual(a.frames.count, b.frames.count)
        let worst = zip(a.frames, b.frames).map { psnr($0, $1) }.min() ?? 0
        XCTAssertGreaterThanOrEqual(worst, 40, "10-bit input rendered to 8-bit")
    }

    func testOddSizeIsCroppedToEvenWithAWarning() throws {
        // 4:2:0 H.264 cannot hold odd sizes (its crop unit is 2 pixels): the source is 4:4:4 1279x719; facefx
        // encodes 1278x718, the same pixels minus the last column and row, and says so in a warning.
        let input = try faceClip(size: "1279x719", seconds: 0.2, extra: ["-pix_fmt", "yuv444p"], name: "odd.mkv")
        let output = dir.appendingPathComponent("out.mp4").path
        let r = try CLI.facefx([input, output])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("1279") && r.stderr.contains("1278"), r.stderr)
        let a = try decodeLuma(input), b = try decodeLuma(output)
        XCTAssertEqual(a.frames.count, b.frames.count)
        XCTAssertEqual(b.width, 1278); XCTAssertEqual(b.height, 718)
        for (fa, fb) in zip(a.frames, b.frames) {
            var cropped = [UInt8](); cropped.reserveCapacity(1278 * 718)
            for y in 0..<718 { cropped += fa[(y * 1279)..<(y * 1279 + 1278)] }
            XCTAssertGreaterThanOrEqual(psnr(cropped, fb), 40)
        }
    }

    func testVariableFrameRateRotationAndNoAudioSurviveTheGPUPath() throws {
        // Irregular timestamps (VFR), a 90° rotation tag and no audio track: all must come through unchanged.
        let src = dir.appendingPathComponent("src.mp4").path
        let image = CLI.packageRoot.appendingPathComponent("samples/astronaut.png").path
        try CLI.ffmpeg(["-loop", "1", "-framerate", "30", "-i", image, "-t", "1", "-an",
                        "-vf", "scale=320:320,setpts='N/30/TB+if(gt(N,10),0.37/TB,0)+if(gt(N,20),0.11/TB,0)',format=yuv420p",
                        "-fps_mode", "passthrough", "-c:v", "libx264", "-crf", "12", src])
        let input = dir.appendingPathComponent("rot.mp4").path
        try CLI.ffmpeg(["-i", src, "-c", "copy", "-metadata:s:v", "rotate=90", input])
        let output = dir.appendingPathComponent("out.mp4").path
        let r = try CLI.facefx([input, output, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try decodeLuma(input), b = try decodeLuma(output)
        XCTAssertEqual(a.pts, b.pts, "VFR timestamps kept")
        let i = try VideoReader.probe(path: input), o = try VideoReader.probe(path: output)
        XCTAssertNotEqual(i.rotationDegrees, 0)
        XCTAssertEqual(o.rotationDegrees, i.rotationDegrees)
        XCTAssertFalse(o.hasAudio)
    }

    func testFullRangeAndBT709AreKept() throws {
        let input = try faceClip(seconds: 0.3, extra: ["-pix_fmt", "yuvj420p", "-color_range", "pc",
                                                       "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"])
        let output = dir.appendingPathComponent("out.mp4").path
        XCTAssertEqual(try CLI.facefx([input, output, "--quiet"], env: ["FACEFX_FORCE_RGBA": "1"]).status, 0)
        let i = try VideoReader.probe(path: input), o = try VideoReader.probe(path: output)
        XCTAssertTrue(o.color.fullRange)
        XCTAssertEqual(o.color.matrix, i.color.matrix)
        XCTAssertEqual(o.color.colorSpace, i.color.colorSpace)
        let a = try decodeLuma(input), b = try decodeLuma(output)
        XCTAssertGreaterThanOrEqual(zip(a.frames, b.frames).map { psnr($0, $1) }.min() ?? 0, 40)
    }

    func testBadInputsGiveOneLineErrorsAndExitCodes() throws {
        let good = try faceClip(seconds: 0.3)
        let text = dir.appendingPathComponent("notes.mp4")
        try "this is not a video\n".write(to: text, atomically: true, encoding: .utf8)
        let empty = dir.appendingPathComponent("empty.mp4")
        FileManager.default.createFile(atPath: empty.path, contents: Data())
        let audioOnly = dir.appendingPathComponent("audio.m4a").path
        try CLI.ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.5", "-c:a", "aac", audioOnly])
        let truncated = dir.appendingPathComponent("truncated.mp4")
        let data = try Data(contentsOf: URL(fileURLWithPath: good))
        try data.prefix(data.count * 3 / 10).write(to: truncated)
        let readOnly = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: true)
        let existing = dir.appendingPathComponent("exists.mp4")
        try Data([1, 2, 3]).write(to: existing)

        let cases: [(args: [String], code: Int32, mentions: String)] = [
            ([dir.appendingPathComponent("missing.mp4").path, out("a.mp4")], 2, "missing.mp4"),
            ([text.path, out("b.mp4")], 1, "notes.mp4"),
            ([empty.path, out("c.mp4")], 1, "empty.mp4"),
            ([audioOnly, out("d.mp4")], 1, "audio.m4a"),
            ([truncated.path, out("e.mp4")], 1, "truncated.mp4"),
            ([good, dir.appendingPathComponent("no/such/folder/f.mp4").path], 2, "f.mp4"),
            ([good, out("g.xyz")], 2, "g.xyz"),
            ([good, out("h.mp4"), "--codec", "mpeg9"], 2, "mpeg9"),
            ([good, out("h2.mp4"), "--preset", "warp"], 2, "warp"),
            ([good, out("i.webm"), "--codec", "h265"], 2, "i.webm"),
            ([good, good], 2, "in.mp4"),
            ([good, existing.path], 2, "exists.mp4"),
            ([good, out("j.mp4"), "--crf", "99"], 2, "crf"),
            ([good, out("k.mp4"), "--gpu", "banana"], 2, "gpu"),
        ]
        for c in cases {
            let before = listing(dir)
            let r = try CLI.facefx(c.args, timeout: 60)
            XCTAssertFalse(r.timedOut, "\(c.args)")
            XCTAssertEqual(r.status, c.code, "\(c.args): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "one line for \(c.args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("facefx: error: ") && r.stderr.contains(c.mentions), "\(c.args): \(r.stderr)")
            XCTAssertEqual(listing(dir), before, "nothing written for \(c.args)")
        }
        XCTAssertEqual(try Data(contentsOf: existing), Data([1, 2, 3]), "existing output untouched")

        // An unwritable folder (only meaningful when not running as root, which ignores permissions).
        if getuid() != 0 {
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: readOnly.path)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: readOnly.path) }
            let r = try CLI.facefx([good, readOnly.appendingPathComponent("x.mp4").path])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertEqual(listing(readOnly), [])
        }
    }

    /// A run killed with SIGKILL leaves its hidden temporary; the next run to that target removes it, but
    /// not the temporary of a facefx that still runs (here: this test process's pid).
    func testStaleTemporariesOfKilledRunsAreRemoved() throws {
        let good = try faceClip(seconds: 0.3)
        for (target, args) in [("v.mp4", [good, out("v.mp4")]), ("f.csv", ["analyze", good, "--csv", out("f.csv")])] {
            let stale = out(".\(target).facefx-4194000-7.tmp"), live = out(".\(target).facefx-\(getpid())-8.tmp")
            for p in [stale, live] { try Data([1]).write(to: URL(fileURLWithPath: p)) }
            let r = try CLI.facefx(args + ["--quiet"], timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "\(target): stale temporary removed")
            XCTAssertTrue(FileManager.default.fileExists(atPath: live), "\(target): a running writer's temporary kept")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out(target)))
            try FileManager.default.removeItem(atPath: live)
        }
    }

    func testInterruptedRunLeavesNothingBehind() throws {
        let input = try faceClip(size: "640x360", seconds: 4)
        let output = dir.appendingPathComponent("out.mp4").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.facefxPath)
        p.arguments = [input, output, "--quiet", "--preset", "veryslow"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until the hidden temporary output exists, then interrupt.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && !listing(dir).contains(where: { $0.hasSuffix(".tmp") }) { usleep(20_000) }
        XCTAssertTrue(listing(dir).contains { $0.hasSuffix(".tmp") }, "temporary output appears while rendering")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0)
        XCTAssertEqual(listing(dir), ["in.mp4"], "no output and no temporary file after SIGTERM")
    }

    func testOverwriteReplacesAtomically() throws {
        let input = try faceClip(seconds: 0.3)
        let output = dir.appendingPathComponent("out.mp4")
        try Data([9, 9, 9]).write(to: output)
        let r = try CLI.facefx([input, output.path, "--overwrite", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try decodeLuma(output.path).frames.count, 9)
    }

    private func out(_ name: String) -> String { dir.appendingPathComponent(name).path }
}
