// MemberVocabulary: how the analyzer reads one member's body — through the validator of the noun
// that creates it (POST /v1/switches, /v1/cables, /v1/stacks), so a lab document and the API share
// one vocabulary. The control plane provides it; LabEngine only sees the facts it needs to check
// how members fit together.
import JSON

/// A member body a noun's validator refused: the field (dotted, as the validators say it), a
/// stable code and the validator's own message.
public struct MemberRefusal: Error, Equatable, Sendable {
    public let field: String
    public let code: String
    public let message: String

    public init(field: String, code: String, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }
}

public struct SwitchFacts: Equatable, Sendable {
    public let name: String
    public let ports: Int

    public init(name: String, ports: Int) {
        self.name = name
        self.ports = ports
    }
}

public struct CableEndFacts: Equatable, Sendable {
    /// nil for a remote end.
    public let switchName: String?
    public let port: Int?

    public init(switchName: String?, port: Int?) {
        self.switchName = switchName
        self.port = port
    }
}

public struct CableFacts: Equatable, Sendable {
    public let name: String
    public let a: CableEndFacts
    public let b: CableEndFacts

    public init(name: String, a: CableEndFacts, b: CableEndFacts) {
        self.name = name
        self.a = a
        self.b = b
    }
}

public struct InterfaceFacts: Equatable, Sendable {
    public let name: String
    public let switchName: String
    public let port: Int?
    public let vlan: Int?
    /// With their prefixes: `10.0.0.1/24`.
    public let addresses: [String]
    public let dhcp: Bool

    public init(name: String, switchName: String, port: Int?, vlan: Int?, addresses: [String], dhcp: Bool) {
        self.name = name
        self.switchName = switchName
        self.port = port
        self.vlan = vlan
        self.addresses = addresses
        self.dhcp = dhcp
    }
}

public struct StackFacts: Equatable, Sendable {
    public let name: String
    public let kind: String
    public let interfaces: [InterfaceFacts]
    /// (to, via) pairs; `to` is a prefix or "default".
    public let routes: [(to: String, via: String)]

    public init(name: String, kind: String, interfaces: [InterfaceFacts], routes: [(to: String, via: String)]) {
        self.name = name
        self.kind = kind
        self.interfaces = interfaces
        self.routes = routes
    }

    public static func == (lhs: StackFacts, rhs: StackFacts) -> Bool {
        lhs.name == rhs.name && lhs.kind == rhs.kind && lhs.interfaces == rhs.interfaces
            && lhs.routes.map { "\($0.to) \($0.via)" } == rhs.routes.map { "\($0.to) \($0.via)" }
    }
}

public protocol MemberVocabulary: Sendable {
    func switchFacts(_ body: JSON) throws(MemberRefusal) -> SwitchFacts
    func cableFacts(_ body: JSON) throws(MemberRefusal) -> CableFacts
    func stackFacts(_ body: JSON) throws(MemberRefusal) -> StackFacts
}
