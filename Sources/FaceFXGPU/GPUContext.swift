// Headless EGL + GLES 3.1/3.2 context on its own GL thread: no window, no surface, no X.
// NVIDIA: EGL device platform (EGL_EXT_platform_device). Mesa/CI: surfaceless platform (llvmpipe).
import CGLES
import Foundation

/// Which EGL device to run on.
public enum GPUDeviceSelection: Equatable, CustomStringConvertible {
    /// First hardware EGL device, else Mesa's surfaceless platform (llvmpipe on machines without a GPU).
    case auto
    /// Software rendering only (Mesa llvmpipe).
    case cpu
    /// EGL device `i` as listed by `GPUContext.listDevices()`.
    case index(Int)

    /// Parses "auto", "cpu" or a device number (CLI `--gpu`).
    public init?(argument: String) {
        switch argument.lowercased() {
        case "auto": self = .auto
        case "cpu", "software": self = .cpu
        default:
            guard let i = Int(argument), i >= 0 else { return nil }
            self = .index(i)
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .cpu: return "cpu"
        case .index(let i): return String(i)
        }
    }
}

extension GPUDeviceSelection {
    /// The GPUs of a `--gpus` argument: "all" (every hardware EGL device, or `auto` where there is none:
    /// llvmpipe) or device indices "0,2" (each listed once, each an existing device). Nil when malformed;
    /// an index past the devices throws.
    public static func list(argument: String) throws(GPUError) -> [GPUDeviceSelection]? {
        let devices = GPUContext.queryDevices()
        if argument.lowercased() == "all" {
            let hardware = devices.indices.filter { !devices[$0].isSoftware }
            return hardware.isEmpty ? [.auto] : hardware.map { .index($0) }
        }
        var indices: [Int] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let i = Int(part.trimmingCharacters(in: .whitespaces)), i >= 0, !indices.contains(i) else { return nil }
            guard i < devices.count else { throw .deviceIndexOutOfRange(index: i, count: devices.count) }
            indices.append(i)
        }
        return indices.isEmpty ? nil : indices.map { .index($0) }
    }
}

/// GL objects created and still alive, per kind (debug aid: a per-frame allocation shows up here).
public struct GPUObjectCounters: Equatable {
    public var texturesCreated = 0, framebuffersCreated = 0, renderbuffersCreated = 0
    public var programsCreated = 0, samplersCreated = 0, vertexArraysCreated = 0, buffersCreated = 0
    public var texturesLive = 0, framebuffersLive = 0, renderbuffersLive = 0
    public var programsLive = 0, samplersLive = 0, vertexArraysLive = 0, buffersLive = 0

    /// Every GL object ever created on the context.
    public var totalCreated: Int {
        texturesCreated + framebuffersCreated + renderbuffersCreated + programsCreated + samplersCreated + vertexArraysCreated
            + buffersCreated
    }
}

/// A readback queued into its own pixel-pack buffer (`GPUContext.startPackedRead`).
struct PackedRead {
    let buffer: GLuint
    let bytes: Int
}

enum GLObjectKind { case texture, framebuffer, renderbuffer, program, sampler, vertexArray, buffer }

public final class GPUContext {
    /// The thread the context is current on; every GL call runs there.
    public let thread: GPUThread
    public private(set) var vendor = ""
    public private(set) var renderer = ""
    public private(set) var version = ""
    public private(set) var glslVersion = ""
    public private(set) var extensions: Set<String> = []
    public private(set) var glesMajor = 0
    public private(set) var glesMinor = 0
    public private(set) var maxTextureSize = 0
    /// GL_MAX_ARRAY_TEXTURE_LAYERS and GL_MAX_DRAW_BUFFERS (colour outputs of one pass).
    public private(set) var maxArrayTextureLayers = 0
    public private(set) var maxDrawBuffers = 0
    /// GL_MAX_COMPUTE_SHARED_MEMORY_SIZE: shared memory one compute work group may declare (GLES 3.1: at least 16 KB).
    public private(set) var maxComputeSharedBytes = 0
    /// True for CPU rasterisers (llvmpipe, softpipe, SwiftShader).
    public private(set) var isSoftware = false
    /// How the display was opened, e.g. "EGL device 0" or "surfaceless (Mesa)".
    public private(set) var displayDescription = ""

