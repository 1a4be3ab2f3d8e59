// Supervisor: makes worker processes match what the managers want. It starts workers (posix_spawn,
// own session, so they outlive vsquared), waits for their control socket, has them configured,
// watches them through pidfds, restarts them with backoff after a crash (WorkerLifecycle decides),
// and on start-up adopts the workers an earlier vsquared left running — only after a worker proves
// who it is (name and instance id over its control socket, matching the store). Worker events are
// forwarded onto the EventBus. One thread; all state behind the lock the managers share.
import Glibc
import JSON
import Log
import Posix

final class Supervisor: @unchecked Sendable {
    let lock: Lock
    let store: Store
    let events: EventBus
    let log: Log
    /// By `kind/name`.
    private(set) var workers: [String: SupervisedWorker] = [:]
    private var thread: pthread_t?
    private var stopping = false
    /// Written to wake the supervisor thread: [read, write].
    private var wakePipe: [Int32] = [-1, -1]

    init(lock: Lock, store: Store, events: EventBus, log: Log) {
        self.lock = lock
        self.store = store
        self.events = events
        self.log = log
    }

    /// Starts the supervisor thread.
    func run() {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        wakePipe = fds
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        pthread_create(&handle, nil, { context in
            Unmanaged<Supervisor>.fromOpaque(context!).takeRetainedValue().loop()
            return nil
        }, context)
        thread = handle
    }

    /// Stops the thread; workers keep running (they outlive vsquared by design).
    func shutdown() {
        lock.withLock { stopping = true }
        wake()
        if let thread { pthread_join(thread, nil) }
        for fd in wakePipe where fd >= 0 { close(fd) }
    }

    func wake() {
        var byte: UInt8 = 1
        if wakePipe[1] >= 0 { _ = write(wakePipe[1], &byte, 1) }
    }

    // MARK: called with the lock held

    /// Supervises `worker` from now on: adopts it if `record` proves it is running, else starts it.
    func add(_ worker: SupervisedWorker, record: WorkerRecord?) {
        workers[worker.key] = worker
        if let record, adopt(worker, record) { return }
        start(worker)
    }

    /// Stops and forgets `worker`.
    func remove(_ worker: SupervisedWorker) { remove([worker]) }

    /// Stops (all at once) and forgets `removed`.
    func remove(_ removed: [SupervisedWorker]) {
        stop(removed)
        for worker in removed {
            workers[worker.key] = nil
            try? store.deleteWorker(kind: worker.recipe.kind, name: worker.recipe.name)
        }
    }

    /// Stops then starts `worker`, whatever state it was in.
    func restart(_ worker: SupervisedWorker) {
        stop(worker)
        worker.lifecycle.reset()
        start(worker)
    }

    /// Spawns the worker; a thread of its own then waits for its control socket without the lock
    /// (workers made together start together), and configures it and opens its event stream with it.
    /// Callers that must answer with a running worker wait with `awaitStart`.
    func start(_ worker: SupervisedWorker) {
        let recipe = worker.recipe
        worker.restartAt = nil
        worker.lifecycle.starting()
        recipe.prepare()
        let logStart = FileSystem.size(recipe.logPath) ?? 0
        worker.logOffset = logStart
        let child: ChildProcess
        do {
            child = try ChildProcess(path: recipe.binary, arguments: recipe.arguments, stdin: .null,
                                     stdout: .file(recipe.logPath), stderr: .file(recipe.logPath), detached: true)
        } catch {
            failedToStart(worker, error, logStart: logStart)
            return
        }
        worker.child = child
        worker.watch = nil
        let version = worker.recipeVersion
        _ = Thread { [self] in
            let status = waitForControlSocket(worker, child)
            // Configured without the lock too (a stack's plug runs `ip` a few times); a recipe
            // changed meanwhile is applied again under the lock, and a worker stopped meanwhile is
            // simply not called running.
            let configured: Result<Void, any Error> = status == nil ? .success(()) : Result { try recipe.configure(worker.client) }
            lock.withLock {
                let current = worker.recipeVersion == version ? configured : Result { try worker.recipe.configure(worker.client) }
                finishStart(worker, child, status: status, configured: current, logStart: logStart)
            }
        }
        wake()
    }

    /// Polls the worker's control socket for up to 5 s (no lock held); nil if it never answers or
    /// the child is no longer this worker's (it ended, or was stopped or replaced meanwhile).
    private func waitForControlSocket(_ worker: SupervisedWorker, _ child: ChildProcess) -> JSON? {
        let deadline = Clock.monotonicNanoseconds() + 5_000_000_000
        while Clock.monotonicNanoseconds() < deadline {
            if let status = try? worker.client.call("status") { return status }
            guard lock.withLock({ worker.child === child }) else { return nil }
            usleep(5_000)
        }
        return nil
    }

