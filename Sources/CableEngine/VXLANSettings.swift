// VXLANSettings: what a VXLAN cable end is (its network, its UDP port, and the one peer or the
// multicast group it talks to), shared by the control plane that validates and stores it and the
// cable worker that runs it.
import JSON
import Posix

/// What a VXLAN end is: its network, its port, and who it talks to.
public struct VXLANSettings: Equatable, Sendable {
    public enum Peers: Equatable, Sendable {
        case unicast(remote: String)
        case multicast(group: String, interface: String, ttl: Int)
    }

    public var peers: Peers
    public var vni: Int
    public var port: UInt16
    /// The local address to bind (unicast); nil binds every address of the remote's family.
    public var local: String?

    public static let defaultPort: UInt16 = 4789

    public init(peers: Peers, vni: Int, port: UInt16 = VXLANSettings.defaultPort, local: String? = nil) {
        self.peers = peers
        self.vni = vni
        self.port = port
        self.local = local
    }
}

extension VXLANSettings {
    /// The remote or the group, with the port (nil only for text that is no numeric address).
    public var destination: InternetAddress? {
        switch peers {
        case .unicast(let host), .multicast(let host, _, _): return InternetAddress(host: host, port: port)
        }
    }

    /// Where the end's socket binds: `local`, or every address of the peer's family. A group end
    /// binds the wildcard, as vdeplug4 does, to hear both the group and the VTEPs that answer unicast.
    public var bindAddress: SocketAddress {
        let ipv6 = destination?.isIPv6 ?? false
        var host = ipv6 ? "::" : "0.0.0.0"
        if case .unicast = peers, let local { host = local }
        return ipv6 ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
    }

    /// The API's and the store's view (nothing in it is secret).
    public var json: JSONObject {
        var object: JSONObject = ["vni": JSON(vni), "port": JSON(Int(port))]
        switch peers {
        case .unicast(let remote):
            object["remote"] = JSON(remote)
            if let local { object["local"] = JSON(local) }
        case .multicast(let group, let interface, let ttl):
            object["group"] = JSON(group)
            object["interface"] = JSON(interface)
            object["ttl"] = JSON(ttl)
        }
        return object
    }

    /// Reads back what `json` wrote.
    public init?(stored json: JSON) {
        guard let vni = json["vni"]?.intValue, let port = json["port"]?.intValue.flatMap(UInt16.init(exactly:)) else { return nil }
        if let remote = json["remote"]?.stringValue {
            self.init(peers: .unicast(remote: remote), vni: vni, port: port, local: json["local"]?.stringValue)
        } else if let group = json["group"]?.stringValue, let interface = json["interface"]?.stringValue {
            self.init(peers: .multicast(group: group, interface: interface, ttl: json["ttl"]?.intValue ?? 1), vni: vni, port: port)
        } else {
            return nil
        }
    }

    /// The vsquare-cable flags for this far end (CableOptions parses them back).
    public var arguments: [String] {
        var arguments: [String]
        switch peers {
        case .unicast(let remote):
            arguments = ["--b-vxlan-remote", remote]
            if let local { arguments += ["--vxlan-local", local] }
        case .multicast(let group, let interface, let ttl):
            arguments = ["--b-vxlan-group", group, "--vxlan-if", interface, "--vxlan-ttl", String(ttl)]
        }
        return arguments + ["--vni", String(vni), "--vxlan-port", String(port)]
    }
}
