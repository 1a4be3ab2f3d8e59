// The experiment analyzer in-process, with the real noun validators: a good document has no
// problems; a bad one gets every problem at once, each at its JSON pointer, in the labs' shape.
import ControlPlane
import ExperimentEngine
import JSON
import LabEngine
import Testing

@Suite struct ExperimentAnalyzerTests {
    let vocabulary = NounVocabulary()

    /// Two LANs joined by a router, and a lossy cable between lan2 and lan3.
    static let topology: JSON = [
        "switches": [["name": "lan1"], ["name": "lan2"], ["name": "lan3"]],
        "cables": [["name": "wan", "a": ["switch": "lan2"], "b": ["switch": "lan3"], "impairments": ["loss_pct": 5]]],
        "stacks": [
            ["name": "h1", "interfaces": [["name": "eth0", "switch": "lan1", "addresses": ["10.1.0.10/24"]]],
             "routes": [["to": "default", "via": "10.1.0.1"]]],
            ["name": "h2", "interfaces": [["name": "eth0", "switch": "lan3", "addresses": ["10.2.0.10/24"]]],
             "routes": [["to": "default", "via": "10.2.0.1"]]],
            ["name": "r1", "forwarding": true,
             "interfaces": [["name": "eth0", "switch": "lan1", "addresses": ["10.1.0.1/24"]],
                            ["name": "eth1", "switch": "lan2", "addresses": ["10.2.0.1/24"]]]],
        ],
    ]

    func experiment(_ tasks: [JSON], _ extra: JSONObject = [:]) -> JSON {
        var document: JSONObject = ["topology": ExperimentAnalyzerTests.topology, "tasks": .array(tasks)]
        for (key, value) in extra { document[key] = value }
        return .object(document)
    }

    func codes(_ analysis: ExperimentAnalysis) -> [String] { analysis.problems.map { "\($0.code) \($0.pointer)" } }

    @Test func aGoodExperimentHasNoProblems() throws {
        let analysis = ExperimentAnalyzer.analyze(experiment([
            ["id": "ready", "action": "wait_until", "host": "h1", "ping": "10.1.0.1", "timeout_s": 10],
            ["id": "ping", "after": ["ready"], "hosts": ["h1"], "argv": ["ping", "-c", "3", "10.2.0.10"],
             "expect": ["stdout": "3 received"],
             "measure": [["name": "rtt_ms", "regex": "= [0-9.]+/([0-9.]+)/"]]],
            ["id": "cut", "after": ["ping"], "action": "cut", "cable": "wan"],
            ["id": "lost", "after": ["cut"], "hosts": ["h1", "r1"], "argv": ["ping", "-c", "1", "-W", "1", "10.2.0.10"],
             "expect": ["fail": true]],
            ["id": "slower", "after": ["lost"], "action": "impair", "cable": "wan", "impairments": ["delay_ms": 20, "a_to_b": ["loss_pct": 1]]],
            ["id": "back", "after": ["slower"], "action": "restore", "cable": "wan"],
            ["id": "h2-again", "after": ["back"], "action": "restart_stack", "stack": "h2"],
            ["id": "flush", "after": ["h2-again"], "action": "flush_macs", "switch": "lan1"],
            ["id": "nap", "after": ["flush"], "action": "sleep", "seconds": 0.5],
        ], ["seed": 7, "max_parallel": 2, "timeout_s": 120, "description": "routing"]), vocabulary: vocabulary)
        #expect(analysis.problems == [], "\(analysis.problems)")
        #expect(analysis.tasks.map(\.id) == ["ready", "ping", "cut", "lost", "slower", "back", "h2-again", "flush", "nap"])
        #expect(analysis.settings.seed == 7 && analysis.settings.maxParallel == 2 && analysis.settings.timeoutSeconds == 120)
        guard case .command(let ping) = analysis.tasks[1].work else { Issue.record("ping is a command"); return }
        #expect(ping.measures == [Measure(name: "rtt_ms", source: .regex(pattern: "= [0-9.]+/([0-9.]+)/", group: 1, stream: "stdout"))])
        #expect(analysis.tasks[0].work == .control(.waitUntil(WaitCondition(host: "h1", probe: .ping("10.1.0.1"), timeoutSeconds: 10))))
    }

