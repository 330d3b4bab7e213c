// Training crops kept on the GPU: pages of R32F texels in the trainer's image layout (a crop is
// side·channels texels wide and side tall, NHWC), each filled by a pass from the crop renderer's RGBA
// target (Shaders/train/pack_crop.glsl) and gathered into a step's batch by GPU copies
// (glCopyImageSubData). Nothing comes back to the CPU unless asked (`read`: `facefx train --save-crops`).
import CGLES
import FaceFXGPU
import Foundation

public final class CropAtlas {
    public let context: GPUContext
    public let input: FaceClassifierNet.Input
    /// Crops held.
    public private(set) var count = 0
    private var pages: [Framebuffer] = []
    /// A page is pageSide² texels (16 MB of R32F at 2048): 1,024 grey64 crops or 80 rgb128 ones.
    private let pageSide: Int
    private let perRow: Int, perPage: Int
    private let programs: ProgramCache
    private let runner: PassRunner

    public init(context: GPUContext, input: FaceClassifierNet.Input, programs: ProgramCache? = nil) {
        self.context = context
        self.input = input
        self.programs = programs ?? ProgramCache(context: context)
        runner = PassRunner(context: context)
        pageSide = min(2048, context.maxTextureSize)
        perRow = pageSide / (input.side * input.channels)
        perPage = perRow * (pageSide / input.side)
    }

    /// Item `item` of `target` (RGBA, items of side × side stacked in y) appended; returns its index.
    public func append(from target: Texture, item: Int) throws -> Int {
        let index = count
        if index / perPage >= pages.count {
            pages.append(try Framebuffer(context: context, color: Texture(context: context, width: pageSide, height: pageSide, format: .r32f)))
        }
        let (page, x, y) = slot(index)
        let program = try programs.program("train/pack_crop.glsl", defines: ["CIN": String(input.channels), "SIDE": String(input.side)])
        try runner.drawFullscreen(program: program, target: pages[page],
                                  viewport: Viewport(x: x, y: y, width: input.side * input.channels, height: input.side),
                                  inputs: [PassInput("u_crop", target)],
                                  uniforms: ["u_item": .int(Int32(item)), "u_origin": .ivec2(Int32(x), Int32(y))])
        count += 1
        return index
    }

    /// Copies crops `indices` into rows n·side of `images` (an R32F texture at least side·channels wide
    /// and indices.count·side tall: the trainer's input).
    func gather(_ indices: [Int], into images: Texture) throws {
        guard indices.allSatisfy({ (0..<count).contains($0) }) else {
            throw GPUError.invalidArgument("crop atlas of \(count) crops: indices \(indices.filter { !(0..<count).contains($0) })")
        }
        let width = GLsizei(input.side * input.channels), side = GLsizei(input.side)
        context.sync {
            for (n, i) in indices.enumerated() {
                let (page, x, y) = slot(i)
                glCopyImageSubData(pages[page].color.handle, GLenum(GL_TEXTURE_2D), 0, GLint(x), GLint(y), 0,
                                   images.handle, GLenum(GL_TEXTURE_2D), 0, 0, GLint(n) * side, 0, width, side, 1)
            }
        }
    }

    /// Crop `index`'s values (NHWC: side × side × channels), read back.
    public func read(_ index: Int) throws -> [Float] {
        precondition((0..<count).contains(index))
        let (page, x, y) = slot(index)
        let rgba = try pages[page].readFloats(x: x, y: y, width: input.side * input.channels, height: input.side)
        return stride(from: 0, to: rgba.count, by: 4).map { rgba[$0] }
    }

    /// The page and the texel where crop `index` starts.
    private func slot(_ index: Int) -> (page: Int, x: Int, y: Int) {
        let j = index % perPage
        return (index / perPage, (j % perRow) * input.side * input.channels, (j / perRow) * input.side)
    }
}
