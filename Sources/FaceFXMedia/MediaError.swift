/// Every failure the media layer reports. Each case carries the file it concerns so the CLI can print
/// one line per problem without knowing FFmpeg; `description` is that line: "<path>: <reason>".
public enum MediaError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    /// The file exists but no demuxer recognises it (text file, empty file...).
    case notMedia(path: String, reason: String)
    /// Media file without a (decodable) video stream, e.g. audio only.
    case noVideoStream(path: String)
    /// Recognised container whose content cannot be decoded (truncated header, zero decodable frames).
    case corrupt(path: String, reason: String)
    /// A decoder or encoder that this FFmpeg build lacks, or one the output container cannot hold.
    case unsupportedCodec(path: String, codec: String, reason: String)
    /// Output extension that names no container we can write video into.
    case unsupportedContainer(path: String, ext: String)
    /// The output cannot be created (missing or read-only folder, ...).
    case cannotWrite(path: String, reason: String)
    /// The encoder refused its settings or a frame.
    case encoder(path: String, reason: String)
    /// Read/write failure from the operating system or the muxer after opening.
    case io(path: String, reason: String)

    /// The file the error concerns (empty when none applies, e.g. a codec name typed on the CLI).
    public var path: String {
        switch self {
        case .fileNotFound(let p), .noVideoStream(let p): return p
        case .notMedia(let p, _), .corrupt(let p, _), .cannotWrite(let p, _), .encoder(let p, _), .io(let p, _): return p
        case .unsupportedCodec(let p, _, _): return p
        case .unsupportedContainer(let p, _): return p
        }
    }

    /// The human reason, without the path.
    public var reason: String {
        switch self {
        case .fileNotFound: return "no such file"
        case .notMedia(_, let r): return "not a media file (\(r))"
        case .noVideoStream: return "no video stream"
        case .corrupt(_, let r): return "corrupt media (\(r))"
        case .unsupportedCodec(_, let c, let r): return "unsupported codec \(c) (\(r))"
        case .unsupportedContainer(_, let e):
            return e.isEmpty ? "no file extension to choose the container from" : "unsupported container extension .\(e)"
        case .cannotWrite(_, let r): return "cannot write (\(r))"
        case .encoder(_, let r): return "encoder error (\(r))"
        case .io(_, let r): return "i/o error (\(r))"
        }
    }

    public var description: String {
        let p = path
        let line = p.isEmpty ? reason : "\(p): \(reason)"
        // One line, always: FFmpeg reasons occasionally carry newlines.
        return line.replacingOccurrences(of: "\n", with: " ")
    }
}
