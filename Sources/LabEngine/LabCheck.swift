// LabCheck: one graded check a lab document declares — a command on one of its stacks and what its
// outcome must be, or the short form `reach` (a ping from one stack to another stack or an
// address). Read by the analyzer with the rest of the document; carried out by the control plane.
// A check with `wait_s` is tried again until it passes or that time is up, for what a lab takes a
// moment to reach (a route learned, a DHCP lease).
import JSON
import Posix

public struct LabCheck: Sendable, Equatable {
    public let id: String
    public let description: String
    public let points: Int
    /// The stack (local to the document) the command runs on.
    public let host: String
    public let argv: [String]
    public let expectation: TaskExpectation
    /// How long failed attempts are retried; 0 is one attempt.
    public let waitSeconds: Double
    /// One attempt's limit.
    public let timeoutSeconds: Double

    public init(id: String, description: String, points: Int, host: String, argv: [String], expectation: TaskExpectation = TaskExpectation(),
                waitSeconds: Double = 0, timeoutSeconds: Double = 10) {
        self.id = id
        self.description = description
        self.points = points
        self.host = host
        self.argv = argv
        self.expectation = expectation
        self.waitSeconds = waitSeconds
        self.timeoutSeconds = timeoutSeconds
    }

    public var json: JSONObject {
        ["id": JSON(id), "description": JSON(description), "points": JSON(points), "host": JSON(host),
         "argv": .array(argv.map { JSON($0) }), "wait_s": .double(waitSeconds), "timeout_s": .double(timeoutSeconds)]
    }

    static let keys: Set<String> = ["id", "description", "points", "host", "argv", "expect", "wait_s", "timeout_s", "reach"]

