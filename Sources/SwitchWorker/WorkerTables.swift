// Slot tables and epoll tokens. Every registered descriptor gets a token of kind + slot +
// generation; freeing a slot bumps its generation, so an event for the previous occupant of a
// slot (or a reused fd number) is recognised as stale and skipped.

enum TokenKind: UInt8 {
    case ctlListener = 1
    case controlListener
    case signals
    case handshake
    case endpointData
    case endpointControl
    case controlClient
}

struct Token: Equatable {
    var kind: TokenKind
    var slot: Int
    var generation: UInt32

    var raw: UInt64 { UInt64(kind.rawValue) << 56 | UInt64(slot & 0xFF_FFFF) << 32 | UInt64(generation) }

    init(kind: TokenKind, slot: Int = 0, generation: UInt32 = 0) {
        self.kind = kind
        self.slot = slot
        self.generation = generation
    }

    init?(raw: UInt64) {
        guard let kind = TokenKind(rawValue: UInt8(raw >> 56)) else { return nil }
        self.init(kind: kind, slot: Int((raw >> 32) & 0xFF_FFFF), generation: UInt32(truncatingIfNeeded: raw))
    }
}

/// Objects addressed by (slot, generation).
struct SlotTable<Element: AnyObject> {
    private var items: [Element?] = []
    private var generations: [UInt32] = []
    private var free: [Int] = []

    /// Stores the element `make` builds for a fresh (slot, generation).
    mutating func insert(_ make: (Int, UInt32) throws -> Element) rethrows -> Element {
        let slot = free.popLast() ?? {
            items.append(nil)
            generations.append(0)
            return items.count - 1
        }()
        let element = try make(slot, generations[slot])
        items[slot] = element
        return element
    }

    func get(_ slot: Int, generation: UInt32) -> Element? {
        guard items.indices.contains(slot), generations[slot] == generation else { return nil }
        return items[slot]
    }

    mutating func remove(_ slot: Int) {
        guard items.indices.contains(slot), items[slot] != nil else { return }
        items[slot] = nil
        generations[slot] &+= 1
        free.append(slot)
    }

    /// The element in `slot` whatever its generation (for callers that hold live slot numbers).
    @inline(__always)
    func get(_ slot: Int) -> Element? { items.indices.contains(slot) ? items[slot] : nil }

    var all: [Element] { items.compactMap { $0 } }
    var count: Int { items.count - free.count }
}
