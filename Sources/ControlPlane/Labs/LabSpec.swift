// LabSpec: a lab as the store keeps it — its name, the topology document it was built from, and
// the generation of that document (bumped by every applied change).
import JSON

public struct LabSpec: Equatable, Sendable {
    public var name: String
    public var document: JSON
    public var generation = 1
    public var createdAt = ""

    public init(name: String, document: JSON) {
        self.name = name
        self.document = document
    }

    var storedJSON: JSON {
        ["name": JSON(name), "document": document, "generation": JSON(generation), "created_at": JSON(createdAt)]
    }

    init?(stored json: JSON) {
        guard let name = json["name"]?.stringValue, let document = json["document"] else { return nil }
        self.init(name: name, document: document)
        generation = json["generation"]?.intValue ?? 1
        createdAt = json["created_at"]?.stringValue ?? ""
    }
}
