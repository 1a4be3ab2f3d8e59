// HTTPServer: libmicrohttpd (internal epoll thread pool) in, HTTPResponder out. The only file that
// imports CMicroHTTPD. It owns body limits (413 before upload when Content-Length says so), request
// ids, the access log (one line per request, written when MHD reports it complete) and graceful
// shutdown (stop accepting, let in-flight requests finish, then stop).
import CMicroHTTPD
import Glibc
import Log
import Posix
import Synchronization

public struct HTTPServerConfiguration: Sendable {
    public var listen: SocketAddress
    public var threads: Int = 4
    /// Largest request body accepted, in bytes.
    public var maxBodySize: Int = 1 << 20
    public var connectionLimit: Int = 4096
    public var connectionTimeoutSeconds: Int = 60

    public init(listen: SocketAddress) { self.listen = listen }
}

/// Per-request state, retained into MHD's `req_cls` on the first call and released on completion.
private final class RequestState {
    let started = Clock.monotonicNanoseconds()
    let method: String
    let path: String
    let requestID: String
    var headers: [(String, String)] = []
    var query: [(String, String)] = []
    var body: [UInt8] = []
    var bodyTooLarge = false
    var responded = false
    var status = 0
    var route = "-"

    init(method: String, path: String, requestID: String) {
        self.method = method
        self.path = path
        self.requestID = requestID
    }
}

public final class HTTPServer: @unchecked Sendable {
    public let address: SocketAddress
    private let configuration: HTTPServerConfiguration
    private let responder: any HTTPResponder
    private let log: Log
    private let inFlight = Atomic<Int>(0)
    private let requestCounter = Atomic<UInt64>(0)
    private let requestIDPrefix: String
    /// MHD's daemon handle; MHD itself is thread-safe, the lock only guards start/stop.
    private struct DaemonHandle: @unchecked Sendable { var pointer: OpaquePointer? }
    private let daemon = Mutex(DaemonHandle(pointer: nil))
    private let loggerBox: UnsafeMutablePointer<CMicroHTTPD_LoggerBox>
    /// Called once per finished request with its status (for metrics).
    private let onCompleted: (@Sendable (_ status: Int, _ route: String) -> Void)?

    /// Binds `configuration.listen` (port 0 picks one; `address` tells which) and starts serving.
    public init(configuration: HTTPServerConfiguration, responder: any HTTPResponder, log: Log,
                onCompleted: (@Sendable (_ status: Int, _ route: String) -> Void)? = nil) throws {
        self.configuration = configuration
        self.responder = responder
        self.log = log
        self.onCompleted = onCompleted
        requestIDPrefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let listener = try Socket.listenTCP(configuration.listen)
        address = try listener.localAddress()
        loggerBox = .allocate(capacity: 1)
        loggerBox.initialize(to: CMicroHTTPD_LoggerBox(log: mhdLog, cls: nil))

        let flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_EPOLL.rawValue | MHD_USE_ITC.rawValue
            | MHD_ALLOW_SUSPEND_RESUME.rawValue | MHD_USE_ERROR_LOG.rawValue
        let context = Unmanaged.passUnretained(self).toOpaque()
        loggerBox.pointee.cls = context
        let fd = listener.release()
        let started = CMicroHTTPD_start(
            UInt32(flags), fd, UInt32(configuration.threads), UInt32(configuration.connectionLimit),
            UInt32(configuration.connectionTimeoutSeconds), 64 * 1024,
            accessHandler, context, requestCompleted, context, loggerBox)
        guard let started else {
            Glibc.close(fd)
            loggerBox.deallocate()
            throw Errno(EINVAL, call: "MHD_start_daemon")
        }
        daemon.withLock { $0.pointer = started }
    }

    deinit {
        stopNow()
        loggerBox.deallocate()
    }

    /// Requests being handled or answered right now.
    public var inFlightCount: Int { inFlight.load(ordering: .relaxed) }

    /// Stops accepting connections, waits up to `grace` seconds for in-flight requests, then stops.
    public func shutdown(graceSeconds: Double = 10) {
        let listenFD: Int32 = daemon.withLock { $0.pointer.map { Int32(MHD_quiesce_daemon($0)) } ?? -1 }
        if listenFD >= 0 { Glibc.close(listenFD) }
        let deadline = Clock.monotonicNanoseconds() + UInt64(graceSeconds * 1e9)
        while inFlight.load(ordering: .acquiring) > 0 && Clock.monotonicNanoseconds() < deadline {
            usleep(5_000)
        }
        let left = inFlight.load(ordering: .acquiring)
        if left > 0 { log.warning("requests still in flight at shutdown", [("http.in_flight", String(left))]) }
        stopNow()
    }

