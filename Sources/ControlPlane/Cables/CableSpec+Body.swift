// CableSpec from a create body, and impairment changes: the one validator of a cable's fields, used
// by POST and PATCH /v1/cables and by every lab member that is a cable.
import CableEngine
import JSON
import LabEngine
import Posix

extension CableSpec {
    /// A create body (POST /v1/cables, or a lab's member): every field checked, 400 for a broken
    /// rule, 422 for a combination that cannot be.
    public init(body: JSON) throws {
        var reader = try JSONReader(body)
        let name = try reader.string("name", matching: ResourceName.isValid, ruleText: ResourceName.rule)
        var spec = CableSpec(name: name, a: try CableSpec.end(&reader, "a"), b: try CableSpec.end(&reader, "b"))
        spec.description = try reader.string("description", default: "")
        spec.cut = try reader.bool("cut", default: false)
        if let seed = reader.value("seed") {
            guard let number = seed.integerValue.flatMap(UInt64.init(exactly:)) ?? seed.stringValue.flatMap({ $0.utf8.count <= 19 ? UInt64($0) : nil }) else {
                throw JSONFieldError(path: "seed", rule: "must be a non-negative integer, or one of up to 19 digits as a string")
            }
            spec.seed = number
        }
        if var impairments = try reader.optionalObject("impairments") { try spec.applyImpairments(&impairments) }
        try reader.finish()
        self = spec
    }

