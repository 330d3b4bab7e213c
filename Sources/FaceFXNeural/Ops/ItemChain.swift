// Fusion G (compute passes): a chain of convolutions on small tensors as ONE compute pass, a work group per
// batch item, the chain's intermediate tensors in the group's shared memory. The networks' deep layers are
// tiny (the landmark network's 4x4 and 2x2 stages: 20 passes one after another) and each of their passes
// costs a GPU a dependency level (a memory barrier and a dispatch) for a few microseconds of work; in one pass
// they cost barriers inside a work group instead. The shader is generated per chain (the ops' shapes and
// shared-memory offsets are constants) on top of Shaders/nn/item_chain.glsl.
//
// What each node computes is what its own pass computed, in the same order of operations: the weights are the
// kernels' packed textures placed in one atlas, the bias comes first, the taps in the same order, then the
// residual, the activation, the clamp to the storage range and the rounding of an fp16 tensor; a folded
// depthwise convolution's result is rounded as DepthwisePointwiseKernel rounds it.
import FaceFXGPU

enum ItemChainKernel {
    /// Invocations per work group (one group per batch item).
    static let invocations = 256
    /// Nodes a chain needs at least. A chain saves a dependency level for each node after the first, but runs an
    /// item's whole work on one multiprocessor: two nodes of the landmark network's 8x8 stage (1M multiply-adds an
    /// item) would save one level, not worth that.
    static let minimumNodes = 3
    /// Output texels a node may have per item (NeuralEngine.chainNodeTexels): two rounds of the group's
    /// invocations. A chain runs an item on one multiprocessor, which pays only where the nodes are small (H100,
    /// FACEFX_NN_CHAIN=1|0 with 4096 texels, bench/results/h100-stop30-chains.txt: the landmark network's 4x4 and
    /// 2x2 stages, 32–512 texels a node, 0.555 → 0.497 ms at batch 1, 0.044 → 0.043 ms an item at batch 32; the
    /// detector's 8x8 blocks, 1536 texels a node, 0.167 → 0.216 ms at batch 1, 0.0126 → 0.0138 at 32, so they
    /// stay passes). Each invocation holds its results in registers until every invocation has read the node's
    /// inputs (so an output may overwrite them).
    static let defaultNodeTexels = 2 * invocations

    /// Where a node reads a tensor: the group's shared memory (an earlier node of the chain wrote it) or a
    /// texture bound to the pass (its uniform named by `makePass`).
    enum Source {
        case shared(offset: Int)
        case texture(uniform: String)
    }

    /// One node of a chain, resolved: shapes per item and where its operands live.
    struct Step {
        let node: PlanNode
        /// Input x: height, width, slices.
        let xh: Int, xw: Int, xs: Int
        var x: Source = .texture(uniform: "")
        /// Output: height, width, channels.
        let oh: Int, ow: Int, oc: Int
        var os: Int { (oc + 3) / 4 }
        var outTexels: Int { oh * ow * os }
        /// The residual's height, width and slices (the tensor read: before the folded pool, if any), and where it is.
        var residualShape: (h: Int, w: Int, s: Int)?
        var residual: Source = .texture(uniform: "")
        /// Output offset in shared memory (nil: the last node, stored to the pass's image).
        var outOffset: Int?
        /// A folded depthwise's intermediate: pixels computed per round and their offset in shared memory.
        var midPixels = 0, midOffset = 0
    }

