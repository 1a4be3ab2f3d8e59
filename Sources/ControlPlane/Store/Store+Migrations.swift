// The schema's history. Each migration runs once, in order, inside its own transaction, and
// records its number in schema_version. Never edit a migration that has shipped: add the next one.

extension Store {
    /// Migration N is `migrations[N - 1]`.
    static let migrations: [String] = [
        // 1: daemon facts (instance id, creation time) as key/value pairs.
        """
        CREATE TABLE daemon (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO daemon (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
        """,
        // 2: switches (the desired state, as JSON) and the workers that run them (for adoption).
        """
        CREATE TABLE switches (name TEXT PRIMARY KEY, spec TEXT NOT NULL, generation INTEGER NOT NULL,
                               created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE workers (kind TEXT NOT NULL, name TEXT NOT NULL, pid INTEGER NOT NULL, instance_id TEXT NOT NULL,
                              started_at TEXT NOT NULL, restart_count INTEGER NOT NULL DEFAULT 0, last_exit TEXT,
                              PRIMARY KEY (kind, name));
        """,
        // 3: cables (the desired state, as JSON).
        """
        CREATE TABLE cables (name TEXT PRIMARY KEY, spec TEXT NOT NULL, generation INTEGER NOT NULL,
                             created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        """,
        // 4: stacks (the desired state, as JSON).
        """
        CREATE TABLE stacks (name TEXT PRIMARY KEY, spec TEXT NOT NULL, generation INTEGER NOT NULL,
                             created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        """,
        // 5: labs (the topology document and its generation, as JSON).
        """
        CREATE TABLE labs (name TEXT PRIMARY KEY, spec TEXT NOT NULL, generation INTEGER NOT NULL,
                           created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        """,
        // 6: experiments (the document, as JSON) and their runs (each run's whole record, as JSON).
        """
        CREATE TABLE experiments (name TEXT PRIMARY KEY, spec TEXT NOT NULL, generation INTEGER NOT NULL,
                                  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE experiment_runs (experiment TEXT NOT NULL, number INTEGER NOT NULL, state TEXT NOT NULL,
                                      created_at TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (experiment, number));
        """,
        // 7: issued bearer tokens (only their hashes).
        """
        CREATE TABLE tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                             created_at TEXT NOT NULL, expires_at TEXT);
        """,
        // 8: a token's scope (the labs it may see), as JSON; null for everything.
        """
        ALTER TABLE tokens ADD COLUMN scope TEXT;
        """,
        // 9: a lab's check runs (each run's results, as JSON), the newest kept within a limit.
        """
        CREATE TABLE check_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, lab TEXT NOT NULL, at TEXT NOT NULL, run TEXT NOT NULL);
        CREATE INDEX check_runs_by_lab ON check_runs (lab, id);
        """,
        // 10: classes (the template, the students and their token ids, the permissions, as JSON).
        """
        CREATE TABLE classes (name TEXT PRIMARY KEY, spec TEXT NOT NULL, generation INTEGER NOT NULL,
                              created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        """,
        // 11: the audit log (mutating requests, plugs and unplugs), the whole entry as JSON.
        """
        CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, principal_id TEXT,
                            principal_name TEXT, lab TEXT, entry TEXT NOT NULL);
        CREATE INDEX audit_by_at ON audit (at);
        CREATE INDEX audit_by_lab ON audit (lab, id);
        """,
        // 12: a token's quotas (what its holder may use at once), as JSON; null for none.
        """
        ALTER TABLE tokens ADD COLUMN quotas TEXT;
        """,
        // 13: shares of deleted labs that a peer still holds (it did not answer the delete), retried until it does.
        """
        CREATE TABLE peer_deletions (lab TEXT NOT NULL, peer TEXT NOT NULL, PRIMARY KEY (lab, peer));
        """,
    ]

    /// The newest schema this build knows.
    public static var latestVersion: Int { migrations.count }

    static func currentVersion(_ db: SQLiteDatabase) throws -> Int {
        guard case .integer(let version) = try db.query("SELECT max(version) FROM schema_version").first?.first else { return 0 }
        return Int(version)
    }

    static func migrate(_ db: SQLiteDatabase) throws {
        try db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        let current = try currentVersion(db)
        guard current <= latestVersion else { throw StoreError.newerSchema(found: current, known: latestVersion) }
        for version in (current + 1)...max(latestVersion, current + 1) where version <= latestVersion {
            try db.execute("BEGIN IMMEDIATE")
            do {
                try db.execute(migrations[version - 1])
                try db.query("INSERT INTO schema_version (version, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                             [.integer(Int64(version))])
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }
}
