// Making reality match the switch specs: start workers (posix_spawn, own session, so they outlive
// vsquared), apply their configuration, watch them through pidfds, restart them with backoff after
// a crash, and on start-up adopt the workers an earlier vsquared left running — only after the
// worker proves who it is (name and instance id over its control socket, matching the store).
import Glibc
import JSON
import Log
import Posix

extension SwitchManager {
    /// Adopts or starts a worker for every stored switch, stops workers nobody wants, and starts
    /// the supervisor thread.
    public func start() throws {
        try FileSystem.makeDirectories(configuration.switchesDirectory, mode: 0o755)
        try FileSystem.makeDirectories(configuration.logDirectory, mode: 0o755)
        let specs = try store.loadSwitches()
        let records = Dictionary(uniqueKeysWithValues: try store.loadWorkers(kind: "switch").map { ($0.name, $0) })
        lock.withLock {
            for spec in specs {
                let handle = SupervisedSwitch(spec: spec, directory: directory(for: spec.name))
                switches[spec.name] = handle
                if let record = records[spec.name], adopt(handle, record) { continue }
                start(handle)
            }
        }
        for (name, record) in records where !specs.contains(where: { $0.name == name }) {
            // A worker for a switch that no longer exists: stop it if it is provably ours.
            let orphan = SupervisedSwitch(spec: SwitchSpec(name: name), directory: directory(for: name))
            if adopt(orphan, record) { stop(orphan) }
            try? store.deleteWorker(kind: "switch", name: name)
        }
        var pipe: [Int32] = [-1, -1]
        _ = pipe2Compat(&pipe)
        wakePipe = pipe
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { context in
            let manager = Unmanaged<SwitchManager>.fromOpaque(context!).takeRetainedValue()
            manager.supervise()
            return nil
        }, context)
        supervisorThread = thread
    }

    /// Stops the supervisor thread; workers keep running (they outlive vsquared by design).
    public func shutdown() {
        lock.withLock { stopping = true }
        wake()
        if let thread = supervisorThread { pthread_join(thread, nil) }
        for fd in wakePipe where fd >= 0 { close(fd) }
    }

    func wake() {
        var byte: UInt8 = 1
        if wakePipe[1] >= 0 { _ = write(wakePipe[1], &byte, 1) }
    }

    // MARK: one worker

    /// Spawns the worker, waits for its control socket, applies the spec, opens its event stream.
    /// Called with the lock held.
    func start(_ handle: SupervisedSwitch) {
        let name = handle.spec.name
        handle.restartAt = nil
        handle.lifecycle.starting()
        removeTree(handle.directory)
        var arguments = ["--dir", handle.directory, "--ports", String(handle.spec.ports), "--name", name,
                         "--mode", SwitchSpec.octal(handle.spec.socketMode), "--mac-aging", String(handle.spec.macAgingSeconds)]
        if handle.spec.hub { arguments.append("--hub") }
        if let group = handle.spec.socketGroup { arguments += ["--group", group] }
        let logPath = configuration.logDirectory + "/switch-" + name + ".log"
        do {
            let child = try ChildProcess(path: configuration.switchBinary, arguments: arguments, stdin: .null,
                                         stdout: .file(logPath), stderr: .file(logPath), detached: true)
            handle.child = child
            handle.watch = nil
            let deadline = Clock.monotonicNanoseconds() + 5_000_000_000
            var status: JSON?
            while status == nil && Clock.monotonicNanoseconds() < deadline && !child.hasEnded {
                status = try? handle.client.call("status")
                if status == nil {
                    if child.wait(timeoutSeconds: 0.01) != nil { break }
                }
            }
            guard let status, let instance = status["instance_id"]?.stringValue else {
                throw WorkerError.unavailable("no answer on \(handle.controlPath) within 5 s")
            }
            handle.instanceID = instance
            try converge(handle)
            try store.saveWorker(WorkerRecord(kind: "switch", name: name, pid: child.pid, instanceID: instance,
                                              restartCount: handle.lifecycle.restartCount, lastExit: handle.lifecycle.lastExit?.description))
            openEvents(handle)
            handle.lifecycle.ready(now: Clock.monotonicNanoseconds())
            log.info("worker started", [("switch.name", name), ("worker.pid", String(child.pid)),
                                        ("restart.count", String(handle.lifecycle.restartCount))])
            events.publish("switch.state_changed", ["switch": JSON(name), "state": "running", "pid": JSON(child.pid)])
            if handle.lifecycle.restartCount > 0 {
                events.publish("worker.restarted", ["switch": JSON(name), "pid": JSON(child.pid),
                                                    "restart_count": JSON(handle.lifecycle.restartCount)])
            }
        } catch {
            log.error("worker did not start", [("switch.name", name), ("error", String(describing: error))])
            handle.signal(SIGKILL)
            _ = handle.child?.wait(timeoutSeconds: 2)
            schedule(handle, handle.lifecycle.failedToStart(String(describing: error), now: Clock.monotonicNanoseconds()))
        }
        wake()
    }

    /// Makes the worker's configuration equal the spec (SwitchConfigPlan), op by op.
    func converge(_ handle: SupervisedSwitch) throws {
        let client = handle.client
        let observed = ObservedSwitchConfig(config: try client.call("config.get"), vlans: try client.call("vlans"),
                                            ports: try client.call("ports"))
        for step in SwitchConfigPlan.plan(spec: handle.spec, observed: observed) {
            try client.call(step.op, step.parameters)
        }
    }

    /// Stops the worker: SIGTERM, up to 2 s, then SIGKILL. Called with the lock held.
    func stop(_ handle: SupervisedSwitch) {
        handle.lifecycle.stop()
        handle.restartAt = nil
        handle.events?.close()
        handle.events = nil
        guard handle.pid != nil else { return }
        handle.signal(SIGTERM)
        if let child = handle.child {
            if child.wait(timeoutSeconds: 2) == nil {
                child.signal(SIGKILL)
                _ = child.wait(timeoutSeconds: 5)
            }
        } else if let watch = handle.watch, !watch.waitForExit(timeoutSeconds: 2) {
            watch.signal(SIGKILL)
            _ = watch.waitForExit(timeoutSeconds: 5)
        }
        handle.child = nil
        handle.watch = nil
        events.publish("switch.state_changed", ["switch": JSON(handle.spec.name), "state": "stopped"])
    }

    /// Takes over a worker an earlier vsquared started, if its identity checks out.
    func adopt(_ handle: SupervisedSwitch, _ record: WorkerRecord) -> Bool {
        guard let watch = ProcessWatch(pid: record.pid), !watch.hasEnded,
              let status = try? handle.client.call("status"),
              status["name"]?.stringValue == handle.spec.name,
              status["instance_id"]?.stringValue == record.instanceID,
              status["pid"]?.intValue == Int(record.pid) else {
            return false
        }
        handle.watch = watch
        handle.child = nil
        handle.instanceID = record.instanceID
        for _ in 0..<record.restartCount { _ = handle.lifecycle.exited(.vanished, now: 0) }
        handle.lifecycle.starting()
        if (try? converge(handle)) == nil {
            log.warning("adopted worker did not take its configuration", [("switch.name", handle.spec.name)])
        }
        openEvents(handle)
        handle.lifecycle.ready(now: Clock.monotonicNanoseconds())
        log.info("worker adopted", [("switch.name", handle.spec.name), ("worker.pid", String(record.pid))])
        return true
    }

    // MARK: the supervisor thread

    func supervise() {
        while true {
            var descriptors: [pollfd] = []
            var owners: [SupervisedSwitch?] = []
            var timeout: Int32 = 1000
            let done: Bool = lock.withLock {
                if stopping { return true }
                descriptors.append(pollfd(fd: wakePipe[0], events: Int16(POLLIN), revents: 0))
                owners.append(nil)
                let now = Clock.monotonicNanoseconds()
                for handle in switches.values {
                    if let fd = handle.processDescriptor {
                        descriptors.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                        owners.append(handle)
                    }
                    if let socket = handle.events, socket.fd >= 0 {
                        descriptors.append(pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0))
                        owners.append(handle)
                    }
                    if let due = handle.restartAt {
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
                    guard let handle = owners[index], switches[handle.spec.name] === handle else { continue }
                    if entry.fd == handle.events?.fd {
                        readEvents(handle)
                    } else if entry.fd == handle.processDescriptor {
                        workerEnded(handle)
                    }
                }
                let now = Clock.monotonicNanoseconds()
                for handle in switches.values {
                    if let due = handle.restartAt, due <= now, handle.lifecycle.state == .restarting { start(handle) }
                }
            }
        }
    }

    /// The worker process ended on its own. Called with the lock held.
    func workerEnded(_ handle: SupervisedSwitch) {
        var exit = WorkerLifecycle.Exit.vanished
        if let child = handle.child, let termination = child.wait(timeoutSeconds: 0) {
            switch termination {
            case .exited(let code): exit = .exited(code)
            case .signaled(let signal): exit = .signaled(signal)
            }
        }
        guard handle.lifecycle.state != .stopped else { return }
        handle.events?.close()
        handle.events = nil
        handle.child = nil
        handle.watch = nil
        log.warning("worker exited", [("switch.name", handle.spec.name), ("exit", exit.description)])
        events.publish("worker.crashed", ["switch": JSON(handle.spec.name), "exit": JSON(exit.description)])
        schedule(handle, handle.lifecycle.exited(exit, now: Clock.monotonicNanoseconds()))
    }

    func schedule(_ handle: SupervisedSwitch, _ action: WorkerLifecycle.Action) {
        switch action {
        case .none:
            break
        case .restart(let after):
            handle.restartAt = Clock.monotonicNanoseconds() + after
            events.publish("switch.state_changed", ["switch": JSON(handle.spec.name), "state": "restarting",
                                                    "backoff_ms": JSON(Int(after / 1_000_000))])
        case .giveUp(let reason):
            handle.restartAt = nil
            log.error("worker given up", [("switch.name", handle.spec.name), ("reason", reason)])
            events.publish("switch.state_changed", ["switch": JSON(handle.spec.name), "state": "failed", "reason": JSON(reason)])
        }
    }

    // MARK: worker events

    func openEvents(_ handle: SupervisedSwitch) {
        handle.events?.close()
        guard let socket = try? Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue)),
              (try? socket.connect(.unix(path: handle.controlPath))) != nil,
              (try? socket.setNonBlocking()) != nil else { return }
        handle.events = socket
        handle.eventBuffer = []
    }

    /// Forwards the worker's events (`port.up`, `port.down`, `mac.moved`) onto the bus.
    func readEvents(_ handle: SupervisedSwitch) {
        guard let socket = handle.events else { return }
        switch try? socket.read(into: &handle.eventBuffer, maximum: 65536) {
        case .done(let count)? where count > 0:
            while let newline = handle.eventBuffer.firstIndex(of: 0x0A) {
                let line = Array(handle.eventBuffer[..<newline])
                handle.eventBuffer.removeFirst(newline + 1)
                guard let event = try? JSON.parse(line), let type = event["event"]?.stringValue, case .object(var body) = event else { continue }
                body["event"] = nil
                body["switch"] = JSON(handle.spec.name)
                events.publish(type, body)
            }
        case .wouldBlock?:
            break
        default:
            socket.close()
            handle.events = nil
        }
    }
}

private func pipe2Compat(_ fds: inout [Int32]) -> Int32 {
    let rc = pipe(&fds)
    for fd in fds where fd >= 0 {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    return rc
}
