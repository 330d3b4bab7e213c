// `facefx info` (SystemInfo).
import ArgumentParser
import FaceFXPipeline
import Foundation

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show FFmpeg, EGL devices and the OpenGL ES renderer facefx would use.")

    @OptionGroup var gpuOptions: GPUOptions

    func run() throws {
        print(try SystemInfo.report(gpu: try gpuOptions.selection()))
    }
}
