// ProcessWatch: a pidfd for a process we did not spawn (an adopted worker), readable when it ends.
// Unlike a PID, a pidfd can never come to mean another process.
import CLinux
import Glibc

public final class ProcessWatch: @unchecked Sendable {
    public let pid: pid_t
    public let descriptor: Int32

    /// Nil if `pid` does not exist (any more).
    public init?(pid: pid_t) {
        let fd = CLinux_pidfd_open(pid)
        guard fd >= 0 else { return nil }
        self.pid = pid
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Whether the process has ended.
    public var hasEnded: Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }

    public func signal(_ signal: Int32) { _ = CLinux_pidfd_send_signal(descriptor, signal) }

    /// Waits up to `timeoutSeconds` for the process to end; true if it did.
    public func waitForExit(timeoutSeconds: Double) -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, Int32(timeoutSeconds * 1000)) > 0
    }
}
