// The rapid spanning tree in-process: bridges are SwitchEngines joined by simulated links that
// carry their BPDUs (and data frames) with the time passed in, so convergence, failover, edge
// ports, legacy neighbours and topology-change flushing are checked without any I/O.
import SwitchEngine
import Testing

/// Bridges joined by point-to-point links; `run` delivers BPDUs at once and ticks every 100 ms.
struct Network {
    var bridges: [SwitchEngine]
    /// (bridge, port) ↔ (bridge, port)
    var links: [((Int, Int), (Int, Int))] = []
    var cut: Set<Int> = []
    var now: UInt64 = 1_000 * second
    var events: [[SpanningTreeEvent]]
    /// A legacy neighbour's translation: bridges listed here send only what SpanningTree would as STP.
    init(count: Int, ports: Int = 4, configure: (Int, inout SpanningTreeConfiguration) -> Void = { _, _ in }) throws {
        bridges = []
        for index in 0..<count {
            var engine = SwitchEngine(portCount: ports)
            var configuration = SpanningTreeConfiguration()
            configure(index, &configuration)
            try engine.enableSpanningTree(address: MACAddress(bits: 0x0200_0000_0000 | UInt64(index + 1)),
                                          configuration: configuration, now: 1_000 * second)
            bridges.append(engine)
        }
        events = Array(repeating: [], count: count)
    }

    mutating func link(_ a: (Int, Int), _ b: (Int, Int), edge: Bool? = false) throws {
        links.append((a, b))
        for (bridge, port) in [a, b] {
            try bridges[bridge].configureSpanningTreePort(port, adminEdge: .some(edge), now: now)
            bridges[bridge].setActive(port, true)
        }
    }

    mutating func cutLink(_ index: Int) {
        cut.insert(index)
        let (a, b) = links[index]
        bridges[a.0].setActive(a.1, false)
        bridges[b.0].setActive(b.1, false)
    }

    mutating func restoreLink(_ index: Int) {
        cut.remove(index)
        let (a, b) = links[index]
        bridges[a.0].setActive(a.1, true)
        bridges[b.0].setActive(b.1, true)
    }

    func peer(of bridge: Int, port: Int) -> (Int, Int)? {
        for (index, link) in links.enumerated() where !cut.contains(index) {
            if link.0 == (bridge, port) { return link.1 }
            if link.1 == (bridge, port) { return link.0 }
        }
        return nil
    }

    /// Delivers every BPDU queued, and what they cause, until the network is quiet.
    mutating func deliver() {
        var rounds = 0
        while rounds < 1000 {
            rounds += 1
            var sent = false
            for bridge in bridges.indices {
                let output = bridges[bridge].takeSpanningTreeOutput()
                events[bridge] += output.events
                for (port, frame) in output.frames {
                    sent = true
                    guard let (target, targetPort) = peer(of: bridge, port: port) else { continue }
                    var copy = frame
                    let decision = bridges[target].receive(&copy, from: targetPort, now: now)
                    if decision.forwarding == .bridge {
                        copy.withUnsafeBytes { bridges[target].receiveBPDU($0, length: copy.count, from: targetPort, now: now) }
                    }
                }
            }
            if !sent { return }
        }
    }

    mutating func run(seconds: Double) {
        let end = now + UInt64(seconds * 1e9)
        deliver()
        while now < end {
            now += 100_000_000
            for bridge in bridges.indices { bridges[bridge].tickSpanningTree(now: now) }
            deliver()
        }
    }

    func tree(_ bridge: Int) -> SpanningTree { bridges[bridge].spanningTree! }
    func role(_ bridge: Int, _ port: Int) -> PortRole { tree(bridge).ports[port].role }
    func state(_ bridge: Int, _ port: Int) -> PortForwardingState { tree(bridge).ports[port].state }

