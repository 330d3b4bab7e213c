// Loading and validating one filter folder: manifest, assets (inside the folder only), decoded
// images. Everything that can be wrong with a filter is reported here, before any frame, as one
// line naming the file and the field.
import Foundation

/// Straight-alpha RGBA8 pixels, row 0 = top.
public struct RGBAImage: Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 4)
        self.width = width; self.height = height; self.pixels = pixels
    }
}

/// Decodes a PNG file into RGBA (injected: the overlay module knows no codec; FaceFXPipeline
/// passes FaceFXMedia's PNG decoder).
public typealias ImageDecoder = (URL) throws -> RGBAImage

public enum FilterError: Error, CustomStringConvertible, Equatable {
    /// `file: field: reason`, e.g. `Filters/dog/filter.json: elements[2].image: '../x.png' leaves the filter folder`.
    case invalid(file: String, field: String, reason: String)
    /// No filter of that name in any search folder.
    case notFound(name: String, searched: [String])

    public var description: String {
        switch self {
        case .invalid(let file, let field, let reason):
            return field.isEmpty ? "\(file): \(reason)" : "\(file): \(field): \(reason)"
        case .notFound(let name, let searched):
            return "filter '\(name)' not found (searched \(searched.isEmpty ? "no folders" : searched.joined(separator: ", ")); `facefx filters` lists them)"
        }
    }
}

/// A validated filter: manifest plus decoded assets keyed by their manifest path.
public struct FilterPack {
    /// Folder name (what `--filter` names).
    public let name: String
    public let directory: URL
    public let manifest: FilterManifest
    public let images: [String: RGBAImage]

    public static let manifestFile = "filter.json"

    /// Reads and checks `directory/filter.json` and every asset it names. `displayPath` is the folder
    /// as the user should see it in messages (defaults to the path given).
    public static func load(directory: URL, decoder: ImageDecoder, displayPath: String? = nil) throws -> FilterPack {
        let shown = (displayPath ?? directory.path) + "/" + manifestFile
        let file = directory.appendingPathComponent(manifestFile)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw FilterError.invalid(file: shown, field: "", reason: "cannot read the file")
        }
        let manifest = try decodeManifest(data, shownPath: shown)
        var images: [String: RGBAImage] = [:]
        let root = directory.standardizedFileURL.resolvingSymlinksInPath()
        for (i, element) in manifest.elements.enumerated() {
            for asset in element.assets {
                let field = "elements[\(i)].\(asset.field)"
                if images[asset.path] != nil { continue }
                let url = try resolveAsset(asset.path, root: root, shownFile: shown, field: field)
                do {
                    let image = try decoder(url)
                    guard image.width > 0, image.height > 0 else { throw FilterError.invalid(file: shown, field: field, reason: "empty image") }
                    images[asset.path] = image
                } catch let e as FilterError {
                    throw e
                } catch {
                    throw FilterError.invalid(file: shown, field: field, reason: "'\(asset.path)' is not a readable PNG (\(error))")
                }
            }
        }
        return FilterPack(name: directory.lastPathComponent, directory: directory, manifest: manifest, images: images)
    }

    /// Strict JSON decoding with DecodingError turned into `file: field: reason`.
    public static func decodeManifest(_ data: Data, shownPath: String) throws -> FilterManifest {
        do {
            return try JSONDecoder().decode(FilterManifest.self, from: data)
        } catch let error as DecodingError {
            throw describe(error, file: shownPath)
        } catch {
            throw FilterError.invalid(file: shownPath, field: "", reason: "invalid JSON (\(error.localizedDescription))")
        }
    }

    static func fieldPath(_ path: [CodingKey]) -> String {
        var s = ""
        for k in path {
            if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
        }
        return s
    }

    static func describe(_ error: DecodingError, file: String) -> FilterError {
        switch error {
        case .keyNotFound(let key, let ctx):
            return .invalid(file: file, field: fieldPath(ctx.codingPath + [key]), reason: "missing")
        case .typeMismatch(let type, let ctx):
            return .invalid(file: file, field: fieldPath(ctx.codingPath), reason: "expected \(typeName(type))")
        case .valueNotFound(let type, let ctx):
            return .invalid(file: file, field: fieldPath(ctx.codingPath), reason: "expected \(typeName(type)), got null")
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty {
                let why = (ctx.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? ctx.debugDescription
                return .invalid(file: file, field: "", reason: "invalid JSON (\(why))")
            }
            return .invalid(file: file, field: fieldPath(ctx.codingPath), reason: ctx.debugDescription)
        @unknown default:
            return .invalid(file: file, field: "", reason: String(describing: error))
        }
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: return "a string"
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type: return "an integer"
        case is Bool.Type: return "true or false"
        default:
            let n = String(describing: t)
            if n.hasPrefix("Array") { return "a list" }
            if n.hasPrefix("Dictionary") || n.contains("KeyedDecodingContainer") { return "an object" }
            return n
        }
    }

    /// The asset's URL if it is a relative path that stays inside the filter folder, symlinks resolved.
    static func resolveAsset(_ path: String, root: URL, shownFile: String, field: String) throws -> URL {
        func fail(_ why: String) -> FilterError { .invalid(file: shownFile, field: field, reason: why) }
        guard !path.isEmpty else { throw fail("empty file name") }
        if path.hasPrefix("/") || path.hasPrefix("~") { throw fail("'\(path)' is an absolute path; name a file inside the filter folder") }
        if path.split(separator: "/").contains("..") || path.contains("\\") {
            throw fail("'\(path)' leaves the filter folder")
        }
        let url = root.appendingPathComponent(path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            // A dangling symlink also lands here: say where it points if it is one.
            if let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: url.path) {
                throw fail("'\(path)' is a symlink to '\(dest)', which does not exist")
            }
            throw fail("'\(path)' does not exist")
        }
        if isDir.boolValue { throw fail("'\(path)' is a folder, not an image") }
        let real = url.resolvingSymlinksInPath().standardizedFileURL
        let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
        guard real.path.hasPrefix(rootPath) else {
            throw fail("'\(path)' is a symlink leading outside the filter folder (to \(real.path))")
        }
        return real
    }
}
