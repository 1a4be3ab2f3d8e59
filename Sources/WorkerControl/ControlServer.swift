// ControlServer: a worker's JSON control socket. One JSON object per line: requests carry `id` and
// `op`, replies echo the `id` with `ok`, events are lines without an `id`. Reads once per readiness
// event (epoll is level-triggered, so a chatty client cannot starve the data path), writes without
// blocking, and drops a client that lets more than `maxOutput` bytes pile up. Garbage gets an error
// reply; nothing a client sends can stop the worker.
import Glibc
import JSON
import Log
import Posix

public final class ControlServer<Context: AnyObject> {
    public static var maxLine: Int { 1 << 20 }
    public static var maxOutput: Int { 8 << 20 }

    final class Connection {
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
    }

    public let path: String
    private let listener: Socket
    private let epoll: Epoll
    private let clientKind: UInt8
    private let log: Log
    private let registry: [String: ControlOp<Context>]
    public let ops: [ControlOp<Context>]
    private var clients = SlotTable<Connection>()
    /// Requests answered with an error (malformed, unknown, refused).
    public private(set) var errors: UInt64 = 0

    /// Binds `path` (a stale socket there is replaced, a live one refused) and registers it with
    /// `epoll` under `Token(kind: listenerKind)`; clients get `clientKind` tokens.
    public init(path: String, mode: UInt32 = 0o600, epoll: Epoll, listenerKind: UInt8, clientKind: UInt8,
                ops: [ControlOp<Context>], log: Log) throws {
        if FileSystem.exists(path) {
            if let probe = try? Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue)), (try? probe.connect(.unix(path: path))) != nil {
                throw ControlError("address_in_use", "another worker already answers on \(path)")
            }
            unlink(path)
        }
        listener = try Socket.listenUnix(path)
        chmod(path, mode_t(mode))
        self.path = path
        self.epoll = epoll
        self.clientKind = clientKind
        self.log = log
        self.ops = ops
        registry = Dictionary(uniqueKeysWithValues: ops.map { ($0.name, $0) })
        try epoll.add(listener.fd, events: .readable, token: Token(kind: listenerKind).raw)
    }

    public var clientCount: Int { clients.count }

    public func acceptClients() {
        while case .done(let socket)? = try? listener.accept() {
            let client = clients.insert { Connection(slot: $0, generation: $1, socket: socket) }
            if (try? epoll.add(socket.fd, events: .readable, token: token(client))) == nil { close(client) }
        }
    }

    /// Handles readiness of the client in `token`; `context` runs the ops.
    public func clientReady(_ token: Token, _ events: Epoll.Events, context: Context) {
        guard let client = clients.get(token.slot, generation: token.generation) else { return }
        if events.contains(.writable) { flush(client) }
        guard events.contains(.readable) || events.contains(.hangUp) || events.contains(.error) else { return }
        switch try? client.socket.read(into: &client.input, maximum: 65536) {
        case .done(let count)? where count > 0:
            processLines(client, context)
        case .wouldBlock?:
            return
        default:
            close(client)
        }
    }

    /// Sends an event line to every client.
    public func emit(_ event: JSON) {
        let line = event.serialized() + [0x0A]
        for client in clients.all {
            client.output += line
            flush(client)
        }
    }

    /// Flushes what it can and closes every connection and the listener, removing the socket file.
    public func shutdown() {
        for client in clients.all {
            flush(client)
            close(client)
        }
        epoll.remove(listener.fd)
        listener.close()
        unlink(path)
    }

    /// Runs one request line (also used in-process by tests).
    public func handle(_ line: ArraySlice<UInt8>, context: Context) -> JSON {
        let request: JSON
        do {
            request = try JSON.parse(line)
        } catch {
            errors += 1
            return errorReply(id: .null, ControlError("malformed_json", "\(error.message) at line \(error.line), column \(error.column)"))
        }
        let id = request["id"] ?? .null
        do {
            var reader = try JSONReader(request)
            _ = reader.value("id")
            let name = try reader.string("op")
            guard let op = registry[name] else { throw ControlError("unknown_op", "unknown op \(name); `help` lists the ops") }
            var result = try op.handler(context, &reader)
            try reader.finish()
            result["id"] = nil
            var reply = JSONObject([("id", id), ("ok", true)])
            for (key, value) in result { reply[key] = value }
            return .object(reply)
        } catch let error as ControlError {
            errors += 1
            return errorReply(id: id, error)
        } catch let error as JSONFieldError {
            errors += 1
            return errorReply(id: id, ControlError("invalid_field", error.description))
        } catch let error as any ControlCodedError {
            errors += 1
            return errorReply(id: id, ControlError(error.code, error.description))
        } catch {
            errors += 1
            return errorReply(id: id, ControlError("internal", String(describing: error)))
        }
    }

    /// The `help` op's reply, for workers to register.
    public func helpReply() -> JSONObject {
        ["ops": JSON(ops.map { ["op": JSON($0.name), "params": JSON($0.parameters), "summary": JSON($0.summary)] })]
    }

    private func processLines(_ client: Connection, _ context: Context) {
        var start = 0
        while let newline = client.input[start...].firstIndex(of: 0x0A) {
            let line = client.input[start..<newline]
            start = newline + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            reply(client, handle(line, context: context))
            if client.socket.fd < 0 { return }
        }
        client.input.removeFirst(start)
        if client.input.count > ControlServer.maxLine {
            errors += 1
            reply(client, errorReply(id: .null, ControlError("invalid_request", "line longer than \(ControlServer.maxLine) bytes")))
            flush(client)
            close(client)
        }
    }

    private func errorReply(id: JSON, _ error: ControlError) -> JSON {
        ["id": id, "ok": false, "error": ["code": JSON(error.code), "message": JSON(error.message)]]
    }

    private func reply(_ client: Connection, _ value: JSON) {
        client.output += value.serialized()
        client.output.append(0x0A)
        flush(client)
    }

    private func token(_ client: Connection) -> UInt64 { Token(kind: clientKind, slot: client.slot, generation: client.generation).raw }

    private func flush(_ client: Connection) {
        guard client.socket.fd >= 0 else { return }
        if !client.output.isEmpty {
            let sent = (try? client.socket.writeSome(client.output[...])) ?? 0
            client.output.removeFirst(sent)
        }
        if client.output.count > ControlServer.maxOutput {
            log.warning("control client not reading; disconnected", [("client", String(client.slot))])
            close(client)
            return
        }
        let wanted = !client.output.isEmpty
        if wanted != client.wantsWrite {
            client.wantsWrite = wanted
            try? epoll.modify(client.socket.fd, events: wanted ? [.readable, .writable] : .readable, token: token(client))
        }
    }

    private func close(_ client: Connection) {
        guard client.socket.fd >= 0 else { return }
        epoll.remove(client.socket.fd)
        client.socket.close()
        clients.remove(client.slot)
    }
}
