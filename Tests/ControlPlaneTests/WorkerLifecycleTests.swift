// The supervisor's decisions with no process: backoff, give-up, stability, stop.
@testable import ControlPlane
import Testing

let second: UInt64 = 1_000_000_000

@Suite struct WorkerLifecycleTests {
    @Test func backsOffExponentiallyUpToTheCap() {
        var lifecycle = WorkerLifecycle()
        lifecycle.ready(now: 0)
        var delays: [UInt64] = []
        for crash in 0..<9 {
            guard case .restart(let after) = lifecycle.exited(.signaled(9), now: UInt64(crash) * second) else {
                Issue.record("expected a restart")
                return
            }
            delays.append(after / 1_000_000)
            lifecycle.starting()
            lifecycle.ready(now: UInt64(crash) * second)
        }
        #expect(delays == [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000])
        #expect(lifecycle.restartCount == 9)
        #expect(lifecycle.lastExit == .signaled(9))
    }

    @Test func runningStablyForgivesEarlierCrashes() {
        var lifecycle = WorkerLifecycle()
        lifecycle.ready(now: 0)
        _ = lifecycle.exited(.exited(1), now: 1 * second)
        lifecycle.ready(now: 2 * second)
        _ = lifecycle.exited(.exited(1), now: 3 * second)
        lifecycle.ready(now: 4 * second)
        #expect(lifecycle.exited(.exited(1), now: 40 * second) == .restart(afterNanoseconds: WorkerLifecycle.firstBackoff))
    }

    @Test func aConfigurationErrorIsNotRetried() {
        var lifecycle = WorkerLifecycle()
        #expect(lifecycle.exited(.exited(64), now: 0) == .giveUp("the worker refused its configuration (exit 64)"))
        #expect(lifecycle.state == .failed)
    }

    @Test func givesUpAfterTooManyCrashesInARow() {
        var lifecycle = WorkerLifecycle()
        var last = WorkerLifecycle.Action.none
        for _ in 0...WorkerLifecycle.maxFailures { last = lifecycle.exited(.signaled(11), now: 0) }
        guard case .giveUp = last else {
            Issue.record("expected to give up, got \(last)")
            return
        }
        #expect(lifecycle.state == .failed)
        lifecycle.reset()
        #expect(lifecycle.state == .starting && lifecycle.consecutiveFailures == 0)
    }

    @Test func aStoppedWorkerIsNotRestarted() {
        var lifecycle = WorkerLifecycle()
        lifecycle.ready(now: 0)
        lifecycle.stop()
        #expect(lifecycle.exited(.exited(0), now: second) == .none)
        #expect(lifecycle.state == .stopped)
    }
}