    /// With the lock: the spawned worker answered (or not) and was configured (or not); call it running.
    private func finishStart(_ worker: SupervisedWorker, _ child: ChildProcess, status: JSON?, configured: Result<Void, any Error>,
                             logStart: Int) {
        // Stopped, removed, restarted or ended meanwhile: whoever did that decided what comes next.
        guard worker.child === child, workers[worker.key] === worker, worker.lifecycle.state == .starting else { return }
        let recipe = worker.recipe
        do {
            guard let status, let instance = status["instance_id"]?.stringValue else {
                throw WorkerError.unavailable("no answer on \(recipe.controlPath) within 5 s")
            }
            worker.instanceID = instance
            try configured.get()
            try store.saveWorker(WorkerRecord(kind: recipe.kind, name: recipe.name, pid: child.pid, instanceID: instance,
                                              restartCount: worker.lifecycle.restartCount, lastExit: worker.lifecycle.lastExit?.description))
            openEvents(worker)
            worker.lifecycle.ready(now: Clock.monotonicNanoseconds())
            log.info("worker started", [("\(recipe.kind).name", recipe.name), ("worker.pid", String(child.pid)),
                                        ("restart.count", String(worker.lifecycle.restartCount))])
            events.publish("\(recipe.kind).state_changed", [recipe.kind: JSON(recipe.name), "state": "running", "pid": JSON(child.pid)])
            if worker.lifecycle.restartCount > 0 {
                events.publish("worker.restarted", [recipe.kind: JSON(recipe.name), "pid": JSON(child.pid),
                                                    "restart_count": JSON(worker.lifecycle.restartCount)])
            }
        } catch {
            failedToStart(worker, error, logStart: logStart)
        }
        wake()
    }

    private func failedToStart(_ worker: SupervisedWorker, _ error: any Error, logStart: Int) {
        let recipe = worker.recipe
        log.error("worker did not start", [("\(recipe.kind).name", recipe.name), ("error", String(describing: error))])
        worker.signal(SIGKILL)
        _ = worker.child?.wait(timeoutSeconds: 2)
        worker.child = nil
        // The worker's own last words say why far better than a timeout does.
        let reason = Supervisor.lastLine(of: recipe.logPath, from: logStart) ?? String(describing: error)
        schedule(worker, worker.lifecycle.failedToStart(reason, now: Clock.monotonicNanoseconds()))
        wake()
    }

    /// Waits (without the lock) until no worker is starting, for at most `timeoutSeconds`.
    func awaitStarts(timeoutSeconds: Double = 10) {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while lock.withLock({ workers.values.contains { $0.lifecycle.state == .starting } }), Clock.monotonicNanoseconds() < deadline {
            usleep(5_000)
        }
    }

    /// Waits (without the lock) until `worker` is no longer starting: true if it runs.
    func awaitStart(_ worker: SupervisedWorker, timeoutSeconds: Double = 6) -> Bool {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while true {
            let state = lock.withLock { worker.lifecycle.state }
            if state != .starting || Clock.monotonicNanoseconds() > deadline { return state == .running }
            usleep(2_000)
        }
    }

    /// The last non-empty line written to `path` past byte `offset` (at most the last 4 KiB), if any.
    static func lastLine(of path: String, from offset: Int) -> String? {
        guard let bytes = FileSystem.readTail(path, from: offset, maximum: 4096) else { return nil }
        let line = bytes.split(separator: 0x0A).last.map { String(decoding: $0, as: UTF8.self) }
        return line?.isEmpty == false ? line : nil
    }

    /// SIGTERM, up to 2 s, then SIGKILL.
    func stop(_ worker: SupervisedWorker) { stop([worker]) }

    /// Stops several workers at once: every one is told (SIGTERM) before any is waited for.
    func stop(_ workers: [SupervisedWorker]) {
        for worker in workers {
            worker.lifecycle.stop()
            worker.restartAt = nil
            worker.events?.close()
            worker.events = nil
            worker.signal(SIGTERM)
        }
        for worker in workers where worker.pid != nil { awaitExit(worker) }
    }

