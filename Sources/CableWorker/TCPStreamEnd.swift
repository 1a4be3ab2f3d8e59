// TCPStreamEnd: a cable end that is a remote peer over TCP, framed like vde_plug's stream (2-byte
// big-endian length, vde-wire.md §2), one StreamLink at a time. Plain mode carries raw frames, so
// the peer can be a vde_plug stream; encrypted mode authenticates each link first (a wrong key ends
// it there, counted and logged). The connecting side retries with backoff. The listening side takes
// the newest connection; in encrypted mode a newcomer replaces an up link only once it has proved
// the key, so a stranger cannot disrupt the cable.
import Glibc
import JSON
import Posix
import VDEWire

final class TCPStreamEnd: CableEnd {
    enum Mode {
        case listen(SocketAddress)
        case connect(SocketAddress)
    }

    let side: String
    let mode: Mode
    /// The pre-shared key; nil for plain mode.
    let key: [UInt8]?
    let context: EndContext
    private var listener: Socket?
    private var link: StreamLink?
    /// A newcomer still in its handshake while `link` is up (listening, encrypted).
    private var candidate: StreamLink?
    private(set) var retryAt: UInt64? = 0
    private var backoff: UInt64 = 100_000_000
    private var bytesIn: UInt64 = 0
    private var bytesOut: UInt64 = 0
    private var authFailures: UInt64 = 0
    private var connections = 0

    init(side: String, mode: Mode, key: [UInt8]?, context: EndContext) {
        self.side = side
        self.mode = mode
        self.key = key
        self.context = context
    }

    func start(now: UInt64) {
        retryAt = nil
        switch mode {
        case .listen(let address):
            guard listener == nil else { return }
            do {
                let socket = try Socket.listenTCP(address, backlog: 4)
                try socket.setNonBlocking()
                try context.epoll.add(socket.fd, events: .readable, token: context.token(.endListen))
                listener = socket
            } catch {
                retry(now)
            }
        case .connect(let address):
            guard link == nil else { return }
            do {
                let socket = try Socket(family: address.isIPv6 ? AF_INET6 : AF_INET, type: Int32(SOCK_STREAM.rawValue))
                try socket.setNonBlocking()
                do {
                    try socket.connect(address)
                } catch let error as Errno where error.code == EINPROGRESS {
                }
                link = try StreamLink(socket: socket, key: key, isConnector: true, peer: address.description, connecting: true,
                                      epoll: context.epoll, token: context.token(.endData))
                connections += 1
            } catch {
                retry(now)
            }
        }
    }

    private func retry(_ now: UInt64) {
        retryAt = now + backoff
        backoff = min(backoff * 2, 5_000_000_000)
        context.emit(["event": "end.reconnecting", "side": JSON(side), "retry_ms": JSON(Int((retryAt! - now) / 1_000_000))])
    }

    func handle(kind: EndTokenKind, events: Epoll.Events, now: UInt64, deliver: (UnsafeRawBufferPointer) -> Void) {
        switch kind {
        case .endListen:
            acceptPeers(now)
        case .endCandidate:
            guard let candidate else { return }
            switch candidate.handle(events: events) {
            case .frames:
                break
            case .authenticated(let frames):
                // Proven: it replaces the link it came to replace.
                self.candidate = nil
                retire(link)
                candidate.retoken(context.token(.endData))
                link = candidate
                up(candidate)
                for frame in frames { frame.withUnsafeBytes(deliver) }
            case .failed(let reason, _):
                // Waiting aside, it never proved the key: whatever ended it (a wrong key, garbage, a close) is a refusal.
                self.candidate = nil
                retire(candidate)
                refuse(candidate, reason)
            }
        default:
            guard let link else { return }
            switch link.handle(events: events) {
            case .frames(let frames):
                for frame in frames { frame.withUnsafeBytes(deliver) }
            case .authenticated(let frames):
                up(link)
                for frame in frames { frame.withUnsafeBytes(deliver) }
            case .failed(let reason, let refused):
                if refused { refuse(link, reason) }
                fail(now, reason: reason)
            }
        }
    }

    private func acceptPeers(_ now: UInt64) {
        guard let listener else { return }
        while case .done(let socket)? = try? listener.accept() {
            let peer = (try? socket.peerAddress())?.description
            // Encrypted and up: the newcomer waits aside until it proves the key.
            let aside = key != nil && link?.isUp == true
            let token = context.token(aside ? .endCandidate : .endData)
            if aside {
                // One newcomer waits at a time: one displaced before proving the key is refused, and counted.
                if let waiting = candidate { refuse(waiting, "a newer connection came before this one proved the key") }
                retire(candidate)
                candidate = nil
            } else if link != nil {
                close()
            }
            guard let accepted = try? StreamLink(socket: socket, key: key, isConnector: false, peer: peer, connecting: false,
                                                 epoll: context.epoll, token: token) else { continue }
            connections += 1
            if aside {
                candidate = accepted
            } else {
                link = accepted
                if accepted.isUp { up(accepted) }
            }
        }
    }

    private func up(_ link: StreamLink) {
        backoff = 100_000_000
        context.emit(["event": "end.up", "side": JSON(side), "peer": JSON(link.peer), "encrypted": JSON(key != nil)])
    }

    private func refuse(_ link: StreamLink, _ reason: String) {
        authFailures += 1
        context.emit(["event": "end.refused", "side": JSON(side), "peer": JSON(link.peer), "reason": JSON(reason)])
    }

    private func fail(_ now: UInt64, reason: String) {
        let wasUp = link?.isUp == true
        close()
        if wasUp { context.emit(["event": "end.down", "side": JSON(side), "reason": JSON(reason)]) }
        if case .connect = mode { retry(now) }
    }

    /// Closes a link, keeping its byte counts in the end's totals.
    private func retire(_ link: StreamLink?) {
        guard let link else { return }
        bytesIn += link.bytesIn
        bytesOut += link.bytesOut
        link.close()
    }

    private func close() {
        retire(link)
        link = nil
    }

    var isUp: Bool { link?.isUp == true }

    func send(_ frame: UnsafeRawBufferPointer) -> Bool { link?.send(frame) ?? false }

    func stop() {
        close()
        retire(candidate)
        candidate = nil
        if let listener {
            context.epoll.remove(listener.fd)
            listener.close()
        }
        listener = nil
    }

    var status: JSONObject {
        var modeText: String
        var address: String
        switch mode {
        case .listen(let a): modeText = "listen"; address = a.description
        case .connect(let a): modeText = "connect"; address = a.description
        }
        return ["side": JSON(side), "kind": "remote", "mode": JSON(modeText), "address": JSON(address),
                "encrypted": JSON(key != nil),
                "state": JSON(isUp ? "connected" : link == nil && retryAt == nil ? "listening" : link == nil ? "down" : "connecting"),
                "peer": JSON(link?.peer), "bytes_in": JSON(bytesIn + (link?.bytesIn ?? 0)), "bytes_out": JSON(bytesOut + (link?.bytesOut ?? 0)),
                "auth_failures": JSON(authFailures), "connections": JSON(connections)]
    }
}
