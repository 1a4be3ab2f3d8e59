// A class end to end on a real vsquared: three students from "two LANs and a router", their
// tokens as CSV, a student's broken route failing exactly that student's check in the teacher's
// grade table, a reset bringing it back, a template changed live in every lab, permissions
// narrowing what students may do, students joining and leaving, a restart, and a delete that
// leaves nothing. A bad template is refused before any lab exists.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0, "netns stacks need root")) struct ClassTests {
    static let admin = DaemonProcess.admin

    /// CSV rows as dictionaries by the header's names (no quoted fields in what these tests read).
    func rows(_ text: String) -> [[String: String]] {
        let lines = text.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    @Test func aClassOfThreeIsGradedResetChangedAndDeleted() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon = try DaemonProcess.closed(directory)
        defer { _ = try? daemon.client.request("DELETE", "/v1/classes/net101", headers: ClassTests.admin) }
        let template = try LabAPITests.example("two-lans-and-a-router.yaml")
        let students: JSON = [["id": "alice", "name": "Alice Liddell"], ["id": "bob"], ["id": "carol"]]

        // A teacher's mistake is refused with the analyzer's problems, before any lab is touched.
        var bad = try #require(template.objectValue)
        bad["cables"] = [["name": "loop", "a": ["switch": "lan1"], "b": ["switch": "lan1"]]]
        let refused = try daemon.client.send("POST", "/v1/classes", json: ["name": "net101", "template": .object(bad), "students": students],
                                             headers: ClassTests.admin)
        #expect(try refused.status == 422 && (refused.json()["code"]) == "invalid_topology", "\(refused.text)")
        #expect(try refused.json()["problems"]?.arrayValue?.contains { $0["pointer"] == "/template/cables/0/b/switch" } == true, "\(refused.text)")
        #expect(try daemon.client.get("/v1/labs", headers: ClassTests.admin).json()["labs"] == [])

        // The tokens, as CSV for the course script.
        let created = try daemon.client.send("POST", "/v1/classes", json: ["name": "net101", "template": template, "students": students],
                                             headers: ClassTests.admin + [("Accept", "text/csv")])
        #expect(created.status == 201 && created.header("content-type")?.hasPrefix("text/csv") == true, "\(created.text)")
        let issued = rows(created.text)
        #expect(issued.map { $0["student"] ?? "" } == ["alice", "bob", "carol"] && issued[0]["name"] == "Alice Liddell", "\(created.text)")
        #expect(issued.map { $0["lab"] ?? "" } == ["net101-alice", "net101-bob", "net101-carol"])
        let alice = try #require(issued[0]["token"]), bob = try #require(issued[1]["token"])
        let view = try daemon.client.get("/v1/classes/net101", headers: ClassTests.admin).json()
        #expect(view["state"] == "ready" && view["labs"] == ["total": 3, "ready": 3], "\(view)")

        // A student sees its lab alone, not its class nor another's lab.
        #expect(try daemon.client.get("/v1/labs/net101-alice", headers: bearer(alice)).status == 200)
        #expect(try daemon.client.get("/v1/labs/net101-bob", headers: bearer(alice)).status == 404)
        #expect(try daemon.client.get("/v1/classes/net101", headers: bearer(alice)).status == 404)
        // A teacher of the class sees and does everything in it.
        let teacherIssued = try daemon.client.send("POST", "/v1/tokens", json: ["name": "Ms T", "role": "teacher", "scope": ["classes": ["net101"]]],
                                                   headers: ClassTests.admin)
        let teacher = try #require(try teacherIssued.json()["token"]?.stringValue, "\(teacherIssued.text)")
        #expect(try daemon.client.get("/v1/classes", headers: bearer(teacher)).json()["classes"]?.arrayValue?.count == 1)
        #expect(try daemon.client.get("/v1/labs", headers: bearer(teacher)).json()["labs"]?.arrayValue?.count == 3)

        // Alice breaks h1's route; the grade table shows exactly that check failing, for her alone.
        let stream = try SSEClient(address: daemon.address, token: alice)
        defer { stream.close() }
        let broken = try daemon.client.send("POST", "/v1/stacks/net101-alice-h1/exec", json: ["argv": ["ip", "route", "del", "default"]],
                                            headers: bearer(alice))
        #expect(try broken.status == 200 && (broken.json()["exit_code"]) == 0, "\(broken.text)")
        // Her own audit entry reaches her stream.
        let entry = try stream.next("audit.entry")
        #expect(entry?.data["lab"] == "net101-alice" && entry?.data["route"] == "/v1/stacks/{name}/exec", "\(String(describing: entry?.data))")
        let graded = try daemon.client.send("POST", "/v1/classes/net101/checks", json: [:], headers: bearer(teacher) + [("Accept", "text/csv")])
        #expect(graded.status == 200, "\(graded.text)")
        let table = rows(graded.text)
        #expect(table.map { $0["student"] ?? "" } == ["alice", "bob", "carol"], "\(graded.text)")
        #expect(table[0]["h1-reaches-h2"] == "0" && table[0]["h1-reaches-r1"] == "1" && table[0]["total"] == "3" && table[0]["max"] == "5", "\(graded.text)")
        #expect(table[1...].allSatisfy { $0["h1-reaches-h2"] == "2" && $0["total"] == "5" }, "\(graded.text)")
        let kept = try daemon.client.get("/v1/classes/net101/checks", headers: bearer(teacher)).json()
        #expect(kept["students"]?[0]?["results"]?["h1-reaches-h2"] == ["passed": false, "points": 0], "\(kept)")
        // The audit log names who did it; alice sees her lab's entries alone, her teacher the class's.
        let audited = try daemon.client.get("/v1/audit?kind=request&lab=net101-alice", headers: bearer(teacher)).json()["entries"]?.arrayValue ?? []
        #expect(audited.first { $0["route"] == "/v1/stacks/{name}/exec" }?["principal"]?["name"] == "net101/alice", "\(audited)")
        let hers = try daemon.client.get("/v1/audit", headers: bearer(alice)).json()["entries"]?.arrayValue ?? []
        #expect(!hers.isEmpty && hers.allSatisfy { $0["lab"] == "net101-alice" }, "\(hers)")
        #expect(try daemon.client.get("/v1/audit", headers: bearer(teacher)).json()["entries"]?.arrayValue?.contains { $0["class"] == "net101" } == true)
        // Alice may grade her own lab; the evidence is there.
        let own = try daemon.client.send("POST", "/v1/labs/net101-alice/checks", json: [:], headers: bearer(alice)).json()
        #expect(own["results"]?[3]?["passed"] == false && own["results"]?[3]?["output"]?.stringValue?.isEmpty == false, "\(own)")

        // The teacher resets alice alone; her checks pass again.
        let reset = try daemon.client.send("POST", "/v1/classes/net101/reset?students=alice", json: [:], headers: bearer(teacher))
        #expect(try reset.status == 200 && (reset.json()["reset"]?["labs"]?.arrayValue?.map { $0["student"] }) == ["alice"], "\(reset.text)")
        let again = try daemon.client.send("POST", "/v1/classes/net101/checks?students=alice", json: [:], headers: bearer(teacher)).json()
        #expect(again["students"]?.arrayValue?.count == 1 && again["students"]?[0]?["points"] == 5, "\(again)")

        // A new template: planned for every lab, then applied live in each; no exec for students any more.
        var changed = try #require(template.objectValue)
        var switches = changed["switches"]?.arrayValue ?? []
        switches[1] = ["name": "lan2", "ports": 8, "mac_aging_s": 30]
        changed["switches"] = .array(switches)
        let plan = try daemon.client.send("PUT", "/v1/classes/net101?dry_run=true", json: ["template": .object(changed)], headers: bearer(teacher)).json()
        #expect(plan["labs"]?.arrayValue?.map { $0["steps"]?.arrayValue?.map { $0["global_name"] } ?? [] }
                == [["net101-alice-lan2"], ["net101-bob-lan2"], ["net101-carol-lan2"]], "\(plan)")
        let applied = try daemon.client.send("PUT", "/v1/classes/net101", json: ["template": .object(changed), "permissions": ["exec": false]],
                                             headers: bearer(teacher))
        #expect(try applied.status == 200 && (applied.json()["generation"]) == 2, "\(applied.text)")
        #expect(try applied.json()["applied"]?.arrayValue?.map { $0["outcome"] } == ["applied", "applied", "applied"], "\(applied.text)")
        #expect(try daemon.client.get("/v1/switches/net101-bob-lan2", headers: ClassTests.admin).json()["mac_aging_s"] == 30)
        let denied = try daemon.client.send("POST", "/v1/stacks/net101-alice-h1/exec", json: ["argv": ["true"]], headers: bearer(alice))
        #expect(try denied.status == 403 && (denied.json()["code"]) == "forbidden", "\(denied.text)")
        #expect(try daemon.client.send("POST", "/v1/labs/net101-alice/checks", json: [:], headers: bearer(alice)).status == 200)

        // Dave joins, bob leaves (his lab and token go with him).
        let joined = try daemon.client.send("POST", "/v1/classes/net101/students", json: ["students": [["id": "dave"]]], headers: bearer(teacher))
        #expect(try joined.status == 201 && (joined.json()["tokens"]?.arrayValue?.map { $0["lab"] }) == ["net101-dave"], "\(joined.text)")
        #expect(try daemon.client.get("/v1/labs/net101-dave", headers: ClassTests.admin).json()["topology"]?["switches"]?[1]?["mac_aging_s"] == 30)
        #expect(try daemon.client.request("DELETE", "/v1/classes/net101/students/bob", headers: bearer(teacher)).status == 204)
        #expect(try daemon.client.get("/v1/labs/net101-bob", headers: ClassTests.admin).status == 404)
        #expect(try daemon.client.get("/v1/whoami", headers: bearer(bob)).status == 401)

        // Through a restart, as it was.
        _ = daemon.stop()
        daemon = try DaemonProcess.closed(directory)
        let back = try daemon.client.get("/v1/classes/net101", headers: bearer(teacher)).json()
        #expect(back["students"]?.arrayValue?.map { $0["id"] } == ["alice", "carol", "dave"] && back["generation"] == 2, "\(back)")
        #expect(back["permissions"]?["exec"] == false && back["state"] == "ready", "\(back)")

        #expect(try daemon.client.request("DELETE", "/v1/classes/net101", headers: bearer(teacher)).status == 204)
        #expect(try daemon.client.get("/v1/labs", headers: ClassTests.admin).json()["labs"] == [])
        #expect(try daemon.client.get("/v1/whoami", headers: bearer(alice)).status == 401)
    }
}