    /// Waits up to 2 s for a stopped worker to exit, then kills it.
    private func awaitExit(_ worker: SupervisedWorker) {
        if let child = worker.child {
            if child.wait(timeoutSeconds: 2) == nil {
                child.signal(SIGKILL)
                _ = child.wait(timeoutSeconds: 5)
            }
        } else if let watch = worker.watch, !watch.waitForExit(timeoutSeconds: 2) {
            watch.signal(SIGKILL)
            _ = watch.waitForExit(timeoutSeconds: 5)
        }
        worker.child = nil
        worker.watch = nil
        events.publish("\(worker.recipe.kind).state_changed", [worker.recipe.kind: JSON(worker.recipe.name), "state": "stopped"])
    }

    /// Takes over a worker an earlier vsquared started, if its identity checks out.
    func adopt(_ worker: SupervisedWorker, _ record: WorkerRecord) -> Bool {
        guard let watch = ProcessWatch(pid: record.pid), !watch.hasEnded,
              let status = try? worker.client.call("status"),
              status["name"]?.stringValue == worker.recipe.name,
              status["instance_id"]?.stringValue == record.instanceID,
              status["pid"]?.intValue == Int(record.pid) else {
            return false
        }
        worker.watch = watch
        worker.child = nil
        worker.instanceID = record.instanceID
        for _ in 0..<record.restartCount { _ = worker.lifecycle.exited(.vanished, now: 0) }
        worker.lifecycle.starting()
        if (try? worker.recipe.configure(worker.client)) == nil {
            log.warning("adopted worker did not take its configuration", [("\(worker.recipe.kind).name", worker.recipe.name)])
        }
        openEvents(worker)
        worker.lifecycle.ready(now: Clock.monotonicNanoseconds())
        log.info("worker adopted", [("\(worker.recipe.kind).name", worker.recipe.name), ("worker.pid", String(record.pid))])
        return true
    }

    /// Stops workers recorded in the store that nobody wants any more, if provably ours.
    func stopOrphans(kind: String, wanted: Set<String>, recipe: (String) -> WorkerRecipe) {
        for record in (try? store.loadWorkers(kind: kind)) ?? [] where !wanted.contains(record.name) {
            let orphan = SupervisedWorker(recipe: recipe(record.name))
            if adopt(orphan, record) { stop(orphan) }
            try? store.deleteWorker(kind: kind, name: record.name)
        }
    }

    // MARK: asking workers (called without the lock)

    /// How long a request waits for a worker that is starting or restarting before it answers 503.
    static let patienceNanoseconds: UInt64 = 3_000_000_000

    /// Runs `op` on the worker `find` picks (under the lock). A worker that is starting, restarting
    /// or just vanished is waited for up to `patienceNanoseconds`; one that failed or was stopped,
    /// or that is still away after that, is 503. A refusal by the worker is 422.
    func ask(_ name: String, _ op: String, _ parameters: JSONObject,
             find: () throws -> SupervisedWorker) throws -> JSON {
        let deadline = Clock.monotonicNanoseconds() + Supervisor.patienceNanoseconds
        while true {
            let (client, state) = try lock.withLock {
                let worker = try find()
                return (worker.client, worker.lifecycle.state)
            }
            var reason = "its worker is \(state.rawValue)"
            switch state {
            case .failed, .stopped:
                throw ControlPlaneError.workerUnavailable(name: name, reason: reason)
            case .starting, .restarting:
                break
            case .running:
                do {
                    return try client.call(op, parameters)
                } catch {
                    switch error {
                    case .unavailable(let why): reason = why
                    case .rejected(let code, let message): throw ControlPlaneError.unprocessable(code: code, message: message)
                    }
                }
            }
            guard Clock.monotonicNanoseconds() < deadline else { throw ControlPlaneError.workerUnavailable(name: name, reason: reason) }
            usleep(50_000)
        }
    }

    // MARK: the thread

