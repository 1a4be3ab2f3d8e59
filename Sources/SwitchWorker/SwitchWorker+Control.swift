// The control socket's transport: accept, read lines, answer each through the op registry
// (ControlOps), write without blocking, and broadcast events to every connected client.
// Garbage gets an error reply; nothing a client sends can stop the switch.
import JSON
import Posix
import SwitchEngine

extension SwitchWorker {
    func acceptControlClients() {
        while case .done(let socket)? = try? controlListener.accept() {
            let client = controlClients.insert { ControlConnection(slot: $0, generation: $1, socket: socket) }
            if (try? epoll.add(socket.fd, events: .readable, token: client.token)) == nil { closeControl(client) }
        }
    }

    /// One read per readiness event: epoll is level-triggered, so a client that keeps sending is
    /// served again next turn instead of starving every other descriptor.
    func controlReadable(_ client: ControlConnection) {
        switch try? client.socket.read(into: &client.input, maximum: 65536) {
        case .done(let count)? where count > 0:
            processLines(client)
        case .wouldBlock?:
            return
        default:
            closeControl(client)
        }
    }

    private func processLines(_ client: ControlConnection) {
        var start = 0
        while let newline = client.input[start...].firstIndex(of: 0x0A) {
            let line = client.input[start..<newline]
            start = newline + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            reply(to: client, handle(line))
            if client.socket.fd < 0 || !running { break }
        }
        client.input.removeFirst(start)
        if client.input.count > ControlConnection.maxLine {
            stats.controlErrors += 1
            reply(to: client, errorReply(id: .null, ControlError("invalid_request", "line longer than \(ControlConnection.maxLine) bytes")))
            flushControl(client)
            closeControl(client)
        }
    }

    /// Parses one request line and runs its op.
    func handle(_ line: ArraySlice<UInt8>) -> JSON {
        let request: JSON
        do {
            request = try JSON.parse(line)
        } catch {
            stats.controlErrors += 1
            return errorReply(id: .null, ControlError("malformed_json", "\(error.message) at line \(error.line), column \(error.column)"))
        }
        let id = request["id"] ?? .null
        do {
            var reader = try JSONReader(request)
            _ = reader.value("id")
            let name = try reader.string("op")
            guard let op = ControlOps.registry[name] else {
                throw ControlError("unknown_op", "unknown op \(name); `help` lists the ops")
            }
            var result = try op.handler(self, &reader)
            try reader.finish()
            result["id"] = nil
            var reply = JSONObject([("id", id), ("ok", true)])
            for (key, value) in result { reply[key] = value }
            return .object(reply)
        } catch let error as ControlError {
            stats.controlErrors += 1
            return errorReply(id: id, error)
        } catch let error as JSONFieldError {
            stats.controlErrors += 1
            return errorReply(id: id, ControlError("invalid_field", error.description))
        } catch let error as SwitchEngineError {
            stats.controlErrors += 1
            return errorReply(id: id, ControlError(error.code, error.description))
        } catch {
            stats.controlErrors += 1
            return errorReply(id: id, ControlError("internal", String(describing: error)))
        }
    }

    private func errorReply(id: JSON, _ error: ControlError) -> JSON {
        ["id": id, "ok": false, "error": ["code": JSON(error.code), "message": JSON(error.message)]]
    }

    private func reply(to client: ControlConnection, _ value: JSON) {
        client.output += value.serialized()
        client.output.append(0x0A)
        flushControl(client)
    }

    /// Sends an event line to every control client.
    func emit(_ event: JSON) {
        let line = event.serialized() + [0x0A]
        for client in controlClients.all {
            client.output += line
            flushControl(client)
        }
    }

    func flushControl(_ client: ControlConnection) {
        guard client.socket.fd >= 0 else { return }
        if !client.output.isEmpty {
            let sent = (try? client.socket.writeSome(client.output[...])) ?? 0
            client.output.removeFirst(sent)
        }
        if client.output.count > ControlConnection.maxOutput {
            log.warning("control client not reading; disconnected", [("client", String(client.slot))])
            closeControl(client)
            return
        }
        let wanted = !client.output.isEmpty
        if wanted != client.wantsWrite {
            client.wantsWrite = wanted
            try? epoll.modify(client.socket.fd, events: wanted ? [.readable, .writable] : .readable, token: client.token)
        }
    }

    func closeControl(_ client: ControlConnection) {
        guard client.socket.fd >= 0 else { return }
        epoll.remove(client.socket.fd)
        client.socket.close()
        controlClients.remove(client.slot)
    }
}
