import CFFmpeg

/// How YUV samples map to colour. `matrix`/`fullRange` are resolved values the GPU shader needs;
/// the raw FFmpeg enums are kept so the writer can tag the output exactly like the input.
public struct ColorDescription: Sendable, Equatable {
    public enum Matrix: Sendable, Equatable { case bt601, bt709, bt2020 }

    public var matrix: Matrix
    public var fullRange: Bool
    /// Raw AVColorPrimaries.
    public var primaries: Int32
    /// Raw AVColorTransferCharacteristic.
    public var transfer: Int32
    /// Raw AVColorSpace (may be unspecified even though `matrix` is resolved).
    public var colorSpace: Int32
    /// Raw AVColorRange.
    public var range: Int32
    /// Raw AVChromaLocation.
    public var chromaLocation: Int32

    public init(matrix: Matrix, fullRange: Bool, primaries: Int32 = 2, transfer: Int32 = 2,
                colorSpace: Int32 = 2, range: Int32 = 0, chromaLocation: Int32 = 0) {
        self.matrix = matrix; self.fullRange = fullRange; self.primaries = primaries; self.transfer = transfer
        self.colorSpace = colorSpace; self.range = range; self.chromaLocation = chromaLocation
    }

    /// Resolves FFmpeg's tags the way players do: unspecified matrix → BT.709 for HD (height ≥ 720), else BT.601.
    init(primaries: AVColorPrimaries, transfer: AVColorTransferCharacteristic, space: AVColorSpace,
         range: AVColorRange, chromaLocation: AVChromaLocation, height: Int, impliedFullRange: Bool) {
        let resolved: Matrix
        switch space {
        case AVCOL_SPC_BT709, AVCOL_SPC_SMPTE240M: resolved = .bt709
        case AVCOL_SPC_BT470BG, AVCOL_SPC_SMPTE170M, AVCOL_SPC_FCC: resolved = .bt601
        case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: resolved = .bt2020
        default: resolved = height >= 720 ? .bt709 : .bt601
        }
        let full = range == AVCOL_RANGE_JPEG || impliedFullRange
        self.init(matrix: resolved, fullRange: full,
                  primaries: Int32(primaries.rawValue), transfer: Int32(transfer.rawValue),
                  colorSpace: Int32(space.rawValue),
                  range: full ? Int32(AVCOL_RANGE_JPEG.rawValue) : Int32(range.rawValue),
                  chromaLocation: Int32(chromaLocation.rawValue))
    }

    /// What the reader hands out for RGB/grey/palette sources after converting them to full-range BT.709 YUV.
    static func convertedFromRGB(transfer: AVColorTransferCharacteristic) -> ColorDescription {
        let trc = transfer == AVCOL_TRC_UNSPECIFIED ? AVCOL_TRC_IEC61966_2_1 : transfer
        return ColorDescription(matrix: .bt709, fullRange: true,
                                primaries: Int32(AVCOL_PRI_BT709.rawValue), transfer: Int32(trc.rawValue),
                                colorSpace: Int32(AVCOL_SPC_BT709.rawValue), range: Int32(AVCOL_RANGE_JPEG.rawValue),
                                chromaLocation: Int32(AVCHROMA_LOC_CENTER.rawValue))
    }

    /// swscale's coefficient table id for this matrix.
    var swsColorspace: Int32 {
        switch matrix {
        case .bt601: return SWS_CS_ITU601
        case .bt709: return SWS_CS_ITU709
        case .bt2020: return SWS_CS_BT2020
        }
    }
}
