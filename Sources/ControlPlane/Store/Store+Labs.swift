// The store's lab rows (the document and its generation, as JSON) and the history of their check runs.
import JSON

extension Store {
    public func loadLabs() throws -> [LabSpec] { try loadSpecs("labs").compactMap(LabSpec.init(stored:)) }

    public func saveLab(_ spec: LabSpec) throws {
        try saveSpec("labs", name: spec.name, json: spec.storedJSON, generation: spec.generation, createdAt: spec.createdAt)
    }

    /// The lab and its check runs.
    public func deleteLab(_ name: String) throws {
        try write { db in
            try db.query("DELETE FROM labs WHERE name = ?", [.text(name)])
            try db.query("DELETE FROM check_runs WHERE lab = ?", [.text(name)])
        }
    }

    /// A peer (by its URL) that still holds a share of deleted lab `lab`.
    func savePeerDeletion(lab: String, peer: String) throws {
        try write { db in try db.query("INSERT OR IGNORE INTO peer_deletions (lab, peer) VALUES (?, ?)", [.text(lab), .text(peer)]) }
    }

    func peerDeletions() throws -> [(lab: String, peer: String)] {
        try read { db in
            try db.query("SELECT lab, peer FROM peer_deletions ORDER BY lab, peer").compactMap { row in
                guard case .text(let lab) = row[0], case .text(let peer) = row[1] else { return nil }
                return (lab, peer)
            }
        }
    }

    func deletePeerDeletion(lab: String, peer: String) throws {
        try write { db in try db.query("DELETE FROM peer_deletions WHERE lab = ? AND peer = ?", [.text(lab), .text(peer)]) }
    }

    /// Records a run of the lab's checks, keeping the newest `kept` of the lab's runs.
    func saveCheckRun(lab: String, at: String, run: JSON, kept: Int) throws {
        try write { db in
            try db.query("INSERT INTO check_runs (lab, at, run) VALUES (?, ?, ?)", [.text(lab), .text(at), .text(run.text())])
            try db.query("DELETE FROM check_runs WHERE lab = ? AND id NOT IN (SELECT id FROM check_runs WHERE lab = ? ORDER BY id DESC LIMIT ?)",
                         [.text(lab), .text(lab), .integer(Int64(kept))])
        }
    }

    /// The lab's newest `limit` check runs, newest first.
    func checkRuns(lab: String, limit: Int) throws -> [JSON] {
        try read { db in
            try db.query("SELECT run FROM check_runs WHERE lab = ? ORDER BY id DESC LIMIT ?", [.text(lab), .integer(Int64(limit))]).compactMap { row in
                guard case .text(let text) = row[0] else { return nil }
                return try? JSON.parse(text)
            }
        }
    }
}
