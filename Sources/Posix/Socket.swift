// Socket: the one owner of a socket file descriptor. Blocking helpers for servers, clients
// and tests; the data plane's batched, non-blocking paths build on the same owner.
import CLinux
import Glibc

public final class Socket: @unchecked Sendable {
    /// The descriptor, or -1 once closed.
    public private(set) var fd: Int32

    public init(adopting fd: Int32) { self.fd = fd }

    public convenience init(family: Int32, type: Int32) throws {
        let fd = try syscall("socket") { Glibc.socket(family, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
        self.init(adopting: fd)
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Closes the descriptor; later calls on this socket fail with EBADF (as an `Errno`).
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Gives up ownership: the caller (or a library such as libmicrohttpd) closes it.
    public func release() -> Int32 {
        let out = fd
        fd = -1
        return out
    }

    fileprivate func live(_ call: String) throws -> Int32 {
        guard fd >= 0 else { throw Errno(EBADF, call: call) }
        return fd
    }

    /// A TCP socket bound and listening on `address` (port 0 picks a free port).
    public static func listenTCP(_ address: SocketAddress, backlog: Int32 = 128) throws -> Socket {
        let socket = try Socket(family: address.family, type: Int32(SOCK_STREAM.rawValue))
        try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
        if case .ipv6 = address { try socket.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        try socket.bind(address)
        try syscall("listen") { Glibc.listen(socket.fd, backlog) }
        return socket
    }

    /// A blocking TCP connection to `address`.
    public static func connectTCP(_ address: SocketAddress) throws -> Socket {
        let socket = try Socket(family: address.family, type: Int32(SOCK_STREAM.rawValue))
        try socket.connect(address)
        return socket
    }

    public func bind(_ address: SocketAddress) throws {
        let fd = try live("bind")
        try address.withSockaddr { sa, length in
            try syscall("bind") { Glibc.bind(fd, sa, length) }
        }
    }

    public func connect(_ address: SocketAddress) throws {
        let fd = try live("connect")
        try address.withSockaddr { sa, length in
            try syscall("connect") { Glibc.connect(fd, sa, length) }
        }
    }

    public func setOption(_ level: Int32, _ name: Int32, _ value: Int32) throws {
        let fd = try live("setsockopt")
        var value = value
        try syscall("setsockopt") { Glibc.setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// Sets both send and receive timeouts for blocking calls.
    public func setTimeout(seconds: Double) throws {
        let fd = try live("setsockopt")
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            try syscall("setsockopt") { Glibc.setsockopt(fd, SOL_SOCKET, option, &tv, socklen_t(MemoryLayout<timeval>.size)) }
        }
    }

    /// The address the socket is bound to (useful after binding port 0).
    public func localAddress() throws -> SocketAddress {
        let fd = try live("getsockname")
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                try syscall("getsockname") { Glibc.getsockname(fd, sa, &length) }
            }
        }
        guard let address = SocketAddress(storage: storage) else { throw Errno(EAFNOSUPPORT, call: "getsockname") }
        return address
    }

    /// Writes all of `bytes` (blocking), without raising SIGPIPE.
    public func sendAll(_ bytes: some Collection<UInt8>) throws {
        let fd = try live("send")
        let buffer = Array(bytes)
        var offset = 0
        while offset < buffer.count {
            let sent = try buffer.withUnsafeBytes { raw in
                try syscall("send") { Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL)) }
            }
            offset += sent
        }
    }

    /// Reads what is available, up to `maximum` bytes; an empty array means end of stream.
    public func receive(maximum: Int = 65536) throws -> [UInt8] {
        let fd = try live("recv")
        var buffer = [UInt8](repeating: 0, count: maximum)
        let count = try buffer.withUnsafeMutableBytes { raw in
            try syscall("recv") { Glibc.recv(fd, raw.baseAddress!, raw.count, 0) }
        }
        buffer.removeSubrange(count...)
        return buffer
    }

    /// Shuts down the writing half, so the peer reads end of stream.
    public func shutdownWrite() throws {
        let fd = try live("shutdown")
        try syscall("shutdown") { Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }
}

extension Socket {
    /// Waits up to `timeoutSeconds` for the socket to become readable (or hung up); false on timeout.
    public func waitReadable(timeoutSeconds: Double) throws -> Bool {
        let fd = try live("poll")
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
        while true {
            let left = max(0, Int64(deadline) - Int64(Clock.monotonicNanoseconds()))
            let ready = poll(&poller, 1, Int32(left / 1_000_000))
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno != EINTR { throw Errno(errno, call: "poll") }
        }
    }

    /// Sends one datagram (or stream write) without blocking; EAGAIN is `.wouldBlock`.
    public func sendNonBlocking(_ bytes: [UInt8]) throws -> IOResult<Int> {
        let fd = try live("send")
        return try bytes.withUnsafeBytes { raw in
            try nonBlockingSyscall("send") { Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        }
    }

    /// Sets O_NONBLOCK.
    public func setNonBlocking() throws {
        let fd = try live("fcntl")
        let flags = try syscall("fcntl") { fcntl(fd, F_GETFL) }
        try syscall("fcntl") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

}

extension Socket {
    /// The process on the other end of a connected unix socket, as the kernel recorded it at connect time.
    public func peerCredentials() -> (pid: Int32, uid: UInt32, gid: UInt32)? {
        guard fd >= 0 else { return nil }
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        return CLinux_peer_credentials(fd, &pid, &uid, &gid) == 0 ? (pid, uid, gid) : nil
    }

    /// Accepts one pending connection without blocking; the new socket is non-blocking too.
    public func accept() throws -> IOResult<Socket> {
        let fd = try live("accept4")
        return try nonBlockingSyscall("accept4") {
            CLinux_accept4(fd, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
        }.map(Socket.init(adopting:))
    }

    /// Reads what is available into `buffer` without blocking: `.done(0)` is end of stream.
    public func read(into buffer: inout [UInt8], maximum: Int) throws -> IOResult<Int> {
        let fd = try live("read")
        return try withUnsafeTemporaryAllocation(byteCount: maximum, alignment: 16) { raw in
            let result = try nonBlockingSyscall("read") { Glibc.read(fd, raw.baseAddress!, maximum) }
            if case .done(let count) = result {
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[..<count]))
            }
            return result
        }
    }

    /// Writes as much of `bytes` as fits without blocking; returns how many went.
    public func writeSome(_ bytes: ArraySlice<UInt8>) throws -> Int {
        let fd = try live("send")
        let result = try bytes.withUnsafeBytes { raw in
            try nonBlockingSyscall("send") { Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        }
        if case .done(let count) = result { return count }
        return 0
    }

    /// A listening unix stream socket at `path` (non-blocking), replacing a stale socket file there.
    public static func listenUnix(_ path: String, backlog: Int32 = 64) throws -> Socket {
        let socket = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
        try socket.bind(.unix(path: path))
        try syscall("listen") { Glibc.listen(socket.fd, backlog) }
        try socket.setNonBlocking()
        return socket
    }
}

extension Socket {
    /// The address of the connected peer.
    public func peerAddress() throws -> SocketAddress {
        let fd = try live("getpeername")
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                try syscall("getpeername") { Glibc.getpeername(fd, sa, &length) }
            }
        }
        guard let address = SocketAddress(storage: storage) else { throw Errno(EAFNOSUPPORT, call: "getpeername") }
        return address
    }
}
