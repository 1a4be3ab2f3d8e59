// TCPStreamEnd: a cable end that is a remote peer over TCP, framed like vde_plug's stream (2-byte
// big-endian length, vde-wire.md §2). Plain mode carries raw frames, so the peer can be a vde_plug
// stream; encrypted mode first swaps salts, then checks a sealed hello (a wrong key ends the
// connection there, counted and logged), then seals every frame (StreamCipher). The connecting side
// retries with backoff; the listening side takes the newest connection.
import Glibc
import JSON
import Posix
import VDEWire

final class TCPStreamEnd: CableEnd {
    enum Mode {
        case listen(SocketAddress)
        case connect(SocketAddress)
    }

    private enum Phase: String {
        case idle, connecting, awaitingSalt, awaitingHello, up
    }

    static let hello = Array("vsquare-cable hello".utf8)
    static let maxOutput = 4 << 20

    let side: String
    let mode: Mode
    /// The pre-shared key; nil for plain mode.
    let key: [UInt8]?
    let context: EndContext
    private var listener: Socket?
    private var stream: Socket?
    private var phase = Phase.idle
    private var isConnector = false
    private var decoder = VDEStreamDecoder(maxFrameSize: 65535)
    private var output: [UInt8] = []
    private var wantsWrite = false
    private var ownSalt: [UInt8] = []
    private var cipher: StreamCipher?
    private(set) var retryAt: UInt64? = 0
    private var backoff: UInt64 = 100_000_000
    private var peer: String?
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

    var isUp: Bool { phase == .up }

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
            guard stream == nil else { return }
            do {
                let socket = try Socket(family: address.isIPv6 ? AF_INET6 : AF_INET, type: Int32(SOCK_STREAM.rawValue))
                try socket.setNonBlocking()
                do {
                    try socket.connect(address)
                } catch let error as Errno where error.code == EINPROGRESS {
                }
                try context.epoll.add(socket.fd, events: .writable, token: context.token(.endData))
                stream = socket
                phase = .connecting
                isConnector = true
                peer = address.description
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
        for frame in receive(kind: kind, events: events, now: now) { frame.withUnsafeBytes(deliver) }
    }

    /// The frames a readiness event brought (records are decoded into arrays anyway).
    private func receive(kind: EndTokenKind, events: Epoll.Events, now: UInt64) -> [[UInt8]] {
        if kind == .endListen {
            acceptPeers()
            return []
        }
        guard let stream else { return [] }
        if phase == .connecting {
            guard events.contains(.writable) || events.contains(.error) || events.contains(.hangUp) else { return [] }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(stream.fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                fail(now, reason: "connect failed: \(String(cString: strerror(error)))")
                return []
            }
            begin()
        }
        if events.contains(.writable) { flush() }
        guard events.contains(.readable) || events.contains(.hangUp) || events.contains(.error) else { return [] }
        var bytes: [UInt8] = []
        switch try? stream.read(into: &bytes, maximum: 65536) {
        case .done(let count)? where count > 0:
            bytesIn += UInt64(count)
        case .wouldBlock?:
            return []
        default:
            fail(now, reason: "the peer closed the connection")
            return []
        }
        let records: [[UInt8]]
        do {
            records = try decoder.feed(bytes)
        } catch {
            fail(now, reason: "the stream is corrupt (a record longer than 65535 bytes)")
            return []
        }
        var frames: [[UInt8]] = []
        for record in records {
            switch phase {
            case .awaitingSalt:
                guard record.count == StreamCipher.saltSize, let key else {
                    refuse(now, "the peer did not start the encrypted handshake")
                    return frames
                }
                cipher = StreamCipher(presharedKey: key, connectorSalt: isConnector ? ownSalt : record,
                                      listenerSalt: isConnector ? record : ownSalt, connector: isConnector)
                write(record: cipher!.seal(TCPStreamEnd.hello))
                phase = .awaitingHello
            case .awaitingHello:
                guard (try? cipher?.open(record)) == TCPStreamEnd.hello else {
                    refuse(now, "authentication failed: the peer's key differs")
                    return frames
                }
                up()
            case .up:
                if key == nil {
                    frames.append(record)
                } else if let frame = try? cipher?.open(record) {
                    frames.append(frame)
                } else {
                    refuse(now, "authentication failed on a frame")
                    return frames
                }
            case .idle, .connecting:
                break
            }
        }
        return frames
    }

