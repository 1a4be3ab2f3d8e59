// HTTPTestClient: a deliberately raw HTTP/1.1 client over a real TCP socket, so tests can send
// exactly what they mean, malformed requests and half-sent bodies included.
import JSON
import Posix

public struct HTTPTestResponse: Sendable {
    public let status: Int
    /// Header names lower-cased.
    public let headers: [(String, String)]
    public let body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.0 == name.lowercased() }?.1
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func json() throws -> JSON { try JSON.parse(body) }
}

public enum HTTPTestError: Error {
    case malformedResponse(String)
}

public struct HTTPTestClient: Sendable {
    public let address: SocketAddress

    public init(address: SocketAddress) { self.address = address }

    /// One request on a fresh connection (`Connection: close`), the whole response read back.
    public func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                        timeoutSeconds: Double = 10) throws -> HTTPTestResponse {
        let socket = try Socket.connectTCP(address)
        try socket.setTimeout(seconds: timeoutSeconds)
        try socket.sendAll(HTTPTestClient.encode(method, path, headers: headers, body: body))
        return try HTTPTestClient.readResponse(socket)
    }

    public func get(_ path: String, headers: [(String, String)] = []) throws -> HTTPTestResponse {
        try request("GET", path, headers: headers)
    }

    /// A JSON body with the JSON content type.
    public func send(_ method: String, _ path: String, json: JSON, headers: [(String, String)] = []) throws -> HTTPTestResponse {
        try request(method, path, headers: [("Content-Type", "application/json")] + headers, body: json.serialized())
    }

    public static func encode(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body, !headers.contains(where: { $0.0.lowercased() == "content-length" || $0.0.lowercased() == "transfer-encoding" }) {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + (body ?? [])
    }

    /// Reads one response: the head, then a body by Content-Length, chunks, or until close.
    public static func readResponse(_ socket: Socket) throws -> HTTPTestResponse {
        var buffer: [UInt8] = []
        var headEnd: Int?
        while headEnd == nil {
            let chunk = try socket.receive()
            guard !chunk.isEmpty else { throw HTTPTestError.malformedResponse("connection closed before the response head") }
            buffer += chunk
            headEnd = find([13, 10, 13, 10], in: buffer)
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw HTTPTestError.malformedResponse("bad status line \(statusLine)")
        }
        let headers: [(String, String)] = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), String(line[line.index(after: colon)...].drop(while: { $0 == " " })))
        }
        var body = Array(buffer[(headEnd! + 4)...])
        if let length = headers.first(where: { $0.0 == "content-length" }).flatMap({ Int($0.1) }) {
            while body.count < length {
                let chunk = try socket.receive()
                if chunk.isEmpty { break }
                body += chunk
            }
        } else {
            while true {
                let chunk = try socket.receive()
                if chunk.isEmpty { break }
                body += chunk
            }
            if headers.contains(where: { $0.0 == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
                body = try dechunk(body)
            }
        }
        return HTTPTestResponse(status: status, headers: headers, body: body)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    static func dechunk(_ raw: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < raw.count {
            guard let lineEnd = find([13, 10], in: Array(raw[index...])) else { break }
            let sizeText = String(decoding: raw[index..<(index + lineEnd)], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText, radix: 16) else { throw HTTPTestError.malformedResponse("bad chunk size") }
            index += lineEnd + 2
            if size == 0 { break }
            out += raw[index..<min(raw.count, index + size)]
            index += size + 2
        }
        return out
    }
}
