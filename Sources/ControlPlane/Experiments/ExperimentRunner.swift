// ExperimentRunner: carries out one run. Each repetition builds the topology as a private lab
// (its own name, so runs never clash; fresh namespaces, empty MAC tables, zero counters), runs the
// task graph as TaskScheduler says (tasks on threads of their own, the scheduler's thread waiting
// on a mailbox), samples the host's CPU and the emulation's drops every second, and always tears
// the lab down: after success, failure, cancel and the run's timeout. It only starts processes and
// records what happened; what may start, and how an attempt is judged, is ExperimentEngine's.
import ExperimentEngine
import Glibc
import JSON
import LabEngine
import Log
import Posix
import Synchronization

final class ExperimentRunner: @unchecked Sendable {
    let labs: LabManager
    let switches: SwitchManager
    let cables: CableManager
    let stacks: StackManager
    let events: EventBus
    let log: Log
    /// Where full outputs go: DIR/<task>.<host>.<attempt>.stdout|stderr.
    let outputDirectory: String
    let analysis: ExperimentAnalysis
    let cancelled = Flag()
    /// Why the run stopped early (`cancelled` or `timed_out`), once it has.
    private let stopReason = Mutex<TaskScheduler.Status?>(nil)
    private let record: Mutex<ExperimentRun>
    /// The repetition's captures still running, by their capture_start task.
    private let captures = Mutex<[String: RunCapture]>([:])
    private let repetitionIndex = Mutex(0)
    private let persist: @Sendable (ExperimentRun) -> Void
    /// What a record keeps of each output stream; the whole output (up to 1 MiB) is on disk.
    static let outputKept = 16 * 1024
    /// Below this CPU idle, or with any emulation drop, a sample says the host was starved.
    static let idleThreshold = 10.0

    init(run: ExperimentRun, analysis: ExperimentAnalysis, labs: LabManager, switches: SwitchManager, cables: CableManager, stacks: StackManager,
         events: EventBus, log: Log, outputDirectory: String, persist: @escaping @Sendable (ExperimentRun) -> Void) {
        record = Mutex(run)
        self.analysis = analysis
        self.labs = labs
        self.switches = switches
        self.cables = cables
        self.stacks = stacks
        self.events = events
        self.log = log
        self.outputDirectory = outputDirectory
        self.persist = persist
    }

    var snapshot: ExperimentRun { record.withLock { $0 } }
    /// When the record was last stored; a task's progress is stored at most every `persistInterval`
    /// (reads see the live record), every other change at once.
    private let lastPersisted = Mutex<UInt64>(0)
    static let persistInterval: UInt64 = 250_000_000

    private func update(now: Bool = true, _ body: (inout ExperimentRun) -> Void) {
        let copy = record.withLock { run -> ExperimentRun in
            body(&run)
            return run
        }
        let due = lastPersisted.withLock { last in
            let time = Clock.monotonicNanoseconds()
            guard now || time - last >= ExperimentRunner.persistInterval else { return false }
            last = time
            return true
        }
        if due { persist(copy) }
    }

    private var identity: JSONObject {
        let run = snapshot
        return ["experiment": JSON(run.experiment), "run": JSON(run.number)]
    }

    /// Every repetition, back to back; a repetition that does not pass ends the run.
    func run() {
        update {
            $0.state = "building"
            $0.startedAt = Clock.rfc3339(Clock.wallSeconds())
        }
        events.publish("run.started", identity.merging(["repeat": JSON(snapshot.repeatCount), "seed": JSON(String(snapshot.seed))]))
        var outcome = "passed"
        for index in 0..<snapshot.repeatCount {
            outcome = repetition(index)
            if outcome != "passed" { break }
        }
        update {
            $0.state = outcome
            $0.finishedAt = Clock.rfc3339(Clock.wallSeconds())
        }
        events.publish("run.finished", identity.merging(["state": JSON(outcome)]))
    }

    private func labName(_ index: Int) -> String {
        let run = snapshot
        return LabNames.global(lab: "run", local: "\(run.experiment)-\(run.number)" + (run.repeatCount > 1 ? "-\(index + 1)" : ""))
    }

    // MARK: one repetition

