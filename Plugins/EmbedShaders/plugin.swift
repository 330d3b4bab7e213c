// Build-tool plugin: runs EmbedShadersTool over the target's folder (Shaders/) so that every
// GLSL source is compiled into the binary. FACEFX_SHADER_DIR overrides them at run time.
import Foundation
import PackagePlugin

@main
struct EmbedShaders: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let dir = target.directoryURL
        var inputs: [URL] = []
        if let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) {
            for case let url as URL in e where url.pathExtension == "glsl" { inputs.append(url) }
        }
        let out = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedShaders.swift")
        return [.buildCommand(
            displayName: "Embedding \(inputs.count) GLSL shaders",
            executable: try context.tool(named: "EmbedShadersTool").url,
            arguments: [dir.path, out.path],
            inputFiles: inputs,
            outputFiles: [out])]
    }
}
