import FaceFXMedia
import Foundation

/// What a batch does with each input file. Only `.render` exists today; `--csv` selects `.both` and is refused
/// until face analysis lands (`facefx analyze`): wiring it is `BatchItemAction.analysisAvailable` plus the
/// `.analyze`/`.both` branch of `BatchJob.process`.
public enum BatchItemAction: String, Codable, Sendable {
    case render, analyze, both

    public var renders: Bool { self != .analyze }
    public var analyzes: Bool { self != .render }

    /// Flip to true when the analysis API (per-face CSV export) exists.
    public static let analysisAvailable = true
}

/// One slice of a batch that several machines share: the items whose position in the full list, sorted by
/// input path, is ≡ index-1 (mod count). Round robin rather than hashing: deterministic, every file in exactly
/// one shard, and shard sizes differ by at most one whatever the file names.
public struct BatchShard: Equatable, CustomStringConvertible, Sendable {
    /// 1-based, like Slurm array ids `--array=1-N`.
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw PipelineError.usage("--shard: the shard count must be at least 1, got \(count)") }
        guard (1...count).contains(index) else {
            throw PipelineError.usage("--shard: shard \(index) is outside 1...\(count) (shards are numbered from 1)")
        }
        self.index = index; self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    public func contains(position: Int) -> Bool { position % count == index - 1 }

    /// Parses `K/N` (1-based), `auto` or `auto/N`. `auto` reads the index from the scheduler's environment:
    /// Slurm job arrays (`SLURM_ARRAY_TASK_ID`, mapped through `SLURM_ARRAY_TASK_MIN`/`_STEP` so arrays starting
    /// at 0 or 1 both work; count from `SLURM_ARRAY_TASK_COUNT`) or a Kubernetes Indexed Job
    /// (`JOB_COMPLETION_INDEX`, 0-based; Kubernetes exports no count, so it comes from `auto/N` or `FACEFX_SHARD_COUNT`).
    public static func parse(_ argument: String, environment: [String: String]) throws -> BatchShard {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let explicitCount: Int?
        if parts.count == 2 {
            guard let n = Int(parts[1]) else { throw PipelineError.usage("--shard: expected K/N, auto or auto/N, got '\(argument)'") }
            explicitCount = n
        } else if parts.count == 1 && parts[0] == "auto" {
            explicitCount = nil
        } else {
            throw PipelineError.usage("--shard: expected K/N, auto or auto/N, got '\(argument)'")
        }
        if parts[0] != "auto" {
            guard let k = Int(parts[0]), let n = explicitCount else {
                throw PipelineError.usage("--shard: expected K/N, auto or auto/N, got '\(argument)'")
            }
            return try BatchShard(index: k, count: n)
        }

        func number(_ name: String) throws -> Int? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            guard let v = Int(raw) else { throw PipelineError.usage("--shard auto: \(name)='\(raw)' is not a number") }
            return v
        }
        if let id = try number("SLURM_ARRAY_TASK_ID") {
            guard let count = try explicitCount ?? number("SLURM_ARRAY_TASK_COUNT") else {
                throw PipelineError.usage("--shard auto: SLURM_ARRAY_TASK_COUNT is not set; use --shard auto/N")
            }
            let min = try number("SLURM_ARRAY_TASK_MIN") ?? 1
            let step = max(1, try number("SLURM_ARRAY_TASK_STEP") ?? 1)
            guard id >= min, (id - min) % step == 0, (id - min) / step < count else {
                throw PipelineError.usage("--shard auto: Slurm array task \(id) does not map onto \(count) shards "
                    + "(min \(min), step \(step)); submit the array as a range, e.g. --array=1-\(count)")
            }
            return try BatchShard(index: (id - min) / step + 1, count: count)
        }
        if let index0 = try number("JOB_COMPLETION_INDEX") {
            guard let count = try explicitCount ?? number("FACEFX_SHARD_COUNT") else {
                throw PipelineError.usage("--shard auto: JOB_COMPLETION_INDEX is set but not the shard count; "
                    + "set FACEFX_SHARD_COUNT to the Job's completions or use --shard auto/N")
            }
            guard index0 >= 0, index0 < count else {
                throw PipelineError.usage("--shard auto: JOB_COMPLETION_INDEX \(index0) is outside 0...\(count - 1)")
            }
            return try BatchShard(index: index0 + 1, count: count)
        }
        throw PipelineError.usage("--shard auto: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set")
    }
}

