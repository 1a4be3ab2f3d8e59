// The store's class rows (the template, the students and their token ids, the permissions, as JSON).
import JSON

extension Store {
    public func loadClasses() throws -> [ClassSpec] { try loadSpecs("classes").compactMap(ClassSpec.init(stored:)) }

    public func saveClass(_ spec: ClassSpec) throws {
        try saveSpec("classes", name: spec.name, json: spec.storedJSON, generation: spec.generation, createdAt: spec.createdAt)
    }

    public func deleteClass(_ name: String) throws {
        try write { db in try db.query("DELETE FROM classes WHERE name = ?", [.text(name)]) }
    }
}
