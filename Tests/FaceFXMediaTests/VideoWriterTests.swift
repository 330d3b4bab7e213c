import Foundation
import XCTest
@testable import FaceFXMedia

final class VideoWriterTests: XCTestCase {
    func testRoundTripMP4KeepsFramesTimestampsAudioAndQuality() throws {
        let input = try Fixtures.basicMP4()
        let output = Fixtures.tempPath("roundtrip.mp4")
        let writer = try transcode(input, to: output, options: EncodeOptions(codec: .h264, crf: 18, preset: "medium"))
        XCTAssertEqual(writer.audioDescription, "copy aac")
        let a = try decodeAll(input, keepLuma: true)
        let b = try decodeAll(output, keepLuma: true)
        XCTAssertEqual(b.pts.count, a.pts.count)
        XCTAssertEqual(b.pts, a.pts)
        let frame = 1.0 / 30
        XCTAssertEqual(b.info.durationSeconds ?? 0, a.info.durationSeconds ?? 0, accuracy: frame)
        XCTAssertEqual(b.info.timeBase, a.info.timeBase)
        XCTAssertEqual(b.info.averageFrameRate.doubleValue, 30, accuracy: 0.05)
        XCTAssertTrue(b.info.hasAudio)
        // Audio copied bit for bit.
        let ha = try audioPacketHashes(input), hb = try audioPacketHashes(output)
        XCTAssertGreaterThan(ha.count, 50)
        XCTAssertEqual(ha, hb)
        // Identity quality.
        var worst = 99.0
        for (x, y) in zip(a.luma, b.luma) { worst = min(worst, psnr(x, y)) }
        XCTAssertGreaterThanOrEqual(worst, 40, "luma PSNR of the worst frame")
        XCTAssertEqual(Fixtures.leftovers(in: Fixtures.dir), [])
        // faststart: moov before mdat.
        let head = try Data(contentsOf: URL(fileURLWithPath: output)).prefix(4096)
        let moov = head.range(of: Data("moov".utf8)), mdat = head.range(of: Data("mdat".utf8))
        XCTAssertNotNil(moov)
        if let moov, let mdat { XCTAssertLessThan(moov.lowerBound, mdat.lowerBound) }
    }

