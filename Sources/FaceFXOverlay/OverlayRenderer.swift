// Draws filter packs into the frame texture on the GL thread.
//
// Per frame, the filters' elements run in order. Runs of consecutive geometric elements (mesh,
// sprite, debug) form one multisampled pass: the touched region of the frame is copied into a
// 4× MSAA colour+depth target, each face (farthest first) gets its head occluder in depth and its
// elements drawn with premultiplied-alpha blending, and the region is resolved back. Region
// effects (blur, pixelate, tint) draw straight into the frame over feathered polygons.
// Everything GL is created in `init` (or once per frame size); a frame only rewrites buffers.
import CGLES
import FaceFXFace
import FaceFXGPU
import Foundation

/// Tuning values of the overlay stage (one place, each with its reason).
public struct OverlaySettings {
    /// MSAA samples for mesh/sprite/debug drawing; 0 draws straight into the frame (edges then rely
    /// on the art's transparent borders). Clamped to GL_MAX_SAMPLES.
    public var msaaSamples = 4
    /// Face axes from the head pose's rotation (fitted on many points: steadier) rather than from
    /// three landmarks. Falls back to landmarks when a face has no pose.
    public var axesFromPose = true
    /// How far the head occluder reaches behind the face outline, inter-ocular units (a head is
    /// about 2 IOD deep; the face mesh already covers the front ~0.9).
    public var occluderDepth: Float = 1.3
    /// Faces drawn per frame at most (the largest kept).
    public var maxFaces = 16
    /// Fade state of a face unseen this long (seconds) is forgotten.
    public var stateTimeout = 2.0

    public init() {}
}

public enum OverlayError: Error, CustomStringConvertible {
    case badFrame(String)
    public var description: String {
        switch self {
        case .badFrame(let why): return "overlay: \(why)"
        }
    }
}

public final class OverlayRenderer {
    public let context: GPUContext
    public let filters: [FilterPack]
    public let settings: OverlaySettings
    let model: CanonicalFaceModel

    // One prepared element per manifest element, flattened in drawing order.
    struct Prepared {
        let filter: Int
        let index: Int
        let element: FilterElement
        var texture: Texture?
        var imageSize = Vec2(1, 1)
        var meshIndices = 0..<0
    }
    private var elements: [Prepared] = []
    /// Consecutive element ranges: geometric runs share one multisampled pass.
    private var segments: [(range: Range<Int>, geometric: Bool)] = []

    private let programs: ProgramCache
    private let geometry: GeometryBuffer
    private let textured, occluder, debugProgram, copyProgram, downsample4, downsample8, blurProgram: Program
    private let compositeBlur, compositePixelate, compositeTint: Program
    private let linearSampler: Sampler
    private let workA, workB: Texture
    private let workTargetA, workTargetB: Framebuffer
    static let workSize = 256

    private let boundaryLoop: [Int]
    private let occluderIndices: Range<Int>
    private let faceVertexCount: Int

    // Per frame size (created on the first frame of a size, reused after).
    private var sizeKey = (0, 0)
    private var msaa: MultisampleTarget?
    private var scratch: Framebuffer?
    private var direct: (ObjectIdentifier, Framebuffer)?

    private var vertexCursor = 0
    private var fades: [FadeKey: FadeState] = [:]

    struct FadeKey: Hashable { let face: Int; let element: Int }
    struct FadeState { var level: Float; var time: Double }

