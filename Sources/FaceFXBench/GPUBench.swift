// GPU benchmarks (links EGL/GLES, not FFmpeg, so `facefx-gpubench` runs on the GPU machine);
// the same commands as `facefx bench ...`.
//   facefx-gpubench info [--gpu auto|cpu|N]
//   facefx-gpubench color [--width 1920] [--height 1080] [--frames 200] [--gpu auto|cpu|N]
//                         [--bit-depth 8|10] [--chroma 420|422|444] [--bilinear-average] [--lp-threads N]
//   facefx-gpubench networks [--gpu auto|cpu|N] [--iters K] [--models DIR] [--batch 1,8] [--precision fp16,fp32]
//                            [--only NAME] [--profile] [--profile-top N] [--lp-threads N]
//                            [--profile-cpu] (GL-thread CPU time per pass; with LP_NUM_THREADS=0) [--cpu-ref] (CPU reference row)
//                            [--list-passes] (the compiled pass list of each network)
//                            [--split-readback] (time of the passes and of the readback apart)
//                            [--check] (replica 0 against the CPU reference)
//   facefx-gpubench proto [--batch N]   (conv kernel-variant micro-benchmarks, Proto.swift)
//   facefx-gpubench floor               (fixed cost of one dependent pass: dispatch / draw + barrier, Floor.swift)
//   facefx-gpubench smoothing [--faces 1,4] [--frames 900] [--threads N]   (CPU: offline smoothing, Smoothing.swift)
// Arguments are parsed by hand: this target deliberately has no ArgumentParser dependency. Errors are
// thrown (`BenchError`: usage → exit 2, failure → exit 1); the executables print them and exit.
import FaceFXOverlay
import FaceFXGPU
import FaceFXNeural
import Foundation

struct Options {
    var command = "color"
    var width = 1920, height = 1080, frames = 200, warmup = 5
    var gpu = GPUDeviceSelection.auto
    var bitDepth = 8
    var chroma = "420"
    var bilinearAverage = false
    var lpThreads: Int?
    // networks
    var iters = 20
    /// --models DIR, else the executable's `BenchResources.models`.
    var modelsDir: String?
    var batches = [1, 8]
    var precisions: [TensorPrecision] = [.fp16, .fp32]
    var only: String?
    var profile = false
    var profileCPU = false
    var cpuReference = false
    var profileTop = 25
    var listPasses = false
    var splitReadback = false
    var check = false
    /// smoothing: threads of the smoother (nil: all cores).
    var threads: Int?
    /// train: the network's input (grey64, rgb128).
    var trainInput = FaceClassifierNet.Input.grey64
    var resources = BenchResources()
}

/// The files the benchmarks read, found by the executable (ResourceLocator): the Models/ folder, the
/// filter folders and the checkout's goldens (nil where not found).
public struct BenchResources {
    public var models: URL?
    public var filterFolders: [URL] = []
    public var goldens: URL?
    public init(models: URL? = nil, filterFolders: [URL] = [], goldens: URL? = nil) {
        self.models = models; self.filterFolders = filterFolders; self.goldens = goldens
    }
}

/// --models DIR, else the Models/ folder the executable found.
func modelsDirectory(_ o: Options) throws -> URL {
    if let d = o.modelsDir { return URL(fileURLWithPath: d) }
    guard let m = o.resources.models else { throw BenchError.usage("network models not found: pass --models DIR or set FACEFX_MODELS_DIR") }
    return m
}

/// Why a benchmark stopped: a usage mistake (exit 2) or a failure while it ran (exit 1).
public struct BenchError: Error, CustomStringConvertible {
    public let message: String
    public let usage: Bool
    public var description: String { message }
    static func usage(_ message: String) -> BenchError { BenchError(message: message, usage: true) }
}

