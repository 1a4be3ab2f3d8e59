// The store's cable rows (specs as JSON text, like switches).
import JSON
import Posix

extension Store {
    public func loadCables() throws -> [CableSpec] { try loadSpecs("cables").compactMap(CableSpec.init(stored:)) }

    public func saveCable(_ spec: CableSpec) throws {
        try saveSpec("cables", name: spec.name, json: spec.storedJSON, generation: spec.generation, createdAt: spec.createdAt)
    }

    public func deleteCable(_ name: String) throws {
        try write { db in
            try db.query("DELETE FROM cables WHERE name = ?", [.text(name)])
            try db.query("DELETE FROM workers WHERE kind = 'cable' AND name = ?", [.text(name)])
        }
    }
}

extension Store {
    public func loadStacks() throws -> [StackSpec] { try loadSpecs("stacks").compactMap(StackSpec.init(stored:)) }

    public func saveStack(_ spec: StackSpec) throws {
        try saveSpec("stacks", name: spec.name, json: spec.storedJSON, generation: spec.generation, createdAt: spec.createdAt)
    }

    public func deleteStack(_ name: String) throws {
        try write { db in
            try db.query("DELETE FROM stacks WHERE name = ?", [.text(name)])
            try db.query("DELETE FROM workers WHERE kind = 'stack' AND name LIKE ?", [.text(name + "/%")])
        }
    }
}
