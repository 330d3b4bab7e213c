import Foundation

public enum FaceFXVersion {
    public static let string = "0.1.0"
}

/// Errors the CLI turns into one line and an exit code (usage → 2, processing → 1).
public enum PipelineError: Error, CustomStringConvertible {
    case usage(String)
    case processing(String)

    public var isUsage: Bool { if case .usage = self { return true } else { return false } }
    public var description: String {
        switch self {
        case .usage(let m), .processing(let m): return m
        }
    }
}

public enum GPUChoice: Equatable { case auto, cpu, index(Int) }

public enum VideoCodecChoice: String { case h264, h265, vp9 }

public struct RenderOptions {
    public var input: String
    public var output: String
    public var codec: VideoCodecChoice
    public var crf: Int
    public var preset: String
    public var overwrite: Bool
    public var gpu: GPUChoice
    public var progress: ProgressReporter.Mode

    public init(input: String, output: String, codec: VideoCodecChoice, crf: Int, preset: String,
                overwrite: Bool, gpu: GPUChoice, progress: ProgressReporter.Mode) {
        self.input = input; self.output = output; self.codec = codec; self.crf = crf; self.preset = preset
        self.overwrite = overwrite; self.gpu = gpu; self.progress = progress
    }
}

public struct RenderSummary {
    public var line: String
}

public final class RenderJob {
    let options: RenderOptions
    public init(options: RenderOptions) { self.options = options }
    public func run() throws -> RenderSummary {
        throw PipelineError.processing("rendering is being wired up")
    }
}

public enum SystemInfo {
    public static func report(gpu: GPUChoice) throws -> String { "facefx \(FaceFXVersion.string)" }
}
