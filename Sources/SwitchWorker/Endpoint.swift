// Endpoint: one plugged-in client. It owns the ctl stream (EOF = unplug) and the port's datagram
// socket, connected to the client's. Several endpoints may share a port (same user, same port
// number asked for); frames to the port go to each of them.
import Posix
import WorkerControl

final class Endpoint {
    let slot: Int
    let generation: UInt32
    let port: Int
    let control: Socket
    let data: Socket
    /// Our datagram socket's path inside the control directory (`DIR/NNN.F`).
    let socketPath: String
    let description: String
    /// Owner of the client's socket file: the identity vde_switch uses.
    let uid: UInt32
    /// From SO_PEERCRED on the ctl stream, when the kernel knows it.
    let pid: Int32?
    let connectedAt: String
    /// Frames gathered for this endpoint during the current receive batch.
    let pending: SendBatch
    /// Frames that did not fit in the client's socket buffer.
    let backlog: OutputQueue
    var isDirty = false
    var wantsWrite = false

    init(slot: Int, generation: UInt32, port: Int, control: Socket, data: Socket, socketPath: String, description: String,
         uid: UInt32, pid: Int32?, batchSize: Int, queueFrames: Int) {
        self.slot = slot
        self.generation = generation
        self.port = port
        self.control = control
        self.data = data
        self.socketPath = socketPath
        self.description = description
        self.uid = uid
        self.pid = pid
        connectedAt = Clock.rfc3339(Clock.wallSeconds())
        pending = SendBatch(capacity: batchSize)
        backlog = OutputQueue(capacity: queueFrames)
    }

    func token(_ kind: TokenKind) -> UInt64 { Token(kind, slot: slot, generation: generation).raw }
}

/// A ctl connection that has not finished its handshake yet.
final class Handshake {
    let slot: Int
    let generation: UInt32
    let socket: Socket
    var received: [UInt8] = []
    /// Monotonic ns after which it is given up.
    let deadline: UInt64

    init(slot: Int, generation: UInt32, socket: Socket, deadline: UInt64) {
        self.slot = slot
        self.generation = generation
        self.socket = socket
        self.deadline = deadline
    }
}
