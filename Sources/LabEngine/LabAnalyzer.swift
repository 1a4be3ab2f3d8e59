// LabAnalyzer: every problem of a topology document at once. Each member's body goes through its
// noun's own validator (MemberVocabulary); then how the members fit together is checked: names,
// references, ports, VLANs, addresses and routes. Pure: a document in, problems out.
//
// The document: {description?, labels?, hosts?, switches: [...], cables: [...], stacks: [...], checks: [...]}
// (checks: LabCheck; hosts: LabHosts). A member is
// its noun's create body plus `labels` (any member), `vlans` (a switch: [{vid, untagged, tagged}]),
// `startup` (a stack: [{argv, timeout_s?}]), `host` (a switch or stack) and `encapsulation` (a
// cable between hosts), which only a lab knows.
import JSON
import Posix

public struct LabAnalysis: Sendable {
    public let problems: [LabProblem]
    /// The facts of every member that passed its noun's validator, by kind and name.
    public let switches: [SwitchFacts]
    public let cables: [CableFacts]
    public let stacks: [StackFacts]
    /// The graded checks the document declares (those without problems).
    public let checks: [LabCheck]
    /// The hosts the lab spreads over (none: all on this one) and where each switch and stack runs
    /// ("switch NAME" / "stack NAME" → host).
    public let hosts: [LabHost]
    public let placement: [String: String]

    public var errors: [LabProblem] { problems.filter { $0.severity == .error } }
    public var warnings: [LabProblem] { problems.filter { $0.severity == .warning } }

    public init(problems: [LabProblem], switches: [SwitchFacts], cables: [CableFacts], stacks: [StackFacts], checks: [LabCheck] = [],
                hosts: [LabHost] = [], placement: [String: String] = [:]) {
        self.problems = problems
        self.switches = switches
        self.cables = cables
        self.stacks = stacks
        self.checks = checks
        self.hosts = hosts
        self.placement = placement
    }
}

public enum LabAnalyzer {
    static let documentKeys: Set<String> = ["description", "labels", "hosts", "switches", "cables", "stacks", "checks"]
    /// Fields of a member that belong to the lab, not to its noun's body.
    static let labFields: [String: Set<String>] = ["switches": ["labels", "vlans", "stp_ports", "host"], "cables": ["labels", "encapsulation", "host"],
                                                   "stacks": ["labels", "startup", "host"]]

