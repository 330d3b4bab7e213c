import Foundation
import XCTest

/// The scripts in samples/batch: the shell loop and GNU parallel run for real; the Slurm and Kubernetes files are
/// checked as far as possible without a cluster (syntax, structure) and their facefx command lines are run with
/// `--dry-run` appended, for every array task / completion index, to prove the shards cover the clips exactly once.
final class BatchSamplesTests: XCTestCase {
    var dir: URL!
    let samples = CLI.packageRoot.appendingPathComponent("samples/batch")

    override func setUpWithError() throws {
        dir = try CLI.makeTempDir()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ rel: String) -> String { dir.appendingPathComponent(rel).path }
    func sample(_ name: String) -> String { samples.appendingPathComponent(name).path }

    var bash: String { "/bin/bash" }

    func testLoopScriptRendersEachClipAndSkipsDoneOnes() throws {
        try BatchFixture.makeClips(["clips/one.mp4", "clips/two.mov"].map(path))
        let env = BatchFixture.environment(["FACEFX": CLI.facefxPath])
        let r = try BatchFixture.run(bash, [sample("loop.sh"), path("clips"), path("out")], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(listing(dir.appendingPathComponent("out")), ["one.mp4", "two.mp4"])
        for n in ["one", "two"] { XCTAssertEqual(try decodeLuma(path("out/\(n).mp4")).frames.count, 10) }

        let again = try BatchFixture.run(bash, [sample("loop.sh"), path("clips"), path("out")], environment: env)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.stderr.components(separatedBy: "skip ").count - 1, 2, again.stderr)
    }

    func testParallelScriptPerFileAndPerShard() throws {
        guard let parallel = ["/usr/bin/parallel", "/usr/local/bin/parallel"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("GNU parallel is not installed (scripts/install-deps.sh installs it)")
        }
        _ = parallel
        try BatchFixture.makeClips(["clips/one.mp4", "clips/two.mp4"].map(path))
        // GNU parallel keeps state in $HOME/.parallel; give it a private one.
        let env = BatchFixture.environment(["FACEFX": CLI.facefxPath, "HOME": path("home")])
        try FileManager.default.createDirectory(atPath: path("home"), withIntermediateDirectories: true)

        let files = try BatchFixture.run(bash, [sample("parallel.sh"), "files", path("clips"), path("out1"), "2"], environment: env)
        XCTAssertEqual(files.status, 0, files.stderr)
        XCTAssertEqual(listing(dir.appendingPathComponent("out1")), ["one.mp4", "two.mp4"])

        let shards = try BatchFixture.run(bash, [sample("parallel.sh"), "shards", path("clips"), path("out2"), "2"], environment: env)
        XCTAssertEqual(shards.status, 0, shards.stderr)
        XCTAssertEqual(listing(dir.appendingPathComponent("out2")), ["one.mp4", "summary-1.json", "summary-2.json", "two.mp4"])
        let s1 = try BatchFixture.summary(path("out2/summary-1.json")), s2 = try BatchFixture.summary(path("out2/summary-2.json"))
        XCTAssertEqual(s1.files.map(\.input) + s2.files.map(\.input), [path("clips/one.mp4"), path("clips/two.mp4")])
        XCTAssertEqual((s1.files + s2.files).map(\.status), ["ok", "ok"])
        for n in ["one", "two"] {
            XCTAssertEqual(try decodeLuma(path("out1/\(n).mp4")).frames.count, 10)
            XCTAssertEqual(try decodeLuma(path("out2/\(n).mp4")).frames.count, 10)
        }
    }

    /// A stand-in for facefx that runs the real binary with `--dry-run` appended (and so plans, never renders).
    func dryRunWrapper() throws -> String {
        let wrapper = path("facefx-dry-run")
        try "#!/bin/sh\nexec '\(CLI.facefxPath)' \"$@\" --dry-run\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        return wrapper
    }

    func makeShardClips() throws -> [String] {
        let names = (0..<11).map { "clips/\($0 % 3)/clip\($0).mp4" }
        try BatchFixture.makeClips(names.map(path))
        let all = try BatchFixture.facefx(["batch", path("clips"), "--out-dir", path("out"), "--dry-run"])
        XCTAssertEqual(all.status, 0, all.stderr)
        return BatchFixture.pairs(all.stdout).map(\.0)
    }

