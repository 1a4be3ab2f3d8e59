// SupervisedSwitch: one switch as the control plane holds it — its spec (desired), its worker
// process (ours or adopted), the lifecycle state, and the connection its events arrive on.
import Glibc
import Posix

final class SupervisedSwitch {
    var spec: SwitchSpec
    var lifecycle = WorkerLifecycle()
    /// A worker this vsquared spawned (and so must reap).
    var child: ChildProcess?
    /// A worker adopted from an earlier vsquared (not our child).
    var watch: ProcessWatch?
    var instanceID: String?
    /// Monotonic time at which a restart is due.
    var restartAt: UInt64?
    /// A control connection kept open to receive the worker's events.
    var events: Socket?
    var eventBuffer: [UInt8] = []
    /// The directory clients plug into (`vde://directory`).
    let directory: String

    init(spec: SwitchSpec, directory: String) {
        self.spec = spec
        self.directory = directory
    }

    var controlPath: String { directory + "/control" }
    var client: WorkerClient { WorkerClient(socketPath: controlPath) }
    var pid: Int32? { child?.pid ?? watch?.pid }

    /// The descriptor that becomes readable when the worker process ends.
    var processDescriptor: Int32? {
        if let child, !child.hasEnded { return child.processDescriptor }
        return watch?.descriptor
    }

    func signal(_ number: Int32) {
        child?.signal(number)
        watch?.signal(number)
    }
}
