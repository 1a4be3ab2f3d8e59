// SignalFD: signals delivered as readable events on a descriptor, for single-threaded event loops.
import CLinux
import Glibc

public final class SignalFD {
    public let fd: Int32

    /// Blocks `signals` in this thread and returns a descriptor that reports them.
    public init(_ signals: [Int32]) throws {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        fd = try syscall("signalfd") { CLinux_signalfd(-1, &set, CLinux_SFD_NONBLOCK | CLinux_SFD_CLOEXEC) }
    }

    deinit { close(fd) }

    /// The next pending signal, or nil.
    public func read() -> Int32? {
        let signal = CLinux_signalfd_read(fd)
        return signal > 0 ? signal : nil
    }
}
