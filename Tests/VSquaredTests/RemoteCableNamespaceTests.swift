// A remote cable between two vsquared daemons in two network namespaces, joined by a veth pair
// this test creates (and always removes): frames cross encrypted, a wrong key is refused, and the
// cable carries frames again after its path is cut and restored. Root only; traffic stays inside
// the test's own namespaces.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

/// A vsquared running inside a namespace, driven with curl run in the same namespace.
final class NamespacedDaemon: @unchecked Sendable {
    let namespace: String
    let process: ChildProcess
    let directory = TempDirectory(prefix: "vsqn")
    let port = 18600

    init(namespace: String) throws {
        self.namespace = namespace
        let log = directory.path + "/log"
        process = try ChildProcess(path: "/usr/sbin/ip", arguments: ["netns", "exec", namespace, DaemonProcess.productsDirectory + "/vsquared",
                                                                     "--listen", "127.0.0.1:\(port)", "--home", directory.path + "/h",
                                                                     "--run", directory.path + "/r"],
                                   stdin: .null, stdout: .file(log), stderr: .file(log))
        guard eventually(timeoutSeconds: 10, { (try? self.request("GET", "/v1/health"))?["status"] == "ok" }) else {
            throw HTTPTestError.malformedResponse("vsquared did not start in \(namespace)")
        }
    }

    deinit { process.stop(signal: SIGKILL, graceSeconds: 0) }

    func request(_ method: String, _ path: String, _ body: JSON? = nil) throws -> JSON {
        let out = directory.path + "/reply"
        var command = "ip netns exec \(namespace) curl -s -m 10 -X \(method) http://127.0.0.1:\(port)\(path) -o \(out)"
        if let body { command += " -H 'Content-Type: application/json' -d '\(body.text())'" }
        _ = shell(command)
        guard let bytes = FileSystem.readFile(out), !bytes.isEmpty else { return .null }
        return try JSON.parse(bytes)
    }

    func switchDirectory(_ name: String) throws -> String {
        String(try request("GET", "/v1/switches/\(name)").requiredString("plug_url").dropFirst(6))
    }
}

