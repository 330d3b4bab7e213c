// swift-tools-version: 6.1
// facefx: offline face filter / analysis pipeline. Layout follows DESIGN.md (see README "Architecture").
import PackageDescription

let package = Package(
    name: "facefx",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "facefx", targets: ["facefx"]),
        .executable(name: "facefx-gpubench", targets: ["facefx-gpubench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Thin C shims over system libraries (pkg-config names).
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg",
                       pkgConfig: "libavformat libavcodec libswscale libswresample libavutil",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libswresample-dev", "libavutil-dev"])]),
        .systemLibrary(name: "CGLES", path: "Sources/CGLES",
                       pkgConfig: "egl glesv2",
                       providers: [.apt(["libegl-dev", "libgles-dev"])]),

        // GLSL sources embedded into the binary at build time (Shaders/**.glsl -> Swift string table).
        .executableTarget(name: "EmbedShadersTool", path: "Sources/EmbedShadersTool"),
        .plugin(name: "EmbedShaders", capability: .buildTool(), dependencies: ["EmbedShadersTool"],
                path: "Plugins/EmbedShaders"),
        .target(name: "FaceFXShaders", path: "Shaders", exclude: ["color", "common", "face", "nn", "overlay"],
                plugins: ["EmbedShaders"]),

        .target(name: "FaceFXMedia", dependencies: ["CFFmpeg"]),
        .target(name: "FaceFXGPU", dependencies: ["CGLES", "FaceFXShaders"]),
        // Optimised even in debug builds: the plain-Swift CPU reference (tests' second opinion, the
        // blendshapes path on software renderers, FACEFX_NN=cpu) is ~13× slower at -Onone.
        // Remove the flag to step through FaceFXNeural in a debugger.
        .target(name: "FaceFXNeural", dependencies: ["FaceFXGPU"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "FaceFXFace", dependencies: ["FaceFXGPU", "FaceFXNeural"]),
        .target(name: "FaceFXOverlay", dependencies: ["CGLES", "FaceFXGPU", "FaceFXFace"]),
        .target(name: "FaceFXPipeline", dependencies: ["FaceFXMedia", "FaceFXGPU", "FaceFXNeural", "FaceFXFace", "FaceFXOverlay"]),
        // Where Models/, Filters/ and the goldens are: looked up by the executables only.
        .target(name: "FaceFXResources"),
        .executableTarget(name: "facefx", dependencies: [
            "FaceFXPipeline", "FaceFXBench", "FaceFXResources",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // GPU benchmarks (`facefx bench`): EGL/GLES but not FFmpeg, so `facefx-gpubench` runs on the GPU
        // machine without FFmpeg installed.
        .target(name: "FaceFXBench", dependencies: ["FaceFXGPU", "FaceFXNeural", "FaceFXFace", "FaceFXOverlay"]),
        .executableTarget(name: "facefx-gpubench", dependencies: ["FaceFXBench", "FaceFXResources"]),

        .testTarget(name: "FaceFXMediaTests", dependencies: ["FaceFXMedia"]),
        .testTarget(name: "FaceFXGPUTests", dependencies: ["FaceFXGPU"]),
        .testTarget(name: "FaceFXNeuralTests", dependencies: ["FaceFXNeural"]),
        .testTarget(name: "FaceFXFaceTests", dependencies: ["FaceFXFace", "FaceFXGPU", "FaceFXNeural"]),
        .testTarget(name: "FaceFXPipelineTests", dependencies: ["FaceFXPipeline", "FaceFXMedia", "FaceFXFace", "FaceFXNeural"]),
        .testTarget(name: "FaceFXOverlayTests", dependencies: ["FaceFXOverlay", "FaceFXPipeline", "FaceFXMedia", "FaceFXGPU", "FaceFXFace"]),
    ],
    // Swift 5 mode: the GL and FFmpeg wrappers hand raw C pointers between dedicated threads,
    // which Swift 6's strict Sendable checking would force into unsafe casts everywhere.
    swiftLanguageModes: [.v5]
)
