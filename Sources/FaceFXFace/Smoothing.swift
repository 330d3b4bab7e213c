// Landmark / blendshape smoothing.
//  - OneEuroFilter: online (causal) adaptive low-pass, Casiez, Roussel, Vogel, CHI 2012.
//  - OfflineSmoother: zero-lag smoother that uses future frames: a Rauch–Tung–Striebel smoother
//    of a constant-velocity model per coordinate (steady state = cubic smoothing spline, gain
//    1/(1+(f/fc)^4): no phase lag, constant-velocity motion reproduced exactly), run twice: the
//    second pass raises the process noise where the first pass's residuals show the model was
//    wrong (blinks, sudden turns), so fast events survive while still faces stay still.

import Foundation

/// Scalar One Euro filter. `scale` divides the speed before it drives the cutoff, so the same
/// parameters work for any unit (pixels of a small or large face): pass the inter-ocular distance.
public struct OneEuroFilter: Sendable {
    public var minCutoff: Double
    public var beta: Double
    public var dCutoff: Double
    private var lastTime: Double?
    private var x = 0.0
    private var dx = 0.0

    public init(minCutoff: Double, beta: Double, dCutoff: Double = 1.0) {
        self.minCutoff = minCutoff; self.beta = beta; self.dCutoff = dCutoff
    }

    /// Exponential smoothing factor of a first-order low-pass at `cutoff` Hz for a `dt` step.
    static func alpha(cutoff: Double, dt: Double) -> Double {
        let tau = 1 / (2 * Double.pi * cutoff)
        return 1 / (1 + tau / dt)
    }

    public mutating func reset() { lastTime = nil }

    public mutating func filter(_ value: Double, time: Double, scale: Double = 1) -> Double {
        guard let t0 = lastTime else {
            lastTime = time; x = value; dx = 0
            return value
        }
        let dt = time - t0
        guard dt > 0 else { return x }   // duplicate time stamp: keep the last output
        lastTime = time
        let rawDx = (value - x) / dt / max(scale, 1e-12)
        dx += OneEuroFilter.alpha(cutoff: dCutoff, dt: dt) * (rawDx - dx)
        let cutoff = minCutoff + beta * abs(dx)
        x += OneEuroFilter.alpha(cutoff: cutoff, dt: dt) * (value - x)
        return x
    }
}

/// One Euro per landmark coordinate, speeds measured in inter-ocular distances per second.
public struct LandmarkOneEuroSmoother: Sendable {
    public var settings: FaceSettings.Smoothing
    private var filters: [OneEuroFilter] = []

    public init(settings: FaceSettings.Smoothing = .init()) { self.settings = settings }

    public mutating func reset() { filters = [] }

    public mutating func smooth(_ points: [Point], time: Double) -> [Point] {
        if filters.count != points.count * 3 {
            filters = Array(repeating: OneEuroFilter(minCutoff: settings.oneEuroMinCutoff, beta: settings.oneEuroBeta,
                                                     dCutoff: settings.oneEuroDCutoff), count: points.count * 3)
        }
        let iod = points.count > FaceLandmarks.subjectLeftEyeOuter ? FaceLandmarks.interOcularDistance(points) : 1
        var out = points
        for i in points.indices {
            for c in 0..<3 {
                out[i][c] = filters[3 * i + c].filter(points[i][c], time: time, scale: max(iod, 1e-6))
            }
        }
        return out
    }
}

public struct OfflineSmoother: Sendable {
    public var settings: FaceSettings.Smoothing

    public init(settings: FaceSettings.Smoothing = .init()) { self.settings = settings }

