// A set of filter folders searched in order (the executable finds them: ResourceLocator.filterFolders:
// --filters-dir, FACEFX_FILTERS, the shipped Filters/). A name found in an earlier folder hides the
// same name later.
import Foundation

public struct FilterLibrary {
    /// Search folders, most important first.
    public let searchPaths: [URL]
    /// Decoder for PNG assets.
    public let decoder: ImageDecoder

    public init(folders: [URL], decoder: @escaping ImageDecoder) {
        self.searchPaths = folders
        self.decoder = decoder
    }

    /// One available filter: name, folder, and the manifest's description (or the error that makes it unusable).
    public struct Entry {
        public var name: String
        public var directory: URL
        public var description: Result<String, FilterError>
    }

    /// Every filter folder (holding filter.json) in the search paths; earlier folders win.
    public func list() -> [Entry] {
        var seen = Set<String>()
        var out: [Entry] = []
        let fm = FileManager.default
        for root in searchPaths {
            guard let names = try? fm.contentsOfDirectory(atPath: root.path) else { continue }
            for name in names.sorted() where !name.hasPrefix(".") && !seen.contains(name) {
                let dir = root.appendingPathComponent(name)
                let manifest = dir.appendingPathComponent(FilterPack.manifestFile)
                guard fm.fileExists(atPath: manifest.path) else { continue }
                seen.insert(name)
                let shown = FilterLibrary.shown(dir)
                let desc: Result<String, FilterError>
                if let data = fm.contents(atPath: manifest.path) {
                    do { desc = .success(try FilterPack.decodeManifest(data, shownPath: shown + "/filter.json").description) }
                    catch let e as FilterError { desc = .failure(e) }
                    catch { desc = .failure(.invalid(file: shown + "/filter.json", field: "", reason: "\(error)")) }
                } else {
                    desc = .failure(.invalid(file: shown + "/filter.json", field: "", reason: "cannot read the file"))
                }
                out.append(Entry(name: name, directory: dir, description: desc))
            }
        }
        return out
    }

    /// Finds and fully validates a filter by name; a path containing "/" is taken as a filter folder.
    public func load(_ name: String) throws -> FilterPack {
        if name.contains("/") {
            let dir = URL(fileURLWithPath: name)
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent(FilterPack.manifestFile).path) else {
                throw FilterError.invalid(file: name + "/" + FilterPack.manifestFile, field: "", reason: "no such file")
            }
            return try FilterPack.load(directory: dir, decoder: decoder, displayPath: name)
        }
        for root in searchPaths {
            let dir = root.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(FilterPack.manifestFile).path) {
                return try FilterPack.load(directory: dir, decoder: decoder, displayPath: FilterLibrary.shown(dir))
            }
        }
        throw FilterError.notFound(name: name, searched: searchPaths.map { FilterLibrary.shown($0) })
    }

    /// Loads several filters in order (all validated before any frame is drawn).
    public func load(_ names: [String]) throws -> [FilterPack] { try names.map { try load($0) } }

    /// A path relative to the current folder when it is below it (shorter messages), else absolute.
    static func shown(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let p = url.standardizedFileURL.path
        if p.hasPrefix(cwd + "/") { return String(p.dropFirst(cwd.count + 1)) }
        return p
    }
}