    private var display: EGLDisplay?
    private var context: EGLContext?
    private var counters = GPUObjectCounters()
    /// Pixel-pack buffers of readbacks (`startPackedRead`), free ones by size (GL thread).
    private var idlePackBuffers: [(buffer: GLuint, bytes: Int)] = []
    /// When the context opened, and the seconds callers spent in `waitForGPU` (the profile line).
    private let opened = Date()
    private let waitLock = NSLock()
    private var gpuWaitSeconds = 0.0
    private var gpuWaits = 0
    /// The knobs of everything that runs on this context (`GPUTuning`).
    public let tuning: GPUTuning

    /// Creates the display and context on a new GL thread. Fails with a one-line GPUError
    /// when no display opens, no GLES 3.1 context can be made, or EXT_color_buffer_float is missing.
    public init(device: GPUDeviceSelection = .auto, tuning: GPUTuning = GPUTuning()) throws {
        self.tuning = tuning
        thread = GPUThread(profileSites: tuning.profileGLThread)
        try thread.sync { () throws(GPUError) in try self.open(device) }
    }

    deinit {
        let (d, c) = (display, context)
        let idle = idlePackBuffers.map(\.buffer)
        let close = {
            for var b in idle { glDeleteBuffers(1, &b) }
            if let d = d {
                eglMakeCurrent(d, cgles_no_surface(), cgles_no_surface(), cgles_no_context())
                if let c = c { eglDestroyContext(d, c) }
                // No eglTerminate: displays are per-process singletons shared with other contexts.
            }
            eglReleaseThread()
        }
        if thread.isCurrent { close() } else { thread.sync(close) }
        thread.stop()
    }

    /// Runs `body` on the GL thread (inline if already there) and waits.
    @inline(__always)
    public func sync<T, E: Error>(file: StaticString = #fileID, line: UInt = #line, label: String? = nil,
                                  _ body: () throws(E) -> T) throws(E) -> T {
        try thread.sync(file: file, line: line, label: label, body)
    }

    /// Queues `body` on the GL thread.
    public func async(file: StaticString = #fileID, line: UInt = #line, _ body: @escaping () -> Void) {
        thread.async(file: file, line: line, body)
    }

    /// With `tuning.profileGLThread` (FACEFX_GL_PROFILE=1), prints to stderr how busy the GL thread has
    /// been since the context opened and how long callers waited for the GPU; the job that owns the
    /// context calls it when it ends. Busy near wall time: the GL thread is what limits.
    public func reportProfile() {
        guard tuning.profileGLThread else { return }
        let load = thread.load, wall = Date().timeIntervalSince(opened)
        waitLock.lock()
        let (waited, waits) = (gpuWaitSeconds, gpuWaits)
        waitLock.unlock()
        let line = String(format: "facefx: GL thread (%@): busy %.2f s of %.2f s (%.0f%%) in %d jobs; callers waited for the GPU %.2f s in %d waits\n",
                          renderer, load.busySeconds, wall, 100 * load.busySeconds / max(wall, 1e-9), load.jobs, waited, waits)
        // Where the GL thread's time went: the call sites that queued its jobs, the 8 busiest.
        let sites = thread.siteProfile.prefix(8).map {
            String(format: "facefx:   %5.2f s %7d jobs %6.1f us/job  %@\n", $0.seconds, $0.jobs, 1e6 * $0.seconds / Double(max($0.jobs, 1)), $0.site)
        }
        FileHandle.standardError.write(Data((line + sites.joined()).utf8))
    }

    /// Waits, on the calling thread, until the GPU has finished the work queued so far, while the GL
    /// thread serves other callers (`GPUThread.waitForGPU`: a GL fence the idle GL thread watches; an EGL
    /// fence the caller could wait on itself cost ~1 ms of the GL thread to create on NVIDIA, against tens
    /// of microseconds); returns at once on the GL thread.
    public func waitForGPU() {
        if thread.isCurrent { return }
        accountWait { thread.waitForGPU() }
    }

