import FaceFXMedia
import Foundation
import XCTest

/// `facefx IN OUT --filter ...` end to end: tracking on real faces, the overlay drawn into the frames,
/// exports written beside the video, bad filter names rejected before anything is written.
final class RenderFilterTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try CLI.makeTempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The astronaut's face (about 180 px) drifting right over 12 frames of 384x288, with audio.
    func clip() throws -> String {
        let out = dir.appendingPathComponent("in.mp4").path
        let image = CLI.packageRoot.appendingPathComponent("samples/astronaut.png").path
        try CLI.ffmpeg(["-loop", "1", "-framerate", "24", "-i", image, "-f", "lavfi", "-i", "sine=frequency=300",
                        "-f", "lavfi", "-i", "color=c=0x203040:s=384x288:r=24",
                        "-t", "0.5", "-filter_complex",
                        "[0:v]scale=288:288[f];[2:v][f]overlay=x='4*n':y=0:shortest=1,format=yuv420p[v]", "-map", "[v]", "-map", "1:a",
                        "-c:v", "libx264", "-crf", "14", "-c:a", "aac", "-shortest", out])
        return out
    }

    func testMaskIsDrawnOnTheTrackedFaceAndRecordsAreWritten() throws {
        let input = try clip()
        let output = dir.appendingPathComponent("out.mp4").path
        let csv = dir.appendingPathComponent("faces.csv").path
        let r = try CLI.facefx([input, output, "--filter", "mask", "--csv", csv, "--min-face", "96"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("1 face track"), r.stderr)
        let a = try decodeLuma(input), b = try decodeLuma(output)
        XCTAssertEqual(a.frames.count, b.frames.count)
        XCTAssertEqual(a.pts, b.pts)
        // The face region (eyes/nose band of the astronaut, moving 4 px a frame) changes a lot; the far right
        // corner, away from the face, stays as it was.
        for (n, (fa, fb)) in zip(a.frames, b.frames).enumerated() {
            var faceDiff = 0.0, faceCount = 0.0, cornerDiff = 0.0, cornerCount = 0.0
            for y in 0..<a.height {
                for x in 0..<a.width {
                    let d = abs(Double(fa[y * a.width + x]) - Double(fb[y * a.width + x]))
                    let fx = x - 4 * n
                    if (95...150).contains(fx) && (45...105).contains(y) { faceDiff += d; faceCount += 1 }
                    if x >= 330 && y >= 230 { cornerDiff += d; cornerCount += 1 }
                }
            }
            XCTAssertGreaterThan(faceDiff / faceCount, 12, "frame \(n): the mask changes the face")
            XCTAssertLessThan(cornerDiff / cornerCount, 3, "frame \(n): nothing drawn far from the face")
        }
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(whereSeparator: \.isNewline)
        XCTAssertEqual(rows.count, 1 + a.frames.count, "one face per frame plus the header")
        XCTAssertTrue(rows[0].hasPrefix("frame,time_s,face_id,score,x,y,w,h,yaw,pitch,roll"))
        XCTAssertEqual(listing(dir).sorted(), ["faces.csv", "in.mp4", "out.mp4"])
        // Frames read back one at a time (each drawn only after the one before came back): the same video
        // as with four drawn ahead of their readbacks (the default).
        let serial = dir.appendingPathComponent("serial.mp4").path
        let s = try CLI.facefx([input, serial, "--filter", "mask", "--min-face", "96", "--quiet"], timeout: 600, env: ["FACEFX_READBACK_DEPTH": "1"])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: serial), FileManager.default.contents(atPath: output))
    }

    func testAnonymizeCoversTheFaceOnEveryFrame() throws {
        let input = try clip()
        let output = dir.appendingPathComponent("anon.mp4").path
        let r = try CLI.facefx([input, output, "--filter", "anonymize", "--min-face", "96", "--quiet"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try decodeLuma(input), b = try decodeLuma(output)
        XCTAssertEqual(a.frames.count, b.frames.count)
        // High-frequency energy (sum of squared horizontal + vertical differences) over the eyes–mouth
        // region of the moving face: the blur must remove most of it on every single frame.
        func energy(_ f: [UInt8], _ x0: Int) -> Double {
            var e = 0.0
            for y in 50..<110 {
                for x in (x0 + 95)..<(x0 + 150) {
                    let c = Double(f[y * a.width + x])
                    let dx = c - Double(f[y * a.width + x + 1]), dy = c - Double(f[(y + 1) * a.width + x])
                    e += dx * dx + dy * dy
                }
            }
            return e
        }
        for n in 0..<a.frames.count {
            let before = energy(a.frames[n], 4 * n), after = energy(b.frames[n], 4 * n)
            XCTAssertLessThan(after, 0.2 * before, "frame \(n): face not covered (energy \(after) of \(before))")
        }
    }

    func testUnknownOrBrokenFilterFailsBeforeAnyOutput() throws {
        let input = try clip()
        let output = dir.appendingPathComponent("out.mp4").path
        var r = try CLI.facefx([input, output, "--filter", "no-such-filter"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("no-such-filter"), r.stderr)
        let pack = dir.appendingPathComponent("packs/broken")
        try FileManager.default.createDirectory(at: pack, withIntermediateDirectories: true)
        try #"{"name": "broken", "description": "x", "elements": [{"kind": "sprite", "image": "../../in.mp4", "width": 1, "anchors": [{"landmark": 1, "at": [0, 0]}]}]}"#
            .write(to: pack.appendingPathComponent("filter.json"), atomically: true, encoding: .utf8)
        r = try CLI.facefx([input, output, "--filter", "broken", "--filters-dir", dir.appendingPathComponent("packs").path])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("filter.json") && r.stderr.contains("image"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        XCTAssertEqual(listing(dir).sorted(), ["in.mp4", "packs"])
    }

    func testPreviewRunsTheTrackerWithoutAFacesFile() throws {
        let input = try clip()
        let sheet = dir.appendingPathComponent("sheet.png").path
        let r = try CLI.facefx(["preview", input, "--filter", "debug", "-o", sheet, "--frames", "2"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertGreaterThan((try FileManager.default.attributesOfItem(atPath: sheet)[.size] as? Int) ?? 0, 1000)
    }
}