    /// A local end `{switch, port?}`, a remote one `{remote: {listen | connect, key | plain}}` or a
    /// VXLAN tunnel `{vxlan: {remote | group, vni, ...}}`. Each field is checked on its own (400),
    /// then how they combine (422).
    static func end(_ reader: inout JSONReader, _ key: String) throws -> CableEndSpec {
        var end = try reader.object(key)
        let switchName = try end.optionalString("switch")
        if let switchName, !ResourceName.isValid(switchName) {
            throw JSONFieldError(path: "\(key).switch", rule: "must be \(ResourceName.rule)")
        }
        let port = try end.optionalInt("port", in: 1...4096, nullable: true)
        let remoteReader = try end.optionalObject("remote")
        let vxlanReader = try end.optionalObject("vxlan")
        try end.finish()
        if var vxlan = vxlanReader {
            let settings = try CableSpec.vxlan(&vxlan, "\(key).vxlan")
            guard switchName == nil && port == nil && remoteReader == nil else {
                throw ControlPlaneError.unprocessableField(path: key, message: "a VXLAN end names no switch, port or remote")
            }
            return CableEndSpec(switchName: "", port: nil, remote: .vxlan(settings))
        }
        guard var remote = remoteReader else {
            guard let switchName else {
                throw ControlPlaneError.unprocessableField(path: key, message: "end \(key) needs `switch` (a local switch), `remote` or `vxlan`")
            }
            return CableEndSpec(switchName: switchName, port: port)
        }
        let listen = try remote.optionalString("listen")
        let connect = try remote.optionalString("connect")
        for (field, address) in [("listen", listen), ("connect", connect)] {
            if let address, SocketAddress(hostPort: address) == nil {
                throw JSONFieldError(path: "\(key).remote.\(field)", rule: "must be HOST:PORT with a numeric address (or localhost)")
            }
        }
        let plain = try remote.bool("plain", default: false)
        let secret = try remote.optionalString("key")
        if let secret, secret.utf8.count != 64 || !secret.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0) }) {
            throw JSONFieldError(path: "\(key).remote.key", rule: "must be 64 hexadecimal digits (a 256-bit pre-shared key)")
        }
        try remote.finish()
        guard switchName == nil && port == nil else {
            throw ControlPlaneError.unprocessableField(path: key, message: "a remote end names no switch or port")
        }
        guard (listen == nil) != (connect == nil), let address = listen ?? connect else {
            throw ControlPlaneError.unprocessableField(path: "\(key).remote", message: "a remote end names exactly one of `listen` and `connect`")
        }
        guard plain != (secret != nil) else {
            throw ControlPlaneError.unprocessableField(path: "\(key).remote",
                                                       message: "a remote end needs either `key` (encrypted) or `plain: true`, not both or neither")
        }
        return CableEndSpec(switchName: "", port: nil, remote: .tcp(TCPEndSpec(listen: listen != nil, address: address, key: secret)))
    }

    /// `{remote, local?} | {group, interface, ttl?}` with `vni` and `port?`: each field on its own
    /// (400), then how they combine (422).
    static func vxlan(_ reader: inout JSONReader, _ path: String) throws -> VXLANSettings {
        let vni = try reader.int("vni", in: 0...VXLANHeader.largestVNI)
        let port = UInt16(try reader.int("port", in: 1...65535, default: Int(VXLANSettings.defaultPort)))
        // Not an address at all: 400. An address of the wrong kind (a group as a peer): 422.
        func address(_ field: String, multicast: Bool) throws -> InternetAddress? {
            guard let text = try reader.optionalString(field) else { return nil }
            guard let parsed = InternetAddress(host: text, port: port) else {
                throw JSONFieldError(path: "\(path).\(field)", rule: "must be a numeric IPv4 or IPv6 address")
            }
            guard parsed.isMulticast == multicast else {
                throw ControlPlaneError.unprocessableField(path: "\(path).\(field)",
                                                           message: multicast ? "must be an IPv4 or IPv6 multicast group, like 239.1.1.1 or ff05::1"
                                                                              : "must be a unicast address, not a multicast group")
            }
            return parsed
        }
        let remote = try address("remote", multicast: false)
        let local = try address("local", multicast: false)
        let group = try address("group", multicast: true)
        let interface = try reader.optionalString("interface")
        if let interface, !StackSpec.isInterfaceName(interface) {
            throw JSONFieldError(path: "\(path).interface", rule: "must be an interface name: a letter, then up to 14 letters, digits, '_', '.' or '-'")
        }
        let ttl = try reader.optionalInt("ttl", in: 1...255)
        try reader.finish()
        switch (remote, group) {
        case (let remote?, nil):
            guard interface == nil && ttl == nil else {
                throw ControlPlaneError.unprocessableField(path: path, message: "`interface` and `ttl` belong to a group end, not to one with `remote`")
            }
            if let local, local.isIPv6 != remote.isIPv6 {
                throw ControlPlaneError.unprocessableField(path: "\(path).local", message: "`local` must be of the same family as `remote`")
            }
            return VXLANSettings(peers: .unicast(remote: remote.host), vni: vni, port: port, local: local?.host)
        case (nil, let group?):
            guard let interface else {
                throw ControlPlaneError.unprocessableField(path: path, message: "a group end needs `interface`, the interface its datagrams use")
            }
            guard local == nil else {
                throw ControlPlaneError.unprocessableField(path: "\(path).local", message: "`local` belongs to an end with `remote`")
            }
            return VXLANSettings(peers: .multicast(group: group.host, interface: interface, ttl: ttl ?? 1), vni: vni, port: port)
        default:
            throw ControlPlaneError.unprocessableField(path: path, message: "a VXLAN end names exactly one of `remote` (one peer) and `group` (multicast)")
        }
    }

    /// Fields at the top of `impairments` apply to both directions; `a_to_b` and `b_to_a` then
    /// apply to one each.
    public mutating func applyImpairments(_ reader: inout JSONReader) throws {
        var aToB = try reader.optionalObject("a_to_b")
        var bToA = try reader.optionalObject("b_to_a")
        var forB = reader
        self.aToB = try self.aToB.merging(&reader)
        self.bToA = try self.bToA.merging(&forB)
        try reader.finish()
        if aToB != nil {
            self.aToB = try self.aToB.merging(&aToB!)
            try aToB!.finish()
        }
        if bToA != nil {
            self.bToA = try self.bToA.merging(&bToA!)
            try bToA!.finish()
        }
    }
}