    func testSlurmArrayScriptCoversEveryClipOnce() throws {
        let script = sample("slurm_array.sbatch")
        let syntax = try BatchFixture.run(bash, ["-n", script])
        XCTAssertEqual(syntax.status, 0, syntax.stderr)

        // The array range from the #SBATCH header: "--array=1-8%4" (optional %throttle).
        let text = try String(contentsOfFile: script, encoding: .utf8)
        let directives = text.split(separator: "\n").filter { $0.hasPrefix("#SBATCH ") }
        guard let arrayLine = directives.first(where: { $0.contains("--array=") }),
              let spec = arrayLine.components(separatedBy: "--array=").last?.split(separator: "%").first else {
            return XCTFail("no #SBATCH --array= line")
        }
        let bounds = spec.split(separator: "-").compactMap { Int($0) }
        XCTAssertEqual(bounds.count, 2, "a plain range: \(spec)")
        let ids = Array(bounds[0]...bounds[1])
        for d in directives {
            XCTAssertTrue(d.dropFirst("#SBATCH ".count).hasPrefix("--"), "long options only: \(d)")
        }

        let clips = try makeShardClips()
        let wrapper = try dryRunWrapper()
        var seen: [String] = []
        for id in ids {
            let env = BatchFixture.environment([
                "FACEFX": wrapper, "FACEFX_IN": path("clips"), "FACEFX_OUT": path("out"),
                "SLURM_ARRAY_TASK_ID": String(id), "SLURM_ARRAY_TASK_COUNT": String(ids.count),
                "SLURM_ARRAY_TASK_MIN": String(ids.first!), "SLURM_ARRAY_TASK_MAX": String(ids.last!),
                "SLURM_CPUS_PER_TASK": "4"])
            let r = try BatchFixture.run(bash, [script], environment: env)
            XCTAssertEqual(r.status, 0, "task \(id): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("shard \(id - ids.first! + 1)/\(ids.count)"), r.stderr)
            seen += BatchFixture.pairs(r.stdout).map(\.0)
        }
        XCTAssertEqual(seen.sorted(), clips, "every clip in exactly one array task")
    }

    func testKubernetesIndexedJobParsesAndCoversEveryClipOnce() throws {
        let yamlPath = sample("k8s-indexed-job.yaml")
        // Python's YAML parser reads the file and hands back the fields the Job controller uses.
        let python = """
        import json, sys
        try:
            import yaml
        except ImportError:
            print("NO_YAML"); sys.exit(0)
        docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
        assert len(docs) == 1, "one document"
        job = docs[0]
        spec = job["spec"]; pod = spec["template"]["spec"]; c = pod["containers"][0]
        print(json.dumps({"apiVersion": job["apiVersion"], "kind": job["kind"], "completionMode": spec.get("completionMode"),
            "completions": spec.get("completions"), "parallelism": spec.get("parallelism"),
            "restartPolicy": pod.get("restartPolicy"), "name": c["name"],
            "argv": c.get("command", []) + c.get("args", []),
            "env": {e["name"]: e.get("value") for e in c.get("env", [])},
            "failureCodes": [v for r in spec.get("podFailurePolicy", {}).get("rules", []) for v in r.get("onExitCodes", {}).get("values", [])]}))
        """
        let parsed = try BatchFixture.run("/usr/bin/env", ["python3", "-c", python, yamlPath])
        if parsed.status == 127 { throw XCTSkip("python3 not installed") }
        XCTAssertEqual(parsed.status, 0, parsed.stderr)
        if parsed.stdout.hasPrefix("NO_YAML") { throw XCTSkip("python3 has no yaml module (apt install python3-yaml)") }
        struct Job: Decodable {
            var apiVersion, kind: String
            var completionMode: String?
            var completions, parallelism: Int?
            var restartPolicy: String?
            var name: String
            var argv: [String]
            var env: [String: String?]
            var failureCodes: [Int]
        }
        let job = try JSONDecoder().decode(Job.self, from: Data(parsed.stdout.utf8))
        XCTAssertEqual(job.apiVersion, "batch/v1"); XCTAssertEqual(job.kind, "Job")
        XCTAssertEqual(job.completionMode, "Indexed")
        XCTAssertEqual(job.restartPolicy, "Never", "podFailurePolicy needs restartPolicy Never")
        XCTAssertEqual(job.failureCodes, [2], "usage errors fail the Job at once")
        let completions = try XCTUnwrap(job.completions)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(job.parallelism), 1)
        XCTAssertEqual(job.env["FACEFX_SHARD_COUNT"] ?? nil, String(completions), "the shard count must equal completions")
        XCTAssertEqual(Array(job.argv.prefix(2)), ["facefx", "batch"])
        XCTAssertEqual(Array(job.argv.drop { $0 != "--shard" }.dropFirst().prefix(1)), ["auto"])

        let clips = try makeShardClips()
        var seen: [String] = []
        for index in 0..<completions {
            // What the kubelet does: $(VAR) in args expanded from the container's env; /data is the mounted volume.
            let args = job.argv.dropFirst().map {
                $0.replacingOccurrences(of: "$(SHARD_INDEX)", with: String(index))
                  .replacingOccurrences(of: "$(JOB_COMPLETION_INDEX)", with: String(index))
                  .replacingOccurrences(of: "/data/clips", with: path("clips"))
                  .replacingOccurrences(of: "/data/out", with: path("out"))
            }
            var env: [String: String] = ["JOB_COMPLETION_INDEX": String(index)]
            for case let (k, v?) in job.env { env[k] = v }
            let r = try BatchFixture.facefx(args + ["--dry-run"], environment: BatchFixture.environment(env))
            XCTAssertEqual(r.status, 0, "index \(index): \(r.stderr)")
            seen += BatchFixture.pairs(r.stdout).map(\.0)
        }
        XCTAssertEqual(seen.sorted(), clips, "every clip in exactly one completion index")
    }
}
