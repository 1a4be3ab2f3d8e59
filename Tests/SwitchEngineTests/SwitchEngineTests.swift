// SwitchEngine in-process with an injected clock: learning, aging, flooding, VLAN isolation,
// tag insertion and removal, hub mode, and every drop cause.
import SwitchEngine
import Testing

let second: UInt64 = 1_000_000_000

func frame(dst: String, src: String, vlan: UInt16? = nil, pcp: UInt8 = 0, size: Int = 64) -> [UInt8] {
    func mac(_ text: String) -> [UInt8] { text.split(separator: ":").map { UInt8($0, radix: 16)! } }
    var bytes = mac(dst) + mac(src)
    if let vlan {
        let tci = UInt16(pcp) << 13 | vlan
        bytes += [0x81, 0x00, UInt8(tci >> 8), UInt8(tci & 0xFF)]
    }
    bytes += [0x88, 0xB5]
    return bytes + [UInt8](repeating: 0xAB, count: max(0, size - bytes.count))
}

let macA = "02:00:00:00:00:0a", macB = "02:00:00:00:00:0b", macC = "02:00:00:00:00:0c"
let broadcast = "ff:ff:ff:ff:ff:ff"

/// An engine with `active` ports plugged in.
func engine(ports: Int = 8, active: [Int] = [1, 2, 3, 4], configure: (inout SwitchEngineConfiguration) -> Void = { _ in }) -> SwitchEngine {
    var configuration = SwitchEngineConfiguration()
    configure(&configuration)
    var engine = SwitchEngine(portCount: ports, configuration: configuration)
    for port in active { engine.setActive(port, true) }
    return engine
}

extension SwitchEngine {
    mutating func send(_ bytes: [UInt8], from port: Int, at now: UInt64 = 0) -> Decision {
        var copy = bytes
        return receive(&copy, from: port, now: now)
    }

    /// The ports a decision delivers to (flood resolved against the flood list).
    func outputs(_ decision: Decision, from port: Int) -> [Int] {
        switch decision.forwarding {
        case .unicast(let target, _): return [target]
        case .flood: return floodTargets(for: decision.frameClass).map(\.port).filter { $0 != port }
        case .multicast(let targets): return targets.map(\.port).filter { $0 != port }
        case .drop, .filtered, .bridge: return []
        }
    }
}

@Suite struct LearningTests {
    @Test func unknownUnicastFloodsThenLearnedUnicastGoesToOnePort() {
        var sw = engine()
        let first = sw.send(frame(dst: macB, src: macA), from: 1)
        #expect(first.forwarding == .flood)
        #expect(sw.outputs(first, from: 1) == [2, 3, 4])
        let reply = sw.send(frame(dst: macA, src: macB), from: 2)
        #expect(reply.forwarding == .unicast(port: 1, edit: .none))
        let again = sw.send(frame(dst: macB, src: macA), from: 1)
        #expect(again.forwarding == .unicast(port: 2, edit: .none))
        #expect(sw.macTable.totals.learned == 2)
    }

    @Test func broadcastAndMulticastFloodAndAreNeverLearned() {
        var sw = engine()
        _ = sw.send(frame(dst: macA, src: macB), from: 2)
        #expect(sw.outputs(sw.send(frame(dst: broadcast, src: macA), from: 1), from: 1) == [2, 3, 4])
        #expect(sw.outputs(sw.send(frame(dst: "01:00:5e:00:00:01", src: macA), from: 1), from: 1) == [2, 3, 4])
        _ = sw.send(frame(dst: macB, src: broadcast), from: 3)
        #expect(sw.macTable.list(now: 0).map(\.mac.description) == [macA, macB])
    }

    @Test func neverSendsBackOutOfTheIngressPort() {
        var sw = engine()
        _ = sw.send(frame(dst: broadcast, src: macA), from: 1)
        _ = sw.send(frame(dst: broadcast, src: macB), from: 1)
        #expect(sw.send(frame(dst: macB, src: macA), from: 1).forwarding == .filtered)
        #expect(!sw.outputs(sw.send(frame(dst: broadcast, src: macA), from: 1), from: 1).contains(1))
    }

    @Test func agesOutWithTheInjectedClock() {
        var sw = engine { $0.macAgingSeconds = 10 }
        _ = sw.send(frame(dst: broadcast, src: macA), from: 1, at: 0)
        #expect(sw.send(frame(dst: macA, src: macB), from: 2, at: 9 * second).forwarding == .unicast(port: 1, edit: .none))
        #expect(sw.send(frame(dst: macA, src: macB), from: 2, at: 11 * second).forwarding == .flood)
        let next = sw.expire(now: 11 * second)
        #expect(sw.macTable.list(now: 11 * second).map(\.mac.description) == [macB])
        #expect(sw.macTable.totals.expired == 1)
        #expect(next == 11 * second + 10 * second + 1, "B, refreshed at 11 s, is next")
    }

