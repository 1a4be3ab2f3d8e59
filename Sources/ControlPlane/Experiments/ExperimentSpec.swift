// ExperimentSpec: an experiment as the store keeps it — its name, its document (topology and
// tasks) and the document's generation, bumped by every PUT that changes it.
import JSON

public struct ExperimentSpec: Equatable, Sendable {
    public var name: String
    public var document: JSON
    public var generation = 1
    public var createdAt = ""
    /// The number the next run gets (runs are numbered per experiment, from 1).
    public var nextRun = 1

    public init(name: String, document: JSON) {
        self.name = name
        self.document = document
    }

    var storedJSON: JSON {
        ["name": JSON(name), "document": document, "generation": JSON(generation), "created_at": JSON(createdAt), "next_run": JSON(nextRun)]
    }

    init?(stored json: JSON) {
        guard let name = json["name"]?.stringValue, let document = json["document"] else { return nil }
        self.init(name: name, document: document)
        generation = json["generation"]?.intValue ?? 1
        createdAt = json["created_at"]?.stringValue ?? ""
        nextRun = json["next_run"]?.intValue ?? 1
    }
}
