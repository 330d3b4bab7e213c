// Filter packs from the pipeline's side: the library wired to FaceFXMedia's PNG decoder, and
// errors mapped to the CLI's usage/processing classes.
import FaceFXMedia
import FaceFXOverlay
import Foundation

public enum FilterCatalog {
    /// PNG decoding for filter assets (FaceFXOverlay itself knows no codec).
    public static let pngDecoder: ImageDecoder = { url in
        let (w, h, px) = try PNGCodec.decodeRGBA(path: url.path)
        return RGBAImage(width: w, height: h, pixels: px)
    }

    /// The filters of these folders (the executable's search path, most important first).
    public static func library(folders: [URL]) -> FilterLibrary {
        FilterLibrary(folders: folders, decoder: pngDecoder)
    }

    /// Loads and validates filters by name (usage error, naming file and field, when any is bad).
    public static func load(_ names: [String], folders: [URL]) throws -> [FilterPack] {
        do { return try library(folders: folders).load(names) } catch let e as FilterError {
            throw PipelineError.usage(e.description)
        }
    }

    /// Fully validates every listed filter (assets included); throws the first problem.
    public static func checkAll(folders: [URL]) throws {
        _ = try load(library(folders: folders).list().map(\.name), folders: folders)
    }

    /// `facefx filters`: one line per filter, "name  description" (or the reason it is unusable).
    public static func listing(folders: [URL]) -> [String] {
        let lib = library(folders: folders)
        let entries = lib.list()
        let width = entries.map(\.name.count).max() ?? 0
        return entries.map { e in
            let pad = String(repeating: " ", count: max(0, width - e.name.count))
            switch e.description {
            case .success(let d): return "\(e.name)\(pad)  \(d)"
            case .failure(let err): return "\(e.name)\(pad)  (invalid: \(err.description))"
            }
        }
    }
}
