import FaceFXGPU
import FaceFXMedia
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

    /// Sorts lower-level errors into usage and processing errors, keeping their one-line text.
    public static func from(_ error: Error) -> PipelineError {
        switch error {
        case let e as PipelineError: return e
        case let e as MediaError:
            switch e {
            case .fileNotFound, .unsupportedContainer, .unsupportedCodec: return .usage(e.description)
            default: return .processing(e.description)
            }
        case let e as GPUError: return .processing("GPU: \(e.description)")
        default: return .processing(String(describing: error))
        }
    }
}

public enum VideoCodecChoice: String, CaseIterable {
    case h264, h265, vp9
    case h264NVENC = "h264_nvenc", hevcNVENC = "hevc_nvenc"
    /// NVENC's H.264 where this machine can use it, else x264.
    case auto

    var media: EncodeOptions.Codec {
        switch self {
        case .h264: return .h264
        case .h265: return .h265
        case .vp9: return .vp9
        case .h264NVENC: return .h264NVENC
        case .hevcNVENC: return .hevcNVENC
        case .auto: return EncodeOptions.Codec.h264NVENC.isAvailable ? .h264NVENC : .h264
        }
    }
}

extension YUVMatrix {
    init(_ m: ColorDescription.Matrix) {
        switch m {
        case .bt601: self = .bt601
        case .bt709: self = .bt709
        case .bt2020: self = .bt2020
        }
    }
}

extension VideoFrame {
    /// How the GPU colour stage must read this frame's planes.
    var gpuFormat: YUVFrameFormat {
        // AVCHROMA_LOC_CENTER = 2 (JPEG/MPEG-1); everything else is treated as MPEG-2/H.264 "left".
        YUVFrameFormat(bitDepth: bitDepth, chromaShiftX: chromaShiftX, chromaShiftY: chromaShiftY,
                       matrix: YUVMatrix(color.matrix), fullRange: color.fullRange,
                       chromaLocation: color.chromaLocation == 2 ? .center : .left)
    }

    func gpuPlanes() -> (YUVPlane, YUVPlane, YUVPlane) {
        let p = planes.map { YUVPlane(base: $0.base, bytesPerRow: $0.stride, width: $0.width, height: $0.height) }
        return (p[0], p[1], p[2])
    }
}

/// The CLI names GPU choices without importing FaceFXGPU.
public typealias GPUChoice = GPUDeviceSelection
/// The renderer knobs, likewise (`GPUTuning(environment:)`).
public typealias GPUTuning = FaceFXGPU.GPUTuning
/// CPU or NVDEC decoding, likewise (`--hwdec`).
public typealias HardwareDecoding = FaceFXMedia.HardwareDecoding
