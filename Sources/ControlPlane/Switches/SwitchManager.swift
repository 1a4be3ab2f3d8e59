// SwitchManager: the switches noun. Every mutation runs validate → one durable store write →
// reconcile the worker → reply with what the worker reports. All state sits behind one lock, which
// the Supervisor's thread takes too, so requests and restarts never interleave on the same switch.
import Glibc
import JSON
import LabEngine
import Log
import Posix
import SwitchEngine

public struct SwitchManagerConfiguration: Sendable {
    /// Where switch directories go: `<run>/switches/<name>`.
    public var runDirectory: String
    /// The vsquare-switch executable.
    public var switchBinary: String
    /// Where worker logs go.
    public var logDirectory: String

    public init(runDirectory: String, switchBinary: String, logDirectory: String) {
        self.runDirectory = runDirectory
        self.switchBinary = switchBinary
        self.logDirectory = logDirectory
    }

    var switchesDirectory: String { runDirectory + "/switches" }
}

public final class SwitchManager: @unchecked Sendable {
    /// Which lab a member belongs to (set once at start-up, before any request).
    public var membership: LabMembership?
    let configuration: SwitchManagerConfiguration
    let store: Store
    let events: EventBus
    let log: Log
    let lock: Lock
    let supervisor: Supervisor
    var switches: [String: SupervisedSwitch] = [:]
    /// Cut cables per switch, kept by the CableManager and told again to a restarted switch worker.
    let carrier = CarrierBook()
    /// Names of what depends on a switch (cables), for delete; set by the CableManager.
    var dependents: ((String) -> [String])?

    /// Longest control directory path a VDE client can use (vde-wire.md §1.2).
    static let maxDirectoryLength = 90

    /// `supervisor` is shared with the other managers (one supervisor thread for every worker).
    public init(configuration: SwitchManagerConfiguration, store: Store, events: EventBus, supervisor: WorkerSupervisor, log: Log) {
        self.configuration = configuration
        self.store = store
        self.events = events
        self.log = log
        self.supervisor = supervisor.core
        lock = supervisor.core.lock
    }

    /// Adopts or starts a worker for every stored switch and stops workers nobody wants.
    public func start() throws {
        try FileSystem.makeDirectories(configuration.switchesDirectory, mode: 0o755)
        try FileSystem.makeDirectories(configuration.logDirectory, mode: 0o755)
        let specs = try store.loadSwitches()
        let records = Dictionary(uniqueKeysWithValues: try store.loadWorkers(kind: "switch").map { ($0.name, $0) })
        lock.withLock {
            for spec in specs {
                let handle = SupervisedSwitch(spec: spec, directory: directory(for: spec.name), configuration: configuration, carrier: carrier)
                switches[spec.name] = handle
                supervisor.add(handle.worker, record: records[spec.name])
            }
            supervisor.stopOrphans(kind: "switch", wanted: Set(specs.map(\.name))) { name in
                SupervisedSwitch.recipe(SwitchSpec(name: name), directory: directory(for: name), configuration: configuration, carrier: carrier)
            }
        }
    }

    func directory(for name: String) -> String { configuration.switchesDirectory + "/" + name }

    func handle(_ name: String) throws(ControlPlaneError) -> SupervisedSwitch {
        guard let handle = switches[name] else { throw .notFound(kind: "switch", name: name) }
        return handle
    }

    // MARK: switches