@Suite(.serialized, .enabled(if: geteuid() == 0, "network namespaces need root"))
struct RemoteCableNamespaceTests {
    @Test func aRemoteCableBetweenTwoHostsWithAWrongKeyAndACutPath() throws {
        let net = try NamespacePair()
        let left = try NamespacedDaemon(namespace: net.a)
        let right = try NamespacedDaemon(namespace: net.b)
        let key = String(repeating: "5a", count: 32)
        let listenAddress = "10.201.\(net.subnet).1:7000"
        _ = try left.request("POST", "/v1/switches", ["name": "s1"])
        _ = try right.request("POST", "/v1/switches", ["name": "s2"])
        let near = try left.request("POST", "/v1/cables", ["name": "uplink", "a": ["switch": "s1"],
                                                           "b": ["remote": ["listen": JSON(listenAddress), "key": JSON(key)]]])
        #expect(near["name"] == "uplink", "the cable was not created: \(near)")
        #expect(near["b"]?["remote"]?["encrypted"] == true)
        #expect(near["b"]?["remote"]?["key"] == nil, "the key is never shown")
        #expect(near["encapsulation"]?["kind"] == "tcp" && near["encapsulation"]?["encrypted"] == true)
        _ = try right.request("POST", "/v1/cables", ["name": "uplink", "a": ["switch": "s2"],
                                                     "b": ["remote": ["connect": JSON(listenAddress), "key": JSON(key)]]])
        #expect(eventually(timeoutSeconds: 15) {
            (try? left.request("GET", "/v1/cables/uplink"))?["state"] == "up" && (try? right.request("GET", "/v1/cables/uplink"))?["state"] == "up"
        })
        let west = try VDEClient(directory: try left.switchDirectory("s1"))
        let east = try VDEClient(directory: try right.switchDirectory("s2"))
        try west.send(EthernetFrame.make(dst: broadcast, src: macA, payload: Array("between hosts".utf8)))
        #expect(try east.receive(timeoutSeconds: 3) == EthernetFrame.make(dst: broadcast, src: macA, payload: Array("between hosts".utf8)))
        let peer = try right.request("GET", "/v1/cables/uplink")["ends"]?[1]
        #expect(peer?["peer"]?.stringValue == listenAddress && (peer?["bytes_out"]?.intValue ?? 0) > 0)

        // A second cable whose two sides disagree on the key: refused, nothing crosses.
        _ = try left.request("POST", "/v1/cables", ["name": "spoof", "a": ["switch": "s1"],
                                                    "b": ["remote": ["listen": JSON("10.201.\(net.subnet).1:7001"), "key": JSON(key)]]])
        _ = try right.request("POST", "/v1/cables", ["name": "spoof", "a": ["switch": "s2"],
                                                     "b": ["remote": ["connect": JSON("10.201.\(net.subnet).1:7001"),
                                                                      "key": JSON(String(repeating: "a5", count: 32))]]])
        #expect(eventually(timeoutSeconds: 10) {
            ((try? left.request("GET", "/v1/cables/spoof"))?["ends"]?[1]?["auth_failures"]?.intValue ?? 0) >= 1
        })
        let spoof = try left.request("GET", "/v1/cables/spoof")
        #expect(spoof["name"] == "spoof", "no answer about the refused cable: \(spoof)")
        #expect(spoof["state"] != "up")
        #expect(try left.request("GET", "/v1/health")["status"] == "ok" && right.request("GET", "/v1/health")["status"] == "ok")
        // A broadcast crosses once, by the uplink: had the refused cable carried it, it would come twice (or loop).
        _ = try east.drain(quietSeconds: 0.3)
        let once = EthernetFrame.make(dst: broadcast, src: macA, payload: Array("exactly once".utf8))
        try west.send(once)
        #expect(try east.receive(timeoutSeconds: 3) == once)
        #expect(try east.drain(quietSeconds: 0.5).isEmpty, "a frame crossed the cable whose key was wrong")
        _ = try left.request("DELETE", "/v1/cables/spoof")
        _ = try right.request("DELETE", "/v1/cables/spoof")

        // Cut the path for longer than the connection's user timeout (15 s): the connection dies, the
        // connecting side notices; once the path is back it connects again and frames cross.
        let connectionsBefore = try right.request("GET", "/v1/cables/uplink")["ends"]?[1]?["connections"]?.intValue ?? 0
        #expect(connectionsBefore >= 1)
        net.setPath(up: false)
        try west.send(EthernetFrame.make(dst: broadcast, src: macA, payload: Array("into the void".utf8)))
        #expect(eventually(timeoutSeconds: 30) { (try? right.request("GET", "/v1/cables/uplink"))?["state"] == "connecting" },
                "the connecting side never noticed the dead path")
        net.setPath(up: true)
        #expect(eventually(timeoutSeconds: 20) {
            ((try? right.request("GET", "/v1/cables/uplink"))?["ends"]?[1]?["connections"]?.intValue ?? 0) > connectionsBefore
        }, "no new connection after the path came back")
        var delivered = false
        for _ in 0..<40 where !delivered {
            try west.send(EthernetFrame.make(dst: broadcast, src: macA, payload: Array("after the cut".utf8)))
            while let frame = try east.receive(timeoutSeconds: 0.5) {
                if frame == EthernetFrame.make(dst: broadcast, src: macA, payload: Array("after the cut".utf8)) { delivered = true }
            }
        }
        #expect(delivered, "the cable did not carry frames after the path came back")
    }

    @Test func aVXLANCableBetweenTwoHostsCarriesAnAccurateDelay() throws {
        let net = try NamespacePair()
        let left = try NamespacedDaemon(namespace: net.a)
        let right = try NamespacedDaemon(namespace: net.b)
        let west = "10.201.\(net.subnet).1", east = "10.201.\(net.subnet).2"
        _ = try left.request("POST", "/v1/switches", ["name": "s1"])
        _ = try right.request("POST", "/v1/switches", ["name": "s2"])
        let near = try left.request("POST", "/v1/cables", ["name": "uplink", "a": ["switch": "s1"], "b": ["vxlan": ["remote": JSON(east), "vni": 77]],
                                                           "impairments": ["a_to_b": ["delay_ms": 20]]])
        #expect(near["encapsulation"]?["kind"] == "vxlan", "\(near)")
        _ = try right.request("POST", "/v1/cables", ["name": "uplink", "a": ["switch": "s2"], "b": ["vxlan": ["remote": JSON(west), "vni": 77]]])
        #expect(eventually(timeoutSeconds: 10) {
            (try? left.request("GET", "/v1/cables/uplink"))?["state"] == "up" && (try? right.request("GET", "/v1/cables/uplink"))?["state"] == "up"
        })
        let a = try VDEClient(directory: try left.switchDirectory("s1"))
        let b = try VDEClient(directory: try right.switchDirectory("s2"))
        // Each frame takes the 20 ms of the west → east direction, and nothing more than the path's own time.
        var delays: [Double] = []
        for index in 0..<20 {
            let frame = EthernetFrame.make(dst: broadcast, src: macA, payload: Array("delayed \(index)".utf8))
            let sent = Clock.monotonicNanoseconds()
            try a.send(frame)
            guard try b.receive(timeoutSeconds: 2) == frame else { Issue.record("frame \(index) did not cross"); break }
            delays.append(Double(Clock.monotonicNanoseconds() - sent) / 1e6)
        }
        let sorted = delays.sorted()
        print("VXLAN cable between namespaces, 20 ms delay asked: min \(sorted.first ?? 0) ms, median \(sorted.isEmpty ? 0 : sorted[sorted.count / 2]) ms, max \(sorted.last ?? 0) ms")
        #expect(delays.count == 20 && sorted.first! >= 20 && sorted[sorted.count / 2] < 23, "\(sorted)")
        // Back the other way there is no delay.
        let reply = EthernetFrame.make(dst: macA, src: macB, payload: Array("straight back".utf8))
        let sent = Clock.monotonicNanoseconds()
        try b.send(reply)
        #expect(try a.receive(timeoutSeconds: 2) == reply)
        #expect(Double(Clock.monotonicNanoseconds() - sent) / 1e6 < 10)
        let end = try right.request("GET", "/v1/cables/uplink")["ends"]?[1]
        #expect(end?["kind"] == "vxlan" && end?["largest_frame"]?.intValue == 1464 && end?["dropped"]?["foreign"]?.intValue == 0, "\(end ?? nil)")
        _ = try left.request("DELETE", "/v1/cables/uplink")
        _ = try right.request("DELETE", "/v1/cables/uplink")
        #expect(try left.request("GET", "/v1/cables")["cables"]?.arrayValue?.isEmpty == true)
    }
}
