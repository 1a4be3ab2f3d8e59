// LabSpec: a lab as the store keeps it — its name, the topology document it runs (or is being
// brought to), the generation of that document (bumped by every applied change), the journal of
// an apply under way, and how the last apply ended.
import JSON
import LabEngine

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
    /// How its cables between hosts are carried (a lab spread over hosts, on its coordinator).
    public var tunnels: [LabTunnel] = []
    /// Set when this lab is another vsquared's share of a lab it coordinates.
    public var share: LabShare?

    public init(name: String, document: JSON) {
        self.name = name
        self.document = document
    }

    var storedJSON: JSON {
        ["name": JSON(name), "document": document, "generation": JSON(generation), "created_at": JSON(createdAt),
         "applying": applying?.json ?? .null, "failures": JSON(failures), "last_apply": lastApply,
         "tunnels": JSON(tunnels.map(\.json)), "share": share?.json ?? .null]
    }

    init?(stored json: JSON) {
        guard let name = json["name"]?.stringValue, let document = json["document"] else { return nil }
        self.init(name: name, document: document)
        generation = json["generation"]?.intValue ?? 1
        createdAt = json["created_at"]?.stringValue ?? ""
        applying = json["applying"].flatMap(LabApply.init(stored:))
        failures = json["failures"]?.arrayValue ?? []
        lastApply = json["last_apply"] ?? .null
        tunnels = (json["tunnels"]?.arrayValue ?? []).compactMap(LabTunnel.init(json:))
        share = json["share"].flatMap(LabShare.init(json:))
    }
}

/// What marks a lab as a share of a lab coordinated by another vsquared.
public struct LabShare: Equatable, Sendable {
    /// The coordinator's URL, as this vsquared's VSQUARE_PEERS names it.
    public var coordinator: String
    /// This vsquared's name among the lab's hosts.
    public var host: String
    /// The coordinator's generation of the lab this share was last applied at.
    public var generation: Int

    public init(coordinator: String, host: String, generation: Int) {
        self.coordinator = coordinator
        self.host = host
        self.generation = generation
    }

    public var json: JSON { ["coordinator": JSON(coordinator), "host": JSON(host), "generation": JSON(generation)] }

    init?(json: JSON) {
        guard let coordinator = json["coordinator"]?.stringValue, let host = json["host"]?.stringValue,
              let generation = json["generation"]?.intValue else { return nil }
        self.init(coordinator: coordinator, host: host, generation: generation)
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
    /// The tunnels `from` had (a lab spread over hosts).
    public var fromTunnels: [LabTunnel]

    public init(from: JSON, fromGeneration: Int, undoesOnFailure: Bool, purpose: String, fromTunnels: [LabTunnel] = []) {
        self.from = from
        self.fromGeneration = fromGeneration
        self.undoesOnFailure = undoesOnFailure
        self.purpose = purpose
        self.fromTunnels = fromTunnels
    }

    var json: JSON {
        ["from": from, "from_generation": JSON(fromGeneration), "done": JSON(done.sorted().map(JSON.init)),
         "undoes_on_failure": JSON(undoesOnFailure), "purpose": JSON(purpose),
         "from_tunnels": JSON(fromTunnels.map(\.json))]
    }

    init?(stored json: JSON) {
        guard let from = json["from"], json != .null else { return nil }
        self.init(from: from, fromGeneration: json["from_generation"]?.intValue ?? 0,
                  undoesOnFailure: json["undoes_on_failure"]?.boolValue ?? false, purpose: json["purpose"]?.stringValue ?? "applied",
                  fromTunnels: (json["from_tunnels"]?.arrayValue ?? []).compactMap(LabTunnel.init(json:)))
        done = Set((json["done"]?.arrayValue ?? []).compactMap(\.intValue))
    }
}