    private func repetition(_ index: Int) -> String {
        let seed = ExperimentRun.repetitionSeed(snapshot.seed, index)
        let lab = labName(index)
        let startedBuild = Clock.monotonicNanoseconds()
        update {
            $0.state = "building"
            $0.repetitions.append(ExperimentRun.Repetition(index: index, seed: seed, lab: lab, startedAt: Clock.rfc3339(Clock.wallSeconds()),
                                                           tasks: analysis.tasks.map(TaskResult.init)))
        }
        let run = snapshot
        let topology = RunTopology.document(run.document["topology"] ?? [:], settings: analysis.settings, seed: seed,
                                            labels: ["experiment": JSON(run.experiment), "run": JSON(String(run.number))])
        var outcome = ""
        do {
            let built = try labs.create(name: lab, document: topology)
            let failures = built["failures"]?.arrayValue ?? []
            if !failures.isEmpty || cancelled.isSet {
                updateRepetition { $0.failures = failures }
                outcome = cancelled.isSet ? "cancelled" : "error"
                if !failures.isEmpty { update { $0.message = "the lab did not come up: \(failures.count) member(s) failed" } }
            }
        } catch {
            outcome = "error"
            update { $0.message = "the lab could not be built: \(error)" }
        }
        updateRepetition { $0.buildMilliseconds = Int((Clock.monotonicNanoseconds() - startedBuild) / 1_000_000) }
        if outcome.isEmpty {
            update { $0.state = "running" }
            updateRepetition { $0.state = "running" }
            let startedTasks = Clock.monotonicNanoseconds()
            let before = counters(lab)
            let sampler = FidelitySampler(runner: self, lab: lab)
            repetitionIndex.withLock { $0 = index }
            outcome = runTasks(lab: lab, index: index)
            stopCaptures()
            sampler.stop()
            let after = counters(lab)
            updateRepetition {
                $0.tasksMilliseconds = Int((Clock.monotonicNanoseconds() - startedTasks) / 1_000_000)
                $0.counters = ["switches": CounterDelta.between(before["switches"], after["switches"] ?? [:]),
                               "cables": CounterDelta.between(before["cables"], after["cables"] ?? [:])]
                $0.fidelity = sampler.report
            }
        }
        update { $0.state = "tearing_down" }
        updateRepetition { $0.state = "tearing_down" }
        let startedTeardown = Clock.monotonicNanoseconds()
        tearDown(lab)
        updateRepetition {
            $0.teardownMilliseconds = Int((Clock.monotonicNanoseconds() - startedTeardown) / 1_000_000)
            $0.state = outcome
        }
        return outcome
    }

    private func updateRepetition(now: Bool = true, _ body: (inout ExperimentRun.Repetition) -> Void) {
        update(now: now) { run in
            guard !run.repetitions.isEmpty else { return }
            body(&run.repetitions[run.repetitions.count - 1])
        }
    }

    /// Deletes the run's lab; one never made, or already gone, is fine.
    func tearDown(_ lab: String) {
        do { try labs.delete(lab) } catch ControlPlaneError.notFound {} catch {
            log.error("a run's lab could not be deleted", [("lab", lab), ("error", String(describing: error))])
        }
    }

    /// Each switch's and cable's counters, by local name (without the control reply's own `id` and `ok`).
    func counters(_ lab: String) -> JSONObject {
        var switchCounters = JSONObject(), cableCounters = JSONObject()
        func counters(_ reply: JSON?) -> JSON { reply.map { .object(WorkerReply.body($0)) } ?? .null }
        for facts in analysis.topology.switches {
            switchCounters[facts.name] = counters(try? switches.ask(LabNames.global(lab: lab, local: facts.name), "counters"))
        }
        for facts in analysis.topology.cables {
            cableCounters[facts.name] = counters(try? cables.ask(LabNames.global(lab: lab, local: facts.name), "counters"))
        }
        return ["switches": .object(switchCounters), "cables": .object(cableCounters)]
    }

    // MARK: the task graph

    private enum Message: Sendable {
        case finished(String, TaskResult)
    }

