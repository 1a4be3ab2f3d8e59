// ExperimentAnalyzer: every problem of an experiment document at once, in the labs analyzer's shape
// (JSON pointers, stable codes). The topology goes through LabAnalyzer as is; then the tasks: their
// fields, what they name, the graph their `after` makes, and what a task can count on when it starts
// (a host that every path to it stops is gone). Pure: a document in, problems and tasks out.
//
// The document: {description?, topology: <a lab document>, tasks: [...], timeout_s?, max_parallel?,
// seed?, uplink?: {switch}}. A task is {id, after?, description?} and either a command
// {hosts, argv, stdin?, env?, timeout_s?, retries?, expect?, measure?} or a control action
// {action, cable | stack | switch | seconds | host + ping | tcp | argv, timeout_s, …}.
import JSON
import PacketCapture
import LabEngine
import Posix

public struct ExperimentAnalysis: Sendable {
    public let problems: [LabProblem]
    public let topology: LabAnalysis
    /// The tasks that were read whole, in document order.
    public let tasks: [ExperimentTask]
    public let settings: ExperimentSettings

    public var errors: [LabProblem] { problems.filter { $0.severity == .error } }
    public var warnings: [LabProblem] { problems.filter { $0.severity == .warning } }
}

public struct ExperimentSettings: Sendable, Equatable {
    public var timeoutSeconds: Double = 600
    public var maxParallel = 8
    /// nil: each run draws one (and reports it).
    public var seed: UInt64?
    /// The switch a NAT uplink (a slirp stack named `uplink`) plugs into; nil keeps the run confined.
    public var uplinkSwitch: String?

    public init() {}
}

public enum ExperimentAnalyzer {
    static let documentKeys: Set<String> = ["description", "topology", "tasks", "timeout_s", "max_parallel", "seed", "uplink"]
    static let taskKeys: Set<String> = ["id", "after", "description"]
    static let commandKeys: Set<String> = ["hosts", "argv", "stdin", "env", "timeout_s", "retries", "expect", "measure"]
    /// Each control action's own fields.
    static let actionKeys: [String: Set<String>] = [
        "cut": ["cable"], "restore": ["cable"], "impair": ["cable", "impairments"],
        "start_stack": ["stack"], "stop_stack": ["stack"], "restart_stack": ["stack"],
        "restart_switch": ["switch"], "flush_macs": ["switch"], "sleep": ["seconds"],
        "wait_until": ["host", "ping", "tcp", "argv", "timeout_s", "interval_s"],
        "capture_start": ["switch", "port", "cable", "direction", "filter", "snaplen", "count", "duration_s"],
        "capture_stop": ["capture"],
    ]
    /// The local name of the uplink's slirp stack.
    public static let uplinkName = "uplink"

