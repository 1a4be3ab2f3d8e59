// Fields a test needs from an answer: a missing or mistyped one fails the test with what was
// asked for and what the answer held, instead of trapping the whole test process.
import JSON

public struct MissingField: Error, CustomStringConvertible {
    public let key: String
    public let wanted: String
    public let answer: JSON
    public var description: String { "no \(wanted) \"\(key)\" in \(answer.text())" }
}

extension JSON {
    public func required(_ key: String) throws -> JSON {
        guard let value = self[key], value != .null else { throw MissingField(key: key, wanted: "value", answer: self) }
        return value
    }

    public func requiredInt(_ key: String) throws -> Int {
        guard let value = self[key]?.intValue else { throw MissingField(key: key, wanted: "integer", answer: self) }
        return value
    }

    public func requiredString(_ key: String) throws -> String {
        guard let value = self[key]?.stringValue else { throw MissingField(key: key, wanted: "string", answer: self) }
        return value
    }

    public func requiredArray(_ key: String) throws -> [JSON] {
        guard let value = self[key]?.arrayValue else { throw MissingField(key: key, wanted: "array", answer: self) }
        return value
    }
}
