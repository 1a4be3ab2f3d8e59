// SocketAddress: IPv4, IPv6 and unix addresses, parsed from the texts users write
// ("127.0.0.1:8420", "[::1]:8420", "/run/x.sock") and turned back into text.
import Glibc

public enum SocketAddress: Equatable, Sendable, CustomStringConvertible {
    case ipv4(host: String, port: UInt16)
    case ipv6(host: String, port: UInt16)
    case unix(path: String)

    /// Parses `HOST:PORT` where HOST is a dotted IPv4 address, `localhost` or a bracketed IPv6 address.
    public init?(hostPort text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()),
                  SocketAddress.parse6(host) != nil else { return nil }
            self = .ipv6(host: host, port: port)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = String(text[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        guard SocketAddress.parse4(host) != nil else { return nil }
        self = .ipv4(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .ipv4(let host, let port): return "\(host):\(port)"
        case .ipv6(let host, let port): return "[\(host)]:\(port)"
        case .unix(let path): return path
        }
    }

    public var port: UInt16? {
        switch self {
        case .ipv4(_, let port), .ipv6(_, let port): return port
        case .unix: return nil
        }
    }

    /// Whether the address only reaches this machine (127.0.0.0/8, ::1 or a unix path).
    public var isLoopback: Bool {
        switch self {
        case .ipv4(let host, _): return host.hasPrefix("127.")
        case .ipv6(let host, _): return host == "::1"
        case .unix: return true
        }
    }

    public func withPort(_ port: UInt16) -> SocketAddress {
        switch self {
        case .ipv4(let host, _): return .ipv4(host: host, port: port)
        case .ipv6(let host, _): return .ipv6(host: host, port: port)
        case .unix: return self
        }
    }

    var family: Int32 {
        switch self {
        case .ipv4: return AF_INET
        case .ipv6: return AF_INET6
        case .unix: return AF_UNIX
        }
    }

    /// The longest path a unix socket address holds (sun_path is 108 bytes, NUL included).
    public static let maxUnixPathLength = 107

    public static func parse4(_ host: String) -> in_addr? {
        var addr = in_addr()
        return inet_pton(AF_INET, host, &addr) == 1 ? addr : nil
    }

    public static func parse6(_ host: String) -> in6_addr? {
        var addr = in6_addr()
        return inet_pton(AF_INET6, host, &addr) == 1 ? addr : nil
    }

    /// Calls `body` with this address as a `sockaddr` and its length.
    @discardableResult
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) throws -> R {
        var storage = sockaddr_storage()
        let length: socklen_t
        switch self {
        case .ipv4(let host, let port):
            guard let addr = SocketAddress.parse4(host) else { throw Errno(EINVAL, call: "inet_pton") }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { raw in
                let sin = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                sin.pointee.sin_family = sa_family_t(AF_INET)
                sin.pointee.sin_port = port.bigEndian
                sin.pointee.sin_addr = addr
            }
        case .ipv6(let host, let port):
            guard let addr = SocketAddress.parse6(host) else { throw Errno(EINVAL, call: "inet_pton") }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &storage) { raw in
                let sin6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                sin6.pointee.sin6_family = sa_family_t(AF_INET6)
                sin6.pointee.sin6_port = port.bigEndian
                sin6.pointee.sin6_addr = addr
            }
        case .unix(let path):
            let bytes = Array(path.utf8)
            guard bytes.count <= SocketAddress.maxUnixPathLength else { throw Errno(ENAMETOOLONG, call: "sockaddr_un") }
            length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
            withUnsafeMutableBytes(of: &storage) { raw in
                let sun = raw.baseAddress!.assumingMemoryBound(to: sockaddr_un.self)
                sun.pointee.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &sun.pointee.sun_path) { pathBytes in
                    pathBytes.copyBytes(from: bytes)
                    pathBytes[bytes.count] = 0
                }
            }
        }
        return try withUnsafePointer(to: &storage) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }

    /// Decodes a `sockaddr_storage` filled by the kernel.
    init?(storage: sockaddr_storage) {
        var copy = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let sin = withUnsafeBytes(of: &copy) { $0.load(as: sockaddr_in.self) }
            var addr = sin.sin_addr
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil else { return nil }
            self = .ipv4(host: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                         port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: &copy) { $0.load(as: sockaddr_in6.self) }
            var addr = sin6.sin6_addr
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count)) != nil else { return nil }
            self = .ipv6(host: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                         port: UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }
}

extension SocketAddress {
    public var isIPv6: Bool {
        if case .ipv6 = self { return true }
        return false
    }
}