    public static func analyze(_ document: JSON, vocabulary: some MemberVocabulary) -> LabAnalysis {
        var problems: [LabProblem] = []
        func error(_ pointer: String, _ code: String, _ message: String) { problems.append(LabProblem(.error, pointer, code, message)) }
        func warning(_ pointer: String, _ code: String, _ message: String) { problems.append(LabProblem(.warning, pointer, code, message)) }

        guard let top = document.objectValue else {
            error("", "not_an_object", "a topology document is an object with switches, cables and stacks")
            return LabAnalysis(problems: problems, switches: [], cables: [], stacks: [])
        }
        for key in top.keys where !documentKeys.contains(key) {
            error("/" + JSONPointer.token(key), "unknown_field", "`\(key)` is not part of a topology document (\(documentKeys.sorted().joined(separator: ", ")))")
        }
        if let description = top["description"], description.stringValue == nil {
            error("/description", "invalid_field", "the description must be a string")
        }
        checkLabels(top["labels"], at: "/labels", error)

        // Each member through its noun's validator; the lab's own fields are taken out first.
        var switches: [(facts: SwitchFacts, index: Int, vlans: [Int: (untagged: [Int], tagged: [Int])], treePorts: [(port: Int, pointer: String)])] = []
        var cables: [(facts: CableFacts, index: Int)] = []
        var stacks: [(facts: StackFacts, index: Int)] = []
        for kind in ["switches", "cables", "stacks"] {
            guard let list = top[kind] else { continue }
            guard let items = list.arrayValue else {
                error("/\(kind)", "invalid_field", "`\(kind)` must be a list of members")
                continue
            }
            var seen: [String: Int] = [:]
            for (index, item) in items.enumerated() {
                let at = "/\(kind)/\(index)"
                guard var body = item.objectValue else {
                    error(at, "invalid_field", "a member must be an object with a name")
                    continue
                }
                if let name = body["name"]?.stringValue {
                    if let first = seen[name] {
                        error(at + "/name", "duplicate_name", "\(kind.dropLast(kind == "switches" ? 2 : 1)) \(name) is already declared at /\(kind)/\(first)")
                    } else {
                        seen[name] = index
                    }
                }
                checkLabels(body["labels"], at: at + "/labels", error)
                var vlans: [Int: (untagged: [Int], tagged: [Int])] = [:]
                if kind == "switches", let declared = body["vlans"] {
                    vlans = readVLANs(declared, at: at + "/vlans", error)
                }
                var treePorts: [(port: Int, pointer: String)] = []
                if kind == "switches", let declared = body["stp_ports"] {
                    treePorts = readSpanningTreePorts(declared, at: at + "/stp_ports", error)
                }
                if kind == "stacks", let startup = body["startup"] { checkStartup(startup, at: at + "/startup", error) }
                for field in labFields[kind] ?? [] { body[field] = nil }
                do throws(MemberRefusal) {
                    switch kind {
                    case "switches": switches.append((try vocabulary.switchFacts(.object(body)), index, vlans, treePorts))
                    case "cables": cables.append((try vocabulary.cableFacts(.object(body)), index))
                    default: stacks.append((try vocabulary.stackFacts(.object(body)), index))
                    }
                } catch {
                    problems.append(LabProblem(.error, LabProblem.pointer(at, field: error.field), error.code, error.message))
                }
            }
        }

        // References, ports and VLANs.
        let switchByName = Dictionary(switches.map { ($0.facts.name, $0) }, uniquingKeysWith: { first, _ in first })
        var plugged: [String: [Int: String]] = [:]   // switch → port → where it is used
        var attached: Set<String> = []
        func plug(_ switchName: String, _ port: Int?, at pointer: String) -> Bool {
            guard let target = switchByName[switchName] else {
                error(pointer + "/switch", "unknown_switch", "there is no switch \(switchName) in this lab")
                return false
            }
            attached.insert(switchName)
            guard let port else { return true }
            guard port <= target.facts.ports else {
                error(pointer + "/port", "port_out_of_range", "switch \(switchName) has ports 1 to \(target.facts.ports)")
                return false
            }
            if let other = plugged[switchName]?[port] {
                error(pointer + "/port", "port_in_use", "port \(port) of \(switchName) is already used by \(other)")
                return false
            }
            plugged[switchName, default: [:]][port] = pointer
            return true
        }
        for (name, entry) in switchByName {
            for (vid, members) in entry.vlans {
                for port in members.untagged + members.tagged where port > entry.facts.ports {
                    error("/switches/\(entry.index)/vlans", "port_out_of_range", "VLAN \(vid) names port \(port); switch \(name) has ports 1 to \(entry.facts.ports)")
                }
            }
            for (port, pointer) in entry.treePorts where port > entry.facts.ports {
                error(pointer, "port_out_of_range", "switch \(name) has ports 1 to \(entry.facts.ports)")
            }
        }
        // L2 domains: switches joined by cables share their VLANs' broadcast domains.
        var domain: [String: String] = Dictionary(uniqueKeysWithValues: switchByName.keys.map { ($0, $0) })
        func root(_ name: String) -> String {
            var current = name
            while let parent = domain[current], parent != current { current = parent }
            return current
        }
        for (cable, index) in cables {
            let at = "/cables/\(index)"
            if let a = cable.a.switchName, let b = cable.b.switchName, a == b {
                error(at + "/b/switch", "self_cable", "cable \(cable.name) joins switch \(a) to itself")
            }
            let aOK = cable.a.switchName.map { plug($0, cable.a.port, at: at + "/a") } ?? false
            let bOK = cable.b.switchName.map { plug($0, cable.b.port, at: at + "/b") } ?? false
            if aOK && bOK, let a = cable.a.switchName, let b = cable.b.switchName { domain[root(a)] = root(b) }
        }
        // Addresses by (domain, VLAN), to find duplicates and mixed subnets.
        var segments: [String: [(address: IPPrefix, pointer: String, stack: String)]] = [:]
        for (stack, index) in stacks {
            let at = "/stacks/\(index)"
            if stack.interfaces.isEmpty {
                warning(at + "/interfaces", "no_interfaces", "stack \(stack.name) has no interface: it reaches nothing")
            }
            var reachable: [IPPrefix] = []
            var anyDHCP = false
            for (number, interface) in stack.interfaces.enumerated() {
                let pointer = "\(at)/interfaces/\(number)"
                guard plug(interface.switchName, interface.port, at: pointer) else { continue }
                let vlan = interface.vlan ?? 1
                if vlan != 1, switchByName[interface.switchName]?.vlans[vlan] == nil {
                    error(pointer + "/vlan", "vlan_not_on_switch", "switch \(interface.switchName) does not carry VLAN \(vlan); declare it in its vlans")
                }
                anyDHCP = anyDHCP || interface.dhcp
                for (position, text) in interface.addresses.enumerated() {
                    guard let prefix = IPPrefix(text) else { continue }
                    reachable.append(prefix)
                    segments["\(root(interface.switchName)) \(vlan)", default: []].append((prefix, "\(pointer)/addresses/\(position)", stack.name))
                }
            }
            for (number, route) in stack.routes.enumerated() where !anyDHCP {
                guard let via = IPPrefix(route.via + (route.via.contains(":") ? "/128" : "/32")) else { continue }
                if !reachable.contains(where: { contains($0, via) }) {
                    error("\(at)/routes/\(number)/via", "unreachable_gateway",
                          "no interface of \(stack.name) is on a subnet that holds the gateway \(route.via)")
                }
            }
        }
        for (_, members) in segments.sorted(by: { $0.key < $1.key }) {
            var byAddress: [String: String] = [:]
            for member in members {
                if let first = byAddress[member.address.addressText] {
                    error(member.pointer, "duplicate_address", "\(member.address.addressText) is also given at \(first), on the same VLAN")
                } else {
                    byAddress[member.address.addressText] = member.pointer
                }
            }
            let v4 = members.filter { !$0.address.isIPv6 }
            if let first = v4.first, let other = v4.first(where: { !sameSubnet($0.address, first.address) }) {
                warning(other.pointer, "mixed_subnets",
                        "\(other.stack) (\(other.address)) and \(first.stack) (\(first.address)) share a VLAN but not a subnet")
            }
        }
        for (name, entry) in switchByName.sorted(by: { $0.key < $1.key }) where !attached.contains(name) {
            warning("/switches/\(entry.index)", "empty_switch", "nothing is plugged into switch \(name)")
        }
        let checks = top["checks"].map { LabCheck.read($0, stacks: stacks.map(\.facts), error, warning) } ?? []
        let hosts = LabHosts.read(document, error)
        let placement = LabHosts.placement(LabMember.members(of: document), hosts: hosts, error)
        problems.sort { ($0.severity == .error ? 0 : 1, $0.pointer) < ($1.severity == .error ? 0 : 1, $1.pointer) }
        return LabAnalysis(problems: problems, switches: switches.map(\.facts), cables: cables.map(\.facts), stacks: stacks.map(\.facts),
                           checks: checks, hosts: hosts, placement: placement)
    }

