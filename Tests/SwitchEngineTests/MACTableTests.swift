// MACTable against a plain Dictionary model: random learns, lookups, flushes and expiry over
// enough addresses to force resizes and long probe chains.
import CableEngine
import SwitchEngine
import Testing

@Suite struct MACTableTests {
    struct Model {
        var entries: [UInt64: (port: Int, seen: UInt64)] = [:]
    }

    @Test func agreesWithADictionaryModel() {
        var generator = RandomSource(seed: 42)
        // Below the model's peak (about 2,050 live entries), so a full table is met and refuses.
        let capacity = 1500
        var table = MACTable(agingSeconds: 50, capacity: capacity)
        var outcomes: [String: Int] = [:]
        var model = Model()
        let aging: UInt64 = 50 * second
        var now: UInt64 = 1_000 * second
        for step in 0..<60_000 {
            now += UInt64(generator.next() % 3) * 10_000_000
            // Few distinct MACs per VLAN, including 0 and group-free values near each other.
            let mac = MACAddress(bits: generator.next() % 6000)
            let vlan = VLANID(generator.next() % 3 * 1023)
            let key = UInt64(vlan) << 48 | mac.bits
            switch generator.next() % 10 {
            case 0..<6:
                let port = Int(generator.next() % 8) + 1
                let outcome = table.learn(mac, vlan: vlan, port: port, now: now)
                outcomes[String(describing: outcome), default: 0] += 1
                if let existing = model.entries[key] {
                    let alive = now - existing.seen <= aging
                    if existing.port != port && alive {
                        #expect(outcome == .moved(from: existing.port))
                    }
                    model.entries[key] = (port, now)
                } else if model.entries.count < capacity {
                    #expect(outcome == .learned)
                    model.entries[key] = (port, now)
                } else {
                    #expect(outcome == .refused)
                }
            case 6..<9:
                let expected = model.entries[key].flatMap { now - $0.seen <= aging ? $0.port : nil }
                #expect(table.lookup(mac, vlan: vlan, now: now) == expected, "step \(step)")
            default:
                if generator.next() % 20 == 0 {
                    let port = Int(generator.next() % 8) + 1
                    let before = model.entries.count
                    model.entries = model.entries.filter { $0.value.port != port }
                    #expect(table.flush(port: port) == before - model.entries.count)
                } else if generator.next() % 50 == 0 {
                    table.expire(now: now)
                    model.entries = model.entries.filter { now - $0.value.seen <= aging }
                }
            }
            #expect(table.count == model.entries.count)
        }
        #expect((outcomes["refused"] ?? 0) > 0 && (outcomes["learned"] ?? 0) > 0, "\(outcomes)")
        let listed = table.list(now: now).count
        #expect(listed == model.entries.filter { now - $0.value.seen <= aging }.count)
    }
}
