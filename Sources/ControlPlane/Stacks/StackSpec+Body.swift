// StackSpec from a create body, with the parts PATCH shares (routes, host forwards, prefixes): the
// one validator of a stack's fields, used by /v1/stacks and by every lab member that is a stack.
import CableEngine
import JSON
import LabEngine
import Posix

extension StackSpec {
    /// A create body (POST /v1/stacks, or a lab's member): every field checked, 400 for a broken
    /// rule, 422 for a combination the kind does not allow.
    public init(body: JSON) throws {
        var reader = try JSONReader(body)
        var spec = StackSpec(name: try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule))
        let kind = try reader.string("kind", default: "netns")
        guard ["netns", "tap", "slirp"].contains(kind) else {
            throw JSONFieldError(path: "kind", rule: "must be netns, tap or slirp")
        }
        spec.kind = kind
        spec.interfaces = try reader.array("interfaces") { (item, path) throws(JSONFieldError) in
            var one = try JSONReader(item, path: path)
            let name = try one.string("name", matching: StackSpec.isInterfaceName, ruleText: "an interface name: a letter, then up to 14 letters, digits, '_', '.' or '-'")
            let switchName = try one.string("switch", matching: ResourceName.isValid, ruleText: ResourceName.rule)
            let port = try one.optionalInt("port", in: 1...4096)
            let vlan = try one.optionalInt("vlan", in: 1...4094)
            let mac = try one.optionalString("mac")
            if let mac, !StackSpec.isMAC(mac) { throw JSONFieldError(path: path + ".mac", rule: "must be a unicast MAC address such as 02:00:00:00:00:01") }
            let mtu = try one.optionalInt("mtu", in: 68...9000)
            var addresses = one.contains("addresses") ? try StackSpec.prefixes(&one, "addresses") : []
            // A slirp uplink serves DHCP unless told not to; a netns interface asks for a lease only when told.
            let dhcp = try one.bool("dhcp", default: kind == "slirp")
            if kind == "slirp" && addresses.isEmpty { addresses = [StackSpec.slirpDefaultAddress] }
            try one.finish()
            return InterfaceSpec(name: name, switchName: switchName, port: port, vlan: vlan, mac: mac, mtu: mtu, addresses: addresses, dhcp: dhcp)
        }
        for (index, interface) in spec.interfaces.enumerated() {
            if interface.vlan != nil && interface.port == nil {
                throw ControlPlaneError.unprocessableField(path: "interfaces[\(index)].vlan", message: "a vlan needs a port (the VLAN is that port's setting)")
            }
            if interface.mac == "00:00:00:00:00:00" {
                throw ControlPlaneError.unprocessableField(path: "interfaces[\(index)].mac", message: "00:00:00:00:00:00 is no interface's address")
            }
            if kind == "tap" && interface.dhcp {
                throw ControlPlaneError.unprocessableField(path: "interfaces[\(index)].dhcp", message: "dhcp is for netns and slirp stacks")
            }
        }
        if reader.contains("routes") { spec.routes = try StackSpec.routes(&reader) }
        spec.forwarding = try reader.bool("forwarding", default: false)
        if reader.contains("dns") {
            spec.dns = try reader.array("dns") { (item, path) throws(JSONFieldError) in
                guard let text = item.stringValue, StackSpec.isAddress(text) else { throw JSONFieldError(path: path, rule: "must be an IP address") }
                return text
            }
            if kind != "netns" {
                throw ControlPlaneError.unprocessableField(path: "dns", message: "dns is for netns stacks (a slirp stack forwards DNS itself)")
            }
        }
        if reader.contains("host_forwards") {
            spec.hostForwards = try StackSpec.hostForwards(&reader)
            if kind != "slirp" { throw ControlPlaneError.unprocessableField(path: "host_forwards", message: "host_forwards are for slirp stacks") }
        }
        try reader.finish()
        self = spec
    }

    public static func hostForwards(_ reader: inout JSONReader) throws -> [HostForward] {
        let forwards = try reader.array("host_forwards") { (item, path) throws(JSONFieldError) -> HostForward in
            var one = try JSONReader(item, path: path)
            let proto = try one.string("protocol", default: "tcp")
            guard proto == "tcp" || proto == "udp" else { throw JSONFieldError(path: path + ".protocol", rule: "must be tcp or udp") }
            let hostAddress = try one.string("host_address", default: "127.0.0.1")
            let hostPort = try one.int("host_port", in: 1...65535)
            let guestAddress = try one.string("guest_address")
            let guestPort = try one.int("guest_port", in: 1...65535)
            try one.finish()
            for (key, value) in [("host_address", hostAddress), ("guest_address", guestAddress)] where SocketAddress.parse4(value) == nil {
                throw JSONFieldError(path: path + "." + key, rule: "must be an IPv4 address")
            }
            return HostForward(udp: proto == "udp", hostAddress: hostAddress, hostPort: hostPort, guestAddress: guestAddress, guestPort: guestPort)
        }
        guard Set(forwards.map { "\($0.udp) \($0.hostAddress) \($0.hostPort)" }).count == forwards.count else {
            throw ControlPlaneError.unprocessableField(path: "host_forwards", message: "the same host port is forwarded twice")
        }
        return forwards
    }

    public static func routes(_ reader: inout JSONReader) throws -> [RouteSpec] {
        try reader.array("routes") { (item, path) throws(JSONFieldError) in
            var one = try JSONReader(item, path: path)
            let to = try one.string("to")
            let via = try one.string("via")
            try one.finish()
            guard to == "default" || isCIDR(to) else { throw JSONFieldError(path: path + ".to", rule: "must be \"default\" or a CIDR prefix") }
            guard isAddress(via) else { throw JSONFieldError(path: path + ".via", rule: "must be an IP address") }
            return RouteSpec(to: to, via: via)
        }
    }

    public static func prefixes(_ reader: inout JSONReader, _ key: String) throws(JSONFieldError) -> [String] {
        let prefix = reader.path.isEmpty ? key : reader.path + "." + key
        return try reader.array(key) { (item, path) throws(JSONFieldError) in
            guard let text = item.stringValue, isCIDR(text) else {
                throw JSONFieldError(path: path.isEmpty ? prefix : path, rule: "must be an address with a prefix, like 10.0.0.1/24 or fd00::1/64")
            }
            return text
        }
    }

    public static func isAddress(_ text: String) -> Bool {
        SocketAddress(hostPort: text + ":0") != nil || SocketAddress(hostPort: "[" + text + "]:0") != nil
    }

    public static func isCIDR(_ text: String) -> Bool { IPPrefix(text) != nil }

    /// Six hex pairs, and unicast: the kernel refuses a multicast address for an interface.
    public static func isMAC(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }),
              let first = UInt8(parts[0], radix: 16) else { return false }
        return first & 1 == 0
    }

    /// What the kernel takes as an interface name, kept to plain characters (api/openapi.yaml: InterfaceName).
    public static func isInterfaceName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...15).contains(bytes.count), bytes[0].isASCIILetter else { return false }
        return bytes.allSatisfy { $0.isASCIILetter || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }
}

extension UInt8 {
    var isASCIILetter: Bool { (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) }
}
