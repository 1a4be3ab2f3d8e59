// OutputQueue: frames waiting for a slow peer's datagram socket, copied out of the receive slab.
// Bounded in frames; when full the caller drops and counts the frame. The ring holds malloc'ed
// copies, freed once sent; this is the slow path, only used while the peer's socket buffer is
// full. The switch keeps one per endpoint, a cable one per switch end.

public final class OutputQueue {
    public let capacity: Int
    private var frames: [(bytes: UnsafeMutableRawPointer, length: Int)?]
    private var head = 0
    public private(set) var count = 0

    public init(capacity: Int) {
        self.capacity = capacity
        frames = []
    }

    deinit { removeAll() }

    public var isEmpty: Bool { count == 0 }

    /// Copies message `index` of `batch`; false (nothing copied) when the queue is full.
    public func push(from batch: SendBatch, index: Int) -> Bool {
        push(length: batch.length(index)) { batch.copy(index, to: $0) }
    }

    /// Copies `frame`; false (nothing copied) when the queue is full.
    public func push(_ frame: UnsafeRawBufferPointer) -> Bool {
        push(length: frame.count) { $0.copyMemory(from: frame.baseAddress!, byteCount: frame.count) }
    }

    private func push(length: Int, copy: (UnsafeMutableRawPointer) -> Void) -> Bool {
        guard count < capacity else { return false }
        // Allocated on first use: a peer that keeps up costs no queue memory.
        if frames.isEmpty { frames = Array(repeating: nil, count: capacity) }
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(length, 1), alignment: 16)
        if length > 0 { copy(bytes) }
        frames[(head + count) % frames.count] = (bytes, length)
        count += 1
        return true
    }

    /// Appends up to `batch.capacity` queued frames to `batch`, oldest first.
    public func fill(_ batch: SendBatch) {
        var index = 0
        while index < count && !batch.isFull {
            let frame = frames[(head + index) % frames.count]!
            batch.append(frame.bytes, frame.length)
            index += 1
        }
    }

    /// Sends queued frames on `fd` through `batch`, oldest first, until the queue is empty or the
    /// socket is full; `sent` sees each batch and how many of its frames went. When the socket
    /// fails (the peer is gone) the queue is emptied and the error thrown.
    public func drain(to fd: Int32, through batch: SendBatch, sent: (SendBatch, Int) -> Void = { _, _ in }) throws {
        defer { batch.reset() }
        while !isEmpty {
            batch.reset()
            fill(batch)
            let count: Int
            do {
                guard case .done(let done) = try batch.send(to: fd) else { return }
                count = done
            } catch {
                removeAll()
                throw error
            }
            sent(batch, count)
            removeFirst(count)
            if count < batch.count { return }
        }
    }

    /// Frees the oldest `n` frames (they were sent).
    public func removeFirst(_ n: Int) {
        for _ in 0..<min(n, count) {
            frames[head]!.bytes.deallocate()
            frames[head] = nil
            head = (head + 1) % frames.count
            count -= 1
        }
        if count == 0 { head = 0 }
    }

    public func removeAll() { removeFirst(count) }
}
