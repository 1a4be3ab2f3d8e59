// Principal: who a request comes from — a token's holder, with its role. Admin may do everything;
// a viewer may read but change nothing. An open vsquared (no VSQUARE_TOKENS) takes a request with
// no token for an anonymous admin; a token presented is always its own principal.
import JSON

/// What a scoped principal may see: these labs (and their members), and these classes with every
/// lab built for them.
public struct AccessScope: Sendable, Equatable {
    public var labs: Set<String>
    public var classes: Set<String>

    public init(labs: Set<String> = [], classes: Set<String> = []) {
        self.labs = labs
        self.classes = classes
    }

    /// Whether lab `lab` (built for class `className`, if any) is in the scope.
    public func sees(lab: String, className: String?) -> Bool { labs.contains(lab) || className.map(classes.contains) == true }

    public var json: JSON { ["labs": JSON(labs.sorted().map { JSON($0) }), "classes": JSON(classes.sorted().map { JSON($0) })] }

    /// The scope `json` wrote.
    public init?(json: JSON) {
        guard let labs = json["labs"]?.arrayValue else { return nil }
        self.labs = Set(labs.compactMap(\.stringValue))
        classes = Set((json["classes"]?.arrayValue ?? []).compactMap(\.stringValue))
    }
}

public struct Principal: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        case admin, teacher, student, viewer
    }

    /// The token's id; `configured` for a VSQUARE_TOKENS token, `anonymous` on an open vsquared.
    public let id: String
    public let name: String
    public let role: Role
    public let expiresAt: String?
    /// nil: everything (an admin's, or an unscoped viewer's).
    public let scope: AccessScope?
    /// What it may use at once (a class's quotas add to a student's).
    public let quotas: Quotas

    public init(id: String, name: String, role: Role, expiresAt: String? = nil, scope: AccessScope? = nil, quotas: Quotas = Quotas()) {
        self.id = id
        self.name = name
        self.role = role
        self.expiresAt = expiresAt
        self.scope = scope
        self.quotas = quotas
    }

    public static let anonymous = Principal(id: "anonymous", name: "anonymous", role: .admin)
    public static let configured = Principal(id: "configured", name: "VSQUARE_TOKENS", role: .admin)

    /// Another vsquared of VSQUARE_PEERS (named by its URL): it may do what an admin may, and hand this one a lab's share.
    public static func peer(_ url: String) -> Principal { Principal(id: "peer", name: url, role: .admin) }

    /// The peer's URL, when the principal is a peer.
    public var peerURL: String? { id == "peer" ? name : nil }

    public var json: JSONObject {
        ["id": JSON(id), "name": JSON(name), "role": JSON(role.rawValue), "expires_at": JSON(expiresAt), "scope": scope?.json ?? .null, "quotas": quotas.json,
         "anonymous": JSON(self == .anonymous)]
    }
}