    /// Runs the graph to its end, a cancel or the run's timeout; the repetition's outcome.
    private func runTasks(lab: String, index: Int) -> String {
        let graph = TaskGraph(analysis.tasks.map { ($0.id, $0.after) })
        var scheduler = TaskScheduler(graph: graph, maxParallel: analysis.settings.maxParallel)
        let tasks = Dictionary(uniqueKeysWithValues: analysis.tasks.map { ($0.id, $0) })
        let deadline = Clock.monotonicNanoseconds() + UInt64(analysis.settings.timeoutSeconds * 1e9)
        let mailbox = Mailbox<Message>()
        var threads: [Thread] = []
        while true {
            for id in scheduler.start() {
                let task = tasks[id]!
                let started = Clock.rfc3339(Clock.wallSeconds())
                setTask(id) {
                    $0.status = .running
                    $0.startedAt = started
                }
                events.publish("task.started", identity.merging(["task": JSON(id), "repetition": JSON(index)]))
                threads.append(Thread { [self] in
                    let began = Clock.monotonicNanoseconds()
                    var result = perform(task, lab: lab, deadline: deadline)
                    result.startedAt = started
                    result.endedAt = Clock.rfc3339(Clock.wallSeconds())
                    result.durationMilliseconds = Int((Clock.monotonicNanoseconds() - began) / 1_000_000)
                    mailbox.post(.finished(id, result))
                })
            }
            if scheduler.isFinished { break }
            for message in mailbox.take(timeoutSeconds: 0.25) {
                guard case .finished(let id, let result) = message else { continue }
                scheduler.finish(id, result.status)
                setTask(id) { $0 = result }
                events.publish("task.finished", identity.merging(["task": JSON(id), "repetition": JSON(index), "status": JSON(result.status.rawValue),
                                                                  "verdicts": JSON(result.attempts.compactMap { $0["verdicts"] }),
                                                                  "duration_ms": JSON(result.durationMilliseconds)]))
            }
            for (id, cause) in scheduler.skippedBecause {
                setTask(id) { task in
                    guard task.status == .pending else { return }
                    task.status = .skipped
                    task.skippedBecause = cause
                    task.message = "skipped: task \(cause) did not pass"
                }
            }
            let stop: TaskScheduler.Status? = cancelled.isSet ? .cancelled : Clock.monotonicNanoseconds() > deadline ? .timedOut : nil
            if let stop, !scheduler.isFinished {
                stopReason.withLock { $0 = stop }
                let running = Set(scheduler.running)
                scheduler.stopAll(running: stop)
                let now = Clock.rfc3339(Clock.wallSeconds())
                for id in graph.ids {
                    setTask(id) { task in
                        guard !task.status.isFinal else { return }
                        task.status = scheduler.statuses[id] ?? stop
                        if running.contains(id) { task.endedAt = now }
                        task.message = stop == .cancelled ? "the run was cancelled" : "the run's timeout (\(analysis.settings.timeoutSeconds) s) passed"
                    }
                }
                break
            }
        }
        // Tasks still running end when the lab goes (their processes are the lab's); their threads
        // are not waited for here, so a hung command cannot hold the teardown.
        let finishing = threads
        _ = Thread { finishing.forEach { $0.join() } }
        if let reason = stopReason.withLock({ $0 }) { return reason == .cancelled ? "cancelled" : "timed_out" }
        return scheduler.statuses.values.allSatisfy { $0 == .passed } ? "passed" : "failed"
    }

    private func setTask(_ id: String, _ body: (inout TaskResult) -> Void) {
        updateRepetition(now: false) { repetition in
            guard let index = repetition.tasks.firstIndex(where: { $0.id == id }) else { return }
            body(&repetition.tasks[index])
        }
    }

    /// Whether the run is stopping (cancel, or past its deadline).
    private func stopping(_ deadline: UInt64) -> Bool { cancelled.isSet || Clock.monotonicNanoseconds() > deadline }

    private func perform(_ task: ExperimentTask, lab: String, deadline: UInt64) -> TaskResult {
        var result = TaskResult(task)
        switch task.work {
        case .command(let command):
            runCommand(command, task: task.id, lab: lab, deadline: deadline, into: &result)
        case .control(let action):
            do {
                try control(action, lab: lab, deadline: deadline, into: &result)
            } catch {
                result.status = .failed
                result.message = String(describing: error)
            }
        }
        return result
    }

    // MARK: commands

