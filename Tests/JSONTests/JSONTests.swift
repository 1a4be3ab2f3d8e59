// JSON: parsing strictness (errors with line and column), round trips, stable serialization.
import JSON
import Testing

@Suite struct JSONParsingTests {
    @Test func integersBeyond64BitsAreStillNumbers() throws {
        // A valid JSON number jansson cannot hold as an integer is read as a real; the rest stay integers.
        let parsed = try JSON.parse(#"{"huge": 123456789012345678901234567890, "small": 5, "list": [7, 2.5, -99999999999999999999]}"#)
        #expect(parsed["small"] == 5)
        #expect(parsed["huge"]?.doubleValue == 1.2345678901234568e29)
        #expect(parsed["list"] == [7, 2.5, JSON.double(-1e20)], "too big negative integers too")
        #expect(throws: JSONParseError.self) { try JSON.parse("{\"a\": 1, \"a\": 2}") }
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try JSON.parse(#"{"s":"héllo","i":-42,"d":1.5,"t":true,"f":false,"n":null,"a":[1,[2]],"o":{"k":"v"}}"#)
        #expect(value["s"] == "héllo")
        #expect(value["i"] == .int(-42))
        #expect(value["d"] == .double(1.5))
        #expect(value["t"] == true)
        #expect(value["f"] == false)
        #expect(value["n"] == .null)
        #expect(value["a"]?[1]?[0] == 2)
        #expect(value["o"]?["k"] == "v")
    }

    @Test func acceptsScalarsAtTheTopLevel() throws {
        #expect(try JSON.parse("3") == 3)
        #expect(try JSON.parse(#""x""#) == "x")
    }

    @Test func reportsLineAndColumnOfSyntaxErrors() {
        #expect {
            _ = try JSON.parse("{\n  \"a\": 1,\n  \"b\": \n}")
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.line == 4 && error.column == 1 && !error.message.isEmpty
        }
    }

    @Test(arguments: [
        ("trailing garbage", Array(#"{"a":1} x"#.utf8)),
        ("two values", Array("1 2".utf8)),
        ("invalid UTF-8", [0x22, 0xC3, 0x28, 0x22]),
        ("escaped NUL", Array(#""a\u0000b""#.utf8)),
        ("raw NUL", [0x22, 0x61, 0x00, 0x22]),
        ("duplicate keys", Array(#"{"a":1,"a":2}"#.utf8)),
        ("empty input", []),
        ("lone surrogate", Array(#""\ud800""#.utf8)),
    ])
    func rejects(_ name: String, _ bytes: [UInt8]) {
        #expect(throws: JSONParseError.self, "\(name) must be rejected") { _ = try JSON.parse(bytes) }
    }

    @Test func roundTripsThroughText() throws {
        let value: JSON = ["name": "lab1", "ports": 32, "ratio": 0.25, "tags": ["a", "b"], "empty": [:], "none": nil,
                           "unicode": "ü€😀", "quote": "a\"b\\c\n"]
        #expect(try JSON.parse(value.serialized()) == value)
        #expect(try JSON.parse(value.serialized(.pretty)) == value)
    }

    @Test func keepsInsertionOrderAndCanSort() {
        let value: JSON = ["zeta": 1, "alpha": 2, "mid": 3]
        #expect(value.text() == #"{"zeta":1,"alpha":2,"mid":3}"#)
        #expect(value.text(.sortedKeys) == #"{"alpha":2,"mid":3,"zeta":1}"#)
        #expect(value.text(.pretty) == "{\n  \"zeta\": 1,\n  \"alpha\": 2,\n  \"mid\": 3\n}")
    }

    @Test func preservesParsedKeyOrder() throws {
        let text = #"{"b":1,"a":2,"c":{"y":1,"x":2}}"#
        #expect(try JSON.parse(text).text() == text)
    }

    @Test func serializesNonFiniteNumbersAsNull() {
        let value: JSON = ["x": .double(.nan), "y": .double(.infinity)]
        #expect(value.text() == #"{"x":null,"y":null}"#)
    }

    @Test func keepsDoublesExact() throws {
        let value = JSON.double(0.1 + 0.2)
        #expect(try JSON.parse(value.serialized()) == value)
    }

    @Test func writesNumbersAsTheShortestTextThatReadsBack() throws {
        #expect(JSON.double(448.233784).text() == "448.233784")
        #expect(JSON.double(0.1 + 0.2).text() == "0.30000000000000004")
        #expect(JSON.double(1.5e-7).text() == "1.5e-07")
        #expect(JSON.double(2).text() == "2.0")
        #expect(JSON.int(-42).text() == "-42")
        for value in [448.233784, 1e300, -2.5e-300, 123456789.125] {
            #expect(try JSON.parse(JSON.double(value).serialized()) == .double(value))
        }
    }

    @Test func escapesControlCharactersAndKeepsUnicode() {
        #expect(JSON.string("a\u{1}\u{7F}\t\"é").text() == #""a\u0001\u007f\t\"é""#)
    }

    @Test func prettyPrintsNestedValues() {
        let value: JSON = ["a": [1, [:]], "b": [], "c": ["d": nil]]
        #expect(value.text(.pretty) == "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": [],\n  \"c\": {\n    \"d\": null\n  }\n}")
    }

    @Test func handlesKeysAndStringsWithEmbeddedNULWhenBuilding() throws {
        let value: JSON = ["a\u{0}b": "c\u{0}d"]
        #expect(value.text() == #"{"a\u0000b":"c\u0000d"}"#)
    }

    @Test func objectEqualityIgnoresOrder() throws {
        #expect(try JSON.parse(#"{"a":1,"b":2}"#) == JSON.parse(#"{"b":2,"a":1}"#))
    }

    @Test func assigningNilRemovesAKey() {
        var object = JSONObject([("a", 1), ("b", 2)])
        object["a"] = nil
        object["c"] = 3
        #expect(object.keys == ["b", "c"])
        #expect(JSON.object(object).text() == #"{"b":2,"c":3}"#)
    }
}

@Suite struct JSONReaderTests {
    @Test func readsTypedFieldsWithDefaults() throws {
        var reader = try JSONReader(try JSON.parse(#"{"name":"lab1","ports":8,"hub":true}"#))
        #expect(try reader.string("name") == "lab1")
        #expect(try reader.int("ports", in: 1...4096, default: 32) == 8)
        #expect(try reader.bool("hub", default: false))
        #expect(try reader.int("absent", in: 1...10, default: 7) == 7)
        try reader.finish()
    }

    @Test func explainsRangeErrors() throws {
        var reader = try JSONReader(["ports": 5000])
        #expect(throws: JSONFieldError(path: "ports", rule: "must be an integer between 1 and 4096, not 5000")) {
            _ = try reader.int("ports", in: 1...4096)
        }
        let error = JSONFieldError(path: "ports", rule: "must be an integer between 1 and 4096, not 5000")
        #expect(error.description == "field `ports` must be an integer between 1 and 4096, not 5000")
    }

    @Test func explainsTypeErrors() throws {
        var reader = try JSONReader(["ports": "eight", "hub": 1])
        #expect(throws: JSONFieldError(path: "ports", rule: "must be an integer between 1 and 4096, not a string")) {
            _ = try reader.int("ports", in: 1...4096)
        }
        #expect(throws: JSONFieldError(path: "hub", rule: "must be a boolean, not an integer")) {
            _ = try reader.bool("hub")
        }
    }

    @Test func requiresRequiredFields() throws {
        var reader = try JSONReader([:])
        #expect(throws: JSONFieldError(path: "name", rule: "is required and must be a string")) {
            _ = try reader.string("name")
        }
    }

    @Test func refusesUnknownFields() throws {
        var reader = try JSONReader(["name": "x", "colour": "red"])
        _ = try reader.string("name")
        #expect(throws: JSONFieldError(path: "colour", rule: "is not a known field")) { try reader.finish() }
    }

    @Test func nestedPathsNameTheWholePath() throws {
        var reader = try JSONReader(["a": ["b": ["c": -1]]])
        var a = try reader.object("a")
        var b = try a.object("b")
        #expect(throws: JSONFieldError(path: "a.b.c", rule: "must be an integer between 0 and 9, not -1")) {
            _ = try b.int("c", in: 0...9)
        }
    }

    @Test func arraysNameTheIndex() throws {
        var reader = try JSONReader(["vlans": [1, 2, "x"]])
        #expect(throws: JSONFieldError(path: "vlans[2]", rule: "must be an integer")) {
            _ = try reader.array("vlans") { (item, path) throws(JSONFieldError) in
                guard let value = item.intValue else { throw JSONFieldError(path: path, rule: "must be an integer") }
                return value
            }
        }
    }

    @Test func bodyMustBeAnObject() {
        #expect(throws: JSONFieldError(path: "", rule: "must be an object, not an array")) { _ = try JSONReader([1]) }
    }

    @Test func nullIsRefusedUnlessTheReadAllowsIt() throws {
        var reader = try JSONReader(["aging": nil, "group": nil, "hub": nil, "impairments": nil])
        #expect(throws: JSONFieldError(path: "aging", rule: "must be an integer between 1 and 9, not null")) {
            _ = try reader.optionalInt("aging", in: 1...9)
        }
        #expect(try reader.optionalString("group", nullable: true) == nil)
        #expect(throws: JSONFieldError(path: "hub", rule: "must be a boolean, not null")) { _ = try reader.bool("hub", default: false) }
        #expect(throws: JSONFieldError(path: "impairments", rule: "must be an object, not null")) { _ = try reader.optionalObject("impairments") }
    }

    @Test func integersMayBeWrittenAsWholeReals() throws {
        var reader = try JSONReader(try JSON.parse(#"{"a":560.0,"b":1.5,"list":[3.0,4]}"#))
        #expect(try reader.int("a", in: 1...1000) == 560)
        #expect(throws: JSONFieldError(path: "b", rule: "must be an integer between 1 and 9, not a number")) { _ = try reader.int("b", in: 1...9) }
        #expect(try reader.ints("list", in: 0...9) == [3, 4])
    }

    @Test func patchFieldsAreAbsentClearedOrSet() throws {
        var reader = try JSONReader(["a": nil, "b": 3])
        let a = try reader.patch("a") { (r: inout JSONReader, key: String) throws(JSONFieldError) in try r.int(key, in: 0...9) }
        let b = try reader.patch("b") { (r: inout JSONReader, key: String) throws(JSONFieldError) in try r.int(key, in: 0...9) }
        let c = try reader.patch("c") { (r: inout JSONReader, key: String) throws(JSONFieldError) in try r.int(key, in: 0...9) }
        guard case .clear = a, case .set(3) = b, case .absent = c else {
            Issue.record("unexpected patch fields \(a) \(b) \(c)")
            return
        }
        try reader.finish()
    }
}
