// SwitchSpec to and from JSON: the store's encoding (everything) and the octal mode text.
import JSON
import SwitchEngine

extension SwitchSpec {
    /// The store's encoding of a spec.
    public var storedJSON: JSON {
        [
            "name": JSON(name), "description": JSON(description), "ports": JSON(ports), "hub": JSON(hub),
            "mac_aging_s": JSON(macAgingSeconds), "socket_mode": JSON(SwitchSpec.octal(socketMode)),
            "socket_group": JSON(socketGroup), "socket_owner": JSON(socketOwner), "vlans": JSON(vlans.sorted().map { JSON(Int($0)) }),
            "port_settings": JSON(portSettings.sorted { $0.key < $1.key }.map { port, setting in
                var object = setting.json(port: port)
                object["stp"] = setting.spanningTree.json
                return .object(object)
            }),
            "stp": spanningTree.json,
            "multicast": multicast.json,
            "generation": JSON(generation), "created_at": JSON(createdAt),
        ]
    }

    /// Decodes the store's encoding; nil if it is not one.
    public init?(stored json: JSON) {
        guard let name = json["name"]?.stringValue else { return nil }
        self.init(name: name)
        description = json["description"]?.stringValue ?? ""
        ports = json["ports"]?.intValue ?? 32
        hub = json["hub"]?.boolValue ?? false
        macAgingSeconds = json["mac_aging_s"]?.intValue ?? 300
        socketMode = json["socket_mode"]?.stringValue.flatMap { UInt32($0, radix: 8) } ?? 0o600
        socketGroup = json["socket_group"]?.stringValue
        socketOwner = json["socket_owner"]?.stringValue
        vlans = Set((json["vlans"]?.arrayValue ?? [1]).compactMap { $0.intValue.map { VLANID($0) } })
        for item in json["port_settings"]?.arrayValue ?? [] {
            guard let port = item["port"]?.intValue else { continue }
            portSettings[port] = PortSetting(json: item)
        }
        if let stp = json["stp"] { spanningTree = SwitchSpanningTree(json: stp) }
        if let snooping = json["multicast"] { multicast = SwitchMulticast(json: snooping) }
        generation = json["generation"]?.intValue ?? 1
        createdAt = json["created_at"]?.stringValue ?? ""
    }

    /// `0o660` as "0660".
    public static func octal(_ mode: UInt32) -> String {
        let text = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}

extension PortSetting {
    /// `{port, enabled, untagged_vlan, tagged_vlans}`: the store's shape, the worker's `port.set`
    /// parameters and the fields of the worker's `ports` reply alike.
    public func json(port: Int) -> JSONObject {
        ["port": JSON(port), "enabled": JSON(enabled), "untagged_vlan": untaggedVLAN.map { JSON(Int($0)) } ?? .null,
         "tagged_vlans": JSON(taggedVLANs.sorted().map { JSON(Int($0)) })]
    }

    /// Reads those fields (missing ones take the standard values, except a missing untagged VLAN),
    /// and `stp` (the store's and the worker's `ports` reply) when there is one.
    public init(json: JSON) {
        self.init(enabled: json["enabled"]?.boolValue ?? true,
                  untaggedVLAN: json["untagged_vlan"]?.intValue.map { VLANID($0) },
                  taggedVLANs: Set((json["tagged_vlans"]?.arrayValue ?? []).compactMap { $0.intValue.map { VLANID($0) } }))
        if let stp = json["stp"] { spanningTree = PortSpanningTreeSettings(json: stp) }
    }
}

extension PortSpanningTreeSettings {
    /// `{path_cost, priority, edge}`: the store's shape and the worker's `port.stp.set` parameters.
    public var json: JSON {
        ["path_cost": JSON(Int(pathCost)), "priority": JSON(Int(priority)), "edge": adminEdge.map { JSON($0) } ?? .null]
    }

    public init(json: JSON) {
        self.init()
        pathCost = json["path_cost"]?.intValue.map { UInt32(clamping: $0) } ?? pathCost
        priority = json["priority"]?.intValue.map { UInt8(clamping: $0) } ?? priority
        adminEdge = json["edge"]?.boolValue
    }
}

/// A port's `stp` in a PATCH body: nil fields stay as they are; `edge: null` is auto.
public struct SpanningTreePortChange: Equatable, Sendable {
    public var pathCost: UInt32?
    public var priority: UInt8?
    public var edge: Bool??

    /// Every field set: the port's settings become exactly these.
    public init(_ settings: PortSpanningTreeSettings) {
        pathCost = settings.pathCost
        priority = settings.priority
        edge = .some(settings.adminEdge)
    }

