import Foundation

/// One 8-bit 4:2:0 picture in a single 64-byte-aligned allocation, the layout the GPU reads back into:
/// Y (stride S = width rounded up to 64, `height` rows), then U and V (stride S/2, (height+1)/2 rows each).
/// `byteCount` is a whole number of S-byte rows so a readback of full rows never overruns.
/// After `VideoWriter.write(_:pts:)` the buffer belongs to the writer; get the next one from `makeFrameBuffer()`.
public final class I420Buffer: @unchecked Sendable {
    public let width: Int
    public let height: Int
    public let data: UnsafeMutableRawPointer
    public let yStride: Int
    public let uvStride: Int
    public let uOffset: Int
    public let vOffset: Int
    /// S × ceil(planeBytes / S).
    public let byteCount: Int
    /// The pool it returns to when the encoder is done with it (weak: the writer may be gone by then).
    weak var pool: I420BufferPool?

    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "I420Buffer needs a positive size")
        self.width = width; self.height = height
        let s = (width + 63) & ~63
        yStride = s
        uvStride = s / 2
        let chromaRows = (height + 1) / 2
        uOffset = s * height
        vOffset = uOffset + uvStride * chromaRows
        let planeBytes = vOffset + uvStride * chromaRows
        byteCount = s * ((planeBytes + s - 1) / s)
        // 64 spare bytes: SIMD code in encoders may read a little past the last row.
        data = UnsafeMutableRawPointer.allocate(byteCount: byteCount + 64, alignment: 64)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount + 64)
    }

    deinit { data.deallocate() }

    public var y: UnsafeMutablePointer<UInt8> { data.assumingMemoryBound(to: UInt8.self) }
    public var u: UnsafeMutablePointer<UInt8> { (data + uOffset).assumingMemoryBound(to: UInt8.self) }
    public var v: UnsafeMutablePointer<UInt8> { (data + vOffset).assumingMemoryBound(to: UInt8.self) }
}

/// Recycles I420Buffers between the encoder (which releases them from its own threads) and the producer,
/// so steady-state encoding allocates nothing per frame.
final class I420BufferPool: @unchecked Sendable {
    let width: Int, height: Int
    private var free: [I420Buffer] = []
    private let lock = NSLock()
    /// Buffers kept for reuse; more than this in flight are simply freed when returned.
    private let maxKept = 16
    private(set) var allocated = 0

    init(width: Int, height: Int) { self.width = width; self.height = height }

    func take() -> I420Buffer {
        lock.lock()
        if let b = free.popLast() { lock.unlock(); return b }
        allocated += 1
        lock.unlock()
        let b = I420Buffer(width: width, height: height)
        b.pool = self
        return b
    }

    func give(_ b: I420Buffer) {
        lock.lock(); defer { lock.unlock() }
        if free.count < maxKept { free.append(b) }
    }
}