/// The options, or nil after printing the usage (--help).
func parse(_ args: [String]) throws -> Options? {
    var o = Options()
    var i = 0
    if let first = args.first, !first.hasPrefix("-") { o.command = first; i = 1 }
    func value(_ name: String) throws -> String {
        i += 1
        guard i < args.count else { throw BenchError.usage("\(name) needs a value") }
        return args[i]
    }
    func int(_ name: String) throws -> Int {
        let v = try value(name)
        guard let n = Int(v), n > 0 else { throw BenchError.usage("\(name): expected a positive integer, got \(v)") }
        return n
    }
    while i < args.count {
        let a = args[i]
        switch a {
        case "--width": o.width = try int(a)
        case "--height": o.height = try int(a)
        case "--frames": o.frames = try int(a)
        case "--warmup": o.warmup = try int(a)
        case "--bit-depth": o.bitDepth = try int(a)
        case "--chroma": o.chroma = try value(a)
        case "--bilinear-average": o.bilinearAverage = true
        case "--lp-threads": o.lpThreads = try int(a)
        case "--iters": o.iters = try int(a)
        case "--threads": o.threads = try int(a)
        case "--models": o.modelsDir = try value(a)
        case "--only": o.only = try value(a)
        case "--input":
            let v = try value(a)
            guard let input = FaceClassifierNet.Input(rawValue: v) else { throw BenchError.usage("--input must be grey64 or rgb128, got '\(v)'") }
            o.trainInput = input
        case "--split-readback": o.splitReadback = true
        case "--check": o.check = true
        case "--profile": o.profile = true
        case "--cpu-ref": o.cpuReference = true
        case "--profile-cpu": o.profile = true; o.profileCPU = true
        case "--profile-top": o.profileTop = try int(a)
        case "--list-passes": o.listPasses = true
        case "--batch":
            let v = try value(a)
            let list = v.split(separator: ",").compactMap { Int($0) }
            guard !list.isEmpty, list.allSatisfy({ $0 > 0 }) else { throw BenchError.usage("--batch: expected e.g. 1,8, got \(v)") }
            o.batches = list
        case "--precision":
            let v = try value(a)
            let list = v.split(separator: ",").compactMap { TensorPrecision(rawValue: String($0)) }
            guard !list.isEmpty else { throw BenchError.usage("--precision: expected fp16, fp32 or fp16,fp32, got \(v)") }
            o.precisions = list
        case "--gpu":
            let v = try value(a)
            guard let g = GPUDeviceSelection(argument: v) else { throw BenchError.usage("--gpu: expected auto, cpu or a device number, got \(v)") }
            o.gpu = g
        case "-h", "--help":
            print("""
            usage (facefx bench COMMAND, or facefx-gpubench COMMAND without FFmpeg):
                   facefx-gpubench info [--gpu auto|cpu|N]
                   facefx-gpubench color [--width W] [--height H] [--frames N] [--gpu auto|cpu|N]
                                         [--bit-depth 8|10] [--chroma 420|422|444] [--bilinear-average] [--lp-threads N]
                   facefx-gpubench networks [--gpu auto|cpu|N] [--iters K] [--models DIR] [--batch 1,8]
                                            [--precision fp16,fp32] [--only NAME] [--profile] [--check] [--lp-threads N]
                   facefx-gpubench chain [--width W] [--height H] [--frames N] [--faces 1,4] [--filters lipstick,anonymize]
                                         [--models DIR] [--gpu auto|cpu|N]   (FACEFX_NN=fp16|fp32|cpu picks the networks)
                   facefx-gpubench floor [--gpu auto|cpu|N]   (fixed cost of one dependent pass: dispatch or draw + barrier)
                   facefx-gpubench train [--batch 8,32] [--iters K] [--gpu auto|cpu|N]   (training steps of facefx train's network)
            """)
            return nil
        default: throw BenchError.usage("unknown argument \(a) (try --help)")
        }
        i += 1
    }
    return o
}

func openContext(_ o: Options) throws -> GPUContext {
    // llvmpipe reads LP_NUM_THREADS when the driver loads: set it before the display opens.
    if let n = o.lpThreads { setenv("LP_NUM_THREADS", String(n), 1) }
    do { return try GPUContext(device: o.gpu, tuning: try tuning()) } catch { throw BenchError(message: "\(error)", usage: false) }
}

