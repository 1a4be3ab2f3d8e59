// The store's experiment rows (the document, as JSON) and their runs' history: one row per run,
// its whole record as JSON, kept within a retention limit.
import JSON

extension Store {
    public func loadExperiments() throws -> [ExperimentSpec] { try loadSpecs("experiments").compactMap(ExperimentSpec.init(stored:)) }

    public func saveExperiment(_ spec: ExperimentSpec) throws {
        try saveSpec("experiments", name: spec.name, json: spec.storedJSON, generation: spec.generation, createdAt: spec.createdAt)
    }

    /// The experiment and its runs' history.
    public func deleteExperiment(_ name: String) throws {
        try write { db in
            try db.query("DELETE FROM experiments WHERE name = ?", [.text(name)])
            try db.query("DELETE FROM experiment_runs WHERE experiment = ?", [.text(name)])
        }
    }

    func saveRun(experiment: String, number: Int, state: String, createdAt: String, record: JSON) throws {
        try write { db in
            try db.query("""
                INSERT INTO experiment_runs (experiment, number, state, created_at, record) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(experiment, number) DO UPDATE SET state = excluded.state, record = excluded.record
                """, [.text(experiment), .integer(Int64(number)), .text(state), .text(createdAt), .text(record.text())])
        }
    }

    /// Every run's record, oldest first.
    func loadRuns() throws -> [JSON] {
        try read { db in
            try db.query("SELECT record FROM experiment_runs ORDER BY experiment, number").compactMap { row in
                guard case .text(let text) = row[0] else { return nil }
                return try? JSON.parse(text)
            }
        }
    }

    func deleteRun(experiment: String, number: Int) throws {
        try write { db in
            try db.query("DELETE FROM experiment_runs WHERE experiment = ? AND number = ?", [.text(experiment), .integer(Int64(number))])
        }
    }
}