    /// Smooths one face track: `track[frame][landmark]` (frame pixels) at `times` (seconds, increasing).
    /// Noise and process levels scale with each frame's inter-ocular distance, so results do not
    /// depend on face size. Returns the same shape.
    public func smoothOffline(track: [[Point]], times: [Double]) -> [[Point]] {
        let n = track.count
        precondition(times.count == n, "one time per frame")
        guard n > 2, let m = track.first?.count, m > 0 else { return track }
        // Face size per frame, itself lightly smoothed (a median over ±3 frames) so one bad frame
        // does not change the noise model.
        let rawIOD: [Double] = track.map { m > FaceLandmarks.subjectLeftEyeOuter ? max(FaceLandmarks.interOcularDistance($0), 1e-6) : 1 }
        let iod = Self.runningMedian(rawIOD, radius: 3)
        // Series-major copy: series (landmark, coordinate) × frames.
        var series = [[Double]](repeating: [Double](repeating: 0, count: n), count: m * 3)
        for f in 0..<n { for i in 0..<m { for c in 0..<3 { series[3 * i + c][f] = track[f][i][c] } } }
        let smoothed = smoothSeries(series, times: times, unit: iod,
                                    cutoffHz: settings.offlineCutoffHz, noiseFloor: settings.offlineNoiseFloorIOD)
        var out = track
        for f in 0..<n { for i in 0..<m { for c in 0..<3 { out[f][i][c] = smoothed[3 * i + c][f] } } }
        return out
    }

    /// Smooths scalar channels (e.g. 52 blendshapes): `frames[frame][channel]`.
    public func smoothOffline(scalars frames: [[Double]], times: [Double]) -> [[Double]] {
        let n = frames.count
        precondition(times.count == n, "one time per frame")
        guard n > 2, let m = frames.first?.count, m > 0 else { return frames }
        var series = [[Double]](repeating: [Double](repeating: 0, count: n), count: m)
        for f in 0..<n { for c in 0..<m { series[c][f] = frames[f][c] } }
        let s = smoothSeries(series, times: times, unit: [Double](repeating: 1, count: n),
                             cutoffHz: settings.offlineScalarCutoffHz, noiseFloor: settings.offlineNoiseFloorScalar)
        var out = frames
        for f in 0..<n { for c in 0..<m { out[f][c] = s[c][f] } }
        return out
    }

    /// One scalar series.
    public func smoothOffline(values: [Double], times: [Double]) -> [Double] {
        smoothOffline(scalars: values.map { [$0] }, times: times).map { $0[0] }
    }

    // MARK: - core

    /// Two-pass adaptive RTS on every series. `unit[f]` is the per-frame scale (IOD or 1).
    func smoothSeries(_ series: [[Double]], times: [Double], unit: [Double],
                      cutoffHz: Double, noiseFloor: Double) -> [[Double]] {
        let n = times.count
        let dts = (1..<n).map { max(times[$0] - times[$0 - 1], 1e-6) }
        let dtMedian = dts.sorted()[dts.count / 2]
        let wc = 2 * Double.pi * cutoffHz
        // Process noise density for unit measurement variance: q = r·dt·ωc⁴ gives the spline cutoff ωc.
        let qUnit = dtMedian * pow(wc, 4)

        let count = series.count
        var first = [[Double]](repeating: [], count: count)
        var noise = [Double](repeating: 0, count: count)
        var ratio = [[Double]](repeating: [], count: count)   // local residual energy / noise variance, per series and frame
        first.withUnsafeMutableBufferPointer { first in
            noise.withUnsafeMutableBufferPointer { noise in
                ratio.withUnsafeMutableBufferPointer { ratio in
                    // Each series on its own (its slots of the three arrays), spread over the cores.
                    Self.spread(count, work: count * n, threads: settings.threads) { k in
                        let y = series[k]
                        // Robust noise level (in units) from third differences: var(Δ³y) = 20σ² for white noise,
                        // while smooth motion (even a 1 Hz swing) contributes almost nothing to Δ³.
                        var d3: [Double] = []
                        d3.reserveCapacity(n)
                        if n >= 4 {
                            for f in 1..<(n - 2) { d3.append(abs(y[f + 2] - 3 * y[f + 1] + 3 * y[f] - y[f - 1]) / unit[f]) }
                        }
                        let sigma = max(Self.median(d3) / 0.6745 / sqrt(20), noiseFloor)
                        noise[k] = sigma
                        let r = unit.map { ($0 * sigma) * ($0 * sigma) }
                        let q = unit.map { ($0 * sigma) * ($0 * sigma) * qUnit }
                        let s = Self.rts(y, times: times, r: r, q: q)
                        first[k] = s
                        var e2 = [Double](repeating: 0, count: n)
                        for f in 0..<n { let e = (y[f] - s[f]) / (unit[f] * sigma); e2[f] = e * e }
                        // Mean over ±2 frames, then max over ±5 so the boost also covers the zero crossings of
                        // an oscillating bias (otherwise those stiff islands keep part of the lag).
                        ratio[k] = Self.windowMax(Self.windowMean(e2, radius: 2), radius: 5)
                    }
                }
            }
        }
        // Whole-face (pooled) residual ratio catches rigid motion that each series sees only weakly
        // (summed in series order: the same sums however the series were spread).
        var pooled = [Double](repeating: 0, count: n)
        for r in ratio { for f in 0..<n { pooled[f] += r[f] } }
        for f in 0..<n { pooled[f] /= Double(ratio.count) }

        let usePooled = series.count >= 30
        var out = [[Double]](repeating: [], count: count)
        out.withUnsafeMutableBufferPointer { out in
            Self.spread(count, work: count * n, threads: settings.threads) { k in
                let y = series[k]
                let sigma = noise[k]
                var boosted = false
                var q = [Double](repeating: 0, count: n)
                for f in 0..<n {
                    // The pooled ratio averages ~1000 series, so a much smaller excess is significant there.
                    // (Only with many series: for a few blendshape channels "pooled" is just noise.)
                    let pooledExcess = usePooled ? (pooled[f] - settings.offlinePooledAdaptThreshold) * settings.offlineAdaptThreshold : 0
                    let excess = max(0, ratio[k][f] - settings.offlineAdaptThreshold, pooledExcess)
                    if excess > 0 { boosted = true }
                    let u = unit[f] * sigma
                    q[f] = u * u * qUnit * (1 + settings.offlineAdaptGain * excess * excess)
                }
                if !boosted { out[k] = first[k]; return }   // pass 2 would be identical
                let r = unit.map { ($0 * sigma) * ($0 * sigma) }
                out[k] = Self.rts(y, times: times, r: r, q: q)
            }
        }
        return out
    }