    @Test func refreshingKeepsAnEntryAlive() {
        var sw = engine { $0.macAgingSeconds = 10 }
        for tick in stride(from: UInt64(0), through: 30, by: 5) {
            _ = sw.send(frame(dst: broadcast, src: macA), from: 1, at: tick * second)
        }
        #expect(sw.send(frame(dst: macA, src: macB), from: 2, at: 38 * second).forwarding == .unicast(port: 1, edit: .none))
    }

    @Test func aMACThatMovesIsReported() {
        var sw = engine()
        _ = sw.send(frame(dst: broadcast, src: macA), from: 1)
        _ = sw.send(frame(dst: broadcast, src: macA), from: 3, at: second)
        #expect(sw.takeMoves() == [MACMove(mac: MACAddress(macA)!, vlan: 1, from: 1, to: 3)])
        #expect(sw.takeMoves().isEmpty)
        #expect(sw.send(frame(dst: macA, src: macB), from: 2).forwarding == .unicast(port: 3, edit: .none))
        #expect(sw.macTable.totals.moved == 1)
    }

    @Test func aFullTableRefusesNewAddressesAndKeepsFlooding() {
        var sw = engine { $0.macTableCapacity = 2 }
        _ = sw.send(frame(dst: broadcast, src: macA), from: 1)
        _ = sw.send(frame(dst: broadcast, src: macB), from: 2)
        let third = sw.send(frame(dst: macA, src: macC), from: 3)
        #expect(third.forwarding == .unicast(port: 1, edit: .none))
        #expect(sw.ports[3].counters[drop: .tableFull] == 1)
        #expect(sw.send(frame(dst: macC, src: macA), from: 1).forwarding == .flood)
        #expect(sw.macTable.totals.refused == 1)
    }

    @Test func unpluggingFlushesThePortsEntries() {
        var sw = engine()
        _ = sw.send(frame(dst: broadcast, src: macA), from: 1)
        _ = sw.send(frame(dst: broadcast, src: macB), from: 2)
        sw.setActive(1, false)
        #expect(sw.macTable.list(now: 0).map(\.port) == [2])
        #expect(sw.outputs(sw.send(frame(dst: macA, src: macB), from: 2), from: 2) == [3, 4])
    }

    @Test func flushFilters() {
        var sw = engine()
        try? sw.createVLAN(10)
        try? sw.setPort(3, PortChange(taggedVLANs: [10]))
        _ = sw.send(frame(dst: broadcast, src: macA), from: 1)
        _ = sw.send(frame(dst: broadcast, src: macB, vlan: 10), from: 3)
        _ = sw.send(frame(dst: broadcast, src: macC), from: 3)
        #expect(sw.flushMACs(vlan: 10) == 1)
        #expect(sw.flushMACs(port: 3) == 1)
        #expect(sw.macTable.list(now: 0).map(\.mac.description) == [macA])
    }

    @Test func countsReceivedFramesAndBytes() {
        var sw = engine()
        _ = sw.send(frame(dst: broadcast, src: macA, size: 100), from: 1)
        _ = sw.send(frame(dst: broadcast, src: macA, size: 200), from: 1)
        #expect(sw.ports[1].counters.rxFrames == 2)
        #expect(sw.ports[1].counters.rxBytes == 300)
    }
}

@Suite struct FrameSizeTests {
    @Test func dropsFramesShorterThanAHeader() {
        var sw = engine()
        var short = [UInt8](repeating: 1, count: 13)
        #expect(sw.receive(&short, from: 1, now: 0).forwarding == .drop(.undersize))
        #expect(sw.ports[1].counters[drop: .undersize] == 1)
        #expect(sw.ports[1].counters.rxFrames == 0)
    }

    @Test func padsShortFramesTo60() {
        var sw = engine()
        var bytes = Array(frame(dst: broadcast, src: macA).prefix(20))
        let decision = sw.receive(&bytes, from: 1, now: 0)
        #expect(decision.length == 60)
        #expect(bytes.count == 60)
        #expect(bytes[20...].allSatisfy { $0 == 0 })
        #expect(sw.ports[1].counters.rxBytes == 60)
    }

    @Test func forwardsJumboFramesAndDropsLargerOnes() {
        var sw = engine()
        #expect(sw.send(frame(dst: broadcast, src: macA, size: 9216), from: 1).forwarding == .flood)
        #expect(sw.send(frame(dst: broadcast, src: macA, size: 9217), from: 1).forwarding == .drop(.oversize))
        #expect(sw.send(frame(dst: broadcast, src: macA, size: 65535), from: 1).forwarding == .drop(.oversize))
        #expect(sw.ports[1].counters[drop: .oversize] == 2)
    }
}

