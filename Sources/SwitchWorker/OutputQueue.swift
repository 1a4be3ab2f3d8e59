// OutputQueue: frames waiting for a slow client, copied out of the receive slab. Bounded in
// frames; when full the caller drops and counts `queue_full`. The ring holds malloc'ed copies,
// freed once sent; this is the slow path, only used while the client's socket buffer is full.
import Posix

final class OutputQueue {
    let capacity: Int
    private var frames: [(bytes: UnsafeMutableRawPointer, length: Int)?]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        frames = []
    }

    deinit { removeAll() }

    var isEmpty: Bool { count == 0 }

    /// Copies message `index` of `batch`; false (nothing copied) when the queue is full.
    func push(from batch: SendBatch, index: Int) -> Bool {
        guard count < capacity else { return false }
        // Allocated on first use: a client that keeps up costs no queue memory.
        if frames.isEmpty { frames = Array(repeating: nil, count: capacity) }
        let length = batch.length(index)
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(length, 1), alignment: 16)
        batch.copy(index, to: bytes)
        frames[(head + count) % frames.count] = (bytes, length)
        count += 1
        return true
    }

    /// Appends up to `batch.capacity` queued frames to `batch`, oldest first.
    func fill(_ batch: SendBatch) {
        var index = 0
        while index < count && !batch.isFull {
            let frame = frames[(head + index) % frames.count]!
            batch.append(frame.bytes, frame.length)
            index += 1
        }
    }

    /// Frees the oldest `n` frames (they were sent).
    func removeFirst(_ n: Int) {
        for _ in 0..<min(n, count) {
            frames[head]!.bytes.deallocate()
            frames[head] = nil
            head = (head + 1) % frames.count
            count -= 1
        }
        if count == 0 { head = 0 }
    }

    func removeAll() { removeFirst(count) }
}
