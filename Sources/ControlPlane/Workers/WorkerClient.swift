// WorkerClient: one request to a worker's JSON control socket (vsquare-switch, later cables):
// connect, write one line, read lines until the reply with our id (events are skipped), close.
// A short timeout keeps an API request from hanging on a stuck worker.
import JSON
import Posix
import Glibc

public enum WorkerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The socket is missing, refused the connection, or did not answer in time.
    case unavailable(String)
    /// The worker answered `ok: false`.
    case rejected(code: String, message: String)

    public var description: String {
        switch self {
        case .unavailable(let reason): return reason
        case .rejected(let code, let message): return "\(code): \(message)"
        }
    }
}

public struct WorkerClient: Sendable {
    public let socketPath: String
    public var timeoutSeconds: Double

    public init(socketPath: String, timeoutSeconds: Double = 3) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    /// Sends `op` with `parameters`; returns the reply object, or throws `WorkerError`.
    @discardableResult
    public func call(_ op: String, _ parameters: JSONObject = [:]) throws(WorkerError) -> JSON {
        var request: JSONObject = ["id": 1, "op": JSON(op)]
        for (key, value) in parameters { request[key] = value }
        let reply: JSON
        do {
            let socket = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
            try socket.connect(.unix(path: socketPath))
            try socket.setTimeout(seconds: timeoutSeconds)
            try socket.sendAll(JSON.object(request).serialized() + [0x0A])
            reply = try WorkerClient.readReply(socket)
        } catch let error as WorkerError {
            throw error
        } catch {
            throw .unavailable(String(describing: error))
        }
        if reply["ok"] != true {
            throw .rejected(code: reply["error"]?["code"]?.stringValue ?? "internal",
                            message: reply["error"]?["message"]?.stringValue ?? "the worker refused")
        }
        return reply
    }

    static func readReply(_ socket: Socket) throws -> JSON {
        var buffer: [UInt8] = []
        while true {
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = try JSON.parse(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                if line["id"] != nil { return line }
            }
            let chunk = try socket.receive()
            if chunk.isEmpty { throw WorkerError.unavailable("the worker closed the connection") }
            buffer += chunk
        }
    }
}