    /// The document's `checks`, each problem reported at its pointer; `stacks` are the document's
    /// stacks that passed their validator. Only the checks without problems are returned.
    static func read(_ value: JSON, stacks: [StackFacts], _ error: (String, String, String) -> Void,
                     _ warning: (String, String, String) -> Void) -> [LabCheck] {
        guard let items = value.arrayValue else {
            error("/checks", "invalid_field", "checks is a list of {id, host, argv, expect} or {id, reach: {from, to}}")
            return []
        }
        let stackByName = Dictionary(stacks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var checks: [LabCheck] = []
        var seen: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let at = "/checks/\(index)"
            var ok = true
            func refuse(_ pointer: String, _ code: String, _ message: String) {
                error(pointer, code, message)
                ok = false
            }
            guard let body = item.objectValue else {
                refuse(at, "invalid_field", "a check is an object with an id")
                continue
            }
            for key in body.keys where !keys.contains(key) {
                refuse(at + "/" + JSONPointer.token(key), "unknown_field", "`\(key)` is not a field of a check (\(keys.sorted().joined(separator: ", ")))")
            }
            let id = body["id"]?.stringValue ?? ""
            if !DocumentID.isValid(id) {
                refuse(at + "/id", body["id"] == nil ? "missing_field" : "invalid_field", "a check's id is 1 to 63 letters, digits, '-', '_' or '.'")
            } else if let first = seen[id] {
                refuse(at + "/id", "duplicate_name", "check \(id) is already declared at /checks/\(first)")
            } else {
                seen[id] = index
            }
            var description = ""
            if let text = body["description"] {
                if let string = text.stringValue, string.utf8.count <= 1024 { description = string } else {
                    refuse(at + "/description", "invalid_field", "a check's description is a string of at most 1024 bytes")
                }
            }
            var points = 1
            if let value = body["points"] {
                if let number = value.integerValue, (0...1000).contains(number) { points = number } else {
                    refuse(at + "/points", "invalid_field", "points is a whole number, 0 to 1000")
                }
            }
            func seconds(_ key: String, _ range: ClosedRange<Double>, default fallback: Double) -> Double {
                guard let value = body[key] else { return fallback }
                guard let number = value.doubleValue, range.contains(number) else {
                    refuse(at + "/" + key, "invalid_field", "\(key) is \(range.lowerBound) to \(range.upperBound) seconds")
                    return fallback
                }
                return number
            }
            let waitSeconds = seconds("wait_s", 0...3600, default: 0)
            let timeoutSeconds = seconds("timeout_s", 0.1...600, default: 10)
            var expectation = TaskExpectation()
            if let expect = body["expect"] {
                if let read = TaskExpectation.read(expect, at: at + "/expect", error, warning) { expectation = read } else { ok = false }
            }
            func netnsStack(_ name: String, at pointer: String) -> StackFacts? {
                guard let stack = stackByName[name] else {
                    refuse(pointer, "unknown_stack", "there is no stack \(name) in this lab")
                    return nil
                }
                guard stack.kind == "netns" else {
                    refuse(pointer, "not_a_host", "stack \(name) is a \(stack.kind) stack; checks run commands on netns stacks")
                    return nil
                }
                return stack
            }

            var host = "", argv: [String] = []
            if let reach = body["reach"] {
                for key in ["host", "argv"] where body[key] != nil {
                    refuse(at + "/" + key, "invalid_field", "a reach check names its stacks in reach; it has no \(key)")
                }
                guard let object = reach.objectValue else {
                    refuse(at + "/reach", "invalid_field", "reach is {from, to, count?}")
                    continue
                }
                for key in object.keys where !["from", "to", "count"].contains(key) {
                    refuse(at + "/reach/" + JSONPointer.token(key), "unknown_field", "reach has from, to and count")
                }
                let count = object["count"].map { $0.integerValue ?? 0 } ?? 3
                if !(1...100).contains(count) { refuse(at + "/reach/count", "invalid_field", "count is 1 to 100 echo requests") }
                guard let from = object["from"]?.stringValue else {
                    refuse(at + "/reach/from", "missing_field", "reach names the stack the ping runs on: from")
                    continue
                }
                guard let to = object["to"]?.stringValue else {
                    refuse(at + "/reach/to", "missing_field", "reach names a stack of the lab or an address: to")
                    continue
                }
                guard netnsStack(from, at: at + "/reach/from") != nil else { continue }
                var address = ""
                if IPPrefix(to + (to.contains(":") ? "/128" : "/32")) != nil {
                    address = to
                } else if let target = stackByName[to] {
                    let addresses = target.interfaces.flatMap(\.addresses).compactMap(IPPrefix.init)
                    guard let first = addresses.first(where: { !$0.isIPv6 }) ?? addresses.first else {
                        refuse(at + "/reach/to", "no_address", "stack \(to) has no static address to ping; name an address instead")
                        continue
                    }
                    address = first.addressText
                } else {
                    refuse(at + "/reach/to", "unknown_stack", "there is no stack \(to) in this lab, and it is not an address")
                    continue
                }
                host = from
                // Short waits between echoes, so a check of a working path ends in about count × 0.2 s.
                argv = ["ping", "-n", "-c", String(count), "-i", "0.2", "-W", "1", address]
                if description.isEmpty { description = to == address ? "\(from) reaches \(address)" : "\(from) reaches \(to) (\(address))" }
            } else {
                guard let name = body["host"]?.stringValue else {
                    refuse(at + "/host", "missing_field", "a check runs on a host (a stack of the lab), or is a reach check")
                    continue
                }
                guard let words = body["argv"]?.arrayValue?.compactMap(\.stringValue), !words.isEmpty,
                      words.count == body["argv"]?.arrayValue?.count else {
                    refuse(at + "/argv", body["argv"] == nil ? "missing_field" : "invalid_field", "argv is a program and its arguments, as strings")
                    continue
                }
                guard netnsStack(name, at: at + "/host") != nil else { continue }
                host = name
                argv = words
                if description.isEmpty { description = "on \(name): \(words.joined(separator: " "))" }
            }
            if ok {
                checks.append(LabCheck(id: id, description: description, points: points, host: host, argv: argv, expectation: expectation,
                                       waitSeconds: waitSeconds, timeoutSeconds: timeoutSeconds))
            }
        }
        return checks
    }
}

/// An id inside a document (a check's, an experiment task's): 1 to 63 letters, digits, '-', '_' or '.'.
public enum DocumentID {
    public static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 63 && id.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
    }
}
