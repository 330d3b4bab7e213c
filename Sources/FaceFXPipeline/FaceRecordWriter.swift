// Per-face records of a video as CSV (RFC 4180) and JSON Lines, written frame by frame.
// Both files go to hidden temporary files beside their targets and are renamed only by finish():
// a failed or interrupted run leaves nothing at the target paths. docs/ANALYZE.md documents the
// columns; `FaceRecordColumns` is the single place that names them.

import FaceFXFace
import FaceFXMedia
import Foundation

public struct FaceRecordOptions: Sendable {
    /// Add the 478 landmarks (CSV: lmN_x, lmN_y, lmN_z columns; JSONL: "landmarks").
    public var landmarks: Bool
    /// CSV: one row with an empty face_id for frames without faces (JSONL always has every frame).
    public var includeEmpty: Bool
    /// A classifier's labels (`--classifier`): CSV columns class_<label>, JSONL "classes".
    public var classLabels: [String]

    public init(landmarks: Bool = false, includeEmpty: Bool = false, classLabels: [String] = []) {
        self.landmarks = landmarks; self.includeEmpty = includeEmpty; self.classLabels = classLabels
    }
}

/// Column names and decimals of the records.
public enum FaceRecordColumns {
    /// Per-face columns before the blendshapes.
    public static let leading = ["frame", "time_s", "face_id", "score", "x", "y", "w", "h",
                                 "yaw", "pitch", "roll", "tx", "ty", "tz"]
    /// Fixed decimals: seconds 6, pixels / degrees / cm 3, scores and coefficients 4.
    static let timeDecimals = 6, pixelDecimals = 3, angleDecimals = 3, translationDecimals = 3, scoreDecimals = 4

    public static func csvHeader(landmarks: Bool, classLabels: [String] = []) -> [String] {
        var h = leading + FaceLandmarks.blendshapeNames + ["emotion"] + EmotionLabels.names.map { "emotion_" + $0 }
            + classLabels.map { "class_" + $0 }
        if landmarks {
            for i in 0..<FaceLandmarks.count { h += ["lm\(i)_x", "lm\(i)_y", "lm\(i)_z"] }
        }
        return h
    }
}

public final class FaceRecordWriter {
    public let options: FaceRecordOptions
    private var csv: AtomicOutputFile?
    private var jsonl: AtomicOutputFile?
    private var line: [UInt8] = []
    public private(set) var rowsWritten = 0
    public private(set) var framesWritten = 0

