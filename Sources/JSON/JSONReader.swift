// JSONReader: typed, validated reads of an object's fields. Every error names the field's
// path and the rule it broke ("field `ports` must be an integer between 1 and 4096"), and
// finish() refuses fields that were never read, so unknown fields are errors too. `null` is a
// value like any other: refused unless the read says it is allowed (`nullable: true`, or a PATCH
// field, where it means "turn off"), so a field left out and a field set to null never blur.
//
//     var reader = try JSONReader(body)
//     let ports = try reader.int("ports", in: 1...4096, default: 32)
//     try reader.finish()

/// A field that broke a rule. `path` is dotted (`interfaces[0].name`); the message is for users.
public struct JSONFieldError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let rule: String

    public init(path: String, rule: String) {
        self.path = path
        self.rule = rule
    }

    public var description: String {
        path.isEmpty ? "the body \(rule)" : "field `\(path)` \(rule)"
    }
}

/// A field as a PATCH sees it: left out, set to null (clear it), or given a value.
public enum JSONPatchField<T> {
    case absent
    case clear
    case set(T)
}

public struct JSONReader {
    public let object: JSONObject
    public let path: String
    private var read: Set<String> = []

    /// Wraps `value`, which must be an object.
    public init(_ value: JSON, path: String = "") throws(JSONFieldError) {
        guard case .object(let object) = value else {
            throw JSONFieldError(path: path, rule: "must be an object, not \(value.kindName)")
        }
        self.object = object
        self.path = path
    }

    private func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw member, marked as read; nil when absent.
    public mutating func value(_ key: String) -> JSON? {
        read.insert(key)
        return object[key]
    }

    public func contains(_ key: String) -> Bool { object[key] != nil }

    /// The member, or nil when absent; null is refused unless `nullable` (then it reads as absent).
    private mutating func present(_ key: String, _ kind: String, nullable: Bool) throws(JSONFieldError) -> JSON? {
        guard let value = value(key) else { return nil }
        if value.isNull {
            if nullable { return nil }
            throw JSONFieldError(path: fieldPath(key), rule: "must be \(kind), not null")
        }
        return value
    }

    private mutating func required(_ key: String, _ kind: String) throws(JSONFieldError) -> JSON {
        guard let value = value(key), !value.isNull else {
            throw JSONFieldError(path: fieldPath(key), rule: "is required and must be \(kind)")
        }
        return value
    }

    public mutating func string(_ key: String) throws(JSONFieldError) -> String {
        let value = try required(key, "a string")
        return try asString(value, key)
    }

    public mutating func string(_ key: String, default fallback: String) throws(JSONFieldError) -> String {
        try optionalString(key) ?? fallback
    }

    /// nil when absent (or null, where `nullable`).
    public mutating func optionalString(_ key: String, nullable: Bool = false) throws(JSONFieldError) -> String? {
        guard let value = try present(key, "a string", nullable: nullable) else { return nil }
        return try asString(value, key)
    }

    /// A string that must match `rule`; `ruleText` completes "must be …".
    public mutating func string(_ key: String, matching rule: (String) -> Bool, ruleText: String) throws(JSONFieldError) -> String {
        let text = try string(key)
        guard rule(text) else { throw JSONFieldError(path: fieldPath(key), rule: "must be \(ruleText)") }
        return text
    }

    public mutating func int(_ key: String, in range: ClosedRange<Int>) throws(JSONFieldError) -> Int {
        let value = try required(key, "an integer between \(range.lowerBound) and \(range.upperBound)")
        return try asInt(value, key, range)
    }

    public mutating func int(_ key: String, in range: ClosedRange<Int>, default fallback: Int) throws(JSONFieldError) -> Int {
        try optionalInt(key, in: range) ?? fallback
    }

    public mutating func optionalInt(_ key: String, in range: ClosedRange<Int>, nullable: Bool = false) throws(JSONFieldError) -> Int? {
        let kind = "an integer between \(range.lowerBound) and \(range.upperBound)"
        guard let value = try present(key, kind, nullable: nullable) else { return nil }
        return try asInt(value, key, range)
    }

    public mutating func double(_ key: String, in range: ClosedRange<Double>) throws(JSONFieldError) -> Double {
        let value = try required(key, "a number between \(range.lowerBound) and \(range.upperBound)")
        return try asDouble(value, key, range)
    }

