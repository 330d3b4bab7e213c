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

    /// The filter search path: `--filters-dir` folders, FACEFX_FILTERS, the built-in Filters/.
    public static func library(filtersDirs: [String] = []) -> FilterLibrary {
        FilterLibrary(extraDirectories: filtersDirs, decoder: pngDecoder)
    }

    /// Loads and validates filters by name (usage error, naming file and field, when any is bad).
    public static func load(_ names: [String], filtersDirs: [String] = []) throws -> [FilterPack] {
        do { return try library(filtersDirs: filtersDirs).load(names) } catch let e as FilterError {
            throw PipelineError.usage(e.description)
        }
    }

    /// Fully validates every listed filter (assets included); throws the first problem.
    public static func checkAll(filtersDirs: [String] = []) throws {
        _ = try load(library(filtersDirs: filtersDirs).list().map(\.name), filtersDirs: filtersDirs)
    }

    /// `facefx filters`: one line per filter, "name  description" (or the reason it is unusable).
    public static func listing(filtersDirs: [String] = []) -> [String] {
        let lib = library(filtersDirs: filtersDirs)
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