/// The renderer knobs from the environment (`GPUTuning.variables`), as the facefx commands read them.
func tuning() throws -> GPUTuning {
    do { return try GPUTuning(environment: ProcessInfo.processInfo.environment) } catch { throw BenchError(message: "\(error)", usage: false) }
}

func info(_ o: Options) throws {
    print("EGL devices:")
    for line in GPUContext.listDevices() { print("  " + line) }
    let c = try openContext(o)
    print("display:   \(c.displayDescription)")
    print("vendor:    \(c.vendor)")
    print("renderer:  \(c.renderer)\(c.isSoftware ? " (software)" : "")")
    print("version:   \(c.version)")
    print("GLSL:      \(c.glslVersion)")
    print("max texture size: \(c.maxTextureSize)")
    let wanted = ["GL_EXT_color_buffer_float", "GL_EXT_color_buffer_half_float", "GL_OES_texture_float_linear",
                  "GL_EXT_texture_norm16", "GL_EXT_float_blend", "GL_KHR_parallel_shader_compile", "GL_OES_get_program_binary"]
    print("extensions: \(c.extensions.count); " + wanted.map { "\($0)=\(c.hasExtension($0) ? "yes" : "no")" }.joined(separator: " "))
}

/// Synthetic decoder frames: moving gradients plus noise, planes with decoder-like padded strides.
struct SyntheticFrame {
    var y: [UInt8], u: [UInt8], v: [UInt8]
    var yStride: Int, cStride: Int
    init(width: Int, height: Int, format: YUVFrameFormat, index: Int) {
        let bps = format.bytesPerSample
        let cw = format.chromaWidth(width), ch = format.chromaHeight(height)
        yStride = (width * bps + 63) / 64 * 64 + 64
        cStride = (cw * bps + 63) / 64 * 64 + 64
        let maxCode = (1 << format.bitDepth) - 1
        var seed = UInt32(truncatingIfNeeded: 2_654_435_761 &* UInt32(index + 1))
        func plane(_ w: Int, _ h: Int, _ stride: Int, _ f: (Int, Int) -> Double) -> [UInt8] {
            var p = [UInt8](repeating: 0, count: stride * h)
            for r in 0..<h {
                for c in 0..<w {
                    seed = seed &* 1_664_525 &+ 1_013_904_223
                    let noise = Double(seed >> 28) - 7.5
                    let code = min(max(Int(f(c, r) * Double(maxCode) + noise), 0), maxCode)
                    if bps == 1 { p[r * stride + c] = UInt8(code) } else {
                        p[r * stride + 2 * c] = UInt8(code & 0xFF); p[r * stride + 2 * c + 1] = UInt8(code >> 8)
                    }
                }
            }
            return p
        }
        let t = Double(index) * 0.05
        y = plane(width, height, yStride) { c, r in 0.2 + 0.6 * (0.5 + 0.5 * sin(Double(c + r) / 97 + t)) }
        u = plane(cw, ch, cStride) { c, _ in 0.5 + 0.1 * sin(Double(c) / 41 + t) }
        v = plane(cw, ch, cStride) { _, r in 0.5 + 0.1 * cos(Double(r) / 29 - t) }
    }
}

/// User + system CPU time of the whole process (every llvmpipe thread included), in ms.
func processCPUms() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000 + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let s = values.sorted()
    return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
}

