/// A rational as FFmpeg keeps it (AVRational), kept separate from FFmpeg's type so callers need not import CFFmpeg.
public struct Rational: Sendable, Equatable, CustomStringConvertible {
    public var num: Int32
    public var den: Int32
    public init(_ num: Int32, _ den: Int32) { self.num = num; self.den = den }
    public var doubleValue: Double { den == 0 ? 0 : Double(num) / Double(den) }
    public var description: String { "\(num)/\(den)" }
}

/// What the pipeline needs to know about the input's video stream before decoding it.
public struct VideoStreamInfo: Sendable {
    public var path: String
    public var width: Int
    public var height: Int
    /// Stream time base: frame `pts` values are in these units.
    public var timeBase: Rational
    /// Average frame rate (may be 0/0 for a single still).
    public var averageFrameRate: Rational
    public var durationSeconds: Double?
    public var estimatedFrameCount: Int?
    /// Clockwise degrees to rotate decoded pictures for display, as FFmpeg's own autorotate does, in [0, 360)
    /// (from the display matrix). Beware: FFmpeg 5.1's `-metadata:s:v rotate=90` produces a matrix that reads 270 here.
    public var rotationDegrees: Double
    /// The raw 3×3 display matrix (9 × Int32, 16.16 / 2.30 fixed point) so the writer can copy it verbatim.
    public var displayMatrix: [Int32]?
    public var sampleAspectRatio: Rational
    /// Colour of the frames the reader delivers (after any conversion, e.g. RGB stills become BT.709 full range).
    public var color: ColorDescription
    /// Bit depth of the frames the reader delivers (8 or 10).
    public var bitDepth: Int
    /// The decoder's native pixel format name (e.g. "yuv420p", "nv12", "rgb24").
    public var sourcePixelFormat: String
    public var codecName: String
    /// Container/demuxer short name (e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "png_pipe").
    public var containerName: String
    public var hasAudio: Bool
    public var audioCodecName: String?
}
