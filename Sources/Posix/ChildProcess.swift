// ChildProcess: a process we spawned with posix_spawn, watched through a pidfd (no SIGCHLD, no
// waitpid(-1) stealing). Its stdin/stdout/stderr can be pipes we own, files, or inherited.
// Signals are reset to defaults and unblocked in the child; descriptors above the ones passed are closed.
import CLinux
import Glibc

public final class ChildProcess: @unchecked Sendable {
    /// What a child's standard stream is connected to.
    public enum Stream {
        case inherit
        case null
        /// A connected unix stream socket: our end is `stdin`/`stdout`/`stderr` of this object.
        case pipe
        case file(String)
        /// An open descriptor of ours (e.g. a connected socket), duplicated into the child.
        case descriptor(Int32)
    }

    /// How a child ended.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): return "exited(\(code))"
            case .signaled(let signal): return "signaled(\(signal))"
            }
        }
    }

    public let pid: pid_t
    /// Our ends of the pipes, when `.pipe` was asked for.
    public let stdin: Socket?
    public let stdout: Socket?
    public let stderr: Socket?
    private let pidfd: Int32
    private let detached: Bool
    private var termination: Termination?

    /// Starts `path` with `arguments` (argv[1...]) and `environment` (nil inherits ours).
    /// `extraDescriptors` are dup'ed to 3, 4, … in the child.
    /// With `detached`, the child gets its own session (so a signal to our process group, or our
    /// death, does not reach it) and is not killed when this object goes away.
    public init(path: String, arguments: [String], environment: [String: String]? = nil,
                stdin: Stream = .null, stdout: Stream = .inherit, stderr: Stream = .inherit,
                extraDescriptors: [Int32] = [], detached: Bool = false, newProcessGroup: Bool = false) throws {
        self.detached = detached
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        var ours: [Socket?] = [nil, nil, nil]
        for (target, stream) in [stdin, stdout, stderr].enumerated() {
            switch stream {
            case .inherit:
                break
            case .null:
                posix_spawn_file_actions_addopen(&actions, Int32(target), "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let file):
                posix_spawn_file_actions_addopen(&actions, Int32(target), file,
                                                 target == 0 ? O_RDONLY : (O_WRONLY | O_CREAT | O_APPEND), 0o644)
            case .descriptor(let fd):
                posix_spawn_file_actions_adddup2(&actions, fd, Int32(target))
            case .pipe:
                // A socketpair rather than a pipe: our end then takes timeouts and half-closes.
                var ends: [Int32] = [-1, -1]
                try syscall("socketpair") { socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) }
                let (childEnd, ourEnd) = (ends[1], ends[0])
                childEnds.append(childEnd)
                ours[target] = Socket(adopting: ourEnd)
                posix_spawn_file_actions_adddup2(&actions, childEnd, Int32(target))
            }
        }
        for (offset, fd) in extraDescriptors.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, fd, Int32(3 + offset))
        }
        CLinux_posix_spawn_file_actions_addclosefrom(&actions, Int32(3 + extraDescriptors.count))

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        // A new process group lets a timeout kill the child and everything it started.
        if newProcessGroup && !detached { posix_spawnattr_setpgroup(&attributes, 0) }
        let groupFlag = newProcessGroup && !detached ? Int32(POSIX_SPAWN_SETPGROUP) : 0
        posix_spawnattr_setflags(&attributes, Int16(Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | groupFlag
                                                    | (detached ? CLinux_POSIX_SPAWN_SETSID : 0)))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let env = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { env?.forEach { free($0) } }
        var child: pid_t = 0
        let rc: Int32
        if let env {
            rc = posix_spawn(&child, path, &actions, &attributes, argv, env)
        } else {
            rc = posix_spawn(&child, path, &actions, &attributes, argv, Glibc.environ)
        }
        guard rc == 0 else { throw Errno(rc, call: "posix_spawn \(path)") }
        pid = child
        pidfd = try syscall("pidfd_open") { CLinux_pidfd_open(child) }
        self.stdin = ours[0]
        self.stdout = ours[1]
        self.stderr = ours[2]
    }

    deinit {
        if termination == nil && !detached {
            _ = CLinux_pidfd_send_signal(pidfd, SIGKILL)
            _ = wait(timeoutSeconds: 5)
        }
        close(pidfd)
    }

    /// The pidfd, readable once the child has ended (for an event loop's poll set).
    public var processDescriptor: Int32 { pidfd }

    /// Whether the child has ended and been reaped.
    public var hasEnded: Bool { termination != nil }

    /// Sends `signal` (through the pidfd, so a recycled pid is never hit).
    public func signal(_ signal: Int32) {
        guard termination == nil else { return }
        _ = CLinux_pidfd_send_signal(pidfd, signal)
    }

    /// Waits up to `timeoutSeconds` for the child to end and reaps it; nil if it is still running.
    public func wait(timeoutSeconds: Double) -> Termination? {
        if let termination { return termination }
        var poller = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
        while true {
            let left = Int64(deadline) - Int64(Clock.monotonicNanoseconds())
            let ready = poll(&poller, 1, Int32(max(0, left / 1_000_000)))
            if ready > 0 { break }
            if ready == 0 || (ready < 0 && errno != EINTR) { return nil }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let low = status & 0x7f
        termination = low == 0 ? .exited((status >> 8) & 0xff) : .signaled(low)
        return termination
    }

    /// Stops the child: `signal`, up to `graceSeconds` to exit, then SIGKILL.
    @discardableResult
    public func stop(signal first: Int32 = SIGTERM, graceSeconds: Double = 5) -> Termination {
        signal(first)
        if let done = wait(timeoutSeconds: graceSeconds) { return done }
        signal(SIGKILL)
        return wait(timeoutSeconds: 30) ?? .signaled(SIGKILL)
    }
}