    public static func analyze(_ document: JSON, vocabulary: some MemberVocabulary) -> ExperimentAnalysis {
        var problems: [LabProblem] = []
        func error(_ pointer: String, _ code: String, _ message: String) { problems.append(LabProblem(.error, pointer, code, message)) }
        func warning(_ pointer: String, _ code: String, _ message: String) { problems.append(LabProblem(.warning, pointer, code, message)) }
        var settings = ExperimentSettings()
        let empty = LabAnalysis(problems: [], switches: [], cables: [], stacks: [])

        guard let top = document.objectValue else {
            error("", "not_an_object", "an experiment document is an object with a topology and tasks")
            return ExperimentAnalysis(problems: problems, topology: empty, tasks: [], settings: settings)
        }
        for key in top.keys where !documentKeys.contains(key) {
            error("/" + JSONPointer.token(key), "unknown_field", "`\(key)` is not part of an experiment document (\(documentKeys.sorted().joined(separator: ", ")))")
        }
        if let description = top["description"], description.stringValue == nil {
            error("/description", "invalid_field", "the description must be a string")
        }

        // The topology, exactly as a lab's.
        var topology = empty
        if let declared = top["topology"] {
            topology = LabAnalyzer.analyze(declared, vocabulary: vocabulary)
            problems += topology.problems.map { LabProblem($0.severity, "/topology" + $0.pointer, $0.code, $0.message) }
        } else {
            error("/topology", "missing_field", "an experiment needs a topology: a lab document (switches, cables, stacks)")
        }
        let switchNames = Set(topology.switches.map(\.name))
        let cableNames = Set(topology.cables.map(\.name))
        let stackNames = Set(topology.stacks.map(\.name))
        let switchPorts = Dictionary(topology.switches.map { ($0.name, $0.ports) }, uniquingKeysWith: { first, _ in first })

        // Confined: nothing in the network reaches past it unless an uplink is declared.
        let stackList = top["topology"]?["stacks"]?.arrayValue ?? []
        for (index, stack) in stackList.enumerated() {
            if let kind = stack["kind"]?.stringValue, kind == "slirp" || kind == "tap" {
                error("/topology/stacks/\(index)/kind", "route_out",
                      "an experiment's network is confined: a \(kind) stack reaches outside it (declare `uplink: {switch}` for a NAT uplink)")
            }
        }
        for (index, cable) in (top["topology"]?["cables"]?.arrayValue ?? []).enumerated() {
            for end in ["a", "b"] where cable[end]?["remote"] != nil {
                error("/topology/cables/\(index)/\(end)/remote", "route_out",
                      "an experiment's network is confined: a remote cable end reaches another host")
            }
        }

        // Run settings.
        if let timeout = top["timeout_s"] {
            if let seconds = timeout.doubleValue, (1...86_400).contains(seconds) { settings.timeoutSeconds = seconds } else {
                error("/timeout_s", "invalid_field", "timeout_s (the whole run) is 1 to 86400 seconds")
            }
        }
        if let parallel = top["max_parallel"] {
            if let count = parallel.integerValue, (1...64).contains(count) { settings.maxParallel = count } else {
                error("/max_parallel", "invalid_field", "max_parallel is 1 to 64 tasks at once")
            }
        }
        if let seed = top["seed"] {
            if let number = seed.integerValue.flatMap(UInt64.init(exactly:)) ?? seed.stringValue.flatMap({ $0.utf8.count <= 19 ? UInt64($0) : nil }) {
                settings.seed = number
            } else {
                error("/seed", "invalid_field", "seed is a non-negative integer, or one of up to 19 digits as a string")
            }
        }
        if let uplink = top["uplink"] {
            if let object = uplink.objectValue, let name = object["switch"]?.stringValue, object.count == 1 {
                if !switchNames.contains(name) {
                    error("/uplink/switch", "unknown_switch", "there is no switch \(name) in the topology")
                } else if stackNames.contains(uplinkName) {
                    error("/uplink", "duplicate_name", "the uplink is a stack named \(uplinkName); the topology already has one")
                } else {
                    settings.uplinkSwitch = name
                }
            } else {
                error("/uplink", "invalid_field", "uplink is {switch: NAME}: a NAT uplink (slirp, DHCP) plugged into that switch")
            }
        }

        // The tasks, each on its own.
        var tasks: [(task: ExperimentTask, index: Int)] = []
        var declared: [(id: String, after: [String], index: Int)] = []
        var firstIndex: [String: Int] = [:]
        let items: [JSON]
        if let list = top["tasks"] {
            if let array = list.arrayValue { items = array } else {
                error("/tasks", "invalid_field", "tasks is a list of tasks")
                items = []
            }
        } else {
            error("/tasks", "missing_field", "an experiment needs tasks: what its hosts do, in which order")
            items = []
        }
        let cableBodies = Dictionary((top["topology"]?["cables"]?.arrayValue ?? []).compactMap { body in body["name"]?.stringValue.map { ($0, body) } },
                                     uniquingKeysWith: { first, _ in first })
        for (index, item) in items.enumerated() {
            let at = "/tasks/\(index)"
            guard let body = item.objectValue else {
                error(at, "invalid_field", "a task is an object with an id")
                continue
            }
            guard let id = body["id"]?.stringValue, DocumentID.isValid(id) else {
                error(at + "/id", body["id"] == nil ? "missing_field" : "invalid_field",
                      "a task has an id: 1 to 63 letters, digits, `-`, `_` or `.`")
                continue
            }
            if let first = firstIndex[id] {
                error(at + "/id", "duplicate_id", "task \(id) is already declared at /tasks/\(first)")
                continue
            }
            firstIndex[id] = index
            var after: [String] = []
            if let list = body["after"] {
                if let names = list.arrayValue?.compactMap(\.stringValue), names.count == list.arrayValue?.count { after = names } else {
                    error(at + "/after", "invalid_field", "after is a list of task ids")
                }
            }
            declared.append((id, after, index))
            if let description = body["description"], description.stringValue == nil {
                error(at + "/description", "invalid_field", "a task's description is a string")
            }
            var reader = FieldReader(body: body, at: at, report: error, warn: warning)
            let work: ExperimentTask.Work?
            switch (body["argv"] != nil && body["action"] == nil, body["action"]) {
            case (true, _):
                reader.allowed = taskKeys.union(commandKeys)
                work = readCommand(&reader, stacks: stackNames).map { .command($0) }
            case (false, nil):
                error(at, "missing_field", "a task has argv (a command on hosts) or action (done by vsquared: "
                      + actionKeys.keys.sorted().joined(separator: ", ") + ")")
                reader.allowed = Set(body.keys)
                work = nil
            case (false, let action?):
                guard let name = action.stringValue else {
                    error(at + "/action", "invalid_field", "action is a string")
                    continue
                }
                guard let keys = actionKeys[name] else {
                    error(at + "/action", "unknown_action", "\(name) is not an action (\(actionKeys.keys.sorted().joined(separator: ", ")))")
                    continue
                }
                reader.allowed = taskKeys.union(keys).union(["action"])
                work = readAction(name, &reader, switches: switchNames, cables: cableNames, stacks: stackNames,
                                  ports: switchPorts, cableBodies: cableBodies, vocabulary: vocabulary).map { .control($0) }
            }
            reader.finish()
            if let work { tasks.append((ExperimentTask(id: id, after: after, work: work), index)) }
        }

        // The graph: references, a cycle, tasks alone.
        for task in declared {
            for (position, before) in task.after.enumerated() where firstIndex[before] == nil {
                error("/tasks/\(task.index)/after/\(position)", "unknown_task", "there is no task \(before)")
            }
        }
        let graph = TaskGraph(declared.map { ($0.id, $0.after) })
        if let cycle = graph.cycle() {
            let where_ = firstIndex[cycle[0]].map { "/tasks/\($0)/after" } ?? "/tasks"
            error(where_, "cycle", "the tasks' after make a cycle: " + cycle.joined(separator: " → "))
        } else {
            checkStoppedHosts(tasks, graph: graph, error)
            checkCaptureStops(tasks, graph: graph, error)
        }
        if declared.count > 1 {
            for task in declared where task.after.isEmpty && (graph.dependents[task.id] ?? []).isEmpty {
                warning("/tasks/\(task.index)", "isolated_task", "task \(task.id) is after no task and no task is after it")
            }
        }
        let used = Set(tasks.flatMap(\.task.hosts))
        for (index, stack) in stackList.enumerated() {
            if let name = stack["name"]?.stringValue, stackNames.contains(name), !used.contains(name) {
                warning("/topology/stacks/\(index)", "unused_host", "no task runs on or acts on host \(name)")
            }
        }
        problems.sort { ($0.severity == .error ? 0 : 1, $0.pointer) < ($1.severity == .error ? 0 : 1, $1.pointer) }
        return ExperimentAnalysis(problems: problems, topology: topology, tasks: tasks.map(\.task), settings: settings)
    }