    @Test func aCycleIsNamedAsThePathThatClosesIt() {
        let analysis = ExperimentAnalyzer.analyze(experiment([
            ["id": "a", "after": ["c"], "hosts": ["h1"], "argv": ["true"]],
            ["id": "b", "after": ["a"], "hosts": ["h2"], "argv": ["true"]],
            ["id": "c", "after": ["b"], "hosts": ["r1"], "argv": ["true"]],
        ]), vocabulary: vocabulary)
        let cycle = analysis.errors.filter { $0.code == "cycle" }
        #expect(cycle.count == 1)
        #expect(cycle.first?.message.hasSuffix("a → b → c → a") == true, "\(cycle)")
        #expect(cycle.first?.pointer == "/tasks/0/after")
        let selfish = ExperimentAnalyzer.analyze(experiment([["id": "me", "after": ["me"], "hosts": ["h1", "h2", "r1"], "argv": ["true"]]]),
                                                 vocabulary: vocabulary)
        #expect(selfish.errors.map(\.message).contains { $0.hasSuffix("me → me") }, "\(selfish.problems)")
    }

    @Test func everyProblemAtOnceEachAtItsPointer() {
        let analysis = ExperimentAnalyzer.analyze(experiment([
            ["id": "one", "hosts": ["h1", "nowhere"], "argv": ["true"], "colour": "red"],
            ["id": "one", "hosts": ["h2"], "argv": ["true"]],
            ["id": "two", "after": ["one", "ghost"], "hosts": ["r1"], "argv": ["grep"], "expect": ["stdout": "([a-z"]],
            ["id": "wait", "after": ["two"], "action": "wait_until", "host": "h1", "ping": "10.1.0.1"],
            ["id": "cut", "after": ["two"], "action": "cut", "cable": "fibre"],
            ["id": "flush", "after": ["two"], "action": "flush_macs", "switch": "sw9"],
            ["id": "warp", "after": ["two"], "action": "teleport"],
            ["id": "cap", "after": ["two"], "action": "capture_start"],
            ["id": "worse", "after": ["two"], "action": "impair", "cable": "wan", "impairments": ["loss_pct": 300]],
            ["id": "bad measure", "hosts": ["h1"], "argv": ["true"]],
            ["id": "m", "after": ["two"], "hosts": ["h1"], "argv": ["true"], "timeout_s": -1, "retries": 99,
             "measure": [["name": "x", "regex": "(+"], ["name": "y", "json_path": "a..b"], ["name": "z"]]],
            ["id": "nothing", "after": ["two"]],
        ], ["max_parallel": 0, "uplink": ["switch": "lan9"], "extra": true]), vocabulary: vocabulary)
        let found = Set(codes(analysis))
        for expected in ["unknown_host /tasks/0/hosts/1", "unknown_field /tasks/0/colour", "duplicate_id /tasks/1/id",
                         "unknown_task /tasks/2/after/1", "invalid_regex /tasks/2/expect/stdout", "missing_timeout /tasks/3/timeout_s",
                         "unknown_cable /tasks/4/cable", "unknown_switch /tasks/5/switch", "unknown_action /tasks/6/action",
                         "missing_field /tasks/7", "invalid_field /tasks/9/id", "invalid_field /tasks/10/timeout_s",
                         "invalid_field /tasks/10/retries", "invalid_regex /tasks/10/measure/0/regex", "invalid_field /tasks/10/measure/1/json_path",
                         "invalid_field /tasks/10/measure/2", "missing_field /tasks/11", "invalid_field /max_parallel",
                         "unknown_switch /uplink/switch", "unknown_field /extra"] {
            #expect(found.contains(expected), "missing \(expected) in \(codes(analysis))")
        }
        #expect(analysis.errors.contains { $0.pointer.hasPrefix("/tasks/8/impairments") }, "\(codes(analysis))")
        #expect(analysis.errors.allSatisfy { !$0.message.isEmpty })
    }