    /// Waits for `fence` (`GPUThread.wait`), counted with the GPU waits of the profile line.
    public func wait(_ fence: GPUFence) throws {
        try accountWait { () throws in try thread.wait(fence) }
    }

    private func accountWait<E: Error>(_ body: () throws(E) -> Void) throws(E) {
        let start = Date()
        defer {
            let seconds = Date().timeIntervalSince(start)
            waitLock.lock()
            gpuWaitSeconds += seconds
            gpuWaits += 1
            waitLock.unlock()
        }
        try body()
    }

    /// Object counts (read on the GL thread, so queued deletions are included).
    public var debugCounters: GPUObjectCounters { sync { counters } }

    public func hasExtension(_ name: String) -> Bool { extensions.contains(name) }

    /// Blocks until the GL has finished all queued work (for timing; the pipeline never needs it).
    public func finish() { sync { glFinish() } }

    // MARK: object bookkeeping (GL thread only)

    func noteCreated(_ kind: GLObjectKind) {
        switch kind {
        case .texture: counters.texturesCreated += 1; counters.texturesLive += 1
        case .framebuffer: counters.framebuffersCreated += 1; counters.framebuffersLive += 1
        case .renderbuffer: counters.renderbuffersCreated += 1; counters.renderbuffersLive += 1
        case .program: counters.programsCreated += 1; counters.programsLive += 1
        case .sampler: counters.samplersCreated += 1; counters.samplersLive += 1
        case .vertexArray: counters.vertexArraysCreated += 1; counters.vertexArraysLive += 1
        case .buffer: counters.buffersCreated += 1; counters.buffersLive += 1
        }
    }

    func noteDeleted(_ kind: GLObjectKind) {
        switch kind {
        case .texture: counters.texturesLive -= 1
        case .framebuffer: counters.framebuffersLive -= 1
        case .renderbuffer: counters.renderbuffersLive -= 1
        case .program: counters.programsLive -= 1
        case .sampler: counters.samplersLive -= 1
        case .vertexArray: counters.vertexArraysLive -= 1
        case .buffer: counters.buffersLive -= 1
        }
    }

    /// One new GL object name from `gen` (e.g. `{ glGenBuffers(1, $0) }`), counted as `kind`; from
    /// any thread (runs on the GL thread). Delete it with `deleteLater`.
    func makeName(_ kind: GLObjectKind, _ gen: (UnsafeMutablePointer<GLuint>) -> Void) -> GLuint {
        sync {
            var name: GLuint = 0
            gen(&name)
            noteCreated(kind)
            return name
        }
    }

    /// Deletes a GL object from a deinit that may run on any thread: inline on the GL thread,
    /// else synchronously there. Waiting (not queueing) keeps teardown ordered: the context is
    /// destroyed by the thread that drops it last, before the process can exit and run Mesa's
    /// atexit clean-up under a still-busy GL thread.
    func deleteLater(_ kind: GLObjectKind, _ delete: () -> Void) {
        thread.sync { delete(); noteDeleted(kind) }
    }

    /// GL thread: the first half of a readback through a pixel-pack buffer: glReadPixels of the bound
    /// read framebuffer's rectangle into a buffer of its own (the copy is queued, nothing waits). Then
    /// `finishPackedRead`, at once on the GL thread (its map waits there) or after `waitForGPU()` off it
    /// (the GL thread serves other callers meanwhile). nil when no buffer could be made.
    func startPackedRead(x: Int, y: Int, width: Int, height: Int, format: GLenum, type: GLenum, bytes: Int) -> PackedRead? {
        var buffer: GLuint = 0
        if let i = idlePackBuffers.firstIndex(where: { $0.bytes == bytes }) {
            buffer = idlePackBuffers.remove(at: i).buffer
            glBindBuffer(GLenum(GL_PIXEL_PACK_BUFFER), buffer)
        } else {
            glGenBuffers(1, &buffer)
            guard buffer != 0 else { return nil }
            glBindBuffer(GLenum(GL_PIXEL_PACK_BUFFER), buffer)
            glBufferData(GLenum(GL_PIXEL_PACK_BUFFER), GLsizeiptr(bytes), nil, GLenum(GL_STREAM_READ))
        }
        glReadPixels(GLint(x), GLint(y), GLsizei(width), GLsizei(height), format, type, nil)
        glBindBuffer(GLenum(GL_PIXEL_PACK_BUFFER), 0)
        return PackedRead(buffer: buffer, bytes: bytes)
    }

