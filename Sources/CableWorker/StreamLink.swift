// StreamLink: one TCP connection of a remote cable end and its handshake: plain links are up at
// once; encrypted ones swap salts, then check a sealed hello, then seal every frame. The end owns
// one active link, and (listening, encrypted) a candidate that must authenticate before it may
// replace the active one.
import Glibc
import Posix
import VDEWire

final class StreamLink {
    enum Phase: String {
        case connecting, awaitingSalt, awaitingHello, up
    }

    /// What a readiness event brought.
    enum Outcome {
        case frames([[UInt8]])
        /// The handshake just finished: the link is up (with any frames that came with it).
        case authenticated([[UInt8]])
        case failed(String, refused: Bool)
    }

    static let hello = Array("vsquare-cable hello".utf8)
    static let maxOutput = 4 << 20

    let socket: Socket
    let key: [UInt8]?
    let isConnector: Bool
    let peer: String?
    private(set) var phase: Phase
    private var decoder = VDEStreamDecoder(maxFrameSize: 65535)
    private var output: [UInt8] = []
    private var wantsWrite = false
    private var ownSalt: [UInt8] = []
    private var cipher: StreamCipher?
    private(set) var bytesIn: UInt64 = 0
    private(set) var bytesOut: UInt64 = 0
    private let epoll: Epoll
    private(set) var token: UInt64

    init(socket: Socket, key: [UInt8]?, isConnector: Bool, peer: String?, connecting: Bool, epoll: Epoll, token: UInt64) throws {
        self.socket = socket
        self.key = key
        self.isConnector = isConnector
        self.peer = peer
        self.epoll = epoll
        self.token = token
        phase = .connecting
        try epoll.add(socket.fd, events: connecting ? .writable : .readable, token: token)
        if !connecting { begin() }
    }

    var isUp: Bool { phase == .up }

    /// The same link under another epoll token (a candidate promoted to active).
    func retoken(_ token: UInt64) {
        self.token = token
        try? epoll.modify(socket.fd, events: wantsWrite ? [.readable, .writable] : .readable, token: token)
    }

    /// The connection exists: plain mode is up at once; encrypted mode sends its salt first.
    private func begin() {
        try? socket.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        // A peer that vanishes (path cut, host gone) is noticed within about 15 s, then reconnected.
        try? socket.setOption(SOL_SOCKET, SO_KEEPALIVE, 1)
        try? socket.setOption(Int32(IPPROTO_TCP), TCP_KEEPIDLE, 5)
        try? socket.setOption(Int32(IPPROTO_TCP), TCP_KEEPINTVL, 2)
        try? socket.setOption(Int32(IPPROTO_TCP), TCP_KEEPCNT, 3)
        try? socket.setOption(Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, 15_000)
        // From now on the peer's records are read (a connecting socket was only watched for writability).
        try? epoll.modify(socket.fd, events: .readable, token: token)
        if key == nil {
            phase = .up
        } else {
            phase = .awaitingSalt
            ownSalt = StreamCipher.randomSalt()
            write(record: ownSalt)
        }
    }

    func handle(events: Epoll.Events) -> Outcome {
        var justUp = false
        if phase == .connecting {
            guard events.contains(.writable) || events.contains(.error) || events.contains(.hangUp) else { return .frames([]) }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(socket.fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { return .failed("connect failed: \(String(cString: strerror(error)))", refused: false) }
            begin()
            justUp = phase == .up
        }
        if events.contains(.writable) { flush() }
        guard events.contains(.readable) || events.contains(.hangUp) || events.contains(.error) else {
            return justUp ? .authenticated([]) : .frames([])
        }
        var bytes: [UInt8] = []
        switch try? socket.read(into: &bytes, maximum: 65536) {
        case .done(let count)? where count > 0:
            bytesIn += UInt64(count)
        case .wouldBlock?:
            return justUp ? .authenticated([]) : .frames([])
        default:
            return .failed("the peer closed the connection", refused: false)
        }
        let records: [[UInt8]]
        do {
            records = try decoder.feed(bytes)
        } catch {
            return .failed("the stream is corrupt (a record longer than 65535 bytes)", refused: false)
        }
        var frames: [[UInt8]] = []
        for record in records {
            switch phase {
            case .awaitingSalt:
                guard record.count == StreamCipher.saltSize, let key else {
                    return .failed("the peer did not start the encrypted handshake", refused: true)
                }
                cipher = StreamCipher(presharedKey: key, connectorSalt: isConnector ? ownSalt : record,
                                      listenerSalt: isConnector ? record : ownSalt, connector: isConnector)
                write(record: cipher!.seal(StreamLink.hello))
                phase = .awaitingHello
            case .awaitingHello:
                guard (try? cipher?.open(record)) == StreamLink.hello else {
                    return .failed("authentication failed: the peer's key differs", refused: true)
                }
                phase = .up
                justUp = true
            case .up:
                if key == nil {
                    frames.append(record)
                } else if let frame = try? cipher?.open(record) {
                    frames.append(frame)
                } else {
                    return .failed("authentication failed on a frame", refused: true)
                }
            case .connecting:
                break
            }
        }
        return justUp ? .authenticated(frames) : .frames(frames)
    }

    /// Queues one frame (sealed in encrypted mode); false if the link is not up or its queue is full.
    func send(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard phase == .up else { return false }
        let record = cipher != nil ? cipher!.seal(Array(frame)) : Array(frame)
        guard record.count <= 0xFFFF, output.count + record.count <= StreamLink.maxOutput else { return false }
        write(record: record)
        return true
    }

    private func write(record: [UInt8]) {
        output += VDEStream.encode(record)
        flush()
    }

    private func flush() {
        if !output.isEmpty {
            let sent = (try? socket.writeSome(output[...])) ?? 0
            bytesOut += UInt64(sent)
            output.removeFirst(sent)
        }
        guard phase != .connecting else { return }
        let wanted = !output.isEmpty
        guard wanted != wantsWrite else { return }
        wantsWrite = wanted
        try? epoll.modify(socket.fd, events: wanted ? [.readable, .writable] : .readable, token: token)
    }

    func close() {
        epoll.remove(socket.fd)
        socket.close()
    }
}