    /// Compiles programs, uploads art, builds index lists. `filters` draw in order (stacked) on the
    /// canonical face mesh `model`. `programs`: a cache shared with the rest of the job (nil: its own).
    public init(context: GPUContext, programs: ProgramCache? = nil, filters: [FilterPack], model: CanonicalFaceModel,
                settings: OverlaySettings = OverlaySettings()) throws {
        self.context = context
        self.filters = filters
        self.settings = settings
        self.model = model
        let programs = programs ?? ProgramCache(context: context)
        self.programs = programs
        let vert = "overlay/geometry.vert.glsl"
        textured = try programs.program("overlay/textured.glsl", vertex: vert)
        occluder = try programs.program("overlay/occluder.glsl", vertex: vert)
        debugProgram = try programs.program("overlay/debug.glsl", vertex: vert)
        compositeBlur = try programs.program("overlay/composite.glsl", vertex: vert, defines: ["MODE": "1"])
        compositePixelate = try programs.program("overlay/composite.glsl", vertex: vert, defines: ["MODE": "2"])
        compositeTint = try programs.program("overlay/composite.glsl", vertex: vert, defines: ["MODE": "3"])
        copyProgram = try programs.program("color/copy.glsl")
        downsample4 = try programs.program("overlay/downsample.glsl", defines: ["TAPS": "4"])
        downsample8 = try programs.program("overlay/downsample.glsl", defines: ["TAPS": "8"])
        blurProgram = try programs.program("overlay/blur.glsl")
        for p in [textured, copyProgram, downsample4, downsample8, blurProgram] { p.set("u_image", 0); p.set("u_src", 0) }
        for p in [compositeBlur, compositePixelate, compositeTint] { p.set("u_low", 0); p.set("u_snapshot", 1) }
        linearSampler = Sampler(context: context, filter: .linear)
        let n = OverlayRenderer.workSize
        workA = try Texture(context: context, width: n, height: n, format: .rgba8, filter: .linear)
        workB = try Texture(context: context, width: n, height: n, format: .rgba8, filter: .linear)
        workTargetA = try Framebuffer(context: context, color: workA)
        workTargetB = try Framebuffer(context: context, color: workB)

        // Index lists: occluder (mesh + extrusion), then one list per mesh element (holes dropped).
        boundaryLoop = OverlayRenderer.outerBoundary(model.triangles)
        let meshN = FaceLandmarks.meshCount, b = boundaryLoop.count
        faceVertexCount = meshN + b + 1
        var indices: [UInt32] = model.triangles.flatMap { [UInt32($0.x), UInt32($0.y), UInt32($0.z)] }
        for i in 0..<b {
            let j = (i + 1) % b
            let fi = UInt32(boundaryLoop[i]), fj = UInt32(boundaryLoop[j])
            let bi = UInt32(meshN + i), bj = UInt32(meshN + j), cap = UInt32(meshN + b)
            indices += [fi, fj, bi, fj, bj, bi, bi, bj, cap]
        }
        occluderIndices = 0..<indices.count
        var prepared: [Prepared] = []
        for (fi, pack) in filters.enumerated() {
            for (ei, element) in pack.manifest.elements.enumerated() {
                var p = Prepared(filter: fi, index: ei, element: element)
                for asset in element.assets {
                    guard let image = pack.images[asset.path] else { continue }
                    p.texture = try OverlayRenderer.upload(image, context: context)
                    p.imageSize = Vec2(Float(image.width), Float(image.height))
                }
                if case .mesh(let m) = element.content {
                    let holes = m.holes.map(\.indices)
                    let start = indices.count
                    for t in model.triangles {
                        let corners = [Int(t.x), Int(t.y), Int(t.z)]
                        if holes.contains(where: { h in corners.allSatisfy { h.contains($0) } }) { continue }
                        indices += corners.map(UInt32.init)
                    }
                    p.meshIndices = start..<indices.count
                }
                prepared.append(p)
            }
        }
        elements = prepared
        geometry = try GeometryBuffer(context: context,
                                      attributes: [VertexAttribute(location: 0, components: 3), VertexAttribute(location: 1, components: 2),
                                                   VertexAttribute(location: 2, components: 1)],
                                      vertexCapacity: 1 << 17, indexCapacity: max(indices.count, 1))
        try geometry.setIndices(indices)
        var segs: [(Range<Int>, Bool)] = []
        for (i, p) in elements.enumerated() {
            let g = OverlayRenderer.isGeometric(p.element.kind)
            if let last = segs.last, last.1 == g { segs[segs.count - 1].0 = last.0.lowerBound..<(i + 1) } else { segs.append((i..<(i + 1), g)) }
        }
        segments = segs.map { (range: $0.0, geometric: $0.1) }
    }

    static func isGeometric(_ k: ElementKind) -> Bool { k == .mesh || k == .sprite || k == .debug }

    /// Premultiplies (in the sRGB-encoded space the frame blends in) and uploads with mipmaps.
    static func upload(_ image: RGBAImage, context: GPUContext) throws -> Texture {
        var px = image.pixels
        for i in stride(from: 0, to: px.count, by: 4) {
            let a = UInt32(px[i + 3])
            for c in 0..<3 { px[i + c] = UInt8((UInt32(px[i + c]) * a + 127) / 255) }
        }
        let t = try Texture(context: context, width: image.width, height: image.height, format: .rgba8, filter: .linear, mipmapped: true)
        try t.upload(bytes: px)
        try t.generateMipmaps()
        return t
    }

