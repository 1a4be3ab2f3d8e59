// Batched datagram I/O with buffers allocated once and reused: ReceiveBatch drains up to `count`
// datagrams per recvmmsg into a slab of fixed-size slots; SendBatch gathers up to `capacity`
// messages of one to three iovecs each (so a frame can be sent with a tag inserted or removed
// without copying) and hands them to sendmmsg or a SendRing, keeping each message's outcome.
import CLinux
import Glibc

public final class ReceiveBatch {
    public let count: Int
    /// Bytes per slot; a longer datagram is reported with its real length but only this much is kept.
    public let slotSize: Int
    private let slab: UnsafeMutableRawPointer
    private let headers: UnsafeMutablePointer<CLinux_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    /// Each datagram's sender, when asked for (UDP); nil for connected sockets.
    private let senders: UnsafeMutablePointer<sockaddr_storage>?

    public init(count: Int, slotSize: Int, keepingSenders: Bool = false) {
        self.count = count
        self.slotSize = slotSize
        slab = .allocate(byteCount: count * slotSize, alignment: 64)
        headers = .allocate(capacity: count)
        vectors = .allocate(capacity: count)
        senders = keepingSenders ? .allocate(capacity: count) : nil
        for index in 0..<count {
            vectors[index] = iovec(iov_base: slab + index * slotSize, iov_len: slotSize)
            headers[index] = CLinux_mmsghdr()
            headers[index].msg_hdr.msg_iov = vectors + index
            headers[index].msg_hdr.msg_iovlen = 1
            if let senders { headers[index].msg_hdr.msg_name = UnsafeMutableRawPointer(senders + index) }
        }
    }

    deinit {
        slab.deallocate()
        headers.deallocate()
        vectors.deallocate()
        senders?.deallocate()
    }

    /// Receives what is queued on `fd`, without blocking; `.done(n)` means slots 0..<n are filled.
    public func receive(from fd: Int32) throws -> IOResult<Int> {
        // The kernel shortens each name length to the address it wrote: give the room back.
        if senders != nil {
            for index in 0..<count { headers[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size) }
        }
        return try nonBlockingSyscall("recvmmsg") {
            CLinux_recvmmsg(fd, headers, UInt32(count), Int32(MSG_DONTWAIT) | CLinux_MSG_TRUNC)
        }.map(Int.init)
    }

    /// The real length of datagram `index` (larger than `slotSize` when it was truncated).
    @inline(__always)
    public func length(_ index: Int) -> Int {
        let length = Int(headers[index].msg_len)
        if headers[index].msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0 { return max(length, slotSize + 1) }
        return length
    }

    /// Who sent datagram `index` (with `keepingSenders`).
    public func sender(_ index: Int) -> InternetAddress? {
        guard let senders else { return nil }
        return InternetAddress(storage: UnsafeRawPointer(senders + index))
    }

    /// The slot that holds datagram `index`.
    @inline(__always)
    public func slot(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: slab + index * slotSize, count: slotSize)
    }
}

public final class SendBatch {
    public let capacity: Int
    public private(set) var count = 0
    private let headers: UnsafeMutablePointer<CLinux_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    /// Four bytes per message for the caller to fill (e.g. an 802.1Q tag) and point an iovec at.
    private let scratchBytes: UnsafeMutableRawPointer
    /// Each message's outcome: bytes sent, or -errno (-EAGAIN until a send says otherwise).
    private let results: UnsafeMutablePointer<Int32>

    public init(capacity: Int) {
        self.capacity = capacity
        headers = .allocate(capacity: capacity)
        vectors = .allocate(capacity: capacity * 3)
        scratchBytes = .allocate(byteCount: capacity * 4, alignment: 4)
        results = .allocate(capacity: capacity)
        for index in 0..<capacity {
            headers[index] = CLinux_mmsghdr()
            headers[index].msg_hdr.msg_iov = vectors + index * 3
        }
    }

