// LabHosts: a lab spread over several vsquared hosts. The document names them (`hosts: {NAME:
// {api?, address}}`, the one without `api` being the coordinator that received the document) and
// places switches and stacks with `host: NAME`. A switch without `host` stays on the coordinator; a
// stack without one goes where its switches are. Each host is given its share: its own members,
// and for each cable between switches on two hosts one half on either side, joined by a VXLAN
// tunnel (or TCP when the cable asks, `encapsulation: tcp`) whose network and port clash with
// nothing either host already uses. Pure: a document, the tunnels already in place and the ports
// each host holds in, shares out.
import JSON
import Posix

public struct LabHost: Equatable, Sendable {
    public let name: String
    /// The peer's public HTTP API; nil for the coordinator.
    public let api: String?
    /// The address the other hosts' tunnels reach this one at.
    public let address: String

    public init(name: String, api: String?, address: String) {
        self.name = name
        self.api = api
        self.address = address
    }

    public var isCoordinator: Bool { api == nil }
}

/// How one cable between two hosts is carried.
public struct LabTunnel: Equatable, Sendable {
    public enum Encapsulation: String, Sendable, CaseIterable {
        case vxlan
        case tcp
    }

    public let cable: String
    public let encapsulation: Encapsulation
    /// The host of end a's switch and of end b's.
    public let hostA: String
    public let hostB: String
    /// VXLAN network (0 for TCP).
    public let vni: Int
    /// The UDP port on both hosts (VXLAN), or the TCP port end a's host listens on.
    public let port: Int
    /// TCP: the pre-shared key (64 hex digits) both halves use.
    public let key: String?

    public init(cable: String, encapsulation: Encapsulation, hostA: String, hostB: String, vni: Int, port: Int, key: String?) {
        self.cable = cable
        self.encapsulation = encapsulation
        self.hostA = hostA
        self.hostB = hostB
        self.vni = vni
        self.port = port
        self.key = key
    }
}

public enum LabHosts {
    /// Fields of `hosts` entries.
    static let hostKeys: Set<String> = ["api", "address"]

    /// The document's `hosts`, with a problem for each broken entry (none declared: one host, the coordinator).
    public static func read(_ document: JSON, _ error: (String, String, String) -> Void) -> [LabHost] {
        guard let declared = document["hosts"] else { return [] }
        guard let object = declared.objectValue else {
            error("/hosts", "invalid_field", "hosts is an object: {NAME: {api, address}}")
            return []
        }
        var hosts: [LabHost] = []
        for (name, entry) in object {
            let at = "/hosts/" + JSONPointer.token(name)
            guard ResourceName.isValid(name) else {
                error(at, "invalid_field", "a host's name must be \(ResourceName.rule)")
                continue
            }
            guard let fields = entry.objectValue else {
                error(at, "invalid_field", "a host is {api, address}")
                continue
            }
            for key in fields.keys where !hostKeys.contains(key) {
                error(at + "/" + JSONPointer.token(key), "unknown_field", "a host has api and address")
            }
            let api = fields["api"]?.stringValue
            if fields["api"] != nil, api.map({ !($0.hasPrefix("http://") || $0.hasPrefix("https://")) || $0.utf8.count < 8 }) ?? true {
                error(at + "/api", "invalid_field", "api is the peer's URL, like http://10.0.0.2:8420")
                continue
            }
            guard let address = fields["address"]?.stringValue, SocketAddress.parse4(address) != nil || SocketAddress.parse6(address) != nil else {
                error(at + "/address", "invalid_field", "address is the numeric IPv4 or IPv6 address other hosts reach this one at")
                continue
            }
            hosts.append(LabHost(name: name, api: api, address: address))
        }
        let coordinators = hosts.filter(\.isCoordinator)
        if !hosts.isEmpty && coordinators.count != 1 {
            error("/hosts", "coordinator", coordinators.isEmpty
                  ? "one host has no api: the vsquared that receives this document (the others are its peers)"
                  : "only one host may leave out api (the coordinator); \(coordinators.map(\.name).sorted().joined(separator: ", ")) do")
        }
        return hosts
    }

