// Principal: who a request comes from — a token's holder, with its role. Admin may do everything;
// a viewer may read but change nothing. An open vsquared (no VSQUARE_TOKENS) takes a request with
// no token for an anonymous admin; a token presented is always its own principal.
import JSON

public struct Principal: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        case admin, teacher, student, viewer
    }

    /// The token's id; `configured` for a VSQUARE_TOKENS token, `anonymous` on an open vsquared.
    public let id: String
    public let name: String
    public let role: Role
    public let expiresAt: String?

    public init(id: String, name: String, role: Role, expiresAt: String? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.expiresAt = expiresAt
    }

    public static let anonymous = Principal(id: "anonymous", name: "anonymous", role: .admin)
    public static let configured = Principal(id: "configured", name: "VSQUARE_TOKENS", role: .admin)

    /// Whether this principal may change things (anything but reads).
    public var mayChange: Bool { role == .admin }

    public var json: JSONObject {
        ["id": JSON(id), "name": JSON(name), "role": JSON(role.rawValue), "expires_at": JSON(expiresAt),
         "anonymous": JSON(self == .anonymous)]
    }
}
