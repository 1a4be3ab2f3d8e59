// SwitchEngine: the forwarding logic of one learning switch, with no I/O, no clock and no logging.
// The worker hands it each received frame with the time, and carries out the Decision it returns.
//
// Per frame: size check (under 14 dropped, over maxFrameSize dropped, under 60 padded), ingress
// port enabled, VLAN classification (802.1Q tag or the port's untagged VLAN; membership enforced),
// learning of the source, then unicast to the learned port or flood within the VLAN — never back
// out of the ingress port. Hub mode floods every frame to every enabled port, unchanged, without
// learning. Configuration changes (ports, VLANs) live in SwitchEngine+Configuration.swift.

public struct SwitchEngineConfiguration: Equatable, Sendable {
    public var hub = false
    /// Largest frame accepted, header included; 9216 lets jumbo frames through.
    public var maxFrameSize = 9216
    public var macAgingSeconds = 300
    public var macTableCapacity = 65536

    public init() {}
}

/// A MAC that changed port, for the `mac.moved` event.
public struct MACMove: Equatable, Sendable {
    public var mac: MACAddress
    public var vlan: VLANID
    public var from: Int
    public var to: Int

    public init(mac: MACAddress, vlan: VLANID, from: Int, to: Int) {
        self.mac = mac
        self.vlan = vlan
        self.from = from
        self.to = to
    }
}

public struct SwitchEngine: Sendable {
    public static let minimumFrameSize = 14
    public static let paddedFrameSize = 60

    public private(set) var configuration: SwitchEngineConfiguration
    /// Indexed by port number, 0...portCount (port 0 is the management port).
    public internal(set) var ports: [PortState]
    public internal(set) var vlans: Set<VLANID> = [1]
    public internal(set) var macTable: MACTable
    /// Moves since the caller last took them (`takeMoves()`).
    public private(set) var moves: [MACMove] = []
    /// Per VLAN, the active enabled member ports; rebuilt on every change that affects it.
    @usableFromInline private(set) var floodTable: [VLANID: [FloodTarget]] = [:]
    /// IGMP/MLD snooping, while it runs (see SwitchEngine+MulticastSnooping.swift).
    public internal(set) var multicastSnooping: MulticastSnooping?
    /// Per group, the ports its frames go to (snooping's answer, kept until something changes).
    var multicastTargets: [MulticastGroupKey: [FloodTarget]] = [:]
    /// The rapid spanning tree, while it runs (see SwitchEngine+SpanningTree.swift).
    public internal(set) var spanningTree: SpanningTree?
    /// Each port's spanning tree settings, kept while the tree is off.
    public internal(set) var portSpanningTree: [PortSpanningTreeSettings]
    /// The time of the last tick or BPDU, for link changes that come without one.
    var spanningTreeTime: UInt64 = 0
    @usableFromInline private(set) var hubTargets: [FloodTarget] = []

    /// A switch with ports 1...portCount (plus port 0), all on untagged VLAN 1.
    public init(portCount: Int, configuration: SwitchEngineConfiguration = SwitchEngineConfiguration()) {
        self.configuration = configuration
        ports = Array(repeating: PortState(), count: portCount + 1)
        portSpanningTree = Array(repeating: PortSpanningTreeSettings(), count: portCount + 1)
        macTable = MACTable(agingSeconds: configuration.macAgingSeconds, capacity: configuration.macTableCapacity)
    }

    /// The highest usable port number.
    public var portCount: Int { ports.count - 1 }

    // MARK: forwarding

