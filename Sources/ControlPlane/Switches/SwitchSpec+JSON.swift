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
            "port_settings": JSON(portSettings.sorted { $0.key < $1.key }.map { port, setting in .object(setting.json(port: port)) }),
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

    /// Reads those fields (missing ones take the standard values, except a missing untagged VLAN).
    public init(json: JSON) {
        self.init(enabled: json["enabled"]?.boolValue ?? true,
                  untaggedVLAN: json["untagged_vlan"]?.intValue.map { VLANID($0) },
                  taggedVLANs: Set((json["tagged_vlans"]?.arrayValue ?? []).compactMap { $0.intValue.map { VLANID($0) } }))
    }
}
