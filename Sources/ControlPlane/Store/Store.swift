// Store: vsquared's desired state on disk. One SQLite file in the state directory, WAL mode,
// synchronous=FULL so a change is durable before the API replies. The schema moves forward only,
// through the numbered migrations in Store+Migrations.swift; a newer database is refused, not damaged.
import Synchronization

public enum StoreError: Error, CustomStringConvertible, Sendable {
    case newerSchema(found: Int, known: Int)
    case database(SQLiteError)

    public var description: String {
        switch self {
        case .newerSchema(let found, let known):
            return "the database has schema version \(found), newer than the \(known) this vsquared knows"
        case .database(let error):
            return error.description
        }
    }
}

public final class Store: Sendable {
    public let path: String
    private let database: Mutex<SQLiteDatabase>

    /// Opens (creating if needed) the database at `path` and migrates it to the newest schema.
    public init(path: String) throws(StoreError) {
        self.path = path
        do {
            let db = try SQLiteDatabase(path: path)
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            try Store.migrate(db)
            database = Mutex(db)
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw .database(error)
        } catch {
            fatalError("unexpected error \(error)")
        }
    }

    /// The schema version the database is at.
    public func schemaVersion() throws -> Int {
        try read { db in try Store.currentVersion(db) }
    }

    /// The journal mode SQLite reports ("wal" once opened by us).
    public func journalMode() throws -> String {
        try read { db in
            guard case .text(let mode) = try db.query("PRAGMA journal_mode").first?.first else { return "" }
            return mode
        }
    }

    /// Whether the database answers a trivial query: the health check's "store ok".
    public func isHealthy() -> Bool {
        (try? read { db in try db.query("SELECT 1") }) != nil
    }

    /// Runs `body` with the database, serialised with every other use. Errors pass through unchanged.
    @discardableResult
    func read<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        try database.withLock { try body($0) }
    }

    /// Runs `body` inside one transaction: all of it is committed (durably) or none of it.
    @discardableResult
    func write<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        try read { db in
            try db.execute("BEGIN IMMEDIATE")
            do {
                let result = try body(db)
                try db.execute("COMMIT")
                return result
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }
}