    /// Where each switch and stack runs, by kind and name: its `host`, a stack's switches' host, or
    /// the coordinator. Problems: an unknown host, a stack whose interfaces span hosts, a stack
    /// placed away from its switches, an encapsulation that is not vxlan or tcp.
    public static func placement(_ members: [LabMember], hosts: [LabHost], _ error: (String, String, String) -> Void) -> [String: String] {
        let coordinator = hosts.first(where: \.isCoordinator)?.name ?? ""
        let known = Set(hosts.map(\.name))
        var placed: [String: String] = [:]
        var index: [LabMember.Kind: Int] = [:]
        func declared(_ member: LabMember, at pointer: String) -> String? {
            guard let value = member.body["host"] else { return nil }
            guard let name = value.stringValue, known.contains(name) else {
                error(pointer + "/host", "unknown_host", known.isEmpty ? "this document declares no hosts; `host` needs them"
                                                                     : "there is no host \(value.stringValue ?? value.text()) in hosts (\(known.sorted().joined(separator: ", ")))")
                return nil
            }
            return name
        }
        for member in members {
            let position = index[member.kind, default: 0]
            index[member.kind] = position + 1
            let at = "/\(member.kind.listName)/\(position)"
            switch member.kind {
            case .switch:
                placed[key(member)] = declared(member, at: at) ?? coordinator
            case .cable:
                if member.body["host"] != nil {
                    error(at + "/host", "unknown_field", "a cable goes where its switches are; place its switches instead")
                }
                if let value = member.body["encapsulation"], value.stringValue.flatMap(LabTunnel.Encapsulation.init(rawValue:)) == nil {
                    error(at + "/encapsulation", "invalid_field", "encapsulation between hosts is vxlan (the default) or tcp")
                }
            case .stack:
                let switchHosts = Set(member.switchesUsed.compactMap { placed["switch " + $0] })
                let host = declared(member, at: at)
                if switchHosts.count > 1 {
                    error(at + "/interfaces", "host_mismatch", "stack \(member.name) plugs into switches on hosts \(switchHosts.sorted().joined(separator: " and ")); a stack's interfaces are on one host")
                } else if let host, let switchHost = switchHosts.first, host != switchHost {
                    error(at + "/host", "host_mismatch", "stack \(member.name) is placed on \(host) but its switches are on \(switchHost)")
                }
                placed[key(member)] = host ?? switchHosts.first ?? coordinator
            }
        }
        return placed
    }

    static func key(_ member: LabMember) -> String { "\(member.kind.rawValue) \(member.name)" }

