// Changing a running lab against a real vsquared: a new document is planned, then applied as
// exactly that plan (frames on an untouched cable lose nothing while another cable is added and a
// third one's delay changes); generations guard against lost updates; a failed apply is undone;
// members change only through their lab; reset puts everything back; an apply cut short by a
// crash is finished by the next vsquared.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

@Suite(.serialized) struct LabApplyTests {
    static let macA = "02:00:00:00:10:0a", macB = "02:00:00:00:10:0b"

    let chain: JSON = [
        "switches": [["name": "s1", "ports": 8], ["name": "s2", "ports": 8], ["name": "s3", "ports": 8]],
        "cables": [["name": "keep", "a": ["switch": "s1"], "b": ["switch": "s2"]],
                   ["name": "slow", "a": ["switch": "s2"], "b": ["switch": "s3"], "impairments": ["delay_ms": 5]]],
    ]

    /// `chain` with a fourth switch cabled to s3 and the slow cable's delay at 40 ms.
    var grown: JSON {
        var document = chain.objectValue!
        document["switches"] = .array(chain["switches"]!.arrayValue! + [["name": "s4", "ports": 8]])
        document["cables"] = [["name": "keep", "a": ["switch": "s1"], "b": ["switch": "s2"]],
                              ["name": "slow", "a": ["switch": "s2"], "b": ["switch": "s3"], "impairments": ["delay_ms": 40]],
                              ["name": "extra", "a": ["switch": "s3"], "b": ["switch": "s4"]]]
        return .object(document)
    }

    static func plugURL(_ daemon: DaemonProcess, _ global: String) throws -> String {
        try daemon.json("/v1/switches/\(global)").requiredString("plug_url")
    }

    @Test func anUntouchedCableLosesNothingWhileAnotherIsAddedAndAThirdSlowsDown() throws {
        let daemon = try DaemonProcess()
        #expect(try daemon.client.send("POST", "/v1/labs", json: ["name": "flow", "topology": chain]).status == 201)
        let keepPID = try daemon.json("/v1/cables/flow-keep")["pid"]
        let left = try LibVDEPlug(url: try LabApplyTests.plugURL(daemon, "flow-s1"))
        let right = try LibVDEPlug(url: try LabApplyTests.plugURL(daemon, "flow-s2"))
        // Both ends known to every switch, so the stream is switched, not flooded.
        right.send(EthernetFrame.make(dst: LabApplyTests.macA, src: LabApplyTests.macB, size: 60))
        left.send(EthernetFrame.make(dst: LabApplyTests.macB, src: LabApplyTests.macA, size: 60))
        #expect(eventually(timeoutSeconds: 5) { left.receive(timeoutSeconds: 0.2) != nil })

        let count = 6000
        let collected = Collected()
        let reader = Thread {
            while let frame = right.receive(timeoutSeconds: 2) {
                if frame.count == 100 && Array(frame[6..<12]) == EthernetFrame.mac(LabApplyTests.macA) {
                    collected.append(Int(frame[20]) << 16 | Int(frame[21]) << 8 | Int(frame[22]))
                }
            }
        }
        let sender = Thread {
            let pacer = Pacer(framesPerSecond: 2000)
            for sequence in 0..<count {
                var bytes = EthernetFrame.make(dst: LabApplyTests.macB, src: LabApplyTests.macA, size: 100)
                bytes[20] = UInt8(sequence >> 16 & 0xFF)
                bytes[21] = UInt8(sequence >> 8 & 0xFF)
                bytes[22] = UInt8(sequence & 0xFF)
                pacer.wait(for: sequence)
                left.send(bytes)
            }
        }
        usleep(500_000)
        let applied = try daemon.client.send("PUT", "/v1/labs/flow", json: ["topology": grown])
        #expect(applied.status == 200, "\(applied.text)")
        sender.join()
        reader.join()
        let steps = try applied.json().requiredArray("steps").map { "\($0["action"]!.stringValue!) \($0["name"]!.stringValue!)" }
        #expect(steps == ["create s4", "change slow", "create extra"])
        let received = collected.values
        let firstWrong = zip(received, 0..<count).first { $0 != $1 }
        #expect(received == Array(0..<count), "\(received.count) of \(count) frames came, \(Set(received).count) different, first wrong: \(String(describing: firstWrong))")
        #expect(try daemon.json("/v1/cables/flow-keep")["pid"] == keepPID, "the untouched cable's worker was restarted")
        #expect(try daemon.json("/v1/cables/flow-slow")["impairments"]?["a_to_b"]?["delay_ms"]?.doubleValue == 40)
        #expect(try daemon.json("/v1/cables/flow-extra")["lab"] == "flow")
    }

