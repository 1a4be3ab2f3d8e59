// Snooping inside a SwitchEngine: a frame to a group on a snooped VLAN goes to the ports that joined
// the group and the ports towards a querier, rather than everywhere. Queries are flooded (every host
// must hear them); reports and leaves go towards the queriers only; the link-local groups
// (224.0.0.0/24, ff02::1) flood as before. A group nobody joined floods while nobody queries the
// VLAN (no membership can be kept up there) and goes only towards the queriers once someone does.
// Off by default, and then a group frame costs one optional test.

extension SwitchEngine {
    /// Turns snooping on (the bridge's address is its queries' source) or changes its settings.
    public mutating func enableMulticastSnooping(address: MACAddress, configuration: MulticastSnoopingConfiguration) throws(SwitchEngineError) {
        if let problem = configuration.problem { throw .invalid(problem) }
        if var snooping = multicastSnooping, snooping.address == address {
            snooping.setConfiguration(configuration)
            multicastSnooping = snooping
        } else {
            multicastSnooping = MulticastSnooping(address: address, configuration: configuration)
        }
        multicastTargets = [:]
    }

    public mutating func disableMulticastSnooping() {
        multicastSnooping = nil
        multicastTargets = [:]
    }

    /// Ages groups and router ports out and queues the querier's queries; call it every few hundred ms.
    public mutating func tickMulticastSnooping(now: UInt64) {
        guard multicastSnooping != nil else { return }
        if multicastSnooping!.tick(now: now, vlans: vlans) { multicastTargets = [:] }
    }

    /// The queries to send since the last call, each already tagged (or not) for its port.
    public mutating func takeMulticastTransmissions() -> [(port: Int, frame: [UInt8])] {
        guard multicastSnooping != nil else { return [] }
        var frames: [(port: Int, frame: [UInt8])] = []
        for (vlan, frame) in multicastSnooping!.takeTransmissions() {
            for target in floodTargets(for: FrameClass(vlan: vlan, tci: nil)) {
                frames.append((target.port, FrameClass(vlan: vlan, tci: nil).egress(tagged: target.tagged).apply(to: frame)))
            }
        }
        return frames
    }

    /// The decision for a frame to a group (not broadcast) while snooping is on.
    mutating func snoop(_ bytes: UnsafeRawBufferPointer, length: Int, from port: Int, frameClass: FrameClass, now: UInt64,
                        learn: Bool) -> Decision {
        let flood = Decision(forwarding: .flood, frameClass: frameClass, length: length)
        guard let snooping = multicastSnooping, snooping.snoops(frameClass.vlan) else { return flood }
        let typeOffset = frameClass.tci == nil ? 12 : 16
        let etherType = UInt16(bytes[typeOffset]) << 8 | UInt16(bytes[typeOffset + 1])
        let ipv4 = etherType == 0x0800 && bytes[0] == 0x01 && bytes[1] == 0x00 && bytes[2] == 0x5E
        let ipv6 = etherType == 0x86DD && bytes[0] == 0x33 && bytes[1] == 0x33
        guard ipv4 || ipv6 else { return flood }
        let message: MulticastMessage?
        do {
            message = try MulticastMessage.parse(bytes, length: length, offset: typeOffset + 2, etherType: etherType)
        } catch {
            if learn {
                switch error {
                case .badChecksum: multicastSnooping!.counters.badChecksum += 1
                case .malformed: multicastSnooping!.counters.malformed += 1
                }
                ports[port].counters[drop: .malformedMulticast] += 1
            }
            return Decision(forwarding: .drop(.malformedMulticast), frameClass: frameClass, length: length)
        }
        guard let message else { return flood }
        if learn, multicastSnooping!.heard(message, vlan: frameClass.vlan, port: port, source: MACAddress(bytes, at: 6), now: now) {
            multicastTargets = [:]
        }
        switch message {
        case .query:
            return flood
        case .report, .leave:
            return towardsQueriers(frameClass, length, now)
        case .data(let group):
            if group.isLinkLocalControl { return flood }
            let key = MulticastGroupKey(vlan: frameClass.vlan, group: group)
            if multicastSnooping!.members[key] == nil {
                // Nobody joined: with nobody asking either, flooding is all that is safe.
                guard multicastSnooping!.hasQuerier(frameClass.vlan, now: now) else { return flood }
                return towardsQueriers(frameClass, length, now)
            }
            return Decision(forwarding: .multicast(targets(key, now: now)), frameClass: frameClass, length: length)
        }
    }

    /// To the ports towards the VLAN's queriers only (group 0 stands for that in the targets cache).
    private mutating func towardsQueriers(_ frameClass: FrameClass, _ length: Int, _ now: UInt64) -> Decision {
        let key = MulticastGroupKey(vlan: frameClass.vlan, group: MulticastGroup(high: 0, low: 0))
        return Decision(forwarding: .multicast(targets(key, now: now)), frameClass: frameClass, length: length)
    }

    /// The flood targets of the key's VLAN that are members of its group or lead to a querier
    /// (group 0: towards the queriers only), kept until the tables or the flood lists change.
    private mutating func targets(_ key: MulticastGroupKey, now: UInt64) -> [FloodTarget] {
        if let cached = multicastTargets[key] { return cached }
        guard let snooping = multicastSnooping else { return [] }
        let wanted = Set(snooping.memberPorts(key, now: now) + snooping.routerPortList(key.vlan, now: now))
        let list = floodTargets(for: FrameClass(vlan: key.vlan, tci: nil)).filter { wanted.contains($0.port) }
        multicastTargets[key] = list
        return list
    }

    /// A port unplugged or disabled is no member of anything.
    mutating func multicastPortWentAway(_ port: Int) {
        guard multicastSnooping != nil else { return }
        if multicastSnooping!.forget(port: port) { multicastTargets = [:] }
    }
}
