// CableOptions: the vsquare-cable command line.
//
//   vsquare-cable --a DIR [--a-port N] (--b DIR [--b-port N] | --b-listen HOST:PORT | --b-connect HOST:PORT
//                 | --b-tap NAME | --b-veth NAME | --b-slirp ADDRESS/PREFIX [--slirp-ipv6 ADDRESS/64] [--slirp-no-dhcp]
//                 | --b-vxlan-remote IP [--vxlan-local IP] | --b-vxlan-group GROUP --vxlan-if NAME [--vxlan-ttl N]
//                   (both with --vni N [--vxlan-port P]))
//                 [--key-file FILE | --plain] --control PATH [--name NAME] [--seed N]

import CableEngine
import Posix
import WorkerControl

public struct CableOptions: Equatable, Sendable {
    /// Where the far end is: a local switch directory, or a remote peer over TCP.
    public enum FarEnd: Equatable, Sendable {
        case local(String)
        case listen(SocketAddress)
        case connect(SocketAddress)
        /// A tap interface, created in the namespace the worker runs in.
        /// An interface (a tap, or a veth pair read through a packet socket) in the worker's
        /// namespace; with a DHCP hook script, the worker runs busybox udhcpc on it with that script.
        case interface(String, link: InterfaceLink, dhcpHook: String?)
        /// A user-mode NAT router (libslirp) with DHCP, DNS forwarding and host forwards.
        case slirp(SlirpSettings)
        /// A VXLAN tunnel to one peer or to a multicast group.
        case vxlan(VXLANSettings)
    }

    public var a: String
    public var aPort: Int?
    public var b: FarEnd
    public var bPort: Int?
    /// The pre-shared key of a remote end (32 bytes); nil with --plain.
    public var key: [UInt8]?
    public var control: String
    public var name: String
    /// Seeds both directions' random draws (b→a uses seed + 1); reported so a run can be repeated.
    public var seed: UInt64

    public typealias Command = WorkerCommand<CableOptions>
    public typealias Invalid = InvalidOptions


    public static let usage = """
    Usage: vsquare-cable --a DIR (--b DIR | --b-listen HOST:PORT | --b-connect HOST:PORT | --b-tap NAME
                             | --b-slirp ADDRESS/PREFIX | --b-vxlan-remote IP | --b-vxlan-group GROUP)
                             --control PATH [options]

    One cable: it plugs into switch A (as vde_plug would) and carries frames to B, either another
    local switch or a remote peer over TCP, through per-direction impairments set on its JSON
    control socket.

      --a DIR, --b DIR     The switches' control directories (vde://DIR).
      --a-port N, --b-port N
                           Ask for port N on that switch (default: any free port).
      --b-listen HOST:PORT, --b-connect HOST:PORT
                           B is a remote peer: wait for it, or connect to it (retried with
                           backoff). Frames travel with vde_plug's stream framing.
      --b-tap NAME         B is a tap interface NAME created by the cable (in the network
                           namespace it runs in): a namespace's interface on switch A.
      --b-veth NAME        Like --b-tap, but NAME is one end of a veth pair whose other end the
                           cable reads through a packet socket: for user namespaces, where
                           /dev/net/tun may not be open to the user.
      --dhcp-hook HOOK     With --b-tap or --b-veth: run busybox udhcpc on the interface for as
                           long as the cable runs (restarted if it ends), HOOK applying leases.
      --b-slirp ADDRESS/PREFIX
                           B is a user-mode NAT router (libslirp) at that address (e.g.
                           10.0.2.2/24): DHCP from .15, DNS forwarded at .3, outbound TCP and
                           UDP through the host's sockets; host forwards are set on the
                           control socket (slirp.forwards.set). No privilege needed.
      --slirp-ipv6 ADDRESS/64
                           Also IPv6: slirp's address, and the prefix it advertises (SLAAC).
      --slirp-no-dhcp      Do not answer DHCP.
      --b-vxlan-remote IP  B is a VXLAN tunnel (RFC 7348) to the VTEP at IP: a Linux vxlan device,
                           another vsquare cable. Only datagrams from IP cross.
      --b-vxlan-group GROUP
                           B is a multicast VXLAN network (an IPv4 or IPv6 group) on --vxlan-if,
                           like vdeplug4's vxlan://: remote VTEPs are learned from their frames.
      --vni N              The network identifier, 0 to 16777215 (required with either).
      --vxlan-port P       UDP port, default 4789.
      --vxlan-local IP     The local address to bind (unicast; default: every address).
      --vxlan-if NAME      The interface of the group (required with --b-vxlan-group).
      --vxlan-ttl N        Hops a group datagram may take, 1 to 255 (default 1: this link only).
      --key-file FILE      The pre-shared key (64 hex digits) that authenticates and encrypts a
                           remote end (ChaCha20-Poly1305). Required for a remote end unless
      --plain              is given: raw frames, compatible with a vde_plug stream over TCP.
      --control PATH       JSON control socket.
      --name NAME          Name shown in status and logs. Default "cable".
      --seed N             Seed of the random draws (default: random, reported by status).
      -h, --help, --version

    An end whose switch goes away is plugged in again, with backoff, when the switch returns.
    Exit codes: 0 success, 64 bad command line, 1 any other failure.
    """

