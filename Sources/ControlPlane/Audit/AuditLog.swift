// AuditLog: who did what, kept in SQLite so abuses can be traced (the Virtual Square lab's rule:
// every virtual cable is logged). Two kinds of entry: every mutating request (its principal,
// route, target, lab, answer and request id), recorded by the HTTP layer; and every plug and
// unplug on every switch (port, the client's pid and uid from SO_PEERCRED, its VDE description),
// read from the switch workers' events. Each entry is also published as an `audit.entry` event.
// The newest `kept` entries are kept.
import Glibc
import JSON
import Log
import Posix
import Synchronization

public final class AuditLog: Sendable {
    let store: Store
    let events: EventBus
    let labs: LabMembership
    let log: Log
    /// How many entries are kept; older ones go.
    public let kept: Int
    private let recorded = Atomic<Int>(0)
    /// Entries between two prunes of the oldest.
    static let pruneEvery = 500

    public init(store: Store, events: EventBus, labs: LabMembership, kept: Int = 100_000, log: Log) {
        self.store = store
        self.events = events
        self.labs = labs
        self.kept = kept
        self.log = log
    }

    /// Records plugs and unplugs as the switch workers announce them, until the bus closes.
    public func start() {
        let wake = Mailbox<Bool>()
        let start = events.cursor(after: nil)
        let subscription = events.subscribe { wake.post(true) }
        _ = Thread { [self] in
            defer { events.unsubscribe(subscription) }
            var cursor = start
            while !events.isClosed {
                _ = wake.take(timeoutSeconds: 5)
                let (batch, gap) = events.events(after: cursor)
                if gap { record(kind: "gap", actor: nil, lab: nil, ["message": "events were lost before they were audited: the event buffer overflowed"]) }
                for event in batch {
                    cursor = event.sequence
                    guard event.type == "port.up" || event.type == "port.down", let switchName = event.data["switch"]?.stringValue else { continue }
                    recordPlug(event.type == "port.up", switchName: switchName, event.data)
                }
            }
        }
    }

    /// A mutating request, once it has been answered.
    public func recordRequest(principal: Principal, method: String, route: String?, path: String, target: String?, lab: String?,
                              className: String?, status: Int, requestID: String, durationMilliseconds: Int) {
        record(kind: "request", actor: (principal.id, principal.name, principal.role.rawValue), lab: lab, [
            "method": JSON(method), "route": JSON(route), "path": JSON(path), "target": JSON(target), "class": JSON(className),
            "status": JSON(status), "request_id": JSON(requestID), "duration_ms": JSON(durationMilliseconds),
        ])
    }

    /// The entries that match every filter given, newest first: `since`/`until` as RFC 3339 times.
    public func entries(since: String?, until: String?, lab: String?, principal: String?, kind: String?, limit: Int) throws -> [JSON] {
        try store.auditEntries(since: since, until: until, lab: lab, principal: principal, kind: kind, limit: limit)
    }

    private func recordPlug(_ up: Bool, switchName: String, _ data: JSON) {
        let endpoint = data["endpoint"]
        // port.up carries the endpoint as an object; port.down names its slot and repeats who it was.
        let uid = (up ? endpoint?["uid"] : data["uid"])?.intValue
        let user = uid.flatMap { UnixUser.name(of: uid_t($0)) }
        var fields: JSONObject = [
            "switch": JSON(switchName), "port": data["port"] ?? .null,
            "endpoint": (up ? endpoint?["id"] : endpoint) ?? .null,
            "uid": JSON(uid), "pid": (up ? endpoint?["pid"] : data["pid"]) ?? .null,
            "user": JSON(user),
            "description": (up ? endpoint?["description"] : data["description"]) ?? .null,
        ]
        if !up { fields["reason"] = data["reason"] ?? .null }
        // The Unix user is who plugged in.
        let actor = uid.map { ("uid:\($0)", user ?? "uid \($0)", "unix") }
        record(kind: up ? "plug" : "unplug", actor: actor, lab: labs.lab(of: .switch, switchName), fields)
    }

    /// `actor` is who acted: a principal (id, name, role), or a Unix user (`uid:N`, its name, `unix`).
    private func record(kind: String, actor: (id: String, name: String, role: String)?, lab: String?, _ fields: JSONObject) {
        let at = Clock.rfc3339(Clock.wallSeconds())
        var entry = fields
        entry["kind"] = JSON(kind)
        entry["at"] = JSON(at)
        entry["lab"] = JSON(lab)
        entry["principal"] = actor.map { ["id": JSON($0.id), "name": JSON($0.name), "role": JSON($0.role)] } ?? .null
        do {
            let id = try store.saveAuditEntry(at: at, kind: kind, principalID: actor?.id, principalName: actor?.name, lab: lab, entry: .object(entry))
            entry["id"] = JSON(id)
            if recorded.add(1, ordering: .relaxed).newValue % AuditLog.pruneEvery == 0 { try store.pruneAudit(keeping: kept) }
        } catch {
            log.error("could not record an audit entry", [("kind", kind), ("error", String(describing: error))])
        }
        events.publish("audit.entry", entry)
    }
}