    /// Runs `body(k)` for every k in 0..<count, spread over `threads` threads (nil: all cores) when the job
    /// (`work`: about the values it touches) is large enough to pay for the hand-over; in order on this
    /// thread otherwise. `body` must only write what belongs to its k.
    static func spread(_ count: Int, work: Int, threads: Int?, _ body: (Int) -> Void) {
        let pool = SmoothingWorkers.shared
        let lanes = min(count, threads ?? pool.threads + 1)
        guard lanes > 1, work >= 20_000 else { for k in 0..<count { body(k) }; return }
        pool.run(lanes: lanes) { lane in
            // Contiguous ranges: neighbouring series share cache lines of the output arrays less.
            for k in (lane * count / lanes)..<((lane + 1) * count / lanes) { body(k) }
        }
    }

    /// Kalman filter + RTS smoother for x'' = white noise. r[f]: measurement variance at frame f;
    /// q[f]: process-noise density on the step ending at frame f.
    static func rts(_ y: [Double], times: [Double], r: [Double], q: [Double]) -> [Double] {
        let n = y.count
        var out = [Double](repeating: 0, count: n)
        guard n > 0 else { return out }
        // Per frame, in one buffer (every series of every window runs this): the filtered state (position,
        // velocity) and covariance (p00, p01, p11) at `filtered`, then the predicted ones at `predicted`.
        let filtered = 0, predicted = 5
        var store = [Double](repeating: 0, count: 10 * n)
        store.withUnsafeMutableBufferPointer { m in
            var x = (y[0], 0.0)
            // Unknown initial speed: a wide prior (≈ 1000 noise levels per second).
            var p = (r[0], 0.0, r[0] * 1e6)
            for f in 0..<n {
                if f > 0 {
                    let dt = max(times[f] - times[f - 1], 1e-6)
                    x = (x.0 + dt * x.1, x.1)
                    let qq = q[f]
                    p = (p.0 + 2 * dt * p.1 + dt * dt * p.2 + qq * dt * dt * dt / 3,
                         p.1 + dt * p.2 + qq * dt * dt / 2,
                         p.2 + qq * dt)
                }
                let kf = 10 * f + filtered, kp = 10 * f + predicted
                m[kp] = x.0; m[kp + 1] = x.1; m[kp + 2] = p.0; m[kp + 3] = p.1; m[kp + 4] = p.2
                let s = p.0 + r[f]
                let k0 = p.0 / s, k1 = p.1 / s
                let innov = y[f] - x.0
                x = (x.0 + k0 * innov, x.1 + k1 * innov)
                p = ((1 - k0) * p.0, (1 - k0) * p.1, p.2 - k1 * p.1)
                m[kf] = x.0; m[kf + 1] = x.1; m[kf + 2] = p.0; m[kf + 3] = p.1; m[kf + 4] = p.2
            }
            var xs = (m[10 * (n - 1) + filtered], m[10 * (n - 1) + filtered + 1])
            out[n - 1] = xs.0
            guard n > 1 else { return }
            for f in stride(from: n - 2, through: 0, by: -1) {
                let kf = 10 * f + filtered, kpNext = 10 * (f + 1) + predicted
                let dt = max(times[f + 1] - times[f], 1e-6)
                let P = (m[kf + 2], m[kf + 3], m[kf + 4]), Pn = (m[kpNext + 2], m[kpNext + 3], m[kpNext + 4])
                // C = P Fᵀ Pn⁻¹ with F = [1 dt; 0 1].
                let a = P.0 + dt * P.1, b = P.1        // (P Fᵀ) first column... row 0: [P00+dt P01, P01]
                let c = P.1 + dt * P.2, d = P.2        // row 1: [P01+dt P11, P11]
                let det = Pn.0 * Pn.2 - Pn.1 * Pn.1
                guard abs(det) > 1e-300 else { out[f] = m[kf]; xs = (m[kf], m[kf + 1]); continue }
                let i00 = Pn.2 / det, i01 = -Pn.1 / det, i11 = Pn.0 / det
                let c00 = a * i00 + b * i01, c01 = a * i01 + b * i11
                let c10 = c * i00 + d * i01, c11 = c * i01 + d * i11
                let dx0 = xs.0 - m[kpNext], dx1 = xs.1 - m[kpNext + 1]
                xs = (m[kf] + c00 * dx0 + c01 * dx1, m[kf + 1] + c10 * dx0 + c11 * dx1)
                out[f] = xs.0
            }
        }
        return out
    }

