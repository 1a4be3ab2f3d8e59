// Epoll: one epoll instance with a preallocated event buffer. Each registration carries a 64-bit
// token the caller defines (kind + slot + generation), so a reused descriptor is never mistaken
// for the one it replaced.
import CLinux
import Glibc

public final class Epoll {
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let readable = Events(rawValue: CLinux_EPOLLIN)
        public static let writable = Events(rawValue: CLinux_EPOLLOUT)
        public static let hangUp = Events(rawValue: CLinux_EPOLLHUP)
        public static let readHangUp = Events(rawValue: CLinux_EPOLLRDHUP)
        public static let error = Events(rawValue: CLinux_EPOLLERR)
    }

    private let fd: Int32
    private let buffer: UnsafeMutablePointer<CLinux_epoll_event>
    public let capacity: Int

    public init(capacity: Int = 256) throws {
        fd = try syscall("epoll_create1") { CLinux_epoll_create() }
        self.capacity = min(capacity, 256)
        buffer = .allocate(capacity: self.capacity)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    public func add(_ descriptor: Int32, events: Events, token: UInt64) throws {
        try syscall("epoll_ctl add") { CLinux_epoll_ctl(fd, CLinux_EPOLL_CTL_ADD, descriptor, events.rawValue, token) }
    }

    public func modify(_ descriptor: Int32, events: Events, token: UInt64) throws {
        try syscall("epoll_ctl mod") { CLinux_epoll_ctl(fd, CLinux_EPOLL_CTL_MOD, descriptor, events.rawValue, token) }
    }

    /// Removes `descriptor`; closing it has the same effect, so errors are ignored.
    public func remove(_ descriptor: Int32) {
        _ = CLinux_epoll_ctl(fd, CLinux_EPOLL_CTL_DEL, descriptor, 0, 0)
    }

    /// Waits up to `timeoutMilliseconds` (-1 forever) and returns how many events are ready.
    public func wait(timeoutMilliseconds: Int32) throws -> Int {
        while true {
            let count = CLinux_epoll_wait(fd, buffer, Int32(capacity), timeoutMilliseconds)
            if count >= 0 { return Int(count) }
            if errno != EINTR { throw Errno(errno, call: "epoll_wait") }
        }
    }

    /// The token and events of ready event `index` (after `wait`).
    @inline(__always)
    public func event(_ index: Int) -> (token: UInt64, events: Events) {
        (buffer[index].token, Events(rawValue: buffer[index].events))
    }
}