    private func acceptPeers() {
        guard let listener else { return }
        while case .done(let socket)? = try? listener.accept() {
            if stream != nil { close() }
            stream = socket
            isConnector = false
            peer = (try? socket.peerAddress())?.description
            if (try? context.epoll.add(socket.fd, events: .readable, token: context.token(.endData))) == nil {
                close()
                continue
            }
            begin()
        }
    }

    /// The connection exists: plain mode is up at once; encrypted mode sends its salt first.
    private func begin() {
        guard let stream else { return }
        connections += 1
        decoder = VDEStreamDecoder(maxFrameSize: 65535)
        output = []
        try? stream.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        // A peer that vanishes (path cut, host gone) is noticed within about 15 s, then reconnected.
        try? stream.setOption(SOL_SOCKET, SO_KEEPALIVE, 1)
        try? stream.setOption(Int32(IPPROTO_TCP), TCP_KEEPIDLE, 5)
        try? stream.setOption(Int32(IPPROTO_TCP), TCP_KEEPINTVL, 2)
        try? stream.setOption(Int32(IPPROTO_TCP), TCP_KEEPCNT, 3)
        try? stream.setOption(Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, 15_000)
        // From now on the peer's records are read (a connecting socket was only watched for writability).
        phase = key == nil ? .up : .awaitingSalt
        wantsWrite = false
        try? context.epoll.modify(stream.fd, events: .readable, token: context.token(.endData))
        if key == nil {
            up()
        } else {
            ownSalt = StreamCipher.randomSalt()
            cipher = nil
            write(record: ownSalt)
        }
    }

    private func up() {
        phase = .up
        backoff = 100_000_000
        context.emit(["event": "end.up", "side": JSON(side), "peer": JSON(peer), "encrypted": JSON(key != nil)])
    }

    private func refuse(_ now: UInt64, _ reason: String) {
        authFailures += 1
        context.emit(["event": "end.refused", "side": JSON(side), "peer": JSON(peer), "reason": JSON(reason)])
        fail(now, reason: reason)
    }

    private func fail(_ now: UInt64, reason: String) {
        let wasUp = phase == .up
        close()
        if wasUp { context.emit(["event": "end.down", "side": JSON(side), "reason": JSON(reason)]) }
        if case .connect = mode { retry(now) }
    }

    private func close() {
        if let stream {
            context.epoll.remove(stream.fd)
            stream.close()
        }
        stream = nil
        phase = .idle
        cipher = nil
        output = []
        wantsWrite = false
    }

    func send(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard phase == .up else { return false }
        let record = cipher.map { _ in cipher!.seal(Array(frame)) } ?? Array(frame)
        guard record.count <= 0xFFFF, output.count + record.count <= TCPStreamEnd.maxOutput else { return false }
        write(record: record)
        return true
    }

    private func write(record: [UInt8]) {
        output += VDEStream.encode(record)
        flush()
    }

    private func flush() {
        guard let stream, !output.isEmpty else {
            updateInterest()
            return
        }
        let sent = (try? stream.writeSome(output[...])) ?? 0
        bytesOut += UInt64(sent)
        output.removeFirst(sent)
        updateInterest()
    }

    private func updateInterest() {
        guard let stream, phase != .connecting else { return }
        let wanted = !output.isEmpty
        guard wanted != wantsWrite else { return }
        wantsWrite = wanted
        try? context.epoll.modify(stream.fd, events: wanted ? [.readable, .writable] : .readable, token: context.token(.endData))
    }

    func stop() {
        close()
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
                "encrypted": JSON(key != nil), "state": JSON(phase == .up ? "connected" : stream == nil && retryAt == nil ? "listening" : phase == .idle ? "down" : "connecting"),
                "peer": JSON(peer), "bytes_in": JSON(bytesIn), "bytes_out": JSON(bytesOut),
                "auth_failures": JSON(authFailures), "connections": JSON(connections)]
    }
}
