// StackManager: the stacks noun. Kind netns: a network namespace (StackNamespace: named as root,
// a user namespace otherwise) with the kernel's own TCP/IP stack; each interface is a tap (a veth
// when unprivileged) inside it, plugged into a switch port by a supervised vsquare-cable run in the
// namespace. The plug's configure step
// sets the interface's MAC, MTU, addresses, the routes and forwarding, so they come back after a
// restart. GET reads addresses, routes and neighbours from the namespace itself (`ip -j`).
// Kind tap: one tap interface in the host's own namespace, plugged the same way (root only).
// Kind slirp: a vsquare-cable whose far end is libslirp (NAT, DHCP, DNS, host forwards), no root.
// An interface with dhcp: true gets its plug to run busybox udhcpc, with a hook written per stack.
import CableEngine
import Glibc
import JSON
import LabEngine
import Log
import Posix
import SwitchEngine

public final class StackManager: @unchecked Sendable {
    /// Which lab a member belongs to (set once at start-up, before any request).
    public var membership: LabMembership?
    let switches: SwitchManager
    let cableBinary: String
    let store: Store
    let events: EventBus
    let log: Log
    let lock: Lock
    let supervisor: Supervisor
    /// Names the stacks' namespaces apart from another vsquared's.
    let scope: InstanceScope
    var stacks: [String: StackSpec] = [:]
    var plugs: [String: [SupervisedWorker]] = [:]
    /// Detached processes by stack, then id.
    var processes: [String: [Int: DetachedProcess]] = [:]
    var nextProcessID = 1

    public init(switches: SwitchManager, cableBinary: String, scope: InstanceScope, store: Store, events: EventBus,
                supervisor: WorkerSupervisor, log: Log) {
        self.switches = switches
        self.scope = scope
        self.cableBinary = cableBinary
        self.store = store
        self.events = events
        self.log = log
        self.supervisor = supervisor.core
        lock = supervisor.core.lock
    }

    var stacksDirectory: String { switches.configuration.runDirectory + "/stacks" }

    public func start() throws {
        try FileSystem.makeDirectories(stacksDirectory, mode: 0o755)
        let specs = try store.loadStacks()
        let records = Dictionary(uniqueKeysWithValues: try store.loadWorkers(kind: "stack").map { ($0.name, $0) })
        lock.withLock {
            for spec in specs {
                stacks[spec.name] = spec
                if let namespace = namespace(spec) {
                    namespace.ensure()
                    try? prepareFiles(spec, namespace)
                }
                plugs[spec.name] = spec.interfaces.map { interface in
                    let worker = SupervisedWorker(recipe: recipe(spec, interface))
                    supervisor.add(worker, record: records[spec.name + "/" + interface.name])
                    return worker
                }
            }
        }
    }

    /// A netns stack's namespace (nil for slirp and host taps).
    func namespace(_ spec: StackSpec) -> StackNamespace? {
        spec.kind == "netns" ? StackNamespace(stack: spec.name, runDirectory: stacksDirectory, scope: scope) : nil
    }

    /// The namespace's resolv.conf (when nameservers are given, or always when unprivileged) and
    /// the DHCP hook of its dhcp interfaces.
    func prepareFiles(_ spec: StackSpec, _ namespace: StackNamespace) throws {
        if !spec.dns.isEmpty || namespace.mode == .unprivileged { try namespace.writeResolv(spec.dns) }
        if spec.interfaces.contains(where: \.dhcp) {
            try FileSystem.writeFile(dhcpHook(spec), StackManager.dhcpHookScript(spec, etcDirectory: namespace.etcDirectory))
            chmod(dhcpHook(spec), 0o755)
        }
    }

    func dhcpHook(_ spec: StackSpec) -> String { stacksDirectory + "/" + spec.name + "-dhcp-hook" }

    /// busybox udhcpc's hook: applies a lease with its lifetime (so the configure step's flush of
    /// permanent addresses leaves it), the default route, and the nameservers unless given.
    static func dhcpHookScript(_ spec: StackSpec, etcDirectory: String) -> String {
        let resolv = spec.dns.isEmpty ? """
                if [ -n "$dns" ]; then
                    mkdir -p \(etcDirectory)
                    for server in $dns; do echo "nameserver $server"; done > \(etcDirectory)/resolv.conf
                fi
            """ : ""
        return """
        #!/bin/sh
        # vsquare: busybox udhcpc's hook for stack \(spec.name) (runs in its namespace). Written by vsquared.
        case "$1" in
        deconfig)
            ip -4 addr flush dev "$interface" scope global dynamic
            ip link set dev "$interface" up
            ;;
        bound|renew)
            ip -4 addr replace "$ip/${mask:-24}" dev "$interface" valid_lft "${lease:-86400}" preferred_lft "${lease:-86400}"
            if [ -n "$router" ]; then ip -4 route replace default via "${router%% *}" dev "$interface"; fi
        \(resolv)
            ;;
        esac
        exit 0

        """
    }

