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
// Storage. Open addressing with linear probing in power-of-two arrays, a multiplicative hash
// (no SipHash: the keys are not attacker-chosen in a way that matters at this size, and the lookup
// runs twice per frame), backward-shift deletion so no tombstones build up. Load stays under 1/2.
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
    public private(set) var count = 0

    /// Marks a used slot, so (VLAN 0, 00:00:00:00:00:00) is distinct from empty.
    private static let used: UInt64 = 1 << 63
    private var keys: [UInt64]
    private var ports: [Int32]
    private var lastSeen: [UInt64]
    private var mask: Int

    public init(agingSeconds: Int = 300, capacity: Int = 65536) {
        agingNanoseconds = UInt64(agingSeconds) * 1_000_000_000
        self.capacity = capacity
        keys = Array(repeating: 0, count: 256)
        ports = Array(repeating: 0, count: 256)
        lastSeen = Array(repeating: 0, count: 256)
        mask = 255
    }

    @inline(__always)
    static func key(_ mac: MACAddress, _ vlan: VLANID) -> UInt64 { used | UInt64(vlan & 0x0FFF) << 48 | mac.bits }

    @inline(__always)
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask }

    /// The slot holding `key`, or nil.
    @inline(__always)
    private func find(_ key: UInt64) -> Int? {
        var index = home(key)
        while true {
            let stored = keys[index]
            if stored == key { return index }
            if stored == 0 { return nil }
            index = (index + 1) & mask
        }
    }

    /// Time since the entry was last seen; a reading from before that counts as no time at all.
    @inline(__always)
    static func age(_ seen: UInt64, _ now: UInt64) -> UInt64 { now > seen ? now - seen : 0 }

    // MARK: learn

    /// Records that `mac` sent a frame on `port` in `vlan` at `now`.
    @inline(__always)
    public mutating func learn(_ mac: MACAddress, vlan: VLANID, port: Int, now: UInt64) -> LearnOutcome {
        let key = MACTable.key(mac, vlan)
        if let slot = find(key) {
            let previous = Int(ports[slot])
            if previous == port || MACTable.age(lastSeen[slot], now) > agingNanoseconds {
                ports[slot] = Int32(port)
                lastSeen[slot] = now
                return previous == port ? .refreshed : .learned
            }
            ports[slot] = Int32(port)
            lastSeen[slot] = now
            totals.moved += 1
            return .moved(from: previous)
        }
        guard count < capacity else {
            totals.refused += 1
            return .refused
        }
        if (count + 1) * 2 > keys.count { resize(keys.count * 2) }
        insert(key, port: Int32(port), seen: now)
        totals.learned += 1
        return .learned
    }

    private mutating func insert(_ key: UInt64, port: Int32, seen: UInt64) {
        var index = home(key)
        while keys[index] != 0 { index = (index + 1) & mask }
        keys[index] = key
        ports[index] = port
        lastSeen[index] = seen
        count += 1
    }

    private mutating func resize(_ slots: Int) {
        let old = (keys, ports, lastSeen)
        keys = Array(repeating: 0, count: slots)
        ports = Array(repeating: 0, count: slots)
        lastSeen = Array(repeating: 0, count: slots)
        mask = slots - 1
        count = 0
        for index in old.0.indices where old.0[index] != 0 { insert(old.0[index], port: old.1[index], seen: old.2[index]) }
    }

    // MARK: lookup

    /// The port `mac` was last seen on in `vlan`, unless that has aged out.
    @inline(__always)
    public func lookup(_ mac: MACAddress, vlan: VLANID, now: UInt64) -> Int? {
        guard let slot = find(MACTable.key(mac, vlan)), MACTable.age(lastSeen[slot], now) <= agingNanoseconds else { return nil }
        return Int(ports[slot])
    }

    /// Live entries, optionally only one VLAN's or one port's, sorted by VLAN then MAC.
    public func list(vlan: VLANID? = nil, port: Int? = nil, now: UInt64) -> [(mac: MACAddress, vlan: VLANID, port: Int, ageNanoseconds: UInt64)] {
        keys.indices.compactMap { index -> (mac: MACAddress, vlan: VLANID, port: Int, ageNanoseconds: UInt64)? in
            let key = keys[index]
            guard key != 0 else { return nil }
            let entryVLAN = VLANID((key >> 48) & 0x0FFF)
            let entryPort = Int(ports[index])
            let age = MACTable.age(lastSeen[index], now)
            guard age <= agingNanoseconds, vlan == nil || vlan == entryVLAN, port == nil || port == entryPort else { return nil }
            return (MACAddress(bits: key), entryVLAN, entryPort, age)
        }.sorted { ($0.vlan, $0.mac) < ($1.vlan, $1.mac) }
    }

    // MARK: flush

    /// Removes every entry on `port`; returns how many.
    @discardableResult
    public mutating func flush(port: Int) -> Int { removeAll { _, entryPort, _ in entryPort == port } }

    /// Removes every entry in `vlan`; returns how many.
    @discardableResult
    public mutating func flush(vlan: VLANID) -> Int { removeAll { key, _, _ in VLANID((key >> 48) & 0x0FFF) == vlan } }

    /// Removes entries matching both filters (nil matches all); returns how many.
    @discardableResult
    public mutating func flush(vlan: VLANID?, port: Int?) -> Int {
        removeAll { key, entryPort, _ in
            (vlan == nil || VLANID((key >> 48) & 0x0FFF) == vlan) && (port == nil || entryPort == port)
        }
    }

    /// Rebuilds the table without the entries `matches` selects; returns how many went.
    private mutating func removeAll(where matches: (UInt64, Int, UInt64) -> Bool) -> Int {
        let before = count
        let old = (keys, ports, lastSeen)
        guard old.0.indices.contains(where: { old.0[$0] != 0 && matches(old.0[$0], Int(old.1[$0]), old.2[$0]) }) else { return 0 }
        keys = Array(repeating: 0, count: old.0.count)
        count = 0
        for index in old.0.indices where old.0[index] != 0 && !matches(old.0[index], Int(old.1[index]), old.2[index]) {
            insert(old.0[index], port: old.1[index], seen: old.2[index])
        }
        return before - count
    }

    // MARK: expire

    /// Removes entries older than the aging time. Returns the monotonic time at which the next
    /// entry will age out, or nil when the table is empty.
    @discardableResult
    public mutating func expire(now: UInt64) -> UInt64? {
        let aging = agingNanoseconds
        let removed = removeAll { _, _, seen in MACTable.age(seen, now) > aging }
        totals.expired += UInt64(removed)
        var next: UInt64?
        for index in keys.indices where keys[index] != 0 {
            let due = lastSeen[index] &+ aging &+ 1
            next = min(next ?? due, due)
        }
        return next
    }
}
