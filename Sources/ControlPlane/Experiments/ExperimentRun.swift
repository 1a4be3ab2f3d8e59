// ExperimentRun: the record of one run — what it ran (the exact document, its generation, the
// seed), how far it is, and for each repetition its lab, timings, every task's result, the
// counters the run moved and the host's fidelity samples. It is what GET …/runs/{n} shows and what
// the store keeps, as JSON.
import ExperimentEngine
import JSON

public struct ExperimentRun: Sendable {
    public static let finalStates: Set<String> = ["passed", "failed", "cancelled", "timed_out", "aborted", "error"]

    public let experiment: String
    public let number: Int
    public let generation: Int
    public let document: JSON
    public let seed: UInt64
    public let repeatCount: Int
    /// queued, building, running, tearing_down, then passed, failed, cancelled, timed_out, aborted or error.
    public var state = "queued"
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// Why a run ended as error or aborted.
    public var message: String?
    public var repetitions: [Repetition] = []

    public var isFinal: Bool { ExperimentRun.finalStates.contains(state) }

    init(experiment: String, number: Int, generation: Int, document: JSON, seed: UInt64, repeatCount: Int, createdAt: String) {
        self.experiment = experiment
        self.number = number
        self.generation = generation
        self.document = document
        self.seed = seed
        self.repeatCount = repeatCount
        self.createdAt = createdAt
    }

    /// Repetition `index`'s seed: the run's for the first, then drawn from it, so the whole run
    /// repeats from its one seed while repetitions differ from each other.
    static func repetitionSeed(_ seed: UInt64, _ index: Int) -> UInt64 {
        index == 0 ? seed : RunTopology.cableSeed(seed, cable: "repetition \(index)")
    }

    public struct Repetition: Sendable {
        public let index: Int
        public let seed: UInt64
        public let lab: String
        public var state = "building"
        public var startedAt: String
        public var buildMilliseconds: Int?
        public var tasksMilliseconds: Int?
        public var teardownMilliseconds: Int?
        public var tasks: [TaskResult]
        /// Per switch and cable (local names): what its counters counted while the tasks ran.
        public var counters: JSONObject = ["switches": [:], "cables": [:]]
        public var fidelity: JSON = .null
        public var failures: [JSON] = []
        /// Each capture_start task's capture: {task, file, frames, bytes, dropped, ended_by, …}; the file is in the run's directory.
        public var captures: [JSON] = []

        var json: JSON {
            ["index": JSON(index), "seed": JSON(String(seed)), "lab": JSON(lab), "state": JSON(state), "started_at": JSON(startedAt),
             "timings": ["build_ms": JSON(buildMilliseconds), "tasks_ms": JSON(tasksMilliseconds), "teardown_ms": JSON(teardownMilliseconds)],
             "tasks": JSON(tasks.map(\.json)), "counters": .object(counters), "fidelity": fidelity, "failures": JSON(failures),
             "captures": JSON(captures)]
        }

        init(index: Int, seed: UInt64, lab: String, startedAt: String, tasks: [TaskResult]) {
            self.index = index
            self.seed = seed
            self.lab = lab
            self.startedAt = startedAt
            self.tasks = tasks
        }

        init?(stored json: JSON) {
            guard let index = json["index"]?.intValue, let seed = json["seed"]?.stringValue.flatMap(UInt64.init),
                  let lab = json["lab"]?.stringValue else { return nil }
            self.init(index: index, seed: seed, lab: lab, startedAt: json["started_at"]?.stringValue ?? "",
                      tasks: (json["tasks"]?.arrayValue ?? []).compactMap(TaskResult.init(stored:)))
            state = json["state"]?.stringValue ?? state
            buildMilliseconds = json["timings"]?["build_ms"]?.intValue
            tasksMilliseconds = json["timings"]?["tasks_ms"]?.intValue
            teardownMilliseconds = json["timings"]?["teardown_ms"]?.intValue
            counters = json["counters"]?.objectValue ?? counters
            fidelity = json["fidelity"] ?? .null
            failures = json["failures"]?.arrayValue ?? []
            captures = json["captures"]?.arrayValue ?? []
        }
    }

    /// The run as the API shows it: the latest repetition's tasks at the top, for a live view.
    public var json: JSON {
        let latest = repetitions.last
        return ["experiment": JSON(experiment), "id": JSON(number), "generation": JSON(generation), "state": JSON(state),
                "seed": JSON(String(seed)), "repeat": JSON(repeatCount), "created_at": JSON(createdAt), "started_at": JSON(startedAt),
                "finished_at": JSON(finishedAt), "message": JSON(message),
                "tasks": JSON((latest?.tasks ?? []).map(\.json)), "counters": latest.map { JSON.object($0.counters) } ?? .null,
                "repetitions": JSON(repetitions.map(\.json)), "measures": .object(measureSummary)]
    }

