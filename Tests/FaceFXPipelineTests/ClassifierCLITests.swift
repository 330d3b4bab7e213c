// `facefx analyze --classifier`: a classifier written with facefx's own .tflite writer runs on every
// face's grey 64×64 crop and adds one class_<label> column per output; bad classifiers are usage errors.
import FaceFXFace
import FaceFXNeural
import Foundation
import XCTest

final class ClassifierCLITests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try CLI.makeTempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Mean brightness of the crop → two classes: AVERAGE_POOL over the crop, FULLY_CONNECTED 1→2 with
    /// weights ±`gain`, SOFTMAX. With `gain` negated the two probabilities swap.
    func writeClassifier(_ url: URL, gain: Float, side: Int = 64, labels: String? = "dark\nbright") throws {
        var w = TFLiteWriter()
        let x = w.addTensor("crop", shape: [1, side, side, 1])
        let m = w.addTensor("mean", shape: [1, 1, 1, 1])
        w.addOperator(.averagePool2D(filterH: side, filterW: side, strideH: side, strideW: side, padding: .valid), inputs: [x], outputs: [m])
        let shape = w.addInt32Tensor("flat/shape", values: [1, 1])
        let flat = w.addTensor("flat", shape: [1, 1])
        w.addOperator(.reshape(newShape: [1, 1]), inputs: [m, shape], outputs: [flat])
        let weights = w.addTensor("dense/weights", shape: [2, 1], data: [-gain, gain])
        let bias = w.addTensor("dense/bias", shape: [2], data: [gain / 2, -gain / 2])
        let logits = w.addTensor("logits", shape: [1, 2])
        w.addOperator(.fullyConnected(activation: .none), inputs: [flat, weights, bias], outputs: [logits])
        let probs = w.addTensor("probabilities", shape: [1, 2])
        w.addOperator(.softmax(beta: 1), inputs: [logits], outputs: [probs])
        let metadata = labels.map { [(FaceClassifier.labelsMetadata, Array($0.utf8))] } ?? []
        try Data(w.write(inputs: [x], outputs: [probs], metadata: metadata)).write(to: url)
    }

    func testClassifierColumnsOnRealFaces() throws {
        let clip = dir.appendingPathComponent("in.mp4")
        try SyntheticClip.make(clip, width: 320, height: 240, frames: (0..<6).map { [Placement(center: [150 + 4 * Double($0), 120])] })
        var probabilities: [[[Double]]] = []
        for gain: Float in [8, -8] {
            let model = dir.appendingPathComponent("brightness\(gain).tflite")
            try writeClassifier(model, gain: gain)
            let csv = dir.appendingPathComponent("faces\(gain).csv")
            let r = try CLI.facefx(["analyze", clip.path, "--csv", csv.path, "--classifier", model.path, "--min-face", "64"], timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr)
            let (header, rows) = try readCSVWithPython(csv)
            XCTAssertEqual(Array(header.suffix(2)), ["class_dark", "class_bright"])
            XCTAssertEqual(rows.count, 6)
            probabilities.append(rows.map { row in row.suffix(2).map { Double($0)! } })
            print("gain \(gain): class_dark, class_bright per frame: \(probabilities.last!)")
        }
        for (a, b) in zip(probabilities[0], probabilities[1]) {
            XCTAssertEqual(a[0] + a[1], 1, accuracy: 2e-4, "probabilities sum to 1")
            XCTAssertGreaterThan(a[0], 0.001); XCTAssertGreaterThan(a[1], 0.001)   // a real crop's mean, not 0 or 1
            XCTAssertEqual(a[0], b[1], accuracy: 2e-4, "negated weights swap the classes")
        }
    }

    /// A filter element shown only while the classifier's "bright" label is above 0.5: the render with the
    /// classifier that calls the face bright draws it, the one that calls it dark does not; its --csv
    /// has the class columns. A filter testing a label the run cannot give is a usage error.
    func testFiltersTestClassifierLabels() throws {
        let clip = dir.appendingPathComponent("in.mp4")
        try SyntheticClip.make(clip, width: 320, height: 240, frames: (0..<4).map { _ in [Placement(center: [160, 120])] })
        let folder = dir.appendingPathComponent("filters/brightlips")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(##"{"name": "brightlips", "elements": [{"kind": "tint", "region": "lips", "color": "#00ff00", "mode": "normal", "strength": 1, "when": {"class_bright": ">0.5"}}]}"##.utf8)
            .write(to: folder.appendingPathComponent("filter.json"))
        var firstFrames: [[UInt8]] = []
        for gain: Float in [8, -8] {
            let model = dir.appendingPathComponent("brightness\(gain).tflite")
            try writeClassifier(model, gain: gain)
            let out = dir.appendingPathComponent("out\(gain).mp4"), csv = dir.appendingPathComponent("out\(gain).csv")
            let r = try CLI.facefx([clip.path, out.path, "--filter", "brightlips", "--filters-dir", dir.appendingPathComponent("filters").path,
                                    "--classifier", model.path, "--csv", csv.path, "--min-face", "64"], timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(Array(try readCSVWithPython(csv).header.suffix(2)), ["class_dark", "class_bright"])
            let raw = dir.appendingPathComponent("first\(gain).rgb")
            try CLI.ffmpeg(["-i", out.path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", raw.path])
            firstFrames.append([UInt8](try Data(contentsOf: raw)))
        }
        // Green lips only where the classifier said bright.
        let greenGain = zip(firstFrames[0], firstFrames[1]).enumerated().filter { $0.offset % 3 == 1 }
            .reduce(0) { $0 + Int($1.element.1) - Int($1.element.0) }
        XCTAssertGreaterThan(greenGain, 320 * 240 / 100 * 40, "the element shows with the bright classifier only")

        let plain = dir.appendingPathComponent("plain.mp4")
        var r = try CLI.facefx([clip.path, plain.path, "--filter", "brightlips", "--filters-dir", dir.appendingPathComponent("filters").path])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("filter 'brightlips': its 'when' tests class 'bright', which needs --classifier with that label"), r.stderr)
        let unlabeled = dir.appendingPathComponent("unlabeled.tflite")
        try writeClassifier(unlabeled, gain: 1, labels: nil)
        r = try CLI.facefx([clip.path, plain.path, "--filter", "brightlips", "--filters-dir", dir.appendingPathComponent("filters").path,
                            "--classifier", unlabeled.path])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("not a label of the classifier (class_0, class_1)"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: plain.path))
    }

    /// `batch --classifier`: every file's CSV has the columns; a bad model stops the batch before any file.
    func testBatchRunsTheClassifierOnEveryFile() throws {
        let clips = dir.appendingPathComponent("clips")
        try FileManager.default.createDirectory(at: clips, withIntermediateDirectories: true)
        for k in 0..<2 {
            try SyntheticClip.make(clips.appendingPathComponent("c\(k).mp4"), width: 320, height: 240,
                                   frames: (0..<4).map { [Placement(center: [150 + 10 * Double(k) + 4 * Double($0), 120])] })
        }
        let model = dir.appendingPathComponent("brightness.tflite")
        try writeClassifier(model, gain: 8)
        let out = dir.appendingPathComponent("out")
        let r = try CLI.facefx(["batch", clips.path, "--out-dir", out.path, "--analyze-only", "--classifier", model.path, "--min-face", "64",
                                "--jobs", "2"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        for k in 0..<2 {
            let (header, rows) = try readCSVWithPython(out.appendingPathComponent("c\(k).csv"))
            XCTAssertEqual(Array(header.suffix(2)), ["class_dark", "class_bright"])
            XCTAssertEqual(rows.count, 4)
        }
        let bad = dir.appendingPathComponent("notes.tflite")
        try Data("not a model".utf8).write(to: bad)
        let out2 = dir.appendingPathComponent("out2")
        let b = try CLI.facefx(["batch", clips.path, "--out-dir", out2.path, "--analyze-only", "--classifier", bad.path])
        XCTAssertEqual(b.status, 2, b.stderr)
        XCTAssertTrue(b.stderr.contains("facefx: error: \(bad.path): not a usable .tflite classifier"), b.stderr)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: out2.path))?.filter { $0.hasSuffix(".csv") } ?? [], [])
    }

    func testBadClassifiersAreUsageErrors() throws {
        let clip = dir.appendingPathComponent("in.mp4")
        try SyntheticClip.make(clip, width: 160, height: 120, frames: [[]])
        let wrongInput = dir.appendingPathComponent("small.tflite")
        try writeClassifier(wrongInput, gain: 1, side: 32)
        let wrongLabels = dir.appendingPathComponent("labels.tflite")
        try writeClassifier(wrongLabels, gain: 1, labels: "one")
        let notModel = dir.appendingPathComponent("notes.tflite")
        try Data("not a model".utf8).write(to: notModel)
        let missing = dir.appendingPathComponent("missing.tflite")
        for (model, reason) in [(wrongInput, "expected one face crop: [1, 64, 64, 1] (grey64) or [1, 128, 128, 3] (rgb128)"), (wrongLabels, "1 label names for 2 outputs"),
                                (notModel, "not a usable .tflite classifier"), (missing, "no such file")] {
            let csv = dir.appendingPathComponent("out.csv")
            let r = try CLI.facefx(["analyze", clip.path, "--csv", csv.path, "--classifier", model.path])
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains("facefx: error: \(model.path): "), r.stderr)
            XCTAssertTrue(r.stderr.contains(reason), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: csv.path))
        }
    }
}
