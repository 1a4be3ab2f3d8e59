// Configuration changes to a SwitchEngine: ports (enabled, VLANs, allocatable, plugged in or not),
// VLANs (create, delete, membership) and switch settings. Each change validates first and changes
// nothing on error; MAC entries that a change invalidates are flushed.

/// Why a configuration change was refused. `code` is the stable error code clients see.
public enum SwitchEngineError: Error, Equatable, Sendable, CustomStringConvertible {
    case noSuchPort(Int)
    case noSuchVLAN(VLANID)
    case vlanExists(VLANID)
    case vlanInUse(VLANID, ports: [Int])
    case invalidVLAN(Int)
    case invalid(String)

    public var code: String {
        switch self {
        case .noSuchPort, .noSuchVLAN: return "not_found"
        case .vlanExists: return "vlan_exists"
        case .vlanInUse: return "vlan_in_use"
        case .invalidVLAN, .invalid: return "invalid_field"
        }
    }

    public var description: String {
        switch self {
        case .noSuchPort(let port): return "port \(port) does not exist"
        case .noSuchVLAN(let vlan): return "VLAN \(vlan) does not exist"
        case .vlanExists(let vlan): return "VLAN \(vlan) already exists"
        case .vlanInUse(let vlan, let ports): return "VLAN \(vlan) is in use by ports \(ports.map(String.init).joined(separator: ", "))"
        case .invalidVLAN(let vlan): return "VLAN \(vlan) is out of range: VLAN IDs run from 1 to 4094"
        case .invalid(let message): return message
        }
    }
}

/// A change to one port; nil fields stay as they are.
public struct PortChange: Equatable, Sendable {
    public var enabled: Bool?
    public var allocatable: Bool?
    /// `.some(nil)` removes the untagged VLAN.
    public var untaggedVLAN: VLANID??
    public var taggedVLANs: Set<VLANID>?

    public init(enabled: Bool? = nil, allocatable: Bool? = nil, untaggedVLAN: VLANID?? = nil, taggedVLANs: Set<VLANID>? = nil) {
        self.enabled = enabled
        self.allocatable = allocatable
        self.untaggedVLAN = untaggedVLAN
        self.taggedVLANs = taggedVLANs
    }
}

extension SwitchEngine {
    public static let vlanRange: ClosedRange<Int> = 1...4094

    func checkPort(_ port: Int) throws(SwitchEngineError) {
        guard ports.indices.contains(port) else { throw .noSuchPort(port) }
    }

    func checkVLANExists(_ vlan: VLANID) throws(SwitchEngineError) {
        guard vlans.contains(vlan) else { throw .noSuchVLAN(vlan) }
    }

    // MARK: ports

    /// Applies `change` to `port`. VLANs named must exist. Flushes the port's MACs if its VLANs changed.
    public mutating func setPort(_ port: Int, _ change: PortChange) throws(SwitchEngineError) {
        try checkPort(port)
        var state = ports[port]
        if let enabled = change.enabled { state.enabled = enabled }
        if let allocatable = change.allocatable { state.allocatable = allocatable }
        if let untagged = change.untaggedVLAN {
            if let vlan = untagged { try checkVLANExists(vlan) }
            state.untaggedVLAN = untagged
            if let vlan = untagged, change.taggedVLANs == nil { state.taggedVLANs.remove(vlan) }
        }
        if let tagged = change.taggedVLANs {
            for vlan in tagged.sorted() { try checkVLANExists(vlan) }
            if let untagged = state.untaggedVLAN, tagged.contains(untagged) {
                throw .invalid("port \(port) cannot carry VLAN \(untagged) both untagged and tagged")
            }
            state.taggedVLANs = tagged
        }
        let vlansChanged = state.untaggedVLAN != ports[port].untaggedVLAN || state.taggedVLANs != ports[port].taggedVLANs
        ports[port] = state
        if vlansChanged || change.enabled == false { macTable.flush(port: port) }
        rebuildFloodTable()
        if change.enabled != nil { spanningTreeLinkChanged(port, now: spanningTreeTime) }
    }

    /// Marks `port` plugged in or not. Unplugging flushes its MAC entries. `bridgeLink` says the client
    /// is a cable to another switch, so with edge on auto the spanning tree does not take it for an edge.
    public mutating func setActive(_ port: Int, _ active: Bool, bridgeLink: Bool = false) {
        guard ports.indices.contains(port), ports[port].active != active else { return }
        ports[port].active = active
        if active { portSpanningTree[port].bridgeLink = bridgeLink }
        ports[port].carrier = true
        if !active {
            macTable.flush(port: port)
            multicastPortWentAway(port)
        }
        rebuildFloodTable()
        spanningTreeLinkChanged(port, now: spanningTreeTime)
    }

