// IGMP and MLD snooping (RFC 4541) for one switch: which ports want which group, per VLAN, learned
// from the reports and leaves that cross it, and which ports lead to a querier or multicast router,
// learned from the queries. Entries age out when nobody answers; a leave shortens its port's entry to
// the last-member time (and, when this switch is the querier, asks the group once). As the querier of
// the VLANs that have none it sends general queries. Pure: time passed in, frames out as bytes.

public struct MulticastSnoopingConfiguration: Equatable, Sendable {
    /// Send general queries on the snooped VLANs that hear no other querier.
    public var querier = false
    public var queryIntervalSeconds: Double = 125
    /// The VLANs snooped; nil: every VLAN.
    public var vlans: Set<VLANID>?
    public static let robustness = 2.0
    public static let lastMemberSeconds = 2.0

    public init(querier: Bool = false, queryIntervalSeconds: Double = 125, vlans: Set<VLANID>? = nil) {
        self.querier = querier
        self.queryIntervalSeconds = queryIntervalSeconds
        self.vlans = vlans
    }

    /// The longest a host may wait to answer (RFC 3376 8.3: shorter than the interval).
    public var queryResponseSeconds: Double { min(10, queryIntervalSeconds / 2) }
    /// How long a report keeps its port in the group (RFC 3376 8.4).
    public var membershipSeconds: Double { MulticastSnoopingConfiguration.robustness * queryIntervalSeconds + queryResponseSeconds }
    /// How long another querier, once heard, is taken to be there (RFC 3376 8.5).
    public var otherQuerierSeconds: Double { MulticastSnoopingConfiguration.robustness * queryIntervalSeconds + queryResponseSeconds / 2 }

    /// Why these settings cannot run, if they cannot.
    public var problem: String? {
        (1...3600).contains(queryIntervalSeconds) ? nil : "query_interval_s is 1 to 3600"
    }
}

/// A group on a VLAN.
public struct MulticastGroupKey: Hashable, Sendable {
    public var vlan: VLANID
    public var group: MulticastGroup

    public init(vlan: VLANID, group: MulticastGroup) {
        self.vlan = vlan
        self.group = group
    }
}

public struct MulticastSnoopingCounters: Equatable, Sendable {
    public var reports: UInt64 = 0
    public var leaves: UInt64 = 0
    public var queriesHeard: UInt64 = 0
    public var queriesSent: UInt64 = 0
    /// IGMP or MLD messages whose checksum was wrong (dropped, learned from never).
    public var badChecksum: UInt64 = 0
    /// Multicast IP packets shorter than their headers say (dropped).
    public var malformed: UInt64 = 0
}

public struct MulticastSnooping: Sendable {
    public internal(set) var configuration: MulticastSnoopingConfiguration
    /// The bridge's address: the source of its queries, and its querier tie-break.
    public let address: MACAddress
    /// Per group, each member port and when it stops being one (monotonic ns).
    public private(set) var members: [MulticastGroupKey: [Int: UInt64]] = [:]
    /// Per VLAN, the ports a query came in on (towards a querier or multicast router), and until when.
    public private(set) var routerPorts: [VLANID: [Int: UInt64]] = [:]
    /// Per VLAN and family (true: IGMP), until when another querier is taken to be there.
    public private(set) var otherQueriers: [VLANID: [Bool: UInt64]] = [:]
    public internal(set) var counters = MulticastSnoopingCounters()
    /// When the querier sends next (0: at the next tick), and how many startup queries are left.
    private var nextQuery: UInt64 = 0
    private var startupQueries = 2
    /// Queries to send, with the VLAN each goes out on.
    private var transmissions: [(vlan: VLANID, frame: [UInt8])] = []

    public init(address: MACAddress, configuration: MulticastSnoopingConfiguration) {
        self.address = address
        self.configuration = configuration
    }

