// ExperimentManager: experiments (a topology plus a task graph) and their runs. A document with
// problems is refused with all of them before it is kept; a run gets a number, a seed and a thread
// of its own (ExperimentRunner), its record kept in the store as it goes and its outputs on disk,
// within a retention limit (count and age per experiment). A run that a stopped vsquared left
// unfinished is marked aborted on start-up and everything it built is removed.
import ExperimentEngine
import Glibc
import JSON
import LabEngine
import Log
import Posix

public struct RunRetention: Equatable, Sendable {
    /// Runs kept per experiment (the newest).
    public var count: Int
    /// Finished runs older than this are forgotten.
    public var ageSeconds: Double

    public init(count: Int = 50, ageSeconds: Double = 30 * 86_400) {
        self.count = count
        self.ageSeconds = ageSeconds
    }
}

public final class ExperimentManager: @unchecked Sendable {
    let store: Store
    let labs: LabManager
    let switches: SwitchManager
    let cables: CableManager
    let stacks: StackManager
    let events: EventBus
    let log = Log(label: "vsquared.experiments")
    let vocabulary = NounVocabulary()
    /// Holds `experiments/NAME/runs/N/` with each attempt's whole output.
    let directory: String
    let retention: RunRetention
    let lock = Lock()
    var experiments: [String: ExperimentSpec] = [:]
    /// Every run kept, by experiment and number.
    var runs: [String: [Int: ExperimentRun]] = [:]
    /// Runs under way, by `experiment/number`.
    var active: [String: ExperimentRunner] = [:]

    public init(store: Store, labs: LabManager, switches: SwitchManager, cables: CableManager, stacks: StackManager, events: EventBus,
                directory: String, retention: RunRetention = RunRetention()) throws {
        self.store = store
        self.labs = labs
        self.switches = switches
        self.cables = cables
        self.stacks = stacks
        self.events = events
        self.directory = directory
        self.retention = retention
        for spec in try store.loadExperiments() { experiments[spec.name] = spec }
        for stored in try store.loadRuns() {
            guard let run = ExperimentRun(stored: stored) else { continue }
            runs[run.experiment, default: [:]][run.number] = run
        }
    }

    /// Marks the runs an earlier vsquared left unfinished `aborted` and removes what they built
    /// (call once the labs have started: a half-built lab is finished by them, then deleted here).
    public func start() {
        let unfinished = lock.withLock { runs.values.flatMap(\.values).filter { !$0.isFinal } }
        for var run in unfinished {
            log.warning("a run was cut short by a restart", [("experiment", run.experiment), ("run", String(run.number))])
            for lab in labNames(run) where (try? labs.get(lab)) != nil {
                do { try labs.delete(lab) } catch { log.error("an aborted run's lab could not be deleted", [("lab", lab), ("error", String(describing: error))]) }
            }
            for index in run.repetitions.indices where !ExperimentRun.finalStates.contains(run.repetitions[index].state) {
                run.repetitions[index].state = "aborted"
                for task in run.repetitions[index].tasks.indices where !run.repetitions[index].tasks[task].status.isFinal {
                    run.repetitions[index].tasks[task].status = .cancelled
                    run.repetitions[index].tasks[task].message = "vsquared stopped during the run"
                }
            }
            run.state = "aborted"
            run.message = "vsquared stopped during the run; everything it built was removed when it started again"
            run.finishedAt = Clock.rfc3339(Clock.wallSeconds())
            save(run)
            events.publish("run.finished", ["experiment": JSON(run.experiment), "run": JSON(run.number), "state": "aborted"])
        }
        for name in lock.withLock({ Array(experiments.keys) }) { applyRetention(name) }
    }

    /// Every lab a run may have made: one per repetition.
    func labNames(_ run: ExperimentRun) -> [String] {
        (0..<max(1, run.repeatCount)).map { index in
            LabNames.global(lab: "run", local: "\(run.experiment)-\(run.number)" + (run.repeatCount > 1 ? "-\(index + 1)" : ""))
        }
    }

    // MARK: experiments

