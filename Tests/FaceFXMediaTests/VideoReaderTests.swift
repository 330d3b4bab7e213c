import Foundation
import XCTest
@testable import FaceFXMedia

final class VideoReaderTests: XCTestCase {
    func testProbeBasicClip() throws {
        let path = try Fixtures.basicMP4()
        let info = try VideoReader.probe(path: path)
        XCTAssertEqual(info.width, 320)
        XCTAssertEqual(info.height, 240)
        XCTAssertEqual(info.averageFrameRate.doubleValue, 30, accuracy: 0.01)
        XCTAssertEqual(info.estimatedFrameCount, 60)
        XCTAssertEqual(info.durationSeconds ?? 0, 2, accuracy: 0.05)
        XCTAssertEqual(info.codecName, "h264")
        XCTAssertEqual(info.bitDepth, 8)
        XCTAssertTrue(info.hasAudio)
        XCTAssertEqual(info.audioCodecName, "aac")
        XCTAssertEqual(info.rotationDegrees, 0)
        XCTAssertEqual(info.color.matrix, .bt601)           // unspecified, < 720 lines
        XCTAssertFalse(info.color.fullRange)
    }

    func testDecodesAllFramesWithIncreasingPts() throws {
        let d = try decodeAll(try Fixtures.basicMP4())
        XCTAssertEqual(d.pts.count, 60)
        XCTAssertEqual(d.pts, d.pts.sorted())
        XCTAssertEqual(Set(d.pts).count, d.pts.count)
        XCTAssertEqual(d.corrupt, 0)
    }

    func testFrameLayoutAndRGBA() throws {
        let reader = try VideoReader(path: try Fixtures.basicMP4())
        let f = try XCTUnwrap(try reader.nextFrame())
        XCTAssertEqual(f.planes.count, 3)
        XCTAssertEqual(f.chromaShiftX, 1); XCTAssertEqual(f.chromaShiftY, 1)
        XCTAssertEqual(f.planes[1].width, 160); XCTAssertEqual(f.planes[1].height, 120)
        XCTAssertGreaterThanOrEqual(f.planes[0].stride, 320)
        let rgba = f.rgbaPixels()
        XCTAssertEqual(rgba.count, 320 * 240 * 4)
        XCTAssertTrue(rgba.contains { $0 > 200 } && rgba.contains { $0 < 50 }, "testsrc2 has bright and dark areas")
    }

