// vsquare-cable: one cable worker. Parses the command line, builds the worker, runs its loop
// until SIGTERM/SIGINT or `shutdown`. Exit 64 on a bad command line, 1 on failure.
import CableWorker
import Glibc
import JSON
import Log
import Posix

let options: CableOptions
do {
    switch try CableOptions.parse(Array(CommandLine.arguments.dropFirst())) {
    case .help:
        writeText(CableOptions.usage + "\n", to: 1)
        exit(0)
    case .version:
        writeText("vsquare-cable \(VSquareCableVersion.current)\n", to: 1)
        exit(0)
    case .run(let parsed):
        options = parsed
    }
} catch {
    writeText("vsquare-cable: \(error.description)\nTry 'vsquare-cable --help' for more information.\n", to: 2)
    exit(64)
}

JSON.prepare()
Signals.ignoreBrokenPipe()
if let level = Environment.current()["VSQUARE_LOG_LEVEL"].flatMap(Log.Level.init(name:)) { Log.threshold = level }
let log = Log(label: "cable.\(options.name)")
do {
    let worker = try CableWorker(options: options, log: log)
    worker.run()
    exit(0)
} catch {
    log.error("cannot start", [("error", String(describing: error))])
    exit(1)
}
