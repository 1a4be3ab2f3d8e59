// LabManager: carries out what LabEngine decides. A lab is made from a topology document: the
// analyzer refuses a document with problems before anything exists; the planner's steps are then
// done by the LabBuilder through the ordinary nouns, each member under its global name. Every
// apply (a first build, a PUT, a reset) is journaled in the store first, so a vsquared that dies
// part-way finishes it on start-up; a PUT whose step fails is undone back to the last generation.
// A document with `hosts` makes this vsquared the lab's coordinator: it builds its own share and
// hands each peer its share through LabPeers at the same time, and a monitor keeps every share in
// place (a peer that was down gets its share again when it is back).
import Glibc
import JSON
import LabEngine
import Log
import Posix
import Synchronization

public final class LabManager: @unchecked Sendable {
    let store: Store
    let events: EventBus
    let log = Log(label: "vsquared.labs")
    let vocabulary = NounVocabulary()
    let builder: LabBuilder
    let checker: LabChecker
    /// Shared with the three nouns, whose views show it.
    public let membership = LabMembership()
    /// One apply, reset or delete at a time; reads never wait for it.
    let operations = Lock()
    /// `labs` and `activity`, held briefly.
    let lock = Lock()
    var labs: [String: LabSpec] = [:]
    /// What a lab is doing now (`applying`, `deleting`), if anything.
    var activity: [String: String] = [:]
    /// How long a lab may take to have every worker running after its steps are done.
    static let readySeconds = 20.0
    /// The other vsquared daemons shares go to, and what each last said.
    let peers: LabPeers
    /// How often the monitor asks each peer about its shares.
    static let monitorSeconds = 1.0

    public init(store: Store, switches: SwitchManager, cables: CableManager, stacks: StackManager, events: EventBus,
                peers: PeerBook = PeerBook()) throws {
        self.store = store
        self.events = events
        self.peers = LabPeers(book: peers)
        builder = LabBuilder(switches: switches, cables: cables, stacks: stacks, log: log)
        checker = LabChecker(store: store, events: events, log: log)
        for spec in try store.loadLabs() {
            labs[spec.name] = spec
            membership.set(LabManager.globalNames(spec), lab: spec.name)
        }
        switches.membership = membership
        cables.membership = membership
        stacks.membership = membership
    }

    /// Finishes every apply an earlier vsquared did not (call once the nouns have started).
    public func start() {
        operations.withLock {
            for spec in lock.withLock({ labs.values.filter { $0.applying != nil } }) {
                log.warning("finishing an interrupted apply", [("lab", spec.name), ("generation", String(spec.generation))])
                run(spec.name, resumed: true)
            }
        }
        if !peers.book.peers.isEmpty || (try? store.peerDeletions().isEmpty) == false {
            _ = Thread { [self] in
                while true {
                    usleep(UInt32(LabManager.monitorSeconds * 1e6))
                    monitor()
                }
            }
        }
    }

    /// Global names of what this vsquared runs of the lab's document (and of an apply under way).
    static func globalNames(_ spec: LabSpec) -> [(kind: LabMember.Kind, name: String)] {
        let members = local(spec.document, spec.tunnels) + local(spec.applying?.from ?? .null, spec.applying?.fromTunnels ?? [])
        return members.map { ($0.kind, LabNames.global(lab: spec.name, local: $0.name)) }
    }

    /// What this vsquared builds of a document: all of it, or its own share of a lab spread over hosts.
    static func local(_ document: JSON, _ tunnels: [LabTunnel]) -> [LabMember] { LabHosts.split(document, tunnels: tunnels).local }

    // MARK: the resource