    private func stopNow() {
        let running = daemon.withLock { handle in
            defer { handle.pointer = nil }
            return handle
        }
        if let pointer = running.pointer { MHD_stop_daemon(pointer) }
    }

    // MARK: callbacks from MHD's threads

    fileprivate func handle(connection: OpaquePointer, url: String, method: String,
                            uploadData: UnsafePointer<CChar>?, uploadDataSize: UnsafeMutablePointer<Int>,
                            requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> MHD_Result {
        guard let existing = requestContext.pointee else {
            let number = requestCounter.wrappingAdd(1, ordering: .relaxed).newValue
            let state = RequestState(method: method, path: url, requestID: "\(requestIDPrefix)-\(number)")
            let box = Unmanaged.passUnretained(state).toOpaque()
            MHD_get_connection_values(connection, .HEADER_KIND, collectHeader, box)
            MHD_get_connection_values(connection, .GET_ARGUMENT_KIND, collectQuery, box)
            requestContext.pointee = Unmanaged.passRetained(state).toOpaque()
            inFlight.wrappingAdd(1, ordering: .relaxed)
            if let length = state.headers.first(where: { $0.0 == "content-length" }).flatMap({ Int($0.1) }),
               length > configuration.maxBodySize {
                state.bodyTooLarge = true
                return queue(tooLarge(state), for: state, on: connection)
            }
            return .YES
        }
        let state = Unmanaged<RequestState>.fromOpaque(existing).takeUnretainedValue()
        if uploadDataSize.pointee > 0 {
            let count = uploadDataSize.pointee
            if !state.bodyTooLarge {
                if state.body.count + count > configuration.maxBodySize {
                    state.bodyTooLarge = true
                    state.body = []
                } else if let uploadData {
                    uploadData.withMemoryRebound(to: UInt8.self, capacity: count) {
                        state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
                    }
                }
            }
            uploadDataSize.pointee = 0
            return .YES
        }
        if state.responded { return .YES }
        let response: HTTPResponse
        if state.bodyTooLarge {
            response = tooLarge(state)
        } else {
            let request = HTTPRequest(method: state.method, path: state.path, query: state.query, headers: state.headers,
                                      body: state.body, requestID: state.requestID)
            response = responder.respond(to: request)
        }
        return queue(response, for: state, on: connection)
    }

    private func tooLarge(_ state: RequestState) -> HTTPResponse {
        Problem(.payloadTooLarge, detail: "the request body is larger than \(configuration.maxBodySize) bytes")
            .response(path: state.path, requestID: state.requestID)
    }

    private func queue(_ response: HTTPResponse, for state: RequestState, on connection: OpaquePointer) -> MHD_Result {
        state.responded = true
        state.status = response.status
        state.route = response.route ?? "-"
        let mhdResponse: OpaquePointer?
        if let stream = response.stream {
            let context = StreamContext(stream: stream, connection: connection)
            mhdResponse = MHD_create_response_from_callback(UInt64.max, 8192, streamReader,
                                                            Unmanaged.passRetained(context).toOpaque(), streamFinished)
            stream.start(wake: { [context] in context.wake() }, clientGone: { [context] in context.clientGone() })
        } else {
            mhdResponse = response.body.withUnsafeBytes { raw in
                MHD_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: raw.baseAddress), .RESPMEM_MUST_COPY)
            }
        }
        guard let mhdResponse else { return .NO }
        defer { MHD_destroy_response(mhdResponse) }
        for (name, value) in response.headers { MHD_add_response_header(mhdResponse, name, value) }
        MHD_add_response_header(mhdResponse, "X-Request-Id", state.requestID)
        return MHD_queue_response(connection, UInt32(response.status), mhdResponse)
    }

    fileprivate func completed(_ requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>, termination: MHD_RequestTerminationCode) {
        guard let existing = requestContext.pointee else { return }
        requestContext.pointee = nil
        let state = Unmanaged<RequestState>.fromOpaque(existing).takeRetainedValue()
        let durationMs = Double(Clock.monotonicNanoseconds() - state.started) / 1e6
        var metadata = [("http.method", state.method), ("http.route", state.route), ("http.path", state.path),
                        ("http.status", String(state.status)), ("duration_ms", String(format3(durationMs))),
                        ("request.id", state.requestID)]
        if termination != .REQUEST_TERMINATED_COMPLETED_OK {
            metadata.append(("http.termination", String(termination.rawValue)))
        }
        log.info("request", metadata)
        onCompleted?(state.status, state.route)
        inFlight.wrappingSubtract(1, ordering: .releasing)
    }

    fileprivate func library(message: String) {
        log.debug("libmicrohttpd", [("message", message.trimmingTrailingNewlines())])
    }

    fileprivate static func collect(_ box: UnsafeMutableRawPointer?, key: UnsafePointer<CChar>?, value: UnsafePointer<CChar>?, header: Bool) {
        guard let box, let key else { return }
        let state = Unmanaged<RequestState>.fromOpaque(box).takeUnretainedValue()
        let name = String(cString: key)
        let text = value.map { String(cString: $0) } ?? ""
        if header {
            state.headers.append((name.lowercased(), text))
        } else {
            state.query.append((name, text))
        }
    }
}