    /// Seconds of simulated time until `done` holds (checked every 100 ms), nil if not within `limit`.
    mutating func time(until done: (Network) -> Bool, limit: Double) -> Double? {
        let start = now
        deliver()
        while !done(self) {
            if now - start > UInt64(limit * 1e9) { return nil }
            now += 100_000_000
            for bridge in bridges.indices { bridges[bridge].tickSpanningTree(now: now) }
            deliver()
        }
        return Double(now - start) / 1e9
    }
}

@Suite struct SpanningTreeTests {
    @Test func bpdusRoundTripAndBadOnesAreCountedNotTaken() throws {
        var bpdu = BPDU(kind: .rapid)
        bpdu.proposal = true
        bpdu.role = .designated
        bpdu.learning = true
        bpdu.topologyChange = true
        bpdu.vector = PriorityVector(root: BridgeID(priority: 4096, address: MACAddress("02:00:00:00:00:09")!), rootPathCost: 40000,
                                     designatedBridge: BridgeID(priority: 32768, address: MACAddress("02:00:00:00:00:01")!),
                                     designatedPort: PortID(priority: 128, number: 3))
        bpdu.times = BPDUTimes(messageAge: 2, maxAge: 20, helloTime: 2, forwardDelay: 15)
        let frame = bpdu.frame(from: MACAddress("02:00:00:00:00:01")!)
        #expect(frame.count == 60 && Array(frame[0..<6]) == [0x01, 0x80, 0xC2, 0, 0, 0] && Array(frame[12..<17]) == [0, 39, 0x42, 0x42, 3])
        #expect(Array(frame[17..<22]) == [0, 0, 2, 2, 0x1F])   // protocol 0, version 2, RST, TC|proposal|designated|learning
        let parsed = try frame.withUnsafeBytes { try BPDU.parse(frame: $0, length: frame.count) }
        #expect(parsed == bpdu)
        #expect(BridgeID(priority: 32768, address: MACAddress("02:00:00:00:00:01")!).description == "8000.02:00:00:00:00:01")

        var config = BPDU(kind: .configuration)
        config.topologyChangeAck = true
        let legacy = config.frame(from: MACAddress("02:00:00:00:00:02")!)
        #expect(Array(legacy[12..<14]) == [0, 38] && legacy[19] == 0 && legacy[20] == 0 && legacy[21] == 0x80)
        #expect(try legacy.withUnsafeBytes { try BPDU.parse(frame: $0, length: legacy.count) } == config)

        var bad: [[UInt8]] = []
        bad.append(Array(frame[0..<20]))                                   // short
        var wrongProtocol = frame; wrongProtocol[17] = 1; bad.append(wrongProtocol)
        var unknownType = frame; unknownType[20] = 0x42; bad.append(unknownType)
        var notLLC = frame; notLLC[14] = 0xAA; bad.append(notLLC)
        var truncated = frame; truncated[13] = 20; bad.append(truncated)   // the LLC length cuts the BPDU short
        var tooOld = frame; tooOld[44] = 20; bad.append(tooOld)            // message age 20 s ≥ max age 20 s
        var network = try Network(count: 1)
        network.bridges[0].setActive(1, true)
        for bytes in bad {
            var copy = bytes
            if copy.count < 60 { copy += [UInt8](repeating: 0, count: 60 - copy.count) }
            let length = bytes.count
            #expect(network.bridges[0].receive(&copy, from: 1, now: network.now).forwarding == .bridge)
            copy.withUnsafeBytes { network.bridges[0].receiveBPDU($0, length: max(length, 14), from: 1, now: network.now) }
        }
        #expect(network.tree(0).ports[1].counters.malformed == UInt64(bad.count))
        #expect(network.tree(0).ports[1].counters.bpdusIn == 0 && network.tree(0).isRoot)
    }

    /// A triangle: 0–1 (link 0), 1–2 (link 1), 2–0 (link 2). Bridge 0 has the lowest ID.
    func triangle() throws -> Network {
        var network = try Network(count: 3)
        try network.link((0, 1), (1, 1))
        try network.link((1, 2), (2, 1))
        try network.link((2, 2), (0, 2))
        return network
    }