    /// The chains of `plan` (indices into it, in execution order, each of at least `minimumNodes`): maximal runs of
    /// convolutions with at most `nodeTexels` output texels per item, each after the first reading what an
    /// earlier one wrote, whose intermediates fit `sharedBytes` and are read by no node outside the chain (only
    /// the last node's output leaves it). Nodes between that read nothing of the chain stay passes of their own.
    static func chains(_ plan: [PlanNode], _ b: PassBuilder, sharedBytes: Int, nodeTexels: Int, root: (Int) -> Int,
                       outputs: Set<Int>) -> [[Int]] {
        var readers: [Int: Set<Int>] = [:]
        for (k, n) in plan.enumerated() {
            for t in n.inputs + [n.residual].compactMap({ $0 }) { readers[root(t), default: []].insert(k) }
        }
        var chains: [[Int]] = []
        var k = 0
        while k < plan.count {
            guard capable(plan[k], b, nodeTexels) else { k += 1; continue }
            var chain = [k]
            var written: Set<Int> = [root(plan[k].output)]
            var skippedOutputs = Set<Int>()
            var j = k + 1
            while j < plan.count {
                let n = plan[j]
                let reads = Set((n.inputs + [n.residual].compactMap { $0 }).map(root))
                if reads.isDisjoint(with: written) {
                    skippedOutputs.insert(root(n.output))
                    j += 1
                    continue
                }
                guard capable(n, b, nodeTexels), reads.isDisjoint(with: skippedOutputs),
                      (try? steps(chain.map { plan[$0] } + [n], b, sharedBytes: sharedBytes, root: root)) != nil else { break }
                chain.append(j)
                written.insert(root(n.output))
                j += 1
            }
            // Only the last node's output may be read outside the chain: end the chain at the first node whose
            // output is (again, since that leaves the nodes after it outside).
            while let cut = chain.dropLast().firstIndex(where: { c in
                let o = root(plan[c].output)
                return outputs.contains(o) || !(readers[o] ?? []).isSubset(of: Set(chain))
            }) {
                chain = Array(chain[...cut])
            }
            if chain.count >= minimumNodes {
                chains.append(chain)
                k = chain.last! + 1
            } else {
                k += 1
            }
        }
        return chains
    }

    /// A convolution (a folded depthwise one included) the chain shader computes: constant weights, no folded
    /// RESHAPE, and small enough an output.
    private static func capable(_ n: PlanNode, _ b: PassBuilder, _ nodeTexels: Int) -> Bool {
        guard n.op.kind == .conv2D, case .conv2D = n.op.options, n.inputViews.isEmpty, b.constant(n.op.inputs[1]) != nil,
              !b.isConstant(n.inputs[0]), n.residual.map(b.isConstant) != true,
              let x = try? b.layout(n.inputs[0]), let o = try? b.layout(n.output), x.n == o.n, o.replicas * o.n <= 65535,
              o.h * o.w * o.slices <= nodeTexels else { return false }
        if let dw = n.depthwise { return b.constant(dw.op.inputs[1]) != nil }
        return true
    }

    /// The chain's nodes resolved, with shared memory assigned by liveness (first fit; an output may take the
    /// place of what its own node last reads); throws when it does not fit `sharedBytes`.
    static func steps(_ nodes: [PlanNode], _ b: PassBuilder, sharedBytes: Int, root: (Int) -> Int) throws -> (steps: [Step], texels: Int) {
        let capacity = sharedBytes / 16
        var lastUse: [Int: Int] = [:]
        for (i, n) in nodes.enumerated() {
            for t in n.inputs.prefix(1) + [n.residual].compactMap({ $0 }) { lastUse[root(t)] = i }
        }
        var live: [Int: (offset: Int, size: Int)] = [:]  // root tensor -> its place in shared memory
        var used = 0
        func place(_ size: Int, avoiding taken: [(offset: Int, size: Int)]) -> Int? {
            var at = 0
            for r in taken.sorted(by: { $0.offset < $1.offset }) {
                if r.offset - at >= size { break }
                at = max(at, r.offset + r.size)
            }
            return at + size <= capacity ? at : nil
        }
        var steps: [Step] = []
        for (i, n) in nodes.enumerated() {
            let xl = try b.layout(n.inputs[0]), ol = try b.layout(n.output)
            var s = Step(node: n, xh: xl.h, xw: xl.w, xs: xl.slices, oh: ol.h, ow: ol.w, oc: ol.c)
            if let place = live[root(n.inputs[0])] { s.x = .shared(offset: place.offset) }
            if let r = n.residual {
                let rl = try b.layout(r)
                s.residualShape = (rl.h, rl.w, rl.slices)
                if let place = live[root(r)] { s.residual = .shared(offset: place.offset) }
            }
            if let dw = n.depthwise {
                // As many pixels a round as fit beside the live tensors (all of them when they fit).
                let ic4 = (try b.layout(dw.output)).slices
                let taken = Array(live.values)
                var pixels = s.oh * s.ow
                while pixels > 1 && place(pixels * ic4, avoiding: taken) == nil { pixels = (pixels + 1) / 2 }
                guard let off = place(pixels * ic4, avoiding: taken) else {
                    throw NeuralEngineError.unsupported("chain: no shared memory for a depthwise row")
                }
                s.midPixels = pixels
                s.midOffset = off
                used = max(used, off + pixels * ic4)
            }
            for (t, u) in lastUse where u == i { live[t] = nil }
            if i < nodes.count - 1 {
                guard let off = place(s.outTexels, avoiding: Array(live.values)) else {
                    throw NeuralEngineError.unsupported("chain: intermediates exceed the shared memory")
                }
                live[root(n.output)] = (off, s.outTexels)
                s.outOffset = off
                used = max(used, off + s.outTexels)
            }
            steps.append(s)
        }
        return (steps, used)
    }

