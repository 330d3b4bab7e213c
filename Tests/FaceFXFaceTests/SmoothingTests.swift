import XCTest
@testable import FaceFXFace

final class SmoothingTests: XCTestCase {
    let fps = 30.0
    let iod = 100.0
    lazy var base = TestSupport.syntheticFace(center: Point2(960, 540), iod: iod)

    /// Track of `n` frames: truth(frame) + Gaussian noise σ (fraction of IOD) on x, y, z.
    func track(n: Int, sigma: Double, seed: UInt64, motion: (Double) -> Point2) -> (noisy: [[Point]], truth: [[Point]], times: [Double]) {
        var noise = TestSupport.Noise(seed: seed)
        var noisy: [[Point]] = [], truth: [[Point]] = []
        let times = (0..<n).map { Double($0) / fps }
        for t in times {
            let m = motion(t)
            let tr = base.map { $0 + Point(m.x, m.y, 0) }
            truth.append(tr)
            noisy.append(tr.map { $0 + Point(noise.gaussian(), noise.gaussian(), noise.gaussian()) * sigma * iod })
        }
        return (noisy, truth, times)
    }

    /// Mean over landmarks and frames of |Δp| (x, y) between consecutive frames, in IOD.
    func frameToFrame(_ tr: [[Point]]) -> Double {
        var s = 0.0, c = 0.0
        for f in 1..<tr.count { for i in tr[f].indices {
            s += hypot(tr[f][i].x - tr[f - 1][i].x, tr[f][i].y - tr[f - 1][i].y); c += 1
        } }
        return s / c / iod
    }

    /// Mean and max |p − truth| (x, y), in IOD.
    func error(_ a: [[Point]], _ b: [[Point]]) -> (mean: Double, max: Double) {
        var s = 0.0, c = 0.0, m = 0.0
        for f in a.indices { for i in a[f].indices {
            let e = hypot(a[f][i].x - b[f][i].x, a[f][i].y - b[f][i].y)
            s += e; c += 1; m = max(m, e)
        } }
        return (s / c / iod, m / iod)
    }

    func testStillFaceJitter() {
        let sm = OfflineSmoother()
        // Sensor-like noise σ = 1.5 % IOD per coordinate.
        let a = track(n: 150, sigma: 0.015, seed: 1) { _ in .zero }
        let off = sm.smoothOffline(track: a.noisy, times: a.times)
        var online = LandmarkOneEuroSmoother()
        let on = zip(a.noisy, a.times).map { online.smooth($0, time: $1) }
        let raw = frameToFrame(a.noisy), jOff = frameToFrame(off), jOn = frameToFrame(Array(on.dropFirst(30)))
        print(String(format: "still face σ=1.5%%: raw f2f %.3f%% IOD, offline %.3f%%, online One Euro %.3f%%, offline error %.3f%%",
                     raw * 100, jOff * 100, jOn * 100, error(off, a.truth).mean * 100))
        XCTAssertLessThanOrEqual(jOff, 0.003)
        XCTAssertLessThan(jOn, raw / 3)

        // MediaPipe-like: noise scaled so the raw frame-to-frame motion is 2.3 % IOD.
        let sigma = 0.015 * 0.023 / raw
        let b = track(n: 150, sigma: sigma, seed: 2) { _ in .zero }
        let offB = sm.smoothOffline(track: b.noisy, times: b.times)
        print(String(format: "still face raw f2f %.3f%%: offline %.3f%%", frameToFrame(b.noisy) * 100, frameToFrame(offB) * 100))
        XCTAssertLessThanOrEqual(frameToFrame(offB), 0.003)
    }

    func testMovingFaceNoLag() {
        let sm = OfflineSmoother()
        // Constant speed: 2 IOD per second to the right.
        let lin = track(n: 120, sigma: 0.015, seed: 3) { t in Point2(200 * t, 0) }
        let offLin = sm.smoothOffline(track: lin.noisy, times: lin.times)
        // Sinusoid: amplitude 1 IOD, 0.5 Hz, diagonal.
        let sine = track(n: 180, sigma: 0.015, seed: 4) { t in Point2(100 * sin(.pi * t), 60 * sin(.pi * t + 1)) }
        let offSine = sm.smoothOffline(track: sine.noisy, times: sine.times)
        // Noise-free sinusoid isolates the bias (lag / attenuation).
        let clean = track(n: 180, sigma: 0, seed: 5) { t in Point2(100 * sin(.pi * t), 60 * sin(.pi * t + 1)) }
        let offClean = sm.smoothOffline(track: clean.noisy, times: clean.times)
        let eLin = error(offLin, lin.truth), eSine = error(offSine, sine.truth), eClean = error(offClean, clean.truth)
        var online = LandmarkOneEuroSmoother()
        let on = zip(sine.noisy, sine.times).map { online.smooth($0, time: $1) }
        let eOn = error(on, sine.truth)
        print(String(format: "moving: constant speed mean err %.3f%% IOD (max %.2f%%), sine %.3f%% (max %.2f%%), clean sine bias %.4f%% (max %.3f%%), online One Euro sine %.2f%%",
                     eLin.mean * 100, eLin.max * 100, eSine.mean * 100, eSine.max * 100, eClean.mean * 100, eClean.max * 100, eOn.mean * 100))
        XCTAssertLessThan(eLin.mean, 0.01)
        XCTAssertLessThan(eSine.mean, 0.01)
        XCTAssertLessThan(eClean.max, 0.01)
        // Jitter stays low while moving: f2f motion close to the true motion.
        let trueF2F = frameToFrame(sine.truth), smF2F = frameToFrame(offSine)
        XCTAssertEqual(smF2F, trueF2F, accuracy: 0.003)
    }

