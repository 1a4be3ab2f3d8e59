// VDEClient: a vde:// client that behaves like vdeplug4's libvdeplug_vde (vde-wire.md §1.5):
// a datagram socket bound in the control directory, the v3 request on `ctl`, the 110-byte reply,
// connect, unlink. Used by tests, cables and benchmarks; blocking, one frame per datagram.
import Glibc
import Posix
import Synchronization

public final class VDEClient: @unchecked Sendable {
    public enum ConnectError: Error, Equatable, CustomStringConvertible {
        /// The switch closed the ctl stream instead of replying (refused).
        case refused
        case badReply
        case system(Errno)

        public var description: String {
            switch self {
            case .refused: return "the switch refused the connection"
            case .badReply: return "the switch sent a malformed reply"
            case .system(let errno): return errno.description
            }
        }
    }

    /// The ctl stream; closing it unplugs.
    public let control: Socket
    /// The connected datagram socket that carries frames.
    public let data: Socket
    /// The switch's port socket this client is connected to (e.g. `DIR/003.7`).
    public let portSocketPath: String

    private static let sequence = Atomic<Int>(0)

    /// Plugs into the switch whose control directory is `directory`.
    /// - Parameters:
    ///   - kind: `.port(0)` for any free port, `.port(n)` for port n, `.port0` for the management port.
    public init(directory: String, kind: VDERequestKind = .port(0), description: String = "vsquare-client") throws(ConnectError) {
        do {
            control = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
            try control.connect(.unix(path: directory + "/ctl"))
            data = try Socket(family: AF_UNIX, type: Int32(SOCK_DGRAM.rawValue))
            var ownPath = ""
            while true {
                let seq = VDEClient.sequence.wrappingAdd(1, ordering: .relaxed).oldValue
                ownPath = directory + "/." + pad(Int(getpid()), 5) + "-" + pad(seq, 5)
                do {
                    try data.bind(.unix(path: ownPath))
                    break
                } catch let error as Errno where error.code == EADDRINUSE {
                    continue
                }
            }
            defer { unlink(ownPath) }
            try control.sendAll(VDEConnectRequest(kind: kind, socketPath: ownPath, description: description).encoded())
            try control.setTimeout(seconds: 10)
            var reply: [UInt8] = []
            while reply.count < VDEConnectReply.size {
                let chunk = try control.receive(maximum: VDEConnectReply.size - reply.count)
                if chunk.isEmpty { throw ConnectError.refused }
                reply += chunk
            }
            guard let path = VDEConnectReply.decode(reply) else { throw ConnectError.badReply }
            portSocketPath = path
            try data.connect(.unix(path: path))
            try data.setOption(SOL_SOCKET, SO_SNDBUF, 1 << 20)
        } catch let error as ConnectError {
            throw error
        } catch let error as Errno {
            throw .system(error)
        } catch {
            throw .badReply
        }
    }

    /// Sends one frame (blocking, like libvdeplug).
    public func send(_ frame: [UInt8]) throws {
        _ = try frame.withUnsafeBytes { raw in
            try syscall("send") { Glibc.send(data.fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// The next frame, or nil if none arrives within `timeoutSeconds`.
    public func receive(timeoutSeconds: Double = 2) throws -> [UInt8]? {
        guard try data.waitReadable(timeoutSeconds: timeoutSeconds) else { return nil }
        return try data.receive(maximum: 65536)
    }

    /// Every frame that arrives until none has come for `quietSeconds`.
    public func drain(quietSeconds: Double = 0.3) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        while let frame = try receive(timeoutSeconds: quietSeconds) { frames.append(frame) }
        return frames
    }

    /// Whether the switch has closed our ctl stream (kicked us or exited).
    public func isUnplugged(timeoutSeconds: Double = 0) throws -> Bool {
        guard try control.waitReadable(timeoutSeconds: timeoutSeconds) else { return false }
        return try control.receive(maximum: 1).isEmpty
    }

    /// Unplugs: closes both sockets.
    public func close() {
        control.close()
        data.close()
    }
}

private func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value % 100_000)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}