    @Test func aCommandOnAHostStoppedOnEveryPathIsRefusedButNotOnOnlyOne() {
        let stopped = ExperimentAnalyzer.analyze(experiment([
            ["id": "down", "action": "stop_stack", "stack": "h2"],
            ["id": "left", "after": ["down"], "hosts": ["h1"], "argv": ["true"]],
            ["id": "right", "after": ["down"], "hosts": ["r1"], "argv": ["true"]],
            ["id": "use", "after": ["left", "right"], "hosts": ["h2"], "argv": ["true"]],
            ["id": "probe", "after": ["use"], "action": "wait_until", "host": "h2", "argv": ["true"], "timeout_s": 1],
        ]), vocabulary: vocabulary)
        #expect(codes(stopped).filter { $0.hasPrefix("host_stopped") } == ["host_stopped /tasks/3/hosts/0", "host_stopped /tasks/4/host"],
                "\(codes(stopped))")
        #expect(stopped.errors.first?.message.contains("stopped by task down") == true)
        // Started again on one path only: not stopped on every path, so allowed.
        let restarted = ExperimentAnalyzer.analyze(experiment([
            ["id": "down", "action": "stop_stack", "stack": "h2"],
            ["id": "up", "after": ["down"], "action": "start_stack", "stack": "h2"],
            ["id": "other", "after": ["down"], "hosts": ["r1"], "argv": ["true"]],
            ["id": "use", "after": ["up", "other"], "hosts": ["h2", "h1"], "argv": ["true"]],
        ]), vocabulary: vocabulary)
        #expect(restarted.errors == [], "\(restarted.problems)")
        // Stopped alongside (not before): a race the author may intend; no error.
        let alongside = ExperimentAnalyzer.analyze(experiment([
            ["id": "down", "action": "stop_stack", "stack": "h2"],
            ["id": "use", "hosts": ["h2", "h1", "r1"], "argv": ["true"]],
        ]), vocabulary: vocabulary)
        #expect(alongside.errors == [], "\(alongside.problems)")
    }

    @Test func capturesNameAPortOrACableWithAFilterLibpcapCompilesAndStopAfterTheyStart() {
        let good = ExperimentAnalyzer.analyze(experiment([
            ["id": "cap", "action": "capture_start", "switch": "lan1", "port": 2, "direction": "tx", "filter": "icmp", "snaplen": 96],
            ["id": "wire", "action": "capture_start", "cable": "wan", "direction": "a_to_b", "count": 10],
            ["id": "ping", "after": ["cap", "wire"], "hosts": ["h1", "h2", "r1"], "argv": ["true"]],
            ["id": "done", "after": ["ping"], "action": "capture_stop", "capture": "cap"],
        ]), vocabulary: vocabulary)
        #expect(good.errors == [], "\(good.problems)")
        let port = CaptureRequest(point: .port(switch: "lan1", port: 2, direction: "tx"), filter: "icmp", snaplen: 96)
        #expect(good.tasks.first?.work == .control(.captureStart(port)))
        #expect(good.tasks.last?.work == .control(.captureStop(task: "cap")))

        let bad = ExperimentAnalyzer.analyze(experiment([
            ["id": "a", "action": "capture_start", "switch": "lan1", "port": 99],
            ["id": "b", "action": "capture_start", "cable": "wan", "filter": "tcp port and"],
            ["id": "c", "action": "capture_start", "switch": "lan9", "port": 1, "direction": "a_to_b"],
            ["id": "d", "action": "capture_start", "switch": "lan1", "cable": "wan", "port": 1],
            ["id": "early", "action": "capture_stop", "capture": "ok"],
            ["id": "none", "after": ["a"], "action": "capture_stop", "capture": "ping"],
            ["id": "e", "action": "capture_start", "switch": "lan1"],
            ["id": "ok", "action": "capture_start", "cable": "wan"],
        ]), vocabulary: vocabulary)
        let found = Set(codes(bad))
        for expected in ["port_out_of_range /tasks/0/port", "invalid_filter /tasks/1/filter", "invalid_field /tasks/2/direction",
                         "invalid_field /tasks/3", "capture_order /tasks/4/after", "unknown_capture /tasks/5/capture",
                         "missing_field /tasks/6/port"] {
            #expect(found.contains(expected), "missing \(expected) in \(codes(bad))")
        }
        #expect(bad.errors.first { $0.code == "invalid_filter" }?.message.contains("syntax error") == true)
    }

    @Test func warningsForLoneTasksUnusedHostsAndExpectationsThatCannotMatch() {
        let analysis = ExperimentAnalyzer.analyze(experiment([
            ["id": "a", "hosts": ["h1"], "argv": ["true"]],
            ["id": "b", "after": ["a"], "hosts": ["h1"], "argv": ["false"], "expect": ["exit_code": 0, "fail": true]],
            ["id": "alone", "action": "sleep", "seconds": 1],
        ]), vocabulary: vocabulary)
        #expect(analysis.errors == [], "\(analysis.problems)")
        #expect(Set(analysis.warnings.map { "\($0.code) \($0.pointer)" }) == [
            "isolated_task /tasks/2", "unused_host /topology/stacks/1", "unused_host /topology/stacks/2", "never_matches /tasks/1/expect",
        ], "\(analysis.warnings)")
    }

    @Test func theNetworkIsConfinedUnlessAnUplinkIsDeclared() {
        var topology = ExperimentAnalyzerTests.topology.objectValue!
        var stacks = topology["stacks"]!.arrayValue!
        stacks.append(["name": "nat", "kind": "slirp", "interfaces": [["name": "wan", "switch": "lan1"]]])
        topology["stacks"] = .array(stacks)
        var cables = topology["cables"]!.arrayValue!
        cables.append(["name": "far", "a": ["switch": "lan1"], "b": ["remote": ["connect": "127.0.0.1:9000", "plain": true]]])
        topology["cables"] = .array(cables)
        let analysis = ExperimentAnalyzer.analyze(["topology": .object(topology), "tasks": [["id": "a", "hosts": ["h1", "h2", "r1"], "argv": ["true"]]]],
                                                  vocabulary: vocabulary)
        #expect(Set(codes(analysis).filter { $0.hasPrefix("route_out") }) == ["route_out /topology/stacks/3/kind", "route_out /topology/cables/1/b/remote"],
                "\(codes(analysis))")
        // The declared uplink: a slirp stack named uplink on that switch, in the run's lab only.
        let uplinked = ExperimentAnalyzer.analyze(experiment([["id": "a", "hosts": ["h1", "h2", "r1"], "argv": ["true"]]], ["uplink": ["switch": "lan1"]]),
                                                  vocabulary: vocabulary)
        #expect(uplinked.errors == [] && uplinked.settings.uplinkSwitch == "lan1", "\(uplinked.problems)")
        let lab = RunTopology.document(ExperimentAnalyzerTests.topology, settings: uplinked.settings, seed: 9, labels: ["experiment": "e"])
        #expect(LabAnalyzer.analyze(lab, vocabulary: vocabulary).errors == [])
        #expect(lab["stacks"]?.arrayValue?.last?["kind"] == "slirp" && lab["labels"]?["experiment"] == "e")
    }

    @Test func topologyProblemsAreTheLabAnalyzersUnderTopology() {
        var topology = ExperimentAnalyzerTests.topology.objectValue!
        topology["switches"] = [["name": "lan1"], ["name": "lan1"], ["name": "lan3"]]
        let analysis = ExperimentAnalyzer.analyze(["topology": .object(topology), "tasks": []], vocabulary: vocabulary)
        #expect(codes(analysis).contains("duplicate_name /topology/switches/1/name"), "\(codes(analysis))")
        #expect(codes(analysis).contains("unknown_switch /topology/cables/0/a/switch"), "\(codes(analysis))")
        #expect(codes(ExperimentAnalyzer.analyze(["tasks": []], vocabulary: vocabulary)).contains("missing_field /topology"))
        #expect(codes(ExperimentAnalyzer.analyze("tasks", vocabulary: vocabulary)) == ["not_an_object "])
    }

    @Test func everyCableGetsASeedFromTheRunsStableAndDistinct() {
        let settings = ExperimentSettings()
        let once = RunTopology.document(ExperimentAnalyzerTests.topology, settings: settings, seed: 42, labels: [:])
        let again = RunTopology.document(ExperimentAnalyzerTests.topology, settings: settings, seed: 42, labels: [:])
        let other = RunTopology.document(ExperimentAnalyzerTests.topology, settings: settings, seed: 43, labels: [:])
        let seed = once["cables"]?[0]?["seed"]
        #expect(seed != nil && seed == again["cables"]?[0]?["seed"] && seed != other["cables"]?[0]?["seed"])
        #expect(RunTopology.cableSeed(42, cable: "a") != RunTopology.cableSeed(42, cable: "b"))
        #expect(RunTopology.cableSeed(42, cable: "a") <= UInt64(Int64.max))
    }
}

