// `facefx train` through the built binary: a two-class task made from samples/astronaut.png (the same
// clip plain and rendered with the lipstick filter), trained on the GPU (llvmpipe here), written as a
// .tflite that `analyze --classifier` runs; the same seed gives the same model; bad inputs are usage errors.
import Foundation
import XCTest

final class TrainCLITests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try CLI.makeTempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// plain.mp4 and lipstick.mp4 (20 frames, a face moving and growing), and labels.csv naming them.
    func makeTask() throws -> URL {
        let plain = dir.appendingPathComponent("plain.mp4")
        try SyntheticClip.make(plain, width: 320, height: 240,
                               frames: (0..<20).map { [Placement(center: [140 + 3 * Double($0), 120], scale: 1 + 0.01 * Double($0))] })
        let r = try CLI.facefx([plain.path, dir.appendingPathComponent("lipstick.mp4").path, "--filter", "lipstick", "--min-face", "64"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let labels = dir.appendingPathComponent("labels.csv")
        try "video,start_s,end_s,label\nplain.mp4,0,1,plain\nlipstick.mp4,0,1,lipstick\n".write(to: labels, atomically: true, encoding: .utf8)
        return labels
    }

    func testTrainsAModelThatAnalyzeRuns() throws {
        let labels = try makeTask()
        let model = dir.appendingPathComponent("lips.tflite")
        let r = try CLI.facefx(["train", labels.path, "-o", model.path, "--epochs", "14", "--batch", "8", "--learning-rate", "0.01", "--seed", "3"],
                               timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        print(r.stderr)
        XCTAssertTrue(r.stderr.contains("facefx: epoch 14/14: loss "), r.stderr)
        XCTAssertTrue(r.stderr.contains("2 classes, 128 training crops, 8 validation, validation accuracy 100.0 %"), r.stderr)
        XCTAssertTrue(r.stderr.contains("true\\pred"), r.stderr)
        try assertAnalyzeClassifiesEveryFrame(model)
    }

    /// Its labels become analyze's columns; every frame of each clip is classified right (frames beyond
    /// the analyzer's look-back window included: their crops are taken when the frame is staged).
    func assertAnalyzeClassifiesEveryFrame(_ model: URL) throws {
        for clip in ["plain", "lipstick"] {
            let csv = dir.appendingPathComponent("\(clip)-\(model.deletingPathExtension().lastPathComponent).csv")
            let a = try CLI.facefx(["analyze", dir.appendingPathComponent("\(clip).mp4").path, "--csv", csv.path, "--classifier", model.path,
                                    "--min-face", "64"], timeout: 300)
            XCTAssertEqual(a.status, 0, a.stderr)
            let (header, rows) = try readCSVWithPython(csv)
            XCTAssertEqual(Array(header.suffix(2)), ["class_lipstick", "class_plain"])
            XCTAssertEqual(rows.count, 20)
            let lipstick = rows.map { Double($0[$0.count - 2])! }
            print("\(clip): class_lipstick \(lipstick)")
            XCTAssertTrue(lipstick.allSatisfy { clip == "lipstick" ? $0 > 0.5 : $0 < 0.5 }, "\(clip): \(lipstick)")
        }
    }

    /// The same seed gives the same model (on the same renderer), with or without --save-crops; a face_id
    /// column picks the person `facefx analyze` names so (here the only one, id 1). The saved crops are
    /// NumPy arrays of the training and validation crops and their labels.
    func testSameSeedSameModelAndSavedCrops() throws {
        let labels = try makeTask()
        try "video,start_s,end_s,label,face_id\nplain.mp4,0,1,plain,1\nlipstick.mp4,0,1,lipstick,\n".write(to: labels, atomically: true, encoding: .utf8)
        let crops = dir.appendingPathComponent("crops/new")
        var models: [Data] = []
        for name in ["a", "b"] {
            let model = dir.appendingPathComponent("\(name).tflite")
            let r = try CLI.facefx(["train", labels.path, "-o", model.path, "--epochs", "1", "--batch", "8", "--seed", "5", "--quiet"]
                                   + (name == "b" ? ["--save-crops", crops.path] : []), timeout: 600)
            XCTAssertEqual(r.status, 0, r.stderr)
            models.append(try Data(contentsOf: model))
        }
        XCTAssertEqual(models[0], models[1])
        XCTAssertEqual(try String(contentsOf: crops.appendingPathComponent("labels.txt"), encoding: .utf8), "lipstick\nplain\n")
        for (set, count) in [("train", 128), ("val", 8)] {
            let x = try NumPyFile(crops.appendingPathComponent("\(set)_x.npy"))
            XCTAssertEqual(x.descr, "<f4")
            XCTAssertEqual(x.shape, [count, 64, 64])
            let values = x.float32s
            XCTAssertTrue(values.allSatisfy(\.isFinite))
            XCTAssertGreaterThan(Set(values).count, 100, "\(set): crops, not a constant")
            let y = try NumPyFile(crops.appendingPathComponent("\(set)_y.npy"))
            XCTAssertEqual(y.descr, "<i4")
            XCTAssertEqual(y.shape, [count])
            XCTAssertEqual(Set(y.int32s), [0, 1])
        }
        // The files exist now: a second run without --overwrite refuses before training.
        let again = try CLI.facefx(["train", labels.path, "-o", dir.appendingPathComponent("c.tflite").path, "--save-crops", crops.path], timeout: 60)
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("train_x.npy: already exists"), again.stderr)
    }

    /// --input rgb128: the colour 128-px crop (saved as [N, 128, 128, 3]); the model takes that input and
    /// `analyze --classifier` feeds it the same crop: every frame of each clip classified right.
    func testRGB128TrainsAModelThatAnalyzeRuns() throws {
        let labels = try makeTask()
        let model = dir.appendingPathComponent("lips128.tflite"), crops = dir.appendingPathComponent("crops128")
        let r = try CLI.facefx(["train", labels.path, "-o", model.path, "--input", "rgb128", "--epochs", "6", "--batch", "8",
                                "--learning-rate", "0.01", "--seed", "3", "--save-crops", crops.path], timeout: 900)
        XCTAssertEqual(r.status, 0, r.stderr)
        print(r.stderr)
        XCTAssertTrue(r.stderr.contains("2 classes, 128 training crops, 8 validation, validation accuracy 100.0 %"), r.stderr)
        XCTAssertEqual(try NumPyFile(crops.appendingPathComponent("val_x.npy")).shape, [8, 128, 128, 3])
        try assertAnalyzeClassifiesEveryFrame(model)
    }

    func testBadInputsAreUsageErrors() throws {
        let labels = dir.appendingPathComponent("labels.csv")
        let video = dir.appendingPathComponent("v.mp4")
        try SyntheticClip.make(video, width: 160, height: 120, frames: [[]])
        let model = dir.appendingPathComponent("m.tflite")
        let cases: [(String, [String], String)] = [
            ("", [], "\(dir.path)/missing.csv: no such file"),
            ("clip,a,b,label\n", [], "labels.csv:1: expected the header video,start_s,end_s,label"),
            ("video,start_s,end_s,label\nv.mp4,0,1,a\nv.mp4,1,2,a\n", [], "labels.csv: at least two labels are needed"),
            ("video,start_s,end_s,label\nv.mp4,2,1,a\nv.mp4,1,2,b\n", [], "labels.csv:2: start_s and end_s must be seconds"),
            ("video,start_s,end_s,label\nnone.mp4,0,1,a\nv.mp4,1,2,b\n", [], "labels.csv:2: \(dir.path)/none.mp4: no such file"),
            ("video,start_s,end_s,label\nv.mp4,0,1,a b\nv.mp4,1,2,b\n", [], "labels.csv:2: label 'a b'"),
            ("video,start_s,end_s,label\nv.mp4,0,1,a\nv.mp4,1,2,b\n", ["-o", dir.appendingPathComponent("m.bin").path], "m.bin: the model file must end in .tflite"),
            ("video,start_s,end_s,label,face_id\nv.mp4,0,1,a,0\nv.mp4,1,2,b,\n", [], "labels.csv:2: face_id '0'"),
            ("video,start_s,end_s,label,face_id\nv.mp4,0,1,a\nv.mp4,1,2,b,\n", [], "labels.csv:2: expected 5 fields, got 4"),
            ("video,start_s,end_s,label\nv.mp4,0,1,a\nv.mp4,1,2,b\n", ["-o", model.path, "--input", "rgb64"], "--input must be grey64 or rgb128"),
        ]
        for (text, extra, message) in cases {
            let path = text.isEmpty ? dir.appendingPathComponent("missing.csv") : labels
            if !text.isEmpty { try text.write(to: labels, atomically: true, encoding: .utf8) }
            let r = try CLI.facefx(["train", path.path] + (extra.isEmpty ? ["-o", model.path] : extra))
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), "expected '\(message)' in: \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: model.path))
        }
        // A face-free video: no crops for either label.
        try "video,start_s,end_s,label\nv.mp4,0,0.02,a\nv.mp4,0.02,1,b\n".write(to: labels, atomically: true, encoding: .utf8)
        let r = try CLI.facefx(["train", labels.path, "-o", model.path, "--epochs", "1"], timeout: 300)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("no tracked face (with its face_id, where given) in the training frames of label(s) a, b"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: model.path))
    }
}

