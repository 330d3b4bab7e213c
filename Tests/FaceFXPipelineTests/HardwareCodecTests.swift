import Foundation
import XCTest

/// NVIDIA's hardware codecs. Encoders (`--codec h264_nvenc|hevc_nvenc|auto`): where this machine has NVENC
/// they encode; where it has not (CI, llvmpipe), asking for one is a usage error naming the output and the
/// reason (exit 2, one line, no output), and `auto` falls back to x264. Decoder (`--hwdec nvdec|auto`): the
/// same rules, and NVDEC's frames are the software decoder's (H.264 decoding is exact), so the analysis is
/// the same. `facefx info` says which holds.
final class HardwareCodecTests: XCTestCase {
    func testHardwareEncodersEncodeWhereAvailableElseFailCleanlyAndAutoFallsBack() throws {
        let dir = try CLI.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try shortClip(in: dir)
        let info = try CLI.facefx(["info", "--gpu", "cpu"], timeout: 60)
        XCTAssertEqual(info.status, 0, info.stderr)
        for (codec, stream) in [("h264_nvenc", "h264"), ("hevc_nvenc", "hevc")] {
            let line = info.stdout.split(separator: "\n").first { $0.hasPrefix("hardware encoder \(codec): ") }
            XCTAssertNotNil(line, "facefx info lists \(codec): \(info.stdout)")
            let available = line?.hasSuffix(": yes") ?? false
            let out = dir.appendingPathComponent("\(codec).mp4").path
            let r = try CLI.facefx([input, out, "--codec", codec], timeout: 300)
            if available {
                XCTAssertEqual(r.status, 0, r.stderr)
                XCTAssertEqual(try CLI.ffprobeStream(out, "codec_name"), stream)
            } else {
                XCTAssertEqual(r.status, 2, r.stderr)
                XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
                XCTAssertTrue(r.stderr.contains("\(out): unsupported codec \(codec) (needs an NVIDIA GPU with NVENC"), r.stderr)
                XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no output")
                let batch = try CLI.facefx(["batch", input, "--out-dir", dir.appendingPathComponent("done").path, "--codec", codec], timeout: 60)
                XCTAssertEqual(batch.status, 2, batch.stderr)
                XCTAssertTrue(batch.stderr.contains("--codec \(codec): needs an NVIDIA GPU"), batch.stderr)
            }
        }
        let auto = dir.appendingPathComponent("auto.mp4").path
        let r = try CLI.facefx([input, auto, "--codec", "auto", "--crf", "23", "--preset", "fast"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try CLI.ffprobeStream(auto, "codec_name"), "h264", "NVENC's or x264's H.264")
    }

    func testHardwareDecodingGivesTheSoftwareResultsOrFailsCleanly() throws {
        let dir = try CLI.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try shortClip(in: dir)
        let info = try CLI.facefx(["info", "--gpu", "cpu"], timeout: 60)
        let line = info.stdout.split(separator: "\n").first { $0.hasPrefix("hardware decoder nvdec: ") }
        XCTAssertNotNil(line, "facefx info lists NVDEC: \(info.stdout)")
        let available = line?.hasSuffix(": yes") ?? false
        func analyze(_ mode: String) throws -> (CLI.Result, String) {
            let csv = dir.appendingPathComponent("\(mode).csv").path
            return (try CLI.facefx(["analyze", input, "--csv", csv, "--hwdec", mode, "--quiet"], timeout: 300), csv)
        }
        let (software, softwareCSV) = try analyze("none")
        XCTAssertEqual(software.status, 0, software.stderr)
        let (nvdec, nvdecCSV) = try analyze("nvdec")
        if available {
            XCTAssertEqual(nvdec.status, 0, nvdec.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: nvdecCSV)), try Data(contentsOf: URL(fileURLWithPath: softwareCSV)))
        } else {
            XCTAssertEqual(nvdec.status, 2, nvdec.stderr)
            XCTAssertEqual(nvdec.stderr.split(separator: "\n").count, 1, nvdec.stderr)
            XCTAssertTrue(nvdec.stderr.contains("\(input): unsupported codec nvdec (needs an NVIDIA GPU"), nvdec.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: nvdecCSV), "no output")
        }
        let (auto, autoCSV) = try analyze("auto")
        XCTAssertEqual(auto.status, 0, auto.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: autoCSV)), try Data(contentsOf: URL(fileURLWithPath: softwareCSV)))
    }

    /// The first 20 frames of the sample clip (with its audio).
    func shortClip(in dir: URL) throws -> String {
        let clip = dir.appendingPathComponent("short.mp4").path
        try CLI.ffmpeg(["-i", CLI.packageRoot.appendingPathComponent("samples/face.mp4").path, "-frames:v", "20",
                        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", clip])
        return clip
    }
}