    /// The command on each host at once, each with its retries; passed when it passed everywhere.
    private func runCommand(_ command: CommandTask, task: String, lab: String, deadline: UInt64, into result: inout TaskResult) {
        let outcomes = Mutex<[Int: (attempts: [JSON], status: TaskScheduler.Status, measures: JSONObject)]>([:])
        Thread.concurrently(command.hosts.count, width: command.hosts.count) { [self] position in
            let host = command.hosts[position]
            var attempts: [JSON] = []
            var status = TaskScheduler.Status.failed
            var measures = JSONObject()
            for attempt in 1...(command.retries + 1) where !stopping(deadline) {
                let began = Clock.rfc3339(Clock.wallSeconds())
                var entry: JSONObject = ["host": JSON(host), "attempt": JSON(attempt), "started_at": JSON(began)]
                do {
                    let output = try labs.exec(lab: lab, stack: host, argv: command.argv, stdin: Array(command.stdin.utf8),
                                                 environment: command.environment,
                                                 // Not cut to the run's deadline: at that deadline the lab goes, and this with it.
                                                 timeoutSeconds: command.timeoutSeconds)
                    let outcome = ExecOutcome(output)
                    let (stdout, stderr, exitCode, timedOut) = (outcome.stdout, outcome.stderr, outcome.exitCode, outcome.timedOut)
                    let verdicts = outcome.verdicts(command.expectation)
                    let passed = verdicts.allSatisfy { $0.passed }
                    let name = "\(task).\(host).\(attempt)"
                    try? FileSystem.writeFile(outputDirectory + "/" + name + ".stdout", stdout)
                    try? FileSystem.writeFile(outputDirectory + "/" + name + ".stderr", stderr)
                    entry["exit_code"] = JSON(exitCode)
                    entry["stdout"] = JSON(String(decoding: stdout.utf8.prefix(ExperimentRunner.outputKept), as: UTF8.self))
                    entry["stderr"] = JSON(String(decoding: stderr.utf8.prefix(ExperimentRunner.outputKept), as: UTF8.self))
                    entry["truncated"] = JSON((output["truncated"]?.boolValue ?? false) || stdout.utf8.count > ExperimentRunner.outputKept
                                              || stderr.utf8.count > ExperimentRunner.outputKept)
                    entry["timed_out"] = JSON(timedOut)
                    entry["duration_ms"] = output["duration_ms"] ?? .null
                    entry["verdicts"] = JSON(verdicts.map { JSON.object($0.json) })
                    entry["passed"] = JSON(passed)
                    measures = [:]
                    for measure in command.measures {
                        measures[command.hosts.count > 1 ? "\(measure.name)@\(host)" : measure.name] =
                            measure.value(stdout: stdout, stderr: stderr).map(JSON.double) ?? .null
                    }
                    attempts.append(.object(entry))
                    status = passed ? .passed : timedOut ? .timedOut : .failed
                    if passed { break }
                } catch {
                    entry["error"] = JSON(String(describing: error))
                    entry["passed"] = false
                    attempts.append(.object(entry))
                    status = .failed
                }
            }
            outcomes.withLock { $0[position] = (attempts, status, measures) }
        }
        let byHost = outcomes.withLock { $0 }
        let statuses = command.hosts.indices.map { byHost[$0]?.status ?? .failed }
        result.attempts = command.hosts.indices.flatMap { byHost[$0]?.attempts ?? [] }
        for position in command.hosts.indices { for (key, value) in byHost[position]?.measures ?? [:] { result.measures[key] = value } }
        result.status = statuses.allSatisfy { $0 == .passed } ? .passed : statuses.contains(.timedOut) ? .timedOut : .failed
        if result.status != .passed {
            let failed = command.hosts.indices.filter { statuses[$0] != .passed }.map { command.hosts[$0] }
            result.message = "did not pass on \(failed.joined(separator: ", "))"
        }
    }

    // MARK: captures

    /// A capture's file: named after its task (and repetition, after the first), in the run's directory.
    private func captureFile(_ task: String) -> String {
        let index = repetitionIndex.withLock { $0 }
        return task + (index > 0 ? ".\(index + 1)" : "") + ".pcap"
    }

    private func startCapture(_ request: CaptureRequest, task: String, lab: String, into result: inout TaskResult) throws {
        let limits = CaptureLimits(filter: request.filter, snaplen: request.snaplen, count: request.count, durationSeconds: request.durationSeconds)
        let session: CaptureSession
        switch request.point {
        case .port(let name, let port, let direction):
            session = try switches.capture(LabNames.global(lab: lab, local: name), port: port, direction: direction, limits: limits)
            result.message = "capturing switch \(name) port \(port) (\(direction))"
        case .cable(let name, let direction):
            session = try cables.capture(LabNames.global(lab: lab, local: name), direction: direction, limits: limits)
            result.message = "capturing cable \(name) (\(direction))"
        }
        try FileSystem.makeDirectories(outputDirectory, mode: 0o755)
        let capture = try RunCapture(task: task, file: captureFile(task), directory: outputDirectory, session: session)
        captures.withLock { $0[task] = capture }
    }

