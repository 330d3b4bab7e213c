// Offline tracking through `facefx analyze`: keyframes with look-back, shot cuts, one id per person.
// Clips from samples/astronaut.png (Eileen Collins, public domain), made with the ffmpeg CLI; small frames
// and --min-face keep the detector cheap. The second "person" is the same photo mirrored with other hues
// (AppearanceTests.otherLook): the only real face the repository may use is this one.
import Foundation
import XCTest

final class OfflineTrackingCLITests: XCTestCase {
    var dir: URL!
    var runs = 0
    override func setUpWithError() throws { dir = try CLI.makeTempDir() }
    override func tearDownWithError() throws {
        if ProcessInfo.processInfo.environment["FACEFX_TEST_KEEP"] != nil { print("kept \(dir.path)"); return }
        try? FileManager.default.removeItem(at: dir)
    }

    /// Shot number of each frame of the last run (JSONL).
    var shots: [Int] = []

    /// Runs analyze with --timings; returns the CSV rows as (frame, id, box centre x) and the timings line.
    func analyze(_ clip: URL, _ extra: [String] = []) throws -> (rows: [(frame: Int, id: String, cx: Double)], timings: String) {
        runs += 1
        let csv = dir.appendingPathComponent(clip.deletingPathExtension().lastPathComponent + "-\(runs).csv")
        let jsonl = csv.deletingPathExtension().appendingPathExtension("jsonl")
        let r = try CLI.facefx(["analyze", clip.path, "--csv", csv.path, "--jsonl", jsonl.path, "--min-face", "64", "--timings"] + extra,
                               timeout: 300)
        shots = try readJSONL(jsonl).map { $0["shot"] as? Int ?? -1 }
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("facefx:") }
        print(lines.joined(separator: "\n"))
        let (header, rows) = try readCSVWithPython(csv)
        let col = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        return (rows.map { (Int($0[0])!, $0[col["face_id"]!], Double($0[col["x"]!])! + Double($0[col["w"]!])! / 2) },
                String(lines.last ?? ""))
    }

    /// A count from the timings line ("... 3 shot cuts ...").
    func count(_ what: String, in line: String) -> Int? {
        guard let r = line.range(of: #"(\d+) "# + what, options: .regularExpression) else { return nil }
        return Int(line[r].split(separator: " ")[0])
    }

    /// The face slides in from the left, whole from frame 7 on, between the keyframes 0 and 12: the
    /// keyframe finds it and look-back follows it back, so every frame with the whole face has it, one id.
    func testFaceEnteringBetweenKeyframesIsFoundFromItsFirstFrame() throws {
        let clip = dir.appendingPathComponent("enter.mp4")
        // Face box half width ~45 px: centre x −50 + 100·k/7 is outside on frame 0 (the keyframe), whole from
        // frame 7 on. (The rest of the photo is in the picture from the start, as a scene would be.)
        try SyntheticClip.make(clip, width: 320, height: 240,
                               frames: (0..<30).map { [Placement(center: [min(-50 + 100 * Double($0) / 7, 160), 120])] })
        let (rows, timings) = try analyze(clip)
        XCTAssertEqual(Set(rows.map(\.frame)).intersection(7..<30), Set(7..<30), "a face on every frame from 7 on")
        XCTAssertTrue(rows.allSatisfy { $0.frame >= 2 }, "none before it enters")
        XCTAssertEqual(Set(rows.map(\.id)), ["1"])
        XCTAssertEqual(count("shot cuts", in: timings), 0)
        XCTAssertGreaterThanOrEqual(count("found looking back", in: timings) ?? 0, 5, "frames 7...11 from the keyframe at 12")
        XCTAssertLessThanOrEqual(count("keyframes", in: timings) ?? 99, 4)
        // --detect-every 1: the detector on every frame finds the same faces.
        let (every, t1) = try analyze(clip, ["--detect-every", "1"])
        XCTAssertEqual(Set(every.map(\.frame)).intersection(7..<30), Set(7..<30))
        XCTAssertEqual(count("keyframes", in: t1), 30)
    }

    /// Three shots: Collins, the other look, Collins again (other framing, other size): two cuts found, no
    /// track runs across a cut, and Collins gets her id back in the third shot.
    func testCutsBetweenTwoPeopleKeepTwoIDs() throws {
        let clip = dir.appendingPathComponent("cuts.mp4")
        let astronaut = CLI.packageRoot.appendingPathComponent("samples/astronaut.png").path
        var args: [String] = []
        for input in [astronaut, astronaut, astronaut] { args += ["-loop", "1", "-framerate", "30", "-t", "0.667", "-i", input] }
        args += ["-filter_complex",
                 "[0]scale=180:180,pad=320:240:70:40:color=0x406080,setsar=1[a];" +
                 "[1]hflip,hue=h=-25:s=1.2,scale=220:220,pad=320:240:0:10:color=0x806040,setsar=1[b];" +
                 "[2]scale=220:220,pad=320:240:90:10:color=0x305070,setsar=1[c];[a][b][c]concat=n=3:v=1[v]",
                 "-map", "[v]", "-frames:v", "60", "-c:v", "libx264", "-crf", "14", "-pix_fmt", "yuv420p", clip.path]
        try CLI.ffmpeg(args)
        let (rows, timings) = try analyze(clip)
        XCTAssertEqual(count("shot cuts", in: timings), 2)
        XCTAssertEqual(shots, (0..<60).map { $0 / 20 }, "JSONL shot numbers")
        var ids: [Int: String] = [:]
        for r in rows { XCTAssertNil(ids[r.frame], "one face per frame"); ids[r.frame] = r.id }
        XCTAssertEqual(Set(ids.keys), Set(0..<60), "a face on every frame")
        XCTAssertEqual(Set((0..<20).compactMap { ids[$0] }), ["1"])
        XCTAssertEqual(Set((20..<40).compactMap { ids[$0] }), ["2"], "the other look is someone else, from the cut on")
        XCTAssertEqual(Set((40..<60).compactMap { ids[$0] }), ["1"], "Collins recognised after the cut")
        // The first frame after each cut has the new shot's face, not one dragged from the last shot.
        XCTAssertEqual(rows.first { $0.frame == 20 }!.cx, 20 + 85, accuracy: 25)
        XCTAssertEqual(rows.first { $0.frame == 40 }!.cx, 90 + 110 * 226 / 256, accuracy: 25)
    }

    /// Two clips of other frame sizes joined into one stream (users concatenate clips): the frames of the
    /// first size are finished before the second starts, the size change is a shot cut, one person one id.
    func testFrameSizeChangeWithinAStream() throws {
        let joined = try sizeChangingClip()
        let (rows, timings) = try analyze(joined)
        XCTAssertEqual(Set(rows.map(\.frame)), Set(0..<40), "a face on every frame of both sizes")
        XCTAssertEqual(Set(rows.map(\.id)), ["1"])
        XCTAssertEqual(count("shot cuts", in: timings), 1)
    }

    /// 20 frames of 320×240 then 20 of 480×360 in one MPEG-TS stream, a centred face in each.
    func sizeChangingClip() throws -> URL {
        var parts: [String] = []
        for (k, (w, h)) in [(320, 240), (480, 360)].enumerated() {
            let mp4 = dir.appendingPathComponent("part\(k).mp4"), ts = dir.appendingPathComponent("part\(k).ts")
            try SyntheticClip.make(mp4, width: w, height: h, frames: Array(repeating: [Placement(center: [Double(w) / 2, Double(h) / 2])], count: 20))
            try CLI.ffmpeg(["-i", mp4.path, "-c", "copy", "-f", "mpegts", ts.path])
            parts.append(ts.path)
        }
        let joined = dir.appendingPathComponent("joined.ts")
        let data = try parts.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }.reduce(Data(), +)
        try data.write(to: joined)
        return joined
    }

    /// Render of the same stream: the output keeps the first size (as FFmpeg's CLI does), the later
    /// frames are drawn at their own size and stretched to it; with and without a filter.
    func testRenderOfAStreamWhoseFrameSizeChangesKeepsTheFirstSize() throws {
        let joined = try sizeChangingClip()
        for extra in [["--filter", "mask", "--csv", dir.appendingPathComponent("render.csv").path], []] {
            let out = dir.appendingPathComponent("render\(extra.count).mp4").path
            let r = try CLI.facefx([joined.path, out, "--min-face", "64"] + extra, timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr)
            let video = try decodeLuma(out)
            XCTAssertEqual([video.width, video.height], [320, 240])
            XCTAssertEqual(video.frames.count, 40)
        }
        let (header, rows) = try readCSVWithPython(dir.appendingPathComponent("render.csv"))
        let col = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        XCTAssertEqual(Set(rows.map { Int($0[0])! }), Set(0..<40), "a face on every frame of both sizes")
        let centre = rows.first { $0[0] == "30" }.map { Double($0[col["x"]!])! + Double($0[col["w"]!])! / 2 }
        XCTAssertEqual(centre ?? 0, 240, accuracy: 20, "face records in the frame's own pixels (480 wide)")
    }

    /// The face leaves for 5 s and comes back elsewhere: one id. With --reid-window 2 it is a new one.
    func testFaceLeavingForFiveSecondsKeepsItsID() throws {
        let clip = dir.appendingPathComponent("leave.mp4")
        try SyntheticClip.make(clip, width: 320, height: 240, frames: (0..<210).map { k in
            k < 30 ? [Placement(center: [120, 120])] : (k >= 180 ? [Placement(center: [200, 130], scale: 0.9)] : [])
        })
        let (rows, timings) = try analyze(clip)
        XCTAssertEqual(rows.count, 60)
        XCTAssertEqual(Set(rows.map(\.id)), ["1"])
        XCTAssertTrue(timings.contains("detector tiles on"), timings)
        XCTAssertLessThanOrEqual(count("keyframes", in: timings) ?? 999, 30, "no detector on every empty frame")
        let (limited, _) = try analyze(clip, ["--reid-window", "2"])
        XCTAssertEqual(Set(limited.filter { $0.frame < 30 }.map(\.id)), ["1"])
        XCTAssertEqual(Set(limited.filter { $0.frame >= 180 }.map(\.id)), ["2"])
    }

    /// Segments analysed at once give what one pass from start to end gives. 120 frames, three shots (Collins,
    /// the other look, Collins) with moving faces; `--segments 3` cuts the clip into frames 0–49, 50–99
    /// and 100–119, each read from 10 frames earlier: the first cut (frame 45) falls in the second
    /// segment's overlap, the second (frame 100) on the third segment's first frame.
    func testSegmentsAtOnceMatchOnePass() throws {
        let clip = dir.appendingPathComponent("segments.mp4")
        let astronaut = CLI.packageRoot.appendingPathComponent("samples/astronaut.png").path
        var args: [String] = []
        for seconds in ["1.5", "1.8333", "0.6667"] { args += ["-loop", "1", "-framerate", "30", "-t", seconds, "-i", astronaut] }
        args += ["-filter_complex",
                 "color=c=0x406080:s=320x240:r=30:d=1.5[g0];color=c=0x806040:s=320x240:r=30:d=1.8333[g1];" +
                 "color=c=0x305070:s=320x240:r=30:d=0.6667[g2];" +
                 // Faces of 64–78 px moving by up to 40 px (the photo's face: 91 px wide at 512, centre 226, 125).
                 "[0]scale=400:400[a];[g0][a]overlay=x='-17+30*sin(2*t)':y='10+10*t':shortest=1,setsar=1[s0];" +
                 "[1]hflip,hue=h=-25:s=1.2,scale=440:440[b];[g1][b]overlay=x='-96+20*t':y=10:shortest=1,setsar=1[s1];" +
                 "[2]scale=360:360[c];[g2][c]overlay=x='10-30*t':y=30:shortest=1,setsar=1[s2];[s0][s1][s2]concat=n=3:v=1[v]",
                 "-map", "[v]", "-frames:v", "120", "-c:v", "libx264", "-crf", "14", "-pix_fmt", "yuv420p", clip.path]
        try CLI.ffmpeg(args)
        let (one, _) = try analyze(clip, ["--segments", "1"])
        let shotsOne = shots
        let (three, timings) = try analyze(clip, ["--segments", "3"])
        XCTAssertEqual(count("shot cuts", in: timings), 2, "a cut in an overlap is counted once")
        XCTAssertEqual(shotsOne, (0..<120).map { $0 < 45 ? 0 : ($0 < 100 ? 1 : 2) }, "JSONL shot numbers")
        XCTAssertEqual(shots, shotsOne, "the same shots from segments")
        XCTAssertEqual(Set(one.map(\.frame)), Set(0..<120), "a face on every frame")
        XCTAssertEqual(Set(one.filter { $0.frame < 45 || $0.frame >= 100 }.map(\.id)), ["1"])
        XCTAssertEqual(Set(one.filter { (45..<100).contains($0.frame) }.map(\.id)), ["2"])
        XCTAssertEqual(three.map { "\($0.frame) \($0.id)" }, one.map { "\($0.frame) \($0.id)" }, "the same faces, the same ids")
        for (a, b) in zip(one, three) {
            XCTAssertEqual(a.cx, b.cx, accuracy: 1.5, "frame \(a.frame): box centre")
        }
    }
}
