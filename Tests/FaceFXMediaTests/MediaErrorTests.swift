import Foundation
import XCTest
@testable import FaceFXMedia

final class MediaErrorTests: XCTestCase {
    private func expectError(_ path: String, file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> Void, matches: (MediaError) -> Bool) {
        do {
            try body()
            XCTFail("expected an error for \(path)", file: file, line: line)
        } catch let e as MediaError {
            XCTAssertTrue(matches(e), "wrong error: \(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains(path), "'\(e.description)' should name \(path)", file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), file: file, line: line)
        } catch {
            XCTFail("not a MediaError: \(error)", file: file, line: line)
        }
    }

    func testMissingFile() {
        let p = Fixtures.dir + "/does-not-exist.mp4"
        expectError(p, { _ = try VideoReader(path: p) }) { if case .fileNotFound = $0 { return true }; return false }
    }

    func testTextFileNamedMP4() throws {
        let p = Fixtures.dir + "/notes.mp4"
        try "hello, this is not a video\n".write(toFile: p, atomically: true, encoding: .utf8)
        expectError(p, { _ = try VideoReader(path: p) }) { if case .notMedia = $0 { return true }; return false }
    }

    func testZeroByteFile() throws {
        let p = Fixtures.dir + "/empty.mp4"
        _ = FileManager.default.createFile(atPath: p, contents: Data())
        expectError(p, { _ = try VideoReader(path: p) }) { if case .notMedia = $0 { return true }; return false }
    }

    /// A pipe (a shell's `cat in.mp4 | facefx /dev/stdin …` or a named one) is named as a pipe, not as an empty file,
    /// and never opened (opening a FIFO without a writer would block).
    func testPipeIsNamedAsOne() throws {
        let p = Fixtures.dir + "/pipe.mp4"
        unlink(p)
        XCTAssertEqual(mkfifo(p, 0o600), 0)
        defer { unlink(p) }
        expectError(p, { _ = try VideoReader(path: p) }) {
            if case let .notMedia(_, reason) = $0 { return reason.contains("pipe") }; return false
        }
    }

    func testAudioOnly() throws {
        let p = try Fixtures.fixture("audio-only.m4a") { p in
            try Fixtures.ffmpeg(["-f", "lavfi", "-i", "sine=duration=0.5", "-c:a", "aac", p])
        }
        expectError(p, { _ = try VideoReader(path: p) }) { if case .noVideoStream = $0 { return true }; return false }
        expectError(p, { _ = try VideoReader.probe(path: p) }) { if case .noVideoStream = $0 { return true }; return false }
    }

    func testTruncatedMoovAtEnd() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.basicMP4()))
        let p = Fixtures.dir + "/truncated.mp4"
        try data.prefix(data.count * 3 / 10).write(to: URL(fileURLWithPath: p))
        expectError(p, { _ = try VideoReader(path: p) }) { if case .corrupt = $0 { return true }; return false }
    }

    func testUnwritableFolderAndUnknownExtension() throws {
        let input = try Fixtures.basicMP4()
        let info = try VideoReader.probe(path: input)
        let missing = Fixtures.dir + "/no-such-folder/out.mp4"
        expectError(missing, { _ = try VideoWriter(path: missing, input: info, inputPath: input) }) {
            if case .cannotWrite = $0 { return true }; return false
        }
        // Root ignores permission bits, so use a place nobody can create files in as well.
        let locked = Fixtures.dir + "/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        chmod(locked, 0o555)
        defer { chmod(locked, 0o755) }
        for target in [locked + "/out.mp4", "/proc/facefx-out.mp4"] where getuid() != 0 || target.hasPrefix("/proc") {
            expectError(target, { _ = try VideoWriter(path: target, input: info, inputPath: input) }) {
                if case .cannotWrite = $0 { return true }; return false
            }
        }
        XCTAssertEqual(Fixtures.leftovers(in: locked), [])
        let xyz = Fixtures.dir + "/out.xyz"
        expectError(xyz, { _ = try VideoWriter(path: xyz, input: info, inputPath: input) }) {
            if case .unsupportedContainer(_, "xyz") = $0 { return true }; return false
        }
        let png = Fixtures.dir + "/out.png"
        expectError(png, { _ = try VideoWriter(path: png, input: info, inputPath: input) }) {
            if case .unsupportedContainer = $0 { return true }; return false
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: xyz))
        XCTAssertEqual(Fixtures.leftovers(in: Fixtures.dir), [])
    }

    func testUnknownCodecAndCodecTheContainerCannotHold() throws {
        XCTAssertThrowsError(try EncodeOptions.Codec.parse("prores")) { e in
            guard case MediaError.unsupportedCodec(_, "prores", _) = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("prores"))
        }
        XCTAssertEqual(try EncodeOptions.Codec.parse("HEVC"), .h265)
        let input = try Fixtures.basicMP4()
        let info = try VideoReader.probe(path: input)
        let webm = Fixtures.dir + "/h265.webm"
        expectError(webm, { _ = try VideoWriter(path: webm, input: info, inputPath: input, options: EncodeOptions(codec: .h265)) }) {
            if case .unsupportedCodec(_, "h265", _) = $0 { return true }; return false
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: webm))
        XCTAssertEqual(Fixtures.leftovers(in: Fixtures.dir), [])
    }

    func testEncoderRejectingSettingsLeavesNoTempFile() throws {
        let input = try Fixtures.basicMP4()
        let info = try VideoReader.probe(path: input)
        let out = Fixtures.dir + "/badcrf.mp4"
        expectError(out, { _ = try VideoWriter(path: out, input: info, inputPath: input, options: EncodeOptions(crf: 99)) }) {
            if case .encoder = $0 { return true }; return false
        }
        // Fails while opening the audio source, i.e. after the temporary file was created.
        let gone = Fixtures.dir + "/vanished-input.mp4"
        expectError(gone, { _ = try VideoWriter(path: out, input: info, inputPath: gone) }) {
            if case .fileNotFound = $0 { return true }; return false
        }
        expectError(out, { _ = try VideoWriter(path: out, input: info, inputPath: input, options: EncodeOptions(preset: "warp")) }) {
            if case .encoder = $0 { return true }; return false
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(Fixtures.leftovers(in: Fixtures.dir), [])
    }

    func testDescriptionIsOneLinePathThenReason() {
        let e = MediaError.corrupt(path: "/x/y.mp4", reason: "bad\nthing")
        XCTAssertEqual(e.description, "/x/y.mp4: corrupt media (bad thing)")
    }
}
