// CableManager: the cables noun. A cable joins two switch ports through a supervised vsquare-cable
// worker; like switches, every change is validated, stored durably, then applied to the worker.
// It shares the supervisor (and its lock) with the SwitchManager, which it asks about switches.
import CableEngine
import Glibc
import JSON
import LabEngine
import Log
import Posix

public final class CableManager: @unchecked Sendable {
    /// Which lab a member belongs to (set once at start-up, before any request).
    public var membership: LabMembership?
    let switches: SwitchManager
    let store: Store
    let events: EventBus
    let log: Log
    let lock: Lock
    let supervisor: Supervisor
    let cableBinary: String
    var cables: [String: SupervisedCable] = [:]

    public init(switches: SwitchManager, cableBinary: String, store: Store, events: EventBus, supervisor: WorkerSupervisor, log: Log) {
        self.switches = switches
        self.cableBinary = cableBinary
        self.store = store
        self.events = events
        self.log = log
        self.supervisor = supervisor.core
        lock = supervisor.core.lock
        switches.dependents = { [unowned self] name in
            self.cables.values.filter { $0.spec.a.switchName == name || $0.spec.b.switchName == name }.map(\.spec.name).sorted()
        }
        // Before any switch worker starts, so each one's recipe already names the cables cut at it.
        for spec in (try? store.loadCables()) ?? [] where spec.cut {
            for name in spec.localSwitchNames { switches.carrier.set(cable: spec.name, at: name, up: false) }
        }
    }

    var cablesDirectory: String { switches.configuration.runDirectory + "/cables" }

    /// Adopts or starts a worker for every stored cable and stops cable workers nobody wants.
    public func start() throws {
        try FileSystem.makeDirectories(cablesDirectory, mode: 0o755)
        let specs = try store.loadCables()
        let records = Dictionary(uniqueKeysWithValues: try store.loadWorkers(kind: "cable").map { ($0.name, $0) })
        lock.withLock {
            for spec in specs {
                let cable = SupervisedCable(spec: spec, manager: self)
                cables[spec.name] = cable
                supervisor.add(cable.worker, record: records[spec.name])
            }
            supervisor.stopOrphans(kind: "cable", wanted: Set(specs.map(\.name))) { name in
                SupervisedCable.recipe(CableSpec(name: name, a: CableEndSpec(switchName: "", port: nil),
                                                 b: CableEndSpec(switchName: "", port: nil)), manager: self)
            }
        }
    }

    func handle(_ name: String) throws(ControlPlaneError) -> SupervisedCable {
        guard let cable = cables[name] else { throw .notFound(kind: "cable", name: name) }
        return cable
    }

    /// Answers once the worker runs (or has failed to start), without holding the lock meanwhile.
    public func create(_ spec: CableSpec) throws -> JSONObject {
        let cable = try lock.withLock { () throws -> SupervisedCable in
            guard cables[spec.name] == nil else { throw ControlPlaneError.nameTaken(kind: "cable", name: spec.name) }
            guard spec.a.remote == nil else {
                throw ControlPlaneError.unprocessableField(path: "a", message: "end a must be a local switch; put the remote end in b")
            }
            try ControlPlaneError.checkSocketPath(cablesDirectory + "/" + spec.name + ".sock")
            for (key, end) in [("a", spec.a), ("b", spec.b)] where end.remote == nil {
                guard let switchSpec = switches.switches[end.switchName]?.spec else {
                    throw ControlPlaneError.unprocessableField(path: key + ".switch", message: "there is no switch named \(end.switchName)")
                }
                if let port = end.port, !(1...switchSpec.ports).contains(port) {
                    throw ControlPlaneError.unprocessableField(path: key + ".port",
                                                               message: "switch \(end.switchName) has ports 1 to \(switchSpec.ports), not \(port)")
                }
            }
            if spec.a == spec.b, spec.a.port != nil, spec.a.remote == nil {
                throw ControlPlaneError.unprocessableField(path: "b.port", message: "both ends name the same port")
            }
            if let vxlan = spec.b.vxlan { try checkVXLAN(vxlan) }
            var stored = spec
            stored.createdAt = Clock.rfc3339(Clock.wallSeconds())
            try store.saveCable(stored)
            let cable = SupervisedCable(spec: stored, manager: self)
            cables[spec.name] = cable
            events.publish("cable.created", ["cable": JSON(spec.name)])
            supervisor.add(cable.worker, record: nil)
            return cable
        }
        _ = supervisor.awaitStart(cable.worker)
        return view(cable)
    }