@Suite struct VLANTests {
    /// Ports 1, 2 access on VLAN 10; port 3 access on VLAN 1; port 4 trunk carrying 10 and 20.
    func vlanSwitch() throws -> SwitchEngine {
        var sw = engine()
        try sw.createVLAN(10)
        try sw.createVLAN(20)
        try sw.setVLANMembers(10, untagged: [1, 2], tagged: [4])
        try sw.setPort(4, PortChange(taggedVLANs: [10, 20]))
        return sw
    }

    @Test func isolatesVLANs() throws {
        var sw = try vlanSwitch()
        let decision = sw.send(frame(dst: broadcast, src: macA), from: 1)
        #expect(decision.frameClass.vlan == 10)
        #expect(sw.outputs(decision, from: 1) == [2, 4])
        let other = sw.send(frame(dst: broadcast, src: macC), from: 3)
        #expect(sw.outputs(other, from: 3) == [4])
    }

    @Test func tagsTowardsTrunksAndStripsTowardsAccessPorts() throws {
        var sw = try vlanSwitch()
        let fromAccess = sw.send(frame(dst: broadcast, src: macA), from: 1)
        let targets = sw.floodTargets(for: fromAccess.frameClass)
        #expect(targets.first { $0.port == 4 }.map { fromAccess.frameClass.egress(tagged: $0.tagged) } == .insertTag(10))
        #expect(targets.first { $0.port == 2 }.map { fromAccess.frameClass.egress(tagged: $0.tagged) } == EgressEdit.none)
        let fromTrunk = sw.send(frame(dst: macA, src: macB, vlan: 10), from: 4)
        #expect(fromTrunk.forwarding == .unicast(port: 1, edit: .stripTag))
    }

    @Test func editsProduceTheRightBytes() {
        let untagged = frame(dst: macA, src: macB, size: 64)
        let tagged = EgressEdit.insertTag(10).apply(to: untagged)
        #expect(Array(tagged[12..<16]) == [0x81, 0x00, 0x00, 0x0A])
        #expect(tagged.count == 68)
        #expect(EgressEdit.stripTag.apply(to: tagged) == untagged)
        let shortTagged = frame(dst: macA, src: macB, vlan: 10, size: 60)
        #expect(EgressEdit.stripTag.apply(to: shortTagged).count == 60, "a stripped minimum frame is padded back to 60")
        #expect(EgressEdit.stripTag.length(from: 60) == 60)
    }

    @Test func keepsPCPTrunkToTrunk() throws {
        var sw = try vlanSwitch()
        try sw.setPort(3, PortChange(untaggedVLAN: .some(nil), taggedVLANs: [10]))
        let decision = sw.send(frame(dst: broadcast, src: macB, vlan: 10, pcp: 5), from: 4)
        #expect(decision.frameClass.tci == 0xA00A)
        let toTrunk = sw.floodTargets(for: decision.frameClass).first { $0.port == 3 }!
        #expect(decision.frameClass.egress(tagged: toTrunk.tagged) == .none)
    }

    @Test func dropsTagsThePortDoesNotCarry() throws {
        var sw = try vlanSwitch()
        #expect(sw.send(frame(dst: broadcast, src: macB, vlan: 30), from: 4).forwarding == .drop(.vlan))
        #expect(sw.send(frame(dst: broadcast, src: macB, vlan: 20), from: 1).forwarding == .drop(.vlan))
        #expect(sw.ports[4].counters[drop: .vlan] == 1)
        #expect(sw.ports[1].counters[drop: .vlan] == 1)
    }

    @Test func dropsUntaggedFramesOnAPortWithoutAnUntaggedVLAN() throws {
        var sw = try vlanSwitch()
        try sw.setPort(4, PortChange(untaggedVLAN: .some(nil)))
        #expect(sw.send(frame(dst: broadcast, src: macB), from: 4).forwarding == .drop(.vlan))
    }

    @Test func priorityTaggedFramesJoinTheUntaggedVLAN() throws {
        var sw = try vlanSwitch()
        let decision = sw.send(frame(dst: broadcast, src: macA, vlan: 0, pcp: 3), from: 1)
        #expect(decision.frameClass.vlan == 10)
        let trunk = sw.floodTargets(for: decision.frameClass).first { $0.port == 4 }!
        #expect(decision.frameClass.egress(tagged: trunk.tagged) == .rewriteTCI(0x600A))
        #expect(decision.frameClass.egress(tagged: false) == .stripTag)
    }