    /// The median (the mean of the two middle values for an even count), found by selection in linear time:
    /// every landmark series of a clip takes one, and sorting them was a sixth of the offline smoother's time.
    static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return 0 }
        var a = v
        let n = a.count, mid = n / 2
        a.withUnsafeMutableBufferPointer { select(mid, in: $0) }
        guard n % 2 == 0 else { return a[mid] }
        // After the selection everything before `mid` is ≤ a[mid]: the lower middle value is their maximum.
        return (a[..<mid].max()! + a[mid]) / 2
    }

    /// Reorders `a` so that a[k] is the value sorting would put there, everything before it ≤ it and
    /// everything after it ≥ it (Hoare's selection, median-of-three pivots).
    static func select(_ k: Int, in a: UnsafeMutableBufferPointer<Double>) {
        var lo = 0, hi = a.count - 1
        while hi > lo {
            let m = lo + (hi - lo) / 2
            // Median of three at a[m], the smallest at a[lo], the largest at a[hi]: sentinels for the scans.
            if a[m] < a[lo] { a.swapAt(m, lo) }
            if a[hi] < a[lo] { a.swapAt(hi, lo) }
            if a[hi] < a[m] { a.swapAt(hi, m) }
            let pivot = a[m]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while pivot < a[j] { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            // Now a[lo...j] ≤ pivot ≤ a[i...hi], and anything between equals the pivot.
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
    }

    static func runningMedian(_ v: [Double], radius: Int) -> [Double] {
        v.indices.map { i in median(Array(v[max(0, i - radius)...min(v.count - 1, i + radius)])) }
    }

    static func windowMax(_ v: [Double], radius: Int) -> [Double] {
        v.indices.map { i in v[max(0, i - radius)...min(v.count - 1, i + radius)].max()! }
    }

    static func windowMean(_ v: [Double], radius: Int) -> [Double] {
        v.indices.map { i in
            let lo = max(0, i - radius), hi = min(v.count - 1, i + radius)
            var s = 0.0
            for j in lo...hi { s += v[j] }
            return s / Double(hi - lo + 1)
        }
    }
}