    /// What a VXLAN worker would fail on, refused now: a UDP port another cable or program holds,
    /// a local address this host does not have, a group's interface that does not exist.
    private func checkVXLAN(_ settings: VXLANSettings) throws {
        // Two binds of one port clash unless both name different local addresses.
        if let other = cables.values.first(where: {
            guard let theirs = $0.spec.b.vxlan, theirs.port == settings.port else { return false }
            return theirs.local == nil || settings.local == nil || theirs.local == settings.local
        }) {
            throw ControlPlaneError.conflict(code: "port_in_use", message: "cable \(other.spec.name) already uses UDP port \(settings.port) for VXLAN")
        }
        if case .multicast(_, let interface, _) = settings.peers, UDPSocket.interfaceIndex(interface) == nil {
            throw ControlPlaneError.unprocessableField(path: "b.vxlan.interface", message: "this host has no interface named \(interface)")
        }
        do {
            try UDPSocket(bind: settings.bindAddress).close()
        } catch let error as Errno where error.code == EADDRINUSE {
            throw ControlPlaneError.conflict(code: "port_in_use", message: "UDP port \(settings.port) is in use on this host")
        } catch let error as Errno where error.code == EADDRNOTAVAIL {
            throw ControlPlaneError.unprocessableField(path: "b.vxlan.local", message: "this host has no address \(settings.local ?? "")")
        }
    }

    public var names: [String] { lock.withLock { cables.keys.sorted() } }

    /// Ports this host's cables hold: VXLAN's UDP ports and the TCP ports listened on (a lab's tunnels choose others).
    public var portsInUse: Set<Int> {
        lock.withLock {
            Set(cables.values.compactMap { cable -> Int? in
                switch cable.spec.b.remote {
                case .vxlan(let settings)?: return Int(settings.port)
                case .tcp(let tcp)? where tcp.listen: return tcp.address.split(separator: ":").last.flatMap { Int($0) }
                default: return nil
                }
            })
        }
    }

    /// Whether there is a cable `name` (asks no worker).
    func contains(_ name: String) -> Bool { lock.withLock { cables[name] != nil } }

    /// `running` once the worker serves and its local ends are plugged in (a remote peer may come
    /// later; a declared cut is as ready as it gets); otherwise what it is doing (nil: no such cable).
    func readiness(_ name: String) -> String? {
        guard let (state, client, remote) = lock.withLock({ () -> (WorkerLifecycle.State, WorkerClient, Bool)? in
            cables[name].map { ($0.worker.lifecycle.state, $0.worker.client, $0.spec.b.remote != nil) }
        }) else { return nil }
        guard state == .running else { return state.rawValue }
        if remote { return "running" }
        let observed = (try? client.call("status"))?["state"]?.stringValue ?? "unresponsive"
        return ["up", "cut"].contains(observed) ? "running" : observed
    }

    public func list() -> [JSONObject] {
        lock.withLock { cables.keys.sorted().map { cables[$0]! } }.map { view($0) }
    }

    public func get(_ name: String) throws -> JSONObject {
        view(try lock.withLock { try handle(name) })
    }

    /// Changes the spec with `body`, stores it and applies it to the running worker.
    public func update(_ name: String, _ body: (inout CableSpec) throws -> Void) throws -> JSONObject {
        var before = false
        let cable: SupervisedCable = try lock.withLock {
            let cable = try handle(name)
            before = cable.spec.cut
            var spec = cable.spec
            try body(&spec)
            guard spec != cable.spec else { return cable }
            spec.generation += 1
            try store.saveCable(spec)
            let cutChanged = spec.cut != cable.spec.cut
            cable.spec = spec
            if cable.worker.lifecycle.state == .running {
                do {
                    try SupervisedCable.configure(cable.worker.client, spec)
                } catch {
                    log.warning("could not apply the cable's configuration", [("cable.name", name), ("error", String(describing: error))])
                }
            }
            if cutChanged { events.publish(spec.cut ? "cable.cut" : "cable.restored", ["cable": JSON(name), "requested": true]) }
            return cable
        }
        if cable.spec.cut != before { announceCarrier(cable.spec) }
        return view(cable)
    }

    /// Tells the switches at the cable's local ends that its carrier is down (cut) or up, so their
    /// spanning trees see the link go as a real switch sees a cable pulled. Best effort: a switch
    /// that is not running has no tree to tell.
    func announceCarrier(_ spec: CableSpec) {
        for name in spec.localSwitchNames {
            switches.carrier.set(cable: spec.name, at: name, up: !spec.cut)
            _ = try? switches.ask(name, "cable.carrier", ["cable": JSON(spec.name), "up": JSON(!spec.cut)])
        }
    }

    public func delete(_ name: String) throws {
        try lock.withLock {
            let cable = try handle(name)
            try store.deleteCable(name)
            supervisor.remove(cable.worker)
            cables[name] = nil
            unlink(cable.controlPath)
            unlink(cablesDirectory + "/" + name + ".key")
            events.publish("cable.deleted", ["cable": JSON(name)])
        }
    }

    /// Runs `op` on the cable's worker, waiting briefly for one that is (re)starting; 503 if it stays away.
    public func ask(_ name: String, _ op: String, _ parameters: JSONObject = [:]) throws -> JSON {
        try supervisor.ask(name, op, parameters) { try handle(name).worker }
    }

