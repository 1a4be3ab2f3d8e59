// SendRing: the messages of many SendBatches, to many sockets, sent in one io_uring_enter.
//
// Why: sendmmsg offers to reschedule after every datagram, and a client woken by the first frame of
// a batch preempts the sender there, reads that one frame and sleeps again: a flood to four clients
// on one CPU became a context switch per frame. Queued on a ring, a whole round of batches leaves
// in one call, and each client wakes once to a full queue. Every send is MSG_DONTWAIT, so the call
// returns with each one done (sent, or EAGAIN at once) and the caller may reuse its buffers.
import CLinux
import Glibc

public final class SendRing {
    /// Sends queued before `submit` must be called.
    public let capacity: Int
    private let ring: UnsafeMutablePointer<CLinux_uring>

    /// A ring of `capacity` sends, or `Errno` when this kernel (or a seccomp policy) has no io_uring.
    public init(capacity: Int) throws(Errno) {
        ring = .allocate(capacity: 1)
        ring.initialize(to: CLinux_uring())
        let result = CLinux_uring_open(ring, UInt32(capacity))
        guard result == 0 else {
            ring.deallocate()
            throw Errno(-result, call: "io_uring_setup")
        }
        self.capacity = Int(ring.pointee.entries)
    }

    deinit {
        CLinux_uring_close(ring)
        ring.deallocate()
    }

    public var isFull: Bool { Int(ring.pointee.queued) == capacity }

    /// Queues message `index` of `batch` for the connected socket `fd`; `submit` reports it as `token`.
    @inline(__always)
    public func queue(_ batch: SendBatch, _ index: Int, fd: Int32, token: UInt64) {
        let queued = CLinux_uring_queue_send(ring, fd, batch.message(index), token)
        precondition(queued == 0, "SendRing.queue on a full ring")
    }

    /// Sends everything queued and calls `completed(token, result)` for each: bytes sent or -errno.
    public func submit(_ completed: (UInt64, Int32) -> Void) throws(Errno) {
        let submitted = CLinux_uring_submit(ring)
        if submitted < 0 { throw Errno(-submitted, call: "io_uring_enter") }
        var token: UInt64 = 0
        var result: Int32 = 0
        while CLinux_uring_reap(ring, &token, &result) == 1 { completed(token, result) }
    }
}
