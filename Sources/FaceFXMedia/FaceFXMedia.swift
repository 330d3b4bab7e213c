import CFFmpeg
public enum FaceFXMediaVersion { public static var avformat: String { String(cString: avformat_configuration()) } }