    /// GL thread: maps a `startPackedRead` buffer, hands its bytes to `body` and keeps the buffer for the
    /// next read of that size. false if it could not be mapped (the caller reads again directly).
    func finishPackedRead(_ read: PackedRead, _ body: (UnsafeRawPointer) -> Void) -> Bool {
        glBindBuffer(GLenum(GL_PIXEL_PACK_BUFFER), read.buffer)
        defer {
            glBindBuffer(GLenum(GL_PIXEL_PACK_BUFFER), 0)
            // A few sizes recur (network outputs, crops): keep the last few buffers.
            idlePackBuffers.append((read.buffer, read.bytes))
            if idlePackBuffers.count > 16 { var b = idlePackBuffers.removeFirst().buffer; glDeleteBuffers(1, &b) }
        }
        guard let p = glMapBufferRange(GLenum(GL_PIXEL_PACK_BUFFER), 0, GLsizeiptr(read.bytes), GLbitfield(GL_MAP_READ_BIT)) else {
            return false
        }
        body(UnsafeRawPointer(p))
        return glUnmapBuffer(GLenum(GL_PIXEL_PACK_BUFFER)) == GLboolean(GL_TRUE)
    }

    /// Throws if the GL error flag is set (used after uploads and allocations, not per draw).
    func checkGLError(_ operation: String) throws {
        let e = glGetError()
        if e != GLenum(GL_NO_ERROR) { throw GPUError.glError(operation: operation, code: e) }
    }

    // MARK: opening (GL thread)

    private func open(_ selection: GPUDeviceSelection) throws(GPUError) {
        let devices = GPUContext.queryDevices()
        var failures: [String] = []

        func attempt(_ what: String, _ makeDisplay: () -> EGLDisplay?) -> Bool {
            guard let d = makeDisplay(), d != cgles_no_display() else {
                failures.append("\(what): no display (\(eglErrorString()))"); return false
            }
            do {
                try createContext(on: d)
                displayDescription = what
                return true
            } catch {
                failures.append("\(what): \(error)")
                return false
            }
        }

        switch selection {
        case .index(let i):
            guard i < devices.count else { throw .deviceIndexOutOfRange(index: i, count: devices.count) }
            if attempt("EGL device \(i)", { cgles_get_platform_display(EGLenum(EGL_PLATFORM_DEVICE_EXT), devices[i].handle) }) { break }
            throw .noDisplay(failures.joined(separator: "; "))
        case .auto:
            for (i, dev) in devices.enumerated() where !dev.isSoftware {
                if attempt("EGL device \(i)", { cgles_get_platform_display(EGLenum(EGL_PLATFORM_DEVICE_EXT), dev.handle) }) { break }
            }
            if context == nil, !attempt("surfaceless (Mesa)", { GPUContext.surfacelessDisplay() }) {
                throw .noDisplay(failures.joined(separator: "; "))
            }
        case .cpu:
            // Mesa reads this when the driver loads, so it must be set before the display opens.
            setenv("LIBGL_ALWAYS_SOFTWARE", "1", 1)
            if let i = devices.firstIndex(where: { $0.isSoftware }),
               attempt("EGL device \(i) (software)", { cgles_get_platform_display(EGLenum(EGL_PLATFORM_DEVICE_EXT), devices[i].handle) }) {
                break
            }
            if !attempt("surfaceless (Mesa, software)", { GPUContext.surfacelessDisplay() }) {
                throw .noDisplay(failures.joined(separator: "; "))
            }
        }
        try readCapabilities()
        if selection == .cpu && !isSoftware {
            throw .noContext("--gpu cpu asked for software rendering but got \(renderer)")
        }
    }

