// /v1/tokens and /v1/whoami: bearer tokens issued over the API (the token itself is in the answer
// to its creation only; only its hash is kept) and who the caller is. Tokens are an admin's to
// issue, list and revoke; anyone may ask who they are.
import ControlPlane
import JSON
import LabEngine
import Posix

public enum TokenRoutes {
    public static func register(on router: inout RouterBuilder, tokens: TokenManager) {
        router.add("POST", "/v1/tokens") { request in
            try requireAdmin(request)
            var reader = try JSONReader(try request.json())
            let name = try reader.string("name", matching: { !$0.isEmpty && $0.utf8.count <= 128 }, ruleText: "1 to 128 characters")
            let roleText = try reader.string("role", matching: { Principal.Role(rawValue: $0) != nil },
                                             ruleText: "one of " + Principal.Role.allCases.map(\.rawValue).joined(separator: ", "))
            let expiresAt = try reader.optionalString("expires_at", nullable: true)
            var scope: AccessScope?
            if var scoped = try reader.optionalObject("scope") {
                func names(_ key: String, _ noun: String) throws(JSONFieldError) -> Set<String> {
                    guard scoped.contains(key) else { return [] }
                    return Set(try scoped.array(key) { (item, path) throws(JSONFieldError) -> String in
                        guard let name = item.stringValue, ResourceName.isValid(name) else { throw JSONFieldError(path: path, rule: "must be a \(noun) name") }
                        return name
                    })
                }
                let labs = try names("labs", "lab"), classes = try names("classes", "class")
                try scoped.finish()
                scope = AccessScope(labs: labs, classes: classes)
            }
            // A token bounds what its holder uses at once; what a lab holds is a class's to bound.
            let quotas = try reader.value("quotas").map { try Quotas(reading: $0, path: "quotas", allowed: [.execs, .execOutputBytes, .eventStreams]) }
            try reader.finish()
            let role = Principal.Role(rawValue: roleText)!
            switch (role, scope) {
            case (.admin, .some):
                throw ControlPlaneError.unprocessableField(path: "scope", message: "an admin token sees everything: it takes no scope")
            case (.teacher, nil), (.student, nil):
                throw ControlPlaneError.unprocessableField(path: "scope", message: "a \(roleText) token needs a scope: {labs: [...], classes: [...]}, the labs and classes it may see")
            default:
                break
            }
            if let expiresAt {
                // As the spec's pattern says: digits, `T`, `Z`, an optional fraction.
                let shape = expiresAt.utf8.enumerated().allSatisfy { index, byte in
                    switch index {
                    case 4, 7: byte == 0x2D
                    case 10: byte == 0x54
                    case 13, 16: byte == 0x3A
                    case 19: byte == 0x2E || (byte == 0x5A && expiresAt.utf8.count == 20)
                    case expiresAt.utf8.count - 1: byte == 0x5A
                    default: (0x30...0x39).contains(byte)
                    }
                } && expiresAt.utf8.count >= 20 && expiresAt.utf8.count != 21
                guard shape else {
                    throw JSONFieldError(path: "expires_at", rule: "must be an RFC 3339 UTC time such as 2027-01-31T23:59:00Z")
                }
                // The right shape, but no such day or hour (month 13, hour 25): impossible, not malformed.
                guard let moment = Posix.Clock.parseRFC3339(expiresAt) else {
                    throw ControlPlaneError.unprocessableField(path: "expires_at", message: "\(expiresAt) is not a time that exists")
                }
                guard moment > Posix.Clock.wallSeconds() else {
                    throw ControlPlaneError.unprocessableField(path: "expires_at", message: "\(expiresAt) has already passed")
                }
            }
            let (record, token) = try tokens.issue(name: name, role: role, scope: scope, expiresAt: expiresAt, quotas: quotas ?? Quotas())
            var answer = record.json
            answer["token"] = JSON(token)
            return .json(.object(answer), status: 201)
        }
        router.add("GET", "/v1/tokens") { request in
            try requireAdmin(request)
            return .json(["tokens": JSON(tokens.list().map { JSON.object($0.json) })])
        }
        router.add("GET", "/v1/tokens/{id}") { request in
            try requireAdmin(request)
            return .json(.object(try tokens.get(try tokenID(request)).json))
        }
        router.add("DELETE", "/v1/tokens/{id}") { request in
            try requireAdmin(request)
            try tokens.revoke(try tokenID(request))
            return .noContent
        }
        router.add("GET", "/v1/whoami") { request in
            var answer = request.principal.json
            answer["tokens_required"] = JSON(!tokens.isOpen)
            return .json(.object(answer))
        }
    }

    static func requireAdmin(_ request: HTTPRequest) throws {
        guard request.principal.role == .admin else {
            throw Problem(.forbidden, detail: "tokens are issued, listed and revoked by admin tokens")
        }
    }

    /// A token id as issued (`tok-` and 12 hex digits); anything else names nothing.
    static func tokenID(_ request: HTTPRequest) throws -> String {
        let id = request.parameter("id")
        guard id.hasPrefix("tok-"), id.utf8.count == 16, id.utf8.dropFirst(4).allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw Problem(.notFound, detail: "there is no token \(id)")
        }
        return id
    }
}
