// Remote cable ends over TCP on loopback: two cable workers (one listening, one connecting), each
// plugged into its own switch. Encrypted frames both ways, a wrong key refused, reconnection after
// the listening side restarts, and plain mode against Debian's vde_plug speaking its stream over TCP.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

func writeKey(_ hex: String, in directory: TempDirectory, _ name: String) -> String {
    let path = directory.path + "/" + name
    _ = "echo \(hex) > \(path)".withCString { system($0) }
    return path
}

let keyOne = String(repeating: "0123456789abcdef", count: 4)
let keyTwo = String(repeating: "fedcba9876543210", count: 4)

/// A port below the kernel's ephemeral range (32768 up, which port-0 listeners and every client
/// connection draw from, so a random pick there can collide), checked to be free right now.
func freePort() -> Int {
    while true {
        let port = Int.random(in: 20000...32000)
        if (try? Socket.listenTCP(SocketAddress(hostPort: "127.0.0.1:\(port)")!)) != nil { return port }
    }
}

@Suite(.serialized) struct RemoteCableTests {
    @Test func anEncryptedRemoteCableCarriesFramesBothWays() throws {
        let s1 = try SwitchProcess(name: "s1")
        let s2 = try SwitchProcess(name: "s2")
        let key = writeKey(keyOne, in: s1.directory, "key")
        let port = freePort()
        let listener = try CableProcess(a: s1.switchDirectory, b: nil, in: s1.directory, name: "near",
                                        extra: ["--b-listen", "127.0.0.1:\(port)", "--key-file", key], waitUntilUp: false)
        let connector = try CableProcess(a: s2.switchDirectory, b: nil, in: s1.directory, name: "far",
                                         extra: ["--b-connect", "127.0.0.1:\(port)", "--key-file", key], waitUntilUp: false)
        #expect(eventually(timeoutSeconds: 10) {
            (try? listener.control().call("status")["state"]) == "up" && (try? connector.control().call("status")["state"]) == "up"
        })
        // Debian's libvdeplug on both switches: the remote cable is between two VDE networks as qemu sees them.
        let left = try LibVDEPlug(url: "vde://" + s1.switchDirectory)
        let right = try LibVDEPlug(url: "vde://" + s2.switchDirectory)
        left.send(EthernetFrame.make(dst: broadcast, src: macA, payload: Array("secret hello".utf8)))
        #expect(right.receive() == EthernetFrame.make(dst: broadcast, src: macA, payload: Array("secret hello".utf8)))
        right.send(EthernetFrame.make(dst: macA, src: macB, size: 1514))
        #expect(left.receive() == EthernetFrame.make(dst: macA, src: macB, size: 1514))
        let remote = try listener.control().call("status")["ends"]?[1]
        #expect(remote?["encrypted"] == true && remote?["state"] == "connected")
        #expect((remote?["bytes_in"]?.intValue ?? 0) > 1514)
    }

    @Test func aWrongKeyIsRefusedAndNothingCrosses() throws {
        let s1 = try SwitchProcess(name: "s1")
        let s2 = try SwitchProcess(name: "s2")
        let port = freePort()
        let listener = try CableProcess(a: s1.switchDirectory, b: nil, in: s1.directory, name: "near",
                                        extra: ["--b-listen", "127.0.0.1:\(port)", "--key-file", writeKey(keyOne, in: s1.directory, "k1")],
                                        waitUntilUp: false)
        let events = try listener.control()
        _ = try events.call("status")
        let intruder = try CableProcess(a: s2.switchDirectory, b: nil, in: s1.directory, name: "far",
                                        extra: ["--b-connect", "127.0.0.1:\(port)", "--key-file", writeKey(keyTwo, in: s1.directory, "k2")],
                                        waitUntilUp: false)
        let refused = try events.waitForEvent("end.refused", timeoutSeconds: 10)
        #expect(refused?["reason"]?.stringValue?.contains("authentication failed") == true)
        let left = try VDEClient(directory: s1.switchDirectory)
        let right = try VDEClient(directory: s2.switchDirectory)
        try right.send(EthernetFrame.make(dst: broadcast, src: macB))
        #expect(try left.drain().isEmpty)
        #expect((try events.call("status")["ends"]?[1]?["auth_failures"]?.intValue ?? 0) >= 1)
        #expect(listener.process.wait(timeoutSeconds: 0) == nil && intruder.process.wait(timeoutSeconds: 0) == nil, "a wrong key crashed a worker")
        #expect(listener.log.contains("authentication failed"))
    }

    @Test func aStrangerCannotDisruptAnUpCableButTheRightKeyTakesOver() throws {
        let s1 = try SwitchProcess(name: "s1")
        let s2 = try SwitchProcess(name: "s2")
        let s3 = try SwitchProcess(name: "s3")
        let key = writeKey(keyOne, in: s1.directory, "key")
        let port = freePort()
        let listener = try CableProcess(a: s1.switchDirectory, b: nil, in: s1.directory, name: "near",
                                        extra: ["--b-listen", "127.0.0.1:\(port)", "--key-file", key], waitUntilUp: false)
        var first: CableProcess? = try CableProcess(a: s2.switchDirectory, b: nil, in: s1.directory, name: "first",
                                                    extra: ["--b-connect", "127.0.0.1:\(port)", "--key-file", key], waitUntilUp: false)
        #expect(eventually(timeoutSeconds: 10) { (try? first!.control().call("status")["state"]) == "up" })
        let events = try listener.control()
        _ = try events.call("status")
        let left = try VDEClient(directory: s1.switchDirectory)
        let right = try VDEClient(directory: s2.switchDirectory)

        // A wrong key, and a raw stranger who never finishes the handshake: both wait aside and are refused.
        let stranger = try Socket.connectTCP(SocketAddress(hostPort: "127.0.0.1:\(port)")!)
        try stranger.sendAll([0, 3, 1, 2, 3])
        let intruder = try CableProcess(a: s3.switchDirectory, b: nil, in: s1.directory, name: "intruder",
                                        extra: ["--b-connect", "127.0.0.1:\(port)", "--key-file", writeKey(keyTwo, in: s1.directory, "k2")],
                                        waitUntilUp: false)
        #expect(try events.waitForEvent("end.refused", timeoutSeconds: 10) != nil)
        intruder.process.signal(SIGKILL)
        stranger.close()
        #expect(try first!.control().call("status")["state"] == "up")
        try left.send(EthernetFrame.make(dst: broadcast, src: macA, payload: Array("still here".utf8)))
        #expect(try right.receive() == EthernetFrame.make(dst: broadcast, src: macA, payload: Array("still here".utf8)))

        // The right key does replace the link (a peer that reconnects before the old link times out).
        first!.process.signal(SIGSTOP)
        let second = try CableProcess(a: s3.switchDirectory, b: nil, in: s1.directory, name: "second",
                                      extra: ["--b-connect", "127.0.0.1:\(port)", "--key-file", key], waitUntilUp: false)
        #expect(eventually(timeoutSeconds: 10) { (try? second.control().call("status")["state"]) == "up" })
        first!.process.signal(SIGKILL)
        first = nil
        let far = try VDEClient(directory: s3.switchDirectory)
        try left.send(EthernetFrame.make(dst: broadcast, src: macA, payload: Array("to the newcomer".utf8)))
        #expect(try far.receive() == EthernetFrame.make(dst: broadcast, src: macA, payload: Array("to the newcomer".utf8)))
        // The wrong key and the stranger who closed mid-handshake are both counted (the latter once noticed).
        #expect(eventually(timeoutSeconds: 5) {
            ((try? listener.control().call("status"))?["ends"]?[1]?["auth_failures"]?.intValue ?? 0) >= 2
        }, "\((try? listener.control().call("status"))?["ends"]?[1] ?? nil)")
    }

    @Test func theConnectingSideReconnectsAfterThePathReturns() throws {
        let s1 = try SwitchProcess(name: "s1")
        let s2 = try SwitchProcess(name: "s2")
        let key = writeKey(keyOne, in: s1.directory, "key")
        let port = freePort()
        var listener: CableProcess? = try CableProcess(a: s1.switchDirectory, b: nil, in: s1.directory, name: "near",
                                                       extra: ["--b-listen", "127.0.0.1:\(port)", "--key-file", key], waitUntilUp: false)
        let connector = try CableProcess(a: s2.switchDirectory, b: nil, in: s1.directory, name: "far",
                                         extra: ["--b-connect", "127.0.0.1:\(port)", "--key-file", key], waitUntilUp: false)
        #expect(eventually(timeoutSeconds: 10) { (try? connector.control().call("status")["state"]) == "up" })
        let events = try connector.control()
        _ = try events.call("status")
        listener!.process.signal(SIGKILL)
        _ = listener!.process.wait(timeoutSeconds: 5)
        listener = nil
        #expect(try events.waitForEvent("end.down", timeoutSeconds: 5) != nil)
        #expect(try events.waitForEvent("end.reconnecting", timeoutSeconds: 5) != nil)
        listener = try CableProcess(a: s1.switchDirectory, b: nil, in: s1.directory, name: "near2",
                                    extra: ["--b-listen", "127.0.0.1:\(port)", "--key-file", key], waitUntilUp: false)
        #expect(eventually(timeoutSeconds: 15) { (try? connector.control().call("status")["state"]) == "up" })
        let left = try VDEClient(directory: s1.switchDirectory)
        let right = try VDEClient(directory: s2.switchDirectory)
        try left.send(EthernetFrame.make(dst: broadcast, src: macA, payload: Array("back again".utf8)))
        #expect(try right.receive() == EthernetFrame.make(dst: broadcast, src: macA, payload: Array("back again".utf8)))
    }

    @Test func plainModeInteroperatesWithAVdePlugStreamOverTCP() throws {
        let s1 = try SwitchProcess(name: "s1")
        let s2 = try SwitchProcess(name: "s2")
        let port = freePort()
        let listener = try CableProcess(a: s1.switchDirectory, b: nil, in: s1.directory, name: "plain",
                                        extra: ["--b-listen", "127.0.0.1:\(port)", "--plain"], waitUntilUp: false)
        // Debian's vde_plug on s2, its stdin and stdout the TCP connection itself.
        let tcp = try Socket.connectTCP(SocketAddress(hostPort: "127.0.0.1:\(port)")!)
        let plug = try ChildProcess(path: "/usr/bin/vde_plug", arguments: ["vde://" + s2.switchDirectory],
                                    stdin: .descriptor(tcp.fd), stdout: .descriptor(tcp.fd), stderr: .null)
        defer { plug.stop(signal: SIGKILL, graceSeconds: 0) }
        #expect(eventually(timeoutSeconds: 10) { (try? listener.control().call("status")["state"]) == "up" })
        #expect(eventually { (try? s2.control().call("status")["active_ports"]) == 1 })
        let left = try VDEClient(directory: s1.switchDirectory)
        let right = try VDEClient(directory: s2.switchDirectory)
        try left.send(EthernetFrame.make(dst: broadcast, src: macA, payload: Array("via vde_plug".utf8)))
        #expect(try right.receive() == EthernetFrame.make(dst: broadcast, src: macA, payload: Array("via vde_plug".utf8)))
        try right.send(EthernetFrame.make(dst: macA, src: macB, payload: Array("and back".utf8)))
        #expect(try left.receive() == EthernetFrame.make(dst: macA, src: macB, payload: Array("and back".utf8)))
    }
}