func color(_ o: Options) throws {
    guard [8, 10, 12, 16].contains(o.bitDepth) else { throw BenchError.usage("--bit-depth must be 8, 10, 12 or 16") }
    let shifts: (Int, Int)
    switch o.chroma {
    case "420": shifts = (1, 1)
    case "422": shifts = (1, 0)
    case "444": shifts = (0, 0)
    default: throw BenchError.usage("--chroma must be 420, 422 or 444")
    }
    let c = try openContext(o)
    var settings = ColorConverterSettings()
    if o.bilinearAverage { settings.exactChromaAverage = false }
    let format = YUVFrameFormat(bitDepth: o.bitDepth, chromaShiftX: shifts.0, chromaShiftY: shifts.1, matrix: .bt709)
    let layout = I420Layout.forFrame(width: o.width, height: o.height)
    let sources = (0..<4).map { SyntheticFrame(width: o.width, height: o.height, format: format, index: $0) }
    let cw = format.chromaWidth(o.width), ch = format.chromaHeight(o.height)
    let output = UnsafeMutableRawPointer.allocate(byteCount: layout.byteCount, alignment: 64)
    defer { output.deallocate() }

    print("renderer: \(c.renderer) | \(c.version) | \(c.displayDescription)")
    print("frame: \(o.width)x\(o.height) yuv\(o.chroma) \(o.bitDepth)-bit bt709 limited -> I420 \(layout.byteCount) bytes; "
          + "\(o.frames) frames (+\(o.warmup) warm-up); output chroma average: \(o.bilinearAverage ? "bilinear fetches" : "exact (NEAREST fetches)"); "
          + "LP_NUM_THREADS=\(ProcessInfo.processInfo.environment["LP_NUM_THREADS"] ?? "unset")")

    do {
        let conv = try FrameColorConverter(context: c, settings: settings)
        try conv.prepare(width: o.width, height: o.height, format: format)
        try conv.prepareOutput(layout: layout)
        var times: [[Double]] = Array(repeating: [], count: 6)
        var cpuPerFrame = 0.0
        var cpu: [[Double]] = Array(repeating: [], count: 5)  // process CPU ms per stage (all threads)
        try c.sync { () throws in
            func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
            func planes(_ s: SyntheticFrame, _ body: (YUVPlane, YUVPlane, YUVPlane) throws -> Void) rethrows {
                try s.y.withUnsafeBytes { yp in try s.u.withUnsafeBytes { up in try s.v.withUnsafeBytes { vp in
                    try body(YUVPlane(base: yp.baseAddress!, bytesPerRow: s.yStride, width: o.width, height: o.height),
                             YUVPlane(base: up.baseAddress!, bytesPerRow: s.cStride, width: cw, height: ch),
                             YUVPlane(base: vp.baseAddress!, bytesPerRow: s.cStride, width: cw, height: ch))
                } } }
            }
            // Per-stage timings: glFinish after each stage so each gets its own cost.
            for f in 0..<(o.warmup + o.frames) {
                let c0 = processCPUms(), t0 = now()
                try planes(sources[f % sources.count]) { y, u, v in try conv.uploadPlanes(y: y, u: u, v: v, format: format) }
                c.finish()
                let c1 = processCPUms(), t1 = now()
                let frame = try conv.convertPlanes()
                c.finish()
                let c2 = processCPUms(), t2 = now()
                let packed = FrameColorConverter.PackedI420(layout: layout)
                try c.sync { () throws in try conv.pack(frame, into: packed) }
                c.finish()
                let c3 = processCPUms(), t3 = now()
                try conv.read(packed, into: output)
                let c4 = processCPUms(), t4 = now()
                if f >= o.warmup {
                    for (k, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0].enumerated() { times[k].append(d) }
                    for (k, d) in [c1 - c0, c2 - c1, c3 - c2, c4 - c3, c4 - c0].enumerated() { cpu[k].append(d) }
                }
            }
            // Whole frame as the pipeline runs it: no intermediate glFinish, readback is the only wait.
            // Process CPU time is reported too: on a shared, loaded machine it is steadier than wall time.
            var cpuStart = 0.0
            for f in 0..<(o.warmup + o.frames) {
                if f == o.warmup { cpuStart = processCPUms() }
                let t0 = now()
                try planes(sources[f % sources.count]) { y, u, v in
                    let frame = try conv.upload(y: y, u: u, v: v, format: format)
                    try conv.readI420(from: frame, layout: layout, into: output)
                }
                if f >= o.warmup { times[5].append(now() - t0) }
            }
            cpuPerFrame = (processCPUms() - cpuStart) / Double(o.frames)
        }
        let names = ["upload", "convert", "pack", "readback", "total (staged)", "total (pipelined)"]
        print("stage               median ms    p90 ms   CPU ms (mean, all threads)")
        for (k, (n, t)) in zip(names, times).enumerated() {
            let cpuText = k < cpu.count ? String(format: " %12.2f", cpu[k].reduce(0, +) / Double(cpu[k].count)) : String(format: " %12.2f", cpuPerFrame)
            print(n.padding(toLength: 18, withPad: " ", startingAt: 0)
                  + String(format: "%10.2f %9.2f", percentile(t, 0.5), percentile(t, 0.9)) + cpuText)
        }
        if o.bitDepth == 8 && o.chroma == "420" {
            // Sanity check on any driver: the last frame (sources[(warmup+frames-1) % 4]) against its input.
            // Luma should come back within 1-2 codes; chroma differs by the bilinear-up/filter-down of the noise.
            let src = sources[(o.warmup + o.frames - 1) % sources.count]
            let out = UnsafeRawBufferPointer(start: output, count: layout.byteCount)
            func stats(_ plane: [UInt8], _ stride: Int, _ w: Int, _ h: Int, _ base: Int, _ outStride: Int) -> String {
                var mx = 0, sum = 0
                for r in 0..<h { for c in 0..<w {
                    let d = abs(Int(out[base + r * outStride + c]) - Int(plane[r * stride + c])); mx = max(mx, d); sum += d
                } }
                return String(format: "max %d mean %.3f", mx, Double(sum) / Double(w * h))
            }
            print("round trip vs input: Y " + stats(src.y, src.yStride, o.width, o.height, 0, layout.stride)
                  + " | U " + stats(src.u, src.cStride, cw, ch, layout.uOffset, layout.uvStride)
                  + " | V " + stats(src.v, src.cStride, cw, ch, layout.vOffset, layout.uvStride))
        }
        let med = percentile(times[5], 0.5)
        print(String(format: "throughput: %.1f frames/s (pipelined median); process CPU time %.2f ms/frame (all threads)",
                     1000 / med, cpuPerFrame))
    } catch {
        throw BenchError(message: "\(error)", usage: false)
    }
}