    static func checkLabels(_ labels: JSON?, at pointer: String, _ error: (String, String, String) -> Void) {
        guard let labels else { return }
        guard let object = labels.objectValue else { return error(pointer, "invalid_field", "labels are an object of strings") }
        for (key, value) in object where value.stringValue == nil {
            error(pointer + "/" + JSONPointer.token(key), "invalid_field", "label \(key) must be a string")
        }
    }

    static func readVLANs(_ value: JSON, at pointer: String, _ error: (String, String, String) -> Void) -> [Int: (untagged: [Int], tagged: [Int])] {
        guard let items = value.arrayValue else {
            error(pointer, "invalid_field", "vlans is a list of {vid, untagged, tagged}")
            return [:]
        }
        var vlans: [Int: (untagged: [Int], tagged: [Int])] = [:]
        for (index, item) in items.enumerated() {
            let at = "\(pointer)/\(index)"
            guard let vid = item["vid"]?.integerValue else {
                error(at + "/vid", "invalid_field", "a VLAN needs a vid")
                continue
            }
            guard (1...4094).contains(vid) else {
                error(at + "/vid", "vlan_out_of_range", "a VLAN id is 1 to 4094, not \(vid)")
                continue
            }
            if vlans[vid] != nil { error(at + "/vid", "duplicate_vlan", "VLAN \(vid) is declared twice") }
            var lists: [[Int]] = []
            for key in ["untagged", "tagged"] {
                guard let ports = item[key] else { lists.append([]); continue }
                let numbers = ports.arrayValue?.compactMap(\.integerValue) ?? []
                if ports.arrayValue == nil || numbers.count != ports.arrayValue?.count || numbers.contains(where: { $0 < 1 }) {
                    error("\(at)/\(key)", "invalid_field", "\(key) is a list of port numbers")
                }
                lists.append(numbers)
            }
            if let unknown = item.objectValue?.keys.first(where: { !["vid", "untagged", "tagged"].contains($0) }) {
                error("\(at)/\(JSONPointer.token(unknown))", "unknown_field", "a VLAN has vid, untagged and tagged")
            }
            vlans[vid] = (lists[0], lists[1])
        }
        return vlans
    }