    /// Stops capture `task` (or, with nil, every one still running) and records each tally with the repetition.
    @discardableResult
    private func stopCaptures(_ task: String? = nil) -> [JSONObject] {
        let stopping = captures.withLock { running -> [RunCapture] in
            let chosen = task.map { id in running[id].map { [$0] } ?? [] } ?? Array(running.values)
            for capture in chosen { running[capture.task] = nil }
            return chosen
        }
        let tallies = stopping.sorted { $0.task < $1.task }.map { $0.stop() }
        if !tallies.isEmpty { updateRepetition { $0.captures += tallies.map(JSON.object) } }
        return tallies
    }

    // MARK: control actions

    private func control(_ action: ControlAction, lab: String, deadline: UInt64, into result: inout TaskResult) throws {
        func global(_ local: String) -> String { LabNames.global(lab: lab, local: local) }
        func member(_ kind: LabMember.Kind, _ name: String) throws -> LabMember {
            let run = snapshot
            let document = RunTopology.document(run.document["topology"] ?? [:], settings: analysis.settings, seed: 0, labels: [:])
            guard let member = LabMember.members(of: document).first(where: { $0.kind == kind && $0.name == name }) else {
                throw ControlPlaneError.notFound(kind: kind.rawValue, name: name)
            }
            return member
        }
        result.status = .passed
        switch action {
        case .cut(let cable):
            try labs.setCut(lab: lab, cable: cable, cut: true)
        case .restore(let cable):
            try labs.setCut(lab: lab, cable: cable, cut: false)
        case .impair(let cable, let impairments):
            var body = LabNames.nounBody(try member(.cable, cable), lab: lab)
            body["impairments"] = impairments
            let wanted = try CableSpec(body: .object(body))
            _ = try cables.update(global(cable)) { spec in
                spec.aToB = wanted.aToB
                spec.bToA = wanted.bToA
            }
        case .stopStack(let stack):
            try stacks.delete(global(stack))
        case .startStack(let stack):
            guard !stacks.contains(global(stack)) else { return }
            try labs.builder.create(try member(.stack, stack), lab: lab)
        case .restartStack(let stack):
            if stacks.contains(global(stack)) { try stacks.delete(global(stack)) }
            try labs.builder.create(try member(.stack, stack), lab: lab)
        case .restartSwitch(let name):
            let answer = try switches.restart(global(name))
            if answer["state"] != "running" { throw ControlPlaneError.workerUnavailable(name: name, reason: "not running after its restart") }
        case .flushMACs(let name):
            _ = try switches.ask(global(name), "macs.flush")
        case .sleep(let seconds):
            let until = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
            while Clock.monotonicNanoseconds() < until {
                if stopping(deadline) { return }
                usleep(20_000)
            }
        case .captureStart(let request):
            try startCapture(request, task: result.id, lab: lab, into: &result)
        case .captureStop(let start):
            guard let tally = stopCaptures(start).first else {
                result.status = .failed
                result.message = "capture \(start) is not running"
                return
            }
            for key in ["frames", "bytes", "dropped"] { result.measures[key] = tally[key] ?? 0 }
            result.message = "\(tally["file"]?.stringValue ?? "?"): \(tally["frames"]?.intValue ?? 0) frames, \(tally["dropped"]?.intValue ?? 0) dropped"
        case .waitUntil(let condition):
            let until = Clock.monotonicNanoseconds() + UInt64(condition.timeoutSeconds * 1e9)
            var tries = 0
            while !stopping(deadline) {
                tries += 1
                let left = max(0.1, Double(Int64(until) - Int64(Clock.monotonicNanoseconds())) / 1e9)
                let output = try? labs.exec(lab: lab, stack: condition.host, argv: condition.argv, stdin: [], environment: [:],
                                              timeoutSeconds: min(2, left))
                if output?["exit_code"] == 0 {
                    result.message = "held after \(tries) tr\(tries == 1 ? "y" : "ies")"
                    return
                }
                if Clock.monotonicNanoseconds() >= until { break }
                usleep(UInt32(condition.intervalSeconds * 1e6))
            }
            result.status = .timedOut
            result.message = "did not hold within \(condition.timeoutSeconds) s (\(tries) tries)"
        }
    }
}

