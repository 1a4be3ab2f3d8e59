// YAMLDocument: one YAML document read by libyaml (its document loader) into a JSON value, with
// where every value starts in the text, by RFC 6901 pointer, so an error about `/cables/1/a/port`
// can say "line 12, column 9". Plain scalars are typed as YAML 1.2's core schema does (null,
// booleans, integers, floats); quoted and block scalars are strings. Mapping keys must be scalars
// and appear once; aliases are followed, but not into themselves.
import CYAML
import JSON

/// A place in the text, both 1-based.
public struct SourcePosition: Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

public struct YAMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public let position: SourcePosition?

    public var description: String { position.map { "\(message) at \($0)" } ?? message }
}

public struct YAMLDocument: Sendable {
    public let json: JSON
    /// Where each value starts, by JSON pointer ("" is the whole document).
    public let positions: [String: SourcePosition]

    /// Aliases may nest; deeper than this is taken for a document built to exhaust us.
    static let maximumDepth = 64

    public init(text: String) throws(YAMLError) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw YAMLError(message: "the YAML parser could not start", position: nil) }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        var document = yaml_document_t()
        let loaded = bytes.withUnsafeBufferPointer { buffer -> Int32 in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return yaml_parser_load(&parser, &document)
        }
        guard loaded == 1 else {
            let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
            let context = parser.context.map { String(cString: $0) + ": " } ?? ""
            throw YAMLError(message: context + problem,
                            position: SourcePosition(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1))
        }
        defer { yaml_document_delete(&document) }
        guard let root = yaml_document_get_root_node(&document) else {
            json = .null
            positions = ["": SourcePosition(line: 1, column: 1)]
            return
        }
        var builder = Builder(document: document)
        json = try builder.value(root, pointer: "", depth: 0)
        positions = builder.positions
    }

    private struct Builder {
        var document: yaml_document_t
        var positions: [String: SourcePosition] = [:]

        init(document: yaml_document_t) { self.document = document }

        mutating func value(_ node: UnsafeMutablePointer<yaml_node_t>, pointer: String, depth: Int) throws(YAMLError) -> JSON {
            let position = SourcePosition(line: Int(node.pointee.start_mark.line) + 1, column: Int(node.pointee.start_mark.column) + 1)
            positions[pointer] = position
            guard depth < YAMLDocument.maximumDepth else { throw YAMLError(message: "nested too deeply (an alias into itself?)", position: position) }
            switch node.pointee.type {
            case YAML_SCALAR_NODE:
                let text = String(decoding: UnsafeRawBufferPointer(start: CYAML_scalar_value(node), count: CYAML_scalar_length(node)),
                                  as: UTF8.self)
                return YAMLDocument.scalar(text, plain: CYAML_scalar_style(node) == YAML_PLAIN_SCALAR_STYLE)
            case YAML_SEQUENCE_NODE:
                var items: [JSON] = []
                for index in 0..<CYAML_sequence_count(node) {
                    guard let item = CYAML_node(&document, CYAML_sequence_item(node, index)) else { continue }
                    items.append(try value(item, pointer: "\(pointer)/\(index)", depth: depth + 1))
                }
                return .array(items)
            case YAML_MAPPING_NODE:
                var object = JSONObject()
                for index in 0..<CYAML_mapping_count(node) {
                    guard let key = CYAML_node(&document, CYAML_mapping_key(node, index)),
                          let item = CYAML_node(&document, CYAML_mapping_value(node, index)) else { continue }
                    let keyPosition = SourcePosition(line: Int(key.pointee.start_mark.line) + 1, column: Int(key.pointee.start_mark.column) + 1)
                    guard key.pointee.type == YAML_SCALAR_NODE else {
                        throw YAMLError(message: "a mapping key must be a scalar", position: keyPosition)
                    }
                    let name = String(decoding: UnsafeRawBufferPointer(start: CYAML_scalar_value(key), count: CYAML_scalar_length(key)),
                                      as: UTF8.self)
                    guard object[name] == nil else { throw YAMLError(message: "the key \"\(name)\" appears twice", position: keyPosition) }
                    object[name] = try value(item, pointer: "\(pointer)/\(JSONPointer.token(name))", depth: depth + 1)
                }
                return .object(object)
            default:
                return .null
            }
        }
    }

    /// A scalar's value: quoted and block scalars are strings; plain ones follow the core schema.
    static func scalar(_ text: String, plain: Bool) -> JSON {
        guard plain else { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        if isInteger(text), let number = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) { return .int(number) }
        if text.hasPrefix("0o"), let number = Int64(text.dropFirst(2), radix: 8) { return .int(number) }
        if text.hasPrefix("0x"), let number = Int64(text.dropFirst(2), radix: 16) { return .int(number) }
        if isFloat(text), let number = Double(text) { return .double(number) }
        return .string(text)
    }

    private static func isInteger(_ text: String) -> Bool {
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        return !digits.isEmpty && digits.allSatisfy(\.isASCIIDigit)
    }

    /// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
    private static func isFloat(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        let whole = rest.prefix { $0.isASCIIDigit }
        rest = rest.dropFirst(whole.count)
        var fraction: Substring = ""
        if rest.first == "." {
            rest = rest.dropFirst()
            fraction = rest.prefix { $0.isASCIIDigit }
            rest = rest.dropFirst(fraction.count)
        }
        guard !whole.isEmpty || !fraction.isEmpty else { return false }
        if rest.first == "e" || rest.first == "E" {
            rest = rest.dropFirst()
            if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
            let exponent = rest.prefix { $0.isASCIIDigit }
            guard !exponent.isEmpty else { return false }
            rest = rest.dropFirst(exponent.count)
        }
        return rest.isEmpty
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