    public static func parse(_ arguments: [String]) throws(Invalid) -> Command {
        let flags: CommandLineFlags
        do {
            flags = try CommandLineFlags(arguments, valued: ["--a", "--a-port", "--b", "--b-port", "--b-listen", "--b-connect", "--b-tap", "--b-veth", "--dhcp-hook", "--b-slirp", "--slirp-ipv6", "--key-file",
                                                             "--b-vxlan-remote", "--b-vxlan-group", "--vni", "--vxlan-port", "--vxlan-local", "--vxlan-if", "--vxlan-ttl",
                                                             "--control", "--name", "--seed"], switches: ["--plain", "--slirp-no-dhcp"])
        } catch {
            throw Invalid(description: error.message)
        }
        if flags.wantsHelp { return .help }
        if flags.wantsVersion { return .version }
        let values = flags.values
        let plain = flags.switches.contains("--plain")
        guard let a = values["--a"] else { throw Invalid(description: "--a is required") }
        let farEndFlags = ["--b", "--b-listen", "--b-connect", "--b-tap", "--b-veth", "--b-slirp", "--b-vxlan-remote", "--b-vxlan-group"]
        let farEnds = farEndFlags.filter { values[$0] != nil }
        guard farEnds.count == 1 else { throw Invalid(description: "give exactly one of " + farEndFlags.joined(separator: ", ")) }
        let b: FarEnd
        var key: [UInt8]?
        if let directory = values["--b"] {
            b = .local(directory)
        } else if let (flag, link) = [("--b-tap", InterfaceLink.tap), ("--b-veth", .veth)].first(where: { values[$0.0] != nil }) {
            let name = values[flag]!
            guard (1...15).contains(name.utf8.count), !name.contains("/"), !name.contains(" ") else {
                throw Invalid(description: "\(flag) must be an interface name of 1 to 15 characters, not \(name)")
            }
            b = .interface(name, link: link, dhcpHook: values["--dhcp-hook"])
        } else if values["--b-vxlan-remote"] != nil || values["--b-vxlan-group"] != nil {
            b = .vxlan(try CableOptions.vxlanSettings(values))
        } else if let text = values["--b-slirp"] {
            guard let host = IPPrefix(text), !host.isIPv6, (8...30).contains(host.length) else {
                throw Invalid(description: "--b-slirp must be an IPv4 address with a prefix of 8 to 30 bits, like 10.0.2.2/24, not \(text)")
            }
            var ipv6: IPPrefix?
            if let text6 = values["--slirp-ipv6"] {
                guard let parsed = IPPrefix(text6), parsed.isIPv6, parsed.length == 64 else {
                    throw Invalid(description: "--slirp-ipv6 must be an IPv6 address in a /64, like fd00:ca7::2/64, not \(text6)")
                }
                ipv6 = parsed
            }
            b = .slirp(SlirpSettings(host: host, ipv6: ipv6, dhcp: !flags.switches.contains("--slirp-no-dhcp")))
        } else {
            let flag = farEnds[0]
            guard let address = SocketAddress(hostPort: values[flag]!) else {
                throw Invalid(description: "\(flag) must be HOST:PORT with a numeric address, not \(values[flag]!)")
            }
            b = flag == "--b-listen" ? .listen(address) : .connect(address)
            if let file = values["--key-file"] {
                guard let bytes = FileSystem.readFile(file), let parsed = CableOptions.hexKey(String(decoding: bytes, as: UTF8.self)) else {
                    throw Invalid(description: "--key-file \(file) must hold 64 hexadecimal digits")
                }
                key = parsed
            } else if !plain {
                throw Invalid(description: "a remote end needs --key-file (or --plain for unencrypted frames)")
            }
        }
        guard let control = values["--control"] else { throw Invalid(description: "--control is required") }
        func port(_ flag: String) throws(Invalid) -> Int? {
            guard let text = values[flag] else { return nil }
            guard let port = Int(text), (0...4096).contains(port) else { throw Invalid(description: "\(flag) must be a port number, not \(text)") }
            return port
        }
        var seed = UInt64.random(in: 1...UInt64(Int64.max))
        if let text = values["--seed"] {
            guard let parsed = UInt64(text) else { throw Invalid(description: "--seed must be a non-negative integer, not \(text)") }
            seed = parsed
        }
        return .run(CableOptions(a: a, aPort: try port("--a-port"), b: b, bPort: try port("--b-port"), key: key, control: control,
                                 name: values["--name"] ?? "cable", seed: seed))
    }

