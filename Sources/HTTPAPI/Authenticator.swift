// Authenticator: who a request comes from, before any handler runs. A bearer token presented is
// looked up (VSQUARE_TOKENS tokens are admins; a VSQUARE_PEERS token is that peer; issued tokens have their role); an unknown, revoked
// or expired one is 401. Without a token, a vsquared with VSQUARE_TOKENS answers 401 (except
// GET /v1/health and the dashboard's files: the page must load to ask for a token); an open one
// takes the request for an anonymous admin's. What each principal may then do is AccessPolicy's.
import ControlPlane
import Posix

public struct Authenticator: HTTPResponder {
    public let tokens: TokenManager
    /// Other vsquared daemons: a peer's token makes the request that peer's.
    public let peers: PeerBook
    public let next: any HTTPResponder

    public init(tokens: TokenManager, peers: PeerBook = PeerBook(), next: any HTTPResponder) {
        self.tokens = tokens
        self.peers = peers
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
        var request = request
        let header = request.header("authorization") ?? ""
        if header.isEmpty {
            guard tokens.isOpen || isPublic(request) else { return unauthorized(request, "this API needs Authorization: Bearer <token>") }
            request.principal = .anonymous
            return next.respond(to: request)
        }
        let token = String(header.dropFirst(7))
        guard header.hasPrefix("Bearer "), let principal = peers.peer(token: token).map({ Principal.peer($0.url) }) ?? tokens.principal(for: token) else {
            return unauthorized(request, "the bearer token is unknown, revoked or expired")
        }
        // What the principal may do with the route it reaches is the router's gate's (AccessPolicy).
        request.principal = principal
        return next.respond(to: request)
    }

    private func unauthorized(_ request: HTTPRequest, _ detail: String) -> HTTPResponse {
        var response = Problem(.unauthorized, detail: detail).response(path: request.path, requestID: request.requestID)
        response.headers.append(("WWW-Authenticate", "Bearer realm=\"vsquare\""))
        return response
    }

    private func isPublic(_ request: HTTPRequest) -> Bool {
        guard request.method == "GET" || request.method == "HEAD" else { return false }
        return request.path == "/v1/health" || !(request.path.hasPrefix("/v1/") || request.path == "/metrics")
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