    @Test func aPlanIsShownFirstAndAGenerationGuardsEveryChange() throws {
        let daemon = try DaemonProcess()
        #expect(try daemon.client.send("POST", "/v1/labs", json: ["name": "gen", "topology": chain]).status == 201)
        let first = try daemon.client.get("/v1/labs/gen")
        #expect(first.header("ETag") == "\"1\"")

        // A dry run answers the plan (fields old and new) and changes nothing.
        let dry = try daemon.client.send("PUT", "/v1/labs/gen?dry_run=true", json: ["topology": grown])
        #expect(dry.status == 200, "\(dry.text)")
        let change = try dry.json().requiredArray("steps").first { $0["name"] == "slow" }
        #expect(change?["changes"] == [["field": "impairments", "old": ["delay_ms": 5], "new": ["delay_ms": 40]]])
        #expect(try daemon.client.get("/v1/switches/gen-s4").status == 404)
        #expect(try daemon.json("/v1/labs/gen")["generation"] == 1)

        // Two tools that both read generation 1: the first wins, the second is told.
        let applied = try daemon.client.send("PUT", "/v1/labs/gen", json: ["topology": grown], headers: [("If-Match", "\"1\"")])
        #expect(applied.status == 200 && applied.header("ETag") == "\"2\"", "\(applied.text)")
        let stale = try daemon.client.send("PUT", "/v1/labs/gen", json: ["topology": chain], headers: [("If-Match", "\"1\"")])
        #expect(try stale.status == 412 && stale.json()["code"] == "generation_mismatch", "\(stale.text)")
        #expect(try daemon.client.get("/v1/switches/gen-s4").status == 200, "the stale PUT changed the lab")
        // The same document again changes nothing, not even the generation.
        #expect(try daemon.client.send("PUT", "/v1/labs/gen", json: ["topology": grown]).header("ETag") == "\"2\"")

        // A step the nouns refuse (a switch directory too long for a VDE socket path) undoes the whole apply.
        var broken = grown.objectValue!
        broken["switches"] = .array(grown["switches"]!.arrayValue! + [["name": JSON("s" + String(repeating: "x", count: 58))]])
        broken["cables"] = chain["cables"]
        let failed = try daemon.client.send("PUT", "/v1/labs/gen", json: ["topology": .object(broken)])
        #expect(failed.status == 422, "\(failed.text)")
        let problem = try failed.json()
        #expect(problem["code"] == "apply_failed" && problem["generation"] == 2, "\(problem)")
        let lab = try daemon.json("/v1/labs/gen")
        #expect(lab["generation"] == 2 && lab["topology"] == grown && lab["last_apply"]?["outcome"] == "rolled_back", "\(lab)")
        #expect(try daemon.json("/v1/cables/gen-slow")["impairments"]?["a_to_b"]?["delay_ms"]?.doubleValue == 40, "the delay was not put back")
        #expect(try daemon.client.get("/v1/cables/gen-extra").status == 200, "the deleted cable was not put back")
        #expect(eventually(timeoutSeconds: 10) { (try? daemon.json("/v1/labs/gen"))?["state"] == "ready" })
    }

    @Test func membersChangeOnlyThroughTheirLabUnlessForced() throws {
        let daemon = try DaemonProcess()
        #expect(try daemon.client.send("POST", "/v1/labs", json: ["name": "own", "topology": chain]).status == 201)
        let attempts: [(String, String, JSON?)] = [("PATCH", "/v1/switches/own-s1", ["hub": true]), ("DELETE", "/v1/switches/own-s1", nil),
                                                   ("PATCH", "/v1/cables/own-slow", ["impairments": ["delay_ms": 1]]), ("DELETE", "/v1/cables/own-keep", nil)]
        for (method, path, body) in attempts {
            let refused = try body.map { try daemon.client.send(method, path, json: $0) } ?? daemon.client.request(method, path)
            #expect(try refused.status == 409 && refused.json()["code"] == "lab_member", "\(method) \(path): \(refused.text)")
        }
        #expect(try daemon.json("/v1/cables/own-slow")["impairments"]?["a_to_b"]?["delay_ms"]?.doubleValue == 5)
        let forced = try daemon.client.send("PATCH", "/v1/cables/own-slow?force=true", json: ["impairments": ["delay_ms": 1]])
        #expect(forced.status == 200, "\(forced.text)")
        #expect(try daemon.client.request("DELETE", "/v1/cables/own-keep?force=true").status == 204)

        // Reset puts both back as the document says.
        let reset = try daemon.client.send("POST", "/v1/labs/own/reset", json: [:])
        #expect(reset.status == 200, "\(reset.text)")
        #expect(try reset.json()["reset"]?["duration_ms"]?.intValue != nil)
        #expect(try daemon.json("/v1/cables/own-slow")["impairments"]?["a_to_b"]?["delay_ms"]?.doubleValue == 5)
        #expect(try daemon.client.get("/v1/cables/own-keep").status == 200)
        #expect(try daemon.client.send("POST", "/v1/labs/own/reset?members=ghost", json: [:]).status == 422)
    }

