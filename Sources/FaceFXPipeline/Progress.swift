import Foundation

/// Reports frame progress on stderr: a redrawn bar on a terminal, plain periodic lines otherwise
/// (logs of batch jobs), nothing with --quiet. The final summary line is printed by the CLI.
public final class ProgressReporter {
    public enum Mode { case auto, bar, lines, quiet }

    private let mode: Mode
    private let label: String
    private let total: Int?
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let lineInterval: TimeInterval
    private var drewBar = false

    public init(mode: Mode, label: String, totalFrames: Int?, lineInterval: TimeInterval = 5) {
        if mode == .auto {
            self.mode = isatty(STDERR_FILENO) != 0 ? .bar : .lines
        } else {
            self.mode = mode
        }
        self.label = label
        self.total = (totalFrames ?? 0) > 0 ? totalFrames : nil
        self.lineInterval = lineInterval
        // Log lines start after one interval; the bar draws at once.
        lastDraw = self.mode == .lines ? start : .distantPast
    }

    public var elapsed: TimeInterval { Date().timeIntervalSince(start) }

    public func update(frames: Int) {
        guard mode != .quiet else { return }
        let now = Date()
        let interval = mode == .bar ? 0.1 : lineInterval
        guard now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let secs = max(elapsed, 1e-6)
        let fps = Double(frames) / secs
        var eta = ""
        if let total, fps > 0 {
            let left = max(0, Double(total - frames) / fps)
            eta = " ETA " + Self.clock(left)
        }
        if mode == .bar {
            var bar = ""
            if let total {
                let width = 30
                let filled = min(width, Int(Double(width) * Double(frames) / Double(total)))
                bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
                bar += "\(frames)/\(total)"
            } else {
                bar = "\(frames) frames"
            }
            let line = "\r\(label) \(bar) \(String(format: "%.1f", fps)) fps\(eta)\u{1B}[K"
            FileHandle.standardError.write(line.data(using: .utf8)!)
            drewBar = true
        } else {
            let of = total.map { "/\($0)" } ?? ""
            let line = "\(label): \(frames)\(of) frames, \(String(format: "%.1f", fps)) fps\(eta)\n"
            FileHandle.standardError.write(line.data(using: .utf8)!)
        }
    }

    /// Clears the bar so the summary line starts on a clean line.
    public func finish() {
        if drewBar { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                         : String(format: "%d:%02d", s / 60, s % 60)
    }
}
