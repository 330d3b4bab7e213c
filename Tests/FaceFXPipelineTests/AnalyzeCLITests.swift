// `facefx analyze` through the built binary, on clips with known face motion made from
// samples/astronaut.png (AnalyzeTestSupport): file formats, tracking accuracy, recall, ids,
// re-identification and jitter. Clips are small (≤ 640×360, ≤ 40 frames) and --min-face keeps
// the detector to few tiles, so the set runs in a few minutes on llvmpipe.
import Foundation
import XCTest

final class AnalyzeCLITests: XCTestCase {
    static let blendshapeNames = [
        "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
        "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight",
        "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft",
        "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
        "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose",
        "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel",
        "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
        "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
        "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
        "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
    ]
    static let emotions = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]

    static func expectedHeader(landmarks: Bool) -> [String] {
        var h = ["frame", "time_s", "face_id", "score", "x", "y", "w", "h", "yaw", "pitch", "roll", "tx", "ty", "tz"]
        h += blendshapeNames + ["emotion"] + emotions.map { "emotion_\($0)" }
        if landmarks { for i in 0..<478 { h += ["lm\(i)_x", "lm\(i)_y", "lm\(i)_z"] } }
        return h
    }

    var dir: URL!
    override func setUpWithError() throws { dir = try CLI.makeTempDir() }
    override func tearDownWithError() throws {
        // FACEFX_TEST_KEEP=1 keeps the clips and outputs for a look (path printed).
        if ProcessInfo.processInfo.environment["FACEFX_TEST_KEEP"] != nil { print("kept \(dir.path)"); return }
        try? FileManager.default.removeItem(at: dir)
    }

    func analyze(_ args: [String], timeout: TimeInterval = 300) throws -> CLI.Result {
        let r = try CLI.facefx(["analyze"] + args, timeout: timeout)
        XCTAssertFalse(r.timedOut)
        print(r.stderr.split(separator: "\n").filter { $0.hasPrefix("facefx:") }.joined(separator: "\n"))
        return r
    }

    // MARK: - formats

    /// 8 frames with a face then 4 without: CSV (python's csv module) with the exact header, one row per
    /// face per frame, empty rows only with --include-empty; JSONL has every frame and the CSV's values.
    func testCSVAndJSONLFormats() throws {
        let clip = dir.appendingPathComponent("in.mp4")
        try SyntheticClip.make(clip, width: 320, height: 240,
                               frames: (0..<12).map { $0 < 8 ? [Placement(center: [150 + 4 * Double($0), 120])] : [] })
        let csv = dir.appendingPathComponent("faces.csv"), jsonl = dir.appendingPathComponent("faces.jsonl")
        let r = try analyze([clip.path, "--csv", csv.path, "--jsonl", jsonl.path, "--landmarks", "--include-empty",
                             "--min-face", "64"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("facefx: \(clip.path): 12 frames, 1 face track, 8 face-frames in "), r.stderr)

        let (header, rows) = try readCSVWithPython(csv)
        XCTAssertEqual(header, Self.expectedHeader(landmarks: true))
        XCTAssertEqual(rows.count, 12)
        XCTAssertTrue(rows.allSatisfy { $0.count == header.count })
        let col = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        XCTAssertEqual(rows.map { $0[0] }, (0..<12).map(String.init))
        for (k, row) in rows.enumerated() {
            XCTAssertEqual(Double(row[1])!, Double(k) / 30, accuracy: 1e-6)
            XCTAssertNotNil(row[1].range(of: #"^\d+\.\d{6}$"#, options: .regularExpression), row[1])
            if k < 8 {
                XCTAssertEqual(row[col["face_id"]!], "1")
                XCTAssertNotNil(row[col["score"]!].range(of: #"^\d\.\d{4}$"#, options: .regularExpression))
                for name in ["x", "y", "w", "h", "yaw", "tz", "lm0_x", "lm477_z"] {
                    XCTAssertNotNil(row[col[name]!].range(of: #"^-?\d+\.\d{3}$"#, options: .regularExpression), "\(name)=\(row[col[name]!])")
                }
                XCTAssertEqual(row[col["emotion"]!], "happy")
                XCTAssertGreaterThan(Double(row[col["mouthSmileLeft"]!])!, 0.5)
                // Box: the landmark box of a 91 px face centred where the clip put it.
                XCTAssertEqual(Double(row[col["w"]!])!, Placement.faceWidth, accuracy: 6)
                XCTAssertEqual(Double(row[col["x"]!])! + Double(row[col["w"]!])! / 2, 150 + 4 * Double(k), accuracy: 4)
            } else {
                XCTAssertEqual(Array(row[2...]), Array(repeating: "", count: header.count - 2), "frame \(k)")
            }
        }

        let frames = try readJSONL(jsonl)
        XCTAssertEqual(frames.count, 12)
        for (k, f) in frames.enumerated() {
            XCTAssertEqual(f["frame"] as? Int, k)
            XCTAssertEqual(f["time_s"] as? Double ?? -1, Double(rows[k][1])!, accuracy: 1e-9)
            let fs = faces(f)
            XCTAssertEqual(fs.count, k < 8 ? 1 : 0)
            guard let face = fs.first else { continue }
            let row = rows[k]
            XCTAssertEqual(face["face_id"] as? Int, Int(row[col["face_id"]!]))
            for key in ["score", "x", "y", "w", "h", "yaw", "pitch", "roll", "tx", "ty", "tz"] {
                XCTAssertEqual(face[key] as? Double ?? .nan, Double(row[col[key]!])!, accuracy: 1e-9, key)
            }
            let bs = try XCTUnwrap(face["blendshapes"] as? [String: Double])
            XCTAssertEqual(bs.count, 52)
            for name in Self.blendshapeNames { XCTAssertEqual(bs[name] ?? .nan, Double(row[col[name]!])!, accuracy: 1e-9, name) }
            XCTAssertEqual(face["emotion"] as? String, row[col["emotion"]!])
            let emo = try XCTUnwrap(face["emotions"] as? [String: Double])
            for name in Self.emotions { XCTAssertEqual(emo[name] ?? .nan, Double(row[col["emotion_" + name]!])!, accuracy: 1e-9) }
            let lm = try XCTUnwrap(face["landmarks"] as? [[Double]])
            XCTAssertEqual(lm.count, 478)
            for i in [0, 33, 263, 477] {
                for (c, axis) in ["x", "y", "z"].enumerated() {
                    XCTAssertEqual(lm[i][c], Double(row[col["lm\(i)_\(axis)"]!])!, accuracy: 1e-9)
                }
            }
        }

        // Without --include-empty (and --landmarks): rows = faces × frames, no landmark columns.
        let csv2 = dir.appendingPathComponent("faces2.csv")
        let r2 = try analyze([clip.path, "--csv", csv2.path, "--min-face", "64", "--quiet"])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertEqual(r2.stderr, "")
        let (header2, rows2) = try readCSVWithPython(csv2)
        XCTAssertEqual(header2, Self.expectedHeader(landmarks: false))
        XCTAssertEqual(rows2.map { $0[0] }, (0..<8).map(String.init))
        // Raw bytes: RFC 4180 line ends, no temporary files left.
        let bytes = try Data(contentsOf: csv2)
        XCTAssertEqual(bytes.filter { $0 == 10 }.count, 9)
        XCTAssertEqual(bytes.filter { $0 == 13 }.count, 9)
        XCTAssertEqual(listing(dir), ["faces.csv", "faces.jsonl", "faces2.csv", "in.mp4"])
    }

    /// Blendshapes and emotion batched over frames (the default on hardware GPUs, forced here with
    /// FACEFX_FRAME_BATCH=5 on a 12-frame clip whose face leaves after frame 7): analyze's CSV and a
    /// filtered render's CSV are identical to the frame-by-frame ones.
    func testFrameBatchingChangesNothing() throws {
        let clip = dir.appendingPathComponent("in.mp4")
        try SyntheticClip.make(clip, width: 320, height: 240,
                               frames: (0..<12).map { $0 < 8 ? [Placement(center: [150 + 4 * Double($0), 120])] : [] })
        var csvs: [String: Data] = [:]
        for batch in ["1", "5"] {
            let a = dir.appendingPathComponent("a\(batch).csv"), r = dir.appendingPathComponent("r\(batch).csv")
            let ra = try CLI.facefx(["analyze", clip.path, "--csv", a.path, "--min-face", "64"], timeout: 300, env: ["FACEFX_FRAME_BATCH": batch])
            XCTAssertEqual(ra.status, 0, ra.stderr)
            let rr = try CLI.facefx([clip.path, dir.appendingPathComponent("out\(batch).mp4").path, "--filter", "lipstick",
                                     "--csv", r.path, "--min-face", "64"], timeout: 300, env: ["FACEFX_FRAME_BATCH": batch])
            XCTAssertEqual(rr.status, 0, rr.stderr)
            csvs["a" + batch] = try Data(contentsOf: a)
            csvs["r" + batch] = try Data(contentsOf: r)
        }
        XCTAssertEqual(csvs["a1"]!.filter { $0 == 0x0A }.count, 9, "header + 8 face rows")
        XCTAssertEqual(csvs["a5"], csvs["a1"], "analyze CSV")
        XCTAssertEqual(csvs["r5"], csvs["r1"], "render CSV")

        // The hardware-GPU defaults (compute passes, standard kernels, 8-frame batches, landmarks of 8 frames
        // at once from extrapolated ROIs) on llvmpipe: the same faces, boxes within a pixel of the software
        // defaults (baked kernels differ in rounding).
        let hw = dir.appendingPathComponent("hw.csv")
        let rh = try CLI.facefx(["analyze", clip.path, "--csv", hw.path, "--min-face", "64"], timeout: 300,
                                env: ["FACEFX_NN_PASSES": "compute", "FACEFX_NN_BAKE": "0", "FACEFX_FRAME_BATCH": "8",
                                      "FACEFX_CROP_PASSES": "compute", "FACEFX_TRACK_BATCH": "8"])
        XCTAssertEqual(rh.status, 0, rh.stderr)
        let (header, a) = try readCSVWithPython(dir.appendingPathComponent("a1.csv"))
        let (_, b) = try readCSVWithPython(hw)
        XCTAssertEqual(b.count, a.count)
        let col = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x[0], y[0], "frame")
            for name in ["x", "y", "w", "h"] {
                XCTAssertEqual(Double(x[col[name]!])!, Double(y[col[name]!])!, accuracy: 1.0, "frame \(x[0]) \(name)")
            }
            XCTAssertEqual(x[col["emotion"]!], y[col["emotion"]!], "frame \(x[0]) top emotion")
        }
    }

    /// Argument and path errors: exit 2, one line, nothing written; a failing input: exit 1, nothing left.
    func testUsageErrorsLeaveNothing() throws {
        let clip = dir.appendingPathComponent("in.mp4")
        try SyntheticClip.make(clip, width: 64, height: 64, frames: [[]])
        let out = dir.appendingPathComponent("out.csv")

        var r = try analyze([clip.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--csv") && r.stderr.contains("--jsonl"), r.stderr)
        r = try analyze([clip.path, "--csv", out.path, "--smooth", "later"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "facefx: error: --smooth: expected offline, online or off, got 'later'\n")
        r = try analyze([dir.appendingPathComponent("missing.mp4").path, "--csv", out.path])
        XCTAssertEqual(r.status, 2)
        r = try analyze([clip.path, "--csv", clip.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("output is the input"), r.stderr)
        r = try analyze([clip.path, "--csv", out.path, "--jsonl", out.path])
        XCTAssertEqual(r.status, 2)
        r = try analyze([clip.path, "--csv", dir.appendingPathComponent("no/such/dir.csv").path])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(listing(dir), ["in.mp4"])

        // Existing target: refused without --overwrite (and left as it was), replaced with it.
        try Data("keep\n".utf8).write(to: out)
        r = try analyze([clip.path, "--csv", out.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "facefx: error: \(out.path): already exists (use --overwrite to replace it)\n")
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), "keep\n")
        r = try analyze([clip.path, "--csv", out.path, "--overwrite", "--include-empty"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try readCSVWithPython(out).rows.count, 1)

        // Not a media file: processing error, no output, no temporary file.
        let notMedia = dir.appendingPathComponent("notes.mp4")
        try Data("not a video".utf8).write(to: notMedia)
        let out2 = dir.appendingPathComponent("out2.jsonl")
        r = try analyze([notMedia.path, "--jsonl", out2.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.filter { $0 == "\n" }.count, 1, r.stderr)
        XCTAssertEqual(listing(dir), ["in.mp4", "notes.mp4", "out.csv"])
    }

    /// SIGINT while analysing: the targets never appear and the temporary files are removed.
    func testInterruptLeavesNothing() throws {
        let clip = dir.appendingPathComponent("in.mp4")
        try SyntheticClip.make(clip, width: 320, height: 240, frames: Array(repeating: [Placement(center: [160, 120])], count: 60))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.facefxPath)
        p.arguments = ["analyze", clip.path, "--csv", dir.appendingPathComponent("o.csv").path,
                       "--jsonl", dir.appendingPathComponent("o.jsonl").path, "--quiet", "--min-face", "64"]
        try p.run()
        // Wait until the temporary files exist (models loaded, writer open), then interrupt.
        let deadline = Date().addingTimeInterval(60)
        while listing(dir).count < 3 && Date() < deadline && p.isRunning { usleep(20_000) }
        XCTAssertTrue(p.isRunning, "finished before it could be interrupted")
        XCTAssertEqual(listing(dir).filter { $0.hasSuffix(".tmp") }.count, 2, "\(listing(dir))")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0)
        XCTAssertEqual(listing(dir), ["in.mp4"])
    }

    // MARK: - tracking quality

    /// One second (30 frames) of a head sweeping −45° → +45° in roll while it moves 120 px across, bobs
    /// ±20 px and grows 0.9 → 1.3× (peaks: 4.9°, 7 px and 1.5 % size per frame). Every frame's landmarks
    /// must equal frame 0's landmarks carried by the known transform (T_k ∘ T_0⁻¹): mean error ≤ 2 % of
    /// the inter-ocular distance on each frame.
    /// Landmarks are in pixel-index coordinates (centre of the top-left pixel = (0, 0)); the transforms
    /// are in continuous coordinates (pixel i covers [i, i+1)), hence the ±0.5.
    func testLandmarksFollowKnownMotion() throws {
        let n = 30
        let placements = (0..<n).map { k -> Placement in
            let u = sin(.pi * (Double(k) / Double(n - 1) - 0.5))   // −1 … 1, eased
            return Placement(center: [240 + 60 * u, 180 + 20 * sin(2 * .pi * Double(k) / Double(n - 1))],
                             scale: 1.1 + 0.2 * u, angle: 45 * .pi / 180 * u)
        }
        let clip = dir.appendingPathComponent("motion.mp4"), out = dir.appendingPathComponent("motion.jsonl")
        try SyntheticClip.make(clip, width: 480, height: 360, frames: placements.map { [$0] })
        var means: [Double] = []
        // Default, then --no-refine (one landmark pass per frame, like MediaPipe) for comparison.
        for extra in [[], ["--no-refine"]] {
            let r = try analyze([clip.path, "--jsonl", out.path, "--landmarks", "--min-face", "80", "--overwrite"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            let frames = try readJSONL(out)
            XCTAssertEqual(frames.count, n)
            XCTAssertTrue(frames.allSatisfy { faces($0).count == 1 }, "a face on every frame")
            guard frames.allSatisfy({ faces($0).count == 1 }) else { return }
            let half = SIMD2<Double>(0.5, 0.5)
            let lm0 = landmarks2D(faces(frames[0])[0])
            var errors: [Double] = []
            for k in 1..<n {
                let lm = landmarks2D(faces(frames[k])[0])
                let expected = lm0.map { placements[k].map(placements[0].unmap($0 + half)) - half }
                let err = mean(zip(lm, expected).map { distance($0, $1) }) / interOcular(expected)
                errors.append(err)
                if extra.isEmpty {
                    XCTAssertLessThanOrEqual(err, 0.02, "frame \(k): roll \(Int(placements[k].angle * 180 / .pi))°")
                }
            }
            means.append(mean(errors))
            print(String(format: "known motion %@: landmark error vs transform, mean %.2f %% IOD, worst frame %.2f %% IOD (IOD ≈ %.0f–%.0f px)",
                         extra.first ?? "(default)", 100 * mean(errors), 100 * errors.max()!, 60 * 0.9, 60 * 1.3))
        }
        XCTAssertLessThan(means[0], means[1], "the refining pass must help on a moving face")
    }

    /// Face growing from 64 to 200 px wide over 40 frames, default --min-face: a face on ≥ 99 % of frames
    /// (here: all 40), one track, boxes the right size.
    func testRecallOfGrowingFace() throws {
        let n = 40
        let sizes = (0..<n).map { 64 + (200 - 64) * Double($0) / Double(n - 1) }
        let clip = dir.appendingPathComponent("grow.mp4"), out = dir.appendingPathComponent("grow.csv")
        try SyntheticClip.make(clip, width: 480, height: 360,
                               frames: sizes.map { [Placement(center: [240, 180], scale: $0 / Placement.faceWidth)] })
        let r = try analyze([clip.path, "--csv", out.path, "--include-empty"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (header, rows) = try readCSVWithPython(out)
        let col = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        XCTAssertEqual(rows.count, n)
        let found = rows.filter { !$0[col["face_id"]!].isEmpty }
        let recall = Double(found.count) / Double(n)
        print(String(format: "recall (face 64→200 px, 480×360): %d/%d frames = %.1f %%", found.count, n, 100 * recall))
        XCTAssertGreaterThanOrEqual(recall, 0.99)
        XCTAssertEqual(Set(found.map { $0[col["face_id"]!] }), ["1"])
        for row in found {
            let k = Int(row[0])!
            XCTAssertEqual(Double(row[col["w"]!])!, sizes[k], accuracy: 0.08 * sizes[k], "frame \(k)")
        }
    }

    func testNoFacesOnFaceFreeClip() throws {
        let clip = dir.appendingPathComponent("noface.mp4"), out = dir.appendingPathComponent("noface.jsonl")
        let csv = dir.appendingPathComponent("noface.csv")
        let png = CLI.packageRoot.appendingPathComponent("Tests/Fixtures/noface.png").path
        try CLI.ffmpeg(["-loop", "1", "-i", png, "-vf", "crop=320:240:x='4*n':y='3*n'", "-frames:v", "10", "-r", "30",
                        "-c:v", "libx264", "-crf", "14", "-pix_fmt", "yuv420p", clip.path])
        let r = try analyze([clip.path, "--jsonl", out.path, "--csv", csv.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains(": 10 frames, 0 face tracks, 0 face-frames in "), r.stderr)
        let frames = try readJSONL(out)
        XCTAssertEqual(frames.count, 10)
        XCTAssertTrue(frames.allSatisfy { faces($0).isEmpty })
        let (header, rows) = try readCSVWithPython(csv)
        XCTAssertEqual(header, Self.expectedHeader(landmarks: false))
        XCTAssertEqual(rows.count, 0)
    }

    /// Two astronauts; the right one slides out of the picture (14 px/frame) and back after ~0.3 s fully
    /// outside (inside the 2 s re-identification window): two ids in all, each kept, the returning face
    /// gets its old id.
    func testTwoFaceIDsAndReentry() throws {
        let n = 38
        // Right face centre x: still, slides out (face box 519…601 → 659…741), out, slides back, still.
        func rightX(_ k: Int) -> Double {
            switch k {
            case ..<6: return 560
            case 6..<16: return 560 + 14 * Double(k - 5)
            case 16..<22: return 700
            case 22..<32: return 700 - 14 * Double(k - 21)
            default: return 560
            }
        }
        let frames = (0..<n).map { k -> [Placement] in
            [Placement(center: [170 + 15 * sin(Double(k) / 5), 180 + 10 * cos(Double(k) / 7)], scale: 0.95, angle: 0.1 * sin(Double(k) / 6)),
             Placement(center: [rightX(k), 170], scale: 0.9)]
        }
        let clip = dir.appendingPathComponent("two.mp4"), out = dir.appendingPathComponent("two.csv")
        try SyntheticClip.make(clip, width: 640, height: 360, frames: frames)
        let r = try analyze([clip.path, "--csv", out.path, "--min-face", "64"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (header, rows) = try readCSVWithPython(out)
        let col = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        var left: [Int: String] = [:], right: [Int: String] = [:]
        for row in rows {
            let cx = Double(row[col["x"]!])! + Double(row[col["w"]!])! / 2
            if cx < 320 { left[Int(row[0])!] = row[col["face_id"]!] } else { right[Int(row[0])!] = row[col["face_id"]!] }
        }
        XCTAssertEqual(left.count, n, "left face on every frame")
        XCTAssertEqual(Set(left.values).count, 1, "left id stable: \(left)")
        let halfWidth = 0.9 * Placement.faceWidth / 2
        let visible = (0..<n).filter { rightX($0) + halfWidth < 640 }   // whole face inside
        let gone = (0..<n).filter { rightX($0) - halfWidth > 640 }      // whole face outside
        XCTAssertGreaterThanOrEqual(gone.count, 8)
        for k in visible { XCTAssertNotNil(right[k], "right face missing on frame \(k)") }
        for k in gone { XCTAssertNil(right[k], "right face reported while outside, frame \(k)") }
        XCTAssertEqual(Set(right.values).count, 1, "right face keeps its id across the exit: \(right.sorted { $0.key < $1.key })")
        XCTAssertEqual(Set(left.values).intersection(right.values), [])
        XCTAssertEqual(Set(rows.map { $0[col["face_id"]!] }).count, 2)
        print("two faces: left id \(Set(left.values)), right id \(Set(right.values)) on frames \(right.keys.sorted())")
    }

    /// Still face + sensor-like noise (ffmpeg noise=alls=8:allf=t), 30 frames: frame-to-frame landmark
    /// motion and blendshape change, raw vs offline (and online) smoothing.
    func testJitterOnStillFace() throws {
        let clip = dir.appendingPathComponent("still.mp4")
        try SyntheticClip.make(clip, width: 320, height: 240, frames: Array(repeating: [Placement(center: [160, 120])], count: 30),
                               filter: "noise=alls=8:allf=t")
        var results: [String: (lm: Double, bs: Double)] = [:]
        for mode in ["off", "online", "offline"] {
            let out = dir.appendingPathComponent("\(mode).jsonl")
            let r = try analyze([clip.path, "--jsonl", out.path, "--landmarks", "--min-face", "64", "--smooth", mode])
            XCTAssertEqual(r.status, 0, r.stderr)
            let frames = try readJSONL(out)
            XCTAssertEqual(frames.count, 30)
            let fs = frames.compactMap { faces($0).first }
            XCTAssertEqual(fs.count, 30)
            guard fs.count == 30 else { return }
            var lmMotion: [Double] = [], bsChange: [Double] = []
            for k in 1..<fs.count {
                let a = landmarks2D(fs[k - 1]), b = landmarks2D(fs[k])
                lmMotion.append(mean(zip(a, b).map { distance($0, $1) }) / interOcular(b))
                let ba = fs[k - 1]["blendshapes"] as! [String: Double], bb = fs[k]["blendshapes"] as! [String: Double]
                bsChange.append(mean(Self.blendshapeNames.map { abs(ba[$0]! - bb[$0]!) }))
            }
            results[mode] = (mean(lmMotion), mean(bsChange))
        }
        for mode in ["off", "online", "offline"] {
            print(String(format: "jitter --smooth %@: landmark motion %.3f %% IOD/frame, blendshape change %.4f/frame",
                         mode, 100 * results[mode]!.lm, results[mode]!.bs))
        }
        XCTAssertLessThanOrEqual(results["offline"]!.lm, 0.003)
        XCTAssertLessThanOrEqual(results["offline"]!.bs, 0.005)
        XCTAssertLessThan(results["offline"]!.lm, results["off"]!.lm)
    }
}
