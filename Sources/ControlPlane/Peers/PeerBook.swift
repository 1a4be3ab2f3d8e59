// PeerBook: the other vsquared daemons this one works with, from the file VSQUARE_PEERS names. Each
// line is a peer's URL and the token the two share: this daemon presents it when it calls the
// peer, and a request bearing it is that peer's. Nothing else is taken for a peer: a lab document
// may only place members on hosts listed here, and only a listed peer may hand this daemon a share.
import Posix

public struct Peer: Equatable, Sendable {
    /// The peer's public API, without a trailing slash: `http://10.0.0.2:8420`.
    public let url: String
    public let token: String

    public init(url: String, token: String) {
        self.url = Peer.normalized(url)
        self.token = token
    }

    static func normalized(_ url: String) -> String {
        var url = Substring(url)
        while url.hasSuffix("/") { url = url.dropLast() }
        return String(url)
    }
}

public struct PeerBook: Sendable {
    public let peers: [Peer]
    private let byDigest: [String: Peer]

    public init(_ peers: [Peer] = []) {
        self.peers = peers
        byDigest = Dictionary(peers.map { (TokenManager.hash($0.token), $0) }, uniquingKeysWith: { first, _ in first })
    }

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    /// Reads a peers file: `URL TOKEN` per line; blank lines and `#` comments are ignored.
    public static func parse(_ text: String) throws(Invalid) -> PeerBook {
        var peers: [Peer] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if fields.isEmpty { continue }
            guard fields.count == 2 else { throw Invalid(description: "line \(number + 1): a peer is URL TOKEN, two fields") }
            let url = fields[0]
            guard (url.hasPrefix("http://") || url.hasPrefix("https://")), url.split(separator: "/").count >= 2 else {
                throw Invalid(description: "line \(number + 1): \(url) is not an http:// or https:// URL")
            }
            guard fields[1].utf8.count >= 16 else { throw Invalid(description: "line \(number + 1): a peer's token has at least 16 characters") }
            let peer = Peer(url: url, token: fields[1])
            if peers.contains(where: { $0.url == peer.url }) { throw Invalid(description: "line \(number + 1): peer \(peer.url) is listed twice") }
            peers.append(peer)
        }
        return PeerBook(peers)
    }

    public static func load(_ path: String) throws(Invalid) -> PeerBook {
        guard let bytes = FileSystem.readFile(path) else { throw Invalid(description: "the peers file \(path) cannot be read") }
        do { return try parse(String(decoding: bytes, as: UTF8.self)) } catch { throw Invalid(description: "\(path): \(error.description)") }
    }

    /// The peer whose API is `url` (trailing slashes aside).
    public func peer(url: String) -> Peer? {
        let url = Peer.normalized(url)
        return peers.first { $0.url == url }
    }

    /// The peer that presents `token`.
    public func peer(token: String) -> Peer? { byDigest[TokenManager.hash(token)] }
}