    public func create(name: String, document: JSON) throws -> JSONObject {
        let analysis = try analyzed(document)
        var spec = ExperimentSpec(name: name, document: document)
        spec.createdAt = Clock.rfc3339(Clock.wallSeconds())
        try lock.withLock {
            guard experiments[name] == nil else { throw ControlPlaneError.nameTaken(kind: "experiment", name: name) }
            try store.saveExperiment(spec)
            experiments[name] = spec
        }
        events.publish("experiment.created", ["experiment": JSON(name)])
        return try get(name).adding(warnings: analysis.warnings)
    }

    /// A new document; runs under way keep the one they started with.
    public func update(name: String, document: JSON, ifMatch: Int?) throws -> JSONObject {
        let analysis = try analyzed(document)
        try lock.withLock {
            guard var spec = experiments[name] else { throw ControlPlaneError.notFound(kind: "experiment", name: name) }
            if let ifMatch, ifMatch != spec.generation { throw ControlPlaneError.staleGeneration(current: spec.generation) }
            guard spec.document != document else { return }
            spec.document = document
            spec.generation += 1
            try store.saveExperiment(spec)
            experiments[name] = spec
        }
        events.publish("experiment.updated", ["experiment": JSON(name)])
        return try get(name).adding(warnings: analysis.warnings)
    }

    public func list() -> [JSONObject] { lock.withLock { experiments.keys.sorted() }.compactMap { try? get($0) } }

    public func get(_ name: String) throws -> JSONObject {
        try lock.withLock {
            guard let spec = experiments[name] else { throw ControlPlaneError.notFound(kind: "experiment", name: name) }
            let kept = (runs[name] ?? [:]).values.sorted { $0.number < $1.number }
            let analysis = ExperimentAnalyzer.analyze(spec.document, vocabulary: vocabulary)
            return ["name": JSON(name), "description": spec.document["description"] ?? "", "generation": JSON(spec.generation),
                    "document": spec.document, "created_at": JSON(spec.createdAt),
                    "tasks": JSON(analysis.tasks.map { task in
                        ["id": JSON(task.id), "after": JSON(task.after.map { JSON($0) }), "kind": JSON(TaskResult(task).kind),
                         "hosts": JSON(task.hosts.map { JSON($0) })]
                    }),
                    "runs": ["count": JSON(kept.count), "active": JSON(kept.filter { !$0.isFinal }.map { JSON($0.number) }),
                             "last": kept.last.map { last in ["id": JSON(last.number), "state": JSON(last.state)] } ?? .null]]
        }
    }

    public func generation(_ name: String) throws -> Int {
        guard let generation = lock.withLock({ experiments[name]?.generation }) else {
            throw ControlPlaneError.notFound(kind: "experiment", name: name)
        }
        return generation
    }

    /// Cancels its runs (each tears down), then forgets the experiment, its history and its outputs.
    public func delete(_ name: String) throws {
        let running = try lock.withLock {
            guard experiments[name] != nil else { throw ControlPlaneError.notFound(kind: "experiment", name: name) }
            return active.filter { $0.key.hasPrefix(name + "/") }.map(\.value)
        }
        running.forEach { $0.cancelled.set() }
        let deadline = Clock.monotonicNanoseconds() + 120_000_000_000
        while lock.withLock({ active.keys.contains { $0.hasPrefix(name + "/") } }), Clock.monotonicNanoseconds() < deadline { usleep(20_000) }
        try lock.withLock {
            try store.deleteExperiment(name)
            experiments[name] = nil
            runs[name] = nil
        }
        FileSystem.removeTree(directory + "/" + name)
        events.publish("experiment.deleted", ["experiment": JSON(name)])
    }

    // MARK: runs

    /// Starts a run (`repeat` repetitions back to back) on a thread of its own; answers at once.
    public func startRun(_ name: String, repeatCount: Int) throws -> JSONObject {
        let (spec, number) = try lock.withLock {
            guard var spec = experiments[name] else { throw ControlPlaneError.notFound(kind: "experiment", name: name) }
            let number = spec.nextRun
            spec.nextRun += 1
            try store.saveExperiment(spec)
            experiments[name] = spec
            return (spec, number)
        }
        let analysis = try analyzed(spec.document)
        let seed = analysis.settings.seed ?? UInt64.random(in: 1...UInt64(Int64.max))
        let run = ExperimentRun(experiment: name, number: number, generation: spec.generation, document: spec.document, seed: seed,
                                repeatCount: repeatCount, createdAt: Clock.rfc3339(Clock.wallSeconds()))
        let outputs = "\(directory)/\(name)/runs/\(number)"
        try FileSystem.makeDirectories(outputs, mode: 0o700)
        let runner = ExperimentRunner(run: run, analysis: analysis, labs: labs, switches: switches, cables: cables, stacks: stacks,
                                      events: events, log: log, outputDirectory: outputs) { [weak self] record in self?.save(record) }
        save(run)
        lock.withLock { active["\(name)/\(number)"] = runner }
        _ = Thread { [self] in
            runner.run()
            lock.withLock { active["\(name)/\(number)"] = nil }
            applyRetention(name)
        }
        return try self.run(name, number)
    }

