// Two vsquared on one host, each with its own home, hold stacks of the same names side by side:
// each gets its own namespaces (vsq-<instance>-<name>) and neither sees, changes or removes the
// other's. The prefix is the home's, so it is the same after a restart. Root only (named namespaces).
import ControlPlane
import Glibc
import JSON
import Posix
import Testing
import VSquareTesting

@Suite struct InstanceScopeTests {
    @Test func thePrefixIsStablePerHomeAndDiffersBetweenHomes() {
        #expect(InstanceScope(home: "/var/lib/vsquare") == InstanceScope(home: "/var/lib/vsquare"))
        #expect(InstanceScope(home: "/var/lib/vsquare").prefix != InstanceScope(home: "/tmp/other").prefix)
        #expect(InstanceScope(home: "/tmp/x").prefix.count == 6)
        // Pinned: namespaces made by an installed vsquared carry it, so it must never change between versions.
        #expect(InstanceScope(home: "/var/lib/vsquare").prefix == "6e0b80")
        #expect(InstanceScope(home: "/tmp/x").namespaceName("h1") == "vsq-\(InstanceScope(home: "/tmp/x").prefix)-h1")
    }

    @Test(.enabled(if: geteuid() == 0, "named network namespaces need root"))
    func twoDaemonsKeepStacksOfTheSameNameApart() throws {
        let first = try DaemonProcess()
        let second = try DaemonProcess()
        defer {
            for daemon in [first, second] { _ = try? daemon.client.request("DELETE", "/v1/stacks/h1") }
        }
        var namespaces: [String] = []
        for (index, daemon) in [first, second].enumerated() {
            try daemon.createSwitch(["name": "lan"])
            let created = try daemon.client.send("POST", "/v1/stacks", json: [
                "name": "h1", "interfaces": [["name": "eth0", "switch": "lan", "addresses": [JSON("10.209.\(index).1/24")]]]])
            #expect(created.status == 201, "\(created.text)")
            let namespace = try created.json()["namespace"]?.stringValue ?? ""
            #expect(namespace == InstanceScope(home: daemon.home).namespaceName("h1"))
            namespaces.append(namespace)
        }
        #expect(namespaces[0] != namespaces[1])
        for (index, daemon) in [first, second].enumerated() {
            // Each daemon's h1 is its own: the address it was given, in its own namespace.
            let shown = try daemon.client.send("POST", "/v1/stacks/h1/exec", json: ["argv": ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]]).json()
            #expect(shown["stdout"]?.stringValue?.contains("10.209.\(index).1/24") == true, "\(shown)")
            #expect(run("ip netns list | grep -qw \(namespaces[index])") == 0)
        }
        // Deleting one daemon's h1 leaves the other's running.
        #expect(try first.client.request("DELETE", "/v1/stacks/h1").status == 204)
        #expect(run("ip netns list | grep -qw \(namespaces[0])") != 0)
        #expect(run("ip netns list | grep -qw \(namespaces[1])") == 0)
        let still = try second.client.send("POST", "/v1/stacks/h1/exec", json: ["argv": ["true"]]).json()
        #expect(still["exit_code"] == 0, "\(still)")
    }
}
