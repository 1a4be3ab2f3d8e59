// The store's audit entries: one row each, with the columns its queries filter on, the whole entry as JSON.
import JSON

extension Store {
    func saveAuditEntry(at: String, kind: String, principalID: String?, principalName: String?, lab: String?, entry: JSON) throws -> Int64 {
        try write { db in
            let rows = try db.query("INSERT INTO audit (at, kind, principal_id, principal_name, lab, entry) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                    [.text(at), .text(kind), principalID.map(SQLiteValue.text) ?? .null,
                                     principalName.map(SQLiteValue.text) ?? .null, lab.map(SQLiteValue.text) ?? .null, .text(entry.text())])
            guard case .integer(let id) = rows.first?.first else { return 0 }
            return id
        }
    }

    /// Keeps the newest `count` entries.
    func pruneAudit(keeping count: Int) throws {
        try write { db in try db.query("DELETE FROM audit WHERE id <= (SELECT max(id) FROM audit) - ?", [.integer(Int64(count))]) }
    }

    /// Entries matching every filter given (a principal by its id or name), newest first.
    func auditEntries(since: String?, until: String?, lab: String?, principal: String?, kind: String?, limit: Int) throws -> [JSON] {
        var conditions: [String] = [], values: [SQLiteValue] = []
        if let since { conditions.append("at >= ?"); values.append(.text(since)) }
        if let until { conditions.append("at <= ?"); values.append(.text(until)) }
        if let lab { conditions.append("lab = ?"); values.append(.text(lab)) }
        if let principal { conditions.append("(principal_id = ? OR principal_name = ?)"); values += [.text(principal), .text(principal)] }
        if let kind { conditions.append("kind = ?"); values.append(.text(kind)) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try read { db in
            try db.query("SELECT id, entry FROM audit \(filter) ORDER BY id DESC LIMIT ?", values + [.integer(Int64(limit))]).compactMap { row in
                guard case .integer(let id) = row[0], case .text(let text) = row[1], case .object(var entry)? = try? JSON.parse(text) else { return nil }
                entry["id"] = JSON(Int(id))
                return .object(entry)
            }
        }
    }
}