    /// The control socket of an interface's plug.
    func controlPath(_ spec: StackSpec, _ interface: InterfaceSpec) -> String {
        stacksDirectory + "/" + spec.name + "-" + interface.name + ".sock"
    }

    /// The worker of one interface: vsquare-cable from the switch port to a tap in the namespace
    /// (or the host's), or to libslirp.
    func recipe(_ spec: StackSpec, _ interface: InterfaceSpec) -> WorkerRecipe {
        let control = controlPath(spec, interface)
        var arguments = [cableBinary, "--a", switches.directory(for: interface.switchName), "--control", control,
                         "--name", spec.name + "/" + interface.name]
        if spec.kind == "slirp" {
            let addresses = interface.addresses.compactMap(IPPrefix.init)
            arguments += ["--b-slirp", addresses.first { !$0.isIPv6 }?.description ?? StackSpec.slirpDefaultAddress]
            if let ipv6 = addresses.first(where: \.isIPv6) { arguments += ["--slirp-ipv6", ipv6.description] }
            if !interface.dhcp { arguments.append("--slirp-no-dhcp") }
        } else {
            arguments += [namespace(spec)?.mode == .unprivileged ? "--b-veth" : "--b-tap", interface.name]
            if interface.dhcp { arguments += ["--dhcp-hook", dhcpHook(spec)] }
        }
        if let port = interface.port { arguments += ["--a-port", String(port)] }
        // A netns stack's plug runs inside the namespace, so its interface is created there. An
        // unprivileged namespace is entered through its holder, whose pid is read at each start.
        let namespace = namespace(spec)
        var binary = cableBinary
        switch namespace?.mode {
        case .root?:
            binary = StackNamespace.ip
            arguments = ["netns", "exec", namespace!.name] + arguments
        case .unprivileged?:
            binary = "/bin/sh"
            arguments = ["-c", "exec \(StackNamespace.nsenter) --target \"$(cat \"$0\")\" --user --net --mount --preserve-credentials -- \"$@\"",
                         namespace!.holderFile] + arguments
        case nil:
            arguments.removeFirst()
        }
        return WorkerRecipe(kind: "stack", name: spec.name + "/" + interface.name, binary: binary, arguments: arguments,
                            controlPath: control, logPath: switches.configuration.logDirectory + "/stack-" + spec.name + "-" + interface.name + ".log",
                            prepare: {
                                unlink(control)
                                // A holder that died takes its namespace along: a new one is made (and configured).
                                if let namespace, namespace.ensure() { try? self.prepareFiles(spec, namespace) }
                            },
                            configure: { client in try StackManager.configure(spec, interface, namespace, client) })
    }

