// vsquare-switch: one VDE-compatible switch worker. Parses the command line, builds the worker,
// runs its loop until SIGTERM/SIGINT or `shutdown`. Exit 64 on a bad command line, 1 on failure.
import Glibc
import JSON
import Log
import Posix
import SwitchWorker

let options: SwitchOptions
do {
    switch try SwitchOptions.parse(Array(CommandLine.arguments.dropFirst())) {
    case .help:
        writeText(SwitchOptions.usage + "\n", to: 1)
        exit(0)
    case .version:
        writeText("vsquare-switch \(VSquareSwitchVersion.current)\n", to: 1)
        exit(0)
    case .run(let parsed):
        options = parsed
    }
} catch {
    writeText("vsquare-switch: \(error.description)\nTry 'vsquare-switch --help' for more information.\n", to: 2)
    exit(64)
}

JSON.prepare()
Signals.ignoreBrokenPipe()
if let level = Environment.current()["VSQUARE_LOG_LEVEL"].flatMap(Log.Level.init(name:)) { Log.threshold = level }
let log = Log(label: "switch.\(options.name)")
do {
    let worker = try SwitchWorker(options: options, log: log)
    worker.run()
    exit(0)
} catch {
    log.error("cannot start", [("error", String(describing: error)), ("switch.dir", options.directory)])
    exit(1)
}