    @Test func learnsPerVLAN() throws {
        var sw = try vlanSwitch()
        try sw.setPort(3, PortChange(taggedVLANs: [20]))
        _ = sw.send(frame(dst: broadcast, src: macA, vlan: 20), from: 4)
        _ = sw.send(frame(dst: broadcast, src: macA), from: 1)
        #expect(sw.macTable.list(now: 0).map { "\($0.vlan)@\($0.port)" } == ["10@1", "20@4"])
        #expect(sw.send(frame(dst: macA, src: macC, vlan: 20), from: 3).forwarding == .unicast(port: 4, edit: .none))
    }

    @Test func extremeVLANIDsWork() throws {
        var sw = engine()
        try sw.createVLAN(1024)
        try sw.createVLAN(4094)
        try sw.setPort(1, PortChange(taggedVLANs: [1024, 4094]))
        try sw.setPort(2, PortChange(untaggedVLAN: 4094))
        try sw.setPort(3, PortChange(untaggedVLAN: 1024))
        #expect(sw.outputs(sw.send(frame(dst: broadcast, src: macA, vlan: 4094), from: 1), from: 1) == [2])
        #expect(sw.outputs(sw.send(frame(dst: broadcast, src: macA, vlan: 1024), from: 1), from: 1) == [3])
    }

    @Test func configurationErrorsChangeNothing() throws {
        var sw = try vlanSwitch()
        let before = sw.ports
        #expect(throws: SwitchEngineError.noSuchVLAN(99)) { try sw.setPort(1, PortChange(untaggedVLAN: 99)) }
        #expect(throws: SwitchEngineError.noSuchPort(42)) { try sw.setPort(42, PortChange(enabled: false)) }
        #expect(throws: SwitchEngineError.vlanInUse(10, ports: [1, 2, 4])) { try sw.deleteVLAN(10) }
        #expect(throws: SwitchEngineError.vlanExists(10)) { try sw.createVLAN(10) }
        #expect(throws: SwitchEngineError.invalidVLAN(4095)) { try sw.createVLAN(4095) }
        #expect(throws: SwitchEngineError.invalidVLAN(0)) { try sw.createVLAN(0) }
        #expect(sw.ports == before)
        try sw.setVLANMembers(20, untagged: [], tagged: [])
        try sw.setPort(4, PortChange(taggedVLANs: [10]))
        try sw.deleteVLAN(20)
        #expect(!sw.vlans.contains(20))
    }

    @Test func changingAPortsVLANFlushesItsEntries() throws {
        var sw = try vlanSwitch()
        _ = sw.send(frame(dst: broadcast, src: macA), from: 1)
        try sw.setPort(1, PortChange(untaggedVLAN: 1))
        #expect(sw.macTable.count == 0)
    }
}

@Suite struct HubAndDisabledTests {
    @Test func hubModeFloodsEverythingUnchangedWithoutLearning() {
        var sw = engine { $0.hub = true }
        _ = sw.send(frame(dst: broadcast, src: macB), from: 2)
        let decision = sw.send(frame(dst: macB, src: macA, vlan: 77), from: 1)
        #expect(decision.forwarding == .flood)
        #expect(sw.outputs(decision, from: 1) == [2, 3, 4])
        #expect(decision.frameClass.egress(tagged: false) == EgressEdit.none)
        #expect(sw.macTable.count == 0)
    }

    @Test func disabledPortsNeitherSendNorReceive() throws {
        var sw = engine()
        _ = sw.send(frame(dst: broadcast, src: macB), from: 2)
        try sw.setPort(2, PortChange(enabled: false))
        #expect(sw.send(frame(dst: broadcast, src: macB), from: 2).forwarding == .drop(.disabled))
        #expect(sw.ports[2].counters[drop: .disabled] == 1)
        #expect(sw.outputs(sw.send(frame(dst: broadcast, src: macA), from: 1), from: 1) == [3, 4])
    }

    @Test func allocationPicksTheLowestFreeAllocatablePort() throws {
        var sw = engine(active: [1, 3])
        #expect(sw.freePort() == 2)
        try sw.setPort(2, PortChange(allocatable: false))
        #expect(sw.freePort() == 4)
    }

    @Test func egressAccountingAndQueueDrops() {
        var sw = engine()
        sw.recordTransmit(port: 2, bytes: 64)
        sw.recordDrop(port: 2, cause: .queueFull, count: 3)
        #expect(sw.ports[2].counters.txFrames == 1)
        #expect(sw.ports[2].counters.txBytes == 64)
        #expect(sw.ports[2].counters[drop: .queueFull] == 3)
        sw.resetCounters()
        #expect(sw.ports[2].counters == PortCounters())
    }

    @Test func tracingChangesNothing() {
        var sw = engine()
        var bytes = frame(dst: macB, src: macA)
        let decision = sw.receive(&bytes, from: 1, now: 0, learn: false)
        #expect(decision.forwarding == .flood)
        #expect(sw.macTable.count == 0)
        #expect(sw.ports[1].counters.rxFrames == 0)
    }
}
