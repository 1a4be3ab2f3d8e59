// Labs over HTTP against a real vsquared: the example "two LANs and a router" becomes switches and
// stacks whose hosts ping across the router; a document with problems is refused whole and
// changes nothing; deleting the lab leaves none of its members.
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting
import YAML

@Suite(.serialized) struct LabAPITests {
    /// A document of ops/examples/ (`labs/` unless said otherwise), as JSON.
    static func example(_ name: String, in folder: String = "labs") throws -> JSON {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let path = parts.joined(separator: "/") + "/ops/examples/\(folder)/" + name
        let bytes = try #require(FileSystem.readFile(path), "no example \(path)")
        return try YAMLDocument(text: String(decoding: bytes, as: UTF8.self)).json
    }

    @Test(.enabled(if: geteuid() == 0, "netns stacks need root"))
    func twoLANsAndARouterPingAcross() throws {
        let daemon = try DaemonProcess()
        let lab = "rt" + TestRun.tag(4)
        defer { _ = try? daemon.client.request("DELETE", "/v1/labs/\(lab)") }
        let created = try daemon.client.send("POST", "/v1/labs", json: ["name": JSON(lab), "topology": try LabAPITests.example("two-lans-and-a-router.yaml")])
        #expect(created.status == 201, "\(created.text)")
        let body = try created.json()
        #expect(try body.requiredArray("members").map { $0["global_name"]?.stringValue ?? "" }.sorted()
                == ["\(lab)-h1", "\(lab)-h2", "\(lab)-lan1", "\(lab)-lan2", "\(lab)-r1"])
        #expect(try body.requiredArray("failures").isEmpty, "\(body)")
        #expect(eventually(timeoutSeconds: 20) { (try? daemon.json("/v1/labs/\(lab)"))?["state"] == "ready" },
                "\(String(describing: try? daemon.json("/v1/labs/\(lab)")))")
        // The members are ordinary nouns.
        #expect(try daemon.json("/v1/switches/\(lab)-lan2")["mac_aging_s"] == 120)
        #expect(try daemon.json("/v1/stacks/\(lab)-r1")["forwarding"] == true)
        #expect(try daemon.json("/v1/stacks/\(lab)-r1")["lab"] == JSON(lab))
        #expect(try daemon.json("/v1/stacks?lab=\(lab)").requiredArray("stacks").count == 3)
        // h1 reaches h2 through r1.
        var ping: JSON = .null
        #expect(try eventually(timeoutSeconds: 15) {
            ping = try daemon.client.send("POST", "/v1/stacks/\(lab)-h1/exec",
                                          json: ["argv": ["ping", "-c", "1", "-W", "1", "10.2.0.10"], "timeout_s": 5]).json()
            return ping["exit_code"] == 0
        }, "\(ping)")

        #expect(try daemon.client.request("DELETE", "/v1/labs/\(lab)").status == 204)
        #expect(try daemon.client.get("/v1/labs/\(lab)").status == 404)
        #expect(try daemon.json("/v1/switches")["switches"] == [])
        #expect(try daemon.json("/v1/stacks")["stacks"] == [])
    }

    @Test func aDocumentWithProblemsIsRefusedWholeAndChangesNothing() throws {
        let daemon = try DaemonProcess()
        let refused = try daemon.client.send("POST", "/v1/labs", json: ["name": "bad", "topology": [
            "switches": [["name": "s1", "ports": 4], ["name": "s1"]],
            "cables": [["name": "c", "a": ["switch": "s1", "port": 9], "b": ["switch": "ghost"]]],
        ]])
        #expect(refused.status == 422)
        let problem = try refused.json()
        #expect(problem["code"] == "invalid_topology")
        let pointers = Set(try problem.requiredArray("problems").compactMap { $0["pointer"]?.stringValue })
        #expect(pointers == ["/switches/1/name", "/cables/0/a/port", "/cables/0/b/switch"], "\(problem)")
        #expect(try daemon.json("/v1/switches")["switches"] == [], "a refused document made something")
        #expect(try daemon.client.get("/v1/labs/bad").status == 404)

        // A name taken: by another lab, or a member's global name by a switch made outside any lab.
        let small: JSON = ["switches": [["name": "core"]]]
        #expect(try daemon.client.send("POST", "/v1/labs", json: ["name": "one", "topology": small]).status == 201)
        #expect(try daemon.client.send("POST", "/v1/labs", json: ["name": "one", "topology": small]).status == 409)
        try daemon.createSwitch(["name": "two-core"])
        let clash = try daemon.client.send("POST", "/v1/labs", json: ["name": "two", "topology": small])
        #expect(clash.status == 409, "\(clash.text)")
        #expect(try daemon.client.get("/v1/labs/two").status == 404)
        #expect(try daemon.json("/v1/labs/one")["topology"] == small, "the refused second lab changed the first")

        // A lab on hosts this daemon has no peer for is refused, not built here whole; one host alone is this one.
        let spread = try daemon.client.send("POST", "/v1/labs", json: ["name": "far", "topology": [
            "hosts": ["here": ["address": "127.0.0.1"], "there": ["api": "http://192.0.2.7:8420", "address": "192.0.2.7"]],
            "switches": [["name": "s1"], ["name": "s2", "host": "there"]],
            "cables": [["name": "c", "a": ["switch": "s1"], "b": ["switch": "s2"]]],
        ]])
        #expect(spread.status == 422 && (try? spread.json()["problems"]?[0]?["code"]) == "unknown_peer", "\(spread.text)")
        #expect(try daemon.client.get("/v1/labs/far").status == 404)
        let alone = try daemon.client.send("POST", "/v1/labs", json: ["name": "here", "topology": [
            "hosts": ["here": ["address": "127.0.0.1"]], "switches": [["name": "s1", "host": "here"]]]])
        #expect(alone.status == 201, "\(alone.text)")
        #expect(eventually { (try? daemon.json("/v1/switches/here-s1"))?["name"] == "here-s1" })
    }

    @Test func labsAreKeptAcrossARestart() throws {
        let directory = TempDirectory(prefix: "vsqd")
        var daemon: DaemonProcess? = try DaemonProcess(directory: directory)
        let topology: JSON = ["description": "kept", "switches": [["name": "a"], ["name": "b"]],
                              "cables": [["name": "ab", "a": ["switch": "a"], "b": ["switch": "b"]]]]
        #expect(try daemon!.client.send("POST", "/v1/labs", json: ["name": "keep", "topology": topology]).status == 201)
        #expect(daemon!.stop() == .exited(0))
        daemon = try DaemonProcess(directory: directory)
        let lab = try daemon!.json("/v1/labs/keep")
        #expect(lab["topology"] == topology && lab["description"] == "kept")
        #expect(try daemon!.json("/v1/cables/keep-ab")["lab"] == "keep", "membership is known again after the restart")
        #expect(eventually(timeoutSeconds: 10) { (try? daemon!.json("/v1/labs/keep"))?["state"] == "ready" },
                "\(String(describing: try? daemon!.json("/v1/labs/keep")))")
    }
}