    func testPNGStillBecomesFullRange444() throws {
        let png = try Fixtures.fixture("still.png") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "color=c=red:size=33x17", "-frames:v", "1", p])
        }
        let reader = try VideoReader(path: png)
        XCTAssertTrue(reader.info.color.fullRange)
        XCTAssertEqual(reader.info.color.matrix, .bt709)
        let f = try XCTUnwrap(try reader.nextFrame())
        XCTAssertNil(try reader.nextFrame())
        XCTAssertEqual(f.pixelFormatName, "yuv444p")
        XCTAssertEqual(f.chromaShiftX, 0)
        let rgba = f.rgbaPixels()
        XCTAssertEqual(Int(rgba[0]), 255, accuracy: 3)
        XCTAssertEqual(Int(rgba[1]), 0, accuracy: 3)
        XCTAssertEqual(Int(rgba[2]), 0, accuracy: 3)
    }

    func testJPEGStillPassesThroughAsFullRange() throws {
        let jpg = try Fixtures.fixture("still.jpg") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1", p])
        }
        let reader = try VideoReader(path: jpg)
        let f = try XCTUnwrap(try reader.nextFrame())
        XCTAssertTrue(f.pixelFormatName.hasPrefix("yuvj"), f.pixelFormatName)
        XCTAssertTrue(f.color.fullRange)
        XCTAssertTrue(reader.info.color.fullRange)
        XCTAssertNil(try reader.nextFrame())
    }

    func testInterruptGuardStopsABlockingOpen() throws {
        // A zero budget makes FFmpeg's I/O layer abort at its first check, as it would on a stuck file.
        XCTAssertThrowsError(try InputFile(path: try Fixtures.basicMP4(), budget: 0)) { e in
            guard case MediaError.corrupt(_, let reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("too long"), reason)
        }
    }

    func testNV12SourceIsConvertedTo420p() throws {
        let mkv = try Fixtures.fixture("nv12.mkv") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=0.5",
                                 "-pix_fmt", "nv12", "-c:v", "rawvideo", p])
        }
        let reader = try VideoReader(path: mkv)
        let f = try XCTUnwrap(try reader.nextFrame())
        XCTAssertEqual(f.pixelFormatName, "yuv420p")
        XCTAssertEqual(reader.info.sourcePixelFormat, "nv12")
    }

    func testElementaryStreamWithoutTimestampsGetsIncreasingPts() throws {
        let raw = try Fixtures.fixture("raw.h264") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=0.8",
                                 "-c:v", "libx264", "-preset", "ultrafast", "-bsf:v", "h264_mp4toannexb", "-f", "h264", p])
        }
        let d = try decodeAll(raw)
        XCTAssertEqual(d.pts.count, 20)
        XCTAssertTrue(zip(d.pts.dropFirst(), d.pts).allSatisfy { $0 > $1 }, "\(d.pts)")
    }

    func testTenBitPassThrough() throws {
        let mkv = try tenBitMKV()
        let reader = try VideoReader(path: mkv)
        XCTAssertEqual(reader.info.bitDepth, 10)
        let f = try XCTUnwrap(try reader.nextFrame())
        XCTAssertEqual(f.bitDepth, 10)
        XCTAssertEqual(f.pixelFormatName, "yuv420p10le")
        let maxSample = (0..<f.planes[0].width).map { f.planes[0].base.load(fromByteOffset: 2 * $0, as: UInt16.self) }.max()!
        XCTAssertGreaterThan(maxSample, 255, "10-bit samples, not 8-bit")
        XCTAssertLessThan(maxSample, 1024)
    }

    func testRotationIsRead() throws {
        let info = try VideoReader.probe(path: try rotatedMP4())
        // FFmpeg 5.1 turns `rotate=90` into a matrix that its own autorotate shows 90° counter-clockwise (checked against
        // transpose=cclock), i.e. 270° clockwise.
        XCTAssertEqual(info.rotationDegrees, 270)
        XCTAssertNotNil(info.displayMatrix)
    }

    func testTruncatedFaststartFileEndsEarlyWithWarning() throws {
        // moov first, so the header survives and the tail is missing.
        let full = try Fixtures.fixture("faststart.mp4") { p in
            try Fixtures.ffmpeg(["-i", try Fixtures.basicMP4(), "-c", "copy", "-movflags", "+faststart", p])
        }
        let cut = Fixtures.dir + "/faststart-cut.mp4"
        let data = try Data(contentsOf: URL(fileURLWithPath: full))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        let d = try decodeAll(cut)
        XCTAssertGreaterThan(d.pts.count, 5)
        XCTAssertLessThan(d.pts.count, 60)
        XCTAssertTrue(d.warnings.contains { $0.contains("ends early") }, "\(d.warnings)")
    }

    func testCorruptPacketsAreSkippedAndCounted() throws {
        // PNG frames in Matroska: scrambling inside two frames keeps the container intact but makes
        // those packets undecodable (zlib errors), which the reader must skip, count and report once.
        let mkv = try Fixtures.fixture("png.mkv") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-c:v", "png", p])
        }
        var data = try Data(contentsOf: URL(fileURLWithPath: mkv))
        var starts: [Int] = []
        var from = data.startIndex
        let signature = Data([0x89, 0x50, 0x4E, 0x47])
        while let r = data.range(of: signature, in: from..<data.endIndex) { starts.append(r.lowerBound); from = r.upperBound }
        XCTAssertEqual(starts.count, 10)
        for k in [3, 6] {
            // Past the IHDR chunk, into IDAT's compressed data.
            for i in (starts[k] + 60)..<(starts[k] + 200) { data[i] = UInt8(truncatingIfNeeded: i &* 37) }
        }
        let bad = Fixtures.dir + "/damaged.mkv"
        try data.write(to: URL(fileURLWithPath: bad))
        let d = try decodeAll(bad)
        XCTAssertEqual(d.corrupt, 2)
        XCTAssertEqual(d.pts.count, 8)
        XCTAssertEqual(d.warnings.count, 1, "reported once: \(d.warnings)")
        XCTAssertTrue(d.warnings.first?.hasPrefix(bad + ": ") ?? false)
    }
}

func tenBitMKV() throws -> String {
    try Fixtures.fixture("tenbit.mkv") { p in
        try Fixtures.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=0.4",
                             "-pix_fmt", "yuv420p10le", "-c:v", "ffv1", p])
    }
}

func rotatedMP4() throws -> String {
    try Fixtures.fixture("rotated.mp4") { p in
        try Fixtures.ffmpeg(["-i", try Fixtures.basicMP4(), "-metadata:s:v", "rotate=90", "-c", "copy", p])
    }
}