    /// The mesh's outer boundary loop (edges used by one triangle; the longest loop), in one canonical form:
    /// from its smallest vertex toward the smaller of that vertex's two neighbours. (Built from a
    /// dictionary's iteration order, the direction changed from one process to the next — Swift seeds its
    /// hashing per process — and with it the occluder's triangles: a mask render differed by a pixel at an
    /// eye hole in about half the runs.)
    static func outerBoundary(_ triangles: [SIMD3<Int32>]) -> [Int] {
        var count: [Int: Int] = [:]
        func key(_ a: Int, _ b: Int) -> Int { min(a, b) * 4096 + max(a, b) }
        for t in triangles {
            let c = [Int(t.x), Int(t.y), Int(t.z)]
            for i in 0..<3 { count[key(c[i], c[(i + 1) % 3]), default: 0] += 1 }
        }
        var adj: [Int: [Int]] = [:]
        for (k, n) in count where n == 1 {
            let a = k / 4096, b = k % 4096
            adj[a, default: []].append(b); adj[b, default: []].append(a)
        }
        // Neighbours in ascending order: the walk from the smallest vertex takes the smaller one first.
        for v in adj.keys { adj[v]?.sort() }
        var seen = Set<Int>(), best: [Int] = []
        for start in adj.keys.sorted() where !seen.contains(start) {
            var loop = [start], prev = -1, cur = start
            seen.insert(start)
            while let next = adj[cur]?.first(where: { $0 != prev && !seen.contains($0) }) {
                loop.append(next); seen.insert(next); prev = cur; cur = next
            }
            if loop.count > best.count { best = loop }
        }
        return best
    }

    // MARK: frame

    /// Draws every filter for `faces` into `frameTarget` (the frame texture's framebuffer, row 0 = top).
    /// `time` in seconds drives `when` fades (per face id).
    public func render(into frameTarget: Framebuffer, width: Int, height: Int, faces: [OverlayFace], time: Double) throws {
        guard width == frameTarget.width, height == frameTarget.height else {
            throw OverlayError.badFrame("frame \(width)x\(height) but target \(frameTarget.width)x\(frameTarget.height)")
        }
        let usable = faces.filter { $0.landmarks.count >= FaceLandmarks.count }
        var frames = usable.map { FaceFrame(face: $0, axesFromPose: settings.axesFromPose) }
        var order = Array(frames.indices).sorted { frames[$0].unit < frames[$1].unit }   // far (small) first
        if order.count > settings.maxFaces { order = Array(order.suffix(settings.maxFaces)) }
        let chosen = order.map { usable[$0] }
        frames = order.map { frames[$0] }
        let levels = updateFades(chosen, time: time)
        guard !chosen.isEmpty, !elements.isEmpty else { return }
        try context.sync { () throws in
            try prepareSize(width, height, target: frameTarget)
            vertexCursor = 0
            for seg in segments {
                if seg.geometric {
                    try drawGeometric(seg.range, faces: chosen, frames: frames, levels: levels, target: frameTarget, width: width, height: height)
                } else {
                    for i in seg.range {
                        for (k, face) in chosen.enumerated() {
                            let o = Float(elements[i].element.opacity) * levels[k][i]
                            if o < 1.0 / 512 { continue }
                            try drawEffect(elements[i], face: face, frame: frames[k], opacity: o, target: frameTarget, width: width, height: height)
                        }
                    }
                }
            }
            restoreState()
        }
    }

    /// Opacity multiplier per face (in `faces` order) and element: 1 without `when`, else the faded level.
    func updateFades(_ faces: [OverlayFace], time: Double) -> [[Float]] {
        var out: [[Float]] = []
        for face in faces {
            var row = [Float](repeating: 1, count: elements.count)
            for (i, p) in elements.enumerated() {
                guard let cond = p.element.when else { continue }
                let target: Float = cond.holds(blendshapes: face.blendshapes, emotions: face.emotions, classes: face.classes) ? 1 : 0
                let key = FadeKey(face: face.id, element: i)
                // A face seen for the first time starts in its condition's state (a still, or a face entering
                // with its mouth already open, shows the element at once); changes after that fade.
                var state = fades[key] ?? FadeState(level: target, time: time)
                let dt = max(0, time - state.time)
                if p.element.fade <= 0 { state.level = target } else {
                    let step = Float(dt / p.element.fade)
                    state.level = target > state.level ? min(target, state.level + step) : max(target, state.level - step)
                }
                state.time = time
                fades[key] = state
                row[i] = state.level
            }
            out.append(row)
        }
        fades = fades.filter { time - $0.value.time <= settings.stateTimeout && $0.value.time <= time }
        return out
    }

    /// Fade level of an element for a face (tests, previews).
    public func fadeLevel(faceID: Int, filter: Int, element: Int) -> Float? {
        guard let i = elements.firstIndex(where: { $0.filter == filter && $0.index == element }) else { return nil }
        return fades[FadeKey(face: faceID, element: i)]?.level
    }