    func testOddSize() throws {
        // testsrc (RGB) keeps odd sizes where YUV sources get rounded to even; FFV1 stores 4:2:0 at 1279×719.
        let input = try Fixtures.fixture("odd.mkv") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc=size=1279x719:rate=25:duration=0.12",
                                 "-pix_fmt", "yuv420p", "-c:v", "ffv1", p])
        }
        XCTAssertEqual(try VideoReader.probe(path: input).width, 1279)
        // VP9 codes odd sizes as they are.
        let webm = Fixtures.tempPath("odd.webm")
        try transcode(input, to: webm, options: EncodeOptions(codec: .vp9, crf: 30, preset: "ultrafast"))
        let info = try VideoReader.probe(path: webm)
        XCTAssertEqual(info.width, 1279)
        XCTAssertEqual(info.height, 719)
        let a = try decodeAll(input, keepLuma: true), b = try decodeAll(webm, keepLuma: true)
        XCTAssertEqual(a.pts, b.pts)
        XCTAssertGreaterThan(psnr(a.luma[0], b.luma[0]), 30)
        // H.264 4:2:0 cannot: the last column and row are cropped, with a warning.
        let mp4 = Fixtures.tempPath("odd.mp4")
        var warnings: [String] = []
        let w = try transcode(input, to: mp4, options: EncodeOptions(preset: "ultrafast"), warnings: &warnings)
        XCTAssertEqual(w.encodedWidth, 1278)
        XCTAssertEqual(w.encodedHeight, 718)
        XCTAssertTrue(warnings.contains { $0.contains("odd size") }, "\(warnings)")
        let c = try decodeAll(mp4, keepLuma: true)
        XCTAssertEqual(c.info.width, 1278)
        XCTAssertEqual(c.pts.count, a.pts.count)
    }

    func testTenBitInputToEightBitOutput() throws {
        let output = Fixtures.tempPath("tenbit.mp4")
        try transcode(try tenBitMKV(), to: output, options: EncodeOptions(preset: "ultrafast"))
        let d = try decodeAll(output)
        XCTAssertEqual(d.info.bitDepth, 8)
        XCTAssertEqual(d.pts.count, 10)
    }

    func testRotationKept() throws {
        let output = Fixtures.tempPath("rotated.mp4")
        try transcode(try rotatedMP4(), to: output, options: EncodeOptions(preset: "ultrafast"))
        let a = try VideoReader.probe(path: try rotatedMP4()), b = try VideoReader.probe(path: output)
        XCTAssertNotEqual(b.rotationDegrees, 0)
        XCTAssertEqual(a.rotationDegrees, b.rotationDegrees)
        XCTAssertEqual(a.displayMatrix, b.displayMatrix)
    }

    func testVariableFrameRateKeepsPts() throws {
        let input = try Fixtures.fixture("vfr.mp4") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-frames:v", "20",
                                 "-vf", "setpts=N*N*0.004/TB", "-fps_mode", "passthrough", "-video_track_timescale", "1000",
                                 "-c:v", "libx264", "-preset", "ultrafast", p])
        }
        let output = Fixtures.tempPath("vfr.mp4")
        try transcode(input, to: output, options: EncodeOptions(preset: "ultrafast"))
        let a = try decodeAll(input), b = try decodeAll(output)
        let steps = Set(zip(a.pts.dropFirst(), a.pts).map { $0 - $1 })
        XCTAssertGreaterThan(steps.count, 3, "input really is VFR: \(a.pts)")
        XCTAssertEqual(a.pts, b.pts)
    }

    func testNoAudioSARAndFullRangeKept() throws {
        let input = try Fixtures.fixture("sar-full.mp4") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=240x180:rate=25:duration=0.4",
                                 "-vf", "setsar=4/3,scale=out_range=full,format=yuvj420p", "-color_range", "pc",
                                 "-c:v", "libx264", "-preset", "ultrafast", p])
        }
        let inInfo = try VideoReader.probe(path: input)
        XCTAssertFalse(inInfo.hasAudio)
        XCTAssertTrue(inInfo.color.fullRange)
        XCTAssertEqual(inInfo.sampleAspectRatio, Rational(4, 3))
        let output = Fixtures.tempPath("sar-full.mp4")
        let w = try transcode(input, to: output, options: EncodeOptions(preset: "ultrafast"))
        XCTAssertEqual(w.audioDescription, "none")
        let info = try VideoReader.probe(path: output)
        XCTAssertFalse(info.hasAudio)
        XCTAssertEqual(info.sampleAspectRatio, Rational(4, 3))
        XCTAssertTrue(info.color.fullRange)
        XCTAssertEqual(try streamField(output, stream: "v:0", "color_range,sample_aspect_ratio"), "4:3,pc")
        // Full-range values survive (no squeeze to 16..235).
        let a = try decodeAll(input, keepLuma: true), b = try decodeAll(output, keepLuma: true)
        XCTAssertGreaterThan(psnr(a.luma[0], b.luma[0]), 35)
    }

    func testPCMInMovBecomesAACInMP4() throws {
        let input = try Fixtures.fixture("pcm.mov") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1",
                                 "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:duration=1",
                                 "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s16le", p])
        }
        let output = Fixtures.tempPath("pcm.mp4")
        let w = try transcode(input, to: output, options: EncodeOptions(preset: "ultrafast"))
        XCTAssertEqual(w.audioDescription, "transcode pcm_s16le → aac")
        XCTAssertEqual(try streamField(output, stream: "a:0", "codec_name,sample_rate"), "aac,48000")
        let dur = Double(try streamField(output, stream: "a:0", "duration")) ?? 0
        XCTAssertEqual(dur, 1.0, accuracy: 0.05)
    }

    func testSurroundAudioIsTranscodedWithItsChannels() throws {
        let input = try Fixtures.fixture("surround.mkv") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25:duration=0.6",
                                 "-f", "lavfi", "-i", "sine=duration=0.6:sample_rate=44100",
                                 "-filter_complex", "[1:a]pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0[a]",
                                 "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "flac", p])
        }
        let mp4 = Fixtures.tempPath("surround.mp4")
        XCTAssertEqual(try transcode(input, to: mp4, options: EncodeOptions(preset: "ultrafast")).audioDescription, "transcode flac → aac")
        XCTAssertEqual(try streamField(mp4, stream: "a:0", "codec_name,channels"), "aac,6")
        let webm = Fixtures.tempPath("surround.webm")
        var warnings: [String] = []
        try transcode(input, to: webm, options: EncodeOptions(codec: .vp9, crf: 40, preset: "ultrafast"), warnings: &warnings)
        let ch = try streamField(webm, stream: "a:0", "codec_name,channels")
        XCTAssertTrue(ch == "opus,6" || ch == "opus,2" || ch == "vorbis,6", ch)
        XCTAssertEqual(Double(try streamField(webm, stream: "a:0", "duration")) ?? 0.6, 0.6, accuracy: 0.1)
    }

    func testMKVAndWebMOutputs() throws {
        let input = try Fixtures.fixture("short.mp4") { p in
            try Fixtures.ffmpeg(["-i", try Fixtures.basicMP4(), "-t", "0.5", "-c:v", "libx264", "-preset", "ultrafast",
                                 "-c:a", "copy", p])
        }
        let mkv = Fixtures.tempPath("out.mkv")
        let w1 = try transcode(input, to: mkv, options: EncodeOptions(preset: "ultrafast"))
        XCTAssertEqual(w1.audioDescription, "copy aac")
        XCTAssertEqual(try streamField(mkv, stream: "v:0", "codec_name"), "h264")
        XCTAssertEqual(try decodeAll(mkv).pts.count, try decodeAll(input).pts.count)

        let webm = Fixtures.tempPath("out.webm")
        let w2 = try transcode(input, to: webm, options: EncodeOptions(codec: .vp9, crf: 32, preset: "ultrafast"))
        XCTAssertTrue(w2.audioDescription.hasPrefix("transcode aac → lib"), w2.audioDescription)
        XCTAssertEqual(try streamField(webm, stream: "v:0", "codec_name"), "vp9")
        let audio = try streamField(webm, stream: "a:0", "codec_name")
        XCTAssertTrue(audio == "opus" || audio == "vorbis", audio)
        XCTAssertEqual(try decodeAll(webm).pts.count, try decodeAll(input).pts.count)
    }

    func testTempFileUntilFinishAndCancelLeavesNothing() throws {
        let input = try Fixtures.basicMP4()
        let folder = Fixtures.dir + "/rename-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let target = folder + "/out.mp4"
        let reader = try VideoReader(path: input)
        let writer = try VideoWriter(path: target, input: reader.info, inputPath: input, options: EncodeOptions(preset: "ultrafast"))
        for _ in 0..<5 {
            let f = try XCTUnwrap(try reader.nextFrame())
            let buf = writer.makeFrameBuffer(); fill(buf, from: f); try writer.write(buf, pts: f.pts)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
        XCTAssertTrue(FileManager.default.fileExists(atPath: writer.temporaryPath))
        XCTAssertTrue((writer.temporaryPath as NSString).lastPathComponent.hasPrefix(".out.mp4.facefx-"))
        try writer.finish()
        XCTAssertTrue(FileManager.default.fileExists(atPath: target))
        XCTAssertEqual(Fixtures.leftovers(in: folder), [])

        let target2 = folder + "/cancelled.mp4"
        let reader2 = try VideoReader(path: input)
        let w2 = try VideoWriter(path: target2, input: reader2.info, inputPath: input, options: EncodeOptions(preset: "ultrafast"))
        let f = try XCTUnwrap(try reader2.nextFrame())
        let buf = w2.makeFrameBuffer(); fill(buf, from: f); try w2.write(buf, pts: f.pts)
        w2.cancel()
        XCTAssertFalse(FileManager.default.fileExists(atPath: target2))
        XCTAssertEqual(Fixtures.leftovers(in: folder), [])

        // Dropped without finish(): same as cancel.
        do {
            let w3 = try VideoWriter(path: folder + "/dropped.mp4", input: reader2.info, inputPath: input,
                                     options: EncodeOptions(preset: "ultrafast"))
            _ = w3
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["out.mp4"])
    }

    func testI420BufferLayoutAndPoolReuse() throws {
        let b = I420Buffer(width: 1279, height: 719)
        XCTAssertEqual(b.yStride, 1280)
        XCTAssertEqual(b.uvStride, 640)
        XCTAssertEqual(b.uOffset, 1280 * 719)
        XCTAssertEqual(b.vOffset, 1280 * 719 + 640 * 360)
        XCTAssertEqual(b.byteCount % b.yStride, 0)
        XCTAssertGreaterThanOrEqual(b.byteCount, b.vOffset + 640 * 360)
        XCTAssertLessThan(b.byteCount - (b.vOffset + 640 * 360), b.yStride)
        XCTAssertEqual(Int(bitPattern: b.data) % 64, 0)

        let input = try Fixtures.basicMP4()
        let info = try VideoReader.probe(path: input)
        let out = Fixtures.tempPath("pool.mkv")
        let w = try VideoWriter(path: out, input: info, inputPath: input, options: EncodeOptions(preset: "ultrafast"))
        var seen = Set<UnsafeMutableRawPointer>()
        for i in 0..<40 {
            let buf = w.makeFrameBuffer()
            seen.insert(buf.data)
            try w.write(buf, pts: Int64(i) * 512)
        }
        try w.finish()
        XCTAssertLessThan(seen.count, 40, "buffers come back from the encoder and are reused")
    }
}