    /// Decides what happens to a frame of `length` bytes in `frame` that arrived on `port` at `now`.
    /// `frame` must have room for at least 60 bytes: short frames are padded in place.
    /// With `learn` false nothing changes (counters included): that is a trace.
    public mutating func receive(_ frame: UnsafeMutableRawBufferPointer, length: Int, from port: Int, now: UInt64,
                                 learn: Bool = true) -> Decision {
        var length = length
        let untagged = FrameClass(vlan: 0, tci: nil)
        guard length >= SwitchEngine.minimumFrameSize else {
            if learn { ports[port].counters[drop: .undersize] += 1 }
            return Decision(forwarding: .drop(.undersize), frameClass: untagged, length: length)
        }
        guard length <= configuration.maxFrameSize else {
            if learn { ports[port].counters[drop: .oversize] += 1 }
            return Decision(forwarding: .drop(.oversize), frameClass: untagged, length: length)
        }
        if length < SwitchEngine.paddedFrameSize {
            for index in length..<SwitchEngine.paddedFrameSize { frame[index] = 0 }
            length = SwitchEngine.paddedFrameSize
        }
        guard ports[port].enabled else {
            if learn { ports[port].counters[drop: .disabled] += 1 }
            return Decision(forwarding: .drop(.disabled), frameClass: untagged, length: length)
        }
        if learn {
            ports[port].counters.rxFrames &+= 1
            ports[port].counters.rxBytes &+= UInt64(length)
        }
        let bytes = UnsafeRawBufferPointer(frame)
        if spanningTree != nil {
            // 01:80:C2:00:00:00 is the bridge's own (a BPDU); a port that is not forwarding passes nothing else.
            if bytes[0] == 0x01 && bytes[1] == 0x80 && bytes[2] == 0xC2 && bytes[3] == 0 && bytes[4] == 0 && bytes[5] == 0 {
                return Decision(forwarding: .bridge, frameClass: untagged, length: length)
            }
            if !ports[port].forwarding {
                if !ports[port].learning || configuration.hub { return dropBlocked(port, learn, length) }
            }
        }
        if configuration.hub {
            return Decision(forwarding: .flood, frameClass: untagged, length: length)
        }

        // VLAN classification.
        let frameClass: FrameClass
        if bytes[12] == 0x81 && bytes[13] == 0x00 && length >= 18 {
            let tci = UInt16(bytes[14]) << 8 | UInt16(bytes[15])
            let vid = tci & 0x0FFF
            if vid == 0 {
                guard let untaggedVLAN = ports[port].untaggedVLAN else { return dropVLAN(port, learn, length) }
                frameClass = FrameClass(vlan: untaggedVLAN, tci: tci)
            } else {
                guard ports[port].membership(vid).member else { return dropVLAN(port, learn, length) }
                frameClass = FrameClass(vlan: vid, tci: tci)
            }
        } else {
            guard let untaggedVLAN = ports[port].untaggedVLAN else { return dropVLAN(port, learn, length) }
            frameClass = FrameClass(vlan: untaggedVLAN, tci: nil)
        }

        let source = MACAddress(bytes, at: 6)
        if learn && !source.isGroup {
            switch macTable.learn(source, vlan: frameClass.vlan, port: port, now: now) {
            case .learned, .refreshed: break
            case .moved(let from): moves.append(MACMove(mac: source, vlan: frameClass.vlan, from: from, to: port))
            case .refused: ports[port].counters[drop: .tableFull] += 1
            }
        }

        // A learning port learns the source and forwards nothing.
        if !ports[port].forwarding { return dropBlocked(port, learn, length) }

        let destination = MACAddress(bytes, at: 0)
        if multicastSnooping != nil && destination.isGroup && destination != .broadcast {
            return snoop(bytes, length: length, from: port, frameClass: frameClass, now: now, learn: learn)
        }
        guard !destination.isGroup, let target = macTable.lookup(destination, vlan: frameClass.vlan, now: now) else {
            return Decision(forwarding: .flood, frameClass: frameClass, length: length)
        }
        if target == port {
            return Decision(forwarding: .filtered, frameClass: frameClass, length: length)
        }
        let membership = ports[target].membership(frameClass.vlan)
        guard ports[target].active, membership.member else {
            return Decision(forwarding: .flood, frameClass: frameClass, length: length)
        }
        guard ports[target].enabled else {
            if learn { ports[target].counters[drop: .disabled] += 1 }
            return Decision(forwarding: .drop(.disabled), frameClass: frameClass, length: length)
        }
        guard ports[target].forwarding else { return dropBlocked(port, learn, length) }
        return Decision(forwarding: .unicast(port: target, edit: frameClass.egress(tagged: membership.tagged)),
                        frameClass: frameClass, length: length)
    }

