// LabPlanner: what exists and what the document says → the ordered plan that turns one into the
// other, touching only what differs. A field that the member's noun can change live (a cable's
// impairments, a switch's aging, a stack's routes) is a change; a field that is part of what the
// member is (a switch's ports, a cable's ends, a stack's interfaces) rebuilds that member alone.
// Pure: members in, steps out. Order: deletions (stacks and cables, then switches), then switches,
// then cables and stacks, each in document order.
import JSON

/// One member of a lab as the document declares it: its noun's body plus the lab's own fields.
public struct LabMember: Equatable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case `switch`
        case cable
        case stack

        /// The document's list that holds this kind.
        public var listName: String {
            switch self {
            case .switch: "switches"
            case .cable: "cables"
            case .stack: "stacks"
            }
        }
    }

    public let kind: Kind
    public let name: String
    public let body: JSONObject

    public init(kind: Kind, name: String, body: JSONObject) {
        self.kind = kind
        self.name = name
        self.body = body
    }

    /// The members a document declares, kind by kind in document order (members without a name are the analyzer's to report).
    public static func members(of document: JSON) -> [LabMember] {
        Kind.allCases.flatMap { kind in
            (document[kind.listName]?.arrayValue ?? []).compactMap { item -> LabMember? in
                guard let body = item.objectValue, let name = body["name"]?.stringValue else { return nil }
                return LabMember(kind: kind, name: name, body: body)
            }
        }
    }

    /// The switches this member plugs into.
    public var switchesUsed: Set<String> {
        switch kind {
        case .switch: []
        case .cable: Set(["a", "b"].compactMap { body[$0]?["switch"]?.stringValue })
        case .stack: Set((body["interfaces"]?.arrayValue ?? []).compactMap { $0["switch"]?.stringValue })
        }
    }
}

public struct FieldChange: Equatable, Sendable {
    public let field: String
    public let old: JSON?
    public let new: JSON?

    public init(field: String, old: JSON?, new: JSON?) {
        self.field = field
        self.old = old
        self.new = new
    }
}

public struct LabStep: Equatable, Sendable {
    public enum Action: String, Sendable {
        case create
        /// Changed live through the member's own noun.
        case change
        /// Deleted and created again (only this member).
        case rebuild
        case delete
    }

    public let action: Action
    public let kind: LabMember.Kind
    public let name: String
    /// For change and rebuild: the fields that differ, old and new.
    public let changes: [FieldChange]
    /// Why a rebuild is needed when no field of its own changed (a switch it plugs into is rebuilt).
    public let reason: String?

    public init(_ action: Action, _ kind: LabMember.Kind, _ name: String, changes: [FieldChange] = [], reason: String? = nil) {
        self.action = action
        self.kind = kind
        self.name = name
        self.changes = changes
        self.reason = reason
    }
}

extension LabStep {
    /// `{action, kind, name, global_name, changes: [{field, old, new}], reason?}` for lab `lab`.
    public func json(lab: String) -> JSONObject {
        var object: JSONObject = ["action": JSON(action.rawValue), "kind": JSON(kind.rawValue), "name": JSON(name),
                                  "global_name": JSON(LabNames.global(lab: lab, local: name)),
                                  "changes": JSON(changes.map { change -> JSON in
                                      ["field": JSON(change.field), "old": change.old ?? .null, "new": change.new ?? .null]
                                  })]
        if let reason { object["reason"] = JSON(reason) }
        return object
    }
}

public enum LabPlanner {
    /// Fields that make a member what it is: changing one rebuilds the member.
    static let identityFields: [LabMember.Kind: Set<String>] = [
        .switch: ["ports", "socket_mode", "socket_group", "socket_owner"],
        .cable: ["a", "b", "seed"],
        .stack: ["kind", "interfaces", "dns", "startup"],
    ]