    /// Creates a switch: stored first, then its worker is started; replies with its observed state.
    /// Answers once the worker runs (or has failed to start); the lock is not held meanwhile, so
    /// switches made together start together.
    public func create(_ spec: SwitchSpec) throws -> JSONObject {
        let handle = try lock.withLock {
            guard switches[spec.name] == nil else { throw ControlPlaneError.nameTaken(kind: "switch", name: spec.name) }
            let directory = directory(for: spec.name)
            guard directory.utf8.count <= SwitchManager.maxDirectoryLength else {
                throw ControlPlaneError.unprocessable(code: "path_too_long",
                    message: "the switch directory \(directory) would be longer than \(SwitchManager.maxDirectoryLength) characters; use a shorter name or VSQUARE_RUN")
            }
            var stored = spec
            stored.createdAt = Clock.rfc3339(Clock.wallSeconds())
            try store.saveSwitch(stored)
            let handle = SupervisedSwitch(spec: stored, directory: directory, configuration: configuration, carrier: carrier)
            switches[spec.name] = handle
            events.publish("switch.created", ["switch": JSON(spec.name)])
            supervisor.add(handle.worker, record: nil)
            return handle
        }
        _ = supervisor.awaitStart(handle.worker)
        return lock.withLock { view(handle) }
    }

    /// Every switch; workers are asked for their status outside the lock.
    public func list() -> [JSONObject] {
        lock.withLock { switches.keys.sorted().map { snapshot(switches[$0]!) } }.map(view)
    }

    public func get(_ name: String) throws -> JSONObject {
        view(try lock.withLock { snapshot(try handle(name)) })
    }

    /// Changes a switch's spec with `body` (validated there), stores it, and reconciles the worker.
    public func update(_ name: String, _ body: (inout SwitchSpec) throws -> Void) throws -> JSONObject {
        try lock.withLock {
            let handle = try handle(name)
            try mutate(handle, body)
            return view(handle)
        }
    }

    /// Like `update`, without building the switch's view (callers reply with something else).
    func modify(_ name: String, _ body: (inout SwitchSpec) throws -> Void) throws {
        try lock.withLock { try mutate(try handle(name), body) }
    }

    /// Applies `body` to a copy of the spec; only if it succeeds is the result stored and applied.
    func mutate(_ handle: SupervisedSwitch, _ body: (inout SwitchSpec) throws -> Void) throws {
        var spec = handle.spec
        try body(&spec)
        guard spec != handle.spec else { return }
        spec.generation += 1
        try store.saveSwitch(spec)
        handle.spec = spec
        if handle.lifecycle.state == .running {
            do {
                try SupervisedSwitch.converge(handle.client, to: spec)
            } catch {
                log.warning("could not apply the configuration", [("switch.name", handle.spec.name), ("error", String(describing: error))])
            }
        }
    }

    /// Stops the worker, removes its directory and forgets the switch.
    public func delete(_ name: String) throws {
        try lock.withLock {
            let handle = try handle(name)
            try store.deleteSwitch(name)
            supervisor.remove(handle.worker)
            switches[name] = nil
            FileSystem.removeTree(handle.directory)
            events.publish("switch.deleted", ["switch": JSON(name)])
        }
    }

    /// Stops and starts the worker (clients are unplugged), whatever state it was in.
    public func restart(_ name: String) throws -> JSONObject {
        let restarted = try lock.withLock {
            let handle = try handle(name)
            supervisor.restart(handle.worker)
            return handle
        }
        _ = supervisor.awaitStart(restarted.worker)
        return lock.withLock { view(restarted) }
    }

    // MARK: observed state, read from the worker

    /// Runs `op` on the switch's worker, waiting briefly for one that is (re)starting; 503 if it stays away.
    public func ask(_ name: String, _ op: String, _ parameters: JSONObject = [:]) throws -> JSON {
        try supervisor.ask(name, op, parameters) { try handle(name).worker }
    }

    /// The spec of `name` (a copy).
    /// Starts capturing on a port (`rx`, `tx` or `both`): the pcap stream and, once it ends, its tally.
    public func capture(_ name: String, port: Int, direction: String, limits: CaptureLimits) throws -> CaptureSession {
        try CaptureSession.open(subject: ["switch": JSON(name), "port": JSON(port), "direction": JSON(direction)],
                                point: ["port": JSON(port), "direction": JSON(direction)], limits: limits,
                                runDirectory: configuration.runDirectory, events: events, log: log) { [self] op, parameters in
            try ask(name, op, parameters)
        }
    }

