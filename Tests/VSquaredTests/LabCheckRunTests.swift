// A lab's checks run for real: "two LANs and a router" passes them all; a route broken through
// exec fails exactly the check that needs it (retried for its wait_s, with the evidence); a reset
// brings it back; the runs are kept, newest first, through a restart of vsquared.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0, "netns stacks need root")) struct LabCheckRunTests {
    @Test func checksGradeTheLabAndABrokenRouteFailsExactlyItsCheck() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon = try DaemonProcess(directory: directory)
        defer { _ = try? daemon.client.request("DELETE", "/v1/labs/grade") }
        let created = try daemon.client.send("POST", "/v1/labs", json: ["name": "grade", "topology": try LabAPITests.example("two-lans-and-a-router.yaml")])
        #expect(created.status == 201, "\(created.text)")
        #expect(eventually(timeoutSeconds: 20) { (try? daemon.json("/v1/labs/grade"))?["state"] == "ready" })

        func run() throws -> JSON {
            let reply = try daemon.client.send("POST", "/v1/labs/grade/checks", json: [:])
            #expect(reply.status == 200, "\(reply.text)")
            return try reply.json()
        }
        func failing(_ run: JSON) -> [String] {
            (run["results"]?.arrayValue ?? []).filter { $0["passed"] != true }.compactMap { $0["check"]?.stringValue }
        }
        let good = try run()
        #expect(failing(good) == [], "\(good)")
        #expect(good["points"] == 5 && good["max_points"] == 5 && good["passed"] == true)
        let results = good["results"]?.arrayValue ?? []
        #expect(results.map { $0["check"]?.stringValue ?? "" } == ["h1-reaches-r1", "h2-reaches-r1", "r1-forwards", "h1-reaches-h2"])
        // The evidence: ping's own words, from the right address.
        #expect(results[3]["output"]?.stringValue?.contains("bytes from 10.2.0.10") == true, "\(results[3])")
        #expect(results[3]["description"] == "h1 reaches h2 (10.2.0.10)")

        let broken = try daemon.client.send("POST", "/v1/stacks/grade-h1/exec", json: ["argv": ["ip", "route", "del", "default"]])
        #expect(try broken.json()["exit_code"] == 0, "\(broken.text)")
        let bad = try run()
        #expect(failing(bad) == ["h1-reaches-h2"], "\(bad)")
        #expect(bad["points"] == 3 && bad["passed"] == false)
        let failed = try #require(bad["results"]?[3])
        // Retried for its wait_s (3 s) before it was given up, and the output says why.
        #expect((failed["attempts"]?.intValue ?? 0) > 1 && (failed["duration_ms"]?.intValue ?? 0) >= 2500, "\(failed)")
        #expect(failed["output"]?.stringValue?.contains("unreachable") == true, "\(failed)")
        #expect(failed["points"] == 0 && failed["max_points"] == 2)

        #expect(try daemon.client.send("POST", "/v1/labs/grade/reset", json: [:]).status == 200)
        #expect(failing(try run()) == [])

        // Kept with their time, newest first, through a restart.
        _ = daemon.stop()
        daemon = try DaemonProcess(directory: directory)
        let kept = try daemon.json("/v1/labs/grade/checks")
        let runs = kept["runs"]?.arrayValue ?? []
        #expect(runs.map { $0["points"]?.intValue ?? -1 } == [5, 3, 5], "\(kept)")
        #expect(runs.allSatisfy { Clock.parseRFC3339($0["at"]?.stringValue ?? "") != nil })
        #expect(kept["checks"]?.arrayValue?.count == 4 && kept["max_points"] == 5)
        #expect(try daemon.json("/v1/labs/grade/checks?limit=1")["runs"]?.arrayValue?.count == 1)
        #expect(try daemon.client.request("DELETE", "/v1/labs/grade").status == 204)
    }

    @Test func aLabWithoutChecksGradesNothingAndAnUnknownLabIsNotFound() throws {
        let daemon = try DaemonProcess()
        #expect(try daemon.client.send("POST", "/v1/labs", json: ["name": "plain", "topology": ["switches": [["name": "s"]]]]).status == 201)
        let run = try daemon.client.send("POST", "/v1/labs/plain/checks", json: [:]).json()
        #expect(run["results"] == [] && run["max_points"] == 0 && run["passed"] == true, "\(run)")
        #expect(try daemon.client.send("POST", "/v1/labs/nowhere/checks", json: [:]).status == 404)
        #expect(try daemon.client.request("DELETE", "/v1/labs/plain").status == 204)
    }
}
