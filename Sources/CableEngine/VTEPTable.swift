// VTEPTable: which remote tunnel end (VTEP) each MAC address was last seen behind, learned from the
// frames that arrive on a multicast VXLAN end, as vdeplug4's vxlan plugin and the kernel's vxlan
// device learn. A frame to a known unicast MAC goes to its VTEP alone; broadcast, multicast and
// unknown destinations go to the group. Entries age out, so a host that moved is found again.
import SwitchEngine

public struct VTEPTable<Address: Hashable & Sendable>: Sendable {
    public struct Entry: Equatable, Sendable {
        public var address: Address
        public var seen: UInt64
    }

    /// How long an entry lives without a frame from it (ns); vdeplug4's default is 128 s.
    public let lifetime: UInt64
    /// Keeps the table bounded when a peer sends from many source MACs.
    public let capacity: Int
    public private(set) var entries: [MACAddress: Entry] = [:]

    public init(lifetime: UInt64 = 128_000_000_000, capacity: Int = 4096) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// A frame from `source` arrived from `address` at `now` (group sources are never learned).
    public mutating func learn(_ source: MACAddress, from address: Address, now: UInt64) {
        guard !source.isGroup else { return }
        if entries[source] == nil && entries.count >= capacity {
            expire(now: now)
            guard entries.count < capacity else { return }
        }
        entries[source] = Entry(address: address, seen: now)
    }

    /// Where a frame to `destination` goes: its VTEP, or nil for the group (broadcast, multicast, unknown, aged out).
    public func vtep(for destination: MACAddress, now: UInt64) -> Address? {
        guard !destination.isGroup, let entry = entries[destination], now &- entry.seen < lifetime else { return nil }
        return entry.address
    }

    public mutating func expire(now: UInt64) {
        entries = entries.filter { now &- $0.value.seen < lifetime }
    }
}
