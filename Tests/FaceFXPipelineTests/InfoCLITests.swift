// `facefx info` through the built binary: the FFmpeg build and where each loaded library came from
// (scripts/dist-check.sh reads the same lines to prove the tarball's FFmpeg is the one loaded).
import Foundation
import XCTest

final class InfoCLITests: XCTestCase {
    func testInfoNamesTheFFmpegBuildAndWhereEachLibraryWasLoadedFrom() throws {
        let r = try CLI.facefx(["info", "--gpu", "cpu"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let configuration = try XCTUnwrap(lines.firstIndex(of: "FFmpeg configuration:"), r.stdout)
        XCTAssertTrue(lines[configuration + 1].hasPrefix("  --"), r.stdout)

        let listed = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("loaded libraries (") }, r.stdout)
        let paths = lines[(listed + 1)...].prefix { $0.hasPrefix("  /") }.map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(lines[listed], "loaded libraries (\(paths.count)):")
        for name in ["libavcodec.so", "libavformat.so", "libswscale.so", "libEGL.so"] {
            let found = paths.filter { URL(fileURLWithPath: $0).lastPathComponent.hasPrefix(name) }
            XCTAssertEqual(found.count, 1, "\(name) in \(paths)")
            for path in found { XCTAssertTrue(FileManager.default.fileExists(atPath: path), path) }
        }
    }
}
