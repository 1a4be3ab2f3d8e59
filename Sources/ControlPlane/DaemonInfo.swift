// DaemonInfo: facts about the running vsquared that the API reports (version, start time, store,
// the instance prefix of the names it gives outside its directories).
import Posix

public enum VSquareVersion {
    public static let current = "0.1.0"
}

public final class DaemonInfo: Sendable {
    public let store: Store
    public let scope: InstanceScope
    private let startedMonotonic: UInt64
    /// RFC 3339 time at which this process started serving.
    public let startedAt: String

    public init(store: Store, scope: InstanceScope) {
        self.store = store
        self.scope = scope
        startedMonotonic = Clock.monotonicNanoseconds()
        startedAt = Clock.rfc3339(Clock.wallSeconds())
    }

    /// Whole seconds since start.
    public var uptimeSeconds: Int { Int((Clock.monotonicNanoseconds() - startedMonotonic) / 1_000_000_000) }
}
