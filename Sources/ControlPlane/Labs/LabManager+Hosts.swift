// LabManager+Hosts: the coordinator's work for a lab spread over hosts, and a peer's side of it.
// Shares go to every peer at once, so a slow or dead peer costs only its own members; one that does
// not answer is `unreachable` (the lab `degraded`, naming it), one that refuses its share fails the
// apply as a member would. The monitor asks each peer about its shares every second and hands a
// share again to a peer that lost it or holds an older one; deletes a peer missed are retried.
import Glibc
import JSON
import LabEngine
import Posix
import Synchronization

extension LabManager {
    // MARK: a peer's side

    /// A coordinator (`peer`, its URL in VSQUARE_PEERS) hands this vsquared its share of lab `name`:
    /// the lab is created as that share, or brought to it. Answers the view and whether it was created.
    public func receiveShare(name: String, document: JSON, host: String, generation: Int, peer: String) throws -> (JSONObject, created: Bool) {
        let share = LabShare(coordinator: peer, host: host, generation: generation)
        if lock.withLock({ labs[name] == nil }) { return (try create(name: name, document: document, share: share), true) }
        return (try update(name: name, document: document, ifMatch: nil, dryRun: false, share: share, peer: peer), false)
    }

    /// Runs a command in one of the lab's stacks, on whichever host runs it.
    public func exec(lab: String, stack: String, argv: [String], stdin: [UInt8], environment: [String: String],
                     timeoutSeconds: Double) throws -> JSONObject {
        let global = LabNames.global(lab: lab, local: stack)
        if let spec = lock.withLock({ labs[lab] }), spec.document["hosts"] != nil {
            let split = LabHosts.split(spec.document, tunnels: spec.tunnels)
            if let placed = split.placement["stack " + stack], placed != split.coordinator, let host = split.hosts.first(where: { $0.name == placed }) {
                return try peers.exec(host: host, stack: global, argv: argv, stdin: stdin, environment: environment, timeoutSeconds: timeoutSeconds)
            }
        }
        return try builder.stacks.exec(global, argv: argv, stdin: stdin, environment: environment, timeoutSeconds: timeoutSeconds)
    }

    /// Cuts or restores one of the lab's cables where it runs: its half on this host, or (a cable
    /// with no half here) on the host that holds it, through that host's API.
    public func setCut(lab: String, cable: String, cut: Bool) throws {
        let global = LabNames.global(lab: lab, local: cable)
        if builder.cables.contains(global) {
            _ = try builder.cables.update(global) { $0.cut = cut }
            return
        }
        guard let spec = lock.withLock({ labs[lab] }), spec.document["hosts"] != nil else { throw ControlPlaneError.notFound(kind: "cable", name: global) }
        let split = LabHosts.split(spec.document, tunnels: spec.tunnels)
        guard let host = split.peers.first(where: { split.shares[$0.name]?.contains { $0.kind == .cable && $0.name == cable } == true }) else {
            throw ControlPlaneError.notFound(kind: "cable", name: global)
        }
        switch peers.post("/v1/cables/\(global)/\(cut ? "cut" : "restore")?force=true", host: host) {
        case .view: return
        case .missing: throw ControlPlaneError.notFound(kind: "cable", name: global)
        case .refused(let status, let problem): throw ControlPlaneError.peerFailed(host: host.name, message: LabPeers.refusal(status, problem))
        case .unreachable(let why): throw ControlPlaneError.peerFailed(host: host.name, message: why)
        }
    }

    // MARK: the coordinator's side

    /// Hosts that may hold a share of the lab: those its document (and an apply under way) places
    /// members on, and any this vsquared handed one before.
    func sharingHosts(_ spec: LabSpec) -> [LabHost] {
        var hosts: [String: LabHost] = [:]
        let declared = LabHosts.split(spec.document, tunnels: spec.tunnels).peers + LabHosts.split(spec.applying?.from ?? .null, tunnels: []).peers
        for host in declared { hosts[host.api ?? ""] = host }
        for status in peers.status(spec.name).values where status.host.api != nil { hosts[status.host.api ?? ""] = status.host }
        return hosts.values.sorted { $0.name < $1.name }
    }

