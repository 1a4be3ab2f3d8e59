// vsquared: read the configuration, open the store, serve the API until SIGTERM/SIGINT, then
// shut down gracefully. Wiring only: every piece of logic lives in a library module.
import ControlPlane
import Glibc
import HTTPAPI
import JSON
import Log
import Posix

let command: DaemonConfig.Command
do {
    command = try DaemonConfig.parse(arguments: Array(CommandLine.arguments.dropFirst()),
                                     environment: Environment.current(), uid: getuid())
} catch {
    writeText("vsquared: \(error.description)\nTry 'vsquared --help' for more information.\n", to: 2)
    exit(64)
}

let config: DaemonConfig
switch command {
case .help:
    writeText(DaemonConfig.usage + "\n", to: 1)
    exit(0)
case .version:
    writeText("vsquared \(VSquareVersion.current)\n", to: 1)
    exit(0)
case .serve(let parsed):
    config = parsed
}

// Before any thread starts: jansson's seed, and the signals we wait for synchronously.
JSON.prepare()
let stopSignals = [SIGTERM, SIGINT]
Signals.block(stopSignals)
Signals.ignoreBrokenPipe()
Log.threshold = config.logLevel
let log = Log(label: "vsquared")

let store: Store
do {
    try FileSystem.makeDirectories(config.home, mode: 0o700)
    try FileSystem.makeDirectories(config.run, mode: 0o755)
    store = try Store(path: config.home + "/vsquare.db")
} catch {
    log.error("cannot open the state", [("error", String(describing: error)), ("home", config.home)])
    exit(1)
}

let webDirectory = config.resolvedWebDirectory(executable: FileSystem.executablePath())
let staticFiles = webDirectory.flatMap { StaticFiles(root: $0) }
if staticFiles == nil { log.warning("no dashboard directory; / answers 404", [("web", webDirectory ?? "-")]) }

var tokens: Set<String> = []
if let file = config.tokensFile {
    guard let loaded = Authenticator.loadTokens(file), !loaded.isEmpty else {
        writeText("vsquared: no tokens could be read from \(file)\n", to: 2)
        exit(64)
    }
    tokens = loaded
}

var peerBook = PeerBook()
if let file = config.peersFile {
    do { peerBook = try PeerBook.load(file) } catch {
        writeText("vsquared: \(error.description)\n", to: 2)
        exit(64)
    }
}

let events = EventBus()
events.startKeepAlive()
let executableDirectory = String(FileSystem.executablePath().split(separator: "/", omittingEmptySubsequences: false).dropLast()
    .joined(separator: "/"))
let supervisor = WorkerSupervisor(store: store, events: events, log: Log(label: "vsquared.supervisor"))
let switches = SwitchManager(
    configuration: SwitchManagerConfiguration(runDirectory: config.run,
                                              switchBinary: config.switchBinary ?? executableDirectory + "/vsquare-switch",
                                              logDirectory: config.home + "/logs"),
    store: store, events: events, supervisor: supervisor, log: Log(label: "vsquared.switches"))
let cables = CableManager(switches: switches, cableBinary: config.cableBinary ?? executableDirectory + "/vsquare-cable",
                          store: store, events: events, supervisor: supervisor, log: Log(label: "vsquared.cables"))
let scope = InstanceScope(home: config.home)
let stacks = StackManager(switches: switches, cableBinary: config.cableBinary ?? executableDirectory + "/vsquare-cable",
                          scope: scope, store: store, events: events, supervisor: supervisor, log: Log(label: "vsquared.stacks"))
do {
    try switches.start()
    try cables.start()
    try stacks.start()
} catch {
    log.error("cannot start the workers", [("error", String(describing: error))])
    exit(1)
}
supervisor.run()
// Workers that were not adopted start together; requests come once they have.
supervisor.awaitStarts()
let labs: LabManager
do {
    labs = try LabManager(store: store, switches: switches, cables: cables, stacks: stacks, events: events, peers: peerBook)
} catch {
    log.error("cannot load the labs", [("error", String(describing: error))])
    exit(1)
}
// An apply an earlier vsquared left half done is finished (or undone) before requests come in.
labs.start()
let experiments: ExperimentManager
do {
    experiments = try ExperimentManager(store: store, labs: labs, switches: switches, cables: cables, stacks: stacks, events: events,
                                        directory: config.home + "/experiments", retention: config.runHistory)
} catch {
    log.error("cannot load the experiments", [("error", String(describing: error))])
    exit(1)
}
// Runs cut short by the last stop are marked aborted, and what they built removed, before requests come in.
experiments.start()

let tokenManager: TokenManager
do {
    tokenManager = try TokenManager(store: store, events: events, configured: tokens)
} catch {
    log.error("cannot load the tokens", [("error", String(describing: error))])
    exit(1)
}
let classes: ClassManager
do {
    classes = try ClassManager(store: store, labs: labs, tokens: tokenManager, events: events)
} catch {
    log.error("cannot load the classes", [("error", String(describing: error))])
    exit(1)
}
// A class whose create (or students' add) was cut short gets its missing labs before requests come in.
classes.start()
let audit = AuditLog(store: store, events: events, labs: labs.membership, kept: config.auditKeep, log: Log(label: "vsquared.audit"))
audit.start()

let daemon = DaemonInfo(store: store, scope: scope)
let httpMetrics = HTTPMetrics()
let router = APIRouter.make(APIContext(daemon: daemon, switches: switches, cables: cables, stacks: stacks, labs: labs, experiments: experiments, tokens: tokenManager, classes: classes, audit: audit, events: events,
                                       httpMetrics: httpMetrics,
                                       staticFiles: staticFiles), log: Log(label: "vsquared.api"))
let responder: any HTTPResponder = Authenticator(tokens: tokenManager, peers: peerBook, next: AuditTrail(audit: audit, labs: labs.membership,
                                                                                    classes: classes.membership, next: router))
let server: HTTPServer
do {
    server = try HTTPServer(configuration: HTTPServerConfiguration(listen: config.listen), responder: responder,
                            log: Log(label: "vsquared.http"), onCompleted: { status, _ in httpMetrics.record(status: status) })
} catch {
    log.error("cannot listen", [("listen", config.listen.description), ("error", String(describing: error))])
    exit(1)
}
httpMetrics.readInFlight { [server] in server.inFlightCount }

log.info("serving", [("listen", server.address.description), ("home", config.home), ("run", config.run),
                     ("version", VSquareVersion.current), ("auth", tokens.isEmpty ? "off" : "bearer"), ("peers", String(peerBook.peers.count))])
writeText("vsquared: serving http://\(server.address)/\n", to: 1)

let received = Signals.wait(for: stopSignals)
log.info("shutting down", [("signal", String(received)), ("http.in_flight", String(server.inFlightCount))])
events.close()
server.shutdown(graceSeconds: 10)
supervisor.shutdown()
log.info("stopped; workers keep running")
exit(0)
