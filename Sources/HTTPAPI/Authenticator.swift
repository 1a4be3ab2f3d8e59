// Authenticator: when tokens are configured, every request needs `Authorization: Bearer <token>`,
// except GET /v1/health and the dashboard's static files (the page must load to ask for a token).
// It wraps the router, so it runs before any handler.
import Posix

public struct Authenticator: HTTPResponder {
    public let tokens: Set<String>
    public let next: any HTTPResponder

    public init(tokens: Set<String>, next: any HTTPResponder) {
        self.tokens = tokens
        self.next = next
    }

    /// Reads a tokens file: one token per line; blank lines and `#` comments are ignored.
    public static func loadTokens(_ path: String) -> Set<String>? {
        guard let bytes = FileSystem.readFile(path) else { return nil }
        return Set(String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            let token = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters() ?? ""
            return token.isEmpty ? nil : token
        })
    }

    public func respond(to request: HTTPRequest) -> HTTPResponse {
        guard !tokens.isEmpty, !isPublic(request) else { return next.respond(to: request) }
        let header = request.header("authorization") ?? ""
        let presented = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
        guard tokens.contains(where: { constantTimeEqual($0, presented) }) else {
            var response = Problem(.unauthorized, detail: "this API needs Authorization: Bearer <token>")
                .response(path: request.path, requestID: request.requestID)
            response.headers.append(("WWW-Authenticate", "Bearer realm=\"vsquare\""))
            return response
        }
        return next.respond(to: request)
    }

    private func isPublic(_ request: HTTPRequest) -> Bool {
        guard request.method == "GET" || request.method == "HEAD" else { return false }
        return request.path == "/v1/health" || !(request.path.hasPrefix("/v1/") || request.path == "/metrics")
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}

extension String {
    func trimmingCharacters() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return String(text)
    }
}
