// Store: the SQLite file on disk, WAL mode, forward migrations, and refusal of a newer schema.
@testable import ControlPlane
import Testing
import VSquareTesting

@Suite struct StoreTests {
    @Test func createsTheDatabaseInWALModeAtTheLatestSchema() throws {
        let directory = TempDirectory()
        let store = try Store(path: directory.path + "/vsquare.db")
        #expect(try store.schemaVersion() == Store.latestVersion)
        #expect(try store.journalMode() == "wal")
        #expect(store.isHealthy())
    }

    @Test func reopeningKeepsTheDataAndDoesNotMigrateTwice() throws {
        let directory = TempDirectory()
        let path = directory.path + "/vsquare.db"
        do {
            let store = try Store(path: path)
            try store.write { db in try db.query("INSERT INTO daemon (key, value) VALUES ('probe', 'kept')") }
        }
        let reopened = try Store(path: path)
        let rows = try reopened.read { db in try db.query("SELECT value FROM daemon WHERE key = 'probe'") }
        #expect(rows == [[.text("kept")]])
        let versions = try reopened.read { db in try db.query("SELECT count(*) FROM schema_version") }
        #expect(versions == [[.integer(Int64(Store.latestVersion))]])
    }

    @Test func refusesADatabaseFromANewerVersion() throws {
        let directory = TempDirectory()
        let path = directory.path + "/vsquare.db"
        do {
            let store = try Store(path: path)
            try store.write { db in
                try db.query("INSERT INTO schema_version (version, applied_at) VALUES (?, 'later')", [.integer(999)])
            }
        }
        #expect {
            _ = try Store(path: path)
        } throws: { error in
            guard case StoreError.newerSchema(found: 999, known: Store.latestVersion) = error else { return false }
            return true
        }
    }

    @Test func aFailedWriteLeavesNothingBehind() throws {
        let directory = TempDirectory()
        let store = try Store(path: directory.path + "/vsquare.db")
        struct Abort: Error {}
        #expect(throws: (any Error).self) {
            try store.write { db in
                try db.query("INSERT INTO daemon (key, value) VALUES ('half', 'done')")
                throw Abort()
            }
        }
        let rows = try store.read { db in try db.query("SELECT count(*) FROM daemon WHERE key = 'half'") }
        #expect(rows == [[.integer(0)]])
    }

    @Test func reportsAnUnopenablePath() {
        #expect(throws: StoreError.self) { _ = try Store(path: "/proc/no-such-dir/vsquare.db") }
    }
}
