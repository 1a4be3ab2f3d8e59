// MACTable: where each (VLAN, MAC) was last seen.
//
// Key. The VLAN and the 48-bit address packed into one UInt64 (VLAN in bits 48–59), so the same
// MAC can live on different ports in different VLANs. Group addresses (broadcast, multicast) are
// never learned and never looked up: the forwarding logic floods them before asking.
//
// Aging. An entry not refreshed for `agingNanoseconds` (default 300 s) is gone: lookups ignore it
// at once, and `expire(now:)` removes it and says when the next entry will age out, so the worker
// sleeps until then instead of polling.
//
// Moves. A known MAC seen on another port moves there at once (a VM migrated, a cable was
// re-plugged); the move is counted and reported so the caller can emit `mac.moved`.
//
// Size bound. At most `capacity` entries. When full, new addresses are not learned (counted as
// refused) and frames to them keep being flooded, which is correct, only less efficient.
//
// Flushes. By port (unplugged, reconfigured), by VLAN, or everything.
//
// Totals kept: learned, moved, expired, refused.

public struct MACTable: Sendable {
    public struct Entry: Equatable, Sendable {
        public var port: Int
        /// Monotonic nanoseconds of the last frame from this address.
        public var lastSeen: UInt64
    }

    /// What `learn` did.
    public enum LearnOutcome: Equatable, Sendable {
        case learned
        case refreshed
        case moved(from: Int)
        case refused
    }

    public struct Totals: Equatable, Sendable {
        public var learned: UInt64 = 0
        public var moved: UInt64 = 0
        public var expired: UInt64 = 0
        public var refused: UInt64 = 0
    }

    public var agingNanoseconds: UInt64
    public var capacity: Int
    public private(set) var totals = Totals()
    private var entries: [UInt64: Entry] = [:]

    public init(agingSeconds: Int = 300, capacity: Int = 65536) {
        agingNanoseconds = UInt64(agingSeconds) * 1_000_000_000
        self.capacity = capacity
    }

    @inline(__always)
    static func key(_ mac: MACAddress, _ vlan: VLANID) -> UInt64 { UInt64(vlan & 0x0FFF) << 48 | mac.bits }

    public var count: Int { entries.count }

    /// Time since the entry was last seen; a reading from before that counts as no time at all.
    @inline(__always)
    static func age(_ entry: Entry, _ now: UInt64) -> UInt64 { now > entry.lastSeen ? now - entry.lastSeen : 0 }

    // MARK: learn

    /// Records that `mac` sent a frame on `port` in `vlan` at `now`.
    @inline(__always)
    public mutating func learn(_ mac: MACAddress, vlan: VLANID, port: Int, now: UInt64) -> LearnOutcome {
        let key = MACTable.key(mac, vlan)
        if var entry = entries[key] {
            if entry.port == port || MACTable.age(entry, now) > agingNanoseconds {
                let outcome: LearnOutcome = entry.port == port ? .refreshed : .learned
                entry.port = port
                entry.lastSeen = now
                entries[key] = entry
                return outcome
            }
            let from = entry.port
            entries[key] = Entry(port: port, lastSeen: now)
            totals.moved += 1
            return .moved(from: from)
        }
        guard entries.count < capacity else {
            totals.refused += 1
            return .refused
        }
        entries[key] = Entry(port: port, lastSeen: now)
        totals.learned += 1
        return .learned
    }

    // MARK: lookup

    /// The port `mac` was last seen on in `vlan`, unless that has aged out.
    @inline(__always)
    public func lookup(_ mac: MACAddress, vlan: VLANID, now: UInt64) -> Int? {
        guard let entry = entries[MACTable.key(mac, vlan)], MACTable.age(entry, now) <= agingNanoseconds else { return nil }
        return entry.port
    }

    /// Live entries, optionally only one VLAN's or one port's, sorted by VLAN then MAC.
    public func list(vlan: VLANID? = nil, port: Int? = nil, now: UInt64) -> [(mac: MACAddress, vlan: VLANID, port: Int, ageNanoseconds: UInt64)] {
        entries.compactMap { key, entry in
            let entryVLAN = VLANID(key >> 48)
            guard MACTable.age(entry, now) <= agingNanoseconds,
                  vlan == nil || vlan == entryVLAN, port == nil || port == entry.port else { return nil }
            return (MACAddress(bits: key), entryVLAN, entry.port, MACTable.age(entry, now))
        }.sorted { ($0.vlan, $0.mac) < ($1.vlan, $1.mac) }
    }

    // MARK: flush

    /// Removes every entry on `port`; returns how many.
    @discardableResult
    public mutating func flush(port: Int) -> Int { flush { $1.port == port } }

    /// Removes every entry in `vlan`; returns how many.
    @discardableResult
    public mutating func flush(vlan: VLANID) -> Int { flush { key, _ in VLANID(key >> 48) == vlan } }

    /// Removes entries matching both filters (nil matches all); returns how many.
    @discardableResult
    public mutating func flush(vlan: VLANID?, port: Int?) -> Int {
        flush { key, entry in (vlan == nil || VLANID(key >> 48) == vlan) && (port == nil || entry.port == port) }
    }

    private mutating func flush(where matches: (UInt64, Entry) -> Bool) -> Int {
        let before = entries.count
        entries = entries.filter { !matches($0.key, $0.value) }
        return before - entries.count
    }

    // MARK: expire

    /// Removes entries older than the aging time. Returns the monotonic time at which the next
    /// entry will age out, or nil when the table is empty.
    @discardableResult
    public mutating func expire(now: UInt64) -> UInt64? {
        var next: UInt64?
        var removed = 0
        entries = entries.filter { _, entry in
            if MACTable.age(entry, now) > agingNanoseconds {
                removed += 1
                return false
            }
            let due = entry.lastSeen &+ agingNanoseconds &+ 1
            next = min(next ?? due, due)
            return true
        }
        totals.expired += UInt64(removed)
        return next
    }
}
