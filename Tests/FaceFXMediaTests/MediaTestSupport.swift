import Foundation
import XCTest
@testable import FaceFXMedia

/// Test inputs made on the fly with the ffmpeg CLI (tests only; the product never runs it), cached per process.
enum Fixtures {
    static let ffmpegPath = "/usr/bin/ffmpeg"
    static let ffprobePath = "/usr/bin/ffprobe"
    static let dir: String = {
        let d = NSTemporaryDirectory() + "facefx-media-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Fixtures.dir) }
        return d
    }()
    private static var made: [String: String] = [:]
    private static let lock = NSRecursiveLock()

    static func requireTools() throws {
        guard FileManager.default.isExecutableFile(atPath: ffmpegPath),
              FileManager.default.isExecutableFile(atPath: ffprobePath) else {
            throw MissingTestInput("ffmpeg/ffprobe CLI not installed (scripts/install-deps.sh installs them)")
        }
    }

    /// Runs a tool, returns stdout; fails the test on a non-zero exit.
    @discardableResult
    static func run(_ tool: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let outPipe = Pipe(), errPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        try p.run()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            struct ToolFailed: Error, CustomStringConvertible { let description: String }
            throw ToolFailed(description: "\(tool) \(args.joined(separator: " ")) failed: \(String(decoding: err, as: UTF8.self))")
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func ffmpeg(_ args: [String]) throws {
        try requireTools()
        try run(ffmpegPath, ["-hide_banner", "-v", "error", "-y"] + args)
    }

    static func ffprobe(_ args: [String]) throws -> String {
        try requireTools()
        return try run(ffprobePath, ["-v", "error"] + args)
    }

    /// Path of a named fixture, generated once by `make(path)`.
    static func fixture(_ name: String, _ make: (String) throws -> Void) throws -> String {
        try requireTools()
        lock.lock(); defer { lock.unlock() }
        if let p = made[name] { return p }
        let p = dir + "/" + name
        try make(p)
        made[name] = p
        return p
    }

    /// 320×240 30 fps 2 s H.264 (B-frames) + AAC, moov at the end (no faststart).
    static func basicMP4() throws -> String {
        try fixture("basic.mp4") { p in
            try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=2",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2",
                        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "96k", "-shortest", p])
        }
    }

    static func tempPath(_ name: String) -> String {
        dir + "/" + UUID().uuidString.prefix(8) + "-" + name
    }

    /// Leftover temp files of the writer in a folder.
    static func leftovers(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".tmp") }
    }
}

/// Everything decoded from a file: pts list, luma planes (8-bit), and the info.
struct DecodedVideo {
    var info: VideoStreamInfo
    var pts: [Int64] = []
    var luma: [[UInt8]] = []
    var corrupt = 0
    var warnings: [String] = []
}

func decodeAll(_ path: String, keepLuma: Bool = false) throws -> DecodedVideo {
    let reader = try VideoReader(path: path)
    var result = DecodedVideo(info: reader.info)
    var warnings: [String] = []
    reader.onWarning = { warnings.append($0) }
    while let f = try reader.nextFrame() {
        result.pts.append(f.pts)
        if keepLuma { result.luma.append(lumaBytes(f)) }
    }
    result.corrupt = reader.corruptPackets
    result.warnings = warnings
    return result
}

/// 8-bit luma, tightly packed (10-bit samples >> 2).
func lumaBytes(_ f: VideoFrame) -> [UInt8] {
    let p = f.planes[0]
    var out = [UInt8](repeating: 0, count: p.width * p.height)
    for y in 0..<p.height {
        let row = p.base + y * p.stride
        for x in 0..<p.width {
            out[y * p.width + x] = f.bitDepth > 8
                ? UInt8(min(255, row.load(fromByteOffset: 2 * x, as: UInt16.self) >> UInt16(f.bitDepth - 8)))
                : row.load(fromByteOffset: x, as: UInt8.self)
        }
    }
    return out
}