    /// slirp: sets the host forwards. Otherwise brings the interface up with its MAC, MTU and
    /// addresses (leases and SLAAC addresses, which have lifetimes, are left), then the stack's
    /// routes and forwarding.
    static func configure(_ spec: StackSpec, _ interface: InterfaceSpec, _ namespace: StackNamespace?, _ client: WorkerClient) throws {
        if spec.kind == "slirp" {
            do {
                _ = try client.call("slirp.forwards.set", ["forwards": JSON(spec.hostForwards.map { JSON.object($0.json) })])
            } catch {
                throw ControlPlaneError.conflict(code: "conflict", message: "host forwards of stack \(spec.name): \(error)")
            }
            return
        }
        // Two `ip -batch` runs, not one process a step: the link and IPv4, then IPv6 (a batch line
        // takes no family option). Each batch stops at its first failing line and says which.
        var inet: [[String]] = [], inet6: [[String]] = []
        if let mac = interface.mac { inet.append(["link", "set", "dev", interface.name, "address", mac]) }
        if let mtu = interface.mtu { inet.append(["link", "set", "dev", interface.name, "mtu", String(mtu)]) }
        inet.append(["link", "set", "dev", interface.name, "up"])
        inet.append(["addr", "flush", "dev", interface.name, "scope", "global", "permanent"])
        for address in interface.addresses {
            if address.contains(":") { inet6.append(["addr", "add", address, "dev", interface.name, "nodad"]) } else {
                inet.append(["addr", "add", address, "dev", interface.name])
            }
        }
        for route in spec.routes {
            if route.via.contains(":") { inet6.append(["route", "replace", route.to, "via", route.via]) } else {
                inet.append(["route", "replace", route.to, "via", route.via])
            }
        }
        for (family, steps) in [([String](), inet), (["-6"], inet6)] where !steps.isEmpty {
            let lines = Array(steps.map { $0.joined(separator: " ") + "\n" }.joined().utf8)
            let result = namespace.map { $0.ip(family + ["-batch", "-"], stdin: lines) } ?? StackNamespace.runIP(family + ["-batch", "-"], stdin: lines)
            guard let result, result.exitCode == 0 else {
                throw ControlPlaneError.unprocessable(code: "unprocessable", message: "ip \(family.joined())-batch of \(interface.name) failed: "
                                                      + String(decoding: result?.stderr ?? [], as: UTF8.self))
            }
        }
        // Forwarding is a namespace-wide setting: never touched for a host tap.
        let value = spec.forwarding ? "1" : "0"
        _ = namespace?.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=\(value)", "net.ipv6.conf.all.forwarding=\(value)"], timeout: 5)
    }

    /// The name is free and every interface names a switch, port and VLAN that exist (lock held).
    func validateReferences(_ spec: StackSpec) throws {
        guard stacks[spec.name] == nil else { throw ControlPlaneError.nameTaken(kind: "stack", name: spec.name) }
        for (index, interface) in spec.interfaces.enumerated() {
            let field = "interfaces[\(index)]"
            guard let switchSpec = switches.switches[interface.switchName]?.spec else {
                throw ControlPlaneError.unprocessableField(path: field + ".switch", message: "there is no switch named \(interface.switchName)")
            }
            if let port = interface.port, !(1...switchSpec.ports).contains(port) {
                throw ControlPlaneError.unprocessableField(path: field + ".port",
                    message: "switch \(interface.switchName) has ports 1 to \(switchSpec.ports), not \(port)")
            }
            if let vlan = interface.vlan, !switchSpec.vlans.contains(VLANID(vlan)) {
                throw ControlPlaneError.unprocessableField(path: field + ".vlan",
                    message: "switch \(interface.switchName) has no VLAN \(vlan); create it first")
            }
        }
        guard Set(spec.interfaces.map(\.name)).count == spec.interfaces.count else {
            throw ControlPlaneError.unprocessableField(path: "interfaces", message: "interface names must differ")
        }
        for interface in spec.interfaces { try ControlPlaneError.checkSocketPath(controlPath(spec, interface)) }
    }

    // MARK: API

    public func create(_ spec: StackSpec) throws -> JSONObject {
        try add(spec)
        return try get(spec.name)
    }