    /// Hands every peer of `split` its share at once; hosts of `previous` that have none now give
    /// theirs up. Answers the refusals, as failures `{member: HOST, kind: "host", message}`.
    func applyShares(_ name: String, split: LabSplit, generation: Int, previous: [LabHost]) -> [JSON] {
        let targets = split.peers
        let failures = Mutex<[JSON]>([])
        if !targets.isEmpty {
            Thread.concurrently(targets.count, width: targets.count) { [self] index in
                let host = targets[index]
                if let failure = applyShare(name, host: host, members: split.shares[host.name] ?? [], generation: generation) {
                    failures.withLock { $0.append(failure) }
                }
            }
        }
        let kept = Set(targets.compactMap(\.api))
        let dropped = previous.filter { !kept.contains($0.api ?? "") }
        if !dropped.isEmpty { deleteShares(name, hosts: dropped) }
        return failures.withLock { $0 }.sorted { ($0["member"]?.stringValue ?? "") < ($1["member"]?.stringValue ?? "") }
    }

    /// Hands one peer its share; a refusal answers as a failure (a peer that does not answer is only `unreachable`).
    @discardableResult
    func applyShare(_ name: String, host: LabHost, members: [LabMember], generation: Int) -> JSON? {
        let before = peers.status(name)[host.name]
        peers.record(name, host: host.name, LabPeers.HostStatus(state: "applying", host: host, members: before?.members ?? []))
        switch peers.apply(name, host: host, members: members, generation: generation) {
        case .view(let view):
            heard(name, host: host, view: view)
            return nil
        case .refused(let status, let problem):
            let message = LabPeers.refusal(status, problem)
            peers.record(name, host: host.name, LabPeers.HostStatus(state: "refused", host: host, message: message))
            return ["member": JSON(host.name), "kind": "host", "message": JSON(message)]
        case .missing:
            let message = "404: it serves no /v1/labs"
            peers.record(name, host: host.name, LabPeers.HostStatus(state: "refused", host: host, message: message))
            return ["member": JSON(host.name), "kind": "host", "message": JSON(message)]
        case .unreachable(let why):
            unreachable(name, host: host, why)
            return nil
        }
    }

    /// Each peer resets its share's members (those of `only` it holds; all when nil).
    func resetShares(_ name: String, split: LabSplit, only: [String]?) {
        let targets = split.peers
        guard !targets.isEmpty else { return }
        Thread.concurrently(targets.count, width: targets.count) { [self] index in
            let host = targets[index]
            let held = Set((split.shares[host.name] ?? []).map(\.name))
            let wanted = only.map { $0.filter(held.contains) }
            if let wanted, wanted.isEmpty { return }
            switch peers.reset(name, host: host, only: wanted) {
            case .view(let view): heard(name, host: host, view: view)
            case .unreachable(let why): unreachable(name, host: host, why)
            case .missing: peers.record(name, host: host.name, LabPeers.HostStatus(state: "refused", host: host, message: "it holds no share of this lab"))
            case .refused(let status, let problem):
                peers.record(name, host: host.name, LabPeers.HostStatus(state: "refused", host: host, message: LabPeers.refusal(status, problem)))
            }
        }
    }

    /// Each host gives its share up; one that does not answer is asked again by the monitor until it does.
    func deleteShares(_ name: String, hosts: [LabHost]) {
        guard !hosts.isEmpty else { return }
        Thread.concurrently(hosts.count, width: hosts.count) { [self] index in
            let host = hosts[index]
            switch peers.delete(name, host: host) {
            case .view, .missing: break
            case .unreachable(let why):
                log.warning("a peer holds a share of a deleted lab; asking again until it answers",
                            [("lab", name), ("peer", host.api ?? ""), ("error", why)])
                do { try store.savePeerDeletion(lab: name, peer: host.api ?? "") } catch {
                    log.error("could not record a peer's pending delete", [("lab", name), ("error", String(describing: error))])
                }
            case .refused(let status, let problem):
                log.warning("a peer refused to delete its share", [("lab", name), ("peer", host.api ?? ""),
                                                                     ("error", LabPeers.refusal(status, problem))])
            }
        }
    }