/// Milliseconds with three decimals, without Foundation.
private func format3(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    let fraction = String(thousandths % 1000)
    return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}

private extension String {
    func trimmingTrailingNewlines() -> String {
        var text = Substring(self)
        while let last = text.last, last == "\n" || last == " " { text = text.dropLast() }
        return String(text)
    }
}

// C callbacks: non-capturing, they find the server through the context pointer.

private let accessHandler: MHD_AccessHandlerCallback = { context, connection, url, method, _, uploadData, uploadDataSize, requestContext in
    let server = Unmanaged<HTTPServer>.fromOpaque(context!).takeUnretainedValue()
    return server.handle(connection: connection!, url: String(cString: url!), method: String(cString: method!),
                         uploadData: uploadData, uploadDataSize: uploadDataSize!, requestContext: requestContext!)
}

private let requestCompleted: MHD_RequestCompletedCallback = { context, _, requestContext, termination in
    let server = Unmanaged<HTTPServer>.fromOpaque(context!).takeUnretainedValue()
    server.completed(requestContext!, termination: termination)
}

private let collectHeader: MHD_KeyValueIterator = { box, _, key, value in
    HTTPServer.collect(box, key: key, value: value, header: true)
    return .YES
}

private let collectQuery: MHD_KeyValueIterator = { box, _, key, value in
    HTTPServer.collect(box, key: key, value: value, header: false)
    return .YES
}

/// A streaming response's state: the stream, its connection, and whether MHD has parked it.
/// Suspend (in the reader) and resume (from `wake`, any thread) happen under one lock, so a wake
/// can never slip between "no data" and "suspended".
private final class StreamContext: @unchecked Sendable {
    let stream: any HTTPStream
    let connection: OpaquePointer
    private let lock = Lock()
    private var suspended = false
    private var finished = false

    init(stream: any HTTPStream, connection: OpaquePointer) {
        self.stream = stream
        self.connection = connection
    }

    func read(into buffer: UnsafeMutablePointer<CChar>, maximum: Int) -> Int {
        lock.withLock {
            guard let bytes = stream.read(maximum: maximum) else { return -1 }
            if bytes.isEmpty {
                MHD_suspend_connection(connection)
                suspended = true
                return 0
            }
            bytes.withUnsafeBytes { raw in UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
            return bytes.count
        }
    }

    func wake() {
        lock.withLock {
            guard suspended, !finished else { return }
            suspended = false
            MHD_resume_connection(connection)
        }
    }

    func finish() {
        lock.withLock { finished = true }
        stream.cancel()
    }

    /// Whether the client hung up (its socket reads end of stream or fails), looked at without MHD.
    func clientGone() -> Bool {
        lock.withLock {
            guard !finished else { return true }
            let fd = CMicroHTTPD_connectionFD(connection)
            guard fd >= 0 else { return true }
            let readHangUp: Int16 = 0x2000   // POLLRDHUP, a GNU extension Glibc's module leaves out
            var poller = pollfd(fd: fd, events: Int16(POLLIN) | readHangUp, revents: 0)
            guard poll(&poller, 1, 0) > 0 else { return false }
            if poller.revents & (readHangUp | Int16(POLLHUP) | Int16(POLLERR)) != 0 { return true }
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
        }
    }
}

private let streamReader: MHD_ContentReaderCallback = { context, _, buffer, maximum in
    let stream = Unmanaged<StreamContext>.fromOpaque(context!).takeUnretainedValue()
    return stream.read(into: buffer!, maximum: maximum)
}

private let streamFinished: MHD_ContentReaderFreeCallback = { context in
    Unmanaged<StreamContext>.fromOpaque(context!).takeRetainedValue().finish()
}

private let mhdLog: CMicroHTTPD_Logger = { context, message in
    guard let context, let message else { return }
    Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue().library(message: String(cString: message))
}
