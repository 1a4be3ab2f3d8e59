// HTTPClient: one HTTP request at a time to another vsquared, through libcurl (http and https,
// redirects not followed). Every request has a deadline for connecting and one for the whole
// exchange, so a peer that is slow or gone costs the caller a bounded wait and an error naming
// what went wrong; it never hangs a thread. Safe from any thread: each request has its own handle.
import CCurl
import JSON

public struct HTTPClientResponse: Sendable {
    public let status: Int
    public let body: [UInt8]

    /// The body as JSON, if it is JSON.
    public var json: JSON? { body.isEmpty ? nil : try? JSON.parse(body) }
}

/// Why a request got no answer: the peer could not be reached, or did not answer in time.
public struct HTTPClientFailure: Error, Sendable, CustomStringConvertible {
    public let description: String
}

public struct HTTPClient: Sendable {
    /// Seconds to connect, and seconds for the whole exchange.
    public var connectSeconds: Double
    public var totalSeconds: Double

    public init(connectSeconds: Double = 2, totalSeconds: Double = 10) {
        self.connectSeconds = connectSeconds
        self.totalSeconds = totalSeconds
    }

    /// libcurl's global set-up is not thread-safe; it runs once, before the first handle.
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// Sends `method url` with a bearer token (if any) and a JSON body (if any).
    public func send(_ method: String, _ url: String, token: String? = nil, json: JSON? = nil) throws(HTTPClientFailure) -> HTTPClientResponse {
        guard HTTPClient.initialized, let handle = curl_easy_init() else { throw HTTPClientFailure(description: "libcurl could not start") }
        defer { curl_easy_cleanup(handle) }
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        headers = curl_slist_append(headers, "Accept: application/json")
        if let token { headers = curl_slist_append(headers, "Authorization: Bearer " + token) }
        let body = json?.serialized() ?? []
        if json != nil { headers = curl_slist_append(headers, "Content-Type: application/json") }
        let received = ReceivedBody()
        let context = Unmanaged.passUnretained(received).toOpaque()
        let errorText = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        defer { errorText.deallocate() }
        errorText[0] = 0
        let code: CURLcode = url.withCString { url in
            method.withCString { method in
                body.withUnsafeBytes { bytes in
                    _ = ccurl_set_pointer(handle, CURLOPT_URL, url)
                    _ = ccurl_set_pointer(handle, CURLOPT_CUSTOMREQUEST, method)
                    _ = ccurl_set_pointer(handle, CURLOPT_HTTPHEADER, headers)
                    _ = ccurl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorText)
                    // Threads of our own, no SIGALRM for timeouts.
                    _ = ccurl_set_long(handle, CURLOPT_NOSIGNAL, 1)
                    _ = ccurl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectSeconds * 1000))
                    _ = ccurl_set_long(handle, CURLOPT_TIMEOUT_MS, Int(totalSeconds * 1000))
                    _ = "http,https".withCString { ccurl_set_pointer(handle, CURLOPT_PROTOCOLS_STR, $0) }
                    if json != nil {
                        _ = ccurl_set_pointer(handle, CURLOPT_POSTFIELDS, bytes.baseAddress)
                        _ = ccurl_set_size(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                    }
                    _ = ccurl_set_write_function(handle) { data, size, count, context in
                        guard let data, let context else { return 0 }
                        let received = Unmanaged<ReceivedBody>.fromOpaque(context).takeUnretainedValue()
                        let length = size * count
                        // A peer's answer is a lab view, not a download: refuse what no view needs.
                        guard received.bytes.count + length <= 16 << 20 else { return 0 }
                        data.withMemoryRebound(to: UInt8.self, capacity: length) { received.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
                        return length
                    }
                    _ = ccurl_set_pointer(handle, CURLOPT_WRITEDATA, context)
                    return curl_easy_perform(handle)
                }
            }
        }
        guard code == CURLE_OK else {
            let detail = String(cString: errorText)
            throw HTTPClientFailure(description: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        var status = 0
        _ = ccurl_response_code(handle, &status)
        return HTTPClientResponse(status: status, body: received.bytes)
    }
}

/// The body as libcurl hands it over, piece by piece.
private final class ReceivedBody {
    var bytes: [UInt8] = []
}
