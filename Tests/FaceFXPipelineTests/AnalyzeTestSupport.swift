// Clips with known face motion for the analyze tests: samples/astronaut.png placed on a plain
// gradient by exact similarity transforms (bilinear, computed here so the ground truth has no
// convention doubt), encoded by the ffmpeg CLI; and readers for the CSV / JSONL outputs.
import Foundation
import XCTest

/// Where the astronaut photo goes on one frame: the source point `anchor` (default: the face centre)
/// lands on `center`, scaled by `scale` and turned by `angle` (radians, clockwise on screen).
/// Coordinates are continuous pixels (pixel i covers [i, i+1)), source and frame alike.
struct Placement {
    var center: SIMD2<Double>
    var scale: Double = 1
    var angle: Double = 0
    /// Centre of astronaut.png's face (landmark box 180...271 × 71...178).
    static let faceCenter = SIMD2<Double>(226, 125)
    /// Face width (landmark box) at scale 1, pixels.
    static let faceWidth = 91.0
    var anchor = Placement.faceCenter

    func map(_ p: SIMD2<Double>) -> SIMD2<Double> {
        let d = (p - anchor) * scale
        let c = cos(angle), s = sin(angle)
        return center + SIMD2(c * d.x - s * d.y, s * d.x + c * d.y)
    }

    func unmap(_ q: SIMD2<Double>) -> SIMD2<Double> {
        let d = q - center
        let c = cos(angle), s = sin(angle)
        return anchor + SIMD2(c * d.x + s * d.y, -s * d.x + c * d.y) / scale
    }
}

enum SyntheticClip {
    static let sourceSize = 512

    static let astronaut: Result<[UInt8], Error> = Result {
        guard let ffmpeg = CLI.ffmpegPath else { throw MissingTestInput("ffmpeg CLI not installed (scripts/install-deps.sh installs it)") }
        let path = CLI.packageRoot.appendingPathComponent("samples/astronaut.png").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ffmpeg)
        p.arguments = ["-v", "error", "-nostdin", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgba", "-"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard data.count == sourceSize * sourceSize * 4 else { throw NSError(domain: "astronaut.png", code: 1) }
        return [UInt8](data)
    }

    /// Renders `frames` (the placements of each frame; [] = no face) at width × height and encodes them
    /// (30 fps, x264 crf 12, 4:2:0), with an optional ffmpeg video filter applied before encoding.
    static func make(_ url: URL, width: Int, height: Int, frames: [[Placement]], filter: String? = nil) throws {
        let src = try astronaut.get()
        let raw = url.deletingPathExtension().appendingPathExtension("rgba")
        defer { try? FileManager.default.removeItem(at: raw) }
        FileManager.default.createFile(atPath: raw.path, contents: nil)
        let handle = try FileHandle(forWritingTo: raw)
        var frame = [UInt8](repeating: 0, count: width * height * 4)
        for placements in frames {
            render(into: &frame, width: width, height: height, source: src, placements: placements)
            handle.write(Data(frame))
        }
        try handle.close()
        var args = ["-f", "rawvideo", "-pix_fmt", "rgba", "-s", "\(width)x\(height)", "-r", "30", "-i", raw.path]
        if let filter { args += ["-vf", filter] }
        args += ["-c:v", "libx264", "-crf", "12", "-preset", "veryfast", "-pix_fmt", "yuv420p", url.path]
        try CLI.ffmpeg(args)
    }

    static func render(into frame: inout [UInt8], width: Int, height: Int, source: [UInt8], placements: [Placement]) {
        let n = sourceSize
        frame.withUnsafeMutableBufferPointer { out in
            source.withUnsafeBufferPointer { src in
                for y in 0..<height {
                    for x in 0..<width {
                        let o = (y * width + x) * 4
                        out[o] = UInt8(70 + 60 * x / max(width, 1)); out[o + 1] = UInt8(90 + 50 * y / max(height, 1))
                        out[o + 2] = 110; out[o + 3] = 255
                    }
                }
                for p in placements {
                    // Frame-space bounds of the photo.
                    let corners = [SIMD2<Double>(0, 0), SIMD2(Double(n), 0), SIMD2(0, Double(n)), SIMD2(Double(n), Double(n))].map(p.map)
                    let x0 = max(0, Int(corners.map(\.x).min()!.rounded(.down))), x1 = min(width - 1, Int(corners.map(\.x).max()!.rounded(.up)))
                    let y0 = max(0, Int(corners.map(\.y).min()!.rounded(.down))), y1 = min(height - 1, Int(corners.map(\.y).max()!.rounded(.up)))
                    guard x0 <= x1, y0 <= y1 else { continue }
                    for y in y0...y1 {
                        for x in x0...x1 {
                            // Pixel centre → source continuous point → source index coordinates.
                            let s = p.unmap(SIMD2(Double(x) + 0.5, Double(y) + 0.5)) - 0.5
                            guard s.x >= -0.5, s.y >= -0.5, s.x <= Double(n) - 0.5, s.y <= Double(n) - 0.5 else { continue }
                            let sx = min(max(s.x, 0), Double(n - 1)), sy = min(max(s.y, 0), Double(n - 1))
                            let ix = min(Int(sx), n - 2), iy = min(Int(sy), n - 2)
                            let fx = sx - Double(ix), fy = sy - Double(iy)
                            let o = (y * width + x) * 4
                            for c in 0..<3 {
                                let a = Double(src[(iy * n + ix) * 4 + c]), b = Double(src[(iy * n + ix + 1) * 4 + c])
                                let d = Double(src[((iy + 1) * n + ix) * 4 + c]), e = Double(src[((iy + 1) * n + ix + 1) * 4 + c])
                                let v = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy
                                out[o + c] = UInt8(min(max(v.rounded(), 0), 255))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// CSV read back by python3's csv module (strict RFC 4180 parsing), as header + rows.
func readCSVWithPython(_ url: URL) throws -> (header: [String], rows: [[String]]) {
    let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let python else { throw MissingTestInput("python3 not installed") }
    let script = """
        import csv, json, sys
        with open(sys.argv[1], newline='', encoding='utf-8') as f:
            rows = list(csv.reader(f, strict=True))
        json.dump(rows, sys.stdout)
        """
    let r = try CLI.run(python, ["-c", script, url.path], timeout: 60)
    guard r.status == 0, let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String]], !rows.isEmpty else {
        throw NSError(domain: "csv", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr])
    }
    return (rows[0], Array(rows.dropFirst()))
}

/// One JSON object per line.
func readJSONL(_ url: URL) throws -> [[String: Any]] {
    let text = try String(contentsOf: url, encoding: .utf8)
    XCTAssertTrue(text.hasSuffix("\n"))
    return try text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
        guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw NSError(domain: "jsonl", code: 1, userInfo: [NSLocalizedDescriptionKey: String(line.prefix(200))])
        }
        return o
    }
}

/// Faces of one JSONL frame object.
func faces(_ frame: [String: Any]) -> [[String: Any]] { frame["faces"] as? [[String: Any]] ?? [] }

/// 2-D landmarks of a JSONL face.
func landmarks2D(_ face: [String: Any]) -> [SIMD2<Double>] {
    (face["landmarks"] as? [[Double]] ?? []).map { SIMD2($0[0], $0[1]) }
}

/// Outer eye corners (33, 263) distance.
func interOcular(_ p: [SIMD2<Double>]) -> Double {
    let d = p[263] - p[33]
    return (d * d).sum().squareRoot()
}

func distance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double { ((a - b) * (a - b)).sum().squareRoot() }

func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
