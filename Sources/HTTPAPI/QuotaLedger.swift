// QuotaLedger: what each principal uses at once — commands running through exec, event streams
// open — against its quotas: its token's, tightened by its class's when it acts as a student in
// a class's lab. Taking one more than the limit is 429 quota_exceeded, naming the quota.
import ControlPlane
import Synchronization

public final class QuotaLedger: Sendable {
    private let inUse = Mutex<[String: Int]>([:])
    let classes: ClassMembership

    public init(classes: ClassMembership) { self.classes = classes }

    /// The quotas that hold for `principal` in `lab` (in every lab of its scope when nil).
    func quotas(_ principal: Principal, lab: String?) -> Quotas {
        // A class's quotas are its students' (and viewers'); its teacher and admins are not bound by them.
        guard principal.role == .student || principal.role == .viewer else { return principal.quotas }
        let labs = lab.map { [$0] } ?? Array(principal.scope?.labs ?? [])
        return labs.compactMap { classes.placement(of: $0)?.quotas }.reduce(principal.quotas) { $0.merged(with: $1) }
    }

    /// One more of `quota` in use by `principal`, when its limit allows; `release` gives it back (once).
    func take(_ quota: Quotas.Name, for principal: Principal, limit: Int?) throws -> Release {
        let key = "\(quota.rawValue) \(principal.id)"
        guard let limit else { return Release {} }
        try inUse.withLock { inUse in
            let used = inUse[key, default: 0]
            guard used < limit else { throw ControlPlaneError.quotaExceeded(quota: quota, limit: limit, wanted: used + 1, atOnce: true) }
            inUse[key] = used + 1
        }
        return Release { [self] in inUse.withLock { $0[key] = max(0, ($0[key] ?? 1) - 1) } }
    }

    /// Gives back what was taken, the first time it is called.
    final class Release: Sendable {
        private let action: @Sendable () -> Void
        private let done = Atomic<Bool>(false)

        init(_ action: @escaping @Sendable () -> Void) { self.action = action }

        func callAsFunction() {
            if !done.exchange(true, ordering: .acquiringAndReleasing) { action() }
        }
    }
}