    private func prepareSize(_ w: Int, _ h: Int, target: Framebuffer) throws {
        if sizeKey != (w, h) {
            msaa = nil; scratch = nil
            if settings.msaaSamples > 1 && MultisampleTarget.maxSamples(context) > 1 {
                msaa = try MultisampleTarget(context: context, width: w, height: h, samples: settings.msaaSamples)
            }
            let s = try Texture(context: context, width: w, height: h, format: .rgba8)
            scratch = try Framebuffer(context: context, color: s)
            sizeKey = (w, h)
        }
        if msaa == nil, direct?.0 != ObjectIdentifier(target.color) {
            direct = (ObjectIdentifier(target.color), try Framebuffer(context: context, color: target.color, depth: true))
        }
    }

    private func restoreState() {
        glDisable(GLenum(GL_BLEND)); glDisable(GLenum(GL_DEPTH_TEST)); glDisable(GLenum(GL_SCISSOR_TEST))
        glDepthMask(GLboolean(GL_TRUE)); glColorMask(GLboolean(GL_TRUE), GLboolean(GL_TRUE), GLboolean(GL_TRUE), GLboolean(GL_TRUE))
        glDepthFunc(GLenum(GL_LESS))
        geometry.unbind()
        for u in 0..<2 { glActiveTexture(GLenum(GL_TEXTURE0 + Int32(u))); glBindTexture(GLenum(GL_TEXTURE_2D), 0); glBindSampler(GLuint(u), 0) }
        glActiveTexture(GLenum(GL_TEXTURE0))
        glBindFramebuffer(GLenum(GL_FRAMEBUFFER), 0)
        glUseProgram(0)
    }

    private func bind(_ unit: Int, _ t: Texture, _ sampler: Sampler? = nil) {
        glActiveTexture(GLenum(GL_TEXTURE0 + Int32(unit)))
        glBindTexture(GLenum(GL_TEXTURE_2D), t.handle)
        glBindSampler(GLuint(unit), sampler?.handle ?? 0)
    }

    /// Writes vertices at the running cursor; returns the first vertex index.
    private func push(_ floats: [Float]) throws -> Int {
        let n = floats.count / OverlayVertex.floats
        if vertexCursor + n > geometry.vertexCapacity { vertexCursor = 0 }
        let first = vertexCursor
        try floats.withUnsafeBufferPointer { try geometry.setVertices($0, at: first) }
        vertexCursor += n
        return first
    }

    private func setFrameUniforms(_ p: Program, _ w: Int, _ h: Int) {
        p.set("u_frameSize", .vec2(Float(w), Float(h)))
        p.set("u_depthScale", .float(1 / Float(4 * max(w, h))))
    }

    // MARK: geometric elements

    enum Draw {
        case mesh(element: Int, opacity: Float)
        case sprite(element: Int, first: Int, opacity: Float)
        case debug(mode: Int32, first: Int, count: Int, edge: Float, color: SIMD4<Float>)
    }

