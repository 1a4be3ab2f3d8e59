// SpanningTree: rapid spanning tree (IEEE 802.1D-2004 clause 17, 802.1w) for one bridge, with no
// I/O and no clock: the caller passes the time into every call and sends what `takeTransmissions()`
// returns. The standard's state machines are folded into one recomputation after every input:
//
// - roles: the root priority vector is the best of our own and each port's received designated
//   vector plus the port's path cost; its port is root; a port whose received vector beats the one
//   we would send is alternate (backup if it came from ourselves); the rest are designated.
// - states: alternate, backup and disabled ports discard; the root port forwards at once (every
//   designated port was synced to discarding when the root changed); a designated port forwards at
//   once when edge, on the downstream bridge's agreement to its proposal, or after two forward delays
//   (legacy neighbours, or no answer).
// - topology change: a non-edge port that starts forwarding flushes the other ports' MACs and sets
//   TC in our BPDUs for two hellos; a TC received is flushed and passed on the same way.
// - legacy: a port that hears configuration BPDUs (after the 3 s migration delay) speaks them back,
//   with TCN/TCA towards and from the root, and moves by forward delays only.

public struct SpanningTreeConfiguration: Equatable, Sendable {
    public var priority: UInt16 = 32768
    public var helloSeconds: Double = 2
    public var maxAgeSeconds: Double = 20
    public var forwardDelaySeconds: Double = 15

    public init() {}

    /// What is wrong with these timers, as the standard bounds them (17.14), or nil.
    public var problem: String? {
        if priority % 4096 != 0 { return "priority is a multiple of 4096 from 0 to 61440" }
        if !(1...10).contains(helloSeconds) { return "hello_s is 1 to 10 seconds" }
        if !(6...40).contains(maxAgeSeconds) { return "max_age_s is 6 to 40 seconds" }
        if !(4...30).contains(forwardDelaySeconds) { return "forward_delay_s is 4 to 30 seconds" }
        if maxAgeSeconds > 2 * (forwardDelaySeconds - 1) { return "max_age_s is at most 2 × (forward_delay_s − 1)" }
        if maxAgeSeconds < 2 * (helloSeconds + 1) { return "max_age_s is at least 2 × (hello_s + 1)" }
        return nil
    }
}

public enum PortForwardingState: String, Sendable, CaseIterable {
    case discarding, learning, forwarding
}

public struct SpanningTreePortCounters: Equatable, Sendable {
    public var bpdusIn: UInt64 = 0
    public var bpdusOut: UInt64 = 0
    /// BPDUs refused: short, not LLC, a wrong protocol identifier, an unknown type, or too old.
    public var malformed: UInt64 = 0
    public var forwardingTransitions: UInt64 = 0
}

public struct SpanningTreePort: Equatable, Sendable {
    public var pathCost: UInt32 = 20000
    /// 0 to 240 in steps of 16.
    public var priority: UInt8 = 128
    /// true or false as configured; nil (auto) is edge from link up until a BPDU arrives.
    public var adminEdge: Bool?

    public internal(set) var up = false
    public internal(set) var operEdge = false
    public internal(set) var role: PortRole = .disabled
    public internal(set) var state: PortForwardingState = .discarding
    /// Whether the neighbour speaks RSTP (false once only legacy configuration BPDUs are heard).
    public internal(set) var rapid = true
    public internal(set) var counters = SpanningTreePortCounters()
    /// The designated vector last heard on this port, and its timers.
    public internal(set) var received: PriorityVector?
    var receivedTimes = BPDUTimes(messageAge: 0, maxAge: 20, helloTime: 2, forwardDelay: 15)
    var infoExpires: UInt64 = 0
    var migrateUntil: UInt64 = 0
    var heardLegacy = false
    var heardRapid = false
    var agreed = false
    var agree = false
    var nextTransition: UInt64?
    var tcUntil: UInt64 = 0
    /// Until then a TC heard on this port is the one already counted (it is still flushed and passed on).
    var topologyChangeHeardUntil: UInt64 = 0
    var acknowledgeTCN = false
    var sendTCN = false
    var newInfo = false
    var nextHello: UInt64 = 0
    var transmitWindow: UInt64 = 0
    var transmitsInWindow = 0

    public init() {}

    public var isEdge: Bool { operEdge }
}

public enum SpanningTreeEvent: Equatable, Sendable {
    /// A port's role or state changed.
    case portRole(port: Int, role: PortRole, state: PortForwardingState)
    /// A topology change was detected on `port` (`received` false) or heard on it.
    case topologyChange(port: Int, received: Bool)
}

