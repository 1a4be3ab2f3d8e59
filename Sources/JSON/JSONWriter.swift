// JSONWriter: JSON values to UTF-8 text, compact or pretty. Written here rather than by jansson
// because jansson prints reals with a fixed precision (448.23378400000001); Swift's shortest
// round-trip form (448.233784) reads back as the same Double and is what people expect to see.

struct JSONWriter {
    private static let hexDigits = Array("0123456789abcdef".utf8)
    let options: JSONSerializationOptions
    private(set) var bytes: [UInt8] = []

    init(options: JSONSerializationOptions) {
        self.options = options
        bytes.reserveCapacity(256)
    }

    mutating func write(_ value: JSON, depth: Int = 0) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .int(let number): append(String(number))
        case .double(let number): writeNumber(number)
        case .string(let text): writeString(text)
        case .array(let items):
            guard !items.isEmpty else { return append("[]") }
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                write(item, depth: depth + 1)
            }
            newline(depth)
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else { return append("{}") }
            var keys = members.keys
            if options.contains(.sortedKeys) { keys.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
            bytes.append(UInt8(ascii: "{"))
            for (index, key) in keys.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                writeString(key)
                append(options.contains(.pretty) ? ": " : ":")
                write(members[key]!, depth: depth + 1)
            }
            newline(depth)
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    private mutating func newline(_ depth: Int) {
        guard options.contains(.pretty) else { return }
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
    }

    /// NaN and infinities, which JSON cannot hold, become null; a whole real keeps its ".0" so it reads back as a real.
    private mutating func writeNumber(_ number: Double) {
        guard number.isFinite else { return append("null") }
        append(number.description)
    }

    private mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            case 0x00..<0x20, 0x7F:
                append("\\u00")
                bytes.append(JSONWriter.hexDigits[Int(byte >> 4)])
                bytes.append(JSONWriter.hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