    func testFaceSizeInvariance() {
        // Same relative noise on a 4× larger face gives the same relative result.
        let sm = OfflineSmoother()
        let a = track(n: 90, sigma: 0.015, seed: 9) { _ in .zero }
        let big = a.noisy.map { $0.map { $0 * 4 } }
        let s1 = sm.smoothOffline(track: a.noisy, times: a.times)
        let s4 = sm.smoothOffline(track: big, times: a.times)
        XCTAssertEqual(s4[45][1].x, s1[45][1].x * 4, accuracy: 1e-6 * s4[45][1].x)
    }

    func testScalarStillAndBlink() {
        let sm = OfflineSmoother()
        var noise = TestSupport.Noise(seed: 11)
        let n = 150
        let times = (0..<n).map { Double($0) / fps }
        let still = times.map { _ in 0.3 + 0.023 * noise.gaussian() }
        let s = sm.smoothOffline(values: still, times: times)
        let f2f = zip(s.dropFirst(), s).map { abs($0 - $1) }.reduce(0, +) / Double(n - 1)
        let raw = zip(still.dropFirst(), still).map { abs($0 - $1) }.reduce(0, +) / Double(n - 1)
        // A blink: 0 → 0.95 → 0 over ~200 ms in the middle.
        let blinkTruth = times.map { t -> Double in let d = abs(t - 2.5); return d < 0.1 ? 0.95 * (1 - d / 0.1) : 0.02 }
        let blinkNoisy = blinkTruth.map { $0 + 0.023 * noise.gaussian() }
        let b = sm.smoothOffline(values: blinkNoisy, times: times)
        let peak = b.max() ?? 0
        print(String(format: "blendshape still: raw f2f %.4f, smoothed f2f %.4f; blink peak 0.95 → %.3f", raw, f2f, peak))
        XCTAssertLessThanOrEqual(f2f, 0.005)
        XCTAssertGreaterThan(peak, 0.7)
    }

    func testOneEuroConvergesAndFollows() {
        var f = OneEuroFilter(minCutoff: 1, beta: 0.5)
        var y = 0.0
        for i in 0..<300 { y = f.filter(10, time: Double(i) / 30) }
        XCTAssertEqual(y, 10, accuracy: 1e-6)
        // Fast ramp: lag stays bounded thanks to beta.
        var g = OneEuroFilter(minCutoff: 1, beta: 0.5)
        var last = 0.0
        for i in 0..<90 { last = g.filter(Double(i) * 3, time: Double(i) / 30) }
        XCTAssertLessThan(abs(last - 267), 10)
    }

    /// The selection-based median against sorting: odd and even counts, ties, runs, sorted and reversed input.
    func testMedianMatchesSorting() {
        var rng = SystemRandomNumberGenerator()
        func sortedMedian(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        var cases: [[Double]] = [[], [3], [2, 1], [1, 1, 1, 1], [5, 4, 3, 2, 1, 0], Array(0..<901).map(Double.init)]
        cases.append(cases.last!.reversed())
        for n in [2, 3, 10, 11, 100, 899, 900] {
            cases.append((0..<n).map { _ in Double.random(in: -1...1, using: &rng) })
            cases.append((0..<n).map { _ in Double(Int.random(in: 0...3, using: &rng)) })  // many ties
        }
        for v in cases { XCTAssertEqual(OfflineSmoother.median(v), v.isEmpty ? 0 : sortedMedian(v), "\(v.prefix(8))… (\(v.count))") }
    }

    /// The smoother's worker pool: every lane runs once, from several callers at once, with more lanes than
    /// threads; the caller's closure never outlives its call (withoutActuallyEscaping traps if it does).
    func testSmoothingWorkersRunEveryLane() {
        let pool = SmoothingWorkers(threads: 3, nice: 0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for round in 0..<300 {
                let lanes = 1 + (round + caller) % 9
                var hits = [Int](repeating: 0, count: lanes)
                hits.withUnsafeMutableBufferPointer { h in pool.run(lanes: lanes) { h[$0] += 1 } }
                XCTAssertEqual(hits, [Int](repeating: 1, count: lanes))
            }
        }
    }
}
