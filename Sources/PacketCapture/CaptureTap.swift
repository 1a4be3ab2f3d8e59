// CaptureTap: one live capture inside a worker, without its I/O. The worker offers it the frames
// seen at a point (frames received on a switch port, frames sent out of one, frames a cable
// delivers one way); the tap keeps what its filter keeps, cut to its snaplen, as pcap records in a
// bounded buffer that the worker drains to the reader. A full buffer drops the frame (counted):
// a reader that falls behind loses frames, the data path never waits for it.
import Glibc

/// Where a capture listens: channels are switch ports or cable directions (0: a→b, 1: b→a).
public struct CapturePoint: Sendable, Equatable {
    public var channels: [Int]
    /// Frames arriving at the channel (what a switch port receives).
    public var received: Bool
    /// Frames leaving through it (what a switch port transmits, what a cable delivers).
    public var sent: Bool

    public init(channels: [Int], received: Bool, sent: Bool) {
        self.channels = channels
        self.received = received
        self.sent = sent
    }

    @inline(__always)
    public func matches(channel: Int, sent isSent: Bool) -> Bool {
        (isSent ? sent : received) && channels.contains(channel)
    }
}

/// A frame as up to three byte ranges (a switch sends a re-tagged frame as pieces of its receive
/// buffer and a few new bytes, without copying); lengths of unused pieces are 0.
public struct FramePieces {
    public var first: UnsafeRawPointer
    public var firstLength: Int
    public var second: UnsafeRawPointer?
    public var secondLength: Int
    public var third: UnsafeRawPointer?
    public var thirdLength: Int

    public init(_ first: UnsafeRawPointer, _ firstLength: Int, _ second: UnsafeRawPointer? = nil, _ secondLength: Int = 0,
                _ third: UnsafeRawPointer? = nil, _ thirdLength: Int = 0) {
        self.first = first
        self.firstLength = firstLength
        self.second = second
        self.secondLength = secondLength
        self.third = third
        self.thirdLength = thirdLength
    }

    public var length: Int { firstLength + secondLength + thirdLength }

    /// Copies the frame's first `count` bytes to `destination`.
    func copy(_ count: Int, to destination: UnsafeMutableRawPointer) {
        let one = min(count, firstLength)
        destination.copyMemory(from: first, byteCount: one)
        let two = min(count - one, secondLength)
        if two > 0, let second { (destination + one).copyMemory(from: second, byteCount: two) }
        let three = min(count - one - two, thirdLength)
        if three > 0, let third { (destination + one + two).copyMemory(from: third, byteCount: three) }
    }
}

public final class CaptureTap {
    /// What the tap has done so far.
    public struct Tally: Sendable, Equatable {
        /// Frames written to the stream, and their bytes as kept (after the snaplen).
        public var frames = 0
        public var bytes = 0
        /// Frames the filter kept that the buffer had no room for (the reader was behind).
        public var dropped = 0
        /// Frames the filter did not keep.
        public var filteredOut = 0

        public init(frames: Int = 0, bytes: Int = 0, dropped: Int = 0, filteredOut: Int = 0) {
            self.frames = frames
            self.bytes = bytes
            self.dropped = dropped
            self.filteredOut = filteredOut
        }
    }

    public static let defaultBufferBytes = 2 << 20

    public let point: CapturePoint
    public let filter: CaptureFilter?
    public let snaplen: Int
    /// The capture is over once this many frames are in the stream.
    public let count: Int?
    public private(set) var tally = Tally()

    private let buffer: UnsafeMutableRawPointer
    private let capacity: Int
    private var head = 0
    private var tail = 0
    /// Where a frame in pieces is put together for the filter.
    private var scratch: UnsafeMutableRawPointer?

    /// `filter` nil keeps every frame. The buffer starts with the pcap file header.
    public init(point: CapturePoint, filter: CaptureFilter?, snaplen: Int, count: Int?, bufferBytes: Int = CaptureTap.defaultBufferBytes) {
        self.point = point
        self.filter = filter
        self.snaplen = snaplen
        self.count = count
        capacity = max(bufferBytes, 24 + 16 + snaplen)
        buffer = .allocate(byteCount: capacity, alignment: 16)
        let header = PcapStream(snaplen: snaplen).header
        header.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        tail = header.count
    }

    deinit {
        buffer.deallocate()
        scratch?.deallocate()
    }

    /// Whether the capture has all the frames it asked for.
    public var isComplete: Bool { count.map { tally.frames >= $0 } ?? false }

    /// Takes `frame`, seen at `time` (wall clock), if the filter keeps it and the buffer has room.
    public func offer(_ frame: FramePieces, seconds: UInt32, microseconds: UInt32) {
        guard !isComplete else { return }
        if let filter, !keeps(frame, filter) {
            tally.filteredOut += 1
            return
        }
        let kept = min(frame.length, snaplen)
        guard reserve(16 + kept) else {
            tally.dropped += 1
            return
        }
        PcapStream.writeRecordHeader(to: buffer + tail, seconds: seconds, microseconds: microseconds, kept: kept, length: frame.length)
        frame.copy(kept, to: buffer + tail + 16)
        tail += 16 + kept
        tally.frames += 1
        tally.bytes += kept
    }

    private func keeps(_ frame: FramePieces, _ filter: CaptureFilter) -> Bool {
        if frame.secondLength == 0 && frame.thirdLength == 0 {
            return filter.keeps(UnsafeRawBufferPointer(start: frame.first, count: frame.firstLength))
        }
        let bytes = scratch ?? {
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: 65536 + 64, alignment: 16)
            scratch = bytes
            return bytes
        }()
        let length = min(frame.length, 65536 + 64)
        frame.copy(length, to: bytes)
        return filter.keeps(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    /// Room for `bytes` more at the tail, moving what is still unread to the front if that makes it.
    private func reserve(_ bytes: Int) -> Bool {
        if tail + bytes <= capacity { return true }
        guard tail - head + bytes <= capacity else { return false }
        buffer.copyMemory(from: buffer + head, byteCount: tail - head)
        tail -= head
        head = 0
        return true
    }

    /// Bytes of the stream not yet handed to the reader.
    public var pendingBytes: Int { tail - head }

    /// The unread bytes, for the worker to write; it then says how many went with `consume`.
    public var pending: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: buffer + head, count: tail - head) }

    public func consume(_ count: Int) {
        head += min(count, tail - head)
        if head == tail {
            head = 0
            tail = 0
        }
    }
}