    @Test(.enabled(if: geteuid() == 0, "netns stacks need root"))
    func resetStartsStacksFromNothingAndForgetsWhatTheNetworkLearned() throws {
        let daemon = try DaemonProcess()
        var document = chain.objectValue!
        document["stacks"] = [
            ["name": "h1", "interfaces": [["name": "eth0", "switch": "s1", "addresses": ["10.7.0.1/24"]]],
             "startup": [["argv": ["sh", "-c", "ip addr add 10.77.0.1/32 dev lo"], "timeout_s": 5]]],
            ["name": "h2", "interfaces": [["name": "eth0", "switch": "s3", "addresses": ["10.7.0.2/24"]]]],
        ]
        document["cables"] = [["name": "keep", "a": ["switch": "s1"], "b": ["switch": "s2"]],
                              ["name": "slow", "a": ["switch": "s2"], "b": ["switch": "s3"], "cut": true]]
        defer { _ = try? daemon.client.request("DELETE", "/v1/labs/rs") }
        let created = try daemon.client.send("POST", "/v1/labs", json: ["name": "rs", "topology": .object(document)])
        #expect(try created.status == 201 && created.json()["state"] == "ready", "\(created.text)")
        #expect(try daemon.json("/v1/cables/rs-slow")["cut"] == true)
        // Some history: traffic (learned MACs, counters), a process left running, a restored cable.
        #expect(try daemon.client.send("POST", "/v1/cables/rs-slow/restore", json: [:]).status == 200)
        _ = try daemon.client.send("POST", "/v1/stacks/rs-h1/exec", json: ["argv": ["ping", "-c", "20", "-i", "0.01", "-W", "1", "10.7.0.2"]])
        let oldMAC = try #require(try daemon.json("/v1/stacks/rs-h1").requiredArray("interfaces").first?["live_mac"]?.stringValue)
        #expect(try daemon.json("/v1/switches/rs-s1/macs").requiredArray("macs").contains { $0["mac"]?.stringValue == oldMAC })
        func received(_ switchName: String) throws -> Int {
            try daemon.json("/v1/switches/\(switchName)/ports").requiredArray("ports").map { $0["counters"]?["rx_frames"]?.intValue ?? 0 }.reduce(0, +)
        }
        let before = try received("rs-s1")
        #expect(before >= 20)
        #expect(try daemon.client.send("POST", "/v1/stacks/rs-h1/exec", json: ["argv": ["sleep", "600"], "detach": true]).status == 201)
        let namespace = try daemon.json("/v1/stacks/rs-h1").requiredString("namespace")
        #expect(!StackProbe.pids(namespace).isEmpty)
        let oldPIDs = Set(StackProbe.pids(namespace))

        let reset = try daemon.client.send("POST", "/v1/labs/rs/reset", json: [:])
        #expect(reset.status == 200, "\(reset.text)")
        let lab = try reset.json()
        #expect(lab["state"] == "ready" && lab["reset"]?["members"]?.arrayValue?.count == 7, "\(lab)")
        #expect(Set(StackProbe.pids(namespace)).isDisjoint(with: oldPIDs), "a process of the old stack survived the reset")
        #expect(try daemon.json("/v1/stacks/rs-h1/processes").requiredArray("processes").isEmpty)
        // The new stacks speak at once (neighbour discovery), so what is checked is that nothing old is left.
        #expect(try !daemon.json("/v1/switches/rs-s1/macs").requiredArray("macs").contains { $0["mac"]?.stringValue == oldMAC },
                "the MAC table was not flushed")
        #expect(try received("rs-s1") < before, "the counters were not zeroed")
        #expect(try daemon.json("/v1/cables/rs-slow")["cut"] == true, "the cut the document declares is not back")
        // The startup command ran again in the new namespace.
        let addresses = try daemon.client.send("POST", "/v1/stacks/rs-h1/exec", json: ["argv": ["ip", "-br", "addr", "show", "lo"]]).json()
        #expect(addresses["stdout"]?.stringValue?.contains("10.77.0.1") == true, "\(addresses)")

