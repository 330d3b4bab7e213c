// `facefx bench train`: training steps of `facefx train`'s network (GPUClassifierTrainer: forward,
// backward, Adam, as GLES passes) on random crops of its input (grey64, or rgb128 with --input), per
// batch size: ms per step (the step's probabilities read back, so the GPU work is done) and crops per
// second. The CPU reference's step (Double, one thread) in the same run for scale.
import FaceFXGPU
import FaceFXNeural
import Foundation

func trainBench(_ o: Options) throws {
    let c = try openContext(o)
    print("renderer: \(c.renderer) | \(c.version)")
    let input = o.trainInput
    print("network: FaceClassifierNet \(input.rawValue), 3 classes, \(FaceClassifierNet(classes: 3, seed: 1, input: input).flat.count) parameters; \(o.iters) timed steps per row (+2 warm-up), median\n")
    print("| batch | GPU ms / step | GPU crops / s | CPU reference ms / step | CPU crops / s |")
    print("|---:|---:|---:|---:|---:|")
    var rng = TrainingRNG(seed: 1)
    for batch in o.batches {
        let crops = (0..<(batch * input.side * input.side * input.channels)).map { _ in Float(rng.uniform() * 2 - 1) }
        let labels = (0..<batch).map { $0 % 3 }
        let net = FaceClassifierNet(classes: 3, seed: 2, input: input)
        let trainer = try GPUClassifierTrainer(net: net, batch: batch, context: c, learningRate: 0.001)
        var gpu: [Double] = []
        for i in 0..<(o.iters + 2) {
            let t = Date()
            try trainer.step(.values(crops), labels: labels)
            if i >= 2 { gpu.append(Date().timeIntervalSince(t) * 1000) }
        }
        // The reference: a few steps only (it is slow by design).
        var reference = net
        var adam = AdamOptimizer(parameters: net.flat.count, learningRate: 0.001)
        let x = crops.map(Double.init)
        var cpu: [Double] = []
        for _ in 0..<max(1, min(3, o.iters)) {
            let t = Date()
            var p = reference.flat
            adam.update(&p, gradients: reference.gradients(reference.forward(x, count: batch), labels: labels))
            reference.flat = p
            cpu.append(Date().timeIntervalSince(t) * 1000)
        }
        let g = percentile(gpu, 0.5), r = percentile(cpu, 0.5)
        print(String(format: "| %d | %.2f | %.0f | %.1f | %.0f |", batch, g, Double(batch) * 1000 / g, r, Double(batch) * 1000 / r))
    }
}