    /// Creates the stack without reading its live view back (labs build many at once).
    func add(_ spec: StackSpec) throws {
        if spec.kind == "slirp" {
            guard spec.interfaces.count == 1, spec.routes.isEmpty, !spec.forwarding, spec.dns.isEmpty else {
                throw ControlPlaneError.unprocessable(code: "unprocessable",
                    message: "a slirp stack has exactly one interface (its address on the switch) and no routes, forwarding or dns")
            }
            let addresses = spec.interfaces[0].addresses.compactMap(IPPrefix.init)
            guard addresses.filter({ !$0.isIPv6 }).count <= 1, addresses.filter(\.isIPv6).count <= 1,
                  addresses.allSatisfy({ $0.isIPv6 ? $0.length == 64 : (8...30).contains($0.length) }) else {
                throw ControlPlaneError.unprocessable(code: "unprocessable",
                    message: "a slirp interface has at most one IPv4 address (prefix 8 to 30) and one IPv6 address in a /64")
            }
        } else if spec.kind == "tap" && geteuid() != 0 {
            throw ControlPlaneError.unprocessable(code: "unprocessable", message: "\(spec.kind) stacks need vsquared to run as root")
        }
        if spec.kind == "tap" {
            guard spec.interfaces.count == 1, spec.routes.isEmpty, !spec.forwarding else {
                throw ControlPlaneError.unprocessable(code: "unprocessable",
                    message: "a tap stack has exactly one interface (the host's tap) and no routes or forwarding")
            }
            guard StackNamespace.runIP(["link", "show", "dev", spec.interfaces[0].name])?.exitCode != 0 else {
                throw ControlPlaneError.conflict(code: "conflict", message: "the host already has an interface named \(spec.interfaces[0].name)")
            }
        }
        // Everything the stack names must exist before anything changes.
        try lock.withLock { try validateReferences(spec) }
        // A VLAN is its port's setting on the switch: set first (the switch takes the same lock).
        for interface in spec.interfaces {
            guard let vlan = interface.vlan, let port = interface.port else { continue }
            do {
                try switches.setPort(interface.switchName, port, PortChange(untaggedVLAN: .some(VLANID(vlan))))
            } catch let error as ControlPlaneError {
                throw ControlPlaneError.unprocessable(code: "unprocessable", message: "interface \(interface.name): \(error)")
            }
        }
        let workers = try lock.withLock { () throws -> [SupervisedWorker] in
            try validateReferences(spec)
            var stored = spec
            stored.createdAt = Clock.rfc3339(Clock.wallSeconds())
            if let namespace = namespace(stored) {
                guard try namespace.create() else {
                    throw ControlPlaneError.conflict(code: "conflict", message: "the network namespace \(namespace.name) could not be created (it may exist)")
                }
                do {
                    try prepareFiles(stored, namespace)
                } catch {
                    namespace.destroy()
                    throw error
                }
            }
            try store.saveStack(stored)
            stacks[spec.name] = stored
            plugs[spec.name] = stored.interfaces.map { interface in
                let worker = SupervisedWorker(recipe: recipe(stored, interface))
                supervisor.add(worker, record: nil)
                return worker
            }
            events.publish("stack.created", ["stack": JSON(spec.name)])
            return plugs[spec.name] ?? []
        }
        // The plugs start together, without the lock.
        for worker in workers { _ = supervisor.awaitStart(worker) }
    }

    /// Each interface's plug counters: a→b is switch→stack (frames the stack received), b→a the reverse.
    public func interfaceCounters() -> [(stack: String, interface: String, counters: JSON?)] {
        let entries: [(String, String, WorkerClient, Bool)] = lock.withLock {
            stacks.keys.sorted().flatMap { name in
                zip(stacks[name]!.interfaces, plugs[name] ?? []).map { interface, worker in
                    (name, interface.name, worker.client, worker.lifecycle.state == .running)
                }
            }
        }
        return entries.map { stack, interface, client, running in
            (stack, interface, running ? try? client.call("counters") : nil)
        }
    }

    public var names: [String] { lock.withLock { stacks.keys.sorted() } }

    /// Whether there is a stack `name` (asks no worker).
    func contains(_ name: String) -> Bool { lock.withLock { stacks[name] != nil } }

    /// `running` once every interface's plug runs with both its ends up (the interface is
    /// configured and plugged into its port); otherwise the first that is not, in its words.
    func readiness(_ name: String) -> String? {
        guard let plugs = lock.withLock({ plugs[name].map { $0.map { ($0.lifecycle.state, $0.client) } } }) else { return nil }
        for (state, client) in plugs {
            guard state == .running else { return state.rawValue }
            let observed = (try? client.call("status"))?["state"]?.stringValue ?? "unresponsive"
            if observed != "up" { return observed }
        }
        return "running"
    }

    public func list() -> [JSONObject] { names.compactMap { try? get($0) } }