    public func spec(_ name: String) throws -> SwitchSpec {
        try lock.withLock { try handle(name).spec }
    }

    /// Names of every switch.
    public var names: [String] { lock.withLock { switches.keys.sorted() } }

    /// Whether there is a switch `name` (asks no worker).
    func contains(_ name: String) -> Bool { lock.withLock { switches[name] != nil } }

    /// `running` once the switch's worker serves; otherwise its lifecycle's word (nil: no such switch).
    func readiness(_ name: String) -> String? { lock.withLock { switches[name]?.worker.lifecycle.state.rawValue } }

    // MARK: ports and VLANs (desired state changes, then the worker)

    public func setPort(_ name: String, _ port: Int, _ change: PortChange, spanningTree: SpanningTreePortChange? = nil) throws {
        try modify(name) { spec in
            guard (0...spec.ports).contains(port) else {
                throw ControlPlaneError.notFound(kind: "port", name: "\(port) on switch \(name)")
            }
            try spec.change { (engine: inout SwitchEngine) throws(SwitchEngineError) in
                try engine.setPort(port, change)
                if let tree = spanningTree {
                    try engine.configureSpanningTreePort(port, pathCost: tree.pathCost, priority: tree.priority, adminEdge: tree.edge, now: 0)
                }
            }
        }
    }

    public func createVLAN(_ name: String, _ vlan: Int, untagged: [Int], tagged: [Int]) throws {
        try modify(name) { spec in
            try spec.change { (engine: inout SwitchEngine) throws(SwitchEngineError) in
                try engine.createVLAN(vlan)
                if !untagged.isEmpty || !tagged.isEmpty { try engine.setVLANMembers(vlan, untagged: untagged, tagged: tagged) }
            }
        }
    }

    public func setVLAN(_ name: String, _ vlan: Int, untagged: [Int], tagged: [Int]) throws {
        try modify(name) { spec in
            guard spec.vlans.contains(VLANID(vlan)) else { throw ControlPlaneError.notFound(kind: "VLAN", name: "\(vlan) on switch \(name)") }
            try spec.change { (engine: inout SwitchEngine) throws(SwitchEngineError) in
                try engine.setVLANMembers(vlan, untagged: untagged, tagged: tagged)
            }
        }
    }

    public func deleteVLAN(_ name: String, _ vlan: Int) throws {
        try modify(name) { spec in
            guard spec.vlans.contains(VLANID(vlan)) else { throw ControlPlaneError.notFound(kind: "VLAN", name: "\(vlan) on switch \(name)") }
            try spec.change { (engine: inout SwitchEngine) throws(SwitchEngineError) in try engine.deleteVLAN(vlan) }
        }
    }

    /// The VLAN's members according to the spec (a VLAN is configuration, not traffic).
    public func vlan(_ name: String, _ vlan: Int) throws -> JSON {
        let spec = try self.spec(name)
        guard spec.vlans.contains(VLANID(vlan)) else { throw ControlPlaneError.notFound(kind: "VLAN", name: "\(vlan) on switch \(name)") }
        return SwitchManager.vlanJSON(spec.makeEngine(), VLANID(vlan))
    }

    public func vlans(_ name: String) throws -> [JSON] {
        let spec = try self.spec(name)
        let engine = spec.makeEngine()
        return spec.vlans.sorted().map { SwitchManager.vlanJSON(engine, $0) }
    }

    static func vlanJSON(_ engine: SwitchEngine, _ vlan: VLANID) -> JSON {
        let members = engine.members(of: vlan)
        return ["vid": JSON(Int(vlan)), "untagged": JSON(members.filter { !$0.tagged }.map { JSON($0.port) }),
                "tagged": JSON(members.filter(\.tagged).map { JSON($0.port) })]
    }
}
