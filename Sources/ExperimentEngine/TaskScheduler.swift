// TaskScheduler: which tasks of a run may start now. A task starts once every task it is after has
// passed, never more than `maxParallel` at once, in document order among those ready; a task that
// ends any other way than passing skips everything after it (directly or not), each skipped task
// saying which one it waited for. Pure: the runner tells it what started and ended, and asks.

public struct TaskScheduler: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case pending, running, passed, failed, skipped, cancelled
        case timedOut = "timed_out"

        public var isFinal: Bool { self != .pending && self != .running }
    }

    public let graph: TaskGraph
    public let maxParallel: Int
    public private(set) var statuses: [String: Status]
    /// For a skipped task, the task whose outcome skipped it.
    public private(set) var skippedBecause: [String: String] = [:]

    public init(graph: TaskGraph, maxParallel: Int) {
        self.graph = graph
        self.maxParallel = max(1, maxParallel)
        statuses = Dictionary(uniqueKeysWithValues: graph.ids.map { ($0, .pending) })
    }

    public var running: [String] { graph.ids.filter { statuses[$0] == .running } }
    public var isFinished: Bool { statuses.values.allSatisfy(\.isFinal) }

    /// The tasks to start now (marked running), at most what `maxParallel` leaves room for.
    public mutating func start() -> [String] {
        var room = maxParallel - running.count
        var started: [String] = []
        for id in graph.ids where room > 0 && statuses[id] == .pending {
            guard (graph.prerequisites[id] ?? []).allSatisfy({ statuses[$0] == .passed }) else { continue }
            statuses[id] = .running
            started.append(id)
            room -= 1
        }
        return started
    }

    /// Records how a running task ended; anything but `passed` skips what is after it.
    public mutating func finish(_ id: String, _ status: Status) {
        precondition(status.isFinal, "a task ends passed, failed, skipped, cancelled or timed out")
        guard statuses[id] == .running else { return }
        statuses[id] = status
        guard status != .passed else { return }
        for later in graph.descendants(of: id) where statuses[later] == .pending {
            statuses[later] = .skipped
            skippedBecause[later] = id
        }
    }

    /// Ends the run early (cancel, or the run's timeout): running tasks become `running`'s end, pending ones cancelled.
    public mutating func stopAll(running end: Status) {
        for id in graph.ids {
            switch statuses[id] {
            case .running: statuses[id] = end
            case .pending: statuses[id] = .cancelled
            default: break
            }
        }
    }
}