/// One input file and where its results go.
public struct BatchItem: Equatable, Sendable {
    /// The input as it is opened and shown (the user's spelling joined with the relative path found in a folder).
    public var input: String
    /// The rendered video.
    public var output: String
    /// The per-face CSV when the action analyzes (mirrors `output` with `.csv`); nil for render-only batches.
    public var analysisOutput: String?
}

/// Where the inputs come from and how outputs are named. All checks that need no decoding happen while planning,
/// so a mistake in the command line stops the batch before any file is touched.
public struct BatchPlanOptions {
    public var inputs: [String]
    public var manifest: String?
    public var outDir: String?
    /// Output extension without dot; nil: the input's own when it can hold the codec's video, else mp4.
    public var outputExtension: String?
    public var codec: VideoCodecChoice
    public var action: BatchItemAction
    public var shard: BatchShard?

    public init(inputs: [String], manifest: String? = nil, outDir: String?, outputExtension: String? = nil,
                codec: VideoCodecChoice = .h264, action: BatchItemAction = .render, shard: BatchShard? = nil) {
        self.inputs = inputs; self.manifest = manifest; self.outDir = outDir; self.outputExtension = outputExtension
        self.codec = codec; self.action = action; self.shard = shard
    }
}

public struct BatchPlan {
    /// Every item of the batch, sorted by input path: the order shards are cut from and files are processed in.
    public let all: [BatchItem]
    /// The items this run owns (all of them without a shard).
    public let items: [BatchItem]
    public let shard: BatchShard?

    /// Extensions a folder scan picks up (compared case-insensitively).
    public static let videoExtensions: Set<String> = ["mp4", "mov", "mkv", "webm", "avi", "m4v"]