    static func makePass(_ nodes: [PlanNode], _ b: PassBuilder, sharedBytes: Int, root: (Int) -> Int) throws -> PassSpec {
        var (steps, texels) = try steps(nodes, b, sharedBytes: sharedBytes, root: root)
        // Textures the chain reads: a uniform per tensor from outside it.
        var inputs: [(String, PassSource)] = []
        var uniformOf: [Int: String] = [:]
        func textureUniform(_ t: Int) throws -> Source {
            if let u = uniformOf[root(t)] { return .texture(uniform: u) }
            let u = "u_t\(uniformOf.count)"
            uniformOf[root(t)] = u
            inputs.append((u, try b.source(t)))
            return .texture(uniform: u)
        }
        for i in steps.indices {
            if case .texture = steps[i].x { steps[i].x = try textureUniform(steps[i].node.inputs[0]) }
            if let r = steps[i].node.residual, case .texture = steps[i].residual { steps[i].residual = try textureUniform(r) }
        }
        // The weight atlas: each node's packed weights (a folded depthwise's first, then its 1x1's) placed on shelves
        // as wide as the widest block, left to right (a 2x2 convolution's rows are 4x as wide as a 1x1's). The blocks
        // are packed only where the atlas is not in the program cache yet (a later batch size finds it there).
        var blocks: [(width: Int, height: Int, pack: () throws -> [Float])] = []
        var constants: [Int?] = []
        for s in steps {
            let n = s.node
            if let dw = n.depthwise {
                guard let f = b.constant(dw.op.inputs[1]) else { throw b.unsupported(dw.op, "non-constant filter") }
                let bias = dw.op.inputs.count > 2 ? dw.op.inputs[2] : nil
                let (kh, kw, oc) = (f.shape[1], f.shape[2], f.shape[3])
                let size = DepthwiseConv2DKernel.packedSize(kh: kh, kw: kw, oc: oc)
                blocks.append((size.width, size.height, {
                    DepthwiseConv2DKernel.packWeights(filter: f.data, kh: kh, kw: kw, oc: oc, bias: try b.channelVector(bias, channels: oc),
                                                      alpha: try b.channelVector(dw.preluAlpha, channels: oc)).2
                }))
                constants += [dw.op.inputs[1], bias, dw.preluAlpha]
            }
            guard let f = b.constant(n.op.inputs[1]) else { throw b.unsupported(n.op, "non-constant filter") }
            let bias = n.op.inputs.count > 2 ? n.op.inputs[2] : nil
            let (oc, kh, kw, ic) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
            let size = Conv2DKernel.packedSize(oc: oc, kh: kh, kw: kw, ic: ic)
            blocks.append((size.width, size.height, {
                Conv2DKernel.packWeights(filter: f.data, oc: oc, kh: kh, kw: kw, ic: ic, bias: try b.channelVector(bias, channels: oc),
                                         alpha: try b.channelVector(n.preluAlpha, channels: oc)).2
            }))
            constants += [n.op.inputs[1], bias, n.preluAlpha]
        }
        let width = blocks.map(\.width).max()!
        var places: [Origin] = []
        var shelf = (y: 0, x: 0, height: 0)
        for blk in blocks {
            if shelf.x + blk.width > width { shelf = (shelf.y + shelf.height, 0, 0) }
            places.append(Origin(x: shelf.x, y: shelf.y))
            shelf.x += blk.width
            shelf.height = max(shelf.height, blk.height)
        }
        let height = shelf.y + shelf.height
        // Each node's blocks: a depthwise's (if folded) and its own.
        var origins: [(dw: Origin?, w: Origin)] = []
        var next = 0
        for s in steps {
            let dw = s.node.depthwise != nil ? places[next] : nil
            if dw != nil { next += 1 }
            origins.append((dw, places[next]))
            next += 1
        }
        var body = ""
        for (i, s) in steps.enumerated() { body += try nodeCode(i, s, origins[i], b) }
        let last = steps.last!
        let items = try b.layout(last.node.output).replicas * (try b.layout(last.node.output)).n
        let samplers = uniformOf.values.sorted()
        let source = """
            layout(local_size_x = \(invocations)) in;
            uniform sampler2D u_w;
            \(samplers.map { "uniform sampler2D \($0);" }.joined(separator: "\n"))
            layout(FORMAT, binding = 0) writeonly uniform highp image2D u_out;
            shared vec4 s_t[\(max(texels, 1))];

            void main() {
                int lid = int(gl_LocalInvocationID.x), item = int(gl_WorkGroupID.x);
                vec2 wInv = invSize(u_w);
                \(samplers.map { "vec2 inv_\($0) = invSize(\($0));" }.joined(separator: " "))
            \(body)}

            """
        let label = "CHAIN \(steps.count): " + steps.map { s in
            let f = s.node.op.inputs[1]
            let shape = b.constant(f)!.shape
            return (s.node.depthwise != nil ? "DW+" : "") + "\(shape[1])x\(shape[2])->\(s.oc)"
        }.joined(separator: ", ") + " [\(last.oh)x\(last.ow), \(texels * 16 / 1024) KB shared]"
        let program = try b.generatedComputeShader(source, [:], output: last.node.output)
        // The atlas once the driver took the program (CompiledNetwork falls back to a pass per node where it does not).
        let atlas = try b.weightTexture(from: constants, layout: "chain " + blocks.map { "\($0.width)x\($0.height)" }.joined(separator: ",")) {
            var texels = [Float](repeating: 0, count: width * height * 4)
            for (blk, o) in zip(blocks, places) {
                let packed = try blk.pack()
                for r in 0..<blk.height {
                    texels.replaceSubrange(((o.y + r) * width + o.x) * 4..<((o.y + r) * width + o.x + blk.width) * 4,
                                           with: packed[(r * blk.width * 4)..<((r + 1) * blk.width * 4)])
                }
            }
            return (width, height, texels)
        }
        return PassSpec(label: label, program: program, inputs: [("u_w", .texture(atlas))] + inputs, uniforms: [:],
                        output: last.node.output, groups: (items, 1))
    }

