// facefx command line: parsing, messages and exit codes only; the work lives in FaceFXPipeline
// (render: RenderJob; batch: BatchPlan + BatchJob). One file per subcommand beside this one.
// Exit codes: 0 success, 1 processing error (bad media, I/O, GPU), 2 usage error (arguments,
// missing input, existing output, unknown codec/extension/filter).
import ArgumentParser
import FaceFXPipeline
import Foundation

@main
struct FaceFXMain {
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        do {
            var command = try FaceFX.parseAsRoot()
            try command.run()
            finish(0)
        } catch let error as CLIError {
            report(error.message)
            finish(error.exitCode)
        } catch let error as PipelineError {
            report(error.description)
            finish(error.isUsage ? 2 : 1)
        } catch {
            let code = FaceFX.exitCode(for: error)
            if code == .success {
                FaceFX.exit(withError: error) // --help, --version
            }
            // ArgumentParser's own validation errors exit 64; facefx promises 2 for every usage error.
            let message = FaceFX.message(for: error)
            if code == .validationFailure {
                report(message + " (see facefx --help)")
                exit(2)
            }
            report(message.isEmpty ? String(describing: error) : message)
            exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }

    /// Ends the process without running library destructors: Mesa's and FFmpeg's exit-time teardown can race
    /// with their own worker threads still winding down (seen as heap corruption at exit under load). All
    /// outputs are complete and renamed by now; only stdio buffers need flushing.
    static func finish(_ code: Int32) -> Never {
        fflush(stdout)
        fflush(stderr)
        _exit(code)
    }

    static func warn(_ message: String) {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write("facefx: warning: \(oneLine)\n".data(using: .utf8)!)
    }

    static func report(_ message: String) {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write("facefx: error: \(oneLine)\n".data(using: .utf8)!)
    }
}

struct CLIError: Error {
    var message: String
    var exitCode: Int32
}

struct FaceFX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facefx",
        abstract: "Offline face filters and face analysis for video files, on a headless GPU.",
        discussion: "With no subcommand, renders INPUT to OUTPUT: `facefx in.mp4 out.mp4`.",
        version: FaceFXVersion.string,
        subcommands: [Render.self, Analyze.self, Detect.self, Batch.self, Train.self, Filters.self, Preview.self, Info.self, Bench.self],
        defaultSubcommand: Render.self
    )
}

/// Options shared by every command that touches the GPU.