    /// The tunnel each cable between hosts needs: the one it has (`existing`, kept so a re-apply
    /// rebuilds nothing) or a new one, with a VNI unique in the lab and the lowest port from 4789 up
    /// that neither of its hosts holds (`taken`, by host) nor is given to another tunnel here.
    /// `key(cable)` draws a TCP cable's pre-shared key (the caller's randomness).
    public static func tunnels(_ members: [LabMember], placement: [String: String], lab: String, existing: [LabTunnel],
                               taken: [String: Set<Int>], key: (String) -> String) -> [LabTunnel] {
        var used = taken
        var vnis = Set<Int>()
        var result: [LabTunnel] = []
        let kept = Dictionary(existing.map { ($0.cable, $0) }, uniquingKeysWith: { first, _ in first })
        let crossing = members.filter { $0.kind == .cable }.compactMap { cable -> (LabMember, String, String, LabTunnel.Encapsulation)? in
            guard let a = cable.body["a"]?["switch"]?.stringValue, let b = cable.body["b"]?["switch"]?.stringValue,
                  let hostA = placement["switch " + a], let hostB = placement["switch " + b], hostA != hostB else { return nil }
            let encapsulation = cable.body["encapsulation"]?.stringValue.flatMap(LabTunnel.Encapsulation.init(rawValue:)) ?? .vxlan
            return (cable, hostA, hostB, encapsulation)
        }
        // Tunnels that still fit keep their numbers (and hold them before any new one is chosen).
        var pending: [(LabMember, String, String, LabTunnel.Encapsulation)] = []
        for entry in crossing {
            let (cable, hostA, hostB, encapsulation) = entry
            if let old = kept[cable.name], old.hostA == hostA, old.hostB == hostB, old.encapsulation == encapsulation {
                result.append(old)
                vnis.insert(old.vni)
                used[hostA, default: []].insert(old.port)
                used[hostB, default: []].insert(old.port)
            } else {
                pending.append(entry)
            }
        }
        for (cable, hostA, hostB, encapsulation) in pending {
            var port = 4789
            while used[hostA, default: []].contains(port) || used[hostB, default: []].contains(port) { port += 1 }
            used[hostA, default: []].insert(port)
            used[hostB, default: []].insert(port)
            var vni = 0
            if encapsulation == .vxlan {
                // Stable for a name, so the same document gives the same networks; probed past clashes.
                vni = Int(StableHash.fnv1a("\(lab)/\(cable.name)") % 16_000_000) + 1
                while vnis.contains(vni) { vni = vni % 16_000_000 + 1 }
                vnis.insert(vni)
            }
            result.append(LabTunnel(cable: cable.name, encapsulation: encapsulation, hostA: hostA, hostB: hostB, vni: vni, port: port,
                                    key: encapsulation == .tcp ? key(cable.name) : nil))
        }
        return result.sorted { $0.cable < $1.cable }
    }

    /// Each host's share: a topology document of its own members (without `host` and
    /// `encapsulation`), each cable between hosts split into two halves named like the cable, end
    /// a's half carrying a→b's impairments out and end b's half carrying b→a's.
    public static func shares(_ members: [LabMember], hosts: [LabHost], placement: [String: String], tunnels: [LabTunnel]) -> [String: [LabMember]] {
        let address = Dictionary(hosts.map { ($0.name, $0.address) }, uniquingKeysWith: { first, _ in first })
        let tunnelOf = Dictionary(tunnels.map { ($0.cable, $0) }, uniquingKeysWith: { first, _ in first })
        var shares: [String: [LabMember]] = Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, []) })
        for member in members {
            var body = member.body
            body["host"] = nil
            body["encapsulation"] = nil
            guard member.kind == .cable, let tunnel = tunnelOf[member.name] else {
                let host = member.kind == .cable
                    ? member.body["a"]?["switch"]?.stringValue.flatMap { placement["switch " + $0] }
                    : placement[key(member)]
                shares[host ?? hosts.first(where: \.isCoordinator)?.name ?? "", default: []].append(LabMember(kind: member.kind, name: member.name, body: body))
                continue
            }
            for side in ["a", "b"] {
                let near = side == "a" ? tunnel.hostA : tunnel.hostB
                let far = side == "a" ? tunnel.hostB : tunnel.hostA
                var half = body
                half["a"] = body[side]
                half["impairments"] = direction(body["impairments"], side == "a" ? "a_to_b" : "b_to_a").map { JSON.object(["a_to_b": .object($0)]) }
                if side == "b", let seed = body["seed"]?.integerValue { half["seed"] = JSON(seed + 1) }
                switch tunnel.encapsulation {
                case .vxlan:
                    half["b"] = ["vxlan": ["remote": JSON(address[far] ?? ""), "vni": JSON(tunnel.vni), "port": JSON(tunnel.port)]]
                case .tcp:
                    let listening = side == "a"
                    let host = address[listening ? near : far] ?? ""
                    let hostPort = (host.contains(":") ? "[\(host)]" : host) + ":\(tunnel.port)"
                    half["b"] = ["remote": [listening ? "listen" : "connect": JSON(hostPort), "key": JSON(tunnel.key ?? "")]]
                }
                shares[near, default: []].append(LabMember(kind: .cable, name: member.name, body: half))
            }
        }
        return shares
    }

    /// The impairments one direction of a cable has: the fields given for both, then its own.
    static func direction(_ impairments: JSON?, _ key: String) -> JSONObject? {
        guard let all = impairments?.objectValue else { return nil }
        var merged = JSONObject()
        for (field, value) in all where field != "a_to_b" && field != "b_to_a" { merged[field] = value }
        for (field, value) in all[key]?.objectValue ?? JSONObject() { merged[field] = value }
        return merged.isEmpty ? nil : merged
    }
}