    /// `capture_start`: a switch port or a cable, which way, and what is kept (the filter compiled by libpcap now).
    static func readCapture(_ reader: inout FieldReader, switches: Set<String>, cables: Set<String>, ports: [String: Int]) -> CaptureRequest? {
        let at = reader.at
        let point: CaptureRequest.Point?
        switch (reader.body["switch"] != nil, reader.body["cable"] != nil) {
        case (true, false):
            let name = reader.string("switch")
            let port = reader.body["port"] == nil ? nil : reader.integer("port", in: 1...4096, rule: "port is a port number, 1 to 4096")
            if reader.body["port"] == nil { reader.report(at + "/port", "missing_field", "a switch capture names its port") }
            let direction = reader.string("direction") ?? "both"
            if !["rx", "tx", "both"].contains(direction) { reader.report(at + "/direction", "invalid_field", "a port capture's direction is rx, tx or both") }
            guard let name, let port, ["rx", "tx", "both"].contains(direction) else { return nil }
            guard switches.contains(name) else {
                reader.report(at + "/switch", "unknown_switch", "there is no switch \(name) in the topology")
                return nil
            }
            if let size = ports[name], port > size {
                reader.report(at + "/port", "port_out_of_range", "switch \(name) has ports 1 to \(size)")
                return nil
            }
            point = .port(switch: name, port: port, direction: direction)
        case (false, true):
            let name = reader.string("cable")
            let direction = reader.string("direction") ?? "both"
            if !["a_to_b", "b_to_a", "both"].contains(direction) {
                reader.report(at + "/direction", "invalid_field", "a cable capture's direction is a_to_b, b_to_a or both")
            }
            if reader.body["port"] != nil { reader.report(at + "/port", "invalid_field", "a cable capture has no port") }
            guard let name, ["a_to_b", "b_to_a", "both"].contains(direction) else { return nil }
            guard cables.contains(name) else {
                reader.report(at + "/cable", "unknown_cable", "there is no cable \(name) in the topology")
                return nil
            }
            point = .cable(name, direction: direction)
        default:
            reader.report(at, reader.body["switch"] == nil ? "missing_field" : "invalid_field",
                          "capture_start captures either a switch port (switch and port) or a cable (cable)")
            point = nil
        }
        let snaplen = reader.integer("snaplen", in: 1...65535, rule: "snaplen is 1 to 65535 bytes") ?? 65535
        let count = reader.integer("count", in: 1...1_000_000_000, rule: "count is 1 to 1000000000 frames")
        let duration = reader.number("duration_s", in: 0.001...86_400, rule: "duration_s is up to 86400 seconds")
        let filter = reader.string("filter") ?? ""
        do {
            _ = try CaptureFilter(filter, snaplen: snaplen)
        } catch {
            reader.report(at + "/filter", "invalid_filter", "libpcap does not compile the filter \"\(filter)\": \(error.description)")
            return nil
        }
        return point.map { CaptureRequest(point: $0, filter: filter, snaplen: snaplen, count: count, durationSeconds: duration) }
    }

