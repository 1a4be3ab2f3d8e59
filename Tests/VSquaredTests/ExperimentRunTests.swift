// Experiments run by a real vsquared as root: each run builds a private lab of real namespaces,
// switches and cables, runs its tasks in them, records what happened and tears everything down —
// after success, failure, cancel, its timeout, and (after the restart) a SIGKILLed vsquared.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0, "netns stacks need root")) struct ExperimentRunTests {
    static func example(_ name: String) throws -> JSON { try LabAPITests.example(name, in: "experiments") }

    /// Two hosts on two switches joined by cable `wire`, with IPv6 off (only the tasks' frames cross).
    static func pair(_ tasks: [JSON], _ extra: JSONObject = [:]) -> JSON {
        let quiet: JSON = [["argv": ["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"]]]
        var document: JSONObject = [
            "topology": [
                "switches": [["name": "left"], ["name": "right"]],
                "cables": [["name": "wire", "a": ["switch": "left"], "b": ["switch": "right"]]],
                "stacks": [["name": "a", "interfaces": [["name": "eth0", "switch": "left", "addresses": ["10.9.0.1/24"]]], "startup": quiet],
                           ["name": "b", "interfaces": [["name": "eth0", "switch": "right", "addresses": ["10.9.0.2/24"]]], "startup": quiet]],
            ],
            "tasks": .array(tasks),
        ]
        for (key, value) in extra { document[key] = value }
        return .object(document)
    }

    static let reachable: JSON = ["id": "reachable", "action": "wait_until", "host": "a", "ping": "10.9.0.2", "timeout_s": 10]

    /// Creates experiment `name`, starts a run and waits for it to end; the run's record.
    @discardableResult
    func run(_ daemon: DaemonProcess, _ name: String, _ document: JSON, body: JSON? = nil, timeoutSeconds: Double = 60) throws -> JSON {
        if try daemon.client.get("/v1/experiments/\(name)").status == 404 {
            let created = try daemon.client.send("POST", "/v1/experiments", json: ["name": JSON(name), "document": document])
            #expect(created.status == 201, "\(created.text)")
        }
        let started = try daemon.client.send("POST", "/v1/experiments/\(name)/runs", json: body ?? [:])
        #expect(started.status == 202, "\(started.text)")
        let location = try #require(started.header("Location"))
        var record: JSON = .null
        let ended = try eventually(timeoutSeconds: timeoutSeconds) {
            record = try daemon.json(location)
            return ["passed", "failed", "cancelled", "timed_out", "aborted", "error"].contains(record["state"]?.stringValue ?? "")
        }
        #expect(ended, "the run did not end: \(record)")
        return record
    }

    func task(_ record: JSON, _ id: String) -> JSON { record["tasks"]?.arrayValue?.first { $0["id"]?.stringValue == id } ?? .null }

    /// Nothing a run built is left: no lab, no namespace, no worker, no socket under the run directory.
    func expectNothingLeft(_ daemon: DaemonProcess, _ name: String) throws {
        let labs = try daemon.json("/v1/labs")
        #expect(labs["labs"]?.arrayValue?.isEmpty == true, "\(labs)")
        #expect(try daemon.json("/v1/stacks")["stacks"]?.arrayValue?.isEmpty == true)
        #expect(try daemon.json("/v1/switches")["switches"]?.arrayValue?.isEmpty == true)
        #expect(try daemon.json("/v1/cables")["cables"]?.arrayValue?.isEmpty == true)
        #expect(!StackProbe.namespaces().contains { $0.contains("-run-\(name)-") }, "\(StackProbe.namespaces())")
        let workers = { TempDirectory.processes(mentioning: daemon.run).filter { $0 != daemon.process.pid } }
        #expect(eventually(timeoutSeconds: 5) { workers().isEmpty }, "workers left: \(workers())")
        let left = ((FileSystem.listDirectory(daemon.run + "/switches") ?? []) + (FileSystem.listDirectory(daemon.run + "/stacks") ?? []))
            .filter { $0.hasSuffix(".ctl") || $0.hasSuffix(".sock") || !$0.contains(".") }
        #expect(left.isEmpty, "left in \(daemon.run): \(left)")
    }

    @Test func threeHostsAcrossARouterPingAndTheRunIsRecordedAndReported() throws {
        let daemon = try DaemonProcess()
        defer { _ = try? daemon.client.request("DELETE", "/v1/experiments/ping") }
        let events = try SSEClient(address: daemon.address)
        defer { events.close() }
        let record = try run(daemon, "ping", try ExperimentRunTests.example("ping-across-a-router.yaml"))
        #expect(record["state"] == "passed", "\(record)")
        for id in ["gateway-up", "h1-to-h2", "h2-to-h1", "router-saw-both"] {
            #expect(task(record, id)["status"] == "passed", "\(task(record, id))")
        }
        let rtt = task(record, "h1-to-h2")["measures"]?["rtt_avg_ms"]?.doubleValue ?? -1
        #expect(rtt > 0 && rtt < 100, "\(task(record, "h1-to-h2"))")
        let attempt = task(record, "h1-to-h2")["attempts"]?[0]
        #expect(attempt?["exit_code"] == 0 && attempt?["stdout"]?.stringValue?.contains("3 received") == true)
        #expect(attempt?["verdicts"]?.arrayValue?.map { $0["check"] } == ["exit_code", "stdout"])
        let repetition = try #require(record["repetitions"]?[0])
        for timing in ["build_ms", "tasks_ms", "teardown_ms"] { #expect((repetition["timings"]?[timing]?.intValue ?? -1) >= 0, "\(timing)") }
        // What the pings moved, port by port: lan1 carried h1's echoes (at least 3 each way).
        let lan1 = record["counters"]?["switches"]?["lan1"]?["totals"]
        #expect((lan1?["rx_frames"]?.intValue ?? 0) >= 6, "\(String(describing: lan1))")
        // The report: enough to run it again and to judge it.
        let report = try daemon.json("/v1/experiments/ping/runs/1/report")
        #expect(report["document"] == (try ExperimentRunTests.example("ping-across-a-router.yaml")))
        #expect(report["seeds"]?["run"] == record["seed"])
        #expect(report["software"]?["vsquared"]?.stringValue?.isEmpty == false)
        #expect((report["host"]?["cpus"]?.intValue ?? 0) >= 1)
        #expect(report["fidelity"]?["starved"]?.boolValue != nil)
        #expect(report["repetitions"]?[0]?["fidelity"]?["samples"]?.arrayValue?.isEmpty == false)
        #expect(report["measures"]?["h1-to-h2.rtt_avg_ms"]?["count"] == 1)
        // Progress, in order, on the event stream.
        #expect(try events.next("run.started")?.data["experiment"] == "ping")
        let started = try events.next("task.started")
        #expect(started?.data["task"] == "gateway-up", "\(String(describing: started))")
        let finished = try events.next("task.finished")
        #expect(finished?.data["status"] == "passed")
        #expect(try events.next("run.finished", timeoutSeconds: 10)?.data["state"] == "passed")
        // History.
        let runs = try daemon.json("/v1/experiments/ping/runs")["runs"]?.arrayValue ?? []
        #expect(runs.count == 1 && runs[0]["state"] == "passed" && runs[0]["tasks"]?["passed"] == 4, "\(runs)")
        try expectNothingLeft(daemon, "ping")
    }

    @Test func aCaptureTaskKeepsThePingAsAPcapWithTheRunNamedInItsReport() throws {
        let daemon = try DaemonProcess()
        let record = try run(daemon, "cap", ExperimentRunTests.pair([
            ExperimentRunTests.reachable,
            ["id": "wire", "after": ["reachable"], "action": "capture_start", "cable": "wire", "direction": "a_to_b", "filter": "icmp"],
            ["id": "ping", "after": ["wire"], "hosts": ["a"], "argv": ["ping", "-c", "3", "-i", "0.2", "10.9.0.2"]],
            ["id": "stop", "after": ["ping"], "action": "capture_stop", "capture": "wire"],
            // Never stopped by a task: the end of the run stops it.
            ["id": "late", "after": ["ping"], "action": "capture_start", "cable": "wire", "direction": "b_to_a"],
        ]))
        #expect(record["state"] == "passed", "\(record)")
        #expect(task(record, "stop")["measures"]?["frames"] == 3 && task(record, "stop")["measures"]?["dropped"] == 0, "\(task(record, "stop"))")
        let captures = record["repetitions"]?[0]?["captures"]?.arrayValue ?? []
        #expect(captures.compactMap { $0["file"]?.stringValue }.sorted() == ["late.pcap", "wire.pcap"], "\(captures)")
        #expect(captures.first { $0["task"] == "wire" }?["ended_by"] == "stopped")
        let report = try daemon.json("/v1/experiments/cap/runs/1/report")
        #expect(report["repetitions"]?[0]?["captures"]?.arrayValue?.count == 2)
        let pcap = try daemon.client.get("/v1/experiments/cap/runs/1/captures/wire.pcap")
        #expect(pcap.status == 200 && pcap.header("Content-Type") == "application/vnd.tcpdump.pcap")
        let frames = try Tshark.fields(pcap.body, ["ip.src", "ip.dst", "icmp.type"])
        #expect(frames == Array(repeating: ["10.9.0.1", "10.9.0.2", "8"], count: 3), "\(frames)")
        #expect(try daemon.client.get("/v1/experiments/cap/runs/1/captures/..%2F..%2Fvsquare.db").status == 404)
        #expect(try daemon.client.get("/v1/experiments/cap/runs/1/captures/ping.pcap").status == 404)
        try expectNothingLeft(daemon, "cap")
    }

    @Test func aCableCutMidRunFailsTheTaskThatExpectedSuccessAndPassesTheOneThatExpectedFailure() throws {
        let daemon = try DaemonProcess()
        defer { _ = try? daemon.client.request("DELETE", "/v1/experiments/cut") }
        let document = ExperimentRunTests.pair([
            ExperimentRunTests.reachable,
            ["id": "cut", "after": ["reachable"], "action": "cut", "cable": "wire"],
            ["id": "lost", "after": ["cut"], "hosts": ["a"], "argv": ["ping", "-n", "-c", "2", "-i", "0.2", "-W", "1", "10.9.0.2"],
             "expect": ["fail": true]],
            ["id": "hoped", "after": ["cut"], "hosts": ["a"], "argv": ["ping", "-n", "-c", "1", "-W", "1", "10.9.0.2"]],
            ["id": "after-hoped", "after": ["hoped"], "hosts": ["b"], "argv": ["true"]],
            ["id": "restore", "after": ["lost"], "action": "restore", "cable": "wire"],
            ["id": "back", "after": ["restore"], "action": "wait_until", "host": "b", "ping": "10.9.0.1", "timeout_s": 10],
        ], ["max_parallel": 4])
        let record = try run(daemon, "cut", document)
        #expect(record["state"] == "failed", "\(record)")
        #expect(task(record, "lost")["status"] == "passed", "\(task(record, "lost"))")
        let hoped = task(record, "hoped")
        #expect(hoped["status"] == "failed", "\(hoped)")
        #expect(hoped["attempts"]?[0]?["stdout"]?.stringValue?.contains("100% packet loss") == true, "its output is kept: \(hoped)")
        #expect(hoped["attempts"]?[0]?["verdicts"]?[0]?["passed"] == false)
        #expect(task(record, "after-hoped")["status"] == "skipped" && task(record, "after-hoped")["skipped_because"] == "hoped")
        #expect(task(record, "back")["status"] == "passed", "\(task(record, "back"))")
        // Cut frames were counted by the cable.
        let drops = record["counters"]?["cables"]?["wire"]?["a_to_b"]?["drops"]?["cut"]?.intValue ?? 0
        #expect(drops >= 2, "\(String(describing: record["counters"]?["cables"]))")
        try expectNothingLeft(daemon, "cut")
    }

    @Test func theAnalyzerRefusesADocumentWithEveryProblemAndTheCycleNamed() throws {
        let daemon = try DaemonProcess()
        let document = ExperimentRunTests.pair([
            ["id": "x", "after": ["z"], "hosts": ["a"], "argv": ["true"]],
            ["id": "y", "after": ["x"], "hosts": ["b"], "argv": ["true"]],
            ["id": "z", "after": ["y"], "hosts": ["ghost"], "argv": ["true"], "expect": ["stdout": "(["]],
        ])
        let refused = try daemon.client.send("POST", "/v1/experiments", json: ["name": "bad", "document": document])
        #expect(refused.status == 422 && refused.header("Content-Type") == "application/problem+json", "\(refused.text)")
        let problem = try refused.json()
        #expect(problem["code"] == "invalid_experiment")
        let problems = problem["problems"]?.arrayValue ?? []
        #expect(problems.contains { $0["code"] == "cycle" && $0["message"]?.stringValue?.hasSuffix("x → y → z → x") == true }, "\(problems)")
        #expect(problems.contains { $0["code"] == "unknown_host" && $0["pointer"] == "/tasks/2/hosts/0" })
        #expect(problems.contains { $0["code"] == "invalid_regex" && $0["pointer"] == "/tasks/2/expect/stdout" })
        #expect(try daemon.client.get("/v1/experiments/bad").status == 404, "nothing was kept")
        // YAML: each problem with its line and column.
        let yaml = "topology: {switches: [{name: s}], stacks: [{name: h, interfaces: [{name: eth0, switch: s}]}]}\ntasks:\n  - id: w\n    action: wait_until\n    host: h\n    ping: 10.0.0.1\n"
        let located = try daemon.client.request("POST", "/v1/experiments?name=y", headers: [("Content-Type", "application/yaml")], body: Array(yaml.utf8))
        #expect(located.status == 422, "\(located.text)")
        let missing = try located.json()["problems"]?.arrayValue?.first { $0["code"] == "missing_timeout" }
        #expect(missing?["line"] == 3, "\(located.text)")
        // A good document, then a PUT that breaks it, refused, the old one kept.
        #expect(try daemon.client.send("POST", "/v1/experiments", json: ["name": "good", "document": ExperimentRunTests.pair([ExperimentRunTests.reachable])]).status == 201)
        let broken = try daemon.client.send("PUT", "/v1/experiments/good", json: ["document": document])
        #expect(broken.status == 422)
        #expect(try daemon.json("/v1/experiments/good")["generation"] == 1)
        let stale = try daemon.client.send("PUT", "/v1/experiments/good", json: ["document": ExperimentRunTests.pair([ExperimentRunTests.reachable], ["seed": 3])],
                                           headers: [("If-Match", "\"7\"")])
        #expect(stale.status == 412)
        #expect(try daemon.client.send("POST", "/v1/experiments/good/runs", json: ["repeat": 0]).status == 400)
        #expect(try daemon.client.get("/v1/experiments/good/runs/9").status == 404)
    }

    @Test func aCancelledRunAndARunPastItsTimeoutLeaveNothingBehind() throws {
        let daemon = try DaemonProcess()
        defer { _ = try? daemon.client.request("DELETE", "/v1/experiments/long") }
        let long = ExperimentRunTests.pair([
            ExperimentRunTests.reachable,
            ["id": "forever", "after": ["reachable"], "hosts": ["a", "b"], "argv": ["sleep", "300"], "timeout_s": 600],
            ["id": "never", "after": ["forever"], "hosts": ["a"], "argv": ["true"]],
        ], ["timeout_s": 600])
        #expect(try daemon.client.send("POST", "/v1/experiments", json: ["name": "long", "document": long]).status == 201)
        let started = try daemon.client.send("POST", "/v1/experiments/long/runs", json: [:])
        let location = try #require(started.header("Location"))
        #expect(try eventually(timeoutSeconds: 20) { task(try daemon.json(location), "forever")["status"] == "running" })
        let cancelled = try daemon.client.request("POST", location + "/cancel")
        #expect(cancelled.status == 202, "\(cancelled.text)")
        var record: JSON = .null
        #expect(try eventually(timeoutSeconds: 20) { record = try daemon.json(location); return record["state"] == "cancelled" }, "\(record)")
        #expect(task(record, "forever")["status"] == "cancelled" && task(record, "never")["status"] == "cancelled", "\(record)")
        #expect(try daemon.client.request("POST", location + "/cancel").status == 409)
        try expectNothingLeft(daemon, "long")

        let timed = ExperimentRunTests.pair([
            ExperimentRunTests.reachable,
            ["id": "forever", "after": ["reachable"], "hosts": ["a"], "argv": ["sleep", "300"], "timeout_s": 600],
        ], ["timeout_s": 4])
        let record2 = try run(daemon, "timed", timed, timeoutSeconds: 40)
        defer { _ = try? daemon.client.request("DELETE", "/v1/experiments/timed") }
        #expect(record2["state"] == "timed_out", "\(record2)")
        #expect(task(record2, "forever")["status"] == "timed_out")
        try expectNothingLeft(daemon, "timed")
    }

    @Test func aRunWhoseVsquaredIsKilledIsAbortedAndCleanedUpOnRestart() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon: DaemonProcess? = try DaemonProcess(directory: directory)
        let document = ExperimentRunTests.pair([
            ExperimentRunTests.reachable,
            ["id": "forever", "after": ["reachable"], "hosts": ["a"], "argv": ["sleep", "301"], "timeout_s": 600],
        ])
        #expect(try daemon!.client.send("POST", "/v1/experiments", json: ["name": "doomed", "document": document]).status == 201)
        let location = try #require(try daemon!.client.send("POST", "/v1/experiments/doomed/runs", json: [:]).header("Location"))
        #expect(try eventually(timeoutSeconds: 20) { task(try daemon!.json(location), "forever")["status"] == "running" })
        daemon!.process.stop(signal: SIGKILL, graceSeconds: 0)
        daemon = try DaemonProcess(directory: directory)
        defer { _ = try? daemon!.client.request("DELETE", "/v1/experiments/doomed") }
        let record = try daemon!.json(location)
        #expect(record["state"] == "aborted", "\(record)")
        #expect(task(record, "forever")["status"] == "cancelled")
        #expect(TempDirectory.processes(mentioning: "sleep 301").isEmpty, "the run's command outlived its lab")
        try expectNothingLeft(daemon!, "doomed")
    }

    @Test func twoRunsOfOneExperimentAtOnceBothPass() throws {
        let daemon = try DaemonProcess()
        defer { _ = try? daemon.client.request("DELETE", "/v1/experiments/twice") }
        let document = ExperimentRunTests.pair([
            ExperimentRunTests.reachable,
            ["id": "ping", "after": ["reachable"], "hosts": ["a"], "argv": ["ping", "-n", "-c", "3", "-i", "0.2", "10.9.0.2"]],
        ])
        #expect(try daemon.client.send("POST", "/v1/experiments", json: ["name": "twice", "document": document]).status == 201)
        let first = try #require(try daemon.client.send("POST", "/v1/experiments/twice/runs", json: [:]).header("Location"))
        let second = try #require(try daemon.client.send("POST", "/v1/experiments/twice/runs", json: [:]).header("Location"))
        #expect(first != second)
        var records: [JSON] = []
        #expect(try eventually(timeoutSeconds: 60) {
            records = try [first, second].map { try daemon.json($0) }
            return records.allSatisfy { ["passed", "failed", "error", "timed_out"].contains($0["state"]?.stringValue ?? "") }
        })
        #expect(records.allSatisfy { $0["state"] == "passed" }, "\(records)")
        #expect(records[0]["repetitions"]?[0]?["lab"] != records[1]["repetitions"]?[0]?["lab"])
        try expectNothingLeft(daemon, "twice")
    }

    @Test func theSameSeedGivesTheSameLossPatternOnALossyCable() throws {
        let daemon = try DaemonProcess()
        func pattern(_ name: String, seed: Int) throws -> (received: [Int], repetitions: JSON) {
            defer { _ = try? daemon.client.request("DELETE", "/v1/experiments/\(name)") }
            let record = try run(daemon, name, ExperimentRunTests.pair([
                ExperimentRunTests.reachable,
                ["id": "lossy", "after": ["reachable"], "action": "impair", "cable": "wire", "impairments": ["loss_pct": 30]],
                ["id": "ping", "after": ["lossy"], "hosts": ["a"], "argv": ["ping", "-n", "-c", "40", "-i", "0.02", "-W", "1", "10.9.0.2"],
                 "measure": [["name": "received", "regex": "([0-9]+) received"]]],
            ], ["seed": JSON(seed)]), body: ["repeat": 2])
            #expect(record["state"] == "passed", "\(record)")
            #expect(record["measures"]?["ping.received"]?["count"] == 2, "\(String(describing: record["measures"]))")
            let stdout = task(record, "ping")["attempts"]?[0]?["stdout"]?.stringValue ?? ""
            let received = stdout.split(separator: "\n").compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("icmp_seq=") }.flatMap { Int($0.dropFirst(9)) }
            }
            return (received, record["repetitions"] ?? .null)
        }
        let once = try pattern("seeded-a", seed: 42)
        let again = try pattern("seeded-b", seed: 42)
        #expect(once.received.count > 5 && once.received.count < 35, "\(once.received)")
        #expect(once.received == again.received)
        // Repetitions draw their own seeds from the run's: the same ones each time.
        #expect(once.repetitions.arrayValue?.map { $0["seed"] } == again.repetitions.arrayValue?.map { $0["seed"] })
        let other = try pattern("seeded-c", seed: 43)
        #expect(other.received != once.received, "another seed, another pattern")
        try expectNothingLeft(daemon, "seeded")
    }
}

