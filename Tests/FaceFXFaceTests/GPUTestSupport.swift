// GPU side of the face tests: one shared GL context and one set of (CPU-reference) networks per
// test process, and still images turned into RGBA8 frame textures through the ffmpeg CLI (the
// face module must not depend on FaceFXMedia; FFmpeg's CLI is a test-only tool).
import FaceFXGPU
import FaceFXNeural
import Foundation
import XCTest
@testable import FaceFXFace

enum GPUTestSupport {
    static let context: Result<GPUContext, Error> = Result { try GPUContext(device: .auto) }
    static func sharedContext() throws -> GPUContext { try context.get() }

    static var modelsDir: URL { TestSupport.packageRoot.appendingPathComponent("Models") }
    static var samplesDir: URL { TestSupport.packageRoot.appendingPathComponent("samples") }

    /// The product path: the shader engine with fp16 storage.
    static let networks: Result<FaceNetworks, Error> = Result {
        try FaceNetworks.gpu(context: try sharedContext(), modelsDirectory: modelsDir, precision: .fp16)
    }
    /// The exact plain-Swift reference, to check the engine's results end to end.
    static let cpuNetworks: Result<FaceNetworks, Error> = Result {
        try FaceNetworks.cpuReference(context: try sharedContext(), modelsDirectory: modelsDir)
    }

    static func analyzer(cpu: Bool = false, _ configure: (inout FaceSettings) -> Void = { _ in }) throws -> FaceAnalyzer {
        var s = FaceSettings()
        configure(&s)
        return try FaceAnalyzer(context: try sharedContext(), networks: try (cpu ? cpuNetworks : networks).get(),
                                faceModel: TestSupport.canonicalModel, settings: s)
    }

    static var ffmpegPath: String? {
        ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Tightly packed RGBA8 pixels of `inputs` passed through `filter` (an ffmpeg -filter_complex
    /// graph, or nil), as the ffmpeg CLI decodes them; the caller states the resulting size.
    static func rgba(_ inputs: [URL], filter: String? = nil, width: Int, height: Int) throws -> (pixels: [UInt8], width: Int, height: Int) {
        guard let ffmpeg = ffmpegPath else { throw MissingTestInput("ffmpeg CLI not installed (scripts/install-deps.sh installs it)") }
        var args = ["-v", "error", "-nostdin"]
        for i in inputs { args += ["-i", i.path] }
        if let filter { args += ["-filter_complex", filter] }
        args += ["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgba", "-"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ffmpeg)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, data.count == width * height * 4 else {
            throw NSError(domain: "ffmpeg", code: Int(p.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "ffmpeg \(args): \(data.count) bytes, expected \(width)x\(height) RGBA"])
        }
        return ([UInt8](data), width, height)
    }

    /// An RGBA8 frame texture (row 0 = top image row, as FrameColorConverter makes it).
    static func frameTexture(_ image: (pixels: [UInt8], width: Int, height: Int)) throws -> Texture {
        let t = try Texture(context: try sharedContext(), width: image.width, height: image.height, format: .rgba8)
        try t.upload(bytes: image.pixels)
        return t
    }

    static func sample(_ name: String) -> URL { samplesDir.appendingPathComponent(name) }

    static func readU8(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}
