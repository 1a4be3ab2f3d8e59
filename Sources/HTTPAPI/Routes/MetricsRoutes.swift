// Metrics: /v1/switches/{name}/metrics (the worker's counters as JSON) and /metrics (Prometheus
// text exposition: per switch and port frames, bytes and drops by cause; worker restarts; HTTP
// requests by status and in flight). Counters are read from the workers when scraped, never cached.
import ControlPlane
import JSON
import Synchronization

/// HTTP requests answered, by status code (fed by the server's completion callback), and those
/// in flight (read from the server, which exists only after the router that serves this).
public final class HTTPMetrics: Sendable {
    private let counts = Mutex<[Int: UInt64]>([:])
    private let inFlightSource = Mutex<(@Sendable () -> Int)?>(nil)

    public init() {}

    public func record(status: Int) { counts.withLock { $0[status, default: 0] += 1 } }

    public func readInFlight(from source: @escaping @Sendable () -> Int) { inFlightSource.withLock { $0 = source } }

    var snapshot: [Int: UInt64] { counts.withLock { $0 } }
    var inFlight: Int { inFlightSource.withLock { $0 }?() ?? 0 }
}

public enum MetricsRoutes {
    public static func register(on router: inout RouterBuilder, switches: SwitchManager, cables: CableManager, stacks: StackManager,
                                http: HTTPMetrics) {
        router.add("GET", "/v1/switches/{name}/metrics") { request in
            .json(.object(WorkerReply.body(try switches.ask(try request.resourceName("name", kind: "switch"), "counters"))))
        }
        router.add("GET", "/metrics") { _ in
            HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                         body: Array(prometheus(switches, cables, stacks, http).utf8))
        }
    }

    static func prometheus(_ switches: SwitchManager, _ cables: CableManager, _ stacks: StackManager, _ http: HTTPMetrics) -> String {
        var families: [(name: String, type: String, help: String, samples: [String])] = [
            ("vsquare_switch_up", "gauge", "Whether the switch's worker is running and answers (1) or not (0).", []),
            ("vsquare_worker_restarts_total", "counter", "Times the switch's worker was restarted after it ended.", []),
            ("vsquare_switch_ports_in_use", "gauge", "Ports with at least one client plugged in.", []),
            ("vsquare_port_rx_frames_total", "counter", "Frames received on the port.", []),
            ("vsquare_port_rx_bytes_total", "counter", "Bytes received on the port.", []),
            ("vsquare_port_tx_frames_total", "counter", "Frames sent out of the port.", []),
            ("vsquare_port_tx_bytes_total", "counter", "Bytes sent out of the port.", []),
            ("vsquare_port_drops_total", "counter", "Frames dropped on the port, by cause.", []),
            ("vsquare_stp_topology_changes_total", "counter", "Topology changes the switch's spanning tree detected or heard.", []),
            ("vsquare_stp_port_state", "gauge", "1 for the spanning tree state the port is in (discarding, learning, forwarding), with its role.", []),
            ("vsquare_cable_up", "gauge", "Whether the cable's worker is running and answers (1) or not (0).", []),
            ("vsquare_cable_frames_total", "counter", "Frames that entered (in) or left (out) the cable, per direction.", []),
            ("vsquare_cable_drops_total", "counter", "Frames the cable dropped, per direction and cause.", []),
            ("vsquare_stack_interface_up", "gauge", "Whether the interface's plug is running and answers (1) or not (0).", []),
            ("vsquare_stack_interface_frames_total", "counter", "Frames the stack's interface received (rx) or sent (tx).", []),
            ("vsquare_http_requests_total", "counter", "HTTP requests answered, by status code.", []),
            ("vsquare_http_requests_in_flight", "gauge", "HTTP requests received and not yet answered (this scrape included).", []),
        ]
        func add(_ family: String, _ labels: String, _ value: String) {
            guard let index = families.firstIndex(where: { $0.name == family }) else { return }
            families[index].samples.append(labels.isEmpty ? "\(family) \(value)" : "\(family){\(labels)} \(value)")
        }
        for name in switches.names {
            let label = "switch=\"\(escape(name))\""
            let view = (try? switches.get(name)) ?? [:]
            let counters = try? switches.ask(name, "counters")
            add("vsquare_switch_up", label, counters == nil ? "0" : "1")
            add("vsquare_worker_restarts_total", label, String(view["restart_count"]?.intValue ?? 0))
            if let inUse = view["ports_in_use"]?.intValue { add("vsquare_switch_ports_in_use", label, String(inUse)) }
            for port in counters?["ports"]?.arrayValue ?? [] {
                guard let number = port["port"]?.intValue else { continue }
                let portLabel = "\(label),port=\"\(number)\""
                for (field, family) in [("rx_frames", "vsquare_port_rx_frames_total"), ("rx_bytes", "vsquare_port_rx_bytes_total"),
                                        ("tx_frames", "vsquare_port_tx_frames_total"), ("tx_bytes", "vsquare_port_tx_bytes_total")] {
                    add(family, portLabel, sampleValue(port[field]))
                }
                for (cause, value) in port["drops"]?.objectValue ?? [:] {
                    add("vsquare_port_drops_total", "\(portLabel),cause=\"\(escape(cause))\"", sampleValue(value))
                }
            }
            if view["stp"]?["enabled"] == true, let tree = try? switches.ask(name, "stp") {
                add("vsquare_stp_topology_changes_total", label, sampleValue(tree["topology_changes"]))
                for port in tree["ports"]?.arrayValue ?? [] {
                    guard let number = port["port"]?.intValue, let role = port["role"]?.stringValue, let now = port["state"]?.stringValue else { continue }
                    for state in ["discarding", "learning", "forwarding"] {
                        add("vsquare_stp_port_state", "\(label),port=\"\(number)\",role=\"\(role)\",state=\"\(state)\"", state == now ? "1" : "0")
                    }
                }
            }
        }
        for view in cables.list() {
            guard let name = view["name"]?.stringValue else { continue }
            let label = "cable=\"\(escape(name))\""
            let counters = try? cables.ask(name, "counters")
            add("vsquare_cable_up", label, counters == nil ? "0" : "1")
            for direction in ["a_to_b", "b_to_a"] {
                guard let numbers = counters?[direction] else { continue }
                add("vsquare_cable_frames_total", "\(label),direction=\"\(direction)\",way=\"in\"", sampleValue(numbers["frames_in"]))
                add("vsquare_cable_frames_total", "\(label),direction=\"\(direction)\",way=\"out\"", sampleValue(numbers["frames_out"]))
                for (cause, value) in numbers["drops"]?.objectValue ?? [:] {
                    add("vsquare_cable_drops_total", "\(label),direction=\"\(direction)\",cause=\"\(escape(cause))\"", sampleValue(value))
                }
            }
        }
        for (stack, interface, counters) in stacks.interfaceCounters() {
            let label = "stack=\"\(escape(stack))\",interface=\"\(escape(interface))\""
            add("vsquare_stack_interface_up", label, counters == nil ? "0" : "1")
            guard let counters else { continue }
            add("vsquare_stack_interface_frames_total", label + ",way=\"rx\"", sampleValue(counters["a_to_b"]?["frames_out"]))
            add("vsquare_stack_interface_frames_total", label + ",way=\"tx\"", sampleValue(counters["b_to_a"]?["frames_out"]))
        }
        for (status, count) in http.snapshot.sorted(by: { $0.key < $1.key }) {
            add("vsquare_http_requests_total", "code=\"\(status)\"", String(count))
        }
        add("vsquare_http_requests_in_flight", "", String(http.inFlight))
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.type)\n"
            for sample in family.samples { text += sample + "\n" }
        }
        return text
    }

    static func sampleValue(_ value: JSON?) -> String {
        if case .int(let number)? = value { return String(number) }
        return "0"
    }

    /// Label values escape backslash, quote and newline (Prometheus text format).
    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
