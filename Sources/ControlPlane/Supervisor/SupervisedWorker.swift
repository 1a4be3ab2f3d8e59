// SupervisedWorker: one worker process as the supervisor holds it — how to run and configure it
// (its recipe, kept current by the noun's manager), its process (ours or adopted), its lifecycle,
// and the control connection its events arrive on.
import Glibc
import Posix

/// How to run and configure one worker. The noun's manager builds it from the spec; its closures
/// capture a copy of the spec and nothing mutable, so a start may configure with it off the lock.
struct WorkerRecipe: @unchecked Sendable {
    /// "switch" or "cable": names events (`switch.state_changed`) and store rows.
    let kind: String
    let name: String
    let binary: String
    let arguments: [String]
    let controlPath: String
    let logPath: String
    /// Runs before each start (e.g. clearing a stale control directory).
    let prepare: () -> Void
    /// Makes the running worker's configuration equal the spec.
    let configure: (WorkerClient) throws -> Void
}

/// Every field is read and written with the supervisor's lock held (hence unchecked).
final class SupervisedWorker: @unchecked Sendable {
    var recipe: WorkerRecipe { didSet { recipeVersion += 1 } }
    /// Counts recipe changes, so a start configured with an older recipe configures again.
    var recipeVersion = 0
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
    /// Where the log stood when the worker was last spawned (its last words are past it).
    var logOffset = 0

    init(recipe: WorkerRecipe) { self.recipe = recipe }

    var client: WorkerClient { WorkerClient(socketPath: recipe.controlPath) }
    var pid: Int32? { child?.pid ?? watch?.pid }
    var key: String { recipe.kind + "/" + recipe.name }

    /// The descriptor that becomes readable when the worker process ends, with the object that owns
    /// it: a descriptor number is reused once its process is gone, so an end is the owner's only.
    var processDescriptor: (fd: Int32, owner: AnyObject)? {
        if let child, !child.hasEnded { return (child.processDescriptor, child) }
        return watch.map { ($0.descriptor, $0) }
    }

    func signal(_ number: Int32) {
        child?.signal(number)
        watch?.signal(number)
    }
}