    @Test func aTriangleAgreesOnOneRootAndBlocksOnePortWithinASecond() throws {
        var network = try triangle()
        let converged = network.time(until: { net in
            (0..<3).allSatisfy { net.tree($0).rootVector.root == net.tree(0).bridgeID }
                && [(0, 1), (0, 2), (1, 1), (2, 2)].allSatisfy { net.state($0.0, $0.1) == .forwarding }
                && net.role(1, 2) == .designated && net.role(2, 1) == .alternate && net.state(2, 1) == .discarding
        }, limit: 40)
        #expect(converged != nil && converged! < 1, "converged after \(converged.map { "\($0) s" } ?? "never"): \(network.tree(2).ports)")
        #expect(network.tree(0).isRoot && network.role(0, 1) == .designated && network.role(0, 2) == .designated)
        #expect(network.role(1, 1) == .root && network.role(2, 2) == .root && network.tree(1).rootPathCost == 20000)
        // Stable: an hour of hellos changes nothing and there is no topology change.
        let changes = (0..<3).map { network.tree($0).topologyChanges }
        network.run(seconds: 60)
        #expect((0..<3).map { network.tree($0).topologyChanges } == changes)
        #expect(network.state(2, 1) == .discarding && network.state(1, 2) == .forwarding)
        // Data cannot loop: a broadcast from bridge 1's port 3 is dropped at bridge 2's alternate port.
        var frame = frame(dst: broadcast, src: macA)
        #expect(network.bridges[2].receive(&frame, from: 1, now: network.now).forwarding == .drop(.blocked))
        #expect(network.bridges[2].ports[1].counters[drop: .blocked] == 1)
    }

    @Test func cuttingAForwardingLinkUnblocksTheAlternateAtOnceAndFlushesMACs() throws {
        var network = try triangle()
        network.run(seconds: 2)
        // Bridge 2 learned a MAC behind bridge 0 on its root port 2.
        network.bridges[2].setActive(3, true)
        var data = frame(dst: broadcast, src: macB)
        _ = network.bridges[2].receive(&data, from: 2, now: network.now)
        #expect(network.bridges[2].macTable.lookup(MACAddress(macB)!, vlan: 1, now: network.now) == 2)
        network.cutLink(2)   // 2–0: bridge 2's root port
        let failover = network.time(until: { net in
            net.role(2, 1) == .root && net.state(2, 1) == .forwarding && net.state(1, 2) == .forwarding
        }, limit: 10)
        #expect(failover != nil && failover! <= 0.1, "failover after \(String(describing: failover)) s")
        #expect(network.tree(2).rootVector.root == network.tree(0).bridgeID && network.tree(2).rootPathCost == 40000)
        #expect(network.bridges[2].macTable.lookup(MACAddress(macB)!, vlan: 1, now: network.now) == nil)
        #expect(network.events[2].contains(.portRole(port: 1, role: .root, state: .forwarding)))
        #expect(network.tree(2).topologyChanges >= 1 && network.tree(1).topologyChanges >= 1)
    }

    /// Every cut of a ring reaches every bridge as a topology change, however long the ring was quiet
    /// before: a TC heard is acted on in every BPDU that carries it, not only when the flag flips
    /// (a neighbour's last BPDU before it went quiet may have carried TC).
    @Test func everyCutOfARingFlushesEveryBridgeAgain() throws {
        var network = try Network(count: 6)
        for index in 0..<6 { try network.link((index, 2), ((index + 1) % 6, 1)) }
        network.run(seconds: 10)
        for cycle in 0..<6 {
            // A host behind bridge 1, learned by bridge 5 on its port towards the root (bridge 0).
            network.bridges[5].setActive(3, true)
            var data = frame(dst: broadcast, src: macB)
            _ = network.bridges[5].receive(&data, from: 2, now: network.now)
            #expect(network.bridges[5].macTable.lookup(MACAddress(macB)!, vlan: 1, now: network.now) == 2)
            let before = (0..<6).map { network.tree($0).topologyChanges }
            network.cutLink(0)   // 0–1
            network.run(seconds: 1)
            let after = (0..<6).map { network.tree($0).topologyChanges }
            #expect((0..<6).allSatisfy { after[$0] > before[$0] }, "cycle \(cycle): topology changes \(before) → \(after)")
            #expect(network.bridges[5].macTable.lookup(MACAddress(macB)!, vlan: 1, now: network.now) == nil, "cycle \(cycle)")
            network.run(seconds: 6)
            network.restoreLink(0)
            network.run(seconds: 6)
        }
    }