    static func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(seconds * 1e9) }

    public func snoops(_ vlan: VLANID) -> Bool { configuration.vlans?.contains(vlan) ?? true }

    /// Whether someone asks the VLAN's hosts for their groups (this switch or another querier):
    /// only then can a group nobody joined be kept from ports that did not ask for it.
    public func hasQuerier(_ vlan: VLANID, now: UInt64) -> Bool {
        configuration.querier || (otherQueriers[vlan]?.values.contains { $0 > now } ?? false)
    }

    mutating func setConfiguration(_ configuration: MulticastSnoopingConfiguration) {
        if configuration.querier && !self.configuration.querier || configuration.queryIntervalSeconds != self.configuration.queryIntervalSeconds {
            nextQuery = 0
            startupQueries = 2
        }
        self.configuration = configuration
        members = members.filter { snoops($0.key.vlan) }
    }

    /// Learns from a control message that came in on `port` (from `source`, its Ethernet source);
    /// true when the group or router tables changed.
    mutating func heard(_ message: MulticastMessage, vlan: VLANID, port: Int, source: MACAddress, now: UInt64) -> Bool {
        switch message {
        case .query(let group, let ipv4, let querier):
            counters.queriesHeard += 1
            let until = now + MulticastSnooping.nanoseconds(configuration.otherQuerierSeconds)
            let isNew = routerPorts[vlan]?[port] == nil
            routerPorts[vlan, default: [:]][port] = until
            // Another querier is left to ask, unless it is one of our kind (0.0.0.0 or link-local) with a higher MAC.
            let ours = querier.isIPv4 ? querier == MulticastGroup(ipv4: 0) : querier.high >> 48 == 0xFE80
            if !ours || source < address { otherQueriers[vlan, default: [:]][ipv4] = until }
            if let group, let ports = members[MulticastGroupKey(vlan: vlan, group: group)] {
                // A group query: its members have the last-member time to answer.
                let soon = now + MulticastSnooping.nanoseconds(MulticastSnoopingConfiguration.lastMemberSeconds)
                members[MulticastGroupKey(vlan: vlan, group: group)] = ports.mapValues { min($0, soon) }
            }
            return isNew
        case .report(let joined, let left):
            counters.reports += 1
            var changed = false
            let until = now + MulticastSnooping.nanoseconds(configuration.membershipSeconds)
            for group in joined where !group.isLinkLocalControl {
                let key = MulticastGroupKey(vlan: vlan, group: group)
                if members[key]?[port] == nil { changed = true }
                members[key, default: [:]][port] = until
            }
            for group in left { leave(group, vlan: vlan, port: port, now: now) }
            return changed
        case .leave(let group):
            counters.leaves += 1
            leave(group, vlan: vlan, port: port, now: now)
            return false
        case .data:
            return false
        }
    }

    /// The port stays a member for the last-member time, long enough for another host behind it to answer.
    private mutating func leave(_ group: MulticastGroup, vlan: VLANID, port: Int, now: UInt64) {
        let key = MulticastGroupKey(vlan: vlan, group: group)
        guard let until = members[key]?[port] else { return }
        members[key]![port] = min(until, now + MulticastSnooping.nanoseconds(MulticastSnoopingConfiguration.lastMemberSeconds))
        if configuration.querier && !hasOtherQuerier(vlan, ipv4: group.isIPv4, now: now) {
            transmissions.append((vlan, query(group: group, ipv4: group.isIPv4, response: 1)))
        }
    }

    private func hasOtherQuerier(_ vlan: VLANID, ipv4: Bool, now: UInt64) -> Bool { (otherQueriers[vlan]?[ipv4] ?? 0) > now }

    private mutating func query(group: MulticastGroup?, ipv4: Bool, response: Double) -> [UInt8] {
        counters.queriesSent += 1
        return ipv4
            ? MulticastMessage.igmpQuery(group: group, from: address, maxResponseSeconds: response, queryIntervalSeconds: configuration.queryIntervalSeconds)
            : MulticastMessage.mldQuery(group: group, from: address, maxResponseSeconds: response, queryIntervalSeconds: configuration.queryIntervalSeconds)
    }

    /// Ages entries out and, as the querier, sends the general queries that are due on `vlans`
    /// (the switch's VLANs); true when the group or router tables changed.
    mutating func tick(now: UInt64, vlans: Set<VLANID>) -> Bool {
        var changed = false
        for (key, ports) in members {
            let kept = ports.filter { $0.value > now }
            if kept.count != ports.count {
                changed = true
                members[key] = kept.isEmpty ? nil : kept
            }
        }
        for (vlan, ports) in routerPorts {
            let kept = ports.filter { $0.value > now }
            if kept.count != ports.count {
                changed = true
                routerPorts[vlan] = kept.isEmpty ? nil : kept
            }
        }
        otherQueriers = otherQueriers.compactMapValues { families in
            let kept = families.filter { $0.value > now }
            return kept.isEmpty ? nil : kept
        }
        if configuration.querier && now >= nextQuery {
            for vlan in vlans.sorted() where snoops(vlan) {
                for ipv4 in [true, false] where !hasOtherQuerier(vlan, ipv4: ipv4, now: now) {
                    transmissions.append((vlan, query(group: nil, ipv4: ipv4, response: configuration.queryResponseSeconds)))
                }
            }
            // Startup queries come at a quarter of the interval (RFC 3376 8.6), then one each interval.
            let interval = startupQueries > 0 ? configuration.queryIntervalSeconds / 4 : configuration.queryIntervalSeconds
            startupQueries = max(0, startupQueries - 1)
            nextQuery = now + MulticastSnooping.nanoseconds(interval)
        }
        return changed
    }

    /// Ports that are members of `key`'s group now.
    func memberPorts(_ key: MulticastGroupKey, now: UInt64) -> [Int] {
        (members[key] ?? [:]).filter { $0.value > now }.map(\.key)
    }

    func routerPortList(_ vlan: VLANID, now: UInt64) -> [Int] {
        (routerPorts[vlan] ?? [:]).filter { $0.value > now }.map(\.key)
    }

    /// A port that left or went away is no member and no router port any more.
    mutating func forget(port: Int) -> Bool {
        var changed = false
        for key in Array(members.keys) where members[key]?[port] != nil {
            changed = true
            members[key]![port] = nil
            if members[key]!.isEmpty { members[key] = nil }
        }
        for (vlan, ports) in routerPorts where ports[port] != nil {
            changed = true
            routerPorts[vlan]![port] = nil
        }
        return changed
    }

    mutating func takeTransmissions() -> [(vlan: VLANID, frame: [UInt8])] {
        defer { transmissions.removeAll() }
        return transmissions
    }
}
