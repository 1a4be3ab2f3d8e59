// A cable whose far end is a tap interface inside a network namespace: two namespaces this test
// creates (and removes), each with "eth0" plugged into one vsquare-switch, ping each other over
// IPv4 and IPv6 — kernel TCP/IP stacks talking through our switch. Root only.
import Glibc
import JSON
import Posix
import Testing
import VDEWire
import VSquareTesting

@discardableResult
func run(_ command: String) -> Int32 {
    let status = command.withCString { system($0) }
    return (status >> 8) & 0xFF
}

@Suite(.serialized, .enabled(if: geteuid() == 0, "taps and namespaces need root"))
struct TapEndTests {
    @Test func twoNamespacesPingEachOtherThroughTheSwitch() throws {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let nsA = "vsqT1-" + tag, nsB = "vsqT2-" + tag
        defer { run("ip netns del \(nsA) 2>/dev/null; ip netns del \(nsB) 2>/dev/null") }
        #expect(run("ip netns add \(nsA) && ip netns add \(nsB)") == 0)
        let sw = try SwitchProcess()
        var cables: [ChildProcess] = []
        defer { for cable in cables { cable.stop(signal: SIGKILL, graceSeconds: 0) } }
        for (index, namespace) in [nsA, nsB].enumerated() {
            let control = sw.directory.path + "/plug\(index).sock"
            cables.append(try ChildProcess(path: "/usr/sbin/ip", arguments: ["netns", "exec", namespace,
                DaemonProcess.productsDirectory + "/vsquare-cable", "--a", sw.switchDirectory, "--b-tap", "eth0",
                "--control", control, "--name", "plug\(index)"], stdin: .null, stdout: .null, stderr: .null))
            #expect(eventually(timeoutSeconds: 10) { (try? ControlClient(path: control).call("status")["state"]) == "up" })
            #expect(run("ip -n \(namespace) link set lo up && ip -n \(namespace) link set eth0 up"
                        + " && ip -n \(namespace) addr add 10.202.7.\(index + 1)/24 dev eth0"
                        + " && ip -n \(namespace) -6 addr add fd00:202::\(index + 1)/64 dev eth0 nodad") == 0)
        }
        #expect(run("ip netns exec \(nsA) ping -c 3 -i 0.2 -W 2 10.202.7.2 > /dev/null") == 0, "IPv4 ping failed")
        #expect(run("ip netns exec \(nsB) ping -6 -c 3 -i 0.2 -W 2 fd00:202::1 > /dev/null") == 0, "IPv6 ping failed")
        let macs = try sw.control().call("macs")["macs"]?.arrayValue ?? []
        #expect(macs.count >= 2, "the switch learned both interfaces")
        // Stopping a plug removes its tap.
        cables[0].stop(signal: SIGTERM, graceSeconds: 5)
        #expect(eventually { run("ip -n \(nsA) link show eth0 > /dev/null 2>&1") != 0 })
    }
}