    private func drawGeometric(_ range: Range<Int>, faces: [OverlayFace], frames: [FaceFrame], levels: [[Float]],
                               target: Framebuffer, width w: Int, height h: Int) throws {
        // Per face: its vertex block, its draws and the pixel box they cover.
        var perFace: [(base: Int, draws: [Draw], box: (x0: Int, y0: Int, x1: Int, y1: Int))] = []
        for (k, face) in faces.enumerated() {
            let f = frames[k]
            var draws: [Draw] = []
            var loose: [Float] = []
            var needsMesh = false
            for i in range {
                let p = elements[i]
                let o = Float(p.element.opacity) * levels[k][i]
                if o < 1.0 / 512 { continue }
                switch p.element.content {
                case .mesh:
                    draws.append(.mesh(element: i, opacity: o)); needsMesh = true
                case .sprite(let s):
                    let c = SpritePlacement.corners(s, imageSize: p.imageSize, face: f)
                    let uv: [Vec2] = [Vec2(0, 0), Vec2(1, 0), Vec2(1, 1), Vec2(0, 1)]
                    let first = loose.count / OverlayVertex.floats
                    for j in [0, 1, 2, 0, 2, 3] { loose += [c[j].x, c[j].y, c[j].z, uv[j].x, uv[j].y, 1] }
                    draws.append(.sprite(element: i, first: first, opacity: o))
                case .debug(let d):
                    for dd in debugDraws(d, face: face, frame: f, height: h, opacity: o, into: &loose) { draws.append(dd) }
                default: break
                }
            }
            if draws.isEmpty { continue }
            var minP = Vec2(Float.infinity, Float.infinity), maxP = -minP
            func grow(_ p: Vec2) { minP = Vec2(min(minP.x, p.x), min(minP.y, p.y)); maxP = Vec2(max(maxP.x, p.x), max(maxP.y, p.y)) }
            if needsMesh { for i in 0..<FaceLandmarks.meshCount { grow(f.xy(i)) } }
            for i in stride(from: 0, to: loose.count, by: OverlayVertex.floats) { grow(Vec2(loose[i], loose[i + 1])) }
            guard minP.x <= maxP.x else { continue }
            let x0 = max(0, Self.pixel(minP.x, limit: w, up: false) - 2), y0 = max(0, Self.pixel(minP.y, limit: h, up: false) - 2)
            let x1 = min(w, Self.pixel(maxP.x, limit: w, up: true) + 2), y1 = min(h, Self.pixel(maxP.y, limit: h, up: true) + 2)
            guard x1 > x0, y1 > y0 else { continue }
            // Face block: mesh vertices with canonical UVs, then the occluder's back ring and cap.
            var block: [Float] = []
            block.reserveCapacity(faceVertexCount * OverlayVertex.floats)
            for i in 0..<FaceLandmarks.meshCount {
                let q = f.points[i], uv = model.uvs[i]
                block += [q.x, q.y, q.z, Float(uv.x), 1 - Float(uv.y), 1]
            }
            let ring = boundaryLoop.map { f.points[$0] }
            let center = ring.reduce(Vec3.zero, +) / Float(max(ring.count, 1))
            let depth = settings.occluderDepth * f.unit
            for q in ring {
                let back = q + (center - q) * 0.3 + f.ez * depth
                block += [back.x, back.y, back.z, 0, 0, 1]
            }
            let cap = center + f.ez * depth * 1.1
            block += [cap.x, cap.y, cap.z, 0, 0, 1]
            let base = try push(block + loose)
            perFace.append((base, draws, (x0, y0, x1, y1)))
        }
        guard !perFace.isEmpty else { return }

        glViewport(0, 0, GLsizei(w), GLsizei(h))
        glEnable(GLenum(GL_SCISSOR_TEST))
        for p in [textured, occluder, debugProgram] { setFrameUniforms(p, w, h) }
        // One face at a time, each within its own box (far faces first): with multisampling the box is
        // copied in, drawn and resolved before the next face, so overlapping faces composite in order,
        // and only the faces' boxes (not the box around all of them) pass through the multisampled
        // target — on GPUs with few pixel-shading units that copy and resolve are most of the cost.
        for (base, draws, box) in perFace {
            let (x0, y0, x1, y1) = box
            glBindFramebuffer(GLenum(GL_FRAMEBUFFER), msaa?.handle ?? direct!.1.handle)
            glScissor(GLint(x0), GLint(y0), GLsizei(x1 - x0), GLsizei(y1 - y0))
            if msaa != nil {
                // Every sample starts as the frame's pixel, so untouched pixels resolve to themselves exactly.
                glDisable(GLenum(GL_BLEND)); glDisable(GLenum(GL_DEPTH_TEST))
                glUseProgram(copyProgram.handle)
                bind(0, target.color)
                geometry.bind(base: 0)
                glDrawArrays(GLenum(GL_TRIANGLES), 0, 3)
            }
            glBlendFuncSeparate(GLenum(GL_ONE), GLenum(GL_ONE_MINUS_SRC_ALPHA), GLenum(GL_ZERO), GLenum(GL_ONE))
            glDepthMask(GLboolean(GL_TRUE))
            glClearDepthf(1)
            glClear(GLbitfield(GL_DEPTH_BUFFER_BIT))
            // Occluder: depth only.
            glDisable(GLenum(GL_BLEND))
            glEnable(GLenum(GL_DEPTH_TEST)); glDepthFunc(GLenum(GL_LESS))
            glColorMask(GLboolean(GL_FALSE), GLboolean(GL_FALSE), GLboolean(GL_FALSE), GLboolean(GL_FALSE))
            glUseProgram(occluder.handle)
            geometry.bind(base: base)
            geometry.drawIndexed(first: occluderIndices.lowerBound, count: occluderIndices.count)
            glColorMask(GLboolean(GL_TRUE), GLboolean(GL_TRUE), GLboolean(GL_TRUE), GLboolean(GL_TRUE))
            glDepthMask(GLboolean(GL_FALSE))
            glEnable(GLenum(GL_BLEND))
            let looseBase = base + faceVertexCount
            for d in draws {
                switch d {
                case .mesh(let i, let o):
                    guard let tex = elements[i].texture else { continue }
                    glEnable(GLenum(GL_DEPTH_TEST)); glDepthFunc(GLenum(GL_LEQUAL))
                    glUseProgram(textured.handle)
                    textured.set("u_opacity", .float(o))
                    bind(0, tex)
                    geometry.bind(base: base)
                    let r = elements[i].meshIndices
                    geometry.drawIndexed(first: r.lowerBound, count: r.count)
                case .sprite(let i, let first, let o):
                    guard let tex = elements[i].texture, case .sprite(let s) = elements[i].element.content else { continue }
                    if s.occluded { glEnable(GLenum(GL_DEPTH_TEST)); glDepthFunc(GLenum(GL_LESS)) } else { glDisable(GLenum(GL_DEPTH_TEST)) }
                    glUseProgram(textured.handle)
                    textured.set("u_opacity", .float(o))
                    bind(0, tex)
                    geometry.bind(base: looseBase)
                    geometry.draw(first: first, count: 6)
                case .debug(let mode, let first, let count, let edge, let color):
                    glDisable(GLenum(GL_DEPTH_TEST))
                    glUseProgram(debugProgram.handle)
                    debugProgram.set("u_mode", .int(mode))
                    debugProgram.set("u_edgePx", .float(edge))
                    debugProgram.set("u_color", .vec4(color.x, color.y, color.z, color.w))
                    debugProgram.set("u_opacity", .float(1))
                    geometry.bind(base: looseBase)
                    geometry.draw(first: first, count: count)
                }
            }
            glDisable(GLenum(GL_BLEND)); glDisable(GLenum(GL_DEPTH_TEST))
            glDepthMask(GLboolean(GL_TRUE))
            if let msaa {
                glDisable(GLenum(GL_SCISSOR_TEST))
                try msaa.resolve(into: target, x: x0, y: y0, width: x1 - x0, height: y1 - y0)
                glEnable(GLenum(GL_SCISSOR_TEST))
            }
        }
        glDisable(GLenum(GL_SCISSOR_TEST))
    }

