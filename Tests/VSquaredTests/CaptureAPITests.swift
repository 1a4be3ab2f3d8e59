// Packet capture through the HTTP API, read by Wireshark's reader: two network-namespace stacks on
// two switches joined by a cable ping each other while a port and the cable are captured; tshark
// decodes the ICMP echoes from the pcap streams, a filter keeps only what it names, the tally is
// the `capture.ended` event, a filter libpcap refuses is a 400 with its words, and a client that
// leaves a quiet capture ends it. Root only (stacks are network namespaces).
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0 && Tshark.isInstalled, "stacks need root; tshark reads the streams"))
struct CaptureAPITests {
    /// A capture read to its end on a thread of its own: the response, once the capture is over.
    final class Capture: @unchecked Sendable {
        private let lock = Lock()
        private var result: HTTPTestResponse?
        private var thread: Thread?

        init(_ daemon: DaemonProcess, _ path: String) {
            let client = daemon.client
            thread = Thread { [self] in
                let response = try? client.request("GET", path, timeoutSeconds: 20)
                lock.withLock { result = response }
            }
        }

        func finish() -> HTTPTestResponse? {
            thread?.join()
            return lock.withLock { result }
        }
    }

    @Test func tsharkDecodesThePingBetweenTwoStacksFromAPortAndACable() throws {
        let daemon = try DaemonProcess()
        let tag = String(UInt32.random(in: 0...0xFFFF), radix: 16)
        let (one, two) = ("c1-" + tag, "c2-" + tag)
        defer {
            _ = try? daemon.client.request("DELETE", "/v1/stacks/\(one)")
            _ = try? daemon.client.request("DELETE", "/v1/stacks/\(two)")
        }
        for name in ["s1", "s2"] {
            #expect(try daemon.client.send("POST", "/v1/switches", json: ["name": JSON(name)]).status == 201)
        }
        #expect(try daemon.client.send("POST", "/v1/cables", json: ["name": "c", "a": ["switch": "s1"], "b": ["switch": "s2"]]).status == 201)
        for (index, (name, sw)) in [(one, "s1"), (two, "s2")].enumerated() {
            let created = try daemon.client.send("POST", "/v1/stacks", json: [
                "name": JSON(name), "interfaces": [["name": "eth0", "switch": JSON(sw), "port": 5, "addresses": [JSON("10.204.0.\(index + 1)/24")]]],
            ])
            #expect(created.status == 201, "\(created.text)")
        }
        #expect(eventually(timeoutSeconds: 10) {
            ((try? daemon.client.get("/v1/stacks/\(two)").json())?["interfaces"]?[0]?["live_addresses"]?.arrayValue ?? []).contains("10.204.0.2/24")
        })
        let events = try SSEClient(address: daemon.address)
        defer { events.close() }

        let port = Capture(daemon, "/v1/switches/s1/ports/5/capture?filter=icmp&count=4")
        let cable = Capture(daemon, "/v1/cables/c/capture?direction=a_to_b&filter=icmp&count=2&snaplen=42")
        for _ in 0..<2 { #expect(try events.next("capture.started") != nil) }
        let ping = try daemon.client.send("POST", "/v1/stacks/\(one)/exec", json: ["argv": ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.204.0.2"]]).json()
        #expect(ping["exit_code"] == 0, "\(ping)")

        let portCapture = try #require(port.finish())
        #expect(portCapture.status == 200 && portCapture.header("Content-Type") == "application/vnd.tcpdump.pcap")
        let portFrames = try Tshark.fields(portCapture.body, ["ip.src", "ip.dst", "icmp.type", "frame.len"])
        #expect(portFrames == [["10.204.0.1", "10.204.0.2", "8", "98"], ["10.204.0.2", "10.204.0.1", "0", "98"],
                               ["10.204.0.1", "10.204.0.2", "8", "98"], ["10.204.0.2", "10.204.0.1", "0", "98"]], "\(portFrames)")
        // The cable's a→b direction carries only the requests (the replies go b→a), cut to 42 bytes.
        let cableCapture = try #require(cable.finish())
        let cableFrames = try Tshark.fields(cableCapture.body, ["ip.dst", "icmp.type", "frame.cap_len", "frame.len"])
        #expect(cableFrames == [["10.204.0.2", "8", "42", "98"], ["10.204.0.2", "8", "42", "98"]], "\(cableFrames)")

        var tallies: [JSON] = []
        for _ in 0..<2 { if let event = try events.next("capture.ended") { tallies.append(event.data) } }
        let portTally = try #require(tallies.first { $0["switch"] == "s1" })
        #expect(portTally["port"] == 5 && portTally["frames"] == 4 && portTally["dropped"] == 0 && portTally["ended_by"] == "count", "\(portTally)")
        #expect((portTally["filtered_out"]?.intValue ?? 0) >= 1, "the ARP exchange went by the filter: \(portTally)")
        let cableTally = try #require(tallies.first { $0["cable"] == "c" })
        #expect(cableTally["frames"] == 2 && cableTally["direction"] == "a_to_b", "\(cableTally)")
    }

    @Test func aBadFilterIsRefusedWithLibpcapsWordsAndALeavingClientEndsItsCapture() throws {
        let daemon = try DaemonProcess()
        #expect(try daemon.client.send("POST", "/v1/switches", json: ["name": "s1"]).status == 201)
        let refused = try daemon.client.get("/v1/switches/s1/ports/1/capture?filter=tcp%20port%20and")
        #expect(refused.status == 400 && refused.header("Content-Type") == "application/problem+json")
        let problem = try refused.json()
        #expect(problem["code"] == "invalid_filter" && problem["libpcap"]?.stringValue?.contains("syntax error") == true, "\(problem)")
        #expect(try daemon.client.get("/v1/switches/s1/ports/1/capture?direction=up").status == 400)
        #expect(try daemon.client.get("/v1/switches/s1/ports/99/capture").status == 404)
        #expect(try daemon.client.get("/v1/cables/none/capture").status == 404)

        // A capture of a port nothing crosses, whose client reads the head and leaves.
        let events = try SSEClient(address: daemon.address)
        defer { events.close() }
        let socket = try Socket.connectTCP(daemon.address)
        try socket.sendAll(HTTPTestClient.encode("GET", "/v1/switches/s1/ports/3/capture"))
        #expect(try events.next("capture.started") != nil)
        #expect(try socket.waitReadable(timeoutSeconds: 5))
        socket.close()
        let ended = try #require(try events.next("capture.ended", timeoutSeconds: 5))
        #expect(ended.data["ended_by"] == "reader_closed" && ended.data["frames"] == 0, "\(ended.data)")
        // Eight at once is a worker's limit; the ninth is refused, and the first eight end with their time.
        let eight = (0..<8).map { _ in Capture(daemon, "/v1/switches/s1/ports/2/capture?duration_s=1.5") }
        for _ in 0..<8 { #expect(try events.next("capture.started") != nil) }
        let ninth = try daemon.client.get("/v1/switches/s1/ports/2/capture?duration_s=1")
        #expect(ninth.status == 422, "\(ninth.text)")
        for capture in eight { #expect(capture.finish()?.status == 200) }
    }
}