    public init(options o: BatchPlanOptions) throws {
        // A hardware encoder this machine lacks fails every item the same way: say so once, before any.
        if o.action.renders, let reason = o.codec.media.unavailableReason {
            throw PipelineError.usage("--codec \(o.codec.rawValue): \(reason)")
        }
        if let ext = o.outputExtension {
            let e = ext.hasPrefix(".") ? String(ext.dropFirst()) : ext
            guard OutputFormats.canWrite(extension: e, codec: o.codec.media) else {
                throw PipelineError.usage("--ext \(ext): not a container facefx can write \(o.codec.rawValue) video into")
            }
        }
        if o.inputs.isEmpty && o.manifest == nil {
            throw PipelineError.usage("batch: no inputs (give files, folders or --manifest FILE)")
        }
        // An out-dir inside an input folder must not feed a re-run its own outputs: folder scans skip it.
        let skip = o.outDir.map { BatchPaths.canonical($0) }
        var sources: [Source] = []
        for input in o.inputs { sources += try Self.expand(input, explicitOutput: nil, origin: input, skipping: skip) }
        if let manifest = o.manifest { sources += try Self.readManifest(manifest, skipping: skip) }
        if sources.isEmpty { throw PipelineError.usage("batch: no video files found in \(Self.describe(o))") }

        var writable: [String: Bool] = [:]   // extension → can hold the codec (asked once per extension)
        func canWrite(_ ext: String) -> Bool {
            if let known = writable[ext.lowercased()] { return known }
            let answer = OutputFormats.canWrite(extension: ext, codec: o.codec.media)
            writable[ext.lowercased()] = answer
            return answer
        }
        struct Planned { var sortKey: String; var input: String; var outputs: [String]; var item: BatchItem }
        var planned: [Planned] = []
        for s in sources {
            let output: String
            if let explicit = s.explicitOutput {
                if explicit.hasPrefix("/") {
                    output = explicit
                } else if let outDir = o.outDir {
                    output = BatchPaths.join(outDir, explicit)
                } else {
                    output = BatchPaths.join(s.manifestFolder ?? "", explicit)
                }
            } else {
                guard let outDir = o.outDir else {
                    throw PipelineError.usage("batch: --out-dir is required (\(s.path) has no output in the manifest)")
                }
                let own = (s.path as NSString).pathExtension
                let ext = o.outputExtension.map { $0.hasPrefix(".") ? String($0.dropFirst()) : $0 } ?? (canWrite(own) ? own : "mp4")
                output = BatchPaths.join(outDir, (s.relative as NSString).deletingPathExtension + "." + ext)
            }
            let outExt = (output as NSString).pathExtension
            guard canWrite(outExt) else {
                throw PipelineError.usage("\(output): .\(outExt) cannot hold \(o.codec.rawValue) video (for \(s.path))")
            }
            let analysis = o.action.analyzes ? (output as NSString).deletingPathExtension + ".csv" : nil
            let item = BatchItem(input: s.path, output: output, analysisOutput: analysis)
            planned.append(Planned(sortKey: BatchPaths.absolute(s.path), input: BatchPaths.canonical(s.path),
                                   outputs: ([output] + (analysis.map { [$0] } ?? [])).map(BatchPaths.canonical), item: item))
        }
        planned.sort { ($0.sortKey, $0.item.output) < ($1.sortKey, $1.item.output) }

        // The same file named twice (a file and its folder, two manifest lines) is one item; two different inputs
        // onto one output would silently overwrite each other, so that stops the batch.
        var claimed: [String: Planned] = [:]   // canonical output path → the item writing it
        var unique: [BatchItem] = []
        let inputKeys = Set(planned.map(\.input))
        for p in planned {
            if let first = claimed[p.outputs[0]], first.input == p.input { continue }
            for (out, key) in zip([p.item.output] + (p.item.analysisOutput.map { [$0] } ?? []), p.outputs) {
                if inputKeys.contains(key) {
                    throw PipelineError.usage("\(out): output would overwrite an input file; choose another --out-dir or --ext")
                }
                if let other = claimed[key] {
                    throw PipelineError.usage("\(other.item.input) and \(p.item.input) both map to \(out); "
                        + "rename one or give explicit outputs in a CSV manifest")
                }
                claimed[key] = p
            }
            unique.append(p.item)
        }
        all = unique
        shard = o.shard
        if let shard = o.shard {
            self.items = unique.enumerated().filter { shard.contains(position: $0.offset) }.map(\.element)
        } else {
            self.items = unique
        }
    }

    private static func describe(_ o: BatchPlanOptions) -> String {
        (o.inputs + (o.manifest.map { ["--manifest \($0)"] } ?? [])).joined(separator: ", ")
    }

    /// An input file before output naming: `relative` is what the output mirrors under --out-dir.
    struct Source {
        var path: String
        var relative: String
        var explicitOutput: String?
        /// Set for manifest entries: relative explicit outputs fall back to this folder when there is no --out-dir.
        var manifestFolder: String? = nil
    }

    /// A file is itself (named by its basename); a folder is every video file below it, hidden entries skipped.
    static func expand(_ path: String, explicitOutput: String?, origin: String, skipping: String?) throws -> [Source] {
        var st = stat()
        guard stat(path, &st) == 0 else { throw PipelineError.usage("\(origin): no such file or folder") }
        if (st.st_mode & S_IFMT) != S_IFDIR {
            return [Source(path: path, relative: (path as NSString).lastPathComponent, explicitOutput: explicitOutput)]
        }
        if explicitOutput != nil { throw PipelineError.usage("\(origin): a folder cannot have one explicit output") }
        return try videoFiles(in: path, skipping: skipping).map {
            Source(path: BatchPaths.join(path, $0), relative: $0, explicitOutput: nil)
        }
    }

