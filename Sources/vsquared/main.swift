// vsquared: read the configuration, open the store, serve the API until SIGTERM/SIGINT, then
// shut down gracefully. Wiring only: every piece of logic lives in a library module.
import ControlPlane
import Glibc
import HTTPAPI
import JSON
import Log
import Posix

func writeOut(_ text: String, fd: Int32) {
    _ = text.withCString { write(fd, $0, strlen($0)) }
}

let command: DaemonConfig.Command
do {
    command = try DaemonConfig.parse(arguments: Array(CommandLine.arguments.dropFirst()),
                                     environment: Environment.current(), uid: getuid())
} catch {
    writeOut("vsquared: \(error.description)\nTry 'vsquared --help' for more information.\n", fd: 2)
    exit(64)
}

let config: DaemonConfig
switch command {
case .help:
    writeOut(DaemonConfig.usage + "\n", fd: 1)
    exit(0)
case .version:
    writeOut("vsquared \(VSquareVersion.current)\n", fd: 1)
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

let daemon = DaemonInfo(store: store)
let router = APIRouter.make(daemon: daemon, staticFiles: staticFiles, log: Log(label: "vsquared.api"))
let server: HTTPServer
do {
    server = try HTTPServer(configuration: HTTPServerConfiguration(listen: config.listen), responder: router,
                            log: Log(label: "vsquared.http"))
} catch {
    log.error("cannot listen", [("listen", config.listen.description), ("error", String(describing: error))])
    exit(1)
}

log.info("serving", [("listen", server.address.description), ("home", config.home), ("run", config.run),
                     ("version", VSquareVersion.current)])
writeOut("vsquared: serving http://\(server.address)/\n", fd: 1)

let received = Signals.wait(for: stopSignals)
log.info("shutting down", [("signal", String(received)), ("http.in_flight", String(server.inFlightCount))])
server.shutdown(graceSeconds: 10)
log.info("stopped")
exit(0)
