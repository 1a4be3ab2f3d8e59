// ControlConnection: one client of the JSON control socket. Requests and replies are single lines;
// events are lines without an `id`. Output is buffered without blocking; a client that stops
// reading and lets more than `maxOutput` bytes pile up is disconnected rather than stall the switch.
import Posix

final class ControlConnection {
    static let maxLine = 1 << 20
    static let maxOutput = 8 << 20

    let slot: Int
    let generation: UInt32
    let socket: Socket
    var input: [UInt8] = []
    var output: [UInt8] = []
    var wantsWrite = false

    init(slot: Int, generation: UInt32, socket: Socket) {
        self.slot = slot
        self.generation = generation
        self.socket = socket
    }

    var token: UInt64 { Token(kind: .controlClient, slot: slot, generation: generation).raw }
}

/// An error reply: a stable `code` (the same vocabulary as the HTTP API) and a message for people.
public struct ControlError: Error, Equatable, Sendable {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}