    /// Landmark dots, pose axes and the id digits as loose vertices (opacity folded into colour).
    private func debugDraws(_ d: DebugElement, face: OverlayFace, frame f: FaceFrame, height h: Int, opacity o: Float,
                            into v: inout [Float]) -> [Draw] {
        var draws: [Draw] = []
        let px = max(1, Float(h) / 1080)
        func quad(_ c: [Vec2], _ uv: [Vec2]) {
            for j in [0, 1, 2, 0, 2, 3] { v += [c[j].x, c[j].y, -1e6, uv[j].x, uv[j].y, 1] }
        }
        if d.landmarks {
            // Radius follows the face size too, so dots stay separate on small faces.
            let r = max(0.8, min(Float(d.dotRadius) * px, f.unit * 0.02)), e = (r + 1) / r
            let first = v.count / OverlayVertex.floats
            for i in 0..<FaceLandmarks.count {
                let c = f.xy(i)
                let s = r + 1
                quad([c + Vec2(-s, -s), c + Vec2(s, -s), c + Vec2(s, s), c + Vec2(-s, s)],
                     [Vec2(-e, -e), Vec2(e, -e), Vec2(e, e), Vec2(-e, e)])
            }
            draws.append(.debug(mode: 0, first: first, count: FaceLandmarks.count * 6, edge: r, color: SIMD4(0.2, 1, 0.4, 1) * o))
        }
        if d.axes {
            let hw = max(0.8, min(1.5 * px, f.unit * 0.015)), e = (hw + 1) / hw
            let origin = f.points[FaceRegions.noseTip]
            let axes: [(Vec3, SIMD4<Float>)] = [(f.ex, SIMD4(1, 0.15, 0.15, 1)), (-f.ey, SIMD4(0.2, 1, 0.2, 1)), (-f.ez, SIMD4(0.25, 0.45, 1, 1))]
            for (axis, color) in axes {
                let a = Vec2(origin.x, origin.y), tip = origin + axis * (0.8 * f.unit), b = Vec2(tip.x, tip.y)
                let dir = b - a
                guard length(dir) > 0.5 else { continue }
                let n = Vec2(-dir.y, dir.x) / length(dir) * (hw + 1)
                let first = v.count / OverlayVertex.floats
                quad([a - n, b - n, b + n, a + n], [Vec2(0, -e), Vec2(1, -e), Vec2(1, e), Vec2(0, e)])
                draws.append(.debug(mode: 1, first: first, count: 6, edge: hw, color: color * o))
            }
        }
        if d.ids {
            let digits = String(max(0, face.id)).compactMap { $0.wholeNumberValue }
            let g = max(2, f.unit * 0.07)
            let top = f.xy(FaceRegions.forehead) - Vec2(Float(digits.count) * 2 * g, 8 * g)
            let first = v.count / OverlayVertex.floats
            for (k, dgt) in digits.enumerated() {
                let x = top.x + Float(k) * 4 * g
                let u0 = Float(dgt * 4)
                // 3 glyph columns per quad (the gap is left out, so edge texels never read the next digit).
                quad([Vec2(x, top.y), Vec2(x + 3 * g, top.y), Vec2(x + 3 * g, top.y + 5 * g), Vec2(x, top.y + 5 * g)],
                     [Vec2(u0, 0), Vec2(u0 + 2.999, 0), Vec2(u0 + 2.999, 5), Vec2(u0, 5)])
            }
            draws.append(.debug(mode: 2, first: first, count: digits.count * 6, edge: 1, color: SIMD4(1, 0.85, 0.1, 1) * o))
        }
        return draws
    }