/// CPU stand-in for the GPU stage: copies a decoded frame into an I420 buffer (4:2:0 by point-sampling chroma).
func fill(_ buf: I420Buffer, from f: VideoFrame) {
    if f.bitDepth == 8 && f.chromaShiftX == 1 && f.chromaShiftY == 1 {
        // Fast path (row copies), the common case; the sampling loop below is slow in debug builds.
        for (i, (dst, stride)) in [(buf.y, buf.yStride), (buf.u, buf.uvStride), (buf.v, buf.uvStride)].enumerated() {
            let p = f.planes[i]
            for y in 0..<p.height { (dst + y * stride).update(from: (p.base + y * p.stride).assumingMemoryBound(to: UInt8.self), count: p.width) }
        }
        return
    }
    let shift = max(0, f.bitDepth - 8)
    func sample(_ plane: VideoFrame.Plane, _ x: Int, _ y: Int) -> UInt8 {
        let row = plane.base + min(y, plane.height - 1) * plane.stride
        if f.bitDepth > 8 { return UInt8(min(255, row.load(fromByteOffset: 2 * min(x, plane.width - 1), as: UInt16.self) >> UInt16(shift))) }
        return row.load(fromByteOffset: min(x, plane.width - 1), as: UInt8.self)
    }
    for y in 0..<buf.height {
        for x in 0..<buf.width { buf.y[y * buf.yStride + x] = sample(f.planes[0], x, y) }
    }
    let cw = (buf.width + 1) / 2, ch = (buf.height + 1) / 2
    for y in 0..<ch {
        let sy = (y * 2) >> f.chromaShiftY
        for x in 0..<cw {
            let sx = (x * 2) >> f.chromaShiftX
            buf.u[y * buf.uvStride + x] = sample(f.planes[1], sx, sy)
            buf.v[y * buf.uvStride + x] = sample(f.planes[2], sx, sy)
        }
    }
}

/// Decode `input` and re-encode every frame through VideoWriter, as the pipeline will (minus the GPU).
@discardableResult
func transcode(_ input: String, to output: String, options: EncodeOptions = EncodeOptions(preset: "veryfast"),
               warnings: UnsafeMutablePointer<[String]>? = nil) throws -> VideoWriter {
    let reader = try VideoReader(path: input)
    let writer = try VideoWriter(path: output, input: reader.info, inputPath: input, options: options,
                                 onWarning: { warnings?.pointee.append($0) })
    while let f = try reader.nextFrame() {
        let buf = writer.makeFrameBuffer()
        fill(buf, from: f)
        try writer.write(buf, pts: f.pts)
    }
    try writer.finish()
    return writer
}

func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count)
    var se = 0.0
    for i in 0..<a.count { let d = Double(a[i]) - Double(b[i]); se += d * d }
    if se == 0 { return 99 }
    let mse = se / Double(a.count)
    return 10 * log10(255 * 255 / mse)
}

/// MD5 of every audio packet's payload, in file order, via ffprobe.
func audioPacketHashes(_ path: String) throws -> [String] {
    let out = try Fixtures.ffprobe(["-select_streams", "a:0", "-show_packets", "-show_data_hash", "md5",
                                    "-show_entries", "packet=data_hash", "-of", "csv=p=0", path])
    // Side-data rows (e.g. "Skip Samples,...") may be interleaved: keep only the hashes.
    return out.split(whereSeparator: { $0 == "\n" || $0 == "," }).map(String.init).filter { $0.hasPrefix("MD5:") }
}

func streamField(_ path: String, stream: String, _ entries: String) throws -> String {
    try Fixtures.ffprobe(["-select_streams", stream, "-show_entries", "stream=\(entries)", "-of", "csv=p=0", path])
        .trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A model, golden, sample, tool or GL context the tests need is missing: a failure, never a skip
/// (CI must not go green with the GPU path or the models gone).
struct MissingTestInput: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