    private func createContext(on d: EGLDisplay) throws(GPUError) {
        var major: EGLint = 0, minor: EGLint = 0
        guard eglInitialize(d, &major, &minor) == EGLBoolean(EGL_TRUE) else {
            throw .eglInitializeFailed(eglErrorString())
        }
        let displayExts = Set(GPUContext.string(eglQueryString(d, EGLint(EGL_EXTENSIONS))).split(separator: " ").map(String.init))
        guard displayExts.contains("EGL_KHR_surfaceless_context") else { throw .missingExtension("EGL_KHR_surfaceless_context") }
        guard eglBindAPI(EGLenum(EGL_OPENGL_ES_API)) == EGLBoolean(EGL_TRUE) else {
            throw .noContext("eglBindAPI(EGL_OPENGL_ES_API): \(eglErrorString())")
        }
        var config = cgles_no_config()
        if !displayExts.contains("EGL_KHR_no_config_context") {
            // Old drivers: any ES3-capable config; we never create a surface from it.
            var attribs: [EGLint] = [EGLint(EGL_RENDERABLE_TYPE), EGLint(EGL_OPENGL_ES3_BIT), EGLint(EGL_NONE)]
            var n: EGLint = 0
            guard eglChooseConfig(d, &attribs, &config, 1, &n) == EGLBoolean(EGL_TRUE), n > 0 else {
                throw .noContext("no EGL config with EGL_OPENGL_ES3_BIT")
            }
        }
        var ctx: EGLContext?
        for minorVersion in [2, 1] {
            let attribs: [EGLint] = [EGLint(EGL_CONTEXT_MAJOR_VERSION), 3,
                                     EGLint(EGL_CONTEXT_MINOR_VERSION), EGLint(minorVersion), EGLint(EGL_NONE)]
            ctx = eglCreateContext(d, config, cgles_no_context(), attribs)
            if let c = ctx, c != cgles_no_context() { break }
            ctx = nil
        }
        guard let c = ctx else { throw .noContext("eglCreateContext(ES 3.2/3.1): \(eglErrorString())") }
        guard eglMakeCurrent(d, cgles_no_surface(), cgles_no_surface(), c) == EGLBoolean(EGL_TRUE) else {
            let why = eglErrorString()
            eglDestroyContext(d, c)
            throw .noContext("eglMakeCurrent without surface: \(why)")
        }
        display = d
        context = c
    }

