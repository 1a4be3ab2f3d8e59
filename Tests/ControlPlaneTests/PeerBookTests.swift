// PeerBook: the peers file read line by line, every broken line refused with its number, and a
// peer found by its URL (trailing slashes aside) or by the token it presents.
import ControlPlane
import Testing

struct PeerBookTests {
    @Test func aPeersFileListsEachPeersURLAndToken() throws {
        let book = try PeerBook.parse("""
        # the lab's other hosts
        http://10.0.0.2:8420/   token-of-host-b-0123456789

        https://[fd00::3]:8420 token-of-host-c-0123456789  # over TLS
        """)
        #expect(book.peers.map(\.url) == ["http://10.0.0.2:8420", "https://[fd00::3]:8420"])
        #expect(book.peer(url: "http://10.0.0.2:8420//")?.token == "token-of-host-b-0123456789")
        #expect(book.peer(token: "token-of-host-c-0123456789")?.url == "https://[fd00::3]:8420")
        #expect(book.peer(token: "token-of-host-c-012345678") == nil)
        #expect(book.peer(url: "http://10.0.0.9:8420") == nil)
        #expect(try PeerBook.parse("").peers.isEmpty)
    }

    @Test func aBrokenLineIsRefusedWithItsNumber() {
        let cases: [(String, String)] = [
            ("http://10.0.0.2:8420\n", "line 1: a peer is URL TOKEN, two fields"),
            ("\nftp://10.0.0.2 token-of-host-b-0123456789", "line 2: ftp://10.0.0.2 is not an http:// or https:// URL"),
            ("http://10.0.0.2:8420 short", "line 1: a peer's token has at least 16 characters"),
            ("http://a:1 token-of-host-b-0123456789\nhttp://a:1/ token-of-host-c-0123456789", "line 2: peer http://a:1 is listed twice"),
            ("http://a:1 token-of-host-b-0123456789 extra", "line 1: a peer is URL TOKEN, two fields"),
        ]
        for (text, message) in cases {
            #expect(throws: PeerBook.Invalid(description: message)) { try PeerBook.parse(text) }
        }
        #expect(throws: PeerBook.Invalid(description: "the peers file /nonexistent/peers cannot be read")) { try PeerBook.load("/nonexistent/peers") }
    }
}