@Suite struct TaskExpectationTests {
    @Test func verdictsForExitCodesOutputAndTimeouts() {
        let plain = TaskExpectation()
        #expect(plain.verdicts(exitCode: 0, stdout: "", stderr: "", timedOut: false).allSatisfy { $0.passed })
        #expect(!plain.verdicts(exitCode: 1, stdout: "", stderr: "", timedOut: false).allSatisfy { $0.passed })
        let failing = TaskExpectation(fail: true)
        #expect(failing.verdicts(exitCode: 1, stdout: "", stderr: "", timedOut: false).allSatisfy { $0.passed })
        #expect(!failing.verdicts(exitCode: 0, stdout: "", stderr: "", timedOut: false).allSatisfy { $0.passed })
        #expect(!failing.verdicts(exitCode: nil, stdout: "", stderr: "", timedOut: true).allSatisfy { $0.passed })
        let exact = TaskExpectation(exitCode: 2, stdout: "([0-9]+) received", stderr: "^$")
        let verdicts = exact.verdicts(exitCode: 2, stdout: "3 packets transmitted, 3 received", stderr: "", timedOut: false)
        #expect(verdicts.map(\.check) == ["exit_code", "stdout", "stderr"] && verdicts.allSatisfy { $0.passed }, "\(verdicts)")
        #expect(verdicts[1].actual == "matched \"3 received\"")
        #expect(!exact.verdicts(exitCode: 2, stdout: "0 packets", stderr: "", timedOut: false)[1].passed)
        #expect(TaskExpectation.regexProblem("([a-z") != nil && TaskExpectation.regexProblem("a+b") == nil)
    }