    private func readCapabilities() throws(GPUError) {
        func gs(_ name: Int32) -> String {
            guard let p = glGetString(GLenum(name)) else { return "" }
            return String(cString: UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))
        }
        vendor = gs(GL_VENDOR); renderer = gs(GL_RENDERER); version = gs(GL_VERSION)
        glslVersion = gs(GL_SHADING_LANGUAGE_VERSION)
        var v: GLint = 0
        glGetIntegerv(GLenum(GL_MAJOR_VERSION), &v); glesMajor = Int(v)
        glGetIntegerv(GLenum(GL_MINOR_VERSION), &v); glesMinor = Int(v)
        glGetIntegerv(GLenum(GL_MAX_TEXTURE_SIZE), &v); maxTextureSize = Int(v)
        glGetIntegerv(GLenum(GL_MAX_ARRAY_TEXTURE_LAYERS), &v); maxArrayTextureLayers = Int(v)
        var db: GLint = 0, ca: GLint = 0
        glGetIntegerv(GLenum(GL_MAX_DRAW_BUFFERS), &db)
        glGetIntegerv(GLenum(GL_MAX_COLOR_ATTACHMENTS), &ca)
        maxDrawBuffers = Int(min(db, ca))
        var sm: GLint = 0
        glGetIntegerv(GLenum(GL_MAX_COMPUTE_SHARED_MEMORY_SIZE), &sm); maxComputeSharedBytes = Int(sm)
        var n: GLint = 0
        glGetIntegerv(GLenum(GL_NUM_EXTENSIONS), &n)
        var exts = Set<String>()
        for i in 0..<max(0, n) {
            if let p = glGetStringi(GLenum(GL_EXTENSIONS), GLuint(i)) {
                exts.insert(String(cString: UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self)))
            }
        }
        extensions = exts
        let r = renderer.lowercased()
        isSoftware = r.contains("llvmpipe") || r.contains("softpipe") || r.contains("swiftshader") || r.contains("software")
        guard glesMajor > 3 || (glesMajor == 3 && glesMinor >= 1) else { throw .unsupportedVersion(version) }
        // Float render targets (tensors, readback of RGBA32F/RGBA16F with GL_FLOAT) need this.
        guard exts.contains("GL_EXT_color_buffer_float") else { throw .missingExtension("EXT_color_buffer_float") }
        // Passes assume this state; a stage that changes it (overlay blending) restores it.
        glDisable(GLenum(GL_DITHER))
        glDisable(GLenum(GL_BLEND))
        glDisable(GLenum(GL_DEPTH_TEST))
        glDisable(GLenum(GL_CULL_FACE))
        glPixelStorei(GLenum(GL_UNPACK_ALIGNMENT), 1)
        glPixelStorei(GLenum(GL_PACK_ALIGNMENT), 4)
    }

    // MARK: device listing

    struct DeviceInfo {
        var handle: EGLDeviceEXT?
        var extensions: String
        var isSoftware: Bool { extensions.contains("EGL_MESA_device_software") }
        var drmFile: String?
        var name: String?
    }

    static func string(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

    static func surfacelessDisplay() -> EGLDisplay? {
        let client = string(eglQueryString(cgles_no_display(), EGLint(EGL_EXTENSIONS)))
        guard client.contains("EGL_MESA_platform_surfaceless") else { return nil }
        return cgles_get_platform_display(EGLenum(EGL_PLATFORM_SURFACELESS_MESA), nil)
    }

    static func queryDevices() -> [DeviceInfo] {
        let client = string(eglQueryString(cgles_no_display(), EGLint(EGL_EXTENSIONS)))
        guard client.contains("EGL_EXT_device_enumeration") || client.contains("EGL_EXT_device_base") else { return [] }
        var n: EGLint = 0
        guard cgles_query_devices(0, nil, &n) == EGLBoolean(EGL_TRUE), n > 0 else { return [] }
        var handles = [EGLDeviceEXT?](repeating: nil, count: Int(n))
        guard cgles_query_devices(n, &handles, &n) == EGLBoolean(EGL_TRUE) else { return [] }
        return handles.prefix(Int(n)).map { h in
            let exts = string(cgles_query_device_string(h, EGLint(EGL_EXTENSIONS)))
            var info = DeviceInfo(handle: h, extensions: exts)
            if exts.contains("EGL_EXT_device_drm") {
                info.drmFile = cgles_query_device_string(h, EGLint(EGL_DRM_DEVICE_FILE_EXT)).map { String(cString: $0) }
            }
            if exts.contains("EGL_EXT_device_query_name") {
                let vendor = string(cgles_query_device_string(h, EGLint(EGL_VENDOR)))
                let renderer = string(cgles_query_device_string(h, EGLint(EGL_RENDERER_EXT)))
                info.name = [vendor, renderer].filter { !$0.isEmpty }.joined(separator: " ")
            }
            return info
        }
    }

    /// One line per EGL device: index, name (vendor/renderer, DRM node or driver hint), software or hardware.
    /// Opens no display, so it is safe beside a live context.
    public static func listDevices() -> [String] {
        let devices = queryDevices()
        var lines = devices.enumerated().map { i, d -> String in
            var name = d.name ?? ""
            if name.isEmpty {
                if d.isSoftware { name = "Mesa software rasteriser" }
                else if d.extensions.contains("EGL_NV_device_cuda") { name = "NVIDIA (CUDA device)" }
                else { name = "unknown vendor" }
            }
            if let f = d.drmFile, !f.isEmpty { name += " [\(f)]" }
            return "\(i): \(name) — \(d.isSoftware ? "software" : "hardware")"
        }
        let client = string(eglQueryString(cgles_no_display(), EGLint(EGL_EXTENSIONS)))
        if client.contains("EGL_MESA_platform_surfaceless") {
            lines.append("surfaceless: Mesa platform (fallback for --gpu auto, used by --gpu cpu)")
        }
        if lines.isEmpty { lines.append("no EGL devices (EGL_EXT_device_enumeration missing?)") }
        return lines
    }
}
