// Plain-Swift reference of the colour stage, written from the textbook formulas (Kr/Kb form,
// G solved from the luma equation) rather than from the converter's matrices, so a wrong
// matrix, range or siting on the GPU side shows up as a mismatch.
import Foundation
@testable import FaceFXGPU

/// A synthetic decoder frame: sample codes per plane, uploaded with padded strides.
struct PlanarFrame {
    let width: Int, height: Int
    let format: YUVFrameFormat
    var y: [Int], u: [Int], v: [Int]
    var chromaWidth: Int { format.chromaWidth(width) }
    var chromaHeight: Int { format.chromaHeight(height) }

    enum Pattern { case random, gradient }

    init(width: Int, height: Int, format: YUVFrameFormat, pattern: Pattern, seed: UInt64) {
        self.width = width; self.height = height; self.format = format
        let k = 1 << (format.bitDepth - 8)
        let cw = format.chromaWidth(width), ch = format.chromaHeight(height)
        let maxCode = (1 << format.bitDepth) - 1
        var rng = TestRNG(seed: seed)
        switch pattern {
        case .random:
            let yr = format.fullRange ? 0...maxCode : 16 * k...235 * k
            let cr = format.fullRange ? 0...maxCode : 16 * k...240 * k
            y = (0..<(width * height)).map { _ in rng.int(yr) }
            u = (0..<(cw * ch)).map { _ in rng.int(cr) }
            v = (0..<(cw * ch)).map { _ in rng.int(cr) }
        case .gradient:
            // Smooth, in-gamut content: an unfiltered frame must come back almost unchanged.
            let lo = 0.3, hi = 0.75  // with the chroma swing below, no RGB channel clips
            y = (0..<(width * height)).map { i in
                let x = Double(i % width) / Double(width), yy = Double(i / width) / Double(height)
                return Int(((lo + (hi - lo) * (0.6 * x + 0.4 * yy)) * Double(maxCode)).rounded())
            }
            let mid = Double(1 << (format.bitDepth - 1))
            u = (0..<(cw * ch)).map { i in
                let x = Double(i % cw) / Double(cw)
                return Int((mid + 0.05 * Double(maxCode) * sin(2 * .pi * x)).rounded())
            }
            v = (0..<(cw * ch)).map { i in
                let yy = Double(i / cw) / Double(ch)
                return Int((mid + 0.05 * Double(maxCode) * cos(2 * .pi * yy)).rounded())
            }
        }
    }

    /// Calls `body` with planes laid out like a decoder's (stride larger than the row).
    func withPlanes<R>(_ body: (YUVPlane, YUVPlane, YUVPlane) throws -> R) rethrows -> R {
        let bps = format.bytesPerSample
        func bytes(_ codes: [Int], _ w: Int, _ h: Int) -> (Data, Int) {
            let stride = (w * bps + 63) / 64 * 64 + 32
            var d = Data(repeating: 0xA5, count: stride * h)  // junk in the padding must be ignored
            d.withUnsafeMutableBytes { (p: UnsafeMutableRawBufferPointer) in
                for r in 0..<h {
                    for c in 0..<w {
                        let val = codes[r * w + c]
                        if bps == 1 { p[r * stride + c] = UInt8(val) } else {
                            p[r * stride + 2 * c] = UInt8(val & 0xFF)
                            p[r * stride + 2 * c + 1] = UInt8(val >> 8)
                        }
                    }
                }
            }
            return (d, stride)
        }
        let (yd, ys) = bytes(y, width, height)
        let (ud, us) = bytes(u, chromaWidth, chromaHeight)
        let (vd, vs) = bytes(v, chromaWidth, chromaHeight)
        return try yd.withUnsafeBytes { yp in
            try ud.withUnsafeBytes { up in
                try vd.withUnsafeBytes { vp in
                    try body(YUVPlane(base: yp.baseAddress!, bytesPerRow: ys, width: width, height: height),
                             YUVPlane(base: up.baseAddress!, bytesPerRow: us, width: chromaWidth, height: chromaHeight),
                             YUVPlane(base: vp.baseAddress!, bytesPerRow: vs, width: chromaWidth, height: chromaHeight))
                }
            }
        }
    }
}

enum ColorReference {
    static func coefficients(_ m: YUVMatrix) -> (kr: Double, kb: Double) {
        switch m {
        case .bt601: return (0.299, 0.114)
        case .bt709: return (0.2126, 0.0722)
        case .bt2020: return (0.2627, 0.0593)
        }
    }

