// Plugging in and out (vde-wire.md §1.3–1.8, checklist §1.10): accept on `ctl`, read at least the
// 122-byte request (within 2 s), choose the port, connect our datagram socket to the client's
// BEFORE replying (vdeplug4 unlinks its socket right after), answer with 110 bytes. Any refusal
// closes the ctl stream. Afterwards ctl is silent; EOF on it, and only that, unplugs.
import Glibc
import JSON
import Posix
import SwitchEngine
import VDEWire
import WorkerControl

/// Why a connect request was refused (logged, and counted in `handshakes_refused`).
enum PlugRefusal: Error, CustomStringConvertible {
    case malformed(VDEConnectRequest.ParseError)
    case noFreePort
    case portOutOfRange(Int)
    case portBusy(Int, owner: UInt32, asker: UInt32)
    case clientSocket(String)
    case system(Errno)

    var description: String {
        switch self {
        case .malformed(let error): return "malformed request: \(error)"
        case .noFreePort: return "no free port"
        case .portOutOfRange(let port): return "port \(port) is out of range"
        case .portBusy(let port, let owner, let asker): return "port \(port) is in use by uid \(owner), not \(asker)"
        case .clientSocket(let path): return "the client socket \(path) does not exist"
        case .system(let error): return error.description
        }
    }
}

extension SwitchWorker {
    func acceptHandshakes() {
        while case .done(let socket)? = try? ctlListener.accept() {
            let deadline = Clock.monotonicNanoseconds() + SwitchWorker.handshakeTimeout
            let handshake = handshakes.insert { Handshake(slot: $0, generation: $1, socket: socket, deadline: deadline) }
            let token = Token(.handshake, slot: handshake.slot, generation: handshake.generation)
            if (try? epoll.add(socket.fd, events: .readable, token: token.raw)) == nil { closeHandshake(handshake) }
        }
    }

    func handshakeReadable(_ handshake: Handshake) {
        let result = try? handshake.socket.read(into: &handshake.received, maximum: 512)
        switch result {
        case .done(let count)? where count > 0:
            guard handshake.received.count >= VDEConnectRequest.headerSize else { return }
            complete(handshake)
        case .wouldBlock?:
            return
        default:
            stats.handshakesRefused += 1
            closeHandshake(handshake)
        }
    }

    func closeHandshake(_ handshake: Handshake) {
        epoll.remove(handshake.socket.fd)
        handshake.socket.close()
        handshakes.remove(handshake.slot)
    }

    private func complete(_ handshake: Handshake) {
        epoll.remove(handshake.socket.fd)
        handshakes.remove(handshake.slot)
        do {
            let request: VDEConnectRequest
            do {
                request = try VDEConnectRequest.decode(handshake.received)
            } catch {
                throw PlugRefusal.malformed(error)
            }
            try plug(request, control: handshake.socket)
            stats.handshakesAccepted += 1
        } catch {
            stats.handshakesRefused += 1
            if eventLimiter.allow(now: Clock.monotonicNanoseconds()) {
                log.warning("connection refused", [("reason", String(describing: error))])
            }
            handshake.socket.close()
        }
    }

