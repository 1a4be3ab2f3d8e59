// Process-wide signal set-up for daemons: block the termination signals in every thread
// (threads started later inherit the mask) and wait for them synchronously on one thread.
import Glibc

public enum Signals {
    /// Blocks `signals` in the calling thread and every thread it starts later. Call before any thread starts.
    public static func block(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits until one of `signals` (which must be blocked) arrives, and returns it.
    public static func wait(for signals: [Int32]) -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }

    /// Writes to a closed socket or pipe return EPIPE instead of killing the process.
    public static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }
}