    private func loop() {
        while true {
            var descriptors: [pollfd] = []
            // Each descriptor's worker and, for a process descriptor, the child or watch it belongs to.
            var owners: [(worker: SupervisedWorker, process: AnyObject?)?] = []
            var timeout: Int32 = 1000
            let done: Bool = lock.withLock {
                if stopping { return true }
                descriptors.append(pollfd(fd: wakePipe[0], events: Int16(POLLIN), revents: 0))
                owners.append(nil)
                let now = Clock.monotonicNanoseconds()
                for worker in workers.values {
                    if let process = worker.processDescriptor {
                        descriptors.append(pollfd(fd: process.fd, events: Int16(POLLIN), revents: 0))
                        owners.append((worker, process.owner))
                    }
                    if let socket = worker.events, socket.fd >= 0 {
                        descriptors.append(pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0))
                        owners.append((worker, nil))
                    }
                    if let due = worker.restartAt {
                        timeout = min(timeout, Int32(max(0, (Int64(due) - Int64(now)) / 1_000_000)))
                    }
                }
                return false
            }
            if done { return }
            _ = poll(&descriptors, nfds_t(descriptors.count), timeout)
            var scratch = [UInt8](repeating: 0, count: 64)
            if descriptors[0].revents != 0 { _ = read(wakePipe[0], &scratch, scratch.count) }
            lock.withLock {
                for (index, entry) in descriptors.enumerated().dropFirst() where entry.revents != 0 {
                    guard let (worker, process) = owners[index], workers[worker.key] === worker else { continue }
                    if let process {
                        // A restart meanwhile may have handed the old descriptor's number to the new child.
                        if process === worker.processDescriptor?.owner { ended(worker) }
                    } else if entry.fd == worker.events?.fd {
                        readEvents(worker)
                    }
                }
                let now = Clock.monotonicNanoseconds()
                for worker in workers.values {
                    if let due = worker.restartAt, due <= now, worker.lifecycle.state == .restarting { start(worker) }
                }
            }
        }
    }

    /// The worker process ended on its own.
    private func ended(_ worker: SupervisedWorker) {
        var exit = WorkerLifecycle.Exit.vanished
        if let child = worker.child, let termination = child.wait(timeoutSeconds: 0) {
            switch termination {
            case .exited(let code): exit = .exited(code)
            case .signaled(let signal): exit = .signaled(signal)
            }
        }
        guard worker.lifecycle.state != .stopped else { return }
        if worker.lifecycle.state == .starting {
            // It died before it answered: a failed start, told in its own words.
            failedToStart(worker, WorkerError.unavailable("exited during start-up (\(exit))"), logStart: worker.logOffset)
            return
        }
        worker.events?.close()
        worker.events = nil
        worker.child = nil
        worker.watch = nil
        log.warning("worker exited", [("\(worker.recipe.kind).name", worker.recipe.name), ("exit", exit.description)])
        events.publish("worker.crashed", [worker.recipe.kind: JSON(worker.recipe.name), "exit": JSON(exit.description)])
        schedule(worker, worker.lifecycle.exited(exit, now: Clock.monotonicNanoseconds()))
    }

    private func schedule(_ worker: SupervisedWorker, _ action: WorkerLifecycle.Action) {
        let kind = worker.recipe.kind
        switch action {
        case .none:
            break
        case .restart(let after):
            worker.restartAt = Clock.monotonicNanoseconds() + after
            events.publish("\(kind).state_changed", [kind: JSON(worker.recipe.name), "state": "restarting",
                                                     "backoff_ms": JSON(Int(after / 1_000_000))])
        case .giveUp(let reason):
            worker.restartAt = nil
            log.error("worker given up", [("\(kind).name", worker.recipe.name), ("reason", reason)])
            events.publish("\(kind).state_changed", [kind: JSON(worker.recipe.name), "state": "failed", "reason": JSON(reason)])
        }
    }

    // MARK: worker events

    private func openEvents(_ worker: SupervisedWorker) {
        worker.events?.close()
        guard let socket = try? Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue)),
              (try? socket.connect(.unix(path: worker.recipe.controlPath))) != nil,
              (try? socket.setNonBlocking()) != nil else { return }
        worker.events = socket
        worker.eventBuffer = []
    }

    /// Forwards the worker's own events (`port.up`, `end.down`, …) onto the bus, tagged with its name.
    private func readEvents(_ worker: SupervisedWorker) {
        guard let socket = worker.events else { return }
        switch try? socket.read(into: &worker.eventBuffer, maximum: 65536) {
        case .done(let count)? where count > 0:
            while let newline = worker.eventBuffer.firstIndex(of: 0x0A) {
                let line = Array(worker.eventBuffer[..<newline])
                worker.eventBuffer.removeFirst(newline + 1)
                guard let event = try? JSON.parse(line), let type = event["event"]?.stringValue, case .object(var body) = event else { continue }
                body["event"] = nil
                body[worker.recipe.kind] = JSON(worker.recipe.name)
                // Switch events keep their names (port.up); other workers' get their kind in front
                // (cable.end.up) unless they already carry it (cable.cut).
                let kind = worker.recipe.kind
                events.publish(kind == "switch" || type.hasPrefix(kind + ".") ? type : "\(kind).\(type)", body)
            }
        case .wouldBlock?:
            break
        default:
            socket.close()
            worker.events = nil
        }
    }
}
