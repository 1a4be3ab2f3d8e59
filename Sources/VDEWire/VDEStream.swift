// The VDE stream framing (vde-wire.md §2): each frame as a 2-byte big-endian length and the frame,
// written in one piece. The decoder is a real state machine: headers and frames split across reads
// are reassembled, zero-length records are skipped, and a length over the limit is an error
// (a byte stream cannot be resynchronised reliably, so the caller closes it).

public enum VDEStream {
    /// vdeplug4's limit: VDE_ETHBUFSIZE (9234) + 2.
    public static let maxFrameSize = 9236

    /// Header and frame as one buffer, so one write carries both.
    public static func encode(_ frame: some Collection<UInt8>) -> [UInt8] {
        precondition(frame.count <= 0xFFFF)
        var bytes = [UInt8]()
        bytes.reserveCapacity(frame.count + 2)
        bytes.append(UInt8(frame.count >> 8))
        bytes.append(UInt8(frame.count & 0xFF))
        bytes += frame
        return bytes
    }
}

public struct VDEStreamDecoder: Sendable {
    public enum DecodeError: Error, Equatable, Sendable {
        case frameTooLarge(Int)
    }

    public let maxFrameSize: Int
    private var buffer: [UInt8] = []
    /// Records of length 0 seen and skipped.
    public private(set) var emptyRecords = 0

    public init(maxFrameSize: Int = VDEStream.maxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// Feeds bytes read from the stream and returns every frame they complete, in order.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(DecodeError) -> [[UInt8]] {
        buffer += bytes
        var frames: [[UInt8]] = []
        var offset = 0
        while buffer.count - offset >= 2 {
            let length = Int(buffer[offset]) << 8 | Int(buffer[offset + 1])
            if length > maxFrameSize { throw .frameTooLarge(length) }
            if length == 0 {
                emptyRecords += 1
                offset += 2
                continue
            }
            guard buffer.count - offset - 2 >= length else { break }
            frames.append(Array(buffer[(offset + 2)..<(offset + 2 + length)]))
            offset += 2 + length
        }
        buffer.removeFirst(offset)
        return frames
    }

    /// Bytes held waiting for the rest of a record.
    public var pendingByteCount: Int { buffer.count }
}
