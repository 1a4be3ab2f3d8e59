// The store's issued tokens: who holds each (name, role), its hash (never the token), when it was
// made and when it ends.
import JSON

extension Store {
    func loadTokens() throws -> [TokenManager.Record] {
        try read { db in
            try db.query("SELECT id, name, role, hash, created_at, expires_at, scope, quotas FROM tokens ORDER BY created_at, id").compactMap { row in
                guard case .text(let id) = row[0], case .text(let name) = row[1], case .text(let roleText) = row[2],
                      let role = Principal.Role(rawValue: roleText), case .text(let hash) = row[3], case .text(let created) = row[4] else { return nil }
                var expires: String?
                if case .text(let text) = row[5] { expires = text }
                var scope: AccessScope?
                if case .text(let text) = row[6], let json = try? JSON.parse(text) { scope = AccessScope(json: json) }
                var quotas = Quotas()
                if case .text(let text) = row[7], let json = try? JSON.parse(text) { quotas = Quotas(stored: json) }
                return TokenManager.Record(id: id, name: name, role: role, hash: hash, createdAt: created, expiresAt: expires, scope: scope,
                                           quotas: quotas)
            }
        }
    }

    func saveToken(_ record: TokenManager.Record) throws {
        try write { db in
            try db.query("INSERT INTO tokens (id, name, role, hash, created_at, expires_at, scope, quotas) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [.text(record.id), .text(record.name), .text(record.role.rawValue), .text(record.hash), .text(record.createdAt),
                          record.expiresAt.map { .text($0) } ?? .null, record.scope.map { .text($0.json.text()) } ?? .null,
                          record.quotas.isEmpty ? .null : .text(record.quotas.json.text())])
        }
    }

    func deleteToken(_ id: String) throws {
        try write { db in try db.query("DELETE FROM tokens WHERE id = ?", [.text(id)]) }
    }
}
