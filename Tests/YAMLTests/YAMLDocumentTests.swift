// YAMLDocument through the real libyaml: values typed as YAML 1.2's core schema, positions by
// JSON pointer, and malformed documents refused with where they broke.
import JSON
import Testing
import YAML

@Suite struct YAMLDocumentTests {
    @Test func aTopologyReadsAsTheSameJSON() throws {
        let text = """
            # a lab
            description: two LANs
            switches:
              - name: lan1
                ports: 8
                hub: false
              - {name: lan2, mac_aging_s: 60}
            cables:
              - name: c1
                a: {switch: lan1, port: 8}
                b: {switch: lan2}
                impairments: {delay_ms: 2.5, loss_pct: .5}
            labels: {course: "net-101", year: "2026"}
            """
        let document = try YAMLDocument(text: text)
        let expected: JSON = [
            "description": "two LANs",
            "switches": [["name": "lan1", "ports": 8, "hub": false], ["name": "lan2", "mac_aging_s": 60]],
            "cables": [["name": "c1", "a": ["switch": "lan1", "port": 8], "b": ["switch": "lan2"],
                        "impairments": ["delay_ms": 2.5, "loss_pct": 0.5]]],
            "labels": ["course": "net-101", "year": "2026"],
        ]
        #expect(document.json == expected)
        #expect(document.positions["/switches/0/ports"] == SourcePosition(line: 5, column: 12))
        #expect(document.positions["/switches/1"] == SourcePosition(line: 7, column: 5))
        #expect(document.positions["/cables/0/a/port"] == SourcePosition(line: 10, column: 29))
        #expect(document.positions[""] == SourcePosition(line: 2, column: 1))
    }

    @Test(arguments: [
        ("~", JSON.null), ("null", .null), ("", .null), ("true", .bool(true)), ("False", .bool(false)),
        ("42", .int(42)), ("-7", .int(-7)), ("+3", .int(3)), ("0x1F", .int(31)), ("0o17", .int(15)),
        ("1.5", .double(1.5)), ("-2e3", .double(-2000)), (".5", .double(0.5)),
        ("yes", .string("yes")), ("10.0.0.1/24", .string("10.0.0.1/24")), ("02:00:00:00:00:01", .string("02:00:00:00:00:01")),
        ("1.2.3", .string("1.2.3")), ("'42'", .string("42")), ("\"true\"", .string("true")),
    ])
    func plainScalarsFollowTheCoreSchemaAndQuotedOnesAreStrings(_ text: String, _ value: JSON) throws {
        #expect(try YAMLDocument(text: "v: \(text)").json == ["v": value])
    }

    @Test func blockScalarsAndAliases() throws {
        let document = try YAMLDocument(text: """
            startup: |
              sysctl -w net.ipv4.ip_forward=1
              echo up
            base: &lan {ports: 4}
            copy: *lan
            """)
        #expect(document.json["startup"] == "sysctl -w net.ipv4.ip_forward=1\necho up\n")
        #expect(document.json["copy"] == ["ports": 4])
    }

    @Test func malformedDocumentsSayWhereTheyBroke() {
        #expect(throws: YAMLError.self) { try YAMLDocument(text: "a: [1, 2\nb: 3") }
        do {
            _ = try YAMLDocument(text: "switches:\n  - name: a\n   ports: 3\n")
            Issue.record("a bad indentation was accepted")
        } catch {
            #expect(error.position?.line == 3, "\(error)")
        }
        do {
            _ = try YAMLDocument(text: "name: a\nname: b\n")
            Issue.record("a key given twice was accepted")
        } catch {
            #expect(error.message.contains("twice") && error.position == SourcePosition(line: 2, column: 1), "\(error)")
        }
        #expect(throws: YAMLError.self) { try YAMLDocument(text: "? [a, b]\n: c\n") }
    }

    @Test func jsonIsYAMLToo() throws {
        // What a client generated as JSON sends with Content-Type application/yaml.
        let compact = #"{"name":"lab","topology":{"switches":[{"name":"s","ports":4,"hub":false}],"description":"x: y"}}"#
        #expect(try YAMLDocument(text: compact).json == JSON.parse(compact))
    }

    @Test func anEmptyDocumentIsNull() throws {
        #expect(try YAMLDocument(text: "").json == .null)
        #expect(try YAMLDocument(text: "# only a comment\n").json == .null)
    }

    @Test func pointersEscapeSlashAndTilde() throws {
        let document = try YAMLDocument(text: "labels:\n  a/b: 1\n  c~d: 2\n")
        #expect(document.positions["/labels/a~1b"] == SourcePosition(line: 2, column: 8))
        #expect(document.positions["/labels/c~0d"] == SourcePosition(line: 3, column: 8))
    }
}