public struct SpanningTree: Sendable {
    static let nanosecondsPerSecond: Double = 1e9
    static let migrateNanoseconds: UInt64 = 3_000_000_000
    static let transmitHoldCount = 6

    public private(set) var configuration: SpanningTreeConfiguration
    public let address: MACAddress
    public private(set) var bridgeID: BridgeID
    /// Indexed by port number like the switch's ports (port 0 is never used).
    public internal(set) var ports: [SpanningTreePort]
    public private(set) var rootVector: PriorityVector
    public private(set) var rootPort: Int?
    private var rootTimes: BPDUTimes
    public private(set) var topologyChanges: UInt64 = 0
    /// When the last topology change was detected or heard (monotonic ns).
    public private(set) var lastTopologyChange: UInt64?
    /// As root, we set TC in our configuration BPDUs until then after a legacy TCN.
    private var rootTopologyChangeUntil: UInt64 = 0

    private var transmissions: [(port: Int, frame: [UInt8])] = []
    private var events: [SpanningTreeEvent] = []
    /// Ports whose learned MACs must go, since the caller last took them.
    private var flushes: Set<Int> = []

    public init(address: MACAddress, portCount: Int, configuration: SpanningTreeConfiguration = SpanningTreeConfiguration()) {
        self.address = address
        self.configuration = configuration
        bridgeID = BridgeID(priority: configuration.priority, address: address)
        ports = Array(repeating: SpanningTreePort(), count: portCount + 1)
        rootVector = PriorityVector(root: bridgeID, rootPathCost: 0, designatedBridge: bridgeID, designatedPort: PortID(raw: 0))
        rootTimes = SpanningTree.ownTimes(configuration)
    }

    private static func ownTimes(_ configuration: SpanningTreeConfiguration) -> BPDUTimes {
        BPDUTimes(messageAge: 0, maxAge: configuration.maxAgeSeconds, helloTime: configuration.helloSeconds,
                  forwardDelay: configuration.forwardDelaySeconds)
    }

    public var isRoot: Bool { rootPort == nil }
    public var rootPathCost: UInt32 { rootVector.rootPathCost }

    public func portID(_ port: Int) -> PortID { PortID(priority: ports[port].priority, number: port) }

    // MARK: inputs

    public mutating func setConfiguration(_ configuration: SpanningTreeConfiguration, now: UInt64) {
        self.configuration = configuration
        bridgeID = BridgeID(priority: configuration.priority, address: address)
        for port in ports.indices { ports[port].newInfo = true }
        recompute(now: now)
    }

    /// Changes a port's cost, priority or edge setting; a changed cost or priority is a new vector to send.
    public mutating func configurePort(_ port: Int, pathCost: UInt32? = nil, priority: UInt8? = nil, adminEdge: Bool?? = nil, now: UInt64) {
        if let pathCost { ports[port].pathCost = max(1, pathCost) }
        if let priority { ports[port].priority = priority & 0xF0 }
        if let adminEdge {
            ports[port].adminEdge = adminEdge
            if ports[port].up { ports[port].operEdge = adminEdge ?? ports[port].operEdge }
        }
        ports[port].newInfo = true
        recompute(now: now)
    }

    /// A port's link came up (a client plugged in and the port is enabled) or went down.
    /// `autoEdge` is what an auto edge setting means for what was plugged in.
    public mutating func setLink(_ port: Int, up: Bool, autoEdge: Bool = true, now: UInt64) {
        guard ports.indices.contains(port), port > 0, ports[port].up != up else { return }
        var state = ports[port]
        state.up = up
        state.received = nil
        state.agreed = false
        state.agree = false
        state.nextTransition = nil
        state.tcUntil = 0
        state.sendTCN = false
        state.topologyChangeHeardUntil = 0
        state.rapid = true
        state.heardLegacy = false
        state.heardRapid = false
        state.operEdge = up ? (state.adminEdge ?? autoEdge) : false
        state.migrateUntil = now + SpanningTree.migrateNanoseconds
        state.newInfo = up
        state.nextHello = now
        ports[port] = state
        recompute(now: now)
    }