    /// The store's encoding: the view plus the document.
    var storedJSON: JSON {
        var object = json.objectValue ?? [:]
        object["document"] = document
        return .object(object)
    }

    init?(stored json: JSON) {
        guard let experiment = json["experiment"]?.stringValue, let number = json["id"]?.intValue,
              let seed = json["seed"]?.stringValue.flatMap(UInt64.init), let document = json["document"] else { return nil }
        self.init(experiment: experiment, number: number, generation: json["generation"]?.intValue ?? 1, document: document, seed: seed,
                  repeatCount: json["repeat"]?.intValue ?? 1, createdAt: json["created_at"]?.stringValue ?? "")
        state = json["state"]?.stringValue ?? "aborted"
        startedAt = json["started_at"]?.stringValue
        finishedAt = json["finished_at"]?.stringValue
        message = json["message"]?.stringValue
        repetitions = (json["repetitions"]?.arrayValue ?? []).compactMap(Repetition.init(stored:))
    }

    /// Each measured value across the repetitions (`task.measure`, or `task.measure@host` on several
    /// hosts): every value, mean, standard deviation, min and max.
    public var measureSummary: JSONObject {
        var values: [String: [Double]] = [:]
        var order: [String] = []
        for repetition in repetitions {
            for task in repetition.tasks {
                for (name, value) in task.measures {
                    guard let number = value.doubleValue else { continue }
                    let key = "\(task.id).\(name)"
                    if values[key] == nil { order.append(key) }
                    values[key, default: []].append(number)
                }
            }
        }
        var summary = JSONObject()
        for key in order {
            let numbers = values[key]!
            let mean = numbers.reduce(0, +) / Double(numbers.count)
            let variance = numbers.count > 1 ? numbers.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(numbers.count - 1) : 0
            summary[key] = ["values": JSON(numbers.map(JSON.double)), "count": JSON(numbers.count), "mean": JSON(mean),
                            "stddev": JSON(variance.squareRoot()), "min": JSON(numbers.min()!), "max": JSON(numbers.max()!)]
        }
        return summary
    }
}

/// One task's result within a repetition.
public struct TaskResult: Sendable {
    public let id: String
    /// `command` or the control action's name.
    public let kind: String
    public let hosts: [String]
    public var status: TaskScheduler.Status = .pending
    public var startedAt: String?
    public var endedAt: String?
    public var durationMilliseconds: Int?
    /// Each attempt on each host: {host, attempt, exit_code, stdout, stderr, truncated, timed_out, duration_ms, verdicts, passed}.
    public var attempts: [JSON] = []
    /// `name` (or `name@host` on several hosts) → value.
    public var measures: JSONObject = [:]
    public var skippedBecause: String?
    public var message: String?

    init(_ task: ExperimentTask) {
        id = task.id
        hosts = task.hosts
        switch task.work {
        case .command: kind = "command"
        case .control(let action): kind = action.name
        }
    }

    var json: JSON {
        ["id": JSON(id), "kind": JSON(kind), "hosts": JSON(hosts.map { JSON($0) }), "status": JSON(status.rawValue),
         "started_at": JSON(startedAt), "ended_at": JSON(endedAt), "duration_ms": JSON(durationMilliseconds),
         "attempts": JSON(attempts), "measures": .object(measures), "skipped_because": JSON(skippedBecause), "message": JSON(message)]
    }

    init?(stored json: JSON) {
        guard let id = json["id"]?.stringValue, let kind = json["kind"]?.stringValue else { return nil }
        self.id = id
        self.kind = kind
        hosts = (json["hosts"]?.arrayValue ?? []).compactMap(\.stringValue)
        status = json["status"]?.stringValue.flatMap(TaskScheduler.Status.init(rawValue:)) ?? .pending
        startedAt = json["started_at"]?.stringValue
        endedAt = json["ended_at"]?.stringValue
        durationMilliseconds = json["duration_ms"]?.intValue
        attempts = json["attempts"]?.arrayValue ?? []
        measures = json["measures"]?.objectValue ?? [:]
        skippedBecause = json["skipped_because"]?.stringValue
        message = json["message"]?.stringValue
    }
}