/// Samples, every second while the tasks run, the host's CPU idle and the emulation's own drops
/// (a switch port's full queue: frames the emulator could not move, not a declared impairment).
/// A run whose samples pass either threshold is flagged starved, so an overloaded host is not
/// mistaken for a network effect (Mininet-HiFi's fidelity idea).
final class FidelitySampler: @unchecked Sendable {
    private let done = Flag()
    private let lock = Lock()
    private var samples: [JSON] = []
    private var thread: Thread?

    init(runner: ExperimentRunner, lab: String) {
        thread = Thread { [self] in
            let started = Clock.monotonicNanoseconds()
            var cpu = FidelitySampler.cpuTimes()
            var drops = FidelitySampler.drops(runner.counters(lab))
            while !done.isSet {
                let next = Clock.monotonicNanoseconds() + 1_000_000_000
                while !done.isSet && Clock.monotonicNanoseconds() < next { usleep(20_000) }
                let nowCPU = FidelitySampler.cpuTimes(), nowDrops = FidelitySampler.drops(runner.counters(lab))
                let busy = Double(nowCPU.total - cpu.total), idle = Double(nowCPU.idle - cpu.idle)
                var sample: JSONObject = ["t_ms": JSON(Int((Clock.monotonicNanoseconds() - started) / 1_000_000)),
                                          "cpu_idle_pct": busy > 0 ? JSON((idle / busy * 1000).rounded() / 10) : .null]
                for (source, counts) in nowDrops {
                    var delta = JSONObject()
                    for (cause, count) in counts { delta[cause] = JSON(count - (drops[source]?[cause] ?? 0)) }
                    sample[source] = .object(delta)
                }
                lock.withLock { samples.append(.object(sample)) }
                cpu = nowCPU
                drops = nowDrops
            }
        }
    }

    func stop() {
        done.set()
        thread?.join()
    }

    /// {thresholds, samples, starved, reasons}.
    var report: JSON {
        let all = lock.withLock { samples }
        var reasons: [JSON] = []
        let idles = all.compactMap { $0["cpu_idle_pct"]?.doubleValue }
        if let lowest = idles.min(), lowest < ExperimentRunner.idleThreshold {
            reasons.append(JSON("the host's CPU idle fell to \(lowest) % (below \(ExperimentRunner.idleThreshold) %)"))
        }
        let emulation = all.reduce(0) { $0 + ($1["switch_drops"]?["queue_full"]?.intValue ?? 0) }
        if emulation > 0 { reasons.append(JSON("switches dropped \(emulation) frame(s) on full port queues")) }
        return ["thresholds": ["cpu_idle_pct_min": JSON(ExperimentRunner.idleThreshold), "switch_queue_full_max": 0],
                "samples": JSON(all), "starved": JSON(!reasons.isEmpty), "reasons": JSON(reasons)]
    }

    /// (idle, total) jiffies of all CPUs, from /proc/stat.
    static func cpuTimes() -> (idle: UInt64, total: UInt64) {
        guard let bytes = FileSystem.readFile("/proc/stat", limit: 64 << 10),
              let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first, line.hasPrefix("cpu ") else { return (0, 0) }
        let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard fields.count >= 5 else { return (0, 0) }
        return (fields[3] + fields[4], fields.reduce(0, +))
    }

    /// Drops by cause summed over the lab: `switch_drops` (every port) and `cable_drops` (both directions).
    static func drops(_ counters: JSONObject) -> [String: [String: Int]] {
        var switchDrops: [String: Int] = [:], cableDrops: [String: Int] = [:]
        for (_, report) in counters["switches"]?.objectValue ?? [:] {
            for (cause, count) in report["totals"]?["drops"]?.objectValue ?? [:] { switchDrops[cause, default: 0] += count.intValue ?? 0 }
        }
        for (_, report) in counters["cables"]?.objectValue ?? [:] {
            for direction in ["a_to_b", "b_to_a"] {
                for (cause, count) in report[direction]?["drops"]?.objectValue ?? [:] { cableDrops[cause, default: 0] += count.intValue ?? 0 }
            }
        }
        return ["switch_drops": switchDrops, "cable_drops": cableDrops]
    }
}

extension JSONObject {
    func merging(_ other: JSONObject) -> JSONObject {
        var merged = self
        for (key, value) in other { merged[key] = value }
        return merged
    }
}
