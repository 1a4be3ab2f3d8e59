// The store's lab rows (the document and its generation, as JSON).
import JSON

extension Store {
    public func loadLabs() throws -> [LabSpec] { try loadSpecs("labs").compactMap(LabSpec.init(stored:)) }

    public func saveLab(_ spec: LabSpec) throws {
        try saveSpec("labs", name: spec.name, json: spec.storedJSON, generation: spec.generation, createdAt: spec.createdAt)
    }

    public func deleteLab(_ name: String) throws {
        try write { db in try db.query("DELETE FROM labs WHERE name = ?", [.text(name)]) }
    }
}
