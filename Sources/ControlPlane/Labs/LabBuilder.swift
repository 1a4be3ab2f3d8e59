// LabBuilder: carries out a lab plan's steps through the ordinary nouns, layer by layer (removals
// of stacks and cables, removals of switches, switches, then cables and stacks), the steps of one
// layer concurrently. Every step is safe to repeat, so a plan cut short (vsquared died, a step
// failed) can be finished or undone by planning again: a create finds its member already there, a
// delete finds it gone, a change sets what is already set.
import JSON
import LabEngine
import Log
import Posix
import SwitchEngine

final class LabBuilder: Sendable {
    let switches: SwitchManager
    let cables: CableManager
    let stacks: StackManager
    let log: Log
    /// Steps of one layer run at once: most of a step's time is spent waiting for a process.
    static let width = 8

    init(switches: SwitchManager, cables: CableManager, stacks: StackManager, log: Log) {
        self.switches = switches
        self.cables = cables
        self.stacks = stacks
        self.log = log
    }

    /// Does every step of `steps` not in `skip`, with the bodies `target` declares; `finished` is
    /// told each step's index as it ends (with its error, if it failed). Failures do not stop the others.
    func carryOut(_ steps: [LabStep], target: [LabMember], lab: String, skip: Set<Int> = [],
                  finished: @escaping @Sendable (Int, String?) -> Void) {
        let bodies = Dictionary(target.map { ("\($0.kind.rawValue) \($0.name)", $0) }, uniquingKeysWith: { first, _ in first })
        let indices = steps.indices.filter { !skip.contains($0) }
        let layers: [[Int]] = [
            indices.filter { steps[$0].action == .delete && steps[$0].kind != .switch },
            indices.filter { steps[$0].action == .delete && steps[$0].kind == .switch },
            indices.filter { steps[$0].action != .delete && steps[$0].kind == .switch },
            indices.filter { steps[$0].action != .delete && steps[$0].kind != .switch },
        ]
        for var layer in layers where !layer.isEmpty {
            // Stacks going away go together: their plugs are stopped at once, not one after another.
            let leaving = layer.filter { steps[$0].action == .delete && steps[$0].kind == .stack }
            if leaving.count > 1 {
                let names = leaving.map { LabNames.global(lab: lab, local: steps[$0].name) }.filter { exists(.stack, $0) }
                do {
                    try stacks.delete(names)
                    leaving.forEach { finished($0, nil) }
                    layer.removeAll { leaving.contains($0) }
                } catch {
                    log.warning("lab stacks could not be deleted together", [("lab", lab), ("error", String(describing: error))])
                }
            }
            Thread.concurrently(layer.count, width: LabBuilder.width) { [self, layer] position in
                let step = steps[layer[position]]
                let member = bodies["\(step.kind.rawValue) \(step.name)"]
                do {
                    try carryOut(step, member, lab: lab)
                    finished(layer[position], nil)
                } catch {
                    log.warning("lab step failed", [("lab", lab), ("step", "\(step.action.rawValue) \(step.kind.rawValue) \(step.name)"),
                                                    ("error", String(describing: error))])
                    finished(layer[position], String(describing: error))
                }
            }
        }
    }

    private func carryOut(_ step: LabStep, _ member: LabMember?, lab: String) throws {
        let global = LabNames.global(lab: lab, local: step.name)
        switch step.action {
        case .delete:
            try delete(step.kind, global)
        case .create:
            guard let member else { return }
            // Made before vsquared stopped (or before a failed apply was undone), perhaps part-way:
            // a switch gets its VLANs again, a stack is made again (its startup may not have run).
            if exists(step.kind, global) {
                switch step.kind {
                case .switch:
                    try setVLANs(member, global)
                    try setSpanningTreePorts(member, global)
                case .cable: break
                case .stack:
                    try delete(.stack, global)
                    try create(member, lab: lab)
                }
                return
            }
            try create(member, lab: lab)
        case .rebuild:
            guard let member else { return }
            try delete(step.kind, global)
            try create(member, lab: lab)
        case .change:
            guard let member else { return }
            try change(member, step.changes, lab: lab)
        }
    }

    /// Whether the member exists (no worker is asked).
    func exists(_ kind: LabMember.Kind, _ global: String) -> Bool {
        switch kind {
        case .switch: switches.contains(global)
        case .cable: cables.contains(global)
        case .stack: stacks.contains(global)
        }
    }

    /// `running` when the member is up (every worker serves, every interface is plugged in), nil when it does not exist.
    func readiness(_ kind: LabMember.Kind, _ global: String) -> String? {
        switch kind {
        case .switch: switches.readiness(global)
        case .cable: cables.readiness(global)
        case .stack: stacks.readiness(global)
        }
    }

    /// Deletes a member; one already gone is fine.
    private func delete(_ kind: LabMember.Kind, _ global: String) throws {
        do {
            switch kind {
            case .switch: try switches.delete(global)
            case .cable: try cables.delete(global)
            case .stack: try stacks.delete(global)
            }
        } catch ControlPlaneError.notFound {}
    }