    /// RGB8 (3 bytes per pixel, row 0 = top) as the frame texture should hold it.
    static func rgb8(_ f: PlanarFrame) -> [UInt8] {
        let (kr, kb) = coefficients(f.format.matrix)
        let kg = 1 - kr - kb
        let n = f.format.bitDepth
        let k = Double(1 << (n - 8)), maxCode = Double((1 << n) - 1), mid = Double(1 << (n - 1))
        let cw = f.chromaWidth, ch = f.chromaHeight
        func chroma(_ plane: [Int], _ cx: Double, _ cy: Double) -> Double {
            let x0 = floor(cx), y0 = floor(cy)
            let fx = cx - x0, fy = cy - y0
            func at(_ x: Int, _ y: Int) -> Double {
                Double(plane[min(max(y, 0), ch - 1) * cw + min(max(x, 0), cw - 1)])
            }
            let xi = Int(x0), yi = Int(y0)
            let top = at(xi, yi) * (1 - fx) + at(xi + 1, yi) * fx
            let bottom = at(xi, yi + 1) * (1 - fx) + at(xi + 1, yi + 1) * fx
            return top * (1 - fy) + bottom * fy
        }
        var out = [UInt8](repeating: 0, count: f.width * f.height * 3)
        for py in 0..<f.height {
            let cy = f.format.chromaShiftY == 1 ? Double(py) / 2 - 0.25 : Double(py)
            for px in 0..<f.width {
                var cx = Double(px)
                if f.format.chromaShiftX == 1 { cx = f.format.chromaLocation == .left ? Double(px) / 2 : Double(px) / 2 - 0.25 }
                let yc = Double(f.y[py * f.width + px])
                let cb = chroma(f.u, cx, cy), cr = chroma(f.v, cx, cy)
                let yn, pb, pr: Double
                if f.format.fullRange {
                    yn = yc / maxCode; pb = (cb - mid) / maxCode; pr = (cr - mid) / maxCode
                } else {
                    yn = (yc / k - 16) / 219; pb = (cb / k - 128) / 224; pr = (cr / k - 128) / 224
                }
                let r = yn + 2 * (1 - kr) * pr
                let b = yn + 2 * (1 - kb) * pb
                let g = (yn - kr * r - kb * b) / kg
                let i = (py * f.width + px) * 3
                out[i] = q8(r); out[i + 1] = q8(g); out[i + 2] = q8(b)
            }
        }
        return out
    }

    static func q8(_ v: Double) -> UInt8 { UInt8((min(max(v, 0), 1) * 255).rounded()) }

    /// 8-bit I420 planes (tight, no padding) from RGB8, chroma filtered as documented for the packer.
    static func i420(rgb: [UInt8], width w: Int, height h: Int, matrix: YUVMatrix, fullRange: Bool,
                     left: Bool) -> (y: [UInt8], u: [UInt8], v: [UInt8]) {
        let (kr, kb) = coefficients(matrix)
        let kg = 1 - kr - kb
        func encode(_ r: Double, _ g: Double, _ b: Double) -> (Double, Double, Double) {
            let yn = kr * r + kg * g + kb * b
            let pb = (b - yn) / (2 * (1 - kb)), pr = (r - yn) / (2 * (1 - kr))
            return fullRange ? (255 * yn, 128 + 255 * pb, 128 + 255 * pr) : (16 + 219 * yn, 128 + 224 * pb, 128 + 224 * pr)
        }
        func code(_ v: Double) -> UInt8 { UInt8(min(max(v.rounded(), 0), 255)) }
        func px(_ x: Int, _ y: Int) -> (Double, Double, Double) {
            let i = (min(max(y, 0), h - 1) * w + min(max(x, 0), w - 1)) * 3
            return (Double(rgb[i]) / 255, Double(rgb[i + 1]) / 255, Double(rgb[i + 2]) / 255)
        }
        var yp = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w { let p = px(x, y); yp[y * w + x] = code(encode(p.0, p.1, p.2).0) } }
        let cw = (w + 1) / 2, ch = (h + 1) / 2
        var up = [UInt8](repeating: 0, count: cw * ch), vp = up
        for cy in 0..<ch {
            for cx in 0..<cw {
                var acc = (0.0, 0.0, 0.0)
                let taps: [(Int, Double)] = left ? [(2 * cx - 1, 0.125), (2 * cx, 0.25), (2 * cx + 1, 0.125)]
                                                 : [(2 * cx, 0.25), (2 * cx + 1, 0.25)]
                for dy in 0...1 {
                    for (x, wgt) in taps {
                        let p = px(x, 2 * cy + dy)
                        acc.0 += wgt * p.0; acc.1 += wgt * p.1; acc.2 += wgt * p.2
                    }
                }
                let e = encode(acc.0, acc.1, acc.2)
                up[cy * cw + cx] = code(e.1); vp[cy * cw + cx] = code(e.2)
            }
        }
        return (yp, up, vp)
    }
}

/// Max and mean absolute difference.
struct ErrorStats: CustomStringConvertible {
    var maxAbs = 0, sumAbs = 0, count = 0
    var mean: Double { count == 0 ? 0 : Double(sumAbs) / Double(count) }
    mutating func add(_ a: Int, _ b: Int) { let d = abs(a - b); maxAbs = max(maxAbs, d); sumAbs += d; count += 1 }
    var description: String { "max \(maxAbs) mean \(String(format: "%.3f", mean))" }
}