    deinit {
        headers.deallocate()
        vectors.deallocate()
        scratchBytes.deallocate()
        results.deallocate()
    }

    public var isFull: Bool { count == capacity }
    public var isEmpty: Bool { count == 0 }

    /// The scratch bytes of the next message to be appended.
    @inline(__always)
    public var nextScratch: UnsafeMutableRawPointer { scratchBytes + count * 4 }

    /// Appends a message made of the given parts (zero-length parts are left out).
    @inline(__always)
    public func append(_ a: UnsafeRawPointer, _ aLength: Int, _ b: UnsafeRawPointer? = nil, _ bLength: Int = 0,
                       _ c: UnsafeRawPointer? = nil, _ cLength: Int = 0) {
        precondition(count < capacity)
        let base = vectors + count * 3
        var parts = 0
        base[parts] = iovec(iov_base: UnsafeMutableRawPointer(mutating: a), iov_len: aLength)
        parts += 1
        if let b, bLength > 0 {
            base[parts] = iovec(iov_base: UnsafeMutableRawPointer(mutating: b), iov_len: bLength)
            parts += 1
        }
        if let c, cLength > 0 {
            base[parts] = iovec(iov_base: UnsafeMutableRawPointer(mutating: c), iov_len: cLength)
            parts += 1
        }
        headers[count].msg_hdr.msg_iovlen = parts
        results[count] = -EAGAIN
        count += 1
    }

    /// Total bytes of message `index`.
    public func length(_ index: Int) -> Int {
        let base = headers[index].msg_hdr.msg_iov!
        return (0..<headers[index].msg_hdr.msg_iovlen).reduce(0) { $0 + base[$1].iov_len }
    }

    /// Copies message `index` into `destination` (which must hold `length(index)` bytes).
    public func copy(_ index: Int, to destination: UnsafeMutableRawPointer) {
        let base = headers[index].msg_hdr.msg_iov!
        var offset = 0
        for part in 0..<headers[index].msg_hdr.msg_iovlen {
            destination.advanced(by: offset).copyMemory(from: base[part].iov_base!, byteCount: base[part].iov_len)
            offset += base[part].iov_len
        }
    }

    /// Sends messages `from..<count` on `fd` without blocking; `.done(n)` is how many went.
    public func send(to fd: Int32, from start: Int = 0) throws -> IOResult<Int> {
        guard start < count else { return .done(0) }
        return try nonBlockingSyscall("sendmmsg") {
            CLinux_sendmmsg(fd, headers + start, UInt32(count - start), Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        }.map(Int.init)
    }

    /// Sends every message on `fd` with one sendmmsg and records each outcome (see `result`).
    public func sendRecordingResults(to fd: Int32) {
        do {
            if case .done(let sent) = try send(to: fd) {
                for index in 0..<sent { results[index] = Int32(truncatingIfNeeded: length(index)) }
            }
        } catch let error as Errno {
            for index in 0..<count { results[index] = -error.code }
        } catch {
            preconditionFailure("sendmmsg threw \(error)")
        }
    }

    /// How message `index` fared: bytes sent, or -errno (-EAGAIN: not sent yet, try again later).
    @inline(__always)
    public func result(_ index: Int) -> Int32 { results[index] }

    @inline(__always)
    public func setResult(_ index: Int, _ result: Int32) { results[index] = result }

    /// Message `index` as the kernel reads it.
    @inline(__always)
    public func message(_ index: Int) -> UnsafePointer<msghdr> {
        UnsafeRawPointer(headers + index).assumingMemoryBound(to: msghdr.self)
    }

    public func reset() { count = 0 }
}

extension IOResult {
    public func map<U>(_ transform: (T) -> U) -> IOResult<U> {
        switch self {
        case .done(let value): return .done(transform(value))
        case .wouldBlock: return .wouldBlock
        }
    }
}
