// The vsquare-cable command line: far ends, slirp settings (IPPrefix arithmetic) and the errors
// a wrong flag gets.
import CableEngine
@testable import CableWorker
import Posix
import Testing

struct CableOptionsTests {
    func options(_ arguments: [String]) throws -> CableOptions {
        guard case .run(let options) = try CableOptions.parse(arguments) else { throw CableOptions.Invalid(description: "not a run") }
        return options
    }

    @Test func slirpFarEndCarriesItsAddressesAndDHCP() throws {
        let parsed = try options(["--a", "/tmp/sw", "--b-slirp", "10.0.9.2/24", "--slirp-ipv6", "fd00:9::2/64", "--slirp-no-dhcp",
                                  "--control", "/tmp/c.sock"])
        guard case .slirp(let settings) = parsed.b else { Issue.record("not slirp: \(parsed.b)"); return }
        #expect(settings.host.description == "10.0.9.2/24")
        #expect(settings.nameserver == "10.0.9.3")
        #expect(settings.host.ipv4Host(15).map(IPPrefix.ipv4Text) == "10.0.9.15")
        #expect(settings.ipv6?.ipv6Network.map(IPPrefix.ipv6Text) == "fd00:9::")
        #expect(!settings.dhcp)
        let tap = try options(["--a", "/tmp/sw", "--b-tap", "eth0", "--dhcp-hook", "/run/hook", "--control", "/tmp/c.sock"])
        #expect(tap.b == .interface("eth0", link: .tap, dhcpHook: "/run/hook"))
        let veth = try options(["--a", "/tmp/sw", "--b-veth", "eth1", "--control", "/tmp/c.sock"])
        #expect(veth.b == .interface("eth1", link: .veth, dhcpHook: nil))
    }

    @Test(arguments: [
        (["--b-slirp", "10.0.2.2"], "--b-slirp must be"),
        (["--b-slirp", "10.0.2.2/31"], "--b-slirp must be"),
        (["--b-slirp", "fd00::2/64"], "--b-slirp must be"),
        (["--b-slirp", "10.0.2.2/24", "--slirp-ipv6", "fd00::2/48"], "--slirp-ipv6 must be"),
        (["--b-slirp", "10.0.2.2/24", "--b-tap", "eth0"], "give exactly one"),
    ])
    func wrongSlirpFlagsAreRefused(_ flags: [String], _ message: String) {
        do {
            _ = try CableOptions.parse(["--a", "/tmp/sw", "--control", "/tmp/c.sock"] + flags)
            Issue.record("accepted \(flags)")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        }
    }

    @Test func vxlanFarEndsCarryTheirNetworkAndPeers() throws {
        let unicast = try options(["--a", "/tmp/sw", "--b-vxlan-remote", "10.1.2.3", "--vni", "4242", "--vxlan-local", "10.1.2.1",
                                   "--control", "/tmp/c.sock"])
        #expect(unicast.b == .vxlan(VXLANSettings(peers: .unicast(remote: "10.1.2.3"), vni: 4242, port: 4789, local: "10.1.2.1")))
        let group = try options(["--a", "/tmp/sw", "--b-vxlan-group", "ff05::77", "--vni", "0", "--vxlan-if", "eth1", "--vxlan-port", "8472",
                                 "--vxlan-ttl", "3", "--control", "/tmp/c.sock"])
        #expect(group.b == .vxlan(VXLANSettings(peers: .multicast(group: "ff05::77", interface: "eth1", ttl: 3), vni: 0, port: 8472)))
        // What the control plane writes for a worker (and keeps in its store) reads back the same.
        for case .vxlan(let settings) in [unicast.b, group.b] {
            #expect(try options(["--a", "/tmp/sw", "--control", "/tmp/c.sock"] + settings.arguments).b == .vxlan(settings))
            #expect(VXLANSettings(stored: .object(settings.json)) == settings)
        }
    }

    @Test(arguments: [
        (["--b-vxlan-remote", "10.1.2.3"], "a VXLAN end needs --vni"),
        (["--b-vxlan-remote", "10.1.2.3", "--vni", "16777216"], "a VXLAN end needs --vni"),
        (["--b-vxlan-remote", "peer.example", "--vni", "1"], "--b-vxlan-remote must be"),
        (["--b-vxlan-remote", "239.1.1.1", "--vni", "1"], "--b-vxlan-remote must be"),
        (["--b-vxlan-remote", "10.1.2.3", "--vni", "1", "--vxlan-local", "fd00::1"], "--vxlan-local must be"),
        (["--b-vxlan-remote", "10.1.2.3", "--vni", "1", "--vxlan-port", "0"], "--vxlan-port must be"),
        (["--b-vxlan-group", "10.1.2.3", "--vni", "1", "--vxlan-if", "eth0"], "--b-vxlan-group must be"),
        (["--b-vxlan-group", "239.1.1.1", "--vni", "1"], "--b-vxlan-group needs --vxlan-if"),
        (["--b-vxlan-group", "239.1.1.1", "--vni", "1", "--vxlan-if", "eth0", "--vxlan-ttl", "0"], "--vxlan-ttl must be"),
        (["--b-vxlan-group", "239.1.1.1", "--b-vxlan-remote", "10.1.2.3", "--vni", "1"], "give exactly one"),
    ])
    func wrongVXLANFlagsAreRefused(_ flags: [String], _ message: String) {
        do {
            _ = try CableOptions.parse(["--a", "/tmp/sw", "--control", "/tmp/c.sock"] + flags)
            Issue.record("accepted \(flags)")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        }
    }

    @Test func prefixesParseOnlyNumericAddressesWithLengths() {
        #expect(IPPrefix("192.168.1.77/20")?.ipv4Host(0).map(IPPrefix.ipv4Text) == "192.168.0.0")
        #expect(IPPrefix("192.168.1.77/20")?.ipv4Mask == 0xFFFF_F000)
        #expect(IPPrefix("fd00:1:2:3:4::9/64")?.ipv6Network.map(IPPrefix.ipv6Text) == "fd00:1:2:3::")
        #expect(IPPrefix("fd00::1/65")?.ipv6Network.map(IPPrefix.ipv6Text) == "fd00::")
        for bad in ["10.0.0.1", "10.0.0.1/33", "host/24", "fd00::1/129", "10.0.0.1/", "/24", "10.0.0.1/24/1"] {
            #expect(IPPrefix(bad) == nil, "\(bad)")
        }
    }
}
