// A cable whose far end is an interface inside a network namespace (a tap, or a veth pair read
// through a packet socket): two namespaces this test creates (and removes), each with "eth0"
// plugged into one vsquare-switch, ping each other over IPv4 and IPv6 and carry a TCP stream whole
// — kernel TCP/IP stacks talking through our switch. Root only.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

@Suite(.serialized, .enabled(if: geteuid() == 0, "taps and namespaces need root"))
struct InterfaceEndTests {
    @Test(arguments: ["--b-tap", "--b-veth"])
    func twoNamespacesTalkThroughTheSwitch(_ interfaceFlag: String) throws {
        let tag = TestRun.tag()
        let nsA = TestRun.name("T1" + tag), nsB = TestRun.name("T2" + tag)
        defer { shell("ip netns del \(nsA) 2>/dev/null; ip netns del \(nsB) 2>/dev/null") }
        #expect(shell("ip netns add \(nsA) && ip netns add \(nsB)") == 0)
        let sw = try SwitchProcess()
        var cables: [ChildProcess] = []
        defer { for cable in cables { cable.stop(signal: SIGKILL, graceSeconds: 0) } }
        for (index, namespace) in [nsA, nsB].enumerated() {
            let control = sw.directory.path + "/plug\(index).sock"
            cables.append(try ChildProcess(path: "/usr/sbin/ip", arguments: ["netns", "exec", namespace,
                DaemonProcess.productsDirectory + "/vsquare-cable", "--a", sw.switchDirectory, interfaceFlag, "eth0",
                "--control", control, "--name", "plug\(index)"], stdin: .null, stdout: .null, stderr: .null))
            #expect(eventually(timeoutSeconds: 10) { (try? ControlClient(path: control).call("status")["state"]) == "up" })
            #expect(shell("ip -n \(namespace) link set lo up && ip -n \(namespace) link set eth0 up"
                        + " && ip -n \(namespace) addr add 10.202.7.\(index + 1)/24 dev eth0"
                        + " && ip -n \(namespace) -6 addr add fd00:202::\(index + 1)/64 dev eth0 nodad") == 0)
        }
        #expect(shell("ip netns exec \(nsA) ping -c 3 -i 0.2 -W 2 10.202.7.2 > /dev/null") == 0, "IPv4 ping failed")
        #expect(shell("ip netns exec \(nsB) ping -6 -c 3 -i 0.2 -W 2 fd00:202::1 > /dev/null") == 0, "IPv6 ping failed")
        #expect(shell("ip netns exec \(nsA) ping -c 1 -s 4000 -W 2 10.202.7.2 > /dev/null") == 0, "fragmented ping failed")
        // A TCP stream arrives whole (offloads would leave checksums undone on a veth).
        // The listener is ours (its stdin held open, killed with the test), and listening before the sender starts.
        let received = sw.directory.path + "/received"
        let listener = try ChildProcess(path: "/usr/sbin/ip", arguments: ["netns", "exec", nsB, "timeout", "20", "busybox", "nc", "-l", "-p", "5001"],
                                        stdin: .pipe, stdout: .file(received), stderr: .null)
        defer { listener.stop(signal: SIGKILL, graceSeconds: 0) }
        #expect(eventually(timeoutSeconds: 10) { shell("ip netns exec \(nsB) ss -ltnH 'sport = :5001' | grep -q LISTEN") == 0 })
        #expect(shell("head -c 3000000 /dev/zero | ip netns exec \(nsA) timeout 10 busybox nc -w 2 10.202.7.2 5001") == 0)
        #expect(eventually(timeoutSeconds: 10) { FileSystem.size(received) == 3_000_000 }, "received \(FileSystem.size(received) ?? -1) bytes")
        let macs = try sw.control().call("macs")["macs"]?.arrayValue ?? []
        #expect(macs.count >= 2, "the switch learned both interfaces")
        // Stopping a plug removes its interface.
        cables[0].stop(signal: SIGTERM, graceSeconds: 5)
        #expect(eventually { shell("ip -n \(nsA) link show eth0 > /dev/null 2>&1") != 0 })
    }
}