    private func plug(_ request: VDEConnectRequest, control: Socket) throws {
        guard let owner = FileSystem.owner(request.socketPath) else { throw PlugRefusal.clientSocket(request.socketPath) }
        let uid = owner.uid
        let port: Int
        switch request.kind {
        case .port(0):
            guard let free = engine.freePort() else { throw PlugRefusal.noFreePort }
            port = free
        case .port(let asked):
            guard (1...engine.portCount).contains(asked) else { throw PlugRefusal.portOutOfRange(asked) }
            port = asked
        case .port0:
            port = 0
        }
        // A busy port is shared with the same user, refused to anyone else (§1.7).
        if let existing = portEndpoints[port].first.flatMap({ endpoints.get($0) }), existing.uid != uid {
            throw PlugRefusal.portBusy(port, owner: existing.uid, asker: uid)
        }
        let (data, socketPath): (Socket, String)
        do {
            (data, socketPath) = try controlDirectory.portSocket(port: port, clientPath: request.socketPath, clientUID: uid)
        } catch let error as Errno {
            throw PlugRefusal.system(error)
        }
        let reply = VDEConnectReply.encode(portSocketPath: socketPath)
        guard case .done(VDEConnectReply.size)? = try? control.sendNonBlocking(reply) else {
            unlink(socketPath)
            throw PlugRefusal.system(Errno(EAGAIN, call: "send reply"))
        }
        try? control.setNonBlocking()
        let peer = control.peerCredentials()
        let endpoint = endpoints.insert { slot, generation in
            Endpoint(slot: slot, generation: generation, port: port, control: control, data: data, socketPath: socketPath,
                     description: request.description, uid: uid, pid: peer?.pid, batchSize: SwitchWorker.batchSize,
                     queueFrames: options.queueFrames)
        }
        do {
            try epoll.add(data.fd, events: .readable, token: endpoint.token(.endpointData))
            try epoll.add(control.fd, events: [.readable, .readHangUp], token: endpoint.token(.endpointControl))
        } catch {
            epoll.remove(data.fd)
            endpoints.remove(endpoint.slot)
            unlink(socketPath)
            throw PlugRefusal.system(error as? Errno ?? Errno(EINVAL, call: "epoll_ctl"))
        }
        portEndpoints[port].append(endpoint.slot)
        let first = portEndpoints[port].count == 1
        // vsquare's cable ends say who they are: a link to another switch is never an edge port.
        if first {
            let cable = request.cableName
            engine.setActive(port, true, bridgeLink: cable != nil)
            if let cable, cablesWithoutCarrier.contains(cable) { engine.setCarrier(port, false) }
        }
        log.info("port up", [("port", String(port)), ("endpoint", String(endpoint.slot)), ("description", request.description)])
        self.control.emit(["event": "port.up", "port": JSON(port), "endpoint": endpointJSON(endpoint), "shared": JSON(!first)])
    }

    /// The client closed ctl (or sent something after the handshake, which we ignore).
    func controlStreamReadable(_ endpoint: Endpoint) {
        var scratch: [UInt8] = []
        switch try? endpoint.control.read(into: &scratch, maximum: 512) {
        case .done(let count)? where count > 0:
            return
        case .wouldBlock?:
            return
        default:
            unplug(endpoint, reason: "unplugged")
        }
    }

    /// Removes an endpoint: closes its sockets (the client sees EOF on ctl), unlinks its port socket,
    /// and deactivates the port (flushing its MACs) when it was the last one there.
    func unplug(_ endpoint: Endpoint, reason: String) {
        epoll.remove(endpoint.data.fd)
        epoll.remove(endpoint.control.fd)
        endpoint.data.close()
        endpoint.control.close()
        unlink(endpoint.socketPath)
        endpoint.backlog.removeAll()
        if endpoint.isDirty {
            endpoint.isDirty = false
            dirtyEndpoints.removeAll { $0 === endpoint }
        }
        portEndpoints[endpoint.port].removeAll { $0 == endpoint.slot }
        endpoints.remove(endpoint.slot)
        let last = portEndpoints[endpoint.port].isEmpty
        if last { engine.setActive(endpoint.port, false) }
        log.info("port down", [("port", String(endpoint.port)), ("endpoint", String(endpoint.slot)), ("reason", reason)])
        // Who it was, again: the audit log records an unplug with the client's uid, pid and description.
        control.emit(["event": "port.down", "port": JSON(endpoint.port), "endpoint": JSON(endpoint.slot), "reason": JSON(reason),
              "last": JSON(last), "uid": JSON(endpoint.uid), "pid": endpoint.pid.map { JSON($0) } ?? .null,
              "description": JSON(endpoint.description)])
    }

    /// Unplugs everything on `port`; returns how many endpoints.
    func kick(port: Int) -> Int {
        let slots = portEndpoints[port]
        for slot in slots {
            if let endpoint = endpoints.get(slot) { unplug(endpoint, reason: "kicked") }
        }
        return slots.count
    }

    func endpointJSON(_ endpoint: Endpoint) -> JSON {
        ["id": JSON(endpoint.slot), "description": JSON(endpoint.description), "uid": JSON(endpoint.uid),
         "pid": endpoint.pid.map { JSON($0) } ?? .null, "socket": JSON(endpoint.socketPath),
         "connected_at": JSON(endpoint.connectedAt), "queued_frames": JSON(endpoint.backlog.count)]
    }
}