    @Test func losingTheRootElectsTheNextBridgeAfterTheInformationAgesOut() throws {
        var network = try triangle()
        network.run(seconds: 2)
        network.cutLink(0)
        network.cutLink(2)
        let elected = network.time(until: { net in
            net.tree(1).isRoot && net.tree(2).rootVector.root == net.tree(1).bridgeID && net.state(2, 1) == .forwarding
        }, limit: 10)
        #expect(elected != nil && elected! < 1, "\(String(describing: elected))")
    }

    @Test func anEdgePortForwardsAtOnceUntilABPDUArrives() throws {
        var network = try Network(count: 2)
        network.bridges[0].setActive(3, true)   // a VDE client: edge by default
        network.deliver()
        #expect(network.state(0, 3) == .forwarding && network.tree(0).ports[3].operEdge)
        #expect(network.tree(0).topologyChanges == 0)
        // A bridge appears behind it: the port is no longer an edge, and a cable port is not one at all.
        try network.link((0, 4), (1, 4), edge: nil)
        network.run(seconds: 1)
        #expect(!network.tree(0).ports[4].operEdge && !network.tree(1).ports[4].operEdge)
        #expect(network.tree(1).rootVector.root == network.tree(0).bridgeID && network.role(1, 4) == .root)
        try network.link((0, 1), (1, 1))
        network.run(seconds: 1)
        // Two links between the same bridges: the one from the lower designated port ID is root, the other blocks.
        #expect(network.state(0, 1) == .forwarding && network.state(0, 4) == .forwarding)
        #expect(network.role(1, 1) == .root && network.role(1, 4) == .alternate && network.state(1, 4) == .discarding)
    }