    /// Where a block of weights starts in the chain's atlas.
    struct Origin { let x: Int, y: Int }

    /// GLSL reading texel (y, x, slice c4) of `src`, a tensor of width w and slices s in this item.
    private static func read(_ src: Source, h: Int, w: Int, s: Int, _ y: String, _ x: String, _ c4: String) -> String {
        switch src {
        case let .shared(offset): return "s_t[\(offset) + ((\(y)) * \(w) + (\(x))) * \(s) + \(c4)]"
        case let .texture(u): return "at(\(u), inv_\(u), (\(x)) * \(s) + \(c4), item * \(h) + (\(y)))"
        }
    }

    /// One node: results in registers, a barrier (every input read), the results stored, a barrier.
    private static func nodeCode(_ i: Int, _ s: Step, _ at: (dw: Origin?, w: Origin), _ b: PassBuilder) throws -> String {
        let n = s.node
        let e = s.outTexels, os = s.os, j = (e + invocations - 1) / invocations
        let half = b.storesHalf(n.output)
        // The node's block (Conv2DKernel.packWeights; a folded depthwise's 1x1 is 1x1 over the depthwise's slices):
        // the taps' mat4 columns, then the bias texel at `ktex` and the PReLU alpha texel.
        let filter = b.constant(n.op.inputs[1])!.shape
        let ktex = Conv2DKernel.packedSize(oc: filter[0], kh: filter[1], kw: filter[2], ic: filter[3]).width - 2
        let x = { (y: String, xx: String, c4: String) in read(s.x, h: s.xh, w: s.xw, s: s.xs, y, xx, c4) }
        // Weight texel `col` of output slice oc4 (the node's block), and of depthwise slice c4.
        let w = { (col: String) in "at(u_w, wInv, \(at.w.x) + \(col), \(at.w.y) + oc4)" }
        let wd = { (col: String) in "at(u_w, wInv, \(at.dw?.x ?? 0) + \(col), \(at.dw?.y ?? 0) + c4)" }
        // After a node's sums: the residual, the activation, the clamp to the storage range, the rounding of an fp16
        // tensor and zeros past the last channel (conv2d_pixels.glsl's addResidual, activate and finish).
        var tail: [String] = []
        if let r = n.residual, let rs = s.residualShape {
            let texel = { (y: String, xx: String) in read(s.residual, h: rs.h, w: rs.w, s: rs.s, y, xx, "oc4") }
            var value = texel("oy", "ox")
            if let pool = n.residualPool {
                value = "max(max(\(texel("2 * oy", "2 * ox")), \(texel("2 * oy", "2 * ox + 1"))), max(\(texel("2 * oy + 1", "2 * ox")), \(texel("2 * oy + 1", "2 * ox + 1"))))"
                if b.storesHalf(pool) { value = "roundToHalf(\(value))" }
            }
            tail.append("if (oc4 < \(rs.s)) acc += \(value);  // residual \(b.graph.tensors[r].name.prefix(40))")
        }
        tail.append(n.activation == .prelu ? "vec4 alpha = \(w("\(ktex + 1)"));" : "vec4 alpha = vec4(0.0);")
        tail.append("acc = clamp(activation(\(n.activation.rawValue), acc, alpha), vec4(-MAXV), vec4(MAXV));")
        tail.append("o[j] = mix(vec4(0.0), \(half ? "roundToHalf(acc)" : "acc"), lessThan(ivec4(oc4 * 4) + ivec4(0, 1, 2, 3), ivec4(\(s.oc))));")

        var lines = ["{  // \(i): \(n.op.kind.rawValue)\(n.depthwise != nil ? " + depthwise" : "") -> \(s.oh)x\(s.ow)x\(s.oc)",
                     "vec4 o[\(j)];"]
        if let dw = n.depthwise, case let .depthwiseConv2D(d) = dw.op.options {
            let f = b.constant(dw.op.inputs[1])!.shape
            let (kh, kw) = (f[1], f[2])
            let ic4 = s.xs
            let original = try b.layout(dw.op.inputs[0])
            let py = Graph.window(original.h, filter: kh, stride: d.strideH, dilation: d.dilationH, padding: d.padding).padBefore + dw.padBefore.h
            let px = Graph.window(original.w, filter: kw, stride: d.strideW, dilation: d.dilationW, padding: d.padding).padBefore + dw.padBefore.w
            let dalpha = dw.activation == .prelu ? wd("\(kh * kw + 1)") : "vec4(0.0)"
            let pixels = s.oh * s.ow, mp = s.midPixels
            // Rounds of `mp` pixels: their depthwise results for every slice into shared memory (rounded and clamped
            // as the depthwise's own texture would hold them), then the 1x1 outputs of those pixels.
            // GLSL ES 3.10 allows barrier() only outside control flow: the rounds are unrolled.
            for p0 in stride(from: 0, to: pixels, by: mp) {
                lines += [
                    "for (int m = lid; m < \(min(mp, pixels - p0) * ic4); m += \(invocations)) {",
                    "int p = \(p0) + m / \(ic4), c4 = m - (m / \(ic4)) * \(ic4);",
                    "int oy = p / \(s.ow), ox = p - oy * \(s.ow);",
                    "int iy0 = oy * \(d.strideH) - \(py), ix0 = ox * \(d.strideW) - \(px);",
                    "vec4 acc = \(wd("\(kh * kw)"));",
                    "for (int ky = 0; ky < \(kh); ++ky) {",
                    "int iy = iy0 + ky * \(d.dilationH);",
                    "if (iy < 0 || iy >= \(s.xh)) continue;",
                    "for (int kx = 0; kx < \(kw); ++kx) {",
                    "int ix = ix0 + kx * \(d.dilationW);",
                    "if (ix < 0 || ix >= \(s.xw)) continue;",
                    "acc += \(wd("ky * \(kw) + kx")) * \(x("iy", "ix", "c4"));",
                    "}", "}",
                    "acc = clamp(activation(\(dw.activation.rawValue), acc, \(dalpha)), vec4(-MAXV), vec4(MAXV));",
                    "s_t[\(s.midOffset) + m] = \(b.storesHalf(dw.output) ? "roundToHalf(acc)" : "acc");",
                    "}",
                    "barrier();",
                    "for (int j = 0; j < \(j); ++j) {",
                    "int e = lid + j * \(invocations), p = e / \(os);",
                    "if (e >= \(e) || p < \(p0) || p >= \(p0 + mp)) continue;",
                    "int oc4 = e - p * \(os), oy = p / \(s.ow), ox = p - oy * \(s.ow);",
                    "vec4 acc = \(w("\(ktex)"));",
                    "for (int i = 0; i < \(ic4); ++i) {",
                    "int wi = 4 * i;",
                    "acc += mat4(\(w("wi")), \(w("wi + 1")), \(w("wi + 2")), \(w("wi + 3"))) * s_t[\(s.midOffset) + (p - \(p0)) * \(ic4) + i];",
                    "}",
                ] + tail + ["}", "barrier();"]
            }
        } else if case let .conv2D(c) = n.op.options {
            let f = b.constant(n.op.inputs[1])!.shape
            let (kh, kw) = (f[1], f[2])
            let original = try b.layout(n.op.inputs[0])
            let py = Graph.window(original.h, filter: kh, stride: c.strideH, dilation: c.dilationH, padding: c.padding).padBefore + n.padBefore.h
            let px = Graph.window(original.w, filter: kw, stride: c.strideW, dilation: c.dilationW, padding: c.padding).padBefore + n.padBefore.w
            lines += [
                "for (int j = 0; j < \(j); ++j) {",
                "int e = lid + j * \(invocations);",
                "if (e >= \(e)) break;",
                "int p = e / \(os), oc4 = e - p * \(os), oy = p / \(s.ow), ox = p - oy * \(s.ow);",
                "int iy0 = oy * \(c.strideH) - \(py), ix0 = ox * \(c.strideW) - \(px);",
                "vec4 acc = \(w("\(ktex)"));",
                "for (int ky = 0; ky < \(kh); ++ky) {",
                "int iy = iy0 + ky * \(c.dilationH);",
                "if (iy < 0 || iy >= \(s.xh)) continue;",
                "for (int kx = 0; kx < \(kw); ++kx) {",
                "int ix = ix0 + kx * \(c.dilationW);",
                "if (ix < 0 || ix >= \(s.xw)) continue;",
                "int t0 = (ky * \(kw) + kx) * \(s.xs * 4);",
                "for (int i = 0; i < \(s.xs); ++i) {",
                "vec4 v = \(x("iy", "ix", "i"));",
                "int t = t0 + 4 * i;",
                "acc += mat4(\(w("t")), \(w("t + 1")), \(w("t + 2")), \(w("t + 3"))) * v;",
                "}", "}", "}",
            ] + tail + ["}", "barrier();"]
        }
        let store = s.outOffset.map { "s_t[\($0) + e] = o[j];" }
            ?? "int p = e / \(os), oc4 = e - p * \(os), oy = p / \(s.ow); imageStore(u_out, ivec2((p - oy * \(s.ow)) * \(os) + oc4, item * \(s.oh) + oy), o[j]);"
        lines += ["for (int j = 0; j < \(j); ++j) {", "int e = lid + j * \(invocations);", "if (e < \(e)) { \(store) }", "}", "barrier();", "}"]
        return lines.map { "    " + $0 }.joined(separator: "\n") + "\n"
    }
}