    /// Starts capturing what the cable delivers (`a_to_b`, `b_to_a` or `both`).
    public func capture(_ name: String, direction: String, limits: CaptureLimits) throws -> CaptureSession {
        try CaptureSession.open(subject: ["cable": JSON(name), "direction": JSON(direction)], point: ["direction": JSON(direction)],
                                limits: limits, runDirectory: switches.configuration.runDirectory, events: events, log: log) { [self] op, parameters in
            try ask(name, op, parameters)
        }
    }

    /// Deletes switch `name`; if cables use it, 409 unless `force`, which deletes those cables first.
    public func deleteSwitch(_ name: String, force: Bool) throws {
        let users = lock.withLock { switches.dependents?(name) ?? [] }
        if !users.isEmpty && !force {
            throw ControlPlaneError.conflict(code: "switch_in_use",
                message: "switch \(name) is used by cables \(users.joined(separator: ", ")); delete them first or add ?force=true")
        }
        for cable in users { try delete(cable) }
        try switches.delete(name)
    }

    /// Composes the view; takes the lock itself, so never call it with the lock held.
    func view(_ cable: SupervisedCable) -> JSONObject {
        let (spec, lifecycle, client) = lock.withLock { (cable.spec, cable.worker.lifecycle, cable.worker.client) }
        let status = lifecycle.state == .running ? try? client.call("status") : nil
        var state = lifecycle.state.rawValue
        if let observed = status?["state"]?.stringValue { state = observed } else if lifecycle.state == .running { state = "unresponsive" }
        return [
            "name": JSON(spec.name), "description": JSON(spec.description),
            "a": .object(spec.a.json), "b": .object(spec.b.json),
            "impairments": ["a_to_b": .object(spec.aToB.json), "b_to_a": .object(spec.bToA.json)],
            "seed": JSON(String(spec.seed)), "cut": JSON(spec.cut),
            "encapsulation": .object(spec.b.remote?.encapsulation
                                     ?? ["kind": "vde", "encrypted": false, "reason": "both ends are switches on this host: VDE datagrams over unix sockets"]),
            "state": JSON(state),
            "ends": status?["ends"] ?? .null,
            "pid": status?["pid"] ?? .null,
            "restart_count": JSON(lifecycle.restartCount),
            "last_exit_reason": JSON(lifecycle.lastExit?.description),
            "failure": JSON(lifecycle.failureReason),
            "lab": JSON(membership?.lab(of: .cable, spec.name)),
            "generation": JSON(spec.generation),
            "applied_generation": status?["applied_generation"] ?? .null,
            "created_at": JSON(spec.createdAt),
        ]
    }
}

/// One cable: its spec and the supervised worker that runs it (whose recipe follows the spec).
final class SupervisedCable {
    var spec: CableSpec {
        didSet { worker.recipe = SupervisedCable.recipe(spec, manager: manager) }
    }
    unowned let manager: CableManager
    let worker: SupervisedWorker

    init(spec: CableSpec, manager: CableManager) {
        self.spec = spec
        self.manager = manager
        worker = SupervisedWorker(recipe: SupervisedCable.recipe(spec, manager: manager))
    }

    var controlPath: String { worker.recipe.controlPath }

    static func recipe(_ spec: CableSpec, manager: CableManager) -> WorkerRecipe {
        let control = manager.cablesDirectory + "/" + spec.name + ".sock"
        let keyFile = manager.cablesDirectory + "/" + spec.name + ".key"
        var arguments = ["--a", manager.switches.directory(for: spec.a.switchName), "--control", control, "--name", spec.name,
                         "--seed", String(spec.seed)]
        if let port = spec.a.port { arguments += ["--a-port", String(port)] }
        switch spec.b.remote {
        case .tcp(let tcp)?:
            arguments += [tcp.listen ? "--b-listen" : "--b-connect", tcp.address]
            arguments += tcp.key == nil ? ["--plain"] : ["--key-file", keyFile]
        case .vxlan(let settings)?:
            arguments += settings.arguments
        case nil:
            arguments += ["--b", manager.switches.directory(for: spec.b.switchName)]
            if let port = spec.b.port { arguments += ["--b-port", String(port)] }
        }
        var key: String?
        if case .tcp(let tcp)? = spec.b.remote { key = tcp.key }
        return WorkerRecipe(kind: "cable", name: spec.name, binary: manager.cableBinary, arguments: arguments,
                            controlPath: control, logPath: manager.switches.configuration.logDirectory + "/cable-" + spec.name + ".log",
                            prepare: {
                                unlink(control)
                                unlink(keyFile)
                                if let key { try? FileSystem.writeFile(keyFile, key + "\n", mode: 0o600) }
                            },
                            configure: { client in try SupervisedCable.configure(client, spec) })
    }

    /// Sets every impairment field of both directions (so nothing stale survives), then cut or restore.
    static func configure(_ client: WorkerClient, _ spec: CableSpec) throws {
        try client.call("impairments.set", ["a_to_b": .object(spec.aToB.json), "b_to_a": .object(spec.bToA.json),
                                            "generation": JSON(spec.generation)])
        try client.call(spec.cut ? "cut" : "restore")
    }
}
