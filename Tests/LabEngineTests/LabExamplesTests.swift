// The example labs in ops/examples/labs/ read as YAML and pass the analyzer with no error and no
// warning: what a teacher starts from must be right.
import ControlPlane
import JSON
import LabEngine
import Posix
import Testing
import YAML

@Suite struct LabExamplesTests {
    /// The package root is three levels above this file (Tests/LabEngineTests/…).
    static let directory: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/ops/examples/labs"
    }()

    static var examples: [String] { (FileSystem.listDirectory(directory) ?? []).filter { $0.hasSuffix(".yaml") }.sorted() }

    @Test func thereAreExamples() {
        #expect(Set(LabExamplesTests.examples).isSuperset(of: ["two-lans-and-a-router.yaml", "vlan-trunk.yaml", "lossy-wan.yaml", "lan-behind-nat.yaml"]))
    }

    @Test(arguments: LabExamplesTests.examples)
    func anExampleIsAGoodDocument(_ name: String) throws {
        let bytes = try #require(FileSystem.readFile(LabExamplesTests.directory + "/" + name))
        let document = try YAMLDocument(text: String(decoding: bytes, as: UTF8.self))
        let analysis = LabAnalyzer.analyze(document.json, vocabulary: NounVocabulary())
        #expect(analysis.problems == [], "\(name): \(analysis.problems.map { "\($0) (\(document.positions[$0.pointer].map(String.init(describing:)) ?? "?"))" })")
        #expect(!analysis.switches.isEmpty && !analysis.stacks.isEmpty)
    }

    @Test func theTwoHostExampleSplitsIntoTwoSharesAndItsPeersFilesRead() throws {
        let directory = String(LabExamplesTests.directory.dropLast("labs".count)) + "hosts"
        let bytes = try #require(FileSystem.readFile(directory + "/two-hosts.yaml"))
        let document = try YAMLDocument(text: String(decoding: bytes, as: UTF8.self)).json
        let analysis = LabAnalyzer.analyze(document, vocabulary: NounVocabulary())
        #expect(analysis.problems == [], "\(analysis.problems)")
        let tunnels = LabHosts.tunnels(of: document, lab: "wan", existing: [], taken: [:]) { _ in "" }
        #expect(tunnels.map(\.encapsulation) == [.vxlan] && tunnels.first?.port == 4789)
        let split = LabHosts.split(document, tunnels: tunnels)
        #expect(split.coordinator == "a" && split.peers.map(\.name) == ["b"])
        #expect(split.shares["a"]?.map(\.name) == ["s1", "wan", "h1"] && split.shares["b"]?.map(\.name) == ["s2", "wan", "h2"])
        for name in ["peers-on-a", "peers-on-b"] {
            #expect(try PeerBook.load(directory + "/" + name).peers.count == 1, "\(name)")
        }
    }
}
