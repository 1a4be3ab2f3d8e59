// PortState: one port's configuration (enabled, VLAN membership, allocatable) and its counters.
// Configuration outlives connections: a port keeps it while nothing is plugged in.

public struct PortState: Equatable, Sendable {
    /// Frames from and to a disabled port are dropped (and counted as `disabled`).
    public var enabled = true
    /// Whether automatic allocation (a client asking for "any port") may pick this port.
    public var allocatable = true
    /// The VLAN of untagged frames on this port; nil means untagged frames are dropped.
    public var untaggedVLAN: VLANID? = 1
    /// VLANs carried with an 802.1Q tag (a trunk). Never contains `untaggedVLAN`.
    public var taggedVLANs: Set<VLANID> = []
    /// Whether at least one client is plugged in (set by the worker).
    public internal(set) var active = false
    /// What the spanning tree lets the port do (both true while it is off).
    /// False while what is plugged in has no carrier (a cut cable): the spanning tree takes the link as down.
    public internal(set) var carrier = true
    public internal(set) var learning = true
    public internal(set) var forwarding = true
    public var counters = PortCounters()

    public init() {}

    /// Member of `vlan` at all, and whether with a tag.
    @inline(__always)
    func membership(_ vlan: VLANID) -> (member: Bool, tagged: Bool) {
        if untaggedVLAN == vlan { return (true, false) }
        if taggedVLANs.contains(vlan) { return (true, true) }
        return (false, false)
    }
}