    static func vxlanSettings(_ values: [String: String]) throws(Invalid) -> VXLANSettings {
        guard let text = values["--vni"], let vni = Int(text), (0...VXLANHeader.largestVNI).contains(vni) else {
            throw Invalid(description: "a VXLAN end needs --vni, a number from 0 to \(VXLANHeader.largestVNI)")
        }
        var port = VXLANSettings.defaultPort
        if let text = values["--vxlan-port"] {
            guard let parsed = UInt16(text), parsed > 0 else { throw Invalid(description: "--vxlan-port must be 1 to 65535, not \(text)") }
            port = parsed
        }
        if let remote = values["--b-vxlan-remote"] {
            guard let address = InternetAddress(host: remote, port: port), !address.isMulticast else {
                throw Invalid(description: "--b-vxlan-remote must be a numeric unicast IPv4 or IPv6 address, not \(remote)")
            }
            if let local = values["--vxlan-local"] {
                guard let bound = InternetAddress(host: local, port: port), bound.isIPv6 == address.isIPv6 else {
                    throw Invalid(description: "--vxlan-local must be a numeric address of the remote's family, not \(local)")
                }
            }
            return VXLANSettings(peers: .unicast(remote: remote), vni: vni, port: port, local: values["--vxlan-local"])
        }
        let group = values["--b-vxlan-group"]!
        guard let address = InternetAddress(host: group, port: port), address.isMulticast else {
            throw Invalid(description: "--b-vxlan-group must be an IPv4 or IPv6 multicast group, like 239.1.1.1 or ff05::1, not \(group)")
        }
        guard let interface = values["--vxlan-if"], (1...15).contains(interface.utf8.count) else {
            throw Invalid(description: "--b-vxlan-group needs --vxlan-if, the interface of the group")
        }
        var ttl = 1
        if let text = values["--vxlan-ttl"] {
            guard let parsed = Int(text), (1...255).contains(parsed) else { throw Invalid(description: "--vxlan-ttl must be 1 to 255, not \(text)") }
            ttl = parsed
        }
        return VXLANSettings(peers: .multicast(group: group, interface: interface, ttl: ttl), vni: vni, port: port)
    }

    /// 64 hex digits (whitespace around them ignored) as 32 bytes.
    public static func hexKey(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<(index + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