    public func get(_ name: String) throws -> JSONObject {
        let (spec, lifecycles, clients) = try lock.withLock { () throws -> (StackSpec, [WorkerLifecycle], [WorkerClient]) in
            guard let spec = stacks[name] else { throw ControlPlaneError.notFound(kind: "stack", name: name) }
            return (spec, (plugs[name] ?? []).map(\.lifecycle), (plugs[name] ?? []).map(\.client))
        }
        /// Each interface's plug: its lifecycle state and, when it does not run, why (in its own words).
        func plugView(_ index: Int) -> JSONObject {
            let lifecycle = lifecycles.indices.contains(index) ? lifecycles[index] : nil
            return ["state": JSON(lifecycle?.state.rawValue ?? "stopped"), "failure": JSON(lifecycle?.failureReason)]
        }
        if spec.kind == "slirp" { return slirpView(spec, plug: plugView(0), clients: clients) }
        let namespace = namespace(spec)
        func live(_ arguments: [String]) -> JSON {
            guard let result = namespace.map({ $0.ip(["-j"] + arguments) }) ?? StackNamespace.runIP(["-j"] + arguments), result.exitCode == 0,
                  let json = try? JSON.parse(result.stdout) else { return [] }
            return json
        }
        let links = (namespace == nil ? live(["addr", "show", "dev", spec.interfaces.first?.name ?? "lo"]) : live(["addr", "show"])).arrayValue ?? []
        let interfaces: [JSON] = spec.interfaces.enumerated().map { index, interface in
            var view = interface.json
            let link = links.first { $0["ifname"]?.stringValue == interface.name }
            for (key, value) in plugView(index) { view[key] = value }
            view["oper_state"] = link?["operstate"] ?? .null
            view["live_mac"] = link?["address"] ?? .null
            view["live_addresses"] = JSON((link?["addr_info"]?.arrayValue ?? []).compactMap { info -> JSON? in
                guard let local = info["local"]?.stringValue, let prefix = info["prefixlen"]?.intValue else { return nil }
                return JSON("\(local)/\(prefix)")
            })
            return .object(view)
        }
        // A host tap's routes and neighbours are the host's: only a namespace's are shown.
        let routes4 = namespace == nil ? [] : live(["route", "show"]).arrayValue ?? []
        let routes6 = namespace == nil ? [] : live(["-6", "route", "show"]).arrayValue ?? []
        return ["name": JSON(spec.name), "kind": JSON(spec.kind), "mode": JSON(namespace?.mode.rawValue ?? "root"), "namespace": JSON(namespace?.name),
                "interfaces": JSON(interfaces), "routes": JSON(spec.routes.map { JSON.object($0.json) }),
                "live_routes": JSON(routes4 + routes6), "neighbours": namespace == nil ? [] : live(["neigh", "show"]),
                "forwarding": JSON(spec.forwarding), "dns": JSON(spec.dns.map(JSON.string)),
                "lab": JSON(membership?.lab(of: .stack, spec.name)), "generation": JSON(spec.generation), "created_at": JSON(spec.createdAt)]
    }

    /// A slirp stack as its worker reports it: addresses served, host forwards, connections.
    private func slirpView(_ spec: StackSpec, plug: JSONObject, clients: [WorkerClient]) -> JSONObject {
        let end = (plug["state"] == "running" ? try? clients.first?.call("status") : nil)?["ends"]?[1]
        var interface = spec.interfaces[0].json
        for (key, value) in plug { interface[key] = value }
        interface["live_addresses"] = JSON([end?["address"], end?["ipv6"]].compactMap { $0?.stringValue.map(JSON.string) })
        return ["name": JSON(spec.name), "kind": "slirp", "mode": "unprivileged", "namespace": .null, "interfaces": [.object(interface)],
                "host_forwards": JSON(spec.hostForwards.map { JSON.object($0.json) }),
                "slirp": end.map { end in
                    .object(["nameserver": end["nameserver"] ?? .null, "dhcp": end["dhcp"] ?? .null, "connections": end["connections"] ?? [],
                             "frames_in": end["frames_in"] ?? .null, "frames_out": end["frames_out"] ?? .null])
                } ?? .null,
                "routes": [], "forwarding": false, "lab": JSON(membership?.lab(of: .stack, spec.name)), "generation": JSON(spec.generation),
                "created_at": JSON(spec.createdAt)]
    }

    /// Changes addresses, routes or forwarding: stored, then applied to the namespace.
    public func update(_ name: String, _ body: (inout StackSpec) throws -> Void) throws -> JSONObject {
        try lock.withLock {
            guard var spec = stacks[name] else { throw ControlPlaneError.notFound(kind: "stack", name: name) }
            let before = spec
            try body(&spec)
            guard spec != before else { return }
            spec.generation += 1
            try store.saveStack(spec)
            do {
                try apply(spec)
            } catch {
                // Refused by the stack (an address, a route, a host port): put back what was there.
                try store.saveStack(before)
                try? apply(before)
                throw error
            }
        }
        return try get(name)
    }

    /// Makes the stack's plugs run and be configured as `spec` says (the caller holds the lock).
    private func apply(_ spec: StackSpec) throws {
        stacks[spec.name] = spec
        for (index, interface) in spec.interfaces.enumerated() {
            guard let plug = plugs[spec.name]?[index] else { continue }
            plug.recipe = recipe(spec, interface)
            if plug.lifecycle.state == .running { try StackManager.configure(spec, interface, namespace(spec), plug.client) }
        }
    }

    public func delete(_ name: String) throws { try delete([name]) }