    public func runs(_ name: String) throws -> [JSONObject] {
        try lock.withLock {
            guard experiments[name] != nil else { throw ControlPlaneError.notFound(kind: "experiment", name: name) }
            return (runs[name] ?? [:]).values.sorted { $0.number < $1.number }
                .map { active["\(name)/\($0.number)"]?.snapshot ?? $0 }.map(ExperimentManager.summary)
        }
    }

    /// A run in the list: its state and verdict counts, not every output.
    static func summary(_ run: ExperimentRun) -> JSONObject {
        var counts = JSONObject()
        for task in run.repetitions.last?.tasks ?? [] { counts[task.status.rawValue] = JSON((counts[task.status.rawValue]?.intValue ?? 0) + 1) }
        return ["experiment": JSON(run.experiment), "id": JSON(run.number), "state": JSON(run.state), "seed": JSON(String(run.seed)),
                "repeat": JSON(run.repeatCount), "repetitions_done": JSON(run.repetitions.filter { ExperimentRun.finalStates.contains($0.state) }.count),
                "created_at": JSON(run.createdAt), "started_at": JSON(run.startedAt), "finished_at": JSON(run.finishedAt),
                "tasks": .object(counts)]
    }

    public func run(_ name: String, _ number: Int) throws -> JSONObject {
        try lock.withLock { try kept(name, number).json.objectValue ?? [:] }
    }


    /// Asks a run to stop; it tears down and ends `cancelled`.
    public func cancel(_ name: String, _ number: Int) throws -> JSONObject {
        let runner = try lock.withLock { () throws -> ExperimentRunner? in
            let run = try kept(name, number)
            if run.isFinal { throw ControlPlaneError.conflict(code: "run_finished", message: "run \(number) of \(name) already ended: \(run.state)") }
            return active["\(name)/\(number)"]
        }
        runner?.cancelled.set()
        events.publish("run.cancelling", ["experiment": JSON(name), "run": JSON(number)])
        return try run(name, number)
    }

    /// Everything needed to reproduce and judge the run, in one document.
    public func report(_ name: String, _ number: Int) throws -> JSONObject {
        let run = try lock.withLock { try kept(name, number) }
        var seeds = JSONObject()
        seeds["run"] = JSON(String(run.seed))
        seeds["repetitions"] = JSON(run.repetitions.map { repetition -> JSON in
            let cables = (run.document["topology"]?["cables"]?.arrayValue ?? []).compactMap { cable -> (String, JSON)? in
                guard let cableName = cable["name"]?.stringValue else { return nil }
                return (cableName, cable["seed"] ?? JSON(String(RunTopology.cableSeed(repetition.seed, cable: cableName))))
            }
            return ["index": JSON(repetition.index), "seed": JSON(String(repetition.seed)), "cables": .object(JSONObject(cables))]
        })
        let starved = run.repetitions.contains { $0.fidelity["starved"] == true }
        return ["report": "vsquare.experiment.run", "version": 1, "experiment": JSON(name), "run": JSON(number), "state": JSON(run.state),
                "generation": JSON(run.generation), "document": run.document, "seeds": .object(seeds),
                "software": .object(HostFacts.shared.software), "host": .object(HostFacts.shared.host),
                "created_at": JSON(run.createdAt), "started_at": JSON(run.startedAt), "finished_at": JSON(run.finishedAt),
                "message": JSON(run.message),
                "repetitions": JSON(run.repetitions.map(\.json)), "measures": .object(run.measureSummary),
                "fidelity": ["starved": JSON(starved),
                             "reasons": JSON(run.repetitions.flatMap { $0.fidelity["reasons"]?.arrayValue ?? [] })]]
    }

