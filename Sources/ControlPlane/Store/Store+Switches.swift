// The store's switch and worker rows. Specs are kept as JSON text (SwitchSpec+JSON.swift), so
// adding a field needs no migration; workers rows are what adoption checks on start.
import JSON
import Posix

/// A worker process as last recorded: enough to find it again and prove it is ours.
public struct WorkerRecord: Equatable, Sendable {
    public var kind: String
    public var name: String
    public var pid: Int32
    public var instanceID: String
    public var restartCount: Int
    public var lastExit: String?
}

extension Store {
    public func loadSwitches() throws -> [SwitchSpec] { try loadSpecs("switches").compactMap(SwitchSpec.init(stored:)) }

    /// Inserts or replaces `spec`; durable when this returns.
    public func saveSwitch(_ spec: SwitchSpec) throws {
        try saveSpec("switches", name: spec.name, json: spec.storedJSON, generation: spec.generation, createdAt: spec.createdAt)
    }

    /// The stored specs of one noun's table (`switches`, `cables`), by name.
    func loadSpecs(_ table: String) throws -> [JSON] {
        try read { db in
            try db.query("SELECT spec FROM \(table) ORDER BY name").compactMap { row in
                guard case .text(let text) = row[0] else { return nil }
                return try? JSON.parse(text)
            }
        }
    }

    /// Inserts or replaces one spec row of `table`.
    func saveSpec(_ table: String, name: String, json: JSON, generation: Int, createdAt: String) throws {
        let now = Clock.rfc3339(Clock.wallSeconds())
        try write { db in
            try db.query("""
                INSERT INTO \(table) (name, spec, generation, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, generation = excluded.generation, updated_at = excluded.updated_at
                """, [.text(name), .text(json.text()), .integer(Int64(generation)), .text(createdAt), .text(now)])
        }
    }

    public func deleteSwitch(_ name: String) throws {
        try write { db in
            try db.query("DELETE FROM switches WHERE name = ?", [.text(name)])
            try db.query("DELETE FROM workers WHERE kind = 'switch' AND name = ?", [.text(name)])
        }
    }

    public func saveWorker(_ record: WorkerRecord) throws {
        try write { db in
            try db.query("""
                INSERT INTO workers (kind, name, pid, instance_id, started_at, restart_count, last_exit) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(kind, name) DO UPDATE SET pid = excluded.pid, instance_id = excluded.instance_id,
                    started_at = excluded.started_at, restart_count = excluded.restart_count, last_exit = excluded.last_exit
                """, [.text(record.kind), .text(record.name), .integer(Int64(record.pid)), .text(record.instanceID),
                      .text(Clock.rfc3339(Clock.wallSeconds())), .integer(Int64(record.restartCount)),
                      record.lastExit.map(SQLiteValue.text) ?? .null])
        }
    }

    public func loadWorkers(kind: String) throws -> [WorkerRecord] {
        try read { db in
            try db.query("SELECT name, pid, instance_id, restart_count, last_exit FROM workers WHERE kind = ?", [.text(kind)]).compactMap { row in
                guard case .text(let name) = row[0], case .integer(let pid) = row[1], case .text(let instance) = row[2],
                      case .integer(let restarts) = row[3] else { return nil }
                var lastExit: String?
                if case .text(let text) = row[4] { lastExit = text }
                return WorkerRecord(kind: kind, name: name, pid: Int32(pid), instanceID: instance, restartCount: Int(restarts), lastExit: lastExit)
            }
        }
    }

    public func deleteWorker(kind: String, name: String) throws {
        try write { db in try db.query("DELETE FROM workers WHERE kind = ? AND name = ?", [.text(kind), .text(name)]) }
    }
}
