// CableSpec from a create body, and impairment changes: the one validator of a cable's fields, used
// by POST and PATCH /v1/cables and by every lab member that is a cable.
import CableEngine
import JSON
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

    /// A local end `{switch, port?}` or a remote one `{remote: {listen | connect, key | plain}}`.
    /// Each field is checked on its own (400), then how they combine (422).
    static func end(_ reader: inout JSONReader, _ key: String) throws -> CableEndSpec {
        var end = try reader.object(key)
        let switchName = try end.optionalString("switch")
        if let switchName, !ResourceName.isValid(switchName) {
            throw JSONFieldError(path: "\(key).switch", rule: "must be \(ResourceName.rule)")
        }
        let port = try end.optionalInt("port", in: 1...4096, nullable: true)
        let remoteReader = try end.optionalObject("remote")
        try end.finish()
        guard var remote = remoteReader else {
            guard let switchName else {
                throw ControlPlaneError.unprocessableField(path: key, message: "end \(key) needs `switch` (a local switch) or `remote`")
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
        return CableEndSpec(switchName: "", port: nil, remote: RemoteEndSpec(listen: listen != nil, address: address, key: secret))
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