/// A .npy file (format 1.0, C order) read back: its dtype, shape and data.
struct NumPyFile {
    var descr: String
    var shape: [Int]
    var data: Data

    init(_ url: URL) throws {
        let bytes = try Data(contentsOf: url)
        guard bytes.count >= 10, bytes.prefix(6) == Data([0x93] + Array("NUMPY".utf8)), bytes[6] == 1 else {
            throw CocoaError(.fileReadCorruptFile)
        }
        let length = Int(bytes[8]) | Int(bytes[9]) << 8
        guard (10 + length) % 64 == 0, let header = String(data: bytes[10 ..< 10 + length], encoding: .ascii) else {
            throw CocoaError(.fileReadCorruptFile)
        }
        func field(_ name: String, _ open: Character, _ close: Character) -> String {
            guard let r = header.range(of: "'\(name)': ") else { return "" }
            let rest = header[r.upperBound...].drop { $0 == open }
            return String(rest.prefix { $0 != close })
        }
        descr = field("descr", "'", "'")
        shape = field("shape", "(", ")").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        data = Data(bytes.suffix(from: 10 + length))
        guard data.count == 4 * shape.reduce(1, *) else { throw CocoaError(.fileReadCorruptFile) }
    }

    var float32s: [Float] { data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
    var int32s: [Int32] { data.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) } }
}
