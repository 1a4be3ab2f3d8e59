// Quotas on a real vsquared: a class's template that would put more in a lab than its quotas
// allow is refused (403 quota_exceeded, naming the quota) before any lab exists; its students may
// run only so many commands at once (429) and get only so much output, and hold only so many
// event streams open, given back when one closes. A token's own quotas hold the same way.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized) struct QuotaTests {
    static let admin = DaemonProcess.admin

    @Test func aTemplateOverItsClassesQuotasIsRefusedBeforeAnyLabExists() throws {
        let daemon = try DaemonProcess.closed(TempDirectory(prefix: "vsqd"))
        let template: JSON = ["switches": [["name": "a", "ports": 16], ["name": "b", "ports": 16]], "cables": [["name": "ab", "a": ["switch": "a"], "b": ["switch": "b"]]]]
        for (quotas, named) in [(["ports": 31] as JSON, "ports"), (["switches": 1], "switches"), (["cables": 0], "cables")] {
            let refused = try daemon.client.send("POST", "/v1/classes", json: ["name": "q", "template": template, "students": [["id": "s"]], "quotas": quotas],
                                                 headers: QuotaTests.admin)
            #expect(refused.status == 403, "\(refused.text)")
            #expect(try refused.json()["code"] == "quota_exceeded" && refused.json()["quota"] == JSON(named), "\(refused.text)")
        }
        #expect(try daemon.client.get("/v1/labs", headers: QuotaTests.admin).json()["labs"] == [])
        let fits = try daemon.client.send("POST", "/v1/classes", json: ["name": "q", "template": template, "students": [["id": "s"]],
                                                                        "quotas": ["ports": 32, "switches": 2, "cables": 1]], headers: QuotaTests.admin)
        #expect(try fits.status == 201 && fits.json()["quotas"] == ["ports": 32, "switches": 2, "cables": 1], "\(fits.text)")
        // A new template over them is refused too; the labs keep the old one.
        var grown = try #require(template.objectValue)
        grown["switches"] = [["name": "a", "ports": 16], ["name": "b", "ports": 16], ["name": "c", "ports": 1]]
        let refused = try daemon.client.send("PUT", "/v1/classes/q", json: ["template": .object(grown)], headers: QuotaTests.admin)
        #expect(try refused.status == 403 && refused.json()["quota"] == "switches", "\(refused.text)")
        #expect(try daemon.client.get("/v1/labs/q-s", headers: QuotaTests.admin).json()["members"]?.arrayValue?.count == 3)
        // A token's quotas are what its holder uses at once; a lab's size is a class's to bound.
        let bad = try daemon.client.send("POST", "/v1/tokens", json: ["name": "t", "role": "viewer", "quotas": ["switches": 1]], headers: QuotaTests.admin)
        #expect(bad.status == 400, "\(bad.text)")
        #expect(try daemon.client.request("DELETE", "/v1/classes/q", headers: QuotaTests.admin).status == 204)
    }

    @Test func eventStreamsAreCountedAndGivenBackWhenOneCloses() throws {
        let daemon = try DaemonProcess.closed(TempDirectory(prefix: "vsqd"))
        let issued = try daemon.client.send("POST", "/v1/tokens", json: ["name": "w", "role": "viewer", "quotas": ["event_streams": 1]],
                                            headers: QuotaTests.admin)
        let token = try #require(try issued.json()["token"]?.stringValue, "\(issued.text)")
        #expect(try daemon.client.get("/v1/whoami", headers: bearer(token)).json()["quotas"] == ["event_streams": 1])
        let first = try SSEClient(address: daemon.address, token: token)
        #expect(first.status == 200)
        let second = try SSEClient(address: daemon.address, token: token)
        #expect(second.status == 429, "a second stream was let in")
        second.close()
        first.close()
        // The server notices the closed stream when it next writes to it: an event.
        #expect(eventually(timeoutSeconds: 10) {
            _ = try? daemon.client.send("POST", "/v1/switches", json: ["name": "poke"], headers: QuotaTests.admin)
            _ = try? daemon.client.request("DELETE", "/v1/switches/poke", headers: QuotaTests.admin)
            guard let again = try? SSEClient(address: daemon.address, token: token) else { return false }
            defer { again.close() }
            return again.status == 200
        }, "the closed stream's quota was never given back")
    }

    @Test(.enabled(if: geteuid() == 0, "netns stacks need root"))
    func aClassesStudentsRunSoManyCommandsAtOnceWithSoMuchOutput() throws {
        let daemon = try DaemonProcess.closed(TempDirectory(prefix: "vsqd"))
        let created = try daemon.client.send("POST", "/v1/classes", json: [
            "name": "q", "students": [["id": "s"]], "quotas": ["execs": 1, "exec_output_bytes": 10],
            "template": ["switches": [["name": "lan"]], "stacks": [["name": "h", "interfaces": [["name": "eth0", "switch": "lan", "addresses": ["10.7.0.1/24"]]]]]],
        ], headers: QuotaTests.admin)
        #expect(created.status == 201, "\(created.text)")
        let student = try #require(try created.json()["tokens"]?[0]?["token"]?.stringValue)
        let address = daemon.address
        let running = Thread {
            _ = try? HTTPTestClient(address: address).send("POST", "/v1/stacks/q-s-h/exec", json: ["argv": ["sleep", "2"]],
                                                           headers: [("Authorization", "Bearer \(student)")])
        }
        usleep(700_000)
        let refused = try daemon.client.send("POST", "/v1/stacks/q-s-h/exec", json: ["argv": ["true"]], headers: bearer(student))
        #expect(refused.status == 429 && refused.header("retry-after") != nil, "\(refused.text)")
        #expect(try refused.json()["code"] == "quota_exceeded" && refused.json()["quota"] == "execs" && refused.json()["limit"] == 1)
        // The teacher's (here the admin's) commands are not the class's to bound.
        #expect(try daemon.client.send("POST", "/v1/stacks/q-s-h/exec", json: ["argv": ["true"]], headers: QuotaTests.admin).status == 200)
        running.join()
        let output = try daemon.client.send("POST", "/v1/stacks/q-s-h/exec", json: ["argv": ["echo", "0123456789abcdef"]], headers: bearer(student)).json()
        #expect(output["stdout"] == "0123456789" && output["truncated"] == true, "\(output)")
        let detached = try daemon.client.send("POST", "/v1/stacks/q-s-h/exec", json: ["argv": ["sleep", "5"], "detach": true], headers: bearer(student))
        #expect(try detached.status == 403 && detached.json()["quota"] == "execs", "\(detached.status) \(detached.text)")
        #expect(try daemon.client.request("DELETE", "/v1/classes/q", headers: QuotaTests.admin).status == 204)
    }
}
