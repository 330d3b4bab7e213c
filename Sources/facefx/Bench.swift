// `facefx bench ...` (FaceFXBench, shared with facefx-gpubench).
import ArgumentParser
import FaceFXBench
import FaceFXPipeline
import FaceFXResources
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "GPU benchmarks: networks, color, chain, floor, train, info (the same as the FFmpeg-free facefx-gpubench).",
        discussion: """
        facefx bench networks [--batch 1,8] [--precision fp16,fp32] [--only NAME] [--iters K] [--check] [--split-readback] [--profile]
        facefx bench color [--width W] [--height H] [--frames N]
        facefx bench chain [--width W] [--height H] [--frames N] [--faces 1,4] [--filters mask]
        facefx bench floor
        facefx bench train [--batch 8,32] [--iters K] [--input grey64|rgb128]
        facefx bench info
        Common options: [--gpu auto|cpu|N] [--models DIR]; `facefx bench networks --help` lists them all. \
        Environment: FACEFX_NN_PASSES=compute|fragment, FACEFX_NN_BAKE=1|0, FACEFX_FRAME_BATCH=N (see README).
        """)

    @Argument(parsing: .captureForPassthrough, help: "The benchmark and its options.")
    var arguments: [String] = []

    func run() throws {
        GPUBench.imageDecoder = FilterCatalog.pngDecoder
        do {
            let env = ProcessInfo.processInfo.environment
            let resources = BenchResources(models: try? ResourceLocator.modelsDirectory(environment: env),
                                           filterFolders: ResourceLocator.filterFolders(extra: [], environment: env),
                                           goldens: ResourceLocator.goldensDirectory())
            try GPUBench.run(arguments: arguments.isEmpty ? ["--help"] : arguments, resources: resources)
        } catch let e as BenchError {
            throw CLIError(message: e.message, exitCode: e.usage ? 2 : 1)
        }
    }
}