    // MARK: region effects

    private func drawEffect(_ p: Prepared, face: OverlayFace, frame f: FaceFrame, opacity: Float,
                            target: Framebuffer, width w: Int, height h: Int) throws {
        var verts: [Float] = []
        switch p.element.content {
        case .blur(let b):
            FeatherGeometry.filledLoop(hull(f), grow: Float(b.margin) * f.unit, feather: Float(b.feather) * f.unit, into: &verts)
        case .pixelate(let px):
            FeatherGeometry.filledLoop(hull(f), grow: Float(px.margin) * f.unit, feather: Float(px.feather) * f.unit, into: &verts)
        case .tint(let t):
            let feather = Float(t.feather) * f.unit
            switch t.region {
            case .lips:
                FeatherGeometry.ring(outer: FaceRegions.lipsOuter.map(f.xy), inner: FaceRegions.lipsInner.map(f.xy), feather: feather, into: &verts)
            case .eyeshadow:
                FeatherGeometry.eyeshadow(lid: FaceRegions.rightUpperLid.map(f.xy), brow: FaceRegions.rightBrowLower.map(f.xy), into: &verts)
                FeatherGeometry.eyeshadow(lid: FaceRegions.leftUpperLid.map(f.xy), brow: FaceRegions.leftBrowLower.map(f.xy), into: &verts)
            case .polygon:
                FeatherGeometry.filledLoop(t.landmarks.map(f.xy), grow: 0, feather: feather, into: &verts)
            }
        default: return
        }
        guard !verts.isEmpty else { return }
        // Working rectangle: the polygon's bounds on the frame.
        var lo = Vec2(Float.infinity, Float.infinity), hi = -lo
        for i in stride(from: 0, to: verts.count, by: OverlayVertex.floats) {
            lo = Vec2(min(lo.x, verts[i]), min(lo.y, verts[i + 1])); hi = Vec2(max(hi.x, verts[i]), max(hi.y, verts[i + 1]))
        }
        let x0 = max(0, Self.pixel(lo.x, limit: w, up: false)), y0 = max(0, Self.pixel(lo.y, limit: h, up: false))
        let x1 = min(w, Self.pixel(hi.x, limit: w, up: true)), y1 = min(h, Self.pixel(hi.y, limit: h, up: true))
        guard x1 > x0, y1 > y0 else { return }
        let rw = x1 - x0, rh = y1 - y0
        let first = try push(verts)
        glDisable(GLenum(GL_BLEND)); glDisable(GLenum(GL_DEPTH_TEST)); glDisable(GLenum(GL_SCISSOR_TEST))

        let program: Program
        var lowSize = Vec2(1, 1)
        switch p.element.content {
        case .blur(let b):
            let hullWidth = hull(f).reduce((Float.infinity, -Float.infinity)) { (min($0.0, $1.x), max($0.1, $1.x)) }
            let sigma = max(0.5, Float(b.strength) * (hullWidth.1 - hullWidth.0))
            let k = max(1, sigma / 2.5)
            let n = OverlayRenderer.workSize
            let lw = min(n, max(1, Int(ceil(Float(rw) / k)))), lh = min(n, max(1, Int(ceil(Float(rh) / k))))
            lowSize = Vec2(Float(lw), Float(lh))
            try shrink(target.color, rect: (x0, y0, rw, rh), to: (lw, lh), taps: downsample4, frame: (w, h))
            let sx = sigma * Float(lw) / Float(rw), sy = sigma * Float(lh) / Float(rh)
            blurPass(from: workA, to: workTargetB, dir: (1, 0), sigma: sx, size: (lw, lh))
            blurPass(from: workB, to: workTargetA, dir: (0, 1), sigma: sy, size: (lw, lh))
            program = compositeBlur
            bind(0, workA)
        case .pixelate(let px):
            let lw = min(OverlayRenderer.workSize, px.cells)
            let lh = min(OverlayRenderer.workSize, max(1, Int((Float(px.cells) * Float(rh) / Float(rw)).rounded())))
            lowSize = Vec2(Float(lw), Float(lh))
            try shrink(target.color, rect: (x0, y0, rw, rh), to: (lw, lh), taps: downsample8, frame: (w, h))
            program = compositePixelate
            bind(0, workA)
        case .tint(let t):
            guard let scratch else { return }
            try target.copyRegion(into: scratch, x: x0, y: y0, width: rw, height: rh)
            program = compositeTint
            program.set("u_tint", .vec3(Float(t.color.x), Float(t.color.y), Float(t.color.z)))
            program.set("u_tintMode", .int(t.mode == .multiply ? 0 : t.mode == .overlay ? 1 : 2))
            bind(1, scratch.color)
            opacityScale = Float(t.strength)
        default: return
        }
        defer { opacityScale = 1 }
        glBindFramebuffer(GLenum(GL_FRAMEBUFFER), target.handle)
        glViewport(0, 0, GLsizei(w), GLsizei(h))
        glEnable(GLenum(GL_BLEND))
        glBlendFuncSeparate(GLenum(GL_ONE), GLenum(GL_ONE_MINUS_SRC_ALPHA), GLenum(GL_ZERO), GLenum(GL_ONE))
        glUseProgram(program.handle)
        setFrameUniforms(program, w, h)
        program.set("u_rect", .vec4(Float(x0), Float(y0), Float(rw), Float(rh)))
        program.set("u_lowSize", .vec2(lowSize.x, lowSize.y))
        program.set("u_lowTexSize", .vec2(Float(OverlayRenderer.workSize), Float(OverlayRenderer.workSize)))
        program.set("u_opacity", .float(opacity * opacityScale))
        geometry.bind(base: 0)
        geometry.draw(first: first, count: verts.count / OverlayVertex.floats)
        glDisable(GLenum(GL_BLEND))
    }
    private var opacityScale: Float = 1

