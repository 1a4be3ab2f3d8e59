// WorkerSupervisor: the public handle on the one Supervisor that every manager shares (switches,
// cables): create it, give it to the managers, start it once they have loaded their workers.
import Log
import Posix

public final class WorkerSupervisor: Sendable {
    let core: Supervisor

    public init(store: Store, events: EventBus, log: Log) {
        core = Supervisor(lock: Lock(), store: store, events: events, log: log)
    }

    /// Starts the supervisor thread (after the managers' `start()`).
    public func run() { core.run() }

    /// Waits until the workers being started (they start together) run or have failed, up to 10 s.
    public func awaitStarts() { core.awaitStarts() }

    /// Stops the thread; workers keep running.
    public func shutdown() { core.shutdown() }
}