    func create(_ member: LabMember, lab: String) throws {
        let body = JSON.object(LabNames.nounBody(member, lab: lab))
        let global = LabNames.global(lab: lab, local: member.name)
        switch member.kind {
        case .switch:
            _ = try switches.create(try SwitchSpec(body: body))
            try setVLANs(member, global)
            try setSpanningTreePorts(member, global)
        case .cable:
            _ = try cables.create(try CableSpec(body: body))
        case .stack:
            try stacks.add(try StackSpec(body: body))
            try runStartup(member, global)
        }
    }

    /// The stack's startup commands, in order; one that fails (or outlasts its timeout) fails the stack.
    func runStartup(_ member: LabMember, _ global: String) throws {
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

    /// Makes the switch carry exactly the document's VLANs (1 is every switch's own). The ports the
    /// document's `vlans` name are as it says; any other port keeps its VLAN (a stack interface's
    /// `vlan` is set on its port when the stack is made).
    private func setVLANs(_ member: LabMember, _ global: String) throws {
        let vlans = member.body["vlans"]?.arrayValue ?? []
        func ports(_ vlan: JSON, _ key: String) -> [Int] { (vlan[key]?.arrayValue ?? []).compactMap(\.integerValue) }
        let named = Set(vlans.flatMap { ports($0, "untagged") + ports($0, "tagged") })
        var declared: Set<Int> = []
        for vlan in vlans {
            guard let vid = vlan["vid"]?.integerValue else { continue }
            declared.insert(vid)
            if try switches.spec(global).vlans.contains(VLANID(vid)) {
                let current = try switches.vlan(global, vid)
                let kept = { (key: String) in ports(current, key).filter { !named.contains($0) } }
                try switches.setVLAN(global, vid, untagged: ports(vlan, "untagged") + kept("untagged"),
                                     tagged: ports(vlan, "tagged") + kept("tagged"))
            } else {
                try switches.createVLAN(global, vid, untagged: ports(vlan, "untagged"), tagged: ports(vlan, "tagged"))
            }
        }
        for vid in try switches.spec(global).vlans.map(Int.init) where vid != 1 && !declared.contains(vid) {
            try switches.deleteVLAN(global, vid)
        }
    }

    /// Gives each port the spanning tree settings the document's `stp_ports` names, and every other
    /// port the defaults, so a port dropped from the list is as if never named.
    private func setSpanningTreePorts(_ member: LabMember, _ global: String) throws {
        var named: [Int: PortSpanningTreeSettings] = [:]
        for entry in member.body["stp_ports"]?.arrayValue ?? [] {
            guard let port = entry["port"]?.integerValue else { continue }
            named[port] = PortSpanningTreeSettings(json: entry)
        }
        let spec = try switches.spec(global)
        for port in 1..<spec.ports + 1 {
            let wanted = SpanningTreePortChange(named[port] ?? PortSpanningTreeSettings())
            guard wanted != SpanningTreePortChange(spec.setting(of: port).spanningTree) else { continue }
            try switches.setPort(global, port, PortChange(), spanningTree: wanted)
        }
    }

    /// A switch or cable in place, as the document says, with nothing learned and nothing counted:
    /// its live fields (and a switch's VLANs) as declared, a switch's MAC table flushed, counters zeroed.
    func reset(_ member: LabMember, lab: String) throws {
        let global = LabNames.global(lab: lab, local: member.name)
        let everything = member.body.map { FieldChange(field: $0.key, old: nil, new: $0.value) }
            + ["vlans", "stp_ports"].map { FieldChange(field: $0, old: nil, new: nil) }
        try change(member, everything, lab: lab)
        switch member.kind {
        case .switch:
            _ = try switches.ask(global, "macs.flush")
            _ = try switches.ask(global, "counters.reset")
        case .cable:
            _ = try cables.ask(global, "counters.reset")
        case .stack:
            break
        }
    }

    /// What the member's noun can change live, set to what the document now says.
    private func change(_ member: LabMember, _ changes: [FieldChange], lab: String) throws {
        let body = JSON.object(LabNames.nounBody(member, lab: lab))
        let global = LabNames.global(lab: lab, local: member.name)
        switch member.kind {
        case .switch:
            let wanted = try SwitchSpec(body: body)
            _ = try switches.update(global) { spec in
                spec.description = wanted.description
                spec.hub = wanted.hub
                spec.macAgingSeconds = wanted.macAgingSeconds
                spec.spanningTree = wanted.spanningTree
                spec.multicast = wanted.multicast
            }
            if changes.contains(where: { $0.field == "vlans" }) { try setVLANs(member, global) }
            if changes.contains(where: { $0.field == "stp_ports" }) { try setSpanningTreePorts(member, global) }
        case .cable:
            let wanted = try CableSpec(body: body)
            _ = try cables.update(global) { spec in
                spec.description = wanted.description
                spec.aToB = wanted.aToB
                spec.bToA = wanted.bToA
                spec.cut = wanted.cut
            }
        case .stack:
            let wanted = try StackSpec(body: body)
            _ = try stacks.update(global) { spec in
                spec.routes = wanted.routes
                spec.forwarding = wanted.forwarding
                spec.hostForwards = wanted.hostForwards
            }
        }
    }
}
