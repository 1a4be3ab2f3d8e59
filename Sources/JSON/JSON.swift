// JSON: the value type every module uses for JSON. Objects keep their keys in insertion order,
// so what we serialize is stable. Jansson turns bytes into JSON (Jansson.swift), JSONWriter turns
// JSON into text; nothing outside this module ever sees a json_t.

public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// The member `key` of an object, or nil (also for non-objects).
    public subscript(key: String) -> JSON? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The element at `index` of an array, or nil.
    public subscript(index: Int) -> JSON? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    public var stringValue: String? { if case .string(let v) = self { return v }; return nil }
    public var boolValue: Bool? { if case .bool(let v) = self { return v }; return nil }
    public var intValue: Int? { if case .int(let v) = self { return Int(exactly: v) }; return nil }
    /// An integer as JSON Schema sees one: an integer, or a real with no fraction (`560.0`).
    public var integerValue: Int? {
        switch self {
        case .int(let v): return Int(exactly: v)
        case .double(let v): return v.rounded() == v && abs(v) < 9.2e18 ? Int(v) : nil
        default: return nil
        }
    }
    public var arrayValue: [JSON]? { if case .array(let v) = self { return v }; return nil }
    public var objectValue: JSONObject? { if case .object(let v) = self { return v }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// Numbers as a Double, whether stored as integer or real.
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }

    /// The kind's name as users read it in error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON object: string keys in insertion order, each once.
public struct JSONObject: Sendable, Equatable, Sequence {
    public private(set) var keys: [String] = []
    private var values: [String: JSON] = [:]

    public init() {}

    public init(_ pairs: [(String, JSON)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Reading gives the member or nil; assigning nil removes the key, assigning a value keeps its position.
    public subscript(key: String) -> JSON? {
        get { values[key] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public func makeIterator() -> AnyIterator<(key: String, value: JSON)> {
        var index = 0
        return AnyIterator {
            guard index < keys.count else { return nil }
            defer { index += 1 }
            return (keys[index], values[keys[index]]!)
        }
    }

    /// Objects are equal when they hold the same members, whatever the order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool { lhs.values == rhs.values }
}
