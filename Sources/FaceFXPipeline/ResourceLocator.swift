import Foundation

/// Finds the folders an installed or freshly built `facefx` needs at run time (Models/ today).
/// Order: the environment override, next to the executable, `<prefix>/share/facefx` beside its
/// `bin/`, the checkout the executable was built in (`.build/<config>/facefx` → the folder holding
/// Package.swift), then the current directory.
public enum ResourceLocator {
    public static let modelsOverride = "FACEFX_MODELS_DIR"

    /// Folders that must be present in a usable Models/ folder.
    static let requiredModelFiles = ["face_landmarker.task", "emotion_fer_quantized.tflite", "facemesh/canonical_face_model.obj"]

    public static func modelsDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let dir = environment[modelsOverride], !dir.isEmpty {
            let url = URL(fileURLWithPath: dir)
            guard isModelsDirectory(url) else {
                throw PipelineError.usage("\(dir): \(modelsOverride) does not hold \(requiredModelFiles.joined(separator: ", "))")
            }
            return url
        }
        let candidates = searchPath(named: "Models")
        if let found = candidates.first(where: isModelsDirectory) { return found }
        throw PipelineError.processing("network models not found (looked in \(candidates.map(\.path).joined(separator: ", "))); set \(modelsOverride)")
    }

    static func isModelsDirectory(_ url: URL) -> Bool {
        requiredModelFiles.allSatisfy { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }

    static func searchPath(named name: String) -> [URL] {
        var out: [URL] = []
        // Bundle.main.executableURL reads /proc/self/exe on Linux: right even when run through PATH.
        let exe = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "."))
            .resolvingSymlinksInPath().standardizedFileURL.deletingLastPathComponent()
        out.append(exe.appendingPathComponent(name))
        out.append(exe.deletingLastPathComponent().appendingPathComponent("share/facefx").appendingPathComponent(name))
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