/// Every document in ops/examples/experiments/ run as is and checked to do what it says ("ping
/// across a router" is ExperimentRunTests' own).
@Suite(.serialized, .enabled(if: geteuid() == 0, "netns stacks need root")) struct ExperimentExampleTests {
    func run(_ file: String) throws -> (record: JSON, daemon: DaemonProcess) {
        let daemon = try DaemonProcess()
        let name = String(file.prefix { $0 != "." })
        defer { _ = try? daemon.client.request("DELETE", "/v1/experiments/\(name)") }
        let record = try ExperimentRunTests().run(daemon, name, try ExperimentRunTests.example(file), timeoutSeconds: 90)
        #expect(record["state"] == "passed", "\(record)")
        try ExperimentRunTests().expectNothingLeft(daemon, name)
        return (record, daemon)
    }

    func task(_ record: JSON, _ id: String) -> JSON { ExperimentRunTests().task(record, id) }

    @Test func tcpThroughputUnderLossAndDelayIsMeasuredFromIperf3sJSON() throws {
        let (record, _) = try run("tcp-throughput-under-loss-and-delay.yaml")
        let bps = task(record, "measure")["measures"]?["received_bps"]?.doubleValue ?? 0
        // 20 ms each way and 1 % loss: well under a gigabit, well over nothing.
        #expect(bps > 100_000 && bps < 1e9, "\(task(record, "measure"))")
        #expect(task(record, "measure")["measures"]?["retransmits"]?.doubleValue != nil)
        #expect(task(record, "serve")["status"] == "passed", "the server took its one client and ended: \(task(record, "serve"))")
        #expect(record["measures"]?["measure.received_bps"]?["mean"]?.doubleValue == bps)
    }

    @Test func linkFailureAndRecoveryCutsMeasuresAndRestores() throws {
        let (record, _) = try run("link-failure-and-recovery.yaml")
        for id in ["before", "cut", "a-cut-off", "b-cut-off", "restore", "recovered", "after"] { #expect(task(record, id)["status"] == "passed", "\(task(record, id)["attempts"] ?? .null)") }
        let before = task(record, "before")["measures"]?["rtt_avg_ms"]?.doubleValue ?? 0
        #expect(before >= 10, "5 ms each way over the cable: \(before)")
        let cutDrops = (record["counters"]?["cables"]?["link"]?["a_to_b"]?["drops"]?["cut"]?.intValue ?? 0)
            + (record["counters"]?["cables"]?["link"]?["b_to_a"]?["drops"]?["cut"]?.intValue ?? 0)
        #expect(cutDrops >= 6, "\(String(describing: record["counters"]?["cables"]))")
    }

    @Test func dhcpThroughANATUplinkLeasesRoutesAndConnects() throws {
        let (record, _) = try run("dhcp-through-a-nat-uplink.yaml")
        for id in ["pc1-leased", "pc2-leased", "default-route", "gateway", "each-other"] {
            #expect(task(record, id)["status"] == "passed", "\(task(record, id))")
        }
    }
}

/// Run history: kept in SQLite across restarts, within its retention (count and age), outputs with
/// it. Control tasks only (switches and a cable), so no root is needed.
@Suite struct ExperimentHistoryTests {
    static let document: JSON = [
        "topology": ["switches": [["name": "s1"], ["name": "s2"]], "cables": [["name": "c", "a": ["switch": "s1"], "b": ["switch": "s2"]]]],
        "tasks": [["id": "cut", "action": "cut", "cable": "c"], ["id": "back", "after": ["cut"], "action": "restore", "cable": "c"]],
    ]

    func numbers(_ daemon: DaemonProcess) throws -> [Int] {
        (try daemon.json("/v1/experiments/hist/runs")["runs"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue }
    }

    @Test func historySurvivesARestartWithinItsRetention() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon = try DaemonProcess(arguments: ["--run-history", "2"], directory: directory)
        #expect(try daemon.client.send("POST", "/v1/experiments", json: ["name": "hist", "document": ExperimentHistoryTests.document]).status == 201)
        for _ in 0..<3 {
            let location = try #require(try daemon.client.send("POST", "/v1/experiments/hist/runs", json: [:]).header("Location"))
            #expect(try eventually(timeoutSeconds: 20) { try daemon.json(location)["state"] == "passed" })
        }
        // The newest two are kept; the first is gone, with its outputs.
        var kept: [Int] = []
        #expect(try eventually(timeoutSeconds: 5) { kept = try numbers(daemon); return kept == [2, 3] }, "\(kept)")
        #expect(try daemon.client.get("/v1/experiments/hist/runs/1").status == 404)
        #expect(!FileSystem.exists(daemon.home + "/experiments/hist/runs/1") && FileSystem.exists(daemon.home + "/experiments/hist/runs/3"))
        _ = daemon.stop()
        daemon = try DaemonProcess(arguments: ["--run-history", "2"], directory: directory)
        #expect(try numbers(daemon) == [2, 3])
        #expect(try daemon.json("/v1/experiments/hist/runs/3")["state"] == "passed")
        #expect(try daemon.json("/v1/experiments/hist/runs/3/report")["document"] == ExperimentHistoryTests.document)
        // Numbers go on from where they were.
        let next = try daemon.client.send("POST", "/v1/experiments/hist/runs", json: [:])
        #expect(try next.json()["id"] == 4)
        #expect(try eventually(timeoutSeconds: 20) { try daemon.json("/v1/experiments/hist/runs/4")["state"] == "passed" })
        // Past their age (here two seconds), finished runs are forgotten when vsquared starts.
        _ = daemon.stop()
        usleep(2_100_000)
        daemon = try DaemonProcess(arguments: ["--run-history-days", "0.00002"], directory: directory)
        #expect(try numbers(daemon) == [])
        #expect(try daemon.json("/v1/experiments/hist")["runs"]?["count"] == 0)
        #expect(try daemon.client.request("DELETE", "/v1/experiments/hist").status == 204)
        #expect(!FileSystem.exists(daemon.home + "/experiments/hist"))
    }
}