    /// One pass of the monitor: pending deletes, then every spread lab's peers.
    func monitor() {
        for (lab, url) in (try? store.peerDeletions()) ?? [] {
            // A lab made again under the name owns whatever that peer holds now.
            if lock.withLock({ labs[lab] != nil }) {
                try? store.deletePeerDeletion(lab: lab, peer: url)
                continue
            }
            switch peers.delete(lab, host: LabHost(name: url, api: url, address: "")) {
            case .unreachable: continue
            case .view, .missing:
                log.info("a peer gave up its share of a deleted lab", [("lab", lab), ("peer", url)])
            case .refused(let status, let problem):
                log.warning("a peer refused to delete its share", [("lab", lab), ("peer", url), ("error", LabPeers.refusal(status, problem))])
            }
            try? store.deletePeerDeletion(lab: lab, peer: url)
        }
        let spread = lock.withLock { labs.values.filter { $0.share == nil && $0.document["hosts"] != nil && activity[$0.name] == nil } }
        for spec in spread {
            let split = LabHosts.split(spec.document, tunnels: spec.tunnels)
            guard !split.peers.isEmpty else { continue }
            let before = (try? get(spec.name))?["state"]
            let lost = Mutex<[LabHost]>([])
            Thread.concurrently(split.peers.count, width: split.peers.count) { [self] index in
                let host = split.peers[index]
                switch peers.read(spec.name, host: host) {
                case .view(let view):
                    if view["share"] == nil || view["share"] == .null {
                        peers.record(spec.name, host: host.name, LabPeers.HostStatus(
                            state: "refused", host: host, message: "it holds a lab named \(spec.name) of its own, not this lab's share"))
                    } else if view["share"]?["generation"]?.intValue != spec.generation {
                        lost.withLock { $0.append(host) }
                    } else {
                        heard(spec.name, host: host, view: view)
                    }
                case .missing: lost.withLock { $0.append(host) }
                case .unreachable(let why): unreachable(spec.name, host: host, why)
                case .refused(let status, let problem):
                    peers.record(spec.name, host: host.name, LabPeers.HostStatus(state: "refused", host: host, message: LabPeers.refusal(status, problem)))
                }
            }
            for host in lost.withLock({ $0 }) {
                operations.withLock {
                    // Only if nothing changed the lab meanwhile (an apply hands out shares itself).
                    guard let now = lock.withLock({ labs[spec.name] }), now.generation == spec.generation, now.tunnels == spec.tunnels,
                          lock.withLock({ activity[spec.name] == nil }) else { return }
                    log.info("handing a peer its share again", [("lab", spec.name), ("host", host.name)])
                    events.publish("lab.share_reapplied", ["lab": JSON(spec.name), "peer": JSON(host.name), "generation": JSON(spec.generation)])
                    guard applyShare(spec.name, host: host, members: split.shares[host.name] ?? [], generation: spec.generation) == nil,
                          var current = lock.withLock({ labs[spec.name] }) else { return }
                    // It took its share: its refusal is no longer one of the lab's failures.
                    let before = current.failures.count
                    current.failures.removeAll { $0["kind"] == "host" && $0["member"]?.stringValue == host.name }
                    if current.failures.count != before { try? save(current) }
                }
            }
            if let after = (try? get(spec.name))?["state"], after == "ready", before != after {
                events.publish("lab.ready", ["lab": JSON(spec.name), "generation": JSON(spec.generation)])
            }
        }
    }

    /// What a peer said about its share, kept for the lab's view.
    private func heard(_ name: String, host: LabHost, view: JSONObject) {
        let members = (view["members"]?.arrayValue ?? []).map { member -> JSON in
            var item = member.objectValue ?? [:]
            item["host"] = JSON(host.name)
            return .object(item)
        }
        let failures = view["failures"]?.arrayValue ?? []
        let message = failures.isEmpty ? nil
            : failures.compactMap { failure in failure["member"]?.stringValue.map { "\($0): \(failure["message"]?.stringValue ?? "")" } }.joined(separator: "; ")
        let state = view["state"]?.stringValue ?? "unknown"
        let was = peers.status(name)[host.name]?.state
        peers.record(name, host: host.name, LabPeers.HostStatus(state: state, host: host, message: message, members: members))
        if was == "unreachable" { log.info("a peer is back", [("lab", name), ("host", host.name), ("state", state)]) }
    }

    /// A peer that does not answer: the lab is degraded, naming it (announced once, when it goes).
    private func unreachable(_ name: String, host: LabHost, _ why: String) {
        let before = peers.status(name)[host.name]
        peers.record(name, host: host.name, LabPeers.HostStatus(state: "unreachable", host: host, message: why, members: before?.members ?? []))
        guard before?.state != "unreachable" else { return }
        log.warning("a peer does not answer", [("lab", name), ("host", host.name), ("api", host.api ?? ""), ("error", why)])
        events.publish("lab.degraded", ["lab": JSON(name), "peer": JSON(host.name), "message": JSON(why), "failed": [JSON(host.name)]])
    }
}
