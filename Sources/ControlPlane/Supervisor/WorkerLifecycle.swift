// WorkerLifecycle: the life of one supervised worker as a pure state machine. Methods take an
// event and the time and return what to do; the Supervisor carries that out with processes and
// timers. Tests drive it with no process at all.
//
//   starting --ready--> running --exit--> restarting --(backoff)--> starting
//        \                  \--exit 64 (bad config)--> failed
//         \--exit before ready, too often--> failed
//   any --stop--> stopped

public struct WorkerLifecycle: Equatable, Sendable {
    public enum State: String, Sendable {
        case starting, running, restarting, failed, stopped
    }

    /// How a worker process ended.
    public enum Exit: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)
        /// An adopted worker (not our child) ended; its status cannot be read.
        case vanished

        public var description: String {
            switch self {
            case .exited(let code): return "exited(\(code))"
            case .signaled(let signal): return "signaled(\(signal))"
            case .vanished: return "vanished"
            }
        }
    }

    public enum Action: Equatable, Sendable {
        case none
        /// Start the worker once this much time has passed.
        case restart(afterNanoseconds: UInt64)
        case giveUp(String)
    }

    public static let firstBackoff: UInt64 = 100_000_000
    public static let maxBackoff: UInt64 = 10_000_000_000
    /// Running this long forgives earlier crashes: the backoff starts over.
    public static let stableAfter: UInt64 = 30_000_000_000
    /// Crashes in a row before giving up.
    public static let maxFailures = 20

    public private(set) var state: State = .starting
    public private(set) var restartCount = 0
    public private(set) var lastExit: Exit?
    public private(set) var consecutiveFailures = 0
    public private(set) var runningSince: UInt64?
    public private(set) var failureReason: String?

    public init() {}

    public mutating func starting() {
        state = .starting
        runningSince = nil
    }

    /// The worker answers its control socket and has its configuration.
    public mutating func ready(now: UInt64) {
        state = .running
        runningSince = now
    }

    /// The worker process ended without being asked to.
    public mutating func exited(_ exit: Exit, now: UInt64) -> Action {
        lastExit = exit
        guard state != .stopped else { return .none }
        if let since = runningSince, now - since >= WorkerLifecycle.stableAfter { consecutiveFailures = 0 }
        runningSince = nil
        if exit == .exited(64) {
            // A bad command line will be just as bad next time.
            return fail("the worker refused its configuration (exit 64)")
        }
        consecutiveFailures += 1
        if consecutiveFailures > WorkerLifecycle.maxFailures {
            return fail("the worker crashed \(consecutiveFailures) times in a row")
        }
        state = .restarting
        restartCount += 1
        let shift = UInt64(min(consecutiveFailures - 1, 20))
        return .restart(afterNanoseconds: min(WorkerLifecycle.firstBackoff << shift, WorkerLifecycle.maxBackoff))
    }

    /// The worker did not come up (spawn failed, no control socket in time).
    public mutating func failedToStart(_ reason: String, now: UInt64) -> Action {
        failureReason = reason
        return exited(.exited(1), now: now)
    }

    /// Asked to stop: nothing restarts it.
    public mutating func stop() {
        state = .stopped
        runningSince = nil
    }

    /// Asked to run again after `failed` or `stopped` (a restart request).
    public mutating func reset() {
        consecutiveFailures = 0
        failureReason = nil
        state = .starting
    }

    private mutating func fail(_ reason: String) -> Action {
        state = .failed
        failureReason = reason
        return .giveUp(reason)
    }
}
