// facefx-gpubench: the GPU benchmarks of `facefx bench` in an executable that links EGL/GLES but
// not FFmpeg, so it runs on GPU machines without FFmpeg installed (bench/, README "Benchmarks").
import FaceFXBench
import Foundation

do {
    try GPUBench.run(arguments: Array(CommandLine.arguments.dropFirst()))
} catch let e as BenchError {
    FileHandle.standardError.write(("facefx-gpubench: error: \(e.message)\n").data(using: .utf8)!)
    exit(e.usage ? 2 : 1)
}
