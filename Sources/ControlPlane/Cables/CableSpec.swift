// CableSpec: what a user asked a cable to be — which two switch ports it joins, the impairments
// of each direction, the random seed (reported, so a run can be repeated) and whether it is cut.
import CableEngine
import JSON

/// A cable end on another host: a TCP stream, or a VXLAN tunnel.
public enum RemoteEndSpec: Equatable, Sendable {
    case tcp(TCPEndSpec)
    case vxlan(VXLANSettings)

    /// What carries the frames, and why that one: the answer a cable gives about its encapsulation.
    var encapsulation: JSONObject {
        switch self {
        case .tcp(let tcp):
            return ["kind": "tcp", "encrypted": JSON(tcp.key != nil),
                    "reason": JSON("a TCP stream (vde_plug's framing" + (tcp.key != nil ? ", ChaCha20-Poly1305 with the pre-shared key" : ", plain")
                                   + "): one connection that passes NAT and firewalls")]
        case .vxlan(let settings):
            let how: String
            switch settings.peers {
            case .unicast(let remote): how = "to \(remote)"
            case .multicast(let group, let interface, _): how = "to group \(group) on \(interface), remote ends learned from their frames"
            }
            return ["kind": "vxlan", "encrypted": false,
                    "reason": JSON("VXLAN (RFC 7348) over UDP port \(settings.port), VNI \(settings.vni), \(how): what kernels, switches and vdeplug4 speak, for paths without NAT")]
        }
    }
}

/// A TCP cable end: wait for the peer or connect to it, encrypted with a pre-shared key or plain
/// (raw frames, for a vde_plug stream).
public struct TCPEndSpec: Equatable, Sendable {
    public var listen: Bool
    /// HOST:PORT to listen on or connect to.
    public var address: String
    /// 64 hex digits; nil means plain.
    public var key: String?

    public init(listen: Bool, address: String, key: String?) {
        self.listen = listen
        self.address = address
        self.key = key
    }
}

public struct CableEndSpec: Equatable, Sendable {
    /// The switch this end plugs into (empty for a remote end).
    public var switchName: String
    /// The port asked for; nil takes any free one.
    public var port: Int?
    public var remote: RemoteEndSpec?

    public init(switchName: String, port: Int?, remote: RemoteEndSpec? = nil) {
        self.switchName = switchName
        self.port = port
        self.remote = remote
    }

    /// The API's view (never the key).
    public var json: JSONObject {
        switch remote {
        case .tcp(let tcp)?: return ["remote": [tcp.listen ? "listen" : "connect": JSON(tcp.address), "encrypted": JSON(tcp.key != nil)]]
        case .vxlan(let settings)?: return ["vxlan": .object(settings.json)]
        case nil: return ["switch": JSON(switchName), "port": port.map { JSON($0) } ?? .null]
        }
    }

    /// The store's encoding (with the key).
    var storedJSON: JSONObject {
        var object = json
        if case .tcp(let tcp)? = remote { object["remote"] = ["listen": JSON(tcp.listen), "address": JSON(tcp.address), "key": JSON(tcp.key)] }
        return object
    }

    /// A VXLAN end's settings (nil for any other end).
    var vxlan: VXLANSettings? {
        if case .vxlan(let settings)? = remote { return settings }
        return nil
    }

    init?(stored json: JSON?) {
        guard let json else { return nil }
        if let remote = json["remote"], let address = remote["address"]?.stringValue {
            self.init(switchName: "", port: nil,
                      remote: .tcp(TCPEndSpec(listen: remote["listen"]?.boolValue ?? false, address: address, key: remote["key"]?.stringValue)))
            return
        }
        if let stored = json["vxlan"] {
            guard let settings = VXLANSettings(stored: stored) else { return nil }
            self.init(switchName: "", port: nil, remote: .vxlan(settings))
            return
        }
        guard let name = json["switch"]?.stringValue else { return nil }
        self.init(switchName: name, port: json["port"]?.intValue)
    }
}

public struct CableSpec: Equatable, Sendable {
    public var name: String
    public var description = ""
    public var a: CableEndSpec
    public var b: CableEndSpec
    public var aToB = CableImpairments.none
    public var bToA = CableImpairments.none
    public var seed: UInt64 = UInt64.random(in: 1...UInt64(Int64.max))
    public var cut = false
    public var generation = 1
    public var createdAt = ""

    public init(name: String, a: CableEndSpec, b: CableEndSpec) {
        self.name = name
        self.a = a
        self.b = b
    }

    /// The switches on this host that the cable's ends plug into.
    var localSwitchNames: [String] { [a, b].filter { $0.remote == nil && !$0.switchName.isEmpty }.map(\.switchName) }

    /// The store's encoding.
    public var storedJSON: JSON {
        ["name": JSON(name), "description": JSON(description), "a": .object(a.storedJSON), "b": .object(b.storedJSON),
         "a_to_b": .object(aToB.json), "b_to_a": .object(bToA.json), "seed": JSON(String(seed)), "cut": JSON(cut),
         "generation": JSON(generation), "created_at": JSON(createdAt)]
    }

    public init?(stored json: JSON) {
        guard let name = json["name"]?.stringValue, let a = CableEndSpec(stored: json["a"]), let b = CableEndSpec(stored: json["b"]) else {
            return nil
        }
        self.init(name: name, a: a, b: b)
        description = json["description"]?.stringValue ?? ""
        for (key, direction) in [("a_to_b", \CableSpec.aToB), ("b_to_a", \CableSpec.bToA)] {
            if let stored = json[key], var reader = try? JSONReader(stored),
               let impairments = try? CableImpairments.none.merging(&reader) {
                self[keyPath: direction] = impairments
            }
        }
        seed = json["seed"]?.stringValue.flatMap(UInt64.init) ?? seed
        cut = json["cut"]?.boolValue ?? false
        generation = json["generation"]?.intValue ?? 1
        createdAt = json["created_at"]?.stringValue ?? ""
    }
}