final class MediaExtraTests: XCTestCase {
    func testMP3InMKVIsCopiedIntoMP4AndH265Works() throws {
        let input = try Fixtures.fixture("mp3.mkv") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25:duration=0.4",
                                 "-f", "lavfi", "-i", "sine=duration=0.4:sample_rate=44100",
                                 "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libmp3lame", p])
        }
        let out = Fixtures.tempPath("hevc.mp4")
        let w = try transcode(input, to: out, options: EncodeOptions(codec: .h265, crf: 28, preset: "ultrafast"))
        XCTAssertEqual(w.audioDescription, "copy mp3")
        XCTAssertEqual(try audioPacketHashes(input), try audioPacketHashes(out))
        XCTAssertEqual(try streamField(out, stream: "v:0", "codec_name,codec_tag_string"), "hevc,hvc1")
        XCTAssertEqual(try decodeAll(out).pts, try decodeAll(input).pts)
    }

    func testAVIOutputAndRawStreamRejected() throws {
        let input = try Fixtures.fixture("short.mp4") { p in
            try Fixtures.ffmpeg(["-i", try Fixtures.basicMP4(), "-t", "0.5", "-c:v", "libx264", "-preset", "ultrafast",
                                 "-c:a", "copy", p])
        }
        let avi = Fixtures.tempPath("out.avi")
        try transcode(input, to: avi, options: EncodeOptions(preset: "ultrafast"))
        let a = try decodeAll(input), b = try decodeAll(avi)
        XCTAssertEqual(b.pts.count, a.pts.count)
        XCTAssertEqual(b.info.averageFrameRate.doubleValue, 30, accuracy: 0.01)
        XCTAssertTrue(b.info.hasAudio)
        let raw = Fixtures.dir + "/out.h264"
        XCTAssertThrowsError(try VideoWriter(path: raw, input: a.info, inputPath: input)) { e in
            guard case MediaError.unsupportedContainer = e else { return XCTFail("\(e)") }
        }
    }

    func testSampleClipIsUsable() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sample = repo.appendingPathComponent("samples/face.mp4").path
        guard FileManager.default.fileExists(atPath: sample) else { throw MissingTestInput("samples/face.mp4 not present") }
        let info = try VideoReader.probe(path: sample)
        XCTAssertEqual(info.width, 1280)
        XCTAssertEqual(info.height, 720)
        XCTAssertEqual(info.estimatedFrameCount, 120)
        XCTAssertEqual(info.color.matrix, .bt709)
        XCTAssertEqual(info.audioCodecName, "aac")
    }
}

/// Opt-in throughput check on the sample clip: FACEFX_MEDIA_BENCH=1 swift test --filter MediaBench
final class MediaBench: XCTestCase {
    func testSampleClipThroughput() throws {
        guard ProcessInfo.processInfo.environment["FACEFX_MEDIA_BENCH"] == "1" else { throw XCTSkip("set FACEFX_MEDIA_BENCH=1") }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sample = repo.appendingPathComponent("samples/face.mp4").path
        var t0 = Date()
        let d = try decodeAll(sample)
        let decodeS = Date().timeIntervalSince(t0)
        for preset in ["veryfast", "medium"] {
            t0 = Date()
            try transcode(sample, to: Fixtures.tempPath("bench-\(preset).mp4"), options: EncodeOptions(preset: preset))
            let all = Date().timeIntervalSince(t0)
            print(String(format: "BENCH decode %d frames: %.2f s (%.0f fps); decode+cpu copy+encode %@: %.2f s (%.1f fps)",
                         d.pts.count, decodeS, Double(d.pts.count) / decodeS, preset, all, Double(d.pts.count) / all))
        }
    }
}