    /// The face's convex hull (frame pixels).
    private func hull(_ f: FaceFrame) -> [Vec2] {
        let pts = (0..<FaceLandmarks.meshCount).map { Point2(Double(f.points[$0].x), Double(f.points[$0].y)) }
        return FaceLandmarks.convexHull(pts).map { f.xy($0) }
    }

    /// Box-filters a frame rectangle into the first `to` texels of workA.
    private func shrink(_ frame: Texture, rect: (Int, Int, Int, Int), to: (Int, Int), taps: Program, frame size: (Int, Int)) throws {
        glBindFramebuffer(GLenum(GL_FRAMEBUFFER), workTargetA.handle)
        glViewport(0, 0, GLsizei(to.0), GLsizei(to.1))
        glUseProgram(taps.handle)
        taps.set("u_rect", .vec4(Float(rect.0), Float(rect.1), Float(rect.2), Float(rect.3)))
        taps.set("u_outSize", .vec2(Float(to.0), Float(to.1)))
        taps.set("u_frameSize", .vec2(Float(size.0), Float(size.1)))
        bind(0, frame, linearSampler)
        geometry.bind(base: 0)
        glDrawArrays(GLenum(GL_TRIANGLES), 0, 3)
        glBindSampler(0, 0)
    }

    private func blurPass(from: Texture, to: Framebuffer, dir: (Int32, Int32), sigma: Float, size: (Int, Int)) {
        glBindFramebuffer(GLenum(GL_FRAMEBUFFER), to.handle)
        glViewport(0, 0, GLsizei(size.0), GLsizei(size.1))
        glUseProgram(blurProgram.handle)
        blurProgram.set("u_dir", .ivec2(dir.0, dir.1))
        blurProgram.set("u_sigma", .float(sigma))
        blurProgram.set("u_radius", .int(Int32(min(24, max(1, Int(ceil(3 * sigma)))))))
        blurProgram.set("u_limit", .ivec2(Int32(size.0), Int32(size.1)))
        bind(0, from)
        glDrawArrays(GLenum(GL_TRIANGLES), 0, 3)
    }

    /// A coordinate in frame pixels as an Int (rounded down or up), clamped to -1 … limit + 1: geometry far
    /// outside the frame (a sprite shifted by a huge offset, degenerate landmarks) or NaN must clip, not
    /// trap in the conversion (a fuzzed filter with offset 1e20 crashed render here).
    static func pixel(_ v: Float, limit: Int, up: Bool) -> Int {
        guard !v.isNaN else { return -1 }
        return Int(min(max(up ? v.rounded(.up) : v.rounded(.down), -1), Float(limit + 1)))
    }
}