        // Only some members: the switch in place (its plugs stay), its table flushed all the same. h1
        // stays up, so it is kept quiet (no IPv6 chatter) lest it be learned again straight after the flush.
        _ = try daemon.client.send("POST", "/v1/stacks/rs-h1/exec", json: ["argv": ["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"]])
        _ = try daemon.client.send("POST", "/v1/stacks/rs-h1/exec", json: ["argv": ["ping", "-c", "3", "-i", "0.01", "-W", "1", "10.7.0.2"]])
        let newMAC = try #require(try daemon.json("/v1/stacks/rs-h1").requiredArray("interfaces").first?["live_mac"]?.stringValue)
        #expect(try daemon.json("/v1/switches/rs-s1/macs").requiredArray("macs").contains { $0["mac"]?.stringValue == newMAC })
        let some = try daemon.client.send("POST", "/v1/labs/rs/reset?members=s1,slow", json: [:]).json()
        #expect(try !daemon.json("/v1/switches/rs-s1/macs").requiredArray("macs").contains { $0["mac"]?.stringValue == newMAC },
                "the MAC table was not flushed")
        #expect(some["reset"]?["members"] == ["s1", "slow"], "\(some)")
        #expect(try daemon.json("/v1/stacks/rs-h1").requiredArray("interfaces").first?["live_mac"]?.stringValue == newMAC,
                "a stack not named was reset")
    }

    @Test(.enabled(if: geteuid() == 0, "netns stacks need root"))
    func anApplyCutShortByACrashIsFinishedByTheNextVsquared() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon: DaemonProcess? = try DaemonProcess(directory: directory)
        var document = chain.objectValue!
        document["stacks"] = [["name": "h1", "interfaces": [["name": "eth0", "switch": "s1", "addresses": ["10.8.0.1/24"]]]]]
        defer { _ = try? daemon?.client.request("DELETE", "/v1/labs/cr") }
        #expect(try daemon!.client.send("POST", "/v1/labs", json: ["name": "cr", "topology": .object(document)]).status == 201)
        // The new document: a slower stack start (its startup takes a while), one cable changed, one gone.
        let marker = "sleep 1.5; ip addr add 10.88.0.1/32 dev lo"
        document["stacks"] = [["name": "h1", "interfaces": [["name": "eth0", "switch": "s1", "addresses": ["10.8.0.1/24"]]]],
                              ["name": "h2", "interfaces": [["name": "eth0", "switch": "s2", "addresses": ["10.8.0.2/24"]]],
                               "startup": [["argv": ["sh", "-c", JSON(marker)], "timeout_s": 10]]]]
        document["cables"] = [["name": "slow", "a": ["switch": "s2"], "b": ["switch": "s3"], "impairments": ["delay_ms": 20]]]
        let client = daemon!.client
        let next = JSON.object(document)
        let put = Thread { _ = try? client.send("PUT", "/v1/labs/cr", json: ["topology": next]) }
        #expect(eventually(timeoutSeconds: 10) { TempDirectory.processes(mentioning: marker).count > 0 }, "the startup command never ran")
        daemon!.process.stop(signal: SIGKILL, graceSeconds: 0)
        put.join()
        // What the dead vsquared was running in the stack is lost with it.
        for pid in TempDirectory.processes(mentioning: marker) { kill(pid, SIGKILL) }

        daemon = try DaemonProcess(directory: directory)
        let lab = try daemon!.json("/v1/labs/cr")
        #expect(lab["generation"] == 2 && lab["last_apply"]?["outcome"] == "applied_after_restart", "\(lab)")
        #expect(lab["topology"] == .object(document))
        #expect(try daemon!.client.get("/v1/cables/cr-keep").status == 404)
        #expect(try daemon!.json("/v1/cables/cr-slow")["impairments"]?["a_to_b"]?["delay_ms"]?.doubleValue == 20)
        let addresses = try daemon!.client.send("POST", "/v1/stacks/cr-h2/exec", json: ["argv": ["ip", "-br", "addr", "show", "lo"]]).json()
        #expect(addresses["stdout"]?.stringValue?.contains("10.88.0.1") == true, "h2's startup did not run to its end: \(addresses)")
        #expect(eventually(timeoutSeconds: 10) { (try? daemon!.json("/v1/labs/cr"))?["state"] == "ready" })
        #expect(try daemon!.client.request("DELETE", "/v1/labs/cr").status == 204)
        #expect(!StackProbe.namespaces().contains { $0.hasSuffix("-cr-h2") }, "the lab's namespaces outlived it")
    }
}

/// What runs inside a network namespace, read from the host.
enum StackProbe {
    static func namespaces() -> [String] {
        guard let result = try? ProcessRunner.run("/usr/sbin/ip", ["netns", "list"], environment: [:], stdin: [],
                                                  timeoutSeconds: 5, outputCap: 1 << 20) else { return [] }
        return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    static func pids(_ namespace: String) -> [Int32] {
        guard let result = try? ProcessRunner.run("/usr/sbin/ip", ["netns", "pids", namespace], environment: [:], stdin: [],
                                                  timeoutSeconds: 5, outputCap: 1 << 16) else { return [] }
        return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
    }
}
