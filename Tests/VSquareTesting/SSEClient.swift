// SSEClient: reads Server-Sent Events from a live vsquared over a raw socket, so a test can see
// ids, types and data exactly as a browser's EventSource would.
import JSON
import Posix

public struct SSEEvent: Sendable {
    public let id: String?
    public let type: String
    public let data: JSON
}

public final class SSEClient: @unchecked Sendable {
    private let socket: Socket
    private var buffer: [UInt8] = []

    public init(address: SocketAddress, lastEventID: String? = nil, token: String? = nil) throws {
        socket = try Socket.connectTCP(address)
        try socket.setTimeout(seconds: 10)
        // HTTP/1.0: the body comes raw, without chunked framing, and ends when the stream does.
        var headers = "GET /v1/events HTTP/1.0\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
        if let lastEventID { headers += "Last-Event-ID: \(lastEventID)\r\n" }
        if let token { headers += "Authorization: Bearer \(token)\r\n" }
        try socket.sendAll(Array((headers + "\r\n").utf8))
        // Skip the response head.
        while HTTPTestClient.find([13, 10, 13, 10], in: buffer) == nil {
            let chunk = try socket.receive()
            if chunk.isEmpty { throw HTTPTestError.malformedResponse("the event stream closed") }
            buffer += chunk
        }
        let head = HTTPTestClient.find([13, 10, 13, 10], in: buffer)!
        // "HTTP/1.0 200 OK": the status is the second word.
        status = Int(String(decoding: buffer[..<head], as: UTF8.self).split(separator: " ").dropFirst().first ?? "") ?? 0
        buffer.removeFirst(head + 4)
    }

    /// The response's status (200 for a stream; a refused one's body is its problem).
    public private(set) var status = 0

    public func close() { socket.close() }

    /// The server ended the stream.
    public private(set) var ended = false

    /// The next event, or nil if none arrives within `timeoutSeconds`.
    public func next(timeoutSeconds: Double = 5) throws -> SSEEvent? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while true {
            if let event = takeEvent() { return event }
            let left = Double(Int64(deadline) - Int64(Clock.monotonicNanoseconds())) / 1e9
            guard left > 0, try socket.waitReadable(timeoutSeconds: left) else { return nil }
            let chunk = try socket.receive()
            if chunk.isEmpty {
                ended = true
                return nil
            }
            buffer += chunk
        }
    }

    /// Waits for an event of `type` (others are skipped).
    public func next(_ type: String, timeoutSeconds: Double = 5) throws -> SSEEvent? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while true {
            // Signed: the deadline may pass between the check and the subtraction.
            let left = Double(Int64(deadline) - Int64(Clock.monotonicNanoseconds())) / 1e9
            guard left > 0, let event = try next(timeoutSeconds: left) else { return nil }
            if event.type == type { return event }
        }
    }

    private func takeEvent() -> SSEEvent? {
        // Events end with a blank line; comment-only blocks (keep-alives) carry no data and are skipped.
        guard let end = HTTPTestClient.find([10, 10], in: buffer) else { return nil }
        let block = String(decoding: buffer[..<end], as: UTF8.self)
        buffer.removeFirst(end + 2)
        var id: String?
        var type = "message"
        var data = ""
        for line in block.split(separator: "\n").map({ $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }) {
            if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
            else if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
            else if line.hasPrefix("data: ") { data += String(line.dropFirst(6)) }
        }
        if data.isEmpty { return takeEvent() }
        return SSEEvent(id: id, type: type, data: (try? JSON.parse(data)) ?? .string(data))
    }
}