    /// Relative paths of the video files below `root`, sorted. Hidden files and folders (which include facefx's
    /// `.name.facefx-*.tmp` partial outputs) are skipped; symbolic links to files are followed, links to folders
    /// are not (no loops). A subfolder whose canonical path is `skipping` (the out-dir) is not entered.
    public static func videoFiles(in root: String, skipping: String? = nil) throws -> [String] {
        var found: [String] = []
        func walk(_ relative: String) throws {
            let dir = relative.isEmpty ? root : BatchPaths.join(root, relative)
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
                throw PipelineError.usage("\(dir): cannot list folder (\(error.localizedDescription))")
            }
            for name in names.sorted() where !name.hasPrefix(".") {
                let rel = relative.isEmpty ? name : relative + "/" + name
                let full = BatchPaths.join(root, rel)
                var st = stat()
                guard lstat(full, &st) == 0 else { continue }
                let kind = st.st_mode & S_IFMT
                if kind == S_IFDIR {
                    if let skipping, BatchPaths.canonical(full) == skipping { continue }
                    try walk(rel)
                } else if kind == S_IFREG || (kind == S_IFLNK && stat(full, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG) {
                    if videoExtensions.contains((name as NSString).pathExtension.lowercased()) { found.append(rel) }
                }
            }
        }
        try walk("")
        return found
    }

    /// One path a line, or CSV `input,output` (the mode is set by the first entry: a comma makes it CSV; an
    /// `input,output` header is skipped; fields may be double-quoted). `#` starts a comment line. Relative inputs
    /// are resolved against the manifest's folder; relative outputs against --out-dir (else the manifest's folder).
    static func readManifest(_ manifest: String, skipping: String?) throws -> [Source] {
        let text: String
        do { text = try String(contentsOfFile: manifest, encoding: .utf8) } catch {
            throw PipelineError.usage("\(manifest): cannot read manifest (\(FileManager.default.fileExists(atPath: manifest) ? "not UTF-8 text" : "no such file"))")
        }
        let base = (manifest as NSString).deletingLastPathComponent
        func resolve(_ p: String) -> String { p.hasPrefix("/") || base.isEmpty ? p : BatchPaths.join(base, p) }

        var csv: Bool?
        var sources: [Source] = []
        for (n, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if n == 0, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            let where_ = "\(manifest):\(n + 1)"
            if csv == nil {
                csv = line.contains(",")
                if csv == true, let header = try? csvFields(line),
                   header.map({ $0.lowercased() }) == ["input", "output"] || header.map({ $0.lowercased() }) == ["input"] {
                    continue
                }
            }
            var input = line, output: String?
            if csv == true {
                let fields: [String]
                do { fields = try csvFields(line) } catch { throw PipelineError.usage("\(where_): \(error)") }
                guard (1...2).contains(fields.count), !fields[0].isEmpty else {
                    throw PipelineError.usage("\(where_): expected input,output")
                }
                input = fields[0]
                output = fields.count == 2 && !fields[1].isEmpty ? fields[1] : nil
            }
            var entries = try expand(resolve(input), explicitOutput: output, origin: where_ + ": " + input, skipping: skipping)
            for i in entries.indices { entries[i].manifestFolder = base }
            sources += entries
        }
        return sources
    }

    /// Splits one CSV line (RFC 4180 quoting: `"a, b"`, `""` for a quote inside quotes).
    static func csvFields(_ line: String) throws -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false, wasQuoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" && field.trimmingCharacters(in: .whitespaces).isEmpty && !wasQuoted {
                quoted = true; wasQuoted = true; field = ""
            } else if c == "," {
                fields.append(wasQuoted ? field : field.trimmingCharacters(in: .whitespaces))
                field = ""; wasQuoted = false
            } else { field.append(c) }
        }
        if quoted { throw PipelineError.usage("unterminated quote") }
        fields.append(wasQuoted ? field : field.trimmingCharacters(in: .whitespaces))
        return fields
    }
}

enum BatchPaths {
    static func join(_ dir: String, _ rel: String) -> String {
        if dir.isEmpty { return rel }
        return dir.hasSuffix("/") ? dir + rel : dir + "/" + rel
    }

    /// Absolute, with `.`/`..` removed, links not resolved: the spelling shards are sorted by.
    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    /// Absolute with the folder's links resolved (the file itself need not exist): two spellings of one target
    /// compare equal.
    static func canonical(_ path: String) -> String {
        let abs = absolute(path)
        let dir = (abs as NSString).deletingLastPathComponent, name = (abs as NSString).lastPathComponent
        guard let real = realpath(dir, nil) else { return abs }
        defer { free(real) }
        return join(String(cString: real), name)
    }
}
