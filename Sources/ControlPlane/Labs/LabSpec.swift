// LabSpec: a lab as the store keeps it — its name, the topology document it runs (or is being
// brought to), the generation of that document (bumped by every applied change), the journal of
// an apply under way, and how the last apply ended.
import JSON

public struct LabSpec: Equatable, Sendable {
    public var name: String
    public var document: JSON
    public var generation = 1
    public var createdAt = ""
    /// Set while an apply runs; a vsquared that finds it on start-up finishes that apply.
    public var applying: LabApply?
    /// The members that did not come up in the last apply, as `{member, kind, message}`.
    public var failures: [JSON] = []
    /// `{generation, outcome, failures, at}` of the last apply.
    public var lastApply: JSON = .null

    public init(name: String, document: JSON) {
        self.name = name
        self.document = document
    }

    var storedJSON: JSON {
        ["name": JSON(name), "document": document, "generation": JSON(generation), "created_at": JSON(createdAt),
         "applying": applying?.json ?? .null, "failures": JSON(failures), "last_apply": lastApply]
    }

    init?(stored json: JSON) {
        guard let name = json["name"]?.stringValue, let document = json["document"] else { return nil }
        self.init(name: name, document: document)
        generation = json["generation"]?.intValue ?? 1
        createdAt = json["created_at"]?.stringValue ?? ""
        applying = json["applying"].flatMap(LabApply.init(stored:))
        failures = json["failures"]?.arrayValue ?? []
        lastApply = json["last_apply"] ?? .null
    }
}

/// The journal of one apply: the plan is always `from` → the lab's document, so it can be planned
/// again after a restart; `done` says which of its steps ended well.
public struct LabApply: Equatable, Sendable {
    /// What existed when the apply began (a document, perhaps of members only).
    public var from: JSON
    /// The generation that `from` was (0 before the lab's first build).
    public var fromGeneration: Int
    /// Indices of the plan's steps that ended well.
    public var done: Set<Int> = []
    /// A failed step makes the apply undo itself back to `from` (a PUT); otherwise the lab stays degraded (a first build, an undo).
    public var undoesOnFailure: Bool
    /// What the apply is, for its outcome: `applied`, `rolled_back`, `reset`.
    public var purpose: String

    public init(from: JSON, fromGeneration: Int, undoesOnFailure: Bool, purpose: String) {
        self.from = from
        self.fromGeneration = fromGeneration
        self.undoesOnFailure = undoesOnFailure
        self.purpose = purpose
    }

    var json: JSON {
        ["from": from, "from_generation": JSON(fromGeneration), "done": JSON(done.sorted().map(JSON.init)),
         "undoes_on_failure": JSON(undoesOnFailure), "purpose": JSON(purpose)]
    }

    init?(stored json: JSON) {
        guard let from = json["from"], json != .null else { return nil }
        self.init(from: from, fromGeneration: json["from_generation"]?.intValue ?? 0,
                  undoesOnFailure: json["undoes_on_failure"]?.boolValue ?? false, purpose: json["purpose"]?.stringValue ?? "applied")
        done = Set((json["done"]?.arrayValue ?? []).compactMap(\.intValue))
    }
}
