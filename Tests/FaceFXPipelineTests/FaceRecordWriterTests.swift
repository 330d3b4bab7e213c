// FaceRecordWriter without video: number formatting, empty rows, NaN handling, atomic commit/cancel.
@testable import FaceFXFace
import Foundation
import XCTest
@testable import FaceFXPipeline

final class FaceRecordWriterTests: XCTestCase {
    func fixed(_ v: Double, _ d: Int) -> String {
        var b: [UInt8] = []
        b.appendFixed(v, d)
        return String(decoding: b, as: UTF8.self)
    }

    func testFixedDecimals() {
        XCTAssertEqual(fixed(0, 3), "0.000")
        XCTAssertEqual(fixed(-0.0001, 3), "0.000")      // never "-0.000"
        XCTAssertEqual(fixed(-0.0006, 3), "-0.001")
        XCTAssertEqual(fixed(1.23456, 4), "1.2346")
        XCTAssertEqual(fixed(1279.9996, 3), "1280.000")
        XCTAssertEqual(fixed(1.0 / 3.0, 6), "0.333333")
        XCTAssertEqual(fixed(12, 0), "12")
        XCTAssertEqual(fixed(-45.5, 1), "-45.5")
        XCTAssertEqual(fixed(0.05, 2), "0.05")
        XCTAssertEqual(fixed(.nan, 3), "")
        XCTAssertEqual(fixed(1e300, 2), String(format: "%.2f", 1e300))
        for _ in 0..<2000 {
            let v = Double.random(in: -5000...5000)
            XCTAssertEqual(Double(fixed(v, 3))!, v, accuracy: 0.0005 + 1e-9)
        }
    }

    func face(id: Int, nanYaw: Bool = false) -> FaceResult {
        let pts = (0..<478).map { i in Point(Double(i), Double(i) / 2, -1) }
        var pose = HeadPose(yaw: nanYaw ? .nan : 10, pitch: -5, roll: 2, translation: [1, 2, -50], scale: 1,
                            rotation: HeadPose.rotation(yaw: 10, pitch: -5, roll: 2), matrix: Array(repeating: 0, count: 16), rmsError: 0)
        pose.scale = 1
        return FaceResult(id: id, frameIndex: 0, time: 0, presence: 0.98765, detectionScore: nil,
                          box: Rect(x: 10, y: 20, width: 30, height: 40), landmarks: pts,
                          blendshapes: (0..<52).map { Double($0) / 100 }, emotions: [0, 0, 0, 0.9, 0, 0.05, 0.05],
                          pose: pose, roi: FaceROI(landmarks: pts))
    }

    func testRowsAndAtomicFiles() throws {
        let dir = try CLI.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("a.csv").path, jsonl = dir.appendingPathComponent("a.jsonl").path
        let w = try FaceRecordWriter(csvPath: csv, jsonlPath: jsonl, options: FaceRecordOptions(landmarks: true, includeEmpty: true))
        XCTAssertEqual(listing(dir).count, 2)
        XCTAssertTrue(listing(dir).allSatisfy { $0.hasPrefix(".") && $0.hasSuffix(".tmp") })
        try w.write(frameIndex: 0, time: 0, faces: [face(id: 1), face(id: 2, nanYaw: true)])
        try w.write(frameIndex: 1, time: 1.0 / 30, faces: [])
        try w.finish()
        XCTAssertEqual(listing(dir), ["a.csv", "a.jsonl"])
        let lines = try String(contentsOfFile: csv, encoding: .utf8).components(separatedBy: "\r\n")
        XCTAssertEqual(lines.count, 5)   // header, 2 faces, 1 empty row, "" after the last CRLF
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(header.count, 14 + 52 + 1 + 7 + 478 * 3)
        let row = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(Array(row[0..<14]), ["0", "0.000000", "1", "0.9877", "10.000", "20.000", "30.000", "40.000",
                                            "10.000", "-5.000", "2.000", "1.000", "2.000", "-50.000"])
        XCTAssertEqual(row[14], "0.0000"); XCTAssertEqual(row[65], "0.5100")
        XCTAssertEqual(row[66], "happy"); XCTAssertEqual(row[70], "0.9000")
        XCTAssertEqual(Array(row[74..<77]), ["0.000", "0.000", "-1.000"])
        XCTAssertEqual(row.last, "-1.000")
        let row2 = lines[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(row2[8], "")                   // NaN yaw: empty field
        let empty = lines[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(empty.count, header.count)
        XCTAssertEqual(Array(empty[0..<2]), ["1", "0.033333"])
        XCTAssertTrue(empty[2...].allSatisfy(\.isEmpty))

        let objects = try String(contentsOfFile: jsonl, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        XCTAssertEqual(objects.count, 2)
        let faces = objects[0]["faces"] as! [[String: Any]]
        XCTAssertEqual(faces.count, 2)
        XCTAssertTrue(faces[1]["yaw"] is NSNull)
        XCTAssertEqual((faces[0]["landmarks"] as! [[Double]]).count, 478)
        XCTAssertEqual((objects[1]["faces"] as! [Any]).count, 0)

        // Cancel: temporary files gone, an existing target untouched.
        let w2 = try FaceRecordWriter(csvPath: csv, jsonlPath: nil, overwrite: true)
        try w2.write(frameIndex: 0, time: 0, faces: [face(id: 1)])
        w2.cancel()
        XCTAssertEqual(listing(dir), ["a.csv", "a.jsonl"])
        XCTAssertEqual(try String(contentsOfFile: csv, encoding: .utf8).components(separatedBy: "\r\n").count, 5)
        XCTAssertThrowsError(try FaceRecordWriter(csvPath: csv, jsonlPath: nil))
    }

    /// A pipe as the CSV target (`--csv /dev/stdout | …`, a named pipe): rows go straight through without
    /// `--overwrite`, no temporary file is made beside it, and the pipe stays a pipe. A video output can't be one.
    func testPipeTargets() throws {
        let dir = try CLI.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pipe = dir.appendingPathComponent("rows.csv").path
        XCTAssertEqual(mkfifo(pipe, 0o600), 0)
        // The reader opens the pipe's other end (opening either end waits for the other).
        final class Received: @unchecked Sendable { var data = Data() }  // written by the reader before `done`
        let received = Received(), done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            received.data = FileHandle(forReadingAtPath: pipe)!.readDataToEndOfFile()
            done.signal()
        }
        let w = try FaceRecordWriter(csvPath: pipe, jsonlPath: nil)
        try w.write(frameIndex: 0, time: 0, faces: [face(id: 1)])
        try w.finish()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        let lines = String(decoding: received.data, as: UTF8.self).components(separatedBy: "\r\n")
        XCTAssertEqual(lines.count, 3, "header, one row, \"\" after the last CRLF")
        XCTAssertTrue(lines[1].hasPrefix("0,0.000000,1,"), lines[1])
        XCTAssertEqual(listing(dir), ["rows.csv"])
        var st = stat()
        XCTAssertEqual(stat(pipe, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO, "still a pipe")

        let input = dir.appendingPathComponent("in.mp4").path
        _ = FileManager.default.createFile(atPath: input, contents: Data([0]))
        XCTAssertThrowsError(try RenderJob.checkPaths(input: input, output: pipe, overwrite: true)) { e in
            XCTAssertTrue("\(e)".contains("a pipe or device, not a file"), "\(e)")
        }
    }
}
