// TokenManager: bearer tokens issued over the API. A token is shown once, when it is made; the
// store keeps only its BLAKE2b-256 hash, so a copy of the database lets nobody in. Tokens from
// VSQUARE_TOKENS are admin tokens, as before. Revoking a token takes effect at once: the next
// request with it is 401, and event streams opened with it end (a `token.revoked` event wakes them).
import CSodium
import JSON
import Posix

public final class TokenManager: @unchecked Sendable {
    public struct Record: Sendable, Equatable {
        public let id: String
        public let name: String
        public let role: Principal.Role
        public let hash: String
        public let createdAt: String
        public let expiresAt: String?
        public let scope: AccessScope?
        public var quotas = Quotas()

        var principal: Principal { Principal(id: id, name: name, role: role, expiresAt: expiresAt, scope: scope, quotas: quotas) }

        public var json: JSONObject {
            ["id": JSON(id), "name": JSON(name), "role": JSON(role.rawValue), "scope": scope?.json ?? .null, "quotas": quotas.json,
             "created_at": JSON(createdAt), "expires_at": JSON(expiresAt)]
        }
    }

    let store: Store
    let events: EventBus
    /// Hashes of the VSQUARE_TOKENS tokens.
    let configured: Set<String>
    let lock = Lock()
    /// By hash.
    var records: [String: Record] = [:]

    public init(store: Store, events: EventBus, configured: Set<String>) throws {
        _ = sodium_init()
        self.store = store
        self.events = events
        self.configured = Set(configured.map(TokenManager.hash))
        for record in try store.loadTokens() { records[record.hash] = record }
    }

    /// No VSQUARE_TOKENS: a request without a token is an anonymous admin's (loopback only).
    public var isOpen: Bool { configured.isEmpty }

    /// The principal a presented token stands for; nil for an unknown, revoked or expired one.
    public func principal(for token: String) -> Principal? {
        let digest = TokenManager.hash(token)
        if configured.contains(digest) { return .configured }
        guard let record = lock.withLock({ records[digest] }) else { return nil }
        if let expiry = record.expiresAt.flatMap(Clock.parseRFC3339), expiry <= Clock.wallSeconds() { return nil }
        return record.principal
    }

    /// Whether the principal's token still lets it in (for streams opened with it).
    public func isValid(_ principal: Principal) -> Bool {
        guard principal != .anonymous, principal != .configured, principal.peerURL == nil else { return true }
        guard let record = lock.withLock({ records.values.first { $0.id == principal.id } }) else { return false }
        return record.expiresAt.flatMap(Clock.parseRFC3339).map { $0 > Clock.wallSeconds() } ?? true
    }

    /// A new token: the record, and the token itself (shown this once).
    public func issue(name: String, role: Principal.Role, scope: AccessScope?, expiresAt: String?,
                      quotas: Quotas = Quotas()) throws -> (record: Record, token: String) {
        let secret = "vsq_" + TokenManager.randomText(bytes: 32)
        let record = Record(id: "tok-" + TokenManager.randomHex(bytes: 6), name: name, role: role, hash: TokenManager.hash(secret),
                            createdAt: Clock.rfc3339(Clock.wallSeconds()), expiresAt: expiresAt, scope: scope, quotas: quotas)
        try lock.withLock {
            try store.saveToken(record)
            records[record.hash] = record
        }
        events.publish("token.created", ["token": JSON(record.id), "role": JSON(role.rawValue)])
        return (record, secret)
    }

    public func list() -> [Record] { lock.withLock { records.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } } }

    public func get(_ id: String) throws -> Record {
        guard let record = lock.withLock({ records.values.first { $0.id == id } }) else { throw ControlPlaneError.notFound(kind: "token", name: id) }
        return record
    }

    public func revoke(_ id: String) throws {
        try lock.withLock {
            guard let record = records.values.first(where: { $0.id == id }) else { throw ControlPlaneError.notFound(kind: "token", name: id) }
            try store.deleteToken(id)
            records[record.hash] = nil
        }
        events.publish("token.revoked", ["token": JSON(id)])
    }

    /// BLAKE2b-256 of the token, as hex.
    static func hash(_ token: String) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let bytes = Array(token.utf8)
        _ = crypto_generichash(&digest, digest.count, bytes, UInt64(bytes.count), nil, 0)
        return digest.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static func randomHex(bytes count: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        return bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// `count` random bytes as unpadded base64url (URL-, header- and shell-safe).
    static func randomText(bytes count: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var text: [UInt8] = []
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                text.append(alphabet[(buffer >> bits) & 63])
            }
        }
        if bits > 0 { text.append(alphabet[(buffer << (6 - bits)) & 63]) }
        return String(decoding: text, as: UTF8.self)
    }
}
