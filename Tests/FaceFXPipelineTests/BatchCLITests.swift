import Foundation
import XCTest

/// `facefx batch` end to end: the built binary on folders, manifests and shards of small real-face clips.
final class BatchCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = try CLI.makeTempDir()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ rel: String) -> String { dir.appendingPathComponent(rel).path }

    func testFolderTreeWithACorruptFileMirrorsTheTreeAndReportsEachFile() throws {
        try BatchFixture.makeClips(["in/a.mp4", "in/x/b.mov", "in/x/y/c.mkv", "in/x/y/d.MP4"].map(path))
        try Data("not a video at all\n".utf8).write(to: URL(fileURLWithPath: path("in/x/broken.mp4")))
        try Data("ignored".utf8).write(to: URL(fileURLWithPath: path("in/notes.txt")))
        try FileManager.default.copyItem(atPath: path("in/a.mp4"), toPath: path("in/.hidden.mp4"))
        try FileManager.default.copyItem(atPath: path("in/a.mp4"), toPath: path("in/x/.a.mp4.facefx-1-2.tmp"))

        let r = try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("out"), "--summary", path("s.json")])
        XCTAssertEqual(r.status, 1, "one file failed → exit 1\n\(r.stderr)")

        XCTAssertEqual(BatchFixture.tree(dir.appendingPathComponent("out")),
                       ["a.mp4", "x/b.mov", "x/y/c.mkv", "x/y/d.MP4"], "mirrored tree, nothing for the corrupt file, no temp files")
        for rel in ["a.mp4", "x/b.mov", "x/y/c.mkv", "x/y/d.MP4"] {
            XCTAssertEqual(try decodeLuma(path("out/" + rel)).frames.count, 10, rel)
        }

        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("facefx: error: ") }
        XCTAssertEqual(errors.count, 1, r.stderr)
        XCTAssertTrue(errors.first?.hasPrefix("facefx: error: \(path("in/x/broken.mp4")): ") ?? false, r.stderr)
        let progress = r.stderr.split(separator: "\n").filter { $0.hasPrefix("[") }
        XCTAssertEqual(progress.count, 5, r.stderr)
        XCTAssertTrue(progress.contains { $0.hasPrefix("[1/5] \(path("in/a.mp4")) → \(path("out/a.mp4")): 10 frames, ") }, r.stderr)
        XCTAssertTrue(r.stderr.split(separator: "\n").last?.hasPrefix("facefx: batch: 5 files: 4 ok, 0 skipped, 1 failed, 40 frames in ") ?? false, r.stderr)

        let s = try BatchFixture.summary(path("s.json"))
        XCTAssertEqual(s.action, "render")
        XCTAssertEqual(Array(s.command.dropFirst()), ["batch", path("in"), "--out-dir", path("out"), "--summary", path("s.json")])
        XCTAssertNil(s.shard)
        XCTAssertEqual(s.totals.files, 5); XCTAssertEqual(s.totals.ok, 4); XCTAssertEqual(s.totals.failed, 1)
        XCTAssertEqual(s.totals.skipped, 0); XCTAssertEqual(s.totals.frames, 40)
        XCTAssertEqual(s.files.map(\.input), ["a.mp4", "x/b.mov", "x/broken.mp4", "x/y/c.mkv", "x/y/d.MP4"].map { path("in/" + $0) },
                       "sorted by input path")
        XCTAssertEqual(s.files.map(\.output), ["a.mp4", "x/b.mov", "x/broken.mp4", "x/y/c.mkv", "x/y/d.MP4"].map { path("out/" + $0) })
        for f in s.files {
            XCTAssertEqual(f.faces, 0)
            XCTAssertGreaterThanOrEqual(f.seconds, 0)
            if f.input.hasSuffix("broken.mp4") {
                XCTAssertEqual(f.status, "failed"); XCTAssertEqual(f.frames, 0)
                XCTAssertTrue(f.error?.contains("not a media file") ?? false, f.error ?? "nil")
            } else {
                XCTAssertEqual(f.status, "ok"); XCTAssertEqual(f.frames, 10); XCTAssertNil(f.error)
            }
        }
        let raw = try BatchFixture.summaryObject(path("s.json"))
        XCTAssertTrue(raw["shard"] is NSNull, "shard is an explicit null")
        let firstFile = (raw["files"] as! [[String: Any]])[0]
        XCTAssertTrue(firstFile["error"] is NSNull, "error is an explicit null")
        XCTAssertFalse(listing(dir).contains { $0.hasSuffix(".tmp") }, "summary written through a temp file, renamed")
    }

    func testExistingOutputsFailPerFileUnlessSkippedOrOverwritten() throws {
        try BatchFixture.makeClips(["in/a.mp4", "in/b.mp4"].map(path))
        XCTAssertEqual(try BatchFixture.facefx(["batch", path("in/a.mp4"), "--out-dir", path("out"), "--quiet"]).status, 0)

        let again = try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("out"), "--summary", path("s.json")])
        XCTAssertEqual(again.status, 1, again.stderr)
        XCTAssertTrue(again.stderr.contains("facefx: error: \(path("out/a.mp4")): already exists"), again.stderr)
        XCTAssertEqual(try BatchFixture.summary(path("s.json")).files.map(\.status), ["failed", "ok"])

        let skip = try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("out"), "--skip-existing", "--summary", path("s.json")])
        XCTAssertEqual(skip.status, 0, skip.stderr)
        XCTAssertEqual(try BatchFixture.summary(path("s.json")).files.map(\.status), ["skipped", "skipped"])

        let over = try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("out"), "--overwrite", "--quiet"])
        XCTAssertEqual(over.status, 0, over.stderr)
        XCTAssertTrue(over.stderr.isEmpty, "--quiet: nothing but errors: \(over.stderr)")
    }

    func testAnOutDirInsideTheInputFolderIsNotScanned() throws {
        try BatchFixture.makeClips(["in/a.mp4"].map(path))
        XCTAssertEqual(try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("in/rendered"), "--quiet"]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("in/rendered/a.mp4")))
        let again = try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("in/rendered"), "--dry-run"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(BatchFixture.pairs(again.stdout).map(\.0), [path("in/a.mp4")], "outputs are not inputs of the next run")
    }

    func testUsageErrorsExitTwoBeforeAnyWork() throws {
        try BatchFixture.makeClips(["in/a.mp4"].map(path))
        let cases: [([String], String)] = [
            (["--analyze-only", "--filter", "mask"], "nothing to draw on"),
            (["--skip-existing", "--overwrite"], "exclude each other"),
            (["--shard", "0/3"], "numbered from 1"),
            (["--shard", "auto"], "SLURM_ARRAY_TASK_ID"),
            (["--ext", "webm"], "--ext webm"),          // h264 cannot go into webm
            (["--codec", "av1"], "unknown codec"),
            (["--preset", "warp"], "unknown preset"),
            (["--filter", "cat-ears"], "not found"),
            (["--jobs", "0"], "--jobs"),
        ]
        for (extra, expected) in cases {
            let r = try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("out")] + extra)
            XCTAssertEqual(r.status, 2, "\(extra): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(extra): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("out")), "\(extra): nothing created")
        }
        let missing = try BatchFixture.facefx(["batch", path("nope"), "--out-dir", path("out")])
        XCTAssertEqual(missing.status, 2); XCTAssertTrue(missing.stderr.contains("no such file"), missing.stderr)
        let empty = try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("out"), "--ext", "mkv", "--manifest", path("none.txt")])
        XCTAssertEqual(empty.status, 2, empty.stderr)
        let noOut = try BatchFixture.facefx(["batch", path("in")])
        XCTAssertEqual(noOut.status, 2); XCTAssertTrue(noOut.stderr.contains("--out-dir"), noOut.stderr)
    }

    func testManifestPlainAndCSVWithPathsRelativeToTheManifest() throws {
        try BatchFixture.makeClips(["clips/a.mp4", "clips/b.mp4", "clips/sub/c.mkv"].map(path))
        try FileManager.default.createDirectory(atPath: path("lists"), withIntermediateDirectories: true)
        try """
        # clips for today
        ../clips/a.mp4

          ../clips/sub/c.mkv
        \(path("clips/b.mp4"))
        """.write(toFile: path("lists/plain.txt"), atomically: true, encoding: .utf8)
        let plain = try BatchFixture.facefx(["batch", "--manifest", path("lists/plain.txt"), "--out-dir", path("out1"),
                                             "--summary", path("plain.json")])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(BatchFixture.tree(dir.appendingPathComponent("out1")), ["a.mp4", "b.mp4", "c.mkv"],
                       "file entries are named by their basename")
        XCTAssertEqual(try BatchFixture.summary(path("plain.json")).totals.ok, 3)

        try """
        input,output
        # explicit outputs are relative to --out-dir; an empty one mirrors the basename
        ../clips/a.mp4,first/a-filtered.mkv
        "../clips/sub/c.mkv",
        ../clips/b.mp4,\(path("abs/b.mov"))
        """.write(toFile: path("lists/pairs.csv"), atomically: true, encoding: .utf8)
        let csv = try BatchFixture.facefx(["batch", "--manifest", path("lists/pairs.csv"), "--out-dir", path("out2"), "--quiet"])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        XCTAssertEqual(BatchFixture.tree(dir.appendingPathComponent("out2")), ["c.mkv", "first/a-filtered.mkv"])
        XCTAssertEqual(try decodeLuma(path("abs/b.mov")).frames.count, 10)
        XCTAssertEqual(try decodeLuma(path("out2/first/a-filtered.mkv")).frames.count, 10)
    }

    func testTwoInputsOnOneOutputAreRejected() throws {
        try BatchFixture.makeClips(["day1/clip.mp4", "day2/clip.mp4"].map(path))
        let folders = try BatchFixture.facefx(["batch", path("day1"), path("day2"), "--out-dir", path("out")])
        XCTAssertEqual(folders.status, 2, folders.stderr)
        XCTAssertTrue(folders.stderr.contains("both map to \(path("out/clip.mp4"))"), folders.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out")))

        // Different extensions collide too once the output extension is fixed.
        try FileManager.default.copyItem(atPath: path("day1/clip.mp4"), toPath: path("day1/clip.mov"))
        let ext = try BatchFixture.facefx(["batch", path("day1"), "--out-dir", path("out"), "--ext", "mp4"])
        XCTAssertEqual(ext.status, 2, ext.stderr)

        try "\(path("day1/clip.mp4")),same.mp4\n\(path("day2/clip.mp4")),same.mp4\n"
            .write(toFile: path("m.csv"), atomically: true, encoding: .utf8)
        let csv = try BatchFixture.facefx(["batch", "--manifest", path("m.csv"), "--out-dir", path("out")])
        XCTAssertEqual(csv.status, 2, csv.stderr)
        XCTAssertTrue(csv.stderr.contains("both map to"), csv.stderr)

        // The same file named twice (itself and through its folder) is one item, not a conflict.
        let twice = try BatchFixture.facefx(["batch", path("day2"), path("day2/clip.mp4"), "--out-dir", path("out"), "--dry-run"])
        XCTAssertEqual(twice.status, 0, twice.stderr)
        XCTAssertEqual(BatchFixture.pairs(twice.stdout).count, 1)

        // An out-dir that would overwrite the inputs.
        let inPlace = try BatchFixture.facefx(["batch", path("day2"), "--out-dir", path("day2"), "--dry-run"])
        XCTAssertEqual(inPlace.status, 2, inPlace.stderr)
        XCTAssertTrue(inPlace.stderr.contains("overwrite an input"), inPlace.stderr)
    }

    func testShardsPartitionTheSortedListAndAutoReadsSlurmAndKubernetes() throws {
        let names = (0..<7).map { "in/\($0 % 2 == 0 ? "even" : "odd")/clip\($0).mp4" }
        try BatchFixture.makeClips(names.map(path))
        let base = ["batch", path("in"), "--out-dir", path("out"), "--dry-run"]
        let all = try BatchFixture.facefx(base)
        XCTAssertEqual(all.status, 0, all.stderr)
        let full = BatchFixture.pairs(all.stdout).map(\.0)
        XCTAssertEqual(full, full.sorted(), "planned in sorted order")
        XCTAssertEqual(full.count, 7)

        var seen: [String] = []
        for k in 1...3 {
            let r = try BatchFixture.facefx(base + ["--shard", "\(k)/3"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let mine = BatchFixture.pairs(r.stdout).map(\.0)
            XCTAssertEqual(mine, full.enumerated().filter { $0.offset % 3 == k - 1 }.map(\.element), "shard \(k)/3: index ≡ k-1 mod 3")
            seen += mine
        }
        XCTAssertEqual(seen.sorted(), full, "every file in exactly one shard")

        let shard2 = full.enumerated().filter { $0.offset % 3 == 1 }.map(\.element)
        let environments: [[String: String]] = [
            ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"],   // --array=1-3
            ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "0"],   // --array=0-2
            ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3"],                                // no MIN: ids from 1
            ["JOB_COMPLETION_INDEX": "1", "FACEFX_SHARD_COUNT": "3"],                                  // Kubernetes, 0-based
        ]
        for env in environments {
            let r = try BatchFixture.facefx(base + ["--shard", "auto"], environment: BatchFixture.environment(env))
            XCTAssertEqual(r.status, 0, "\(env): \(r.stderr)")
            XCTAssertEqual(BatchFixture.pairs(r.stdout).map(\.0), shard2, "\(env)")
            XCTAssertTrue(r.stderr.contains("shard 2/3: 2 of 7 files"), r.stderr)
        }
        let k8sCount = try BatchFixture.facefx(base + ["--shard", "auto/3"],
                                               environment: BatchFixture.environment(["JOB_COMPLETION_INDEX": "1"]))
        XCTAssertEqual(BatchFixture.pairs(k8sCount.stdout).map(\.0), shard2, k8sCount.stderr)
        let noCount = try BatchFixture.facefx(base + ["--shard", "auto"],
                                              environment: BatchFixture.environment(["JOB_COMPLETION_INDEX": "1"]))
        XCTAssertEqual(noCount.status, 2); XCTAssertTrue(noCount.stderr.contains("FACEFX_SHARD_COUNT"), noCount.stderr)
        let outside = try BatchFixture.facefx(base + ["--shard", "auto"],
                                              environment: BatchFixture.environment(["JOB_COMPLETION_INDEX": "3", "FACEFX_SHARD_COUNT": "3"]))
        XCTAssertEqual(outside.status, 2, outside.stderr)

        // A real sharded run: the summary records the shard; an empty shard is a success.
        let real = try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("out"), "--shard", "3/3", "--summary", path("s3.json")])
        XCTAssertEqual(real.status, 0, real.stderr)
        let s = try BatchFixture.summary(path("s3.json"))
        XCTAssertEqual(s.shard?.index, 3); XCTAssertEqual(s.shard?.count, 3); XCTAssertEqual(s.shard?.of, 7)
        XCTAssertEqual(s.files.map(\.input), full.enumerated().filter { $0.offset % 3 == 2 }.map(\.element))
        let empty = try BatchFixture.facefx(["batch", path("in/odd/clip1.mp4"), "--out-dir", path("out"), "--shard", "2/2"])
        XCTAssertEqual(empty.status, 0, empty.stderr)
    }

    /// SIGKILL in the middle of a batch, then `--skip-existing`: target paths only ever hold complete files,
    /// the re-run renders only what is missing and removes the killed run's partial file.
    func testKilledBatchResumesWithSkipExisting() throws {
        let names = (1...5).map { "in/clip\($0).mp4" }
        try BatchFixture.makeClips(names.map(path), size: 480, frames: 60)
        let outDir = dir.appendingPathComponent("out")

        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.facefxPath)
        p.arguments = ["batch", path("in"), "--out-dir", outDir.path, "--quiet"]
        p.environment = BatchFixture.environment()
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Kill once the first output is complete and the second one is being written.
        let deadline = Date().addingTimeInterval(30)
        func partials() -> [String] { listing(outDir).filter { $0.hasPrefix(".") && $0.hasSuffix(".tmp") } }
        while p.isRunning && Date() < deadline && !(listing(outDir).contains("clip1.mp4") && !partials().isEmpty) {
            usleep(5_000)
        }
        XCTAssertTrue(p.isRunning, "the batch finished before it could be killed; make the clips longer")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)

        let finished = listing(outDir).filter { !$0.hasPrefix(".") }
        XCTAssertFalse(finished.isEmpty)
        XCTAssertLessThan(finished.count, names.count, "killed mid-way")
        XCTAssertEqual(partials().count, 1, "the killed render's hidden temp file: \(listing(outDir))")
        for f in finished {
            XCTAssertEqual(try decodeLuma(outDir.appendingPathComponent(f).path).frames.count, 60, "\(f) at its target is complete")
        }

        let r = try BatchFixture.facefx(["batch", path("in"), "--out-dir", outDir.path, "--skip-existing", "--summary", path("s.json")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("removed 1 partial output"), r.stderr)
        let s = try BatchFixture.summary(path("s.json"))
        for f in s.files {
            let name = (f.output as NSString).lastPathComponent
            XCTAssertEqual(f.status, finished.contains(name) ? "skipped" : "ok", name)
            XCTAssertEqual(f.frames, finished.contains(name) ? 0 : 60, name)
        }
        XCTAssertEqual(s.totals.skipped, finished.count)
        XCTAssertEqual(s.totals.ok, names.count - finished.count)
        XCTAssertEqual(listing(outDir), (1...5).map { "clip\($0).mp4" }, "all outputs, no partial file left")
        for n in 1...5 {
            XCTAssertEqual(try decodeLuma(outDir.appendingPathComponent("clip\(n).mp4").path).frames.count, 60)
        }
    }

    func testConcurrentJobsProduceTheSameOutputs() throws {
        try BatchFixture.makeClips((1...4).map { path("in/c\($0).mp4") })
        let r = try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("out"), "--jobs", "2", "--summary", path("s.json")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let s = try BatchFixture.summary(path("s.json"))
        XCTAssertEqual(s.files.map(\.status), ["ok", "ok", "ok", "ok"])
        XCTAssertEqual(s.files.map(\.input), (1...4).map { path("in/c\($0).mp4") }, "summary in plan order whatever the finishing order")
        for n in 1...4 { XCTAssertEqual(try decodeLuma(path("out/c\(n).mp4")).frames.count, 10) }
        let progress = r.stderr.split(separator: "\n").filter { $0.hasPrefix("[") }.map { String($0.prefix(5)) }
        XCTAssertEqual(progress, ["[1/4]", "[2/4]", "[3/4]", "[4/4]"], r.stderr)
    }

    /// Four jobs whose GL work takes turns on one shared context (with --gpus all: here the one renderer)
    /// write byte for byte the videos and CSVs of one file at a time: faces tracked, filters drawn. With
    /// --jobs 1 the four files (of four sizes) run in turn on one set of face networks, lent back by each
    /// job (`SharedGPU`); with --jobs 4 each job has its own.
    func testJobsSharingOneContextWriteWhatOneJobWrites() throws {
        for (n, size) in [256, 288, 320, 352].enumerated() {
            try BatchFixture.makeClip(path("in/c\(n).mp4"), size: size, frames: 16)
        }
        var outputs: [[Data]] = []
        for extra in [["--jobs", "1"], ["--jobs", "4", "--gpus", "all"]] {
            let out = path("out\(outputs.count)")
            let r = try BatchFixture.facefx(["batch", path("in"), "--out-dir", out, "--filter", "mask", "--csv"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            outputs.append(try (0..<4).flatMap { n in
                try ["mp4", "csv"].map { try Data(contentsOf: URL(fileURLWithPath: "\(out)/c\(n).\($0)")) }
            })
        }
        XCTAssertEqual(outputs[0].count, 8)
        for (k, (a, b)) in zip(outputs[0], outputs[1]).enumerated() {
            XCTAssertEqual(a, b, "c\(k / 2).\(k % 2 == 0 ? "mp4" : "csv"): --jobs 4 on one context = --jobs 1")
        }
        for n in 0..<4 {
            let csv = String(decoding: outputs[0][2 * n + 1], as: UTF8.self).split(whereSeparator: \.isNewline)
            XCTAssertEqual(csv.count, 17, "c\(n): a face on each of the 16 frames")
        }
    }

    func testGPUListsAreCheckedBeforeAnyFile() throws {
        try BatchFixture.makeClip(path("in/c.mp4"))
        for (args, message) in [(["--gpus", "0,x"], "--gpus: expected all or device indices like 0,1, got '0,x'"),
                                (["--gpus", "0,0"], "--gpus: expected all or device indices"),
                                (["--gpus", "99"], "--gpus: GPU device 99 does not exist"),
                                (["--gpus", "all", "--gpu", "cpu"], "--gpu and --gpus exclude each other")] {
            let r = try BatchFixture.facefx(["batch", path("in"), "--out-dir", path("out")] + args)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("out/c.mp4")))
        }
    }
}