    /// Analyzes `document`, refuses it with every problem if it has any, then builds the lab (as
    /// `share`, another vsquared's share of a lab it coordinates, when given).
    public func create(name: String, document: JSON, share: LabShare? = nil) throws -> JSONObject {
        try operations.withLock {
            guard lock.withLock({ labs[name] == nil }) else { throw ControlPlaneError.nameTaken(kind: "lab", name: name) }
            let analysis = try analyzed(document, share: share)
            let tunnels = tunnels(for: document, lab: name, existing: [])
            try checkGlobalNames(LabManager.local(document, tunnels), lab: name)
            var spec = LabSpec(name: name, document: document)
            spec.tunnels = tunnels
            spec.share = share
            spec.createdAt = Clock.rfc3339(Clock.wallSeconds())
            spec.applying = LabApply(from: [:], fromGeneration: 0, undoesOnFailure: false, purpose: "applied")
            try save(spec)
            run(name, resumed: false)
            return try get(name).adding(warnings: analysis.warnings)
        }
    }

    /// Applies a new document: only what differs is touched. `ifMatch` is the generation the caller
    /// last saw (412 if the lab moved on); `dryRun` answers the plan and does nothing. `share`
    /// comes with a coordinator's PUT of this vsquared's share (`peer` is who sent it).
    public func update(name: String, document: JSON, ifMatch: Int?, dryRun: Bool, share: LabShare? = nil, peer: String? = nil) throws -> JSONObject {
        try operations.withLock {
            guard var spec = lock.withLock({ labs[name] }) else { throw ControlPlaneError.notFound(kind: "lab", name: name) }
            try checkShare(spec, peer: peer)
            if share != nil && spec.share == nil {
                throw ControlPlaneError.conflict(code: "lab_share", message: "lab \(name) on this vsquared is its own, not a share of a lab coordinated elsewhere")
            }
            if let ifMatch, ifMatch != spec.generation { throw ControlPlaneError.staleGeneration(current: spec.generation) }
            let analysis = try analyzed(document, share: share)
            let tunnels = tunnels(for: document, lab: name, existing: spec.tunnels)
            let current = LabManager.local(spec.document, spec.tunnels), desired = LabManager.local(document, tunnels)
            let known = Set(current.map { "\($0.kind.rawValue) \($0.name)" })
            try checkGlobalNames(desired.filter { !known.contains("\($0.kind.rawValue) \($0.name)") }, lab: name)
            let steps = plannedSteps(name, from: (spec.document, spec.tunnels), to: (document, tunnels))
            if dryRun {
                let plan: JSONObject = ["name": JSON(name), "generation": JSON(spec.generation), "steps": JSON(steps)]
                return plan.adding(warnings: analysis.warnings)
            }
            guard document != spec.document else {
                if let share, share != spec.share {
                    spec.share = share
                    try save(spec)
                }
                return try get(name).adding(warnings: analysis.warnings)
            }
            spec.applying = LabApply(from: spec.document, fromGeneration: spec.generation, undoesOnFailure: true, purpose: "applied",
                                     fromTunnels: spec.tunnels)
            spec.document = document
            spec.tunnels = tunnels
            if let share { spec.share = share }
            spec.generation += 1
            try save(spec)
            run(name, resumed: false)
            guard let after = lock.withLock({ labs[name] }) else { throw ControlPlaneError.notFound(kind: "lab", name: name) }
            if after.lastApply["outcome"] == "rolled_back" {
                throw ControlPlaneError.applyFailed(failures: after.lastApply["failures"]?.arrayValue ?? [], generation: after.generation)
            }
            var reply = try get(name).adding(warnings: analysis.warnings)
            reply["steps"] = JSON(steps)
            return reply
        }
    }

    /// What creating lab `name` from `document` would do, without doing it: the analysis and the ordered steps.
    public func plan(name: String, document: JSON) throws -> JSONObject {
        let analysis = try analyzed(document)
        let tunnels = tunnels(for: document, lab: name, existing: [])
        var plan: JSONObject = ["name": JSON(name), "steps": JSON(plannedSteps(name, from: (.null, []), to: (document, tunnels)))]
        if !tunnels.isEmpty { plan["tunnels"] = JSON(tunnels.map { JSON.object($0.publicJSON) }) }
        return plan.adding(warnings: analysis.warnings)
    }