    /// A frame sent to the bridge group address arrived on `port`. Refused BPDUs are counted.
    public mutating func receive(frame bytes: UnsafeRawBufferPointer, length: Int, port: Int, now: UInt64) {
        guard ports.indices.contains(port), ports[port].up else { return }
        let bpdu: BPDU
        do {
            bpdu = try BPDU.parse(frame: bytes, length: length)
        } catch {
            ports[port].counters.malformed += 1
            return
        }
        if bpdu.kind != .topologyChangeNotification, bpdu.times.messageAge >= bpdu.times.maxAge {
            ports[port].counters.malformed += 1
            return
        }
        ports[port].counters.bpdusIn += 1
        receive(bpdu, port: port, now: now)
    }

    public mutating func receive(_ bpdu: BPDU, port: Int, now: UInt64) {
        var state = ports[port]
        // A BPDU means a bridge is there: the port is not an edge any more.
        state.operEdge = false
        if bpdu.kind == .rapid { state.heardRapid = true } else { state.heardLegacy = true }
        ports[port] = state
        migrate(port, now: now)

        switch bpdu.kind {
        case .topologyChangeNotification:
            // Only a designated port answers a TCN: with TCA in its next configuration BPDU.
            if ports[port].role == .designated {
                ports[port].acknowledgeTCN = true
                ports[port].newInfo = true
                topologyChangeHeard(on: port, now: now)
            }
        case .configuration, .rapid:
            let designatedInfo = bpdu.kind == .configuration || bpdu.role == .designated
            if designatedInfo {
                // Our own BPDU come back on the port that sent it says nothing about the network.
                if bpdu.vector.designatedBridge == bridgeID && bpdu.vector.designatedPort == portID(port) { break }
                if ports[port].received != bpdu.vector {
                    ports[port].agree = false
                }
                ports[port].received = bpdu.vector
                ports[port].receivedTimes = bpdu.times
                let lifetime = bpdu.kind == .rapid
                    ? 3 * max(bpdu.times.helloTime, 1)
                    : bpdu.times.maxAge - bpdu.times.messageAge
                ports[port].infoExpires = now + UInt64(lifetime * SpanningTree.nanosecondsPerSecond)
            } else {
                // The neighbour's port is root, alternate or backup: we are designated on this link.
                ports[port].received = nil
                if bpdu.agreement && bpdu.kind == .rapid && bpdu.vector.root == rootVector.root {
                    ports[port].agreed = true
                }
            }
            if bpdu.kind == .configuration && bpdu.topologyChangeAck && port == rootPort { ports[port].sendTCN = false }
            recompute(now: now)
            if designatedInfo && bpdu.kind == .rapid && bpdu.proposal { proposalHeard(on: port, now: now) }
            // Every BPDU that carries TC counts, not only a flip of the flag: the neighbour's last BPDU
            // before it went quiet (a root port says nothing once its TC ends) may have carried TC too.
            // Alternate and backup ports are not in the tree and pass nothing on (17.29: INACTIVE).
            if bpdu.topologyChange && (ports[port].role == .root || ports[port].role == .designated) {
                topologyChangeHeard(on: port, now: now)
            }
        }
        transmit(now: now)
    }

    /// Timers: info ageing, forward delays, migration, hellos. Call it often (every 100 ms or so).
    public mutating func tick(now: UInt64) {
        for port in ports.indices where ports[port].up { migrate(port, now: now) }
        recompute(now: now)
        transmit(now: now)
    }

    // MARK: outputs

    /// BPDU frames to send, each on its port, since the last call.
    public mutating func takeTransmissions() -> [(port: Int, frame: [UInt8])] {
        defer { transmissions.removeAll(keepingCapacity: true) }
        return transmissions
    }

