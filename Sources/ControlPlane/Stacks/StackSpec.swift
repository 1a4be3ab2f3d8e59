// StackSpec: an Internet-of-Threads node — a network namespace with its own kernel TCP/IP stack,
// whose interfaces are taps plugged into switch ports, with addresses, routes and forwarding; or a
// slirp NAT uplink (one interface: slirp's own address) with its host forwards; or a host tap.
import CableEngine
import JSON

public struct InterfaceSpec: Equatable, Sendable {
    /// The interface's name inside the namespace (eth0, eth1, …).
    public var name: String
    public var switchName: String
    public var port: Int?
    /// The untagged VLAN of the interface's port (set on the switch when the stack is created).
    public var vlan: Int?
    public var mac: String?
    public var mtu: Int?
    /// CIDR addresses, IPv4 or IPv6 ("10.0.0.1/24", "fd00::1/64").
    public var addresses: [String]
    /// netns: the interface also takes a lease by DHCP. slirp: slirp answers DHCP.
    public var dhcp: Bool

    public init(name: String, switchName: String, port: Int? = nil, vlan: Int? = nil, mac: String? = nil, mtu: Int? = nil, addresses: [String] = [],
                dhcp: Bool = false) {
        self.name = name
        self.switchName = switchName
        self.port = port
        self.vlan = vlan
        self.mac = mac
        self.mtu = mtu
        self.addresses = addresses
        self.dhcp = dhcp
    }

    public var json: JSONObject {
        ["name": JSON(name), "switch": JSON(switchName), "port": port.map { JSON($0) } ?? .null, "vlan": vlan.map { JSON($0) } ?? .null, "mac": JSON(mac),
         "mtu": mtu.map { JSON($0) } ?? .null, "addresses": JSON(addresses.map(JSON.string)), "dhcp": JSON(dhcp)]
    }

    init?(json: JSON) {
        guard let name = json["name"]?.stringValue, let switchName = json["switch"]?.stringValue else { return nil }
        self.init(name: name, switchName: switchName, port: json["port"]?.intValue, vlan: json["vlan"]?.intValue, mac: json["mac"]?.stringValue,
                  mtu: json["mtu"]?.intValue, addresses: (json["addresses"]?.arrayValue ?? []).compactMap(\.stringValue),
                  dhcp: json["dhcp"]?.boolValue ?? false)
    }
}

public struct RouteSpec: Equatable, Sendable {
    /// "default" or a CIDR prefix.
    public var to: String
    public var via: String

    public init(to: String, via: String) {
        self.to = to
        self.via = via
    }

    public var json: JSONObject { ["to": JSON(to), "via": JSON(via)] }
}

public struct StackSpec: Equatable, Sendable {
    public var name: String
    public var kind = "netns"
    public var interfaces: [InterfaceSpec] = []
    public var routes: [RouteSpec] = []
    public var forwarding = false
    /// netns: the nameservers of its resolv.conf (empty: taken from DHCP, if any).
    public var dns: [String] = []
    /// slirp: host ports forwarded to addresses behind it.
    public var hostForwards: [HostForward] = []
    public var generation = 1
    public var createdAt = ""

    public init(name: String) { self.name = name }

    /// slirp's address when none is given, as in qemu's user networking.
    public static let slirpDefaultAddress = "10.0.2.2/24"

    public var storedJSON: JSON {
        ["name": JSON(name), "kind": JSON(kind), "interfaces": JSON(interfaces.map { JSON.object($0.json) }),
         "routes": JSON(routes.map { JSON.object($0.json) }), "forwarding": JSON(forwarding),
         "dns": JSON(dns.map(JSON.string)), "host_forwards": JSON(hostForwards.map { JSON.object($0.json) }),
         "generation": JSON(generation), "created_at": JSON(createdAt)]
    }

    public init?(stored json: JSON) {
        guard let name = json["name"]?.stringValue else { return nil }
        self.init(name: name)
        kind = json["kind"]?.stringValue ?? "netns"
        interfaces = (json["interfaces"]?.arrayValue ?? []).compactMap(InterfaceSpec.init(json:))
        routes = (json["routes"]?.arrayValue ?? []).compactMap { item in
            guard let to = item["to"]?.stringValue, let via = item["via"]?.stringValue else { return nil }
            return RouteSpec(to: to, via: via)
        }
        forwarding = json["forwarding"]?.boolValue ?? false
        dns = (json["dns"]?.arrayValue ?? []).compactMap(\.stringValue)
        hostForwards = (json["host_forwards"]?.arrayValue ?? []).compactMap(HostForward.init(json:))
        generation = json["generation"]?.intValue ?? 1
        createdAt = json["created_at"]?.stringValue ?? ""
    }
}