/// The GPU benchmarks (info, color, networks, chain, proto, floor), shared by `facefx bench` and the
/// FFmpeg-free `facefx-gpubench` executable that runs on GPU machines without FFmpeg.
public enum GPUBench {
    /// Filter images for `chain`: `facefx bench` passes its PNG decoder; the FFmpeg-free executable has
    /// none and reads images pre-decoded by bench/gpu_assets.sh ($FACEFX_RGBA_ASSETS).
    nonisolated(unsafe) public static var imageDecoder: ImageDecoder?

    /// Runs one benchmark command (`arguments` without the program name) with the files the executable
    /// found; throws `BenchError`.
    public static func run(arguments: [String], resources: BenchResources) throws {
        // chain-only arguments are taken out before the shared parser sees them.
        var chainOptions = ChainOptions()
        var rawArgs = arguments
        if let i = rawArgs.firstIndex(of: "--faces"), i + 1 < rawArgs.count {
            chainOptions.faces = rawArgs[i + 1].split(separator: ",").compactMap { Int($0) }
            rawArgs.removeSubrange(i...(i + 1))
        }
        if let i = rawArgs.firstIndex(of: "--filters"), i + 1 < rawArgs.count {
            chainOptions.filters = rawArgs[i + 1].split(separator: ",").map(String.init)
            rawArgs.removeSubrange(i...(i + 1))
        }
        guard var options = try parse(rawArgs) else { return }
        options.resources = resources
        switch options.command {
        case "info": try info(options)
        case "color": try color(options)
        case "networks": try networks(options)
        case "chain": try chain(options, chainOptions)
        case "proto": try proto(options)
        case "floor": try floorBench(options)
        case "train": try trainBench(options)
        case "smoothing": try smoothingBench(options, faceCounts: chainOptions.faces, frames: rawArgs.contains("--frames") ? options.frames : 900)
        default: throw BenchError.usage("unknown command \(options.command): expected info, color, networks, chain, proto, floor, train or smoothing")
        }
    }
}
