// The store's cable rows (specs as JSON text, like switches).
import JSON
import Posix

extension Store {
    public func loadCables() throws -> [CableSpec] {
        try read { db in
            try db.query("SELECT spec FROM cables ORDER BY name").compactMap { row in
                guard case .text(let text) = row[0], let json = try? JSON.parse(text) else { return nil }
                return CableSpec(stored: json)
            }
        }
    }

    public func saveCable(_ spec: CableSpec) throws {
        let now = Clock.rfc3339(Clock.wallSeconds())
        try write { db in
            try db.query("""
                INSERT INTO cables (name, spec, generation, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, generation = excluded.generation, updated_at = excluded.updated_at
                """, [.text(spec.name), .text(spec.storedJSON.text()), .integer(Int64(spec.generation)), .text(spec.createdAt), .text(now)])
        }
    }

    public func deleteCable(_ name: String) throws {
        try write { db in
            try db.query("DELETE FROM cables WHERE name = ?", [.text(name)])
            try db.query("DELETE FROM workers WHERE kind = 'cable' AND name = ?", [.text(name)])
        }
    }
}