    /// Deletes several stacks at once (their plugs are stopped together); 404 before anything
    /// changes if one of them does not exist.
    func delete(_ names: [String]) throws {
        try lock.withLock {
            let specs = try names.map { name in
                guard let spec = stacks[name] else { throw ControlPlaneError.notFound(kind: "stack", name: name) }
                return spec
            }
            for name in names { try store.deleteStack(name) }
            supervisor.remove(names.flatMap { plugs[$0] ?? [] })
            for spec in specs {
                let name = spec.name
                plugs[name] = nil
                stacks[name] = nil
                for process in (processes.removeValue(forKey: name) ?? [:]).values {
                    process.stop()
                    process.remove()
                }
                // Processes left running inside the namespace go with it (a host tap goes with its plug).
                if let namespace = namespace(spec) {
                    namespace.destroy()
                    unlink(dhcpHook(spec))
                }
                events.publish("stack.deleted", ["stack": JSON(name)])
            }
        }
    }

    /// Output kept from each stream of a command, unless a quota says less.
    public static let execOutputCap = 1 << 20

    /// Runs a command inside the stack; it is killed (with everything it started) at its timeout.
    /// Output beyond `outputCap` bytes per stream is dropped (`truncated`).
    public func exec(_ name: String, argv: [String], stdin: [UInt8], environment: [String: String], timeoutSeconds: Double,
                     outputCap: Int = StackManager.execOutputCap) throws -> JSONObject {
        let enter = try lock.withLock { try entry(name) }
        var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]
        for (key, value) in environment { env[key] = value }
        let result = try ProcessRunner.run(enter[0], Array(enter.dropFirst()) + argv, environment: env, stdin: stdin,
                                           timeoutSeconds: timeoutSeconds, outputCap: outputCap)
        return ["exit_code": JSON(result.exitCode), "stdout": JSON(String(decoding: result.stdout, as: UTF8.self)),
                "stderr": JSON(String(decoding: result.stderr, as: UTF8.self)), "truncated": JSON(result.truncated),
                "timed_out": JSON(result.timedOut), "duration_ms": JSON(result.durationMilliseconds)]
    }

    /// Starts `argv` inside the stack and returns at once with the process's id.
    public func start(_ name: String, argv: [String], environment: [String: String]) throws -> JSONObject {
        try lock.withLock {
            let enter = try entry(name)
            var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]
            for (key, value) in environment { env[key] = value }
            let process = try DetachedProcess(id: nextProcessID, argv: argv, enter: enter, directory: stacksDirectory, environment: env)
            nextProcessID += 1
            processes[name, default: [:]][process.id] = process
            events.publish("stack.process_started", ["stack": JSON(name), "process": JSON(process.id)])
            return process.view()
        }
    }

    public func processList(_ name: String) throws -> [JSON] {
        try lock.withLock {
            guard stacks[name] != nil else { throw ControlPlaneError.notFound(kind: "stack", name: name) }
            return (processes[name] ?? [:]).keys.sorted().map { JSON.object(processes[name]![$0]!.view()) }
        }
    }

    public func process(_ name: String, _ id: Int) throws -> JSONObject {
        try lock.withLock { try detached(name, id).view() }
    }

    /// Ends the process (and its group) and forgets it; returns its last state.
    public func stopProcess(_ name: String, _ id: Int) throws -> JSONObject {
        try lock.withLock {
            let process = try detached(name, id)
            process.stop()
            let view = process.view()
            process.remove()
            processes[name]?[id] = nil
            return view
        }
    }

    private func detached(_ name: String, _ id: Int) throws -> DetachedProcess {
        guard stacks[name] != nil else { throw ControlPlaneError.notFound(kind: "stack", name: name) }
        guard let process = processes[name]?[id] else { throw ControlPlaneError.notFound(kind: "process", name: "\(id) in stack \(name)") }
        return process
    }

    /// The command prefix that runs a program in the stack (the caller holds the lock).
    private func entry(_ name: String) throws -> [String] {
        guard let spec = stacks[name] else { throw ControlPlaneError.notFound(kind: "stack", name: name) }
        guard let namespace = namespace(spec) else {
            throw ControlPlaneError.unprocessable(code: "unprocessable", message: "a \(spec.kind) stack has no namespace to run commands in")
        }
        guard let enter = namespace.enter else {
            throw ControlPlaneError.workerUnavailable(name: "stack \(name)", reason: "its namespace is being made again; retry shortly")
        }
        return enter
    }
}
