// facefx-gpubench: the GPU benchmarks of `facefx bench` in an executable that links EGL/GLES but
// not FFmpeg, so it runs on GPU machines without FFmpeg installed (bench/, README "Benchmarks").
import FaceFXBench
import FaceFXResources
import Foundation

do {
    let env = ProcessInfo.processInfo.environment
    let resources = BenchResources(models: try? ResourceLocator.modelsDirectory(environment: env),
                                   filterFolders: ResourceLocator.filterFolders(extra: [], environment: env),
                                   goldens: ResourceLocator.goldensDirectory())
    try GPUBench.run(arguments: Array(CommandLine.arguments.dropFirst()), resources: resources)
} catch let e as BenchError {
    FileHandle.standardError.write(("facefx-gpubench: error: \(e.message)\n").data(using: .utf8)!)
    exit(e.usage ? 2 : 1)
}