/// A document cut into its hosts' shares.
public struct LabSplit: Equatable, Sendable {
    /// The declared hosts (none: the lab is all on this vsquared).
    public let hosts: [LabHost]
    /// The coordinator's name ("" when no hosts are declared).
    public let coordinator: String
    /// Where each switch and stack runs, by `"kind name"`.
    public let placement: [String: String]
    /// Each host's members, the coordinator's included (under "" when no hosts are declared).
    public let shares: [String: [LabMember]]

    /// What the coordinator builds itself.
    public var local: [LabMember] { shares[coordinator] ?? [] }
    /// The other hosts, by name.
    public var peers: [LabHost] { hosts.filter { !$0.isCoordinator }.sorted { $0.name < $1.name } }
}

extension LabHosts {
    /// Cuts an analyzed document into shares, with `tunnels` (from `tunnels(of:…)`) for its cables between hosts.
    public static func split(_ document: JSON, tunnels: [LabTunnel]) -> LabSplit {
        let members = LabMember.members(of: document)
        let hosts = read(document) { _, _, _ in }
        guard !hosts.isEmpty else { return LabSplit(hosts: [], coordinator: "", placement: [:], shares: ["": members]) }
        let placement = placement(members, hosts: hosts) { _, _, _ in }
        return LabSplit(hosts: hosts, coordinator: hosts.first(where: \.isCoordinator)?.name ?? "", placement: placement,
                        shares: shares(members, hosts: hosts, placement: placement, tunnels: tunnels))
    }

    /// The tunnels an analyzed document's cables between hosts need (see `tunnels(_:placement:…)`).
    public static func tunnels(of document: JSON, lab: String, existing: [LabTunnel], taken: [String: Set<Int>],
                               key: (String) -> String) -> [LabTunnel] {
        let members = LabMember.members(of: document)
        let hosts = read(document) { _, _, _ in }
        guard !hosts.isEmpty else { return [] }
        return tunnels(members, placement: placement(members, hosts: hosts) { _, _, _ in }, lab: lab, existing: existing,
                       taken: taken, key: key)
    }
}

extension LabTunnel {
    public var json: JSON {
        ["cable": JSON(cable), "encapsulation": JSON(encapsulation.rawValue), "hosts": [JSON(hostA), JSON(hostB)],
         "vni": JSON(vni), "port": JSON(port), "key": JSON(key)]
    }

    /// The tunnel as a lab's view shows it (no key): how the cable crosses between its hosts, and why that way.
    public var publicJSON: JSONObject {
        ["encapsulation": JSON(encapsulation.rawValue), "hosts": [JSON(hostA), JSON(hostB)], "vni": encapsulation == .vxlan ? JSON(vni) : .null,
         "port": JSON(port),
         "why": JSON(encapsulation == .vxlan
            ? "its switches are on hosts \(hostA) and \(hostB): VXLAN (RFC 7348) over UDP, the default between hosts"
            : "the document asks for TCP (encapsulation: tcp), for a path through NAT or a firewall; \(hostA) listens, encrypted")]
    }

    /// What `json` wrote.
    public init?(json: JSON) {
        guard let cable = json["cable"]?.stringValue,
              let encapsulation = json["encapsulation"]?.stringValue.flatMap(Encapsulation.init(rawValue:)),
              let hosts = json["hosts"]?.arrayValue?.compactMap(\.stringValue), hosts.count == 2,
              let vni = json["vni"]?.intValue, let port = json["port"]?.intValue else { return nil }
        self.init(cable: cable, encapsulation: encapsulation, hostA: hosts[0], hostB: hosts[1], vni: vni, port: port,
                  key: json["key"]?.stringValue)
    }
}
