// DeliveryQueue: frames waiting for their due time, a binary min-heap on (due, sequence) so equal
// due times keep arrival order.

struct PendingFrame {
    let due: UInt64
    let sequence: UInt64
    let bytes: [UInt8]
}

struct DeliveryQueue {
    private var heap: [PendingFrame] = []
    private var nextSequence: UInt64 = 0

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    var nextDue: UInt64? { heap.first?.due }

    mutating func push(due: UInt64, bytes: [UInt8]) {
        heap.append(PendingFrame(due: due, sequence: nextSequence, bytes: bytes))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// The earliest frame if it is due by `now`.
    mutating func popDue(now: UInt64) -> PendingFrame? {
        guard let first = heap.first, first.due <= now else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return first }
        heap[0] = last
        var parent = 0
        while true {
            let left = parent * 2 + 1, right = left + 1
            var smallest = parent
            if left < heap.count && precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count && precedes(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }

    mutating func removeAll() { heap.removeAll() }

    private func precedes(_ a: PendingFrame, _ b: PendingFrame) -> Bool {
        a.due < b.due || (a.due == b.due && a.sequence < b.sequence)
    }
}
