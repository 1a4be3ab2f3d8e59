// ExperimentTask: one step of an experiment's workflow as the analyzer read it from the document:
// a command run on hosts (stacks), or an action vsquared itself carries out on the lab. What a run
// does with a task, and how its outcome is judged, follows from these values alone.
import JSON
import LabEngine

public struct ExperimentTask: Sendable, Equatable {
    public let id: String
    public let after: [String]
    public let work: Work

    public enum Work: Sendable, Equatable {
        case command(CommandTask)
        case control(ControlAction)
    }

    public init(id: String, after: [String], work: Work) {
        self.id = id
        self.after = after
        self.work = work
    }

    /// The hosts (stacks) the task runs on or acts on.
    public var hosts: [String] {
        switch work {
        case .command(let command): command.hosts
        case .control(let action): action.host.map { [$0] } ?? []
        }
    }
}

public struct CommandTask: Sendable, Equatable {
    public let hosts: [String]
    public let argv: [String]
    public let stdin: String
    public let environment: [String: String]
    public let timeoutSeconds: Double
    /// Further attempts after one whose verdict failed.
    public let retries: Int
    public let expectation: TaskExpectation
    public let measures: [Measure]

    public init(hosts: [String], argv: [String], stdin: String = "", environment: [String: String] = [:], timeoutSeconds: Double = 60,
                retries: Int = 0, expectation: TaskExpectation = TaskExpectation(), measures: [Measure] = []) {
        self.hosts = hosts
        self.argv = argv
        self.stdin = stdin
        self.environment = environment
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        self.expectation = expectation
        self.measures = measures
    }
}

/// What vsquared does itself: to a cable, a stack, a switch, or to time.
public enum ControlAction: Sendable, Equatable {
    case cut(cable: String)
    case restore(cable: String)
    /// `impairments` is the cable's PATCH body (`{delay_ms, loss_pct, a_to_b: {…}, …}`).
    case impair(cable: String, impairments: JSON)
    case startStack(String)
    case stopStack(String)
    case restartStack(String)
    case restartSwitch(String)
    case flushMACs(switch: String)
    case sleep(seconds: Double)
    case waitUntil(WaitCondition)
    /// A packet capture kept with the run (its pcap file named after the task) until `captureStop` or the run's end.
    case captureStart(CaptureRequest)
    /// Ends the capture the `capture_start` task `task` began.
    case captureStop(task: String)

    /// The action's name in the document.
    public var name: String {
        switch self {
        case .cut: "cut"
        case .restore: "restore"
        case .impair: "impair"
        case .startStack: "start_stack"
        case .stopStack: "stop_stack"
        case .restartStack: "restart_stack"
        case .restartSwitch: "restart_switch"
        case .flushMACs: "flush_macs"
        case .sleep: "sleep"
        case .waitUntil: "wait_until"
        case .captureStart: "capture_start"
        case .captureStop: "capture_stop"
        }
    }

    /// The stack the action acts on or runs its probe in, if any.
    public var host: String? {
        switch self {
        case .startStack(let stack), .stopStack(let stack), .restartStack(let stack): stack
        case .waitUntil(let condition): condition.host
        default: nil
        }
    }
}

/// A condition polled from a host until it holds or its timeout passes.
public struct WaitCondition: Sendable, Equatable {
    public enum Probe: Sendable, Equatable {
        /// One echo answered from this address.
        case ping(String)
        /// A TCP connection accepted at HOST:PORT.
        case tcp(host: String, port: Int)
        /// This command exits 0.
        case command([String])
    }

    public let host: String
    public let probe: Probe
    public let timeoutSeconds: Double
    public let intervalSeconds: Double

    public init(host: String, probe: Probe, timeoutSeconds: Double, intervalSeconds: Double = 0.2) {
        self.host = host
        self.probe = probe
        self.timeoutSeconds = timeoutSeconds
        self.intervalSeconds = intervalSeconds
    }

    /// The command that tests the condition once, inside the host.
    public var argv: [String] {
        switch probe {
        case .ping(let address): ["ping", "-n", "-q", "-c", "1", "-W", "1", address]
        // bash's /dev/tcp: no tool needed in the namespace beyond the shell.
        case .tcp(let host, let port): ["timeout", "1", "bash", "-c", "exec 3<>/dev/tcp/\(host)/\(port)"]
        case .command(let argv): argv
        }
    }
}

/// What a `capture_start` task captures, and what of it is kept (as a capture's query takes it).
public struct CaptureRequest: Sendable, Equatable {
    public enum Point: Sendable, Equatable {
        /// A switch port: `rx`, `tx` or `both`.
        case port(switch: String, port: Int, direction: String)
        /// What a cable delivers: `a_to_b`, `b_to_a` or `both`.
        case cable(String, direction: String)
    }

    public let point: Point
    public let filter: String
    public let snaplen: Int
    public let count: Int?
    public let durationSeconds: Double?

    public init(point: Point, filter: String = "", snaplen: Int = 65535, count: Int? = nil, durationSeconds: Double? = nil) {
        self.point = point
        self.filter = filter
        self.snaplen = snaplen
        self.count = count
        self.durationSeconds = durationSeconds
    }
}
