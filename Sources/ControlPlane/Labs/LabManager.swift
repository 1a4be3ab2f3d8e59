// LabManager: carries out what LabEngine decides. A lab is made from a topology document: the
// analyzer refuses a document with problems before anything exists; the planner's steps are then
// done through the ordinary nouns (switches, cables, stacks), each member under its global name.
// A member that fails to come up is named in the lab's view; the others still come up.
import JSON
import LabEngine
import Log
import Posix

public final class LabManager: @unchecked Sendable {
    let store: Store
    let switches: SwitchManager
    let cables: CableManager
    let stacks: StackManager
    let events: EventBus
    let log = Log(label: "vsquared.labs")
    let vocabulary = NounVocabulary()
    /// Shared with the three nouns, whose views show it.
    public let membership = LabMembership()
    /// Serializes lab operations: one apply or delete at a time.
    let lock = Lock()
    var labs: [String: LabSpec] = [:]
    /// The last apply's failures by lab, as `{member, message}`.
    var failures: [String: [JSONObject]] = [:]

    public init(store: Store, switches: SwitchManager, cables: CableManager, stacks: StackManager, events: EventBus) throws {
        self.store = store
        self.switches = switches
        self.cables = cables
        self.stacks = stacks
        self.events = events
        for spec in try store.loadLabs() {
            labs[spec.name] = spec
            membership.set(LabManager.globalNames(spec), lab: spec.name)
        }
        switches.membership = membership
        cables.membership = membership
        stacks.membership = membership
    }

    static func globalNames(_ spec: LabSpec) -> [(kind: LabMember.Kind, name: String)] {
        LabMember.members(of: spec.document).map { ($0.kind, LabNames.global(lab: spec.name, local: $0.name)) }
    }

    /// Analyzes `document`, refuses it with every problem if it has any, then builds the lab.
    public func create(name: String, document: JSON) throws -> JSONObject {
        try lock.withLock {
            guard labs[name] == nil else { throw ControlPlaneError.nameTaken(kind: "lab", name: name) }
            let analysis = try analyzed(document)
            let members = LabMember.members(of: document)
            try checkGlobalNames(members, lab: name)
            var spec = LabSpec(name: name, document: document)
            spec.createdAt = Clock.rfc3339(Clock.wallSeconds())
            try store.saveLab(spec)
            labs[name] = spec
            membership.set(LabManager.globalNames(spec), lab: name)
            events.publish("lab.applying", ["lab": JSON(name), "done": 0, "total": JSON(members.count)])
            failures[name] = apply(LabPlanner.plan(from: [], to: members), members: members, lab: name)
            let failed = failures[name] ?? []
            events.publish(failed.isEmpty ? "lab.ready" : "lab.degraded",
                           ["lab": JSON(name), "failed": JSON(failed.compactMap { $0["member"] })])
            var reply = view(spec)
            reply["warnings"] = JSON(analysis.warnings.map { JSON.object($0.json) })
            return reply
        }
    }

    /// What creating lab `name` from `document` would do, without doing it: the analysis and the ordered steps.
    public func plan(name: String, document: JSON) throws -> JSONObject {
        let analysis = try analyzed(document)
        let steps = LabPlanner.plan(from: [], to: LabMember.members(of: document))
        return ["name": JSON(name), "steps": JSON(steps.map { JSON.object($0.json(lab: name)) }),
                "warnings": JSON(analysis.warnings.map { JSON.object($0.json) })]
    }

    /// The document's analysis; a document with any error is refused with all of them.
    private func analyzed(_ document: JSON) throws -> LabAnalysis {
        let analysis = LabAnalyzer.analyze(document, vocabulary: vocabulary)
        guard analysis.errors.isEmpty else { throw ControlPlaneError.invalidTopology(problems: analysis.errors) }
        return analysis
    }

    public func list() -> [JSONObject] { lock.withLock { labs.keys.sorted().map { view(labs[$0]!) } } }

    public func get(_ name: String) throws -> JSONObject {
        try lock.withLock {
            guard let spec = labs[name] else { throw ControlPlaneError.notFound(kind: "lab", name: name) }
            return view(spec)
        }
    }

    /// Deletes every member (stacks and cables, then switches), then the lab.
    public func delete(_ name: String) throws {
        try lock.withLock {
            guard let spec = labs[name] else { throw ControlPlaneError.notFound(kind: "lab", name: name) }
            events.publish("lab.deleting", ["lab": JSON(name)])
            let members = LabMember.members(of: spec.document)
            _ = apply(LabPlanner.plan(from: members, to: []), members: members, lab: name)
            try store.deleteLab(name)
            membership.set(LabManager.globalNames(spec), lab: nil)
            labs[name] = nil
            failures[name] = nil
            events.publish("lab.deleted", ["lab": JSON(name)])
        }
    }

    // MARK: carrying out a plan