    /// The steps from one document to another, host by host (each step naming its `host` when the lab has hosts).
    private func plannedSteps(_ name: String, from: (JSON, [LabTunnel]), to: (JSON, [LabTunnel])) -> [JSON] {
        let before = LabHosts.split(from.0, tunnels: from.1), after = LabHosts.split(to.0, tunnels: to.1)
        guard !after.hosts.isEmpty || !before.hosts.isEmpty else {
            return LabPlanner.plan(from: before.local, to: after.local).map { JSON.object($0.json(lab: name)) }
        }
        let hosts = [after.coordinator] + Set(before.peers.map(\.name) + after.peers.map(\.name)).sorted()
        return hosts.flatMap { host in
            LabPlanner.plan(from: before.shares[host] ?? [], to: after.shares[host] ?? []).map { step -> JSON in
                var item = step.json(lab: name)
                item["host"] = JSON(host)
                return .object(item)
            }
        }
    }

    /// The tunnels a document's cables between hosts need: those the lab has kept, new ones on
    /// ports no cable of this vsquared and no other lab's tunnel holds.
    private func tunnels(for document: JSON, lab: String, existing: [LabTunnel]) -> [LabTunnel] {
        guard document["hosts"] != nil else { return [] }
        let others = Set(lock.withLock { labs.values.filter { $0.name != lab }.flatMap(\.tunnels).map(\.port) })
        let hosts = LabHosts.read(document) { _, _, _ in }
        var taken = Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, others) })
        if let coordinator = hosts.first(where: \.isCoordinator) { taken[coordinator.name, default: []].formUnion(builder.cables.portsInUse) }
        return LabHosts.tunnels(of: document, lab: lab, existing: existing, taken: taken) { _ in TokenManager.randomHex(bytes: 32) }
    }

    /// Puts `only` (every member when nil) back as the document says: stacks made again from
    /// nothing (startup commands run again), switches' MAC tables flushed, counters zeroed,
    /// impairments and cuts as declared, members deleted by force made again.
    public func reset(name: String, only: [String]?, peer: String? = nil) throws -> JSONObject {
        try operations.withLock {
            guard var spec = lock.withLock({ labs[name] }) else { throw ControlPlaneError.notFound(kind: "lab", name: name) }
            try checkShare(spec, peer: peer)
            let started = Clock.monotonicNanoseconds()
            let split = LabHosts.split(spec.document, tunnels: spec.tunnels)
            let members = split.local
            let declared = split.shares.values.flatMap { $0 }
            if let only, let unknown = only.first(where: { wanted in !declared.contains { $0.name == wanted } }) {
                throw ControlPlaneError.unprocessableField(path: "members", message: "lab \(name) has no member named \(unknown)")
            }
            let chosen = members.filter { only?.contains($0.name) ?? true }
            events.publish("lab.resetting", ["lab": JSON(name), "members": JSON((only ?? declared.map(\.name)).map { JSON($0) })])
            // Each peer resets its own share's members meanwhile.
            let remote = Thread { [self] in resetShares(name, split: split, only: only) }
            defer { remote.join() }
            // Switches and cables in place (their clients stay plugged in), then stacks from nothing.
            let kept = chosen.filter { $0.kind != .stack && builder.exists($0.kind, LabNames.global(lab: name, local: $0.name)) }
            let failures = Mutex<[JSON]>([])
            Thread.concurrently(kept.count, width: LabBuilder.width) { [builder] index in
                do { try builder.reset(kept[index], lab: name) } catch {
                    failures.withLock { $0.append(["member": JSON(kept[index].name), "kind": JSON(kept[index].kind.rawValue),
                                                   "message": JSON(String(describing: error))]) }
                }
            }
            let remade = Set(chosen.filter { !kept.contains($0) }.map { "\($0.kind.rawValue) \($0.name)" })
            let from = members.filter { !remade.contains("\($0.kind.rawValue) \($0.name)") }
            spec.applying = LabApply(from: LabMember.document(of: from), fromGeneration: spec.generation, undoesOnFailure: false,
                                     purpose: "reset")
            try save(spec)
            builder.carryOut(LabPlanner.plan(from: members, to: from), target: from, lab: name) { _, _ in }
            run(name, resumed: false, extraFailures: failures.withLock { $0 })
            var reply = try get(name)
            reply["reset"] = ["members": JSON(chosen.map { JSON($0.name) }),
                              "duration_ms": JSON(Int((Clock.monotonicNanoseconds() - started) / 1_000_000))]
            return reply
        }
    }

    /// Runs the checks the lab's document declares, in order, and records the run.
    public func runChecks(_ name: String) throws -> JSONObject {
        guard let (spec, activity) = lock.withLock({ labs[name].map { ($0, activity[name]) } }) else {
            throw ControlPlaneError.notFound(kind: "lab", name: name)
        }
        if let activity { throw ControlPlaneError.conflict(code: "lab_busy", message: "lab \(name) is \(activity); check it once it is ready") }
        let checks = LabAnalyzer.analyze(spec.document, vocabulary: vocabulary).checks
        return checker.run(lab: name, generation: spec.generation, checks: checks) { [self] lab, stack, argv, timeout in
            try exec(lab: lab, stack: stack, argv: argv, stdin: [], environment: [:], timeoutSeconds: timeout)
        }
    }

    /// The lab's newest recorded check run, if it has one.
    public func latestCheckRun(_ name: String) throws -> JSON? {
        guard lock.withLock({ labs[name] != nil }) else { throw ControlPlaneError.notFound(kind: "lab", name: name) }
        return try checker.runs(lab: name, limit: 1).first
    }

    /// The checks the lab declares and its newest `limit` recorded runs, newest first.
    public func checks(_ name: String, limit: Int) throws -> JSONObject {
        guard let spec = lock.withLock({ labs[name] }) else { throw ControlPlaneError.notFound(kind: "lab", name: name) }
        let checks = LabAnalyzer.analyze(spec.document, vocabulary: vocabulary).checks
        return ["lab": JSON(name), "checks": JSON(checks.map { JSON.object($0.json) }),
                "max_points": JSON(checks.reduce(0) { $0 + $1.points }), "runs": JSON(try checker.runs(lab: name, limit: limit))]
    }

    public func list() -> [JSONObject] { lock.withLock { labs.keys.sorted() }.compactMap { try? get($0) } }

    public func get(_ name: String) throws -> JSONObject {
        guard let (spec, activity) = lock.withLock({ labs[name].map { ($0, activity[name]) } }) else {
            throw ControlPlaneError.notFound(kind: "lab", name: name)
        }
        return view(spec, activity: activity)
    }

    /// The lab's generation (its ETag).
    public func generation(_ name: String) throws -> Int {
        guard let generation = lock.withLock({ labs[name]?.generation }) else { throw ControlPlaneError.notFound(kind: "lab", name: name) }
        return generation
    }

    /// Deletes every member (stacks and cables, then switches), then the lab.
    public func delete(_ name: String, peer: String? = nil) throws {
        try operations.withLock {
            guard let spec = lock.withLock({ labs[name] }) else { throw ControlPlaneError.notFound(kind: "lab", name: name) }
            try checkShare(spec, peer: peer)
            lock.withLock { activity[name] = "deleting" }
            events.publish("lab.deleting", ["lab": JSON(name)])
            let remote = Thread { [self] in deleteShares(name, hosts: sharingHosts(spec)) }
            let members = LabManager.local(spec.document, spec.tunnels) + LabManager.local(spec.applying?.from ?? .null, spec.applying?.fromTunnels ?? [])
            builder.carryOut(LabPlanner.plan(from: members, to: []), target: [], lab: name) { _, _ in }
            remote.join()
            peers.forget(name)
            try store.deleteLab(name)
            membership.set(LabManager.globalNames(spec), lab: nil)
            lock.withLock {
                labs[name] = nil
                activity[name] = nil
            }
            events.publish("lab.deleted", ["lab": JSON(name)])
        }
    }

    // MARK: carrying out an apply

    /// Carries out the lab's journaled apply (`applying.from` → `document`), then waits for every
    /// member to run. A failed step of an apply that undoes itself plans the way back to `from`
    /// and carries that out too. Records the outcome and clears the journal.
    private func run(_ name: String, resumed: Bool, extraFailures: [JSON] = []) {
        guard var spec = lock.withLock({ labs[name] }), let journal = spec.applying else { return }
        lock.withLock { activity[name] = "applying" }
        defer { lock.withLock { activity[name] = nil } }
        let current = LabManager.local(journal.from, journal.fromTunnels), desired = LabManager.local(spec.document, spec.tunnels)
        let steps = LabPlanner.plan(from: current, to: desired)
        // The peers' shares are applied while this vsquared builds its own.
        let split = LabHosts.split(spec.document, tunnels: spec.tunnels)
        let peerFailures = Mutex<[JSON]>([])
        let pushes = journal.purpose != "reset"
        let remote = Thread { [self, spec] in
            guard pushes else { return }
            let failures = applyShares(name, split: split, generation: spec.generation, previous: sharingHosts(spec))
            peerFailures.withLock { $0 = failures }
        }
        let progress = Mutex<(journal: LabApply, failed: [Int: String])>((journal, [:]))
        let generation = spec.generation
        events.publish("lab.applying", ["lab": JSON(name), "generation": JSON(spec.generation), "done": JSON(journal.done.count),
                                        "total": JSON(steps.count)])
        builder.carryOut(steps, target: desired, lab: name, skip: journal.done) { [self] index, error in
            let (snapshot, count) = progress.withLock { state -> (LabApply, Int) in
                if let error { state.failed[index] = error } else { state.journal.done.insert(index) }
                return (state.journal, state.journal.done.count + state.failed.count)
            }
            if error == nil { try? saveJournal(name, snapshot) }
            events.publish("lab.applying", ["lab": JSON(name), "generation": JSON(generation), "done": JSON(count),
                                            "total": JSON(steps.count)])
        }
        remote.join()
        let (finalJournal, failed) = progress.withLock { ($0.journal, $0.failed) }
        var failures = failed.sorted { $0.key < $1.key }.map { index, message -> JSON in
            ["member": JSON(steps[index].name), "kind": JSON(steps[index].kind.rawValue), "message": JSON(message)]
        } + extraFailures
        let refusedByPeers = peerFailures.withLock { $0 }
        failures += refusedByPeers
        var outcome = resumed ? "\(journal.purpose)_after_restart" : journal.purpose
        if (!failed.isEmpty || !refusedByPeers.isEmpty) && journal.undoesOnFailure {
            // Back to the last good generation: from what the attempted steps left, to `from`.
            let attempted = finalJournal.done.union(failed.keys)
            let left = LabPlanner.members(after: steps, attempted: attempted, from: current, to: desired)
            spec.document = journal.from
            spec.tunnels = journal.fromTunnels
            spec.generation = journal.fromGeneration
            spec.applying = LabApply(from: LabMember.document(of: left), fromGeneration: journal.fromGeneration,
                                     undoesOnFailure: false, purpose: "rolled_back")
            try? save(spec)
            events.publish("lab.rolling_back", ["lab": JSON(name), "generation": JSON(spec.generation), "failures": JSON(failures)])
            run(name, resumed: false)
            guard var undone = lock.withLock({ labs[name] }) else { return }
            outcome = resumed ? "rolled_back_after_restart" : "rolled_back"
            undone.lastApply = ["generation": JSON(undone.generation), "outcome": JSON(outcome), "failures": JSON(failures),
                                "at": JSON(Clock.rfc3339(Clock.wallSeconds()))]
            try? save(undone)
            return
        }
        failures += awaitRunning(spec)
        spec.applying = nil
        spec.failures = failures
        spec.lastApply = ["generation": JSON(spec.generation), "outcome": JSON(outcome), "failures": JSON(failures),
                          "at": JSON(Clock.rfc3339(Clock.wallSeconds()))]
        do { try save(spec) } catch { log.error("could not store the lab", [("lab", name), ("error", String(describing: error))]) }
        // Members the document no longer declares are no longer the lab's.
        membership.set(current.map { ($0.kind, LabNames.global(lab: name, local: $0.name)) }, lab: nil)
        membership.set(LabManager.globalNames(spec), lab: name)
        if failures.isEmpty {
            events.publish("lab.ready", ["lab": JSON(name), "generation": JSON(spec.generation)])
        } else {
            events.publish("lab.degraded", ["lab": JSON(name), "generation": JSON(spec.generation),
                                            "failed": JSON(failures.compactMap { $0["member"] }), "failures": JSON(failures)])
        }
    }

    /// Waits until every member runs (workers serve, interfaces plugged in); those that do not by
    /// the deadline are failures, `{member, kind, message}`.
    private func awaitRunning(_ spec: LabSpec) -> [JSON] {
        let deadline = Clock.monotonicNanoseconds() + UInt64(LabManager.readySeconds * 1e9)
        var waiting = LabManager.local(spec.document, spec.tunnels)
        while true {
            waiting = waiting.filter { builder.readiness($0.kind, LabNames.global(lab: spec.name, local: $0.name)) != "running" }
            if waiting.isEmpty || Clock.monotonicNanoseconds() > deadline { break }
            usleep(20_000)
        }
        return waiting.map { member in
            let state = builder.readiness(member.kind, LabNames.global(lab: spec.name, local: member.name)) ?? "missing"
            return ["member": JSON(member.name), "kind": JSON(member.kind.rawValue),
                    "message": JSON("not running after \(Int(LabManager.readySeconds)) s: \(state)")]
        }
    }

    func save(_ spec: LabSpec) throws {
        try store.saveLab(spec)
        lock.withLock { labs[spec.name] = spec }
        membership.set(LabManager.globalNames(spec), lab: spec.name)
    }

    private func saveJournal(_ name: String, _ journal: LabApply) throws {
        guard var spec = lock.withLock({ labs[name] }) else { return }
        spec.applying = journal
        try save(spec)
    }

    /// The document's analysis; a document with any error is refused with all of them. A share
    /// (a coordinator's PUT) is one host's part and declares no hosts of its own.
    private func analyzed(_ document: JSON, share: LabShare? = nil) throws -> LabAnalysis {
        let analysis = LabAnalyzer.analyze(document, vocabulary: vocabulary)
        var problems = analysis.errors + hostProblems(analysis)
        if share != nil && document["hosts"] != nil {
            problems.append(LabProblem(.error, "/hosts", "invalid_field", "a share is one host's part of a lab: its coordinator declares the hosts"))
        }
        guard problems.isEmpty else { throw ControlPlaneError.invalidTopology(problems: problems) }
        return analysis
    }

    /// What this daemon cannot build of an analyzed document (pointers relative to it): every host
    /// with an api is another vsquared, which must be one of this one's peers (VSQUARE_PEERS).
    func hostProblems(_ analysis: LabAnalysis) -> [LabProblem] {
        analysis.hosts.filter { !$0.isCoordinator && peers.book.peer(url: $0.api ?? "") == nil }.sorted { $0.name < $1.name }.map { host in
            LabProblem(.error, "/hosts/" + JSONPointer.token(host.name) + "/api", "unknown_peer",
                       "host \(host.name) (\(host.api ?? "")) is not a peer of this vsquared (VSQUARE_PEERS), so it cannot take a share of this lab")
        }
    }

    /// A share is changed only by the coordinator it came from.
    private func checkShare(_ spec: LabSpec, peer: String?) throws {
        guard let share = spec.share, share.coordinator != peer else { return }
        throw ControlPlaneError.conflict(code: "lab_share", message: "lab \(spec.name) here is host \(share.host)'s share of a lab coordinated by \(share.coordinator); change it there")
    }

    /// A member whose global name is taken by something outside this lab would be silently adopted: refuse.
    private func checkGlobalNames(_ members: [LabMember], lab: String) throws {
        for member in members {
            let global = LabNames.global(lab: lab, local: member.name)
            if builder.exists(member.kind, global) { throw ControlPlaneError.nameTaken(kind: member.kind.rawValue, name: global) }
        }
    }

    // MARK: views

    /// The lab with each member's state: `ready` when every member runs and the last apply left no
    /// failure, `failed` when none runs, `degraded` otherwise; `applying`/`deleting` while that
    /// happens. A lab spread over hosts shows every host's members (each with its `host`), its
    /// tunnels, and each host's state as last heard: one peer that is not `ready` makes it `degraded`.
    private func view(_ spec: LabSpec, activity: String?) -> JSONObject {
        var members: [JSON] = []
        var running = 0
        let split = LabHosts.split(spec.document, tunnels: spec.tunnels)
        let declared = split.local
        let tunnelOf = Dictionary(spec.tunnels.map { ($0.cable, $0) }, uniquingKeysWith: { first, _ in first })
        for member in declared {
            let global = LabNames.global(lab: spec.name, local: member.name)
            let state = builder.readiness(member.kind, global) ?? "missing"
            if state == "running" { running += 1 }
            var item: JSONObject = ["kind": JSON(member.kind.rawValue), "name": JSON(member.name), "global_name": JSON(global),
                                    "state": JSON(state)]
            if member.kind == .switch {
                let directory = builder.exists(.switch, global) ? builder.switches.directory(for: global) : nil
                item["plug_url"] = JSON(directory.map { "vde://" + $0 })
                item["qemu_nic"] = JSON(directory.map { "-nic vde,sock=" + $0 })
            }
            if !split.hosts.isEmpty { item["host"] = JSON(split.coordinator) }
            if let tunnel = tunnelOf[member.name] { item["tunnel"] = .object(tunnel.publicJSON) }
            members.append(.object(item))
        }
        let heard = peers.status(spec.name)
        var hosts: [JSON] = []
        var peersReady = true
        for host in split.peers {
            let status = heard[host.name] ?? LabPeers.HostStatus(state: "unknown", host: host)
            peersReady = peersReady && status.state == "ready"
            for member in status.members {
                var item = member.objectValue ?? [:]
                if status.state == "unreachable" { item["state"] = "unknown" }
                if let name = item["name"]?.stringValue, let tunnel = tunnelOf[name], item["kind"] == "cable" { item["tunnel"] = .object(tunnel.publicJSON) }
                members.append(.object(item))
            }
            hosts.append(["name": JSON(host.name), "api": JSON(host.api), "address": JSON(host.address), "role": "peer",
                          "state": JSON(status.state), "message": JSON(status.message)])
        }
        // A peer's refusal is its host's state (which the monitor keeps), not this host's.
        let localFailures = spec.failures.filter { $0["kind"] != "host" }
        let localState = localFailures.isEmpty && running == declared.count ? "ready" : running == 0 && !declared.isEmpty ? "failed" : "degraded"
        let state = activity ?? (localState == "ready" && peersReady ? "ready" : localState == "failed" && split.peers.isEmpty ? "failed" : "degraded")
        if let coordinator = split.hosts.first(where: \.isCoordinator) {
            hosts.insert(["name": JSON(coordinator.name), "api": .null, "address": JSON(coordinator.address), "role": "coordinator",
                          "state": JSON(activity ?? localState), "message": .null], at: 0)
        }
        var view: JSONObject = ["name": JSON(spec.name), "description": spec.document["description"] ?? "", "labels": spec.document["labels"] ?? [:],
                                "state": JSON(state), "generation": JSON(spec.generation), "topology": spec.document, "members": .array(members),
                                "failures": JSON(spec.failures), "last_apply": spec.lastApply, "created_at": JSON(spec.createdAt),
                                "hosts": .array(hosts), "share": spec.share?.json ?? .null]
        if !split.peers.isEmpty {
            view["unreachable"] = JSON(split.peers.filter { heard[$0.name]?.state == "unreachable" }.map { JSON($0.name) })
        }
        return view
    }
}

extension JSONObject {
    /// The answer to a create or a change, with the analyzer's warnings (`{pointer, code, message}`).
    func adding(warnings: [LabProblem]) -> JSONObject {
        var reply = self
        reply["warnings"] = JSON(warnings.map { JSON.object($0.json) })
        return reply
    }
}