    /// Usage checks before any work: each target's folder exists, targets differ from each other and
    /// from `inputs`, an existing target only with `overwrite`.
    public static func checkTargets(_ targets: [String], overwrite: Bool, inputs: [String] = []) throws {
        let fm = FileManager.default
        for (k, t) in targets.enumerated() {
            if t.isEmpty { throw PipelineError.usage("output path is empty") }
            for other in targets[..<k] where RenderJob.sameFile(t, other) || t == other {
                throw PipelineError.usage("\(t): the same file is given for two outputs")
            }
            if AtomicOutputFile.isStream(t) { continue }  // written straight through: nothing replaced, no folder used
            for input in inputs where RenderJob.sameFile(input, t) {
                throw PipelineError.usage("\(t): output is the input file; choose another name")
            }
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: t, isDirectory: &isDir) {
                if isDir.boolValue { throw PipelineError.usage("\(t): is a folder") }
                if !overwrite { throw PipelineError.usage("\(t): already exists (use --overwrite to replace it)") }
            }
            let dir = (t as NSString).deletingLastPathComponent
            if !dir.isEmpty, !fm.fileExists(atPath: dir, isDirectory: &isDir) || !isDir.boolValue {
                throw PipelineError.usage("\(t): folder \(dir) does not exist")
            }
            try RenderJob.checkWritable(folder: dir, for: t)
        }
    }

    /// Opens the temporary files and writes the CSV header. At least one path should be given.
    public init(csvPath: String?, jsonlPath: String?, options: FaceRecordOptions = .init(), overwrite: Bool = false) throws {
        self.options = options
        try FaceRecordWriter.checkTargets([csvPath, jsonlPath].compactMap { $0 }, overwrite: overwrite)
        do {
            if let csvPath {
                let f = try AtomicOutputFile(path: csvPath)
                csv = f
                f.append(Array(FaceRecordColumns.csvHeader(landmarks: options.landmarks, classLabels: options.classLabels).joined(separator: ",").utf8))
                f.append([13, 10])
            }
            if let jsonlPath { jsonl = try AtomicOutputFile(path: jsonlPath) }
        } catch {
            cancel()
            throw error
        }
    }

    deinit { cancel() }

    /// Temporary paths being written (for signal clean-up).
    public var temporaryPaths: [String] { [csv?.temporaryPath, jsonl?.temporaryPath].compactMap { $0 } }

    /// Records of one frame (`shot`: JSONL only). Frames must come in order, once each.
    public func write(frameIndex: Int, time: Double, shot: Int = 0, faces: [FaceResult]) throws {
        if let csv {
            if faces.isEmpty && options.includeEmpty {
                line.removeAll(keepingCapacity: true)
                csvEmptyRow(frameIndex: frameIndex, time: time)
                csv.append(line)
                rowsWritten += 1
            }
            for f in faces {
                line.removeAll(keepingCapacity: true)
                csvRow(frameIndex: frameIndex, time: time, face: f)
                csv.append(line)
                rowsWritten += 1
            }
            try csv.flushIfLarge()
        }
        if let jsonl {
            line.removeAll(keepingCapacity: true)
            jsonObject(frameIndex: frameIndex, time: time, shot: shot, faces: faces)
            jsonl.append(line)
            try jsonl.flushIfLarge()
        }
        framesWritten += 1
    }

    /// Flushes, syncs and renames every file onto its target.
    public func finish() throws {
        do {
            try csv?.commit()
            try jsonl?.commit()
        } catch {
            cancel()
            throw error
        }
        csv = nil; jsonl = nil
    }

    /// Removes the temporary files (targets untouched). Safe to call more than once.
    public func cancel() {
        csv?.discard(); jsonl?.discard()
        csv = nil; jsonl = nil
    }

    // MARK: - rows

    private func csvEmptyRow(frameIndex: Int, time: Double) {
        line.appendInt(frameIndex); line.append(44)
        line.appendFixed(time, FaceRecordColumns.timeDecimals)
        let empty = FaceRecordColumns.csvHeader(landmarks: options.landmarks, classLabels: options.classLabels).count - 2
        line.append(contentsOf: repeatElement(44, count: empty))
        line.append(contentsOf: [13, 10])
    }

    private func csvRow(frameIndex: Int, time: Double, face f: FaceResult) {
        let c = FaceRecordColumns.self
        line.appendInt(frameIndex); line.append(44)
        line.appendFixed(time, c.timeDecimals); line.append(44)
        line.appendInt(f.id); line.append(44)
        line.appendFixed(f.presence, c.scoreDecimals)
        for v in [f.box.minX, f.box.minY, f.box.width, f.box.height] { line.append(44); line.appendFixed(v, c.pixelDecimals) }
        for v in [f.pose.yaw, f.pose.pitch, f.pose.roll] { line.append(44); line.appendFixed(v, c.angleDecimals) }
        for v in [f.pose.translation.x, f.pose.translation.y, f.pose.translation.z] {
            line.append(44); line.appendFixed(v, c.translationDecimals)
        }
        for i in 0..<FaceLandmarks.blendshapeNames.count {
            line.append(44)
            if i < f.blendshapes.count { line.appendFixed(f.blendshapes[i], c.scoreDecimals) }
        }
        line.append(44)
        if let e = f.topEmotion { line.append(contentsOf: e.utf8) }
        for i in 0..<EmotionLabels.names.count {
            line.append(44)
            if i < f.emotions.count { line.appendFixed(f.emotions[i], c.scoreDecimals) }
        }
        for i in options.classLabels.indices {
            line.append(44)
            if i < f.classes.count { line.appendFixed(f.classes[i], c.scoreDecimals) }
        }
        if options.landmarks {
            for i in 0..<FaceLandmarks.count {
                for k in 0..<3 {
                    line.append(44)
                    if i < f.landmarks.count { line.appendFixed(f.landmarks[i][k], c.pixelDecimals) }
                }
            }
        }
        line.append(contentsOf: [13, 10])
    }

    /// `"key":{"name":score,...}` for the names that have a score.
    private func jsonScores(_ key: String, _ names: [String], _ scores: [Double]) {
        line.append(34); line.append(key); line.append(#"":{"#)
        for (i, v) in zip(names, scores).enumerated() {
            if i > 0 { line.append(44) }
            line.append(34); line.append(v.0); line.append(#"":"#); line.appendJSONNumber(v.1, FaceRecordColumns.scoreDecimals)
        }
        line.append(125)
    }

    /// `{"frame":N,"time_s":T,"shot":S,"faces":[{...}]}` and a newline; keys in a fixed order.
    private func jsonObject(frameIndex: Int, time: Double, shot: Int, faces: [FaceResult]) {
        let c = FaceRecordColumns.self
        line.append(#"{"frame":"#); line.appendInt(frameIndex)
        line.append(#","time_s":"#); line.appendJSONNumber(time, c.timeDecimals)
        line.append(#","shot":"#); line.appendInt(shot)
        line.append(#","faces":["#)
        for (n, f) in faces.enumerated() {
            if n > 0 { line.append(44) }
            line.append(#"{"face_id":"#); line.appendInt(f.id)
            line.append(#","score":"#); line.appendJSONNumber(f.presence, c.scoreDecimals)
            let fields: [(String, Double, Int)] = [
                ("x", f.box.minX, c.pixelDecimals), ("y", f.box.minY, c.pixelDecimals),
                ("w", f.box.width, c.pixelDecimals), ("h", f.box.height, c.pixelDecimals),
                ("yaw", f.pose.yaw, c.angleDecimals), ("pitch", f.pose.pitch, c.angleDecimals), ("roll", f.pose.roll, c.angleDecimals),
                ("tx", f.pose.translation.x, c.translationDecimals), ("ty", f.pose.translation.y, c.translationDecimals),
                ("tz", f.pose.translation.z, c.translationDecimals),
            ]
            for (name, v, d) in fields {
                line.append(#",""#); line.append(name); line.append(#"":"#); line.appendJSONNumber(v, d)
            }
            line.append(44)
            jsonScores("blendshapes", FaceLandmarks.blendshapeNames, f.blendshapes)
            line.append(#","emotion":"#)
            if let e = f.topEmotion { line.append(34); line.append(e); line.append(34) } else { line.append("null") }
            line.append(44)
            jsonScores("emotions", EmotionLabels.names, f.emotions)
            if !options.classLabels.isEmpty {
                line.append(44)
                jsonScores("classes", options.classLabels, f.classes)
            }
            if options.landmarks {
                line.append(#","landmarks":["#)
                for (i, p) in f.landmarks.enumerated() {
                    if i > 0 { line.append(44) }
                    line.append(91)
                    line.appendJSONNumber(p.x, c.pixelDecimals); line.append(44)
                    line.appendJSONNumber(p.y, c.pixelDecimals); line.append(44)
                    line.appendJSONNumber(p.z, c.pixelDecimals)
                    line.append(93)
                }
                line.append(93)
            }
            line.append(125)
        }
        line.append("]}\n")
    }
}

/// A file written to `.<name>.facefx-<pid>-<random>.tmp` beside `path`, renamed onto `path` by `commit`. A
/// `path` that is a pipe or device (`--csv /dev/stdout | …`, a named pipe) is written straight through instead:
/// a stream has nothing to replace, and renaming a file onto it would replace the pipe's name (as root,
/// /dev/stdout itself) with a file.
final class AtomicOutputFile {
    let path: String
    /// The hidden file being written (nil for a stream).
    let temporaryPath: String?
    private var fd: Int32
    private var pending: [UInt8] = []
    private static let flushSize = 1 << 20

    /// Whether `path` exists and is neither a regular file nor a folder (symbolic links followed: /dev/stdout
    /// is a pipe or a terminal).
    static func isStream(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        let kind = st.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
    }

    init(path: String) throws {
        self.path = path
        if AtomicOutputFile.isStream(path) {
            temporaryPath = nil
            fd = open(path, O_WRONLY | O_CLOEXEC)
            if fd < 0 { throw PipelineError.processing("\(path): cannot write (\(String(cString: strerror(errno))))") }
        } else {
            TemporaryFiles.removeStale(for: path)
            let tmp = TemporaryFiles.temporaryPath(for: path)
            temporaryPath = tmp
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd < 0 { throw PipelineError.processing("\(path): cannot create (\(String(cString: strerror(errno))))") }
            TemporaryFiles.register(tmp)
        }
        pending.reserveCapacity(Self.flushSize + 65536)
    }

    deinit { discard() }

    func append(_ bytes: [UInt8]) { pending.append(contentsOf: bytes) }

    func flushIfLarge() throws { if pending.count >= Self.flushSize { try flush() } }

    func flush() throws {
        var off = 0
        while off < pending.count {
            let n = pending.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PipelineError.processing("\(path): write failed (\(String(cString: strerror(errno))))")
            }
            off += n
        }
        pending.removeAll(keepingCapacity: true)
    }

    func commit() throws {
        try flush()
        guard let temporaryPath else { close(fd); fd = -1; return }
        if fsync(fd) != 0 { throw PipelineError.processing("\(path): write failed (\(String(cString: strerror(errno))))") }
        close(fd); fd = -1
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            TemporaryFiles.unregister(temporaryPath)
            throw PipelineError.processing("\(path): cannot write (\(reason))")
        }
        TemporaryFiles.unregister(temporaryPath)
    }

    /// Closes and unlinks the temporary file if it is still open (a stream is only closed: what went out is out).
    func discard() {
        guard fd >= 0 else { return }
        close(fd); fd = -1
        guard let temporaryPath else { return }
        unlink(temporaryPath)
        TemporaryFiles.unregister(temporaryPath)
    }
}

extension Array where Element == UInt8 {
    mutating func append(_ s: String) { append(contentsOf: s.utf8) }

    mutating func appendInt(_ v: Int) {
        if v < 0 { append(45) }
        appendDigits(UInt64(v.magnitude))
    }

    mutating func appendDigits(_ v: UInt64) {
        if v < 10 { append(48 + UInt8(v)); return }
        var div: UInt64 = 1
        while v / div >= 10 { div *= 10 }
        var n = v
        while div > 0 { append(48 + UInt8(n / div)); n %= div; div /= 10 }
    }

    /// `v` with exactly `decimals` decimals, '.' as the point, no exponent, no "-0.000"; nothing for NaN/∞.
    mutating func appendFixed(_ v: Double, _ decimals: Int) {
        guard v.isFinite else { return }
        let scale = FixedPoint.powers[decimals]
        let scaled = (v.magnitude * scale).rounded()
        guard scaled < 9e15 else { append(String(format: "%.*f", decimals, v)); return }
        let n = UInt64(scaled), unit = UInt64(scale)
        if v < 0 && n != 0 { append(45) }
        appendDigits(n / unit)
        if decimals > 0 {
            append(46)
            var frac = n % unit, div = unit / 10
            while div > 0 { append(48 + UInt8(frac / div)); frac %= div; div /= 10 }
        }
    }

    /// As `appendFixed`, `null` for NaN/∞ (JSON has no such numbers).
    mutating func appendJSONNumber(_ v: Double, _ decimals: Int) {
        if v.isFinite { appendFixed(v, decimals) } else { append("null") }
    }
}

enum FixedPoint {
    static let powers: [Double] = (0...9).map { pow(10, Double($0)) }
}
