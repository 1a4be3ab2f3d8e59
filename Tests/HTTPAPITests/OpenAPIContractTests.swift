// The contract: every route the API router serves is in api/openapi.yaml and every operation
// there is routed; the spec's ErrorCode list is exactly the ErrorCode enum. The spec's validity
// and its response schemas are checked against a live daemon by Tests/contract (pytest).
import ControlPlane
import HTTPAPI
import Log
import Posix
import Testing
import VSquareTesting

/// The operations and error codes read from the spec. The spec is written one key per line with
/// two-space indentation, which is all this reader relies on.
struct OpenAPIOutline {
    var operations: Set<String> = []
    var errorCodes: [String] = []

    init(path: String) throws {
        guard let bytes = FileSystem.readFile(path) else { throw Errno(2, call: "open \(path)") }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var section = ""
        var currentPath: String?
        var inErrorCode = false
        for line in lines {
            if !line.hasPrefix(" ") && line.hasSuffix(":") { section = String(line.dropLast()) }
            if section == "paths" {
                if line.hasPrefix("  /") && !line.hasPrefix("   ") && line.hasSuffix(":") {
                    currentPath = String(line.dropFirst(2).dropLast())
                } else if let currentPath, line.hasPrefix("    ") && !line.hasPrefix("     ") && line.hasSuffix(":") {
                    let method = line.trimmingPrefix("    ").dropLast().uppercased()
                    if ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"].contains(method) {
                        operations.insert("\(method) \(currentPath)")
                    }
                }
            }
            if line == "    ErrorCode:" { inErrorCode = true; continue }
            if inErrorCode {
                if line.hasPrefix("    ") && !line.hasPrefix("     ") { inErrorCode = false; continue }
                if line.hasPrefix("        - ") { errorCodes.append(String(line.dropFirst(10))) }
            }
        }
    }
}

/// The repository root, found from this source file's path.
let repositoryRoot: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path
}()

@Suite struct OpenAPIContractTests {
    let outline: OpenAPIOutline

    init() throws {
        outline = try OpenAPIOutline(path: repositoryRoot + "/api/openapi.yaml")
    }

    @Test func everyRouteIsInTheSpecAndEverySpecOperationIsRouted() throws {
        let directory = TempDirectory()
        let store = try Store(path: directory.path + "/vsquare.db")
        let events = EventBus()
        let switches = SwitchManager(configuration: SwitchManagerConfiguration(runDirectory: directory.path, switchBinary: "/bin/false",
                                                                               logDirectory: directory.path),
                                     store: store, events: events,
                                     supervisor: WorkerSupervisor(store: store, events: events, log: Log(label: "test")), log: Log(label: "test"))
        let supervisor = WorkerSupervisor(store: store, events: events, log: Log(label: "test"))
        let cables = CableManager(switches: switches, cableBinary: "/bin/false", store: store, events: events, supervisor: supervisor,
                                  log: Log(label: "test"))
        let stacks = StackManager(switches: switches, cableBinary: "/bin/false", scope: InstanceScope(home: directory.path), store: store, events: events, supervisor: supervisor,
                                  log: Log(label: "test"))
        let labs = try LabManager(store: store, switches: switches, cables: cables, stacks: stacks, events: events)
        let experiments = try ExperimentManager(store: store, labs: labs, switches: switches, cables: cables, stacks: stacks, events: events,
                                                directory: directory.path + "/experiments")
        let tokens = try TokenManager(store: store, events: events, configured: [])
        let context = APIContext(daemon: DaemonInfo(store: store, scope: InstanceScope(home: directory.path)), switches: switches, cables: cables,
                                 stacks: stacks, labs: labs, experiments: experiments, tokens: tokens,
                                 classes: try ClassManager(store: store, labs: labs, tokens: tokens, events: events),
                                 audit: AuditLog(store: store, events: events, labs: labs.membership, log: Log(label: "test")), events: events,
                                 httpMetrics: HTTPMetrics(), staticFiles: nil)
        let router = APIRouter.make(context, log: Log(label: "test"))
        let routed = Set(router.routes)
        #expect(routed.subtracting(outline.operations).isEmpty, "routed but not in the spec: \(routed.subtracting(outline.operations).sorted())")
        #expect(outline.operations.subtracting(routed).isEmpty, "in the spec but not routed: \(outline.operations.subtracting(routed).sorted())")
        #expect(!routed.isEmpty && outline.operations.count >= 3)
    }

    @Test func errorCodesMatchTheSpec() {
        #expect(outline.errorCodes == ErrorCode.allCases.map(\.rawValue))
    }
}