    @Test func aLegacyNeighbourGetsConfigurationBPDUsAndForwardDelays() throws {
        // Bridge 1 stands for a legacy STP bridge: only configuration BPDUs reach bridge 0.
        var network = try Network(count: 1) { _, configuration in configuration.forwardDelaySeconds = 4; configuration.maxAgeSeconds = 6 }
        network.bridges[0].setActive(1, true)
        try network.bridges[0].configureSpanningTreePort(1, adminEdge: .some(false), now: network.now)
        var legacy = BPDU(kind: .configuration)
        let legacyBridge = BridgeID(priority: 4096, address: MACAddress("02:00:00:00:00:77")!)
        legacy.vector = PriorityVector(root: legacyBridge, rootPathCost: 0, designatedBridge: legacyBridge, designatedPort: PortID(priority: 128, number: 1))
        legacy.times = BPDUTimes(messageAge: 0, maxAge: 6, helloTime: 1, forwardDelay: 4)
        var rootPortSent: [BPDU.Kind] = []
        for _ in 0..<50 {
            network.now += 100_000_000
            let frame = legacy.frame(from: MACAddress("02:00:00:00:00:77")!)
            frame.withUnsafeBytes { network.bridges[0].receiveBPDU($0, length: frame.count, from: 1, now: network.now) }
            network.bridges[0].tickSpanningTree(now: network.now)
            for (_, bytes) in network.bridges[0].takeSpanningTreeOutput().frames {
                rootPortSent.append(try bytes.withUnsafeBytes { try BPDU.parse(frame: $0, length: bytes.count) }.kind)
            }
        }
        #expect(network.tree(0).rootVector.root == legacyBridge && network.role(0, 1) == .root)
        // A root port towards a legacy bridge is quiet once it knows (it sent one RST BPDU at link up).
        #expect(!network.tree(0).ports[1].rapid && rootPortSent == [.rapid])
        var sentKinds: [BPDU.Kind] = []
        // A designated port towards a legacy bridge waits two forward delays: no agreement will come.
        try network.bridges[0].configureSpanningTreePort(2, adminEdge: .some(false), now: network.now)
        network.bridges[0].setActive(2, true)
        var neighbour = legacy
        neighbour.vector = PriorityVector(root: legacyBridge, rootPathCost: 90000, designatedBridge: BridgeID(priority: 61440, address: MACAddress("02:00:00:00:00:78")!),
                                          designatedPort: PortID(priority: 128, number: 1))
        var learningAt: UInt64?, forwardingAt: UInt64?
        let start = network.now
        for _ in 0..<120 {
            network.now += 100_000_000
            for (port, bpdu) in [(1, legacy), (2, neighbour)] {
                let frame = bpdu.frame(from: MACAddress("02:00:00:00:00:77")!)
                frame.withUnsafeBytes { network.bridges[0].receiveBPDU($0, length: frame.count, from: port, now: network.now) }
            }
            network.bridges[0].tickSpanningTree(now: network.now)
            for (port, bytes) in network.bridges[0].takeSpanningTreeOutput().frames where port == 2 {
                sentKinds.append(try bytes.withUnsafeBytes { try BPDU.parse(frame: $0, length: bytes.count) }.kind)
            }
            if learningAt == nil && network.state(0, 2) == .learning { learningAt = network.now - start }
            if forwardingAt == nil && network.state(0, 2) == .forwarding { forwardingAt = network.now - start }
        }
        #expect(network.role(0, 2) == .designated && !network.tree(0).ports[2].rapid)
        // RST BPDUs until the migration delay is over, then configuration BPDUs every hello.
        #expect(sentKinds.first == .rapid && sentKinds.last == .configuration && sentKinds.filter { $0 == .configuration }.count >= 4, "\(sentKinds)")
        let learning = learningAt.map { Double($0) / 1e9 } ?? 0, forwarding = forwardingAt.map { Double($0) / 1e9 } ?? 0
        #expect(learning >= 4 && learning < 4.5 && forwarding >= 8 && forwarding < 8.5, "learning \(learning) s, forwarding \(forwarding) s")
    }

    @Test func timersOutsideTheStandardsBoundsAreRefused() {
        var engine = SwitchEngine(portCount: 2)
        var configuration = SpanningTreeConfiguration()
        configuration.maxAgeSeconds = 40   // more than 2 × (15 − 1)
        #expect(throws: SwitchEngineError.invalid("max_age_s is at most 2 × (forward_delay_s − 1)")) {
            try engine.enableSpanningTree(address: MACAddress(bits: 2), configuration: configuration, now: 0)
        }
        configuration = SpanningTreeConfiguration()
        configuration.priority = 100
        #expect(throws: SwitchEngineError.self) { try engine.enableSpanningTree(address: MACAddress(bits: 2), configuration: configuration, now: 0) }
        #expect(engine.spanningTree == nil)
    }

    @Test func withTheTreeOffBPDUsAreFloodedAndEveryPortForwards() throws {
        var engine = engine()
        let bpdu = BPDU(kind: .rapid).frame(from: MACAddress(bits: 0x0200_0000_0099))
        var copy = bpdu
        #expect(engine.receive(&copy, from: 1, now: 0).forwarding == .flood)
        try engine.enableSpanningTree(address: MACAddress(bits: 0x0200_0000_0001), configuration: SpanningTreeConfiguration(), now: 0)
        copy = bpdu
        #expect(engine.receive(&copy, from: 1, now: 0).forwarding == .bridge)
        engine.disableSpanningTree()
        #expect(engine.ports.allSatisfy { $0.forwarding && $0.learning })
    }
}
