// UDPSocket: a nonblocking UDP socket for tunnels (VXLAN): bound to a port, optionally a member of
// a multicast group on one interface, sending a header and a frame as one datagram without copying
// them together (receiving is ReceiveBatch's, keeping senders). Peers are InternetAddress values
// (the kernel's bytes, hashable) so the hot path formats no text.
import CLinux
import Glibc

/// An IPv4 or IPv6 address and port as the kernel gives them: the address's 16 bytes (IPv4 in the
/// first 4) held in two words, so reading one per received datagram allocates nothing.
public struct InternetAddress: Hashable, Sendable, CustomStringConvertible {
    public let isIPv6: Bool
    public private(set) var port: UInt16
    /// The address bytes in network order, as they lie in memory.
    private var words: (first: UInt64, second: UInt64) = (0, 0)

    public init?(_ address: SocketAddress) {
        switch address {
        case .ipv4(let host, let port):
            guard var addr = SocketAddress.parse4(host) else { return nil }
            self.init(isIPv6: false, port: port, address: &addr)
        case .ipv6(let host, let port):
            guard var addr = SocketAddress.parse6(host) else { return nil }
            self.init(isIPv6: true, port: port, address: &addr)
        case .unix:
            return nil
        }
    }

    /// A numeric IPv4 or IPv6 host and a port.
    public init?(host: String, port: UInt16) {
        self.init(host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port))
    }

    init?(storage: UnsafeRawPointer) {
        switch Int32(storage.load(as: sockaddr.self).sa_family) {
        case AF_INET:
            let sin = storage.load(as: sockaddr_in.self)
            var addr = sin.sin_addr
            self.init(isIPv6: false, port: UInt16(bigEndian: sin.sin_port), address: &addr)
        case AF_INET6:
            let sin6 = storage.load(as: sockaddr_in6.self)
            var addr = sin6.sin6_addr
            self.init(isIPv6: true, port: UInt16(bigEndian: sin6.sin6_port), address: &addr)
        default:
            return nil
        }
    }

    /// `address` is an in_addr or in6_addr.
    private init<Address>(isIPv6: Bool, port: UInt16, address: inout Address) {
        self.isIPv6 = isIPv6
        self.port = port
        withUnsafeBytes(of: &address) { source in
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: source.prefix(16))) }
        }
    }

    public static func == (lhs: InternetAddress, rhs: InternetAddress) -> Bool { lhs.sameHost(as: rhs) && lhs.port == rhs.port }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(isIPv6)
        hasher.combine(port)
        hasher.combine(words.first)
        hasher.combine(words.second)
    }

    /// The same address, whatever the ports.
    public func sameHost(as other: InternetAddress) -> Bool {
        isIPv6 == other.isIPv6 && words.first == other.words.first && words.second == other.words.second
    }

    /// The same host at another port.
    public func withPort(_ port: UInt16) -> InternetAddress {
        var moved = self
        moved.port = port
        return moved
    }

    /// Whether this is an IPv4 or IPv6 multicast group (the first byte: ff, or 1110xxxx).
    public var isMulticast: Bool {
        let first = withUnsafeBytes(of: words) { $0[0] }
        return isIPv6 ? first == 0xFF : first & 0xF0 == 0xE0
    }

    /// Copies the address bytes (4 or 16) to `destination`, an in_addr or in6_addr.
    func copyAddress(to destination: UnsafeMutableRawBufferPointer) {
        withUnsafeBytes(of: words) { destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(isIPv6 ? 16 : 4))) }
    }

    /// The address without its port.
    public var host: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        withUnsafeBytes(of: words) { _ = inet_ntop(isIPv6 ? AF_INET6 : AF_INET, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var socketAddress: SocketAddress { isIPv6 ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port) }

    public var description: String { socketAddress.description }

    /// Fills `storage` as a sockaddr and returns its length.
    func write(to storage: UnsafeMutableRawPointer) -> socklen_t {
        if isIPv6 {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { copyAddress(to: $0) }
            storage.storeBytes(of: sin6, as: sockaddr_in6.self)
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        withUnsafeMutableBytes(of: &sin.sin_addr) { copyAddress(to: $0) }
        storage.storeBytes(of: sin, as: sockaddr_in.self)
        return socklen_t(MemoryLayout<sockaddr_in>.size)
    }
}

public final class UDPSocket {
    public let socket: Socket
    public let isIPv6: Bool
    /// Scratch space for the peer address of a send.
    private let name = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<sockaddr_storage>.size, alignment: 16)

    public var fd: Int32 { socket.fd }

    /// A nonblocking socket bound to `address` (a wildcard host binds every address), whose
    /// datagrams are never fragmented: a send longer than the path fails with EMSGSIZE instead.
    public init(bind address: SocketAddress) throws {
        isIPv6 = address.isIPv6
        socket = try Socket(family: isIPv6 ? AF_INET6 : AF_INET, type: Int32(SOCK_DGRAM.rawValue))
        if isIPv6 {
            try socket.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1)
            try socket.setOption(Int32(IPPROTO_IPV6), IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)
        } else {
            try socket.setOption(Int32(IPPROTO_IP), IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        }
        try socket.bind(address)
        try socket.setNonBlocking()
    }

    deinit { name.deallocate() }

    public func close() { socket.close() }

    /// Joins multicast `group` on interface `interfaceIndex`, sends to groups there with `ttl`, and
    /// does not hear its own datagrams.
    public func join(group: InternetAddress, interfaceIndex: UInt32, ttl: Int32) throws {
        if isIPv6 {
            var request = ipv6_mreq()
            withUnsafeMutableBytes(of: &request.ipv6mr_multiaddr) { group.copyAddress(to: $0) }
            request.ipv6mr_interface = interfaceIndex
            try withUnsafeBytes(of: &request) { try setOption(Int32(IPPROTO_IPV6), IPV6_ADD_MEMBERSHIP, $0) }
            var index = Int32(bitPattern: interfaceIndex)
            try withUnsafeBytes(of: &index) { try setOption(Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, $0) }
            try socket.setOption(Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, ttl)
            try socket.setOption(Int32(IPPROTO_IPV6), IPV6_MULTICAST_LOOP, 0)
        } else {
            var request = ip_mreqn()
            withUnsafeMutableBytes(of: &request.imr_multiaddr) { group.copyAddress(to: $0) }
            request.imr_ifindex = Int32(bitPattern: interfaceIndex)
            try withUnsafeBytes(of: &request) { try setOption(Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, $0) }
            var outgoing = ip_mreqn()
            outgoing.imr_ifindex = Int32(bitPattern: interfaceIndex)
            try withUnsafeBytes(of: &outgoing) { try setOption(Int32(IPPROTO_IP), IP_MULTICAST_IF, $0) }
            try socket.setOption(Int32(IPPROTO_IP), IP_MULTICAST_TTL, ttl)
            try socket.setOption(Int32(IPPROTO_IP), IP_MULTICAST_LOOP, 0)
        }
    }

    private func setOption(_ level: Int32, _ option: Int32, _ value: UnsafeRawBufferPointer) throws {
        try syscall("setsockopt") { setsockopt(socket.fd, level, option, value.baseAddress, socklen_t(value.count)) }
    }

    /// Sends `header` then `frame` as one datagram to `peer`: bytes sent, or wouldBlock.
    @inline(__always)
    public func send(_ header: UnsafeRawBufferPointer, _ frame: UnsafeRawBufferPointer, to peer: InternetAddress) throws -> IOResult<Int> {
        var vectors = (iovec(iov_base: UnsafeMutableRawPointer(mutating: header.baseAddress), iov_len: header.count),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: frame.baseAddress), iov_len: frame.count))
        let length = peer.write(to: name)
        return try withUnsafeMutableBytes(of: &vectors) { raw in
            var message = msghdr()
            message.msg_name = name
            message.msg_namelen = length
            message.msg_iov = raw.baseAddress!.assumingMemoryBound(to: iovec.self)
            message.msg_iovlen = 2
            return try nonBlockingSyscall("sendmsg") { sendmsg(socket.fd, &message, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL)) }.map { Int($0) }
        }
    }

    /// The path MTU towards `peer` as the kernel knows it now (a connected probe socket's IP_MTU).
    public static func pathMTU(to peer: InternetAddress) -> Int? {
        guard let probe = try? Socket(family: peer.isIPv6 ? AF_INET6 : AF_INET, type: Int32(SOCK_DGRAM.rawValue)) else { return nil }
        defer { probe.close() }
        guard (try? probe.connect(peer.socketAddress)) != nil else { return nil }
        var mtu: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        let result = peer.isIPv6 ? getsockopt(probe.fd, Int32(IPPROTO_IPV6), IPV6_MTU, &mtu, &length)
                                 : getsockopt(probe.fd, Int32(IPPROTO_IP), IP_MTU, &mtu, &length)
        return result == 0 && mtu > 0 ? Int(mtu) : nil
    }

    /// The MTU of interface `name` in this network namespace.
    public static func interfaceMTU(_ name: String) -> Int? {
        let mtu = CLinux_interface_mtu(name)
        return mtu > 0 ? Int(mtu) : nil
    }

    public static func interfaceIndex(_ name: String) -> UInt32? {
        let index = if_nametoindex(name)
        return index > 0 ? index : nil
    }
}
