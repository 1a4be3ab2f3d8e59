// StackSpec: an Internet-of-Threads node — a network namespace with its own kernel TCP/IP stack,
// whose interfaces are taps plugged into switch ports, with addresses, routes and forwarding.
import JSON

public struct InterfaceSpec: Equatable, Sendable {
    /// The interface's name inside the namespace (eth0, eth1, …).
    public var name: String
    public var switchName: String
    public var port: Int?
    public var mac: String?
    public var mtu: Int?
    /// CIDR addresses, IPv4 or IPv6 ("10.0.0.1/24", "fd00::1/64").
    public var addresses: [String]

    public init(name: String, switchName: String, port: Int? = nil, mac: String? = nil, mtu: Int? = nil, addresses: [String] = []) {
        self.name = name
        self.switchName = switchName
        self.port = port
        self.mac = mac
        self.mtu = mtu
        self.addresses = addresses
    }

    public var json: JSONObject {
        ["name": JSON(name), "switch": JSON(switchName), "port": port.map { JSON($0) } ?? .null, "mac": JSON(mac),
         "mtu": mtu.map { JSON($0) } ?? .null, "addresses": JSON(addresses.map(JSON.string))]
    }

    init?(json: JSON) {
        guard let name = json["name"]?.stringValue, let switchName = json["switch"]?.stringValue else { return nil }
        self.init(name: name, switchName: switchName, port: json["port"]?.intValue, mac: json["mac"]?.stringValue,
                  mtu: json["mtu"]?.intValue, addresses: (json["addresses"]?.arrayValue ?? []).compactMap(\.stringValue))
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
    public var generation = 1
    public var createdAt = ""

    public init(name: String) { self.name = name }

    /// The Linux network namespace's name; nil for kind `tap`, whose interface lives in the host's.
    public var namespace: String? { kind == "netns" ? "vsq-" + name : nil }

    /// `ip` arguments that address the stack's namespace (none for a host tap).
    var namespaceArguments: [String] { namespace.map { ["-n", $0] } ?? [] }

    public var storedJSON: JSON {
        ["name": JSON(name), "kind": JSON(kind), "interfaces": JSON(interfaces.map { JSON.object($0.json) }),
         "routes": JSON(routes.map { JSON.object($0.json) }), "forwarding": JSON(forwarding),
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
        generation = json["generation"]?.intValue ?? 1
        createdAt = json["created_at"]?.stringValue ?? ""
    }
}