    /// The path of a pcap file a run's capture wrote; only files its record names (so no other path can be asked for).
    public func captureFile(_ name: String, _ number: Int, file: String) throws -> String {
        let run = try lock.withLock { try kept(name, number) }
        let files = run.repetitions.flatMap { $0.captures.compactMap { $0["file"]?.stringValue } }
        guard files.contains(file) else { throw ControlPlaneError.notFound(kind: "capture", name: "\(name)/\(number)/\(file)") }
        return "\(directory)/\(name)/runs/\(number)/\(file)"
    }

    /// Needs the lock. A run under way is read from its runner: its record as it is now.
    private func kept(_ name: String, _ number: Int) throws -> ExperimentRun {
        guard experiments[name] != nil else { throw ControlPlaneError.notFound(kind: "experiment", name: name) }
        if let runner = active["\(name)/\(number)"] { return runner.snapshot }
        guard let run = runs[name]?[number] else { throw ControlPlaneError.notFound(kind: "run", name: "\(name)/\(number)") }
        return run
    }

    private func save(_ run: ExperimentRun) {
        lock.withLock {
            // A run of an experiment deleted meanwhile is not brought back.
            guard experiments[run.experiment] != nil else { return }
            runs[run.experiment, default: [:]][run.number] = run
            do {
                try store.saveRun(experiment: run.experiment, number: run.number, state: run.state, createdAt: run.createdAt, record: run.storedJSON)
            } catch {
                log.error("a run's record could not be stored", [("experiment", run.experiment), ("error", String(describing: error))])
            }
        }
    }

    /// Forgets finished runs past the newest `retention.count` or older than `retention.ageSeconds`.
    private func applyRetention(_ name: String) {
        let now = Clock.wallSeconds()
        let forgotten: [Int] = lock.withLock {
            let finished = (runs[name] ?? [:]).values.filter(\.isFinal).sorted { $0.number > $1.number }
            let old = finished.enumerated().filter { position, run in
                position >= retention.count || (Clock.parseRFC3339(run.finishedAt ?? run.createdAt).map { now - $0 > retention.ageSeconds } ?? false)
            }.map(\.element.number)
            for number in old {
                runs[name]?[number] = nil
                try? store.deleteRun(experiment: name, number: number)
            }
            return old
        }
        for number in forgotten { FileSystem.removeTree("\(directory)/\(name)/runs/\(number)") }
    }

    private func analyzed(_ document: JSON) throws -> ExperimentAnalysis {
        let analysis = ExperimentAnalyzer.analyze(document, vocabulary: vocabulary)
        let problems = analysis.errors + labs.hostProblems(analysis.topology).map {
            LabProblem($0.severity, "/topology" + $0.pointer, $0.code, $0.message)
        }
        guard problems.isEmpty else { throw ControlPlaneError.invalidExperiment(problems: problems) }
        return analysis
    }
}

/// The facts of this host and its software a report carries, read once.
final class HostFacts: Sendable {
    static let shared = HostFacts()
    let software: JSONObject
    let host: JSONObject

    private init() {
        var name = utsname()
        uname(&name)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let memory = FileSystem.readFile("/proc/meminfo", limit: 64 << 10).flatMap { bytes in
            String(decoding: bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("MemTotal:") }?
                .split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        host = ["kernel": JSON(text(name.release)), "machine": JSON(text(name.machine)), "cpus": JSON(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
                "memory_kib": JSON(memory)]
        func version(_ argv: [String]) -> JSON {
            guard let path = ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"].map({ $0 + argv[0] }).first(where: FileSystem.exists),
                  let result = try? ProcessRunner.run(path, Array(argv.dropFirst()), timeoutSeconds: 3, outputCap: 4096) else { return .null }
            let output = String(decoding: result.stdout + result.stderr, as: UTF8.self)
            return JSON(output.split(separator: "\n").first.map(String.init) ?? "")
        }
        software = ["vsquared": JSON(VSquareVersion.current), "iproute2": version(["ip", "-V"]), "ping": version(["ping", "-V"]),
                    "iperf3": version(["iperf3", "--version"])]
    }
}
