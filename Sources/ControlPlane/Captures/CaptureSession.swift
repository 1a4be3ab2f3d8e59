// CaptureSession: one live packet capture, from vsquared's side. It listens on a socket of its own
// in the run directory, asks the worker (`capture.start`) to stream pcap there, and takes the
// worker's connection; the HTTP layer then reads the stream. When the stream ends (its count or
// time reached, the worker gone) or its reader leaves, `finish` asks the worker for the tally —
// frames captured, frames lost to a slow reader — logs it and publishes `capture.ended`
// (`capture.started` said it began).
import Glibc
import JSON
import Log
import Posix
import Synchronization

/// What a capture keeps and when it ends (the point — port, direction — is the noun's).
public struct CaptureLimits: Sendable {
    public var filter: String
    public var snaplen: Int
    public var count: Int?
    public var durationSeconds: Double?

    public init(filter: String = "", snaplen: Int = 65535, count: Int? = nil, durationSeconds: Double? = nil) {
        self.filter = filter
        self.snaplen = snaplen
        self.count = count
        self.durationSeconds = durationSeconds
    }

    var parameters: JSONObject {
        var object: JSONObject = ["filter": JSON(filter), "snaplen": JSON(snaplen)]
        if let count { object["count"] = JSON(count) }
        if let durationSeconds { object["duration_s"] = JSON(durationSeconds) }
        return object
    }
}

public final class CaptureSession: @unchecked Sendable {
    /// The worker's id for it.
    public let id: Int
    /// The worker's stream (non-blocking): pcap, then end of stream. Its reader closes it.
    public let stream: Socket
    /// What it captures, for events and logs: `["switch": …, "port": …, "direction": …]`.
    public let subject: JSONObject
    private let stopOnWorker: @Sendable (Int) throws -> JSON
    private let events: EventBus
    private let log: Log
    private let summary = Mutex<JSONObject?>(nil)

    /// Starts a capture: `ask` runs an op on the worker that captures `subject`.
    static func open(subject: JSONObject, point: JSONObject, limits: CaptureLimits, runDirectory: String, events: EventBus, log: Log,
                     ask: @escaping @Sendable (String, JSONObject) throws -> JSON) throws -> CaptureSession {
        let path = runDirectory + "/capture-" + String(UInt32.random(in: 0...UInt32.max), radix: 16) + ".sock"
        let listener = try Socket.listenUnix(path, backlog: 1)
        defer {
            listener.close()
            unlink(path)
        }
        var parameters = point
        for (key, value) in limits.parameters { parameters[key] = value }
        parameters["socket"] = JSON(path)
        let reply = try ask("capture.start", parameters)
        let name = subject["switch"]?.stringValue ?? subject["cable"]?.stringValue ?? "-"
        guard let id = reply["capture"]?.intValue else {
            throw ControlPlaneError.workerUnavailable(name: name, reason: "its capture reply has no id")
        }
        // The worker connected before it answered; the connection is waiting in the backlog.
        guard (try? listener.waitReadable(timeoutSeconds: 5)) == true, case .done(let stream)? = try? listener.accept() else {
            _ = try? ask("capture.stop", ["capture": JSON(id)])
            throw ControlPlaneError.workerUnavailable(name: name, reason: "it did not connect to the capture socket")
        }
        let session = CaptureSession(id: id, stream: stream, subject: subject, events: events, log: log) { id in
            try ask("capture.stop", ["capture": JSON(id)])
        }
        var started = subject
        started["capture"] = JSON(id)
        for (key, value) in limits.parameters { started[key] = value }
        events.publish("capture.started", started)
        log.info("capture started", CaptureSession.metadata(started))
        return session
    }

    private init(id: Int, stream: Socket, subject: JSONObject, events: EventBus, log: Log, stop: @escaping @Sendable (Int) throws -> JSON) {
        self.id = id
        self.stream = stream
        self.subject = subject
        self.events = events
        self.log = log
        stopOnWorker = stop
    }

    /// Ends the capture on the worker (if it has not ended) and reports its tally, once; later calls return the same.
    @discardableResult
    public func finish() -> JSONObject? {
        if let done = summary.withLock({ $0 }) { return done }
        var tally: JSONObject = subject
        if let reply = try? stopOnWorker(id) {
            for key in ["capture", "frames", "bytes", "dropped", "filtered_out", "ended_by", "filter", "snaplen"] {
                if let value = reply[key] { tally[key] = value }
            }
        } else {
            tally["capture"] = JSON(id)
            tally["ended_by"] = "worker_gone"
        }
        let first = summary.withLock { stored -> Bool in
            guard stored == nil else { return false }
            stored = tally
            return true
        }
        guard first else { return summary.withLock { $0 } }
        events.publish("capture.ended", tally)
        log.info("capture ended", CaptureSession.metadata(tally))
        return tally
    }

    private static func metadata(_ object: JSONObject) -> [(String, String)] {
        object.sorted { $0.key < $1.key }.map { ($0.key, $0.value.stringValue ?? String(decoding: $0.value.serialized(), as: UTF8.self)) }
    }
}