    public mutating func optionalDouble(_ key: String, in range: ClosedRange<Double>) throws(JSONFieldError) -> Double? {
        guard let value = try present(key, "a number between \(range.lowerBound) and \(range.upperBound)", nullable: false) else { return nil }
        return try asDouble(value, key, range)
    }

    public mutating func bool(_ key: String) throws(JSONFieldError) -> Bool {
        let value = try required(key, "a boolean")
        return try asBool(value, key)
    }

    public mutating func bool(_ key: String, default fallback: Bool) throws(JSONFieldError) -> Bool {
        guard let value = try present(key, "a boolean", nullable: false) else { return fallback }
        return try asBool(value, key)
    }

    /// A nested object as its own reader (call `finish()` on it too).
    public mutating func object(_ key: String) throws(JSONFieldError) -> JSONReader {
        let value = try required(key, "an object")
        return try JSONReader(value, path: fieldPath(key))
    }

    public mutating func optionalObject(_ key: String) throws(JSONFieldError) -> JSONReader? {
        guard let value = try present(key, "an object", nullable: false) else { return nil }
        return try JSONReader(value, path: fieldPath(key))
    }

    /// An array whose elements `element` converts; its errors carry the element's index.
    public mutating func array<T>(_ key: String, element: (JSON, String) throws(JSONFieldError) -> T) throws(JSONFieldError) -> [T] {
        let value = try required(key, "an array")
        guard case .array(let items) = value else {
            throw JSONFieldError(path: fieldPath(key), rule: "must be an array, not \(value.kindName)")
        }
        var out: [T] = []
        for (index, item) in items.enumerated() {
            out.append(try element(item, "\(fieldPath(key))[\(index)]"))
        }
        return out
    }

    /// An array of integers, each in `range`; `what` names one in errors ("a port number").
    public mutating func ints(_ key: String, in range: ClosedRange<Int>, what: String = "an integer") throws(JSONFieldError) -> [Int] {
        try array(key) { (item, path) throws(JSONFieldError) in
            guard let number = item.integerValue, range.contains(number) else {
                throw JSONFieldError(path: path, rule: "must be \(what) between \(range.lowerBound) and \(range.upperBound)")
            }
            return number
        }
    }

    /// A field for PATCH: absent, null (clear) or a value converted by `convert`.
    public mutating func patch<T>(_ key: String, _ convert: (inout JSONReader, String) throws(JSONFieldError) -> T) throws(JSONFieldError) -> JSONPatchField<T> {
        guard let value = object[key] else { return .absent }
        if value.isNull {
            read.insert(key)
            return .clear
        }
        return .set(try convert(&self, key))
    }

    /// Fails on the first field that was never read, i.e. one the operation does not know.
    public func finish() throws(JSONFieldError) {
        if let unknown = object.keys.first(where: { !read.contains($0) }) {
            throw JSONFieldError(path: fieldPath(unknown), rule: "is not a known field")
        }
    }

    // MARK: conversions

    private func asString(_ value: JSON, _ key: String) throws(JSONFieldError) -> String {
        guard case .string(let text) = value else {
            throw JSONFieldError(path: fieldPath(key), rule: "must be a string, not \(value.kindName)")
        }
        return text
    }

    private func asInt(_ value: JSON, _ key: String, _ range: ClosedRange<Int>) throws(JSONFieldError) -> Int {
        let rule = "must be an integer between \(range.lowerBound) and \(range.upperBound)"
        guard let number = value.integerValue else {
            throw JSONFieldError(path: fieldPath(key), rule: "\(rule), not \(value.kindName)")
        }
        guard range.contains(number) else { throw JSONFieldError(path: fieldPath(key), rule: "\(rule), not \(number)") }
        return number
    }

    private func asDouble(_ value: JSON, _ key: String, _ range: ClosedRange<Double>) throws(JSONFieldError) -> Double {
        let rule = "must be a number between \(range.lowerBound) and \(range.upperBound)"
        guard let number = value.doubleValue else {
            throw JSONFieldError(path: fieldPath(key), rule: "\(rule), not \(value.kindName)")
        }
        guard range.contains(number) else { throw JSONFieldError(path: fieldPath(key), rule: "\(rule), not \(number)") }
        return number
    }

    private func asBool(_ value: JSON, _ key: String) throws(JSONFieldError) -> Bool {
        guard case .bool(let flag) = value else {
            throw JSONFieldError(path: fieldPath(key), rule: "must be a boolean, not \(value.kindName)")
        }
        return flag
    }
}
