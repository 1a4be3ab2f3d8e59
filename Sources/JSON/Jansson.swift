// The only file that touches jansson: parsing bytes into JSON (strict: valid UTF-8, no NUL,
// no duplicate keys, nothing after the value). Text is written by JSONWriter.
import CJansson

/// Why some bytes are not JSON, with jansson's words and the 1-based line and column.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public let line: Int
    public let column: Int
    public let position: Int

    public var description: String { "\(message) at line \(line), column \(column)" }
}

public struct JSONSerializationOptions: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Two-space indentation and one member per line.
    public static let pretty = JSONSerializationOptions(rawValue: 1)
    /// Object keys sorted instead of in insertion order.
    public static let sortedKeys = JSONSerializationOptions(rawValue: 2)
}

extension JSON {
    /// Calls `json_object_seed(0)` so jansson's hash seed is set before any threads start.
    public static func prepare() { json_object_seed(0) }

    /// Parses one JSON text (any value at the top level).
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSON {
        // One extra byte so the pointer is valid even for empty input; it is not part of the text.
        let buffer = Array(bytes) + [0]
        do {
            return try parse(buffer: buffer, flags: JSON_DECODE_ANY | JSON_REJECT_DUPLICATES)
        } catch where error.message.hasPrefix("too big") && error.message.hasSuffix("integer") {
            // Still a JSON number: read every number as a real, then give back integers to those
            // that are whole and fit, so only the ones beyond 64 bits stay reals.
            return try parse(buffer: buffer, flags: JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL).wholeRealsAsIntegers()
        }
    }

    private static func parse(buffer: [UInt8], flags: Int32) throws(JSONParseError) -> JSON {
        var error = json_error_t()
        let root = buffer.withUnsafeBufferPointer { raw in
            raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { chars in
                json_loadb(chars, raw.count - 1, Int(flags), &error)
            }
        }
        guard let root else {
            let text = withUnsafeBytes(of: &error.text) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            throw JSONParseError(message: text, line: Int(error.line), column: Int(error.column), position: Int(error.position))
        }
        defer { json_decref(root) }
        return JSON(jansson: root)
    }

    private func wholeRealsAsIntegers() -> JSON {
        switch self {
        case .double(let value) where value.rounded() == value && abs(value) < 9.2e18: return .int(Int64(value))
        case .array(let items): return .array(items.map { $0.wholeRealsAsIntegers() })
        case .object(let object): return .object(JSONObject(object.map { ($0.key, $0.value.wholeRealsAsIntegers()) }))
        default: return self
        }
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        try parse(Array(text.utf8))
    }

    /// The JSON text as UTF-8 bytes (JSONWriter). NaN and infinities, which JSON cannot hold, become null.
    public func serialized(_ options: JSONSerializationOptions = []) -> [UInt8] {
        var writer = JSONWriter(options: options)
        writer.write(self)
        return writer.bytes
    }

    /// The JSON text as a String.
    public func text(_ options: JSONSerializationOptions = []) -> String {
        String(decoding: serialized(options), as: UTF8.self)
    }

    private init(jansson value: UnsafeMutablePointer<json_t>) {
        switch CJansson_typeof(value) {
        case JSON_OBJECT:
            var object = JSONObject()
            var iterator = json_object_iter(value)
            while let current = iterator {
                let keyLength = json_object_iter_key_len(current)
                let key = json_object_iter_key(current)!.withMemoryRebound(to: UInt8.self, capacity: keyLength) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: keyLength), as: UTF8.self)
                }
                object[key] = JSON(jansson: json_object_iter_value(current))
                iterator = json_object_iter_next(value, current)
            }
            self = .object(object)
        case JSON_ARRAY:
            self = .array((0..<json_array_size(value)).map { JSON(jansson: json_array_get(value, $0)) })
        case JSON_STRING:
            let length = json_string_length(value)
            self = .string(json_string_value(value)!.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            })
        case JSON_INTEGER: self = .int(Int64(json_integer_value(value)))
        case JSON_REAL: self = .double(json_real_value(value))
        case JSON_TRUE: self = .bool(true)
        case JSON_FALSE: self = .bool(false)
        default: self = .null
        }
    }
}
