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

    /// Limits on what one pack may ask of a render, checked before any asset is decoded, so a shared pack
    /// cannot exhaust a server (a fuzzing run: 200 elements took 11 s and 2.5 GB before the first frame,
    /// 5000 ran past 2 minutes). The shipped packs use at most 3 elements and 1280-pixel images.
    public static let maxElements = 32
    public static let maxImageSide = 4096
    /// Decoded RGBA bytes of all of a pack's images (their GPU textures).
    public static let maxImageBytes = 256 << 20

    /// Reads and checks `directory/filter.json` and every asset it names. `displayPath` is the folder
    /// as the user should see it in messages (defaults to the path given).
    public static func load(directory: URL, decoder: ImageDecoder, displayPath: String? = nil) throws -> FilterPack {
        let shown = (displayPath ?? directory.path) + "/" + manifestFile
        let file = directory.appendingPathComponent(manifestFile)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw FilterError.invalid(file: shown, field: "", reason: "cannot read the file")
        }
        let manifest = try decodeManifest(data, shownPath: shown)
        guard manifest.elements.count <= maxElements else {
            throw FilterError.invalid(file: shown, field: "elements",
                                      reason: "\(manifest.elements.count) elements, more than the \(maxElements) a filter may have")
        }
        var images: [String: RGBAImage] = [:]
        var imageBytes = 0
        let root = directory.standardizedFileURL.resolvingSymlinksInPath()
        // Every asset's place and size first (the limits), then the decoding.
        var assets: [(path: String, field: String, url: URL)] = []
        for (i, element) in manifest.elements.enumerated() {
            for asset in element.assets where !assets.contains(where: { $0.path == asset.path }) {
                let field = "elements[\(i)].\(asset.field)"
                let url = try resolveAsset(asset.path, root: root, shownFile: shown, field: field)
                if let (w, h) = pngSize(url) {
                    guard w <= maxImageSide, h <= maxImageSide else {
                        throw FilterError.invalid(file: shown, field: field, reason:
                            "'\(asset.path)' is \(w)×\(h) pixels, larger than the \(maxImageSide)×\(maxImageSide) a filter image may be")
                    }
                    imageBytes += w * h * 4
                    guard imageBytes <= maxImageBytes else {
                        throw FilterError.invalid(file: shown, field: field, reason:
                            "the images up to '\(asset.path)' need \(imageBytes >> 20) MB of GPU memory, more than the \(maxImageBytes >> 20) MB a filter may use")
                    }
                }
                assets.append((asset.path, field, url))
            }
        }
        for asset in assets {
            do {
                let image = try decoder(asset.url)
                guard image.width > 0, image.height > 0 else { throw FilterError.invalid(file: shown, field: asset.field, reason: "empty image") }
                images[asset.path] = image
            } catch let e as FilterError {
                throw e
            } catch {
                throw FilterError.invalid(file: shown, field: asset.field, reason: "'\(asset.path)' is not a readable PNG (\(error))")
            }
        }
        return FilterPack(name: directory.lastPathComponent, directory: directory, manifest: manifest, images: images)
    }

    /// Width and height from a PNG's header (nil when the file is no PNG: the decoder then says why).
    static func pngSize(_ url: URL) -> (Int, Int)? {
        guard let h = FileHandle(forReadingAtPath: url.path) else { return nil }
        defer { try? h.close() }
        let b = [UInt8](h.readData(ofLength: 24))
        guard b.count == 24, b[0 ..< 8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], b[12 ..< 16] == [0x49, 0x48, 0x44, 0x52] else {
            return nil
        }
        func be32(_ i: Int) -> Int { b[i ..< i + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// Strict JSON (`StrictJSON`: no duplicate keys, trailing commas, NaN or out-of-range numbers), then
    /// decoding with DecodingError turned into `file: field: reason`.
    public static func decodeManifest(_ data: Data, shownPath: String) throws -> FilterManifest {
        do {
            try StrictJSON.check(data)
        } catch let p as StrictJSON.Problem {
            throw FilterError.invalid(file: shownPath, field: p.path, reason: "\(p.reason) (line \(p.line))")
        }
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