    public init(_ body: JSONReader) throws(JSONFieldError) {
        var reader = body
        pathCost = try reader.optionalInt("path_cost", in: 1...200_000_000).map(UInt32.init)
        let priority = try reader.optionalInt("priority", in: 0...240)
        if let priority, priority % 16 != 0 { throw JSONFieldError(path: "stp.priority", rule: "is a multiple of 16 from 0 to 240") }
        self.priority = priority.map(UInt8.init)
        switch try reader.patch("edge", { (r: inout JSONReader, key: String) throws(JSONFieldError) in try r.bool(key) }) {
        case .absent: edge = nil
        case .clear: edge = .some(nil)
        case .set(let value): edge = .some(value)
        }
        try reader.finish()
    }
}

extension SwitchMulticast {
    /// `{snooping, querier, query_interval_s, vlans}`: the store's shape, the API's and `multicast.set`'s.
    public var json: JSON {
        ["snooping": JSON(snooping), "querier": JSON(configuration.querier), "query_interval_s": JSON(configuration.queryIntervalSeconds),
         "vlans": configuration.vlans.map { JSON($0.sorted().map { JSON(Int($0)) }) } ?? .null]
    }

    public init(json: JSON) {
        self.init()
        snooping = json["snooping"]?.boolValue ?? false
        configuration.querier = json["querier"]?.boolValue ?? false
        configuration.queryIntervalSeconds = json["query_interval_s"]?.doubleValue ?? configuration.queryIntervalSeconds
        configuration.vlans = json["vlans"]?.arrayValue.map { Set($0.compactMap { $0.intValue.map { VLANID($0) } }) }
    }

    /// Reads `multicast` of a create or patch body over `self` (400 for a field out of range).
    public func merged(with body: JSONReader) throws(JSONFieldError) -> SwitchMulticast {
        var reader = body
        var next = self
        next.snooping = try reader.bool("snooping", default: snooping)
        next.configuration.querier = try reader.bool("querier", default: configuration.querier)
        if let interval = try reader.optionalDouble("query_interval_s", in: 1...3600) { next.configuration.queryIntervalSeconds = interval }
        switch try reader.patch("vlans", { (r: inout JSONReader, key: String) throws(JSONFieldError) in try r.ints(key, in: 1...4094, what: "a VLAN ID") }) {
        case .absent: break
        case .clear: next.configuration.vlans = nil
        case .set(let vids): next.configuration.vlans = Set(vids.map(VLANID.init))
        }
        try reader.finish()
        return next
    }
}

extension SwitchSpanningTree {
    /// `{enabled, priority, hello_s, max_age_s, forward_delay_s}`: the store's shape, the API's and `stp.set`'s.
    public var json: JSON {
        ["enabled": JSON(enabled), "priority": JSON(Int(configuration.priority)), "hello_s": JSON(configuration.helloSeconds),
         "max_age_s": JSON(configuration.maxAgeSeconds), "forward_delay_s": JSON(configuration.forwardDelaySeconds)]
    }

    public init(json: JSON) {
        self.init()
        enabled = json["enabled"]?.boolValue ?? false
        configuration.priority = json["priority"]?.intValue.map { UInt16(clamping: $0) } ?? configuration.priority
        configuration.helloSeconds = json["hello_s"]?.doubleValue ?? configuration.helloSeconds
        configuration.maxAgeSeconds = json["max_age_s"]?.doubleValue ?? configuration.maxAgeSeconds
        configuration.forwardDelaySeconds = json["forward_delay_s"]?.doubleValue ?? configuration.forwardDelaySeconds
    }

    /// Reads `stp` of a create or patch body over `self`: 400 for a field out of range or timers the standard forbids.
    public func merged(with body: JSONReader) throws -> SwitchSpanningTree {
        var reader = body
        var next = self
        next.enabled = try reader.bool("enabled", default: enabled)
        if let priority = try reader.optionalInt("priority", in: 0...61440) { next.configuration.priority = UInt16(priority) }
        if let hello = try reader.optionalDouble("hello_s", in: 1...10) { next.configuration.helloSeconds = hello }
        if let maxAge = try reader.optionalDouble("max_age_s", in: 6...40) { next.configuration.maxAgeSeconds = maxAge }
        if let delay = try reader.optionalDouble("forward_delay_s", in: 4...30) { next.configuration.forwardDelaySeconds = delay }
        try reader.finish()
        // Each field is in range, but the standard ties the timers together (17.14): they must go together.
        if let problem = next.configuration.problem { throw ControlPlaneError.unprocessableField(path: "stp", message: problem) }
        return next
    }
}