    public mutating func takeEvents() -> [SpanningTreeEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    public mutating func takeFlushes() -> Set<Int> {
        defer { flushes.removeAll(keepingCapacity: true) }
        return flushes
    }

    // MARK: the recomputation

    private mutating func migrate(_ port: Int, now: UInt64) {
        guard now >= ports[port].migrateUntil else { return }
        if ports[port].rapid && ports[port].heardLegacy && !ports[port].heardRapid {
            ports[port].rapid = false
        } else if !ports[port].rapid && ports[port].heardRapid {
            ports[port].rapid = true
        } else {
            ports[port].heardLegacy = false
            ports[port].heardRapid = false
            return
        }
        ports[port].heardLegacy = false
        ports[port].heardRapid = false
        ports[port].migrateUntil = now + SpanningTree.migrateNanoseconds
        ports[port].newInfo = true
    }

    private func designatedVector(_ port: Int) -> PriorityVector {
        PriorityVector(root: rootVector.root, rootPathCost: rootVector.rootPathCost, designatedBridge: bridgeID,
                       designatedPort: portID(port))
    }

    private mutating func recompute(now: UInt64) {
        for port in ports.indices where ports[port].received != nil && now >= ports[port].infoExpires {
            ports[port].received = nil
        }

        // The root: our own vector, or the best one a port hears plus that port's cost.
        var best = PriorityVector(root: bridgeID, rootPathCost: 0, designatedBridge: bridgeID, designatedPort: PortID(raw: 0))
        var bestPort: Int?
        for port in ports.indices where ports[port].up {
            guard let heard = ports[port].received, heard.designatedBridge != bridgeID else { continue }
            let cost = heard.rootPathCost.addingReportingOverflow(ports[port].pathCost)
            let candidate = PriorityVector(root: heard.root, rootPathCost: cost.overflow ? .max : cost.partialValue,
                                           designatedBridge: heard.designatedBridge, designatedPort: heard.designatedPort)
            if candidate < best || (candidate == best && bestPort.map { portID(port) < portID($0) } == true) {
                best = candidate
                bestPort = port
            }
        }
        let rerooted = best.root != rootVector.root || best.rootPathCost != rootVector.rootPathCost || bestPort != rootPort
        rootVector = best
        rootPort = bestPort
        if let bestPort {
            var times = ports[bestPort].receivedTimes
            times.messageAge += 1
            rootTimes = times
        } else {
            rootTimes = SpanningTree.ownTimes(configuration)
        }

        for port in ports.indices.dropFirst() {
            let role: PortRole
            if !ports[port].up {
                role = .disabled
            } else if port == rootPort {
                role = .root
            } else if let heard = ports[port].received, heard < designatedVector(port) {
                role = heard.designatedBridge == bridgeID ? .backup : .alternate
            } else {
                role = .designated
            }
            if role != ports[port].role {
                ports[port].role = role
                ports[port].agreed = false
                ports[port].agree = role == .alternate || role == .backup
                ports[port].nextTransition = nil
                ports[port].newInfo = true
                if role != .root && role != .designated { ports[port].tcUntil = 0 }
                events.append(.portRole(port: port, role: role, state: ports[port].state))
            }
        }
        if rerooted {
            // Every designated port's vector changed: what was agreed no longer holds.
            for port in ports.indices where ports[port].role == .designated {
                ports[port].agreed = false
                ports[port].newInfo = true
            }
            sync(now: now)
        }

        for port in ports.indices.dropFirst() {
            switch ports[port].role {
            case .disabled, .alternate, .backup:
                setState(port, .discarding, now: now)
            case .root:
                setState(port, .forwarding, now: now)
            case .designated:
                if ports[port].operEdge || (ports[port].agreed && ports[port].rapid) {
                    setState(port, .forwarding, now: now)
                } else if ports[port].state != .forwarding {
                    let delay = UInt64(rootTimes.forwardDelay * SpanningTree.nanosecondsPerSecond)
                    if let due = ports[port].nextTransition {
                        if now >= due {
                            setState(port, ports[port].state == .discarding ? .learning : .forwarding, now: now)
                            ports[port].nextTransition = ports[port].state == .forwarding ? nil : now + delay
                        }
                    } else {
                        ports[port].nextTransition = now + delay
                    }
                }
            }
        }
    }

    /// Designated ports that are neither edge nor agreed stop forwarding, so a new root port may forward at once.
    private mutating func sync(now: UInt64) {
        for port in ports.indices where ports[port].role == .designated && !ports[port].operEdge && !ports[port].agreed {
            if ports[port].state != .discarding {
                setState(port, .discarding, now: now)
                ports[port].nextTransition = nil
            }
            ports[port].newInfo = true
        }
    }

    private mutating func proposalHeard(on port: Int, now: UInt64) {
        switch ports[port].role {
        case .root:
            sync(now: now)
            recompute(now: now)
            ports[port].agree = true
            ports[port].newInfo = true
        case .alternate, .backup:
            ports[port].agree = true
            ports[port].newInfo = true
        case .designated, .disabled:
            break
        }
    }

    private mutating func setState(_ port: Int, _ state: PortForwardingState, now: UInt64) {
        let old = ports[port].state
        guard old != state else { return }
        ports[port].state = state
        ports[port].newInfo = true
        events.append(.portRole(port: port, role: ports[port].role, state: state))
        if state == .forwarding {
            ports[port].counters.forwardingTransitions += 1
            if !ports[port].operEdge { topologyChangeDetected(on: port, now: now) }
        } else if old == .forwarding && !ports[port].operEdge {
            flushes.insert(port)
        }
    }

    // MARK: topology change

    private var topologyChangeNanoseconds: UInt64 {
        UInt64((2 * rootTimes.helloTime + 1) * SpanningTree.nanosecondsPerSecond)
    }

    private mutating func topologyChangeDetected(on port: Int, now: UInt64) {
        noteTopologyChange(now: now)
        events.append(.topologyChange(port: port, received: false))
        spreadTopologyChange(except: nil, now: now)
        for other in ports.indices where other != port && ports[other].up && !ports[other].operEdge { flushes.insert(other) }
    }

    private mutating func topologyChangeHeard(on port: Int, now: UInt64) {
        if now >= ports[port].topologyChangeHeardUntil {
            noteTopologyChange(now: now)
            events.append(.topologyChange(port: port, received: true))
        }
        ports[port].topologyChangeHeardUntil = now + topologyChangeNanoseconds
        spreadTopologyChange(except: port, now: now)
        for other in ports.indices where other != port && ports[other].up && !ports[other].operEdge { flushes.insert(other) }
    }

    private mutating func noteTopologyChange(now: UInt64) {
        topologyChanges += 1
        lastTopologyChange = now
    }

    /// TC goes out on the root and designated ports that are not edges; towards a legacy root as a TCN.
    private mutating func spreadTopologyChange(except source: Int?, now: UInt64) {
        for port in ports.indices where port != source && ports[port].up && !ports[port].operEdge {
            guard ports[port].role == .root || ports[port].role == .designated else { continue }
            if ports[port].rapid || ports[port].role == .designated {
                // A change already being sent is not lengthened by hearing it again (17.21.7 newTcWhile).
                guard now >= ports[port].tcUntil else { continue }
                ports[port].tcUntil = now + topologyChangeNanoseconds
            } else {
                ports[port].sendTCN = true
            }
            ports[port].newInfo = true
        }
        if isRoot {
            rootTopologyChangeUntil = now + UInt64((rootTimes.maxAge + rootTimes.forwardDelay) * SpanningTree.nanosecondsPerSecond)
        }
    }

    // MARK: transmission

    private mutating func transmit(now: UInt64) {
        let hello = UInt64(configuration.helloSeconds * SpanningTree.nanosecondsPerSecond)
        for port in ports.indices where ports[port].up && ports[port].role != .disabled {
            let role = ports[port].role
            let periodic = now >= ports[port].nextHello
                && (role == .designated || (role == .root && (now < ports[port].tcUntil || ports[port].sendTCN)))
            guard periodic || ports[port].newInfo else { continue }
            if now >= ports[port].transmitWindow {
                ports[port].transmitWindow = now + 1_000_000_000
                ports[port].transmitsInWindow = 0
            }
            guard ports[port].transmitsInWindow < SpanningTree.transmitHoldCount else { continue }
            guard let bpdu = bpdu(for: port, now: now) else {
                ports[port].newInfo = false
                continue
            }
            ports[port].transmitsInWindow += 1
            ports[port].newInfo = false
            ports[port].nextHello = now + hello
            ports[port].counters.bpdusOut += 1
            if bpdu.kind == .configuration { ports[port].acknowledgeTCN = false }
            transmissions.append((port, bpdu.frame(from: address)))
        }
    }

    /// What `port` says now, or nil when it has nothing to say (a legacy alternate, a quiet legacy root port).
    func bpdu(for port: Int, now: UInt64) -> BPDU? {
        let state = ports[port]
        if !state.rapid {
            if state.role == .root && state.sendTCN { return BPDU(kind: .topologyChangeNotification) }
            guard state.role == .designated else { return nil }
        }
        var bpdu = BPDU(kind: state.rapid ? .rapid : .configuration)
        // Root, alternate and backup ports speak of the root they see, as designated ports do.
        bpdu.vector = designatedVector(port)
        bpdu.times = rootTimes
        if isRoot { bpdu.times.messageAge = 0 }
        bpdu.times.helloTime = configuration.helloSeconds
        bpdu.role = state.role
        bpdu.learning = state.state != .discarding
        bpdu.forwarding = state.state == .forwarding
        bpdu.topologyChange = now < state.tcUntil || (isRoot && now < rootTopologyChangeUntil)
        if state.rapid {
            bpdu.proposal = state.role == .designated && state.state != .forwarding && !state.operEdge
            bpdu.agreement = state.agree && state.role != .designated
        } else {
            bpdu.topologyChangeAck = state.acknowledgeTCN
        }
        return bpdu
    }
}
