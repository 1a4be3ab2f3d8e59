// The task graph and scheduler in-process: cycles named as paths, and many generated DAGs run to
// the end with random outcomes — never more than max_parallel at once, a task started only after
// everything it is after passed, and every task that could not run skipped, naming why.
import CableEngine
import ExperimentEngine
import Testing

@Suite struct TaskSchedulerTests {
    @Test func aCycleIsNamedAsThePathThatClosesIt() {
        let graph = TaskGraph([("a", ["c"]), ("b", ["a"]), ("c", ["b"]), ("d", [])])
        let cycle = graph.cycle()
        #expect(cycle?.first == cycle?.last && Set(cycle ?? []) == ["a", "b", "c"] && cycle?.count == 4, "\(String(describing: cycle))")
        #expect(cycle == ["a", "b", "c", "a"])
        #expect(TaskGraph([("a", []), ("b", ["a"]), ("c", ["a", "b"])]).cycle() == nil)
        #expect(TaskGraph([("a", ["a"])]).cycle() == ["a", "a"])
    }

    @Test func unknownAndRepeatedNamesAreLeftToTheAnalyzer() {
        let graph = TaskGraph([("a", ["ghost", "a0"]), ("a", []), ("b", ["a", "a"])])
        #expect(graph.ids == ["a", "b"])
        #expect(graph.prerequisites["a"] == [] && graph.prerequisites["b"] == ["a"])
    }

    @Test func aFailureSkipsWhatIsAfterItAndSaysWhy() {
        var scheduler = TaskScheduler(graph: TaskGraph([("setup", []), ("ping", ["setup"]), ("iperf", ["setup"]),
                                                        ("report", ["ping", "iperf"])]), maxParallel: 4)
        #expect(scheduler.start() == ["setup"])
        scheduler.finish("setup", .passed)
        #expect(scheduler.start() == ["ping", "iperf"])
        scheduler.finish("ping", .failed)
        #expect(scheduler.statuses["report"] == .skipped && scheduler.skippedBecause["report"] == "ping")
        scheduler.finish("iperf", .passed)
        #expect(scheduler.start() == [] && scheduler.isFinished)
    }

    @Test func stoppingARunCancelsWhatHasNotStarted() {
        var scheduler = TaskScheduler(graph: TaskGraph([("a", []), ("b", ["a"])]), maxParallel: 1)
        _ = scheduler.start()
        scheduler.stopAll(running: .timedOut)
        #expect(scheduler.statuses == ["a": .timedOut, "b": .cancelled])
    }

    @Test(arguments: 0..<200) func generatedDAGsRunInOrderWithinTheirBound(seed: UInt64) {
        var random = RandomSource(seed: seed)
        let count = Int.random(in: 1...40, using: &random)
        let tasks: [(id: String, after: [String])] = (0..<count).map { index in
            let after = (0..<index).filter { _ in Int.random(in: 0..<100, using: &random) < 12 }.map { "t\($0)" }
            return ("t\(index)", after)
        }
        let graph = TaskGraph(tasks)
        #expect(graph.cycle() == nil)
        let bound = Int.random(in: 1...6, using: &random)
        var scheduler = TaskScheduler(graph: graph, maxParallel: bound)
        var order: [String] = []
        while !scheduler.isFinished {
            for id in scheduler.start() {
                #expect((graph.prerequisites[id] ?? []).allSatisfy { scheduler.statuses[$0] == .passed }, "seed \(seed): \(id) started early")
                order.append(id)
            }
            let running = scheduler.running
            #expect(running.count <= bound, "seed \(seed): \(running.count) running, bound \(bound)")
            guard let done = running.randomElement(using: &random) else {
                Issue.record("seed \(seed): nothing runs and the run is not finished")
                return
            }
            scheduler.finish(done, Int.random(in: 0..<100, using: &random) < 85 ? .passed : .failed)
        }
        for id in graph.ids {
            let couldRun = (graph.prerequisites[id] ?? []).allSatisfy { scheduler.statuses[$0] == .passed }
            let status = scheduler.statuses[id]!
            #expect(couldRun ? [.passed, .failed].contains(status) : status == .skipped, "seed \(seed): \(id) is \(status)")
            if status == .skipped {
                let cause = scheduler.skippedBecause[id]
                #expect(cause.map { graph.ancestors(of: id).contains($0) && scheduler.statuses[$0] != .passed } == true)
            }
        }
    }
}