    private mutating func dropVLAN(_ port: Int, _ count: Bool, _ length: Int) -> Decision {
        if count { ports[port].counters[drop: .vlan] += 1 }
        return Decision(forwarding: .drop(.vlan), frameClass: FrameClass(vlan: 0, tci: nil), length: length)
    }

    private mutating func dropBlocked(_ port: Int, _ count: Bool, _ length: Int) -> Decision {
        if count { ports[port].counters[drop: .blocked] += 1 }
        return Decision(forwarding: .drop(.blocked), frameClass: FrameClass(vlan: 0, tci: nil), length: length)
    }

    /// The ports a flooded frame of `frameClass` goes to (the caller skips the ingress port).
    /// Inlinable: called opaquely from the worker, it would copy the whole engine for each frame.
    @inlinable
    public func floodTargets(for frameClass: FrameClass) -> [FloodTarget] {
        configuration.hub ? hubTargets : floodTable[frameClass.vlan] ?? []
    }

    /// The MAC moves recorded since the last call.
    public mutating func takeMoves() -> [MACMove] {
        defer { moves.removeAll(keepingCapacity: true) }
        return moves
    }

    // MARK: transmit accounting (the worker reports what it sent)

    @inline(__always)
    public mutating func recordTransmit(port: Int, bytes: Int) {
        ports[port].counters.txFrames &+= 1
        ports[port].counters.txBytes &+= UInt64(bytes)
    }

    @inline(__always)
    public mutating func recordDrop(port: Int, cause: DropCause, count: Int = 1) {
        ports[port].counters[drop: cause] &+= UInt64(count)
    }

    // MARK: MAC table

    /// Removes MAC entries matching both filters (nil matches all); returns how many.
    @discardableResult
    public mutating func flushMACs(vlan: VLANID? = nil, port: Int? = nil) -> Int {
        macTable.flush(vlan: vlan, port: port)
    }

    // MARK: aging

    /// Ages out old MAC entries; returns when to call again (monotonic ns), nil if the table is empty.
    public mutating func expire(now: UInt64) -> UInt64? { macTable.expire(now: now) }

    // MARK: flood table

    /// Rebuilds the per-VLAN flood lists; called after anything that changes membership or activity.
    mutating func rebuildFloodTable() {
        var table: [VLANID: [FloodTarget]] = [:]
        var hub: [FloodTarget] = []
        for (number, port) in ports.enumerated() where port.active && port.enabled && port.forwarding {
            hub.append(FloodTarget(port: number, tagged: false))
            if let untagged = port.untaggedVLAN { table[untagged, default: []].append(FloodTarget(port: number, tagged: false)) }
            for vlan in port.taggedVLANs { table[vlan, default: []].append(FloodTarget(port: number, tagged: true)) }
        }
        floodTable = table
        hubTargets = hub
        multicastTargets = [:]
    }

    mutating func setConfiguration(_ configuration: SwitchEngineConfiguration) {
        self.configuration = configuration
        macTable.agingNanoseconds = UInt64(configuration.macAgingSeconds) * 1_000_000_000
        macTable.capacity = configuration.macTableCapacity
        rebuildFloodTable()
    }
}

extension SwitchEngine {
    /// `receive` for a frame held in an array (tests, traces): the array is padded in place.
    public mutating func receive(_ frame: inout [UInt8], from port: Int, now: UInt64, learn: Bool = true) -> Decision {
        let original = frame.count
        if frame.count < SwitchEngine.paddedFrameSize {
            frame += [UInt8](repeating: 0, count: SwitchEngine.paddedFrameSize - frame.count)
        }
        let decision = frame.withUnsafeMutableBytes { receive($0, length: original, from: port, now: now, learn: learn) }
        frame.removeSubrange(min(decision.length, frame.count)...)
        return decision
    }
}
