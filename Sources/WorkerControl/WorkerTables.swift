// Slot tables and epoll tokens. Every registered descriptor gets a token of kind + slot +
// generation; freeing a slot bumps its generation, so an event for the previous occupant of a
// slot (or a reused fd number) is recognised as stale and skipped.

/// An epoll token: a kind chosen by the worker (its own enum's raw value), a slot and a generation.
public struct Token: Equatable, Sendable {
    public var kind: UInt8
    public var slot: Int
    public var generation: UInt32

    public var raw: UInt64 { UInt64(kind) << 56 | UInt64(slot & 0xFF_FFFF) << 32 | UInt64(generation) }

    public init(kind: UInt8, slot: Int = 0, generation: UInt32 = 0) {
        self.kind = kind
        self.slot = slot
        self.generation = generation
    }

    public init(raw: UInt64) {
        self.init(kind: UInt8(raw >> 56), slot: Int((raw >> 32) & 0xFF_FFFF), generation: UInt32(truncatingIfNeeded: raw))
    }
}

/// Objects addressed by (slot, generation). Inlinable, so the worker's per-frame lookups are
/// specialised for its element type instead of resolving generic metadata at run time.
public struct SlotTable<Element: AnyObject> {
    public init() {}

    @usableFromInline private(set) var items: [Element?] = []
    @usableFromInline private(set) var generations: [UInt32] = []
    private var free: [Int] = []

    /// Stores the element `make` builds for a fresh (slot, generation).
    public mutating func insert(_ make: (Int, UInt32) throws -> Element) rethrows -> Element {
        let slot = free.popLast() ?? {
            items.append(nil)
            generations.append(0)
            return items.count - 1
        }()
        let element = try make(slot, generations[slot])
        items[slot] = element
        return element
    }

    @inlinable
    public func get(_ slot: Int, generation: UInt32) -> Element? {
        guard slot >= 0 && slot < items.count, generations[slot] == generation else { return nil }
        return items[slot]
    }

    public mutating func remove(_ slot: Int) {
        guard items.indices.contains(slot), items[slot] != nil else { return }
        items[slot] = nil
        generations[slot] &+= 1
        free.append(slot)
    }

    /// The element in `slot` whatever its generation (for callers that hold live slot numbers).
    @inlinable
    public func get(_ slot: Int) -> Element? { slot >= 0 && slot < items.count ? items[slot] : nil }

    public var all: [Element] { items.compactMap { $0 } }
    public var count: Int { items.count - free.count }
}
