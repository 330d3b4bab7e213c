// facefx-gpubench: the GPU benchmarks of `facefx bench` in an executable that links EGL/GLES but
// not FFmpeg, so it runs on GPU machines without FFmpeg installed (bench/, README "Benchmarks").
import FaceFXBench

GPUBench.run(arguments: Array(CommandLine.arguments.dropFirst()))