    /// A member whose global name is taken by something outside this lab would be silently adopted: refuse.
    private func checkGlobalNames(_ members: [LabMember], lab: String) throws {
        let existing: [LabMember.Kind: Set<String>] = [.switch: Set(switches.names), .cable: Set(cables.names), .stack: Set(stacks.names)]
        for member in members {
            let global = LabNames.global(lab: lab, local: member.name)
            if existing[member.kind]?.contains(global) == true { throw ControlPlaneError.nameTaken(kind: member.kind.rawValue, name: global) }
        }
    }

    /// Does each step; returns the failures (`{member, message}`) and carries on past them.
    private func apply(_ steps: [LabStep], members: [LabMember], lab: String) -> [JSONObject] {
        let byKey = Dictionary(members.map { ("\($0.kind.rawValue) \($0.name)", $0) }, uniquingKeysWith: { first, _ in first })
        var failed: [JSONObject] = []
        for (done, step) in steps.enumerated() {
            let global = LabNames.global(lab: lab, local: step.name)
            do {
                switch (step.action, step.kind) {
                case (.create, _):
                    guard let member = byKey["\(step.kind.rawValue) \(step.name)"] else { continue }
                    try create(member, lab: lab)
                case (.delete, .switch): try switches.delete(global)
                case (.delete, .cable): try cables.delete(global)
                case (.delete, .stack): try stacks.delete(global)
                case (.change, _), (.rebuild, _):
                    // Only whole builds and deletions exist until documents can be changed (PUT).
                    continue
                }
            } catch ControlPlaneError.notFound where step.action == .delete {
                // Already gone (deleted through its noun with force): nothing to do.
            } catch {
                log.warning("lab step failed", [("lab", lab), ("member", global), ("error", String(describing: error))])
                failed.append(["member": JSON(step.name), "kind": JSON(step.kind.rawValue), "message": JSON(String(describing: error))])
            }
            if step.action == .create {
                events.publish("lab.applying", ["lab": JSON(lab), "done": JSON(done + 1), "total": JSON(steps.count)])
            }
        }
        return failed
    }

    private func create(_ member: LabMember, lab: String) throws {
        let body = JSON.object(LabNames.nounBody(member, lab: lab))
        let global = LabNames.global(lab: lab, local: member.name)
        switch member.kind {
        case .switch:
            _ = try switches.create(try SwitchSpec(body: body))
            for vlan in member.body["vlans"]?.arrayValue ?? [] {
                guard let vid = vlan["vid"]?.integerValue else { continue }
                let ports = { (key: String) in (vlan[key]?.arrayValue ?? []).compactMap(\.integerValue) }
                try switches.createVLAN(global, vid, untagged: ports("untagged"), tagged: ports("tagged"))
            }
        case .cable:
            _ = try cables.create(try CableSpec(body: body))
        case .stack:
            _ = try stacks.create(try StackSpec(body: body))
            for command in member.body["startup"]?.arrayValue ?? [] {
                let argv = (command["argv"]?.arrayValue ?? []).compactMap(\.stringValue)
                let result = try stacks.exec(global, argv: argv, stdin: [], environment: [:],
                                             timeoutSeconds: command["timeout_s"]?.doubleValue ?? 30)
                if result["exit_code"] != 0 {
                    throw ControlPlaneError.unprocessable(code: "unprocessable",
                        message: "startup command \(argv.joined(separator: " ")) ended with \(result["exit_code"]?.text() ?? "?"): "
                            + (result["stderr"]?.stringValue ?? ""))
                }
            }
        }
    }

    // MARK: views

    /// The lab with each member's state; `ready` when every member runs, `degraded` when one does not.
    private func view(_ spec: LabSpec) -> JSONObject {
        var members: [JSON] = []
        var allRunning = true
        for member in LabMember.members(of: spec.document) {
            let global = LabNames.global(lab: spec.name, local: member.name)
            let observed: JSONObject?
            switch member.kind {
            case .switch: observed = try? switches.get(global)
            case .cable: observed = try? cables.get(global)
            case .stack: observed = try? stacks.get(global)
            }
            // A stack is as up as its interfaces' plugs.
            let state = member.kind == .stack
                ? observed.map { view in
                    (view["interfaces"]?.arrayValue ?? []).compactMap { $0["state"]?.stringValue }.first { $0 != "running" } ?? "running"
                } ?? "missing"
                : observed?["state"]?.stringValue ?? "missing"
            if !["running", "up"].contains(state) { allRunning = false }
            var item: JSONObject = ["kind": JSON(member.kind.rawValue), "name": JSON(member.name), "global_name": JSON(global),
                                    "state": JSON(state)]
            if member.kind == .switch {
                item["plug_url"] = observed?["plug_url"] ?? .null
                item["qemu_nic"] = observed?["qemu_nic"] ?? .null
            }
            members.append(.object(item))
        }
        let failed = failures[spec.name] ?? []
        return ["name": JSON(spec.name), "description": spec.document["description"] ?? "", "labels": spec.document["labels"] ?? [:],
                "state": JSON(failed.isEmpty && allRunning ? "ready" : "degraded"), "generation": JSON(spec.generation),
                "topology": spec.document, "members": .array(members), "failures": JSON(failed.map(JSON.object)),
                "created_at": JSON(spec.createdAt)]
    }
}