    /// A `capture_stop` names a `capture_start` task that comes before it on every path (it is among its ancestors).
    static func checkCaptureStops(_ tasks: [(task: ExperimentTask, index: Int)], graph: TaskGraph, _ error: (String, String, String) -> Void) {
        let starts = Set(tasks.compactMap { entry -> String? in
            if case .control(.captureStart) = entry.task.work { return entry.task.id }
            return nil
        })
        for entry in tasks {
            guard case .control(.captureStop(let start)) = entry.task.work else { continue }
            guard starts.contains(start) else {
                error("/tasks/\(entry.index)/capture", "unknown_capture", "there is no capture_start task \(start)")
                continue
            }
            var ancestors: Set<String> = []
            var frontier = graph.prerequisites[entry.task.id] ?? []
            while let next = frontier.popLast() {
                if ancestors.insert(next).inserted { frontier += graph.prerequisites[next] ?? [] }
            }
            if !ancestors.contains(start) {
                error("/tasks/\(entry.index)/after", "capture_order", "task \(entry.task.id) stops capture \(start), so it must come after it (directly or not)")
            }
        }
    }

    /// A host is stopped for a task when every path to it passes a `stop_stack` of that host with no
    /// start or restart after it: a forward pass in topological order, meeting over prerequisites.
    static func checkStoppedHosts(_ tasks: [(task: ExperimentTask, index: Int)], graph: TaskGraph,
                                  _ error: (String, String, String) -> Void) {
        let byID = Dictionary(tasks.map { ($0.task.id, $0) }, uniquingKeysWith: { first, _ in first })
        var stoppedAfter: [String: Set<String>] = [:]
        var stoppedBy: [String: [String: String]] = [:]   // task → host → the task that stopped it
        var remaining = graph.ids
        while !remaining.isEmpty {
            guard let next = remaining.firstIndex(where: { id in (graph.prerequisites[id] ?? []).allSatisfy { stoppedAfter[$0] != nil } }) else { return }
            let id = remaining.remove(at: next)
            let before = graph.prerequisites[id] ?? []
            var stopped = before.isEmpty ? [] : before.map { stoppedAfter[$0]! }.reduce(stoppedAfter[before[0]]!) { $0.intersection($1) }
            var who: [String: String] = [:]
            for host in stopped { who[host] = before.compactMap { stoppedBy[$0]?[host] }.first }
            if let entry = byID[id] {
                let task = entry.task
                switch task.work {
                case .command(let command):
                    for (position, host) in command.hosts.enumerated() where stopped.contains(host) {
                        error("/tasks/\(entry.index)/hosts/\(position)", "host_stopped",
                              "host \(host) is stopped by task \(who[host] ?? "?") on every path to \(task.id)")
                    }
                case .control(let action):
                    switch action {
                    case .stopStack(let host):
                        stopped.insert(host)
                        who[host] = task.id
                    case .startStack(let host), .restartStack(let host):
                        stopped.remove(host)
                    case .waitUntil(let condition) where stopped.contains(condition.host):
                        error("/tasks/\(entry.index)/host", "host_stopped",
                              "host \(condition.host) is stopped by task \(who[condition.host] ?? "?") on every path to \(task.id)")
                    default:
                        break
                    }
                }
            }
            stoppedAfter[id] = stopped
            stoppedBy[id] = who
        }
    }