    @Test func measuresFromARegexGroupOrAJSONPath() {
        let rtt = Measure(name: "rtt", source: .regex(pattern: "= [0-9.]+/([0-9.]+)/", group: 1, stream: "stdout"))
        #expect(rtt.value(stdout: "rtt min/avg/max/mdev = 0.041/0.063/0.090/0.020 ms", stderr: "") == 0.063)
        #expect(rtt.value(stdout: "nothing", stderr: "") == nil)
        let beyond = Measure(name: "x", source: .regex(pattern: "([0-9]+)", group: 3, stream: "stderr"))
        #expect(beyond.value(stdout: "", stderr: "12") == nil)
        let path = Measure.path("end.sum_received.bits_per_second")
        #expect(path == [.key("end"), .key("sum_received"), .key("bits_per_second")])
        let bps = Measure(name: "bps", source: .jsonPath(path!))
        #expect(bps.value(stdout: #"{"end": {"sum_received": {"bits_per_second": 9.5e8}}}"#, stderr: "") == 9.5e8)
        #expect(bps.value(stdout: "not json", stderr: "") == nil)
        #expect(Measure.path("$.intervals[1].sum.bytes") == [.key("intervals"), .index(1), .key("sum"), .key("bytes")])
        let second = Measure(name: "b", source: .jsonPath(Measure.path("intervals[1].bytes")!))
        #expect(second.value(stdout: #"{"intervals": [{"bytes": 1}, {"bytes": 2}]}"#, stderr: "") == 2)
        for bad in ["", "a..b", "a[x]", "a[1", "a[-1]"] { #expect(Measure.path(bad) == nil, "\(bad)") }
    }
}

@Suite struct CounterDeltaTests {
    @Test func numbersSubtractObjectsRecurseAndPortsMatchByNumber() {
        let start: JSON = ["totals": ["rx_frames": 10, "drops": ["queue_full": 1]],
                           "ports": [["port": 1, "rx_frames": 4], ["port": 2, "rx_frames": 6]], "name": "s"]
        let end: JSON = ["totals": ["rx_frames": 25, "drops": ["queue_full": 1]],
                         "ports": [["port": 2, "rx_frames": 9], ["port": 3, "rx_frames": 5]], "name": "s"]
        #expect(CounterDelta.between(start, end) == ["totals": ["rx_frames": 15, "drops": ["queue_full": 0]],
                                                     "ports": [["port": 2, "rx_frames": 3], ["port": 3, "rx_frames": 5]], "name": "s"])
        #expect(CounterDelta.between(nil, end) == end)
    }
}
