import CFFmpeg
import Foundation

/// Versions of the FFmpeg libraries linked at run time (for `facefx info` and bug reports).
public enum MediaLibraryInfo {
    public static var versions: String {
        func v(_ n: UInt32) -> String { "\(n >> 16).\((n >> 8) & 0xff).\(n & 0xff)" }
        return "libavformat \(v(avformat_version())), libavcodec \(v(avcodec_version())), " +
            "libswscale \(v(swscale_version())), libavutil \(v(avutil_version())) (\(String(cString: av_version_info())))"
    }

    /// The options the loaded libavcodec was configured with (its `./configure` line): which codecs
    /// and external libraries this FFmpeg build has, whichever machine or tarball it came from.
    public static var configuration: String { String(cString: avcodec_configuration()) }
}

/// The shared libraries loaded into this process: `facefx info` shows where FFmpeg and EGL were
/// loaded from (the release tarball's lib/ or the system's folders).
public enum LoadedLibraries {
    /// The file of every shared library mapped into this process, as the kernel names it (links
    /// resolved: the file really loaded), sorted so the libraries of one folder stand together.
    public static func paths() -> [String] {
        // Read to the end: procfs files report size 0, so a read sized by stat would stop early.
        guard let data = try? FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps")).readToEnd() else { return [] }
        let maps = String(decoding: data, as: UTF8.self)
        var paths = Set<String>()
        for line in maps.split(separator: "\n") {
            // "address perms offset device inode path": no field before the path holds a "/".
            guard let slash = line.firstIndex(of: "/") else { continue }
            let path = String(line[slash...])
            let file = path.split(separator: "/").last ?? ""
            if file.hasSuffix(".so") || file.contains(".so.") { paths.insert(path) }
        }
        return paths.sorted()
    }
}