    /// Carrier lost or back on a plugged port (a cable cut or restored): a lost carrier flushes the
    /// port's MACs and is a link down for the spanning tree, which then heals at once instead of
    /// waiting for the neighbour's BPDUs to age out.
    public mutating func setCarrier(_ port: Int, _ up: Bool) {
        guard ports.indices.contains(port), ports[port].carrier != up else { return }
        ports[port].carrier = up
        if !up { macTable.flush(port: port) }
        spanningTreeLinkChanged(port, now: spanningTreeTime)
    }

    /// Zeroes the counters of `port`, or of every port.
    public mutating func resetCounters(port: Int? = nil) {
        for index in ports.indices where port == nil || port == index { ports[index].counters = PortCounters() }
    }

    /// The lowest port ≥ 1 that is not plugged in and may be allocated automatically.
    public func freePort() -> Int? {
        ports.indices.dropFirst().first { !ports[$0].active && ports[$0].allocatable }
    }

    // MARK: VLANs

    public mutating func createVLAN(_ vlan: Int) throws(SwitchEngineError) {
        guard SwitchEngine.vlanRange.contains(vlan) else { throw .invalidVLAN(vlan) }
        guard !vlans.contains(VLANID(vlan)) else { throw .vlanExists(VLANID(vlan)) }
        vlans.insert(VLANID(vlan))
    }

    /// Deletes `vlan`; refused while any port carries it.
    public mutating func deleteVLAN(_ vlan: Int) throws(SwitchEngineError) {
        guard SwitchEngine.vlanRange.contains(vlan) else { throw .invalidVLAN(vlan) }
        let id = VLANID(vlan)
        try checkVLANExists(id)
        let users = members(of: id).map(\.port)
        guard users.isEmpty else { throw .vlanInUse(id, ports: users) }
        vlans.remove(id)
        macTable.flush(vlan: id)
    }

    /// Ports that carry `vlan` (plugged in or not), in port order.
    public func members(of vlan: VLANID) -> [FloodTarget] {
        ports.indices.compactMap { index in
            let membership = ports[index].membership(vlan)
            return membership.member ? FloodTarget(port: index, tagged: membership.tagged) : nil
        }
    }

    /// Makes exactly `untagged` and `tagged` the members of `vlan`. Ports that were untagged members
    /// and are not listed lose their untagged VLAN; listed untagged ports leave their old one.
    public mutating func setVLANMembers(_ vlan: Int, untagged: [Int], tagged: [Int]) throws(SwitchEngineError) {
        guard SwitchEngine.vlanRange.contains(vlan) else { throw .invalidVLAN(vlan) }
        let id = VLANID(vlan)
        try checkVLANExists(id)
        for port in untagged + tagged { try checkPort(port) }
        if let both = Set(untagged).intersection(tagged).min() {
            throw .invalid("port \(both) cannot carry VLAN \(vlan) both untagged and tagged")
        }
        var changed = Set<Int>()
        for index in ports.indices {
            var state = ports[index]
            if untagged.contains(index) {
                state.untaggedVLAN = id
                state.taggedVLANs.remove(id)
            } else if state.untaggedVLAN == id {
                state.untaggedVLAN = nil
            }
            if tagged.contains(index) { state.taggedVLANs.insert(id) } else { state.taggedVLANs.remove(id) }
            if state != ports[index] {
                ports[index] = state
                changed.insert(index)
            }
        }
        for port in changed { macTable.flush(port: port) }
        rebuildFloodTable()
    }

    // MARK: switch settings

    /// Changes hub mode, aging or the table bound. Turning hub mode on or off flushes the MAC table.
    public mutating func configure(_ change: (inout SwitchEngineConfiguration) -> Void) throws(SwitchEngineError) {
        var next = configuration
        change(&next)
        guard (1...1_000_000).contains(next.macAgingSeconds) else { throw .invalid("mac_aging_s must be between 1 and 1000000") }
        guard (SwitchEngine.paddedFrameSize...65535).contains(next.maxFrameSize) else {
            throw .invalid("max_frame_size must be between 60 and 65535")
        }
        guard next.macTableCapacity >= 1 else { throw .invalid("mac_table_capacity must be at least 1") }
        if next.hub != configuration.hub { macTable.flush(vlan: nil, port: nil) }
        setConfiguration(next)
    }
}