    public static func plan(from current: [LabMember], to desired: [LabMember]) -> [LabStep] {
        func key(_ member: LabMember) -> String { "\(member.kind.rawValue) \(member.name)" }
        let existing = Dictionary(current.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let wanted = Set(desired.map(key))

        var deletions: [LabStep] = []
        for kind in [LabMember.Kind.stack, .cable, .switch] {
            for member in current where member.kind == kind && !wanted.contains(key(member)) {
                deletions.append(LabStep(.delete, kind, member.name))
            }
        }
        var steps: [LabStep] = []
        var rebuiltSwitches: Set<String> = []
        for kind in LabMember.Kind.allCases {
            for member in desired where member.kind == kind {
                guard let old = existing[key(member)] else {
                    steps.append(LabStep(.create, kind, member.name))
                    continue
                }
                let changes = differences(old.body, member.body)
                let identity = identityFields[kind] ?? []
                // A stack's port settings (its VLAN) live on the switch: a new switch needs the stack made again.
                let rebuiltUnder = kind == .stack ? member.switchesUsed.intersection(rebuiltSwitches).sorted().first : nil
                if changes.contains(where: { identity.contains($0.field) }) {
                    steps.append(LabStep(.rebuild, kind, member.name, changes: changes))
                    if kind == .switch { rebuiltSwitches.insert(member.name) }
                } else if let rebuiltUnder {
                    steps.append(LabStep(.rebuild, kind, member.name, changes: changes, reason: "switch \(rebuiltUnder) is rebuilt"))
                } else if !changes.isEmpty {
                    steps.append(LabStep(.change, kind, member.name, changes: changes))
                }
            }
        }
        // Switches before what plugs into them; cables and stacks after (one layer, document order).
        let switchSteps = steps.filter { $0.kind == .switch }
        let others = steps.filter { $0.kind != .switch }
        return deletions + switchSteps + others
    }

    /// Top-level fields that differ, in the new body's order, then those only the old one has.
    static func differences(_ old: JSONObject, _ new: JSONObject) -> [FieldChange] {
        var changes: [FieldChange] = []
        for (field, value) in new where old[field] != value {
            changes.append(FieldChange(field: field, old: old[field], new: value))
        }
        for (field, value) in old where new[field] == nil {
            changes.append(FieldChange(field: field, old: value, new: nil))
        }
        return changes
    }
}

extension LabPlanner {
    /// What exists after the steps of `plan` (from `current` to `desired`) numbered in `attempted`
    /// ran, some of them perhaps only part-way: a member whose step was attempted counts as the
    /// desired one (or as gone, for a deletion), so that planning from here back to `current`
    /// undoes every attempted step and nothing else (each noun tolerates undoing what never happened).
    public static func members(after plan: [LabStep], attempted: Set<Int>, from current: [LabMember], to desired: [LabMember]) -> [LabMember] {
        func key(_ kind: LabMember.Kind, _ name: String) -> String { "\(kind.rawValue) \(name)" }
        let wanted = Dictionary(desired.map { (key($0.kind, $0.name), $0) }, uniquingKeysWith: { first, _ in first })
        var result = current
        for index in attempted.sorted() where plan.indices.contains(index) {
            let step = plan[index]
            let position = result.firstIndex { $0.kind == step.kind && $0.name == step.name }
            switch step.action {
            case .delete:
                if let position { result.remove(at: position) }
            case .create, .change, .rebuild:
                guard let member = wanted[key(step.kind, step.name)] else { continue }
                if let position { result[position] = member } else { result.append(member) }
            }
        }
        return result
    }
}

extension LabMember {
    /// A document declaring exactly `members` (and nothing of the lab's own): what a journal keeps.
    public static func document(of members: [LabMember]) -> JSON {
        var document = JSONObject()
        for kind in Kind.allCases {
            document[kind.listName] = JSON(members.filter { $0.kind == kind }.map { JSON.object($0.body) })
        }
        return .object(document)
    }
}