    // MARK: reading a task's fields

    static func readCommand(_ reader: inout FieldReader, stacks: Set<String>) -> CommandTask? {
        let hosts = reader.strings("hosts", rule: "hosts is a list of the stacks the command runs on", required: true)
        if let hosts {
            if hosts.isEmpty { reader.report(reader.at + "/hosts", "invalid_field", "hosts names at least one stack") }
            for (position, host) in hosts.enumerated() where !stacks.contains(host) {
                reader.report("\(reader.at)/hosts/\(position)", "unknown_host", "there is no stack \(host) in the topology")
            }
            if Set(hosts).count != hosts.count { reader.report(reader.at + "/hosts", "invalid_field", "a host is named twice") }
        }
        let argv = reader.strings("argv", rule: "argv is a program and its arguments, as strings", required: true)
        if argv?.isEmpty == true { reader.report(reader.at + "/argv", "invalid_field", "argv names a program") }
        let stdin = reader.string("stdin") ?? ""
        var environment: [String: String] = [:]
        if let env = reader.take("env") {
            if let object = env.objectValue, object.allSatisfy({ $0.value.stringValue != nil }) {
                for (key, value) in object { environment[key] = value.stringValue }
            } else {
                reader.report(reader.at + "/env", "invalid_field", "env is an object of strings")
            }
        }
        let timeout = reader.number("timeout_s", in: 0.1...86_400, rule: "timeout_s is 0.1 to 86400 seconds") ?? 60
        let retries = reader.integer("retries", in: 0...20, rule: "retries is 0 to 20 further attempts") ?? 0
        var expectation = TaskExpectation()
        if let expect = reader.take("expect") {
            expectation = TaskExpectation.read(expect, at: reader.at + "/expect", reader.report, reader.warn) ?? expectation
        }
        var measures: [Measure] = []
        if let measure = reader.take("measure") {
            measures = readMeasures(measure, at: reader.at + "/measure", reader.report)
        }
        guard let hosts, let argv, !hosts.isEmpty, !argv.isEmpty else { return nil }
        return CommandTask(hosts: hosts, argv: argv, stdin: stdin, environment: environment, timeoutSeconds: timeout, retries: retries,
                           expectation: expectation, measures: measures)
    }

    static func readMeasures(_ value: JSON, at: String, _ report: (String, String, String) -> Void) -> [Measure] {
        guard let items = value.arrayValue else {
            report(at, "invalid_field", "measure is a list of {name, regex, group?, stream?} or {name, json_path}")
            return []
        }
        var measures: [Measure] = []
        var names: Set<String> = []
        for (index, item) in items.enumerated() {
            let pointer = "\(at)/\(index)"
            guard let object = item.objectValue, let name = object["name"]?.stringValue, !name.isEmpty else {
                report(pointer, "invalid_field", "a measure has a name and a regex or a json_path")
                continue
            }
            if !names.insert(name).inserted { report(pointer + "/name", "duplicate_name", "measure \(name) is declared twice") }
            for key in object.keys where !["name", "regex", "group", "stream", "json_path"].contains(key) {
                report(pointer + "/" + JSONPointer.token(key), "unknown_field", "a measure has name, regex, group, stream or json_path")
            }
            switch (object["regex"]?.stringValue, object["json_path"]?.stringValue) {
            case (let pattern?, nil):
                let group = object["group"]?.integerValue ?? 1
                let stream = object["stream"]?.stringValue ?? "stdout"
                if object["group"] != nil && !(0...99).contains(object["group"]?.integerValue ?? -1) {
                    report(pointer + "/group", "invalid_field", "group is the capture group's number, 0 to 99")
                }
                if stream != "stdout" && stream != "stderr" { report(pointer + "/stream", "invalid_field", "stream is stdout or stderr") }
                if let problem = TaskExpectation.regexProblem(pattern) {
                    report(pointer + "/regex", "invalid_regex", "the regex /\(pattern)/ does not compile: \(problem)")
                } else {
                    measures.append(Measure(name: name, source: .regex(pattern: pattern, group: group, stream: stream)))
                }
            case (nil, let path?):
                if let steps = Measure.path(path) { measures.append(Measure(name: name, source: .jsonPath(steps))) } else {
                    report(pointer + "/json_path", "invalid_field", "json_path is keys and [indexes] joined by dots: end.sum_received.bits_per_second")
                }
            default:
                report(pointer, "invalid_field", "a measure has either regex (with group and stream) or json_path")
            }
        }
        return measures
    }

