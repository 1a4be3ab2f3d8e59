// CounterDelta: what counters counted between two snapshots of them (a switch's or a cable's
// `counters` answer), so a report says what the run itself sent, not what building the lab did.
// Numbers are subtracted, objects compared key by key, lists of ports matched by port number.
import JSON

public enum CounterDelta {
    public static func between(_ start: JSON?, _ end: JSON) -> JSON {
        switch end {
        case .int(let after):
            if case .int(let before)? = start { return .int(after - before) }
            return end
        case .double(let after):
            return .double(after - (start?.doubleValue ?? 0))
        case .object(let object):
            var delta = JSONObject()
            for (key, value) in object { delta[key] = between(start?[key], value) }
            return .object(delta)
        case .array(let items) where items.allSatisfy({ $0["port"]?.intValue != nil }):
            let before = Dictionary((start?.arrayValue ?? []).compactMap { item in item["port"]?.intValue.map { ($0, item) } },
                                    uniquingKeysWith: { first, _ in first })
            return .array(items.map { item in
                var changed = between(before[item["port"]!.intValue!], item).objectValue ?? [:]
                changed["port"] = item["port"]
                return .object(changed)
            })
        default:
            return end
        }
    }
}
