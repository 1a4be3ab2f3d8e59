// Live packet capture as pcap (`application/vnd.tcpdump.pcap`), so `curl -sN URL | wireshark -k -i -`
// and `tshark -r -` read it: GET /v1/switches/{name}/ports/{n}/capture (direction rx, tx or both)
// and GET /v1/cables/{name}/capture (direction a_to_b, b_to_a or both). `filter` is a BPF
// expression, compiled here first so a bad one is a 400 with libpcap's words before any worker is
// asked; `snaplen`, `count` and `duration_s` bound what is kept and for how long. The stream ends
// with the capture; its tally (frames lost to a slow reader among them) is the `capture.ended` event.
import ControlPlane
import Glibc
import JSON
import PacketCapture
import Posix
import Synchronization

public enum CaptureRoutes {
    public static func register(on router: inout RouterBuilder, switches: SwitchManager, cables: CableManager) {
        router.add("GET", "/v1/switches/{name}/ports/{n}/capture") { request in
            let (name, port) = try PortRoutes.target(request, switches)
            let direction = try request.singleQuery("direction") ?? "both"
            guard ["rx", "tx", "both"].contains(direction) else {
                throw Problem(.invalidField, detail: "query `direction` must be rx, tx or both, not \"\(direction)\"", extra: ["field": "direction"])
            }
            let limits = try captureLimits(request)
            let session = try switches.capture(name, port: port, direction: direction, limits: limits)
            return stream(session, filename: "\(name)-port\(port).pcap")
        }
        router.add("GET", "/v1/cables/{name}/capture") { request in
            let name = try request.resourceName("name", kind: "cable")
            let direction = try request.singleQuery("direction") ?? "both"
            guard ["a_to_b", "b_to_a", "both"].contains(direction) else {
                throw Problem(.invalidField, detail: "query `direction` must be a_to_b, b_to_a or both, not \"\(direction)\"",
                              extra: ["field": "direction"])
            }
            let limits = try captureLimits(request)
            _ = try cables.get(name)
            let session = try cables.capture(name, direction: direction, limits: limits)
            return stream(session, filename: "\(name)-\(direction).pcap")
        }
    }

    static func captureLimits(_ request: HTTPRequest) throws -> CaptureLimits {
        let snaplen = try request.intQuery("snaplen", in: 1...65535) ?? 65535
        let filter = try request.singleQuery("filter") ?? ""
        do {
            _ = try CaptureFilter(filter, snaplen: snaplen)
        } catch {
            throw Problem(.invalidFilter, detail: "the capture filter \"\(filter)\" does not compile: \(error.description)",
                          extra: ["field": "filter", "libpcap": JSON(error.description)])
        }
        return CaptureLimits(filter: filter, snaplen: snaplen, count: try request.intQuery("count", in: 1...1_000_000_000),
                             durationSeconds: try request.numberQuery("duration_s", above: 0, atMost: 86_400))
    }

    static func stream(_ session: CaptureSession, filename: String) -> HTTPResponse {
        var response = HTTPResponse(status: 200, headers: [("Content-Type", "application/vnd.tcpdump.pcap"), ("Cache-Control", "no-cache"),
                                                           ("Content-Disposition", "attachment; filename=\"\(filename)\""),
                                                           ("X-Capture-Id", String(session.id)), ("X-Accel-Buffering", "no")])
        response.stream = CaptureStream(session)
        return response
    }
}

/// Relays a worker's pcap stream to one HTTP client. A thread reads the worker's socket into a
/// bounded buffer; while the client is behind and the buffer full it stops reading, so the worker's
/// socket fills and the worker drops (and counts) frames — the switch itself never waits.
final class CaptureStream: HTTPStream {
    static let bufferBytes = 1 << 20

    private struct State {
        var pending: [UInt8] = []
        /// Where the client's next read starts in `pending` (bytes before it are sent).
        var offset = 0
        var ended = false
        var cancelled = false
        var closed = false

        var unread: Int { pending.count - offset }
    }

    private let session: CaptureSession
    private let state = Mutex(State())

    init(_ session: CaptureSession) { self.session = session }

    func start(wake: @escaping @Sendable () -> Void) { start(wake: wake, clientGone: { false }) }

    func start(wake: @escaping @Sendable () -> Void, clientGone: @escaping @Sendable () -> Bool) {
        let session = self.session
        _ = Thread { [self] in
            var chunk: [UInt8] = []
            chunk.reserveCapacity(65536)
            while !state.withLock({ $0.cancelled }) {
                if state.withLock({ $0.unread }) >= CaptureStream.bufferBytes {
                    usleep(5_000)
                    continue
                }
                guard (try? session.stream.waitReadable(timeoutSeconds: 1)) == true else {
                    // A quiet capture whose client left ends now, not at the next frame (the worker is told).
                    if clientGone() { break }
                    continue
                }
                chunk.removeAll(keepingCapacity: true)
                guard let result = try? session.stream.read(into: &chunk, maximum: 65536) else { break }
                guard case .done(let count) = result else { continue }
                if count == 0 { break }
                state.withLock { $0.pending += chunk }
                wake()
            }
            // Closed under the lock, so `cancel` never shuts down a descriptor number reused since.
            state.withLock { state in
                state.closed = true
                session.stream.close()
            }
            session.finish()
            state.withLock { $0.ended = true }
            wake()
        }
    }

    func read(maximum: Int) -> [UInt8]? {
        state.withLock { state -> [UInt8]? in
            if state.unread == 0 { return state.ended ? nil : [] }
            let end = min(state.pending.count, state.offset + maximum)
            let chunk = Array(state.pending[state.offset..<end])
            state.offset = end
            if state.offset == state.pending.count {
                state.pending.removeAll(keepingCapacity: true)
                state.offset = 0
            } else if state.offset >= 256 << 10 {
                state.pending.removeFirst(state.offset)
                state.offset = 0
            }
            return chunk
        }
    }

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            // The reader left: shutting our end down tells the worker, which ends the capture.
            if !state.closed { shutdown(session.stream.fd, Int32(SHUT_RDWR)) }
        }
    }
}