    static func readAction(_ name: String, _ reader: inout FieldReader, switches: Set<String>, cables: Set<String>, stacks: Set<String>,
                           ports: [String: Int], cableBodies: [String: JSON], vocabulary: some MemberVocabulary) -> ControlAction? {
        func member(_ key: String, in known: Set<String>, code: String, noun: String) -> String? {
            guard let value = reader.string(key, required: true) else { return nil }
            guard known.contains(value) else {
                reader.report(reader.at + "/" + key, code, "there is no \(noun) \(value) in the topology")
                return nil
            }
            return value
        }
        switch name {
        case "cut": return member("cable", in: cables, code: "unknown_cable", noun: "cable").map { .cut(cable: $0) }
        case "restore": return member("cable", in: cables, code: "unknown_cable", noun: "cable").map { .restore(cable: $0) }
        case "impair":
            let cable = member("cable", in: cables, code: "unknown_cable", noun: "cable")
            guard let impairments = reader.take("impairments") else {
                reader.report(reader.at + "/impairments", "missing_field", "impair sets the cable's impairments: {delay_ms, loss_pct, a_to_b: {…}, …}")
                return nil
            }
            guard let cable else { return nil }
            // The cable's own validator, on its declared body with these impairments.
            var body = cableBodies[cable]?.objectValue ?? [:]
            body["impairments"] = impairments
            for field in ["labels"] { body[field] = nil }
            do throws(MemberRefusal) {
                _ = try vocabulary.cableFacts(.object(body))
            } catch {
                let field = error.field.hasPrefix("impairments") ? String(error.field.dropFirst("impairments".count).drop { $0 == "." }) : ""
                reader.report(LabProblem.pointer(reader.at + "/impairments", field: field), error.code, error.message)
                return nil
            }
            return .impair(cable: cable, impairments: impairments)
        case "start_stack": return member("stack", in: stacks, code: "unknown_host", noun: "stack").map { .startStack($0) }
        case "stop_stack": return member("stack", in: stacks, code: "unknown_host", noun: "stack").map { .stopStack($0) }
        case "restart_stack": return member("stack", in: stacks, code: "unknown_host", noun: "stack").map { .restartStack($0) }
        case "restart_switch": return member("switch", in: switches, code: "unknown_switch", noun: "switch").map { .restartSwitch($0) }
        case "flush_macs": return member("switch", in: switches, code: "unknown_switch", noun: "switch").map { .flushMACs(switch: $0) }
        case "capture_start": return readCapture(&reader, switches: switches, cables: cables, ports: ports).map { .captureStart($0) }
        case "capture_stop": return reader.string("capture", required: true).map { .captureStop(task: $0) }
        case "sleep":
            guard reader.body["seconds"] != nil else {
                reader.report(reader.at + "/seconds", "missing_field", "sleep waits `seconds`")
                return nil
            }
            return reader.number("seconds", in: 0...3600, rule: "seconds is 0 to 3600").map { .sleep(seconds: $0) }
        default:   // wait_until
            let host = member("host", in: stacks, code: "unknown_host", noun: "stack")
            let probes = ["ping", "tcp", "argv"].filter { reader.body[$0] != nil }
            guard probes.count == 1 else {
                reader.report(reader.at, probes.isEmpty ? "missing_field" : "invalid_field",
                              "wait_until waits for exactly one of ping (an address answers), tcp (HOST:PORT accepts) and argv (a command succeeds)")
                return nil
            }
            guard reader.body["timeout_s"] != nil else {
                reader.report(reader.at + "/timeout_s", "missing_timeout", "wait_until needs timeout_s: how long to wait before the task fails")
                return nil
            }
            let timeout = reader.number("timeout_s", in: 0.1...86_400, rule: "timeout_s is 0.1 to 86400 seconds")
            let interval = reader.number("interval_s", in: 0.05...60, rule: "interval_s is 0.05 to 60 seconds") ?? 0.2
            var probe: WaitCondition.Probe?
            switch probes[0] {
            case "ping":
                if let address = reader.string("ping") {
                    if IPPrefix(address + (address.contains(":") ? "/128" : "/32")) != nil { probe = .ping(address) } else {
                        reader.report(reader.at + "/ping", "invalid_field", "ping is an IPv4 or IPv6 address")
                    }
                }
            case "tcp":
                if let target = reader.string("tcp") {
                    let parts = target.split(separator: ":")
                    if parts.count == 2, IPPrefix(String(parts[0]) + "/32") != nil, let port = Int(parts[1]), (1...65535).contains(port) {
                        probe = .tcp(host: String(parts[0]), port: port)
                    } else {
                        reader.report(reader.at + "/tcp", "invalid_field", "tcp is IPV4:PORT, the address and port to connect to")
                    }
                }
            default:
                if let argv = reader.strings("argv", rule: "argv is a program and its arguments, as strings", required: true) {
                    if argv.isEmpty { reader.report(reader.at + "/argv", "invalid_field", "argv names a program") } else { probe = .command(argv) }
                }
            }
            guard let host, let probe, let timeout else { return nil }
            return .waitUntil(WaitCondition(host: host, probe: probe, timeoutSeconds: timeout, intervalSeconds: interval))
        }
    }
}

