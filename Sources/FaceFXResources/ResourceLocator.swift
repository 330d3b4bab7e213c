// Where the files an installed or freshly built facefx needs are: the network models and the filter
// folders (and, for the benchmarks, the test goldens of a checkout). Only the executables look them up,
// here, and hand the URLs to the library code, which never searches the disk or reads the environment
// for them.

import Foundation

/// Finds Models/, Filters/ and the goldens. Order: the environment override, next to the executable,
/// `<prefix>/share/facefx` beside its `bin/`, the checkout the executable was built in
/// (`.build/<config>/facefx` → the folder holding Package.swift), then the current directory.
public enum ResourceLocator {
    public static let modelsOverride = "FACEFX_MODELS_DIR"
    /// Extra filter folders, colon-separated, searched after --filters-dir.
    public static let filtersVariable = "FACEFX_FILTERS"

    /// Files that must be present in a usable Models/ folder.
    static let requiredModelFiles = ["face_landmarker.task", "emotion_fer_quantized.tflite", "facemesh/canonical_face_model.obj"]

    public static func modelsDirectory(environment: [String: String]) throws(ResourceError) -> URL {
        if let dir = environment[modelsOverride], !dir.isEmpty {
            let url = URL(fileURLWithPath: dir)
            guard isModelsDirectory(url) else {
                throw .badOverride("\(dir): \(modelsOverride) does not hold \(requiredModelFiles.joined(separator: ", "))")
            }
            return url
        }
        let candidates = searchPath(named: "Models")
        if let found = candidates.first(where: isModelsDirectory) { return found }
        throw .notFound("network models not found (looked in \(candidates.map(\.path).joined(separator: ", "))); set \(modelsOverride)")
    }

    /// The filter search folders, most important first: `extra` (--filters-dir), then FACEFX_FILTERS,
    /// then the shipped Filters/ folder. A name found in an earlier folder hides the same name later.
    public static func filterFolders(extra: [String], environment: [String: String]) -> [URL] {
        var folders = extra.map { URL(fileURLWithPath: $0) }
        if let env = environment[filtersVariable] {
            folders += env.split(separator: ":").filter { !$0.isEmpty }.map { URL(fileURLWithPath: String($0)) }
        }
        if let builtIn = searchPath(named: "Filters").first(where: isFolder) { folders.append(builtIn) }
        return folders
    }

    /// Tests/Fixtures/goldens of the checkout the executable was built in, or above the current folder
    /// (the benchmarks' fixed network inputs); nil in an install.
    public static func goldensDirectory() -> URL? {
        let starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath), executableFolder]
        for start in starts {
            var dir = start
            while dir.path != "/" && !dir.path.isEmpty {
                let g = dir.appendingPathComponent("Tests/Fixtures/goldens")
                if isFolder(g) { return g }
                dir.deleteLastPathComponent()
            }
        }
        return nil
    }

    static func isModelsDirectory(_ url: URL) -> Bool {
        requiredModelFiles.allSatisfy { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }

    static func isFolder(_ url: URL) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &d) && d.boolValue
    }

    /// The running executable's folder. Bundle.main.executableURL reads /proc/self/exe on Linux: right
    /// even when run through PATH or a link.
    static var executableFolder: URL {
        (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "."))
            .resolvingSymlinksInPath().standardizedFileURL.deletingLastPathComponent()
    }

    static func searchPath(named name: String) -> [URL] {
        let exe = executableFolder
        var out = [exe.appendingPathComponent(name),
                   exe.deletingLastPathComponent().appendingPathComponent("share/facefx").appendingPathComponent(name)]
        var dir = exe
        while dir.path != "/" && !dir.path.isEmpty {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                out.append(dir.appendingPathComponent(name))
                break
            }
            dir.deleteLastPathComponent()
        }
        out.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(name))
        return out
    }
}

/// Why a resource was not found: a bad override is the user's mistake (exit 2), a missing install is not.
public enum ResourceError: Error, CustomStringConvertible {
    case badOverride(String)
    case notFound(String)
    public var description: String {
        switch self { case .badOverride(let m), .notFound(let m): return m }
    }
    public var isUsage: Bool { if case .badOverride = self { return true }; return false }
}
