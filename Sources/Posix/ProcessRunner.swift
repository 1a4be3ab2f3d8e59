// ProcessRunner: runs a command to completion with a deadline, feeding its stdin and collecting
// stdout and stderr together (poll, so neither pipe can fill and stall it), each capped. At the
// deadline the child and its process group are killed: nothing is left behind.
import Glibc

public struct ProcessResult: Sendable {
    public var termination: ChildProcess.Termination
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// Output beyond the cap was discarded.
    public var truncated: Bool
    public var timedOut: Bool
    public var durationMilliseconds: Double

    /// The exit code, or 128 + signal for a signalled child (the shell's convention).
    public var exitCode: Int32 {
        switch termination {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }
}

public enum ProcessRunner {
    public static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil, stdin input: [UInt8] = [],
                           timeoutSeconds: Double, outputCap: Int = 1 << 20) throws -> ProcessResult {
        let started = Clock.monotonicNanoseconds()
        let child = try ChildProcess(path: path, arguments: arguments, environment: environment,
                                     stdin: .pipe, stdout: .pipe, stderr: .pipe, newProcessGroup: true)
        try? child.stdin?.setNonBlocking()
        var pendingInput = input[...]
        if pendingInput.isEmpty { child.stdin?.close() }
        var outputs: [[UInt8]] = [[], []]
        var truncated = false
        var open = [child.stdout!, child.stderr!]
        let deadline = started + UInt64(timeoutSeconds * 1e9)
        var timedOut = false
        while !open.isEmpty {
            let now = Clock.monotonicNanoseconds()
            if now >= deadline {
                timedOut = true
                break
            }
            var fds = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if !pendingInput.isEmpty, let stdin = child.stdin, stdin.fd >= 0 {
                fds.append(pollfd(fd: stdin.fd, events: Int16(POLLOUT), revents: 0))
            }
            _ = poll(&fds, nfds_t(fds.count), Int32(min(100, (deadline - now) / 1_000_000 + 1)))
            if fds.count > open.count, fds[open.count].revents != 0, let stdin = child.stdin {
                let sent = (try? stdin.writeSome(pendingInput)) ?? pendingInput.count
                pendingInput = pendingInput.dropFirst(sent)
                if pendingInput.isEmpty { stdin.close() }
            }
            for (index, socket) in open.enumerated().reversed() where fds[index].revents != 0 {
                let which = socket === child.stdout ? 0 : 1
                var chunk: [UInt8] = []
                switch try? socket.read(into: &chunk, maximum: 65536) {
                case .done(let count)? where count > 0:
                    let room = max(0, outputCap - outputs[which].count)
                    if chunk.count > room { truncated = true }
                    outputs[which] += chunk.prefix(room)
                case .wouldBlock?:
                    break
                default:
                    open.remove(at: index)
                }
            }
        }
        if timedOut { kill(-child.pid, SIGKILL) }
        let termination = child.wait(timeoutSeconds: timedOut ? 5 : max(1, Double(deadline - min(deadline, Clock.monotonicNanoseconds())) / 1e9))
            ?? { child.signal(SIGKILL); kill(-child.pid, SIGKILL); timedOut = true; return child.wait(timeoutSeconds: 5) ?? .signaled(SIGKILL) }()
        return ProcessResult(termination: termination, stdout: outputs[0], stderr: outputs[1], truncated: truncated, timedOut: timedOut,
                             durationMilliseconds: Double(Clock.monotonicNanoseconds() - started) / 1e6)
    }
}