/// Reads one task's fields, reporting each bad one at its pointer and, at the end, every field the
/// task's kind does not have.
struct FieldReader {
    let body: JSONObject
    let at: String
    let report: (String, String, String) -> Void
    let warn: (String, String, String) -> Void
    var allowed: Set<String> = []

    init(body: JSONObject, at: String, report: @escaping (String, String, String) -> Void, warn: @escaping (String, String, String) -> Void) {
        self.body = body
        self.at = at
        self.report = report
        self.warn = warn
    }

    func take(_ key: String) -> JSON? { body[key] }

    func string(_ key: String, required: Bool = false) -> String? {
        guard let value = body[key] else {
            if required { report(at + "/" + key, "missing_field", "\(key) is required here") }
            return nil
        }
        guard let text = value.stringValue, !text.isEmpty || key == "stdin" else {
            report(at + "/" + key, "invalid_field", "\(key) is a string")
            return nil
        }
        return text
    }

    func strings(_ key: String, rule: String, required: Bool) -> [String]? {
        guard let value = body[key] else {
            if required { report(at + "/" + key, "missing_field", rule) }
            return nil
        }
        guard let items = value.arrayValue, case let texts = items.compactMap(\.stringValue), texts.count == items.count else {
            report(at + "/" + key, "invalid_field", rule)
            return nil
        }
        return texts
    }

    func number(_ key: String, in range: ClosedRange<Double>, rule: String) -> Double? { value(key, in: range, rule: rule, \.doubleValue) }

    func integer(_ key: String, in range: ClosedRange<Int>, rule: String) -> Int? { value(key, in: range, rule: rule, \.integerValue) }

    /// The field read by `read` when it is there and in `range`; reported (and nil) when it is there but is not.
    private func value<T: Comparable>(_ key: String, in range: ClosedRange<T>, rule: String, _ read: (JSON) -> T?) -> T? {
        guard let value = body[key] else { return nil }
        guard let number = read(value), range.contains(number) else {
            report(at + "/" + key, "invalid_field", rule)
            return nil
        }
        return number
    }

    func finish() {
        for key in body.keys where !allowed.contains(key) {
            report(at + "/" + JSONPointer.token(key), "unknown_field", "`\(key)` is not a field of this task (\(allowed.sorted().joined(separator: ", ")))")
        }
    }
}