    /// `stp_ports`: [{port, path_cost, priority, edge}], the settings a port PATCH's `stp` takes, by port.
    static func readSpanningTreePorts(_ value: JSON, at pointer: String, _ error: (String, String, String) -> Void) -> [(port: Int, pointer: String)] {
        let shape = "stp_ports is a list of {port, path_cost, priority, edge}"
        guard let items = value.arrayValue else {
            error(pointer, "invalid_field", shape)
            return []
        }
        var ports: [(port: Int, pointer: String)] = []
        for (index, item) in items.enumerated() {
            let at = "\(pointer)/\(index)"
            guard let object = item.objectValue else {
                error(at, "invalid_field", shape)
                continue
            }
            for key in object.keys where !["port", "path_cost", "priority", "edge"].contains(key) {
                error("\(at)/\(JSONPointer.token(key))", "unknown_field", "a port's spanning tree settings are port, path_cost, priority and edge")
            }
            if let cost = object["path_cost"], !(cost.integerValue.map { (1...200_000_000).contains($0) } ?? false) {
                error(at + "/path_cost", "invalid_field", "a path cost is 1 to 200000000")
            }
            if let priority = object["priority"], !(priority.integerValue.map { (0...240).contains($0) && $0 % 16 == 0 } ?? false) {
                error(at + "/priority", "invalid_field", "a port priority is a multiple of 16 from 0 to 240")
            }
            if let edge = object["edge"], edge != .null, edge.boolValue == nil {
                error(at + "/edge", "invalid_field", "edge is true, false or null (auto)")
            }
            guard let port = object["port"]?.integerValue, port >= 1 else {
                error(at + "/port", "invalid_field", "a port number from 1 (port 0 takes no part in the spanning tree)")
                continue
            }
            if ports.contains(where: { $0.port == port }) {
                error(at + "/port", "duplicate_port", "port \(port) is given twice")
            }
            ports.append((port, at + "/port"))
        }
        return ports
    }

    static func checkStartup(_ value: JSON, at pointer: String, _ error: (String, String, String) -> Void) {
        guard let items = value.arrayValue else { return error(pointer, "invalid_field", "startup is a list of {argv, timeout_s}") }
        for (index, item) in items.enumerated() {
            let at = "\(pointer)/\(index)"
            guard let argv = item["argv"]?.arrayValue, !argv.isEmpty, argv.allSatisfy({ $0.stringValue != nil }) else {
                error(at + "/argv", "invalid_field", "a startup command has argv: a program and its arguments, as strings")
                continue
            }
            if let timeout = item["timeout_s"], !(timeout.doubleValue.map { (0.1...3600).contains($0) } ?? false) {
                error(at + "/timeout_s", "invalid_field", "timeout_s is 0.1 to 3600 seconds")
            }
        }
    }

    static func contains(_ network: IPPrefix, _ host: IPPrefix) -> Bool {
        guard network.isIPv6 == host.isIPv6 else { return false }
        if let a = network.ipv4Host(0), let b = IPPrefix(host.addressText + "/\(network.length)")?.ipv4Host(0) { return a == b }
        return IPPrefix(host.addressText + "/\(network.length)")?.ipv6Network == network.ipv6Network
    }

    static func sameSubnet(_ a: IPPrefix, _ b: IPPrefix) -> Bool { a.length == b.length && contains(a, b) }
}
