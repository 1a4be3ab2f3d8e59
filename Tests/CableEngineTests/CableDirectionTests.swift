// Impairment accuracy in-process, with fixed seeds and generous statistical bounds: loss and
// bursts, delay and jitter, rate, duplication, MTU, reordering, bit errors, cut.
import CableEngine
import Testing

let ms: UInt64 = 1_000_000

func run(_ impairments: CableImpairments, frames: Int = 20000, length: Int = 1000, spacing: UInt64 = 100_000,
         seed: UInt64 = 7) -> (CableDirection, [CableDecision]) {
    var direction = CableDirection(impairments: impairments, seed: seed)
    var out: [CableDecision] = []
    for index in 0..<frames { out.append(direction.process(length: length, now: UInt64(index) * spacing)) }
    return (direction, out)
}

@Suite struct CableDirectionTests {
    @Test func noImpairmentsPassEverythingAtOnce() {
        let (direction, out) = run(.none, frames: 100)
        #expect(out.allSatisfy { $0.count == 1 && $0[0].flippedBits.isEmpty })
        #expect(out.enumerated().allSatisfy { $0.element[0].due == UInt64($0.offset) * 100_000 })
        #expect(direction.counters.framesIn == 100)
    }

    @Test func lossMatchesItsRate() {
        var impairments = CableImpairments()
        impairments.lossPercent = 10
        let (direction, out) = run(impairments)
        let lost = Double(out.filter(\.isEmpty).count) / 200
        #expect(abs(lost - 10) < 1.5, "lost \(lost)%")
        #expect(direction.counters.drops[.loss] == UInt64(out.filter(\.isEmpty).count))
    }

    @Test func gilbertElliottKeepsTheRateAndMakesBursts() {
        var impairments = CableImpairments()
        impairments.lossPercent = 10
        impairments.lossBurst = 5
        let (_, out) = run(impairments, frames: 50000)
        let lostFlags = out.map(\.isEmpty)
        let rate = Double(lostFlags.filter { $0 }.count) / Double(lostFlags.count) * 100
        var bursts: [Int] = []
        var current = 0
        for lost in lostFlags {
            if lost { current += 1 } else if current > 0 { bursts.append(current); current = 0 }
        }
        let meanBurst = Double(bursts.reduce(0, +)) / Double(bursts.count)
        #expect(abs(rate - 10) < 2, "loss \(rate)%")
        #expect(abs(meanBurst - 5) < 1, "mean burst \(meanBurst)")
    }

    @Test func delayAndJitterShapeTheLatency() {
        var impairments = CableImpairments()
        impairments.delayMs = 20
        impairments.jitterMs = 5
        let (_, out) = run(impairments, frames: 5000, spacing: 10 * ms)
        let latencies = out.enumerated().map { Double($0.element[0].due - UInt64($0.offset) * 10 * ms) / 1e6 }.sorted()
        #expect(abs(latencies[latencies.count / 2] - 20) < 0.5, "median \(latencies[latencies.count / 2])")
        #expect(latencies.first! >= 15 - 0.01 && latencies.last! <= 25 + 0.01)
    }

    @Test func jitterAloneNeverReorders() {
        var impairments = CableImpairments()
        impairments.delayMs = 10
        impairments.jitterMs = 8
        impairments.jitterDistribution = .normal
        let (_, out) = run(impairments, frames: 5000, spacing: 100_000)
        let dues = out.map { $0[0].due }
        #expect(dues == dues.sorted())
    }

    @Test func delayDoesNotThrottleTheRate() {
        var impairments = CableImpairments()
        impairments.delayMs = 10
        let (_, out) = run(impairments, frames: 10000, spacing: 10_000)
        // 100k frames/s in, 100k frames/s out: each due exactly 10 ms after it arrived.
        #expect(out.enumerated().allSatisfy { $0.element[0].due == UInt64($0.offset) * 10_000 + 10 * ms })
    }

    @Test func rateLimitSpacesFramesAndTailDrops() {
        var impairments = CableImpairments()
        impairments.rateKbit = 10_000
        impairments.queueFrames = 50
        // 1000-byte frames every 0.1 ms = 80 Mbit/s offered into 10 Mbit/s.
        let (direction, out) = run(impairments, frames: 20000)
        let delivered = out.compactMap(\.first)
        let span = Double(delivered.last!.due - delivered.first!.due) / 1e9
        let rate = Double(delivered.count - 1) * 8000 / span / 1e6
        #expect(abs(rate - 10) < 1, "rate \(rate) Mbit/s")
        #expect(direction.counters.drops[.queue, default: 0] > 15000)
    }

    @Test func duplicationMatchesItsRate() {
        var impairments = CableImpairments()
        impairments.duplicatePercent = 20
        let (direction, out) = run(impairments)
        let doubled = Double(out.filter { $0.count == 2 }.count) / 200
        #expect(abs(doubled - 20) < 1.5)
        #expect(direction.counters.duplicated == UInt64(out.filter { $0.count == 2 }.count))
    }

    @Test func mtuDropsLargerFramesOnly() {
        var impairments = CableImpairments()
        impairments.mtu = 1500
        var direction = CableDirection(impairments: impairments, seed: 1)
        #expect(direction.process(length: 1514, now: 0).count == 1)
        #expect(direction.process(length: 1515, now: 0).isEmpty)
        #expect(direction.counters.drops[.mtu] == 1)
    }

    @Test func reorderingSendsSomeFramesAhead() {
        var impairments = CableImpairments()
        impairments.delayMs = 5
        impairments.reorderPercent = 25
        let (direction, out) = run(impairments, frames: 4000, spacing: 100_000)
        let share = Double(direction.counters.reordered) / 40
        #expect(share > 15 && share < 30, "reordered \(share)%")
        #expect(out.map { $0[0].due } != out.map { $0[0].due }.sorted())
    }

    @Test func bitErrorsFlipAboutTheExpectedNumberOfBits() {
        var impairments = CableImpairments()
        impairments.bitErrorRate = 1e-5
        let (_, out) = run(impairments, frames: 20000, length: 1250)
        let flips = out.reduce(0) { $0 + $1[0].flippedBits.count }
        // 20000 frames × 10000 bits × 1e-5 = 2000 expected.
        #expect(abs(flips - 2000) < 200, "\(flips) flips")
        #expect(out.allSatisfy { $0[0].flippedBits.allSatisfy { (0..<10000).contains($0) } })
    }

    @Test func aCutDropsEverythingAndARestorePassesAgain() {
        var direction = CableDirection(seed: 3)
        direction.isCut = true
        #expect(direction.process(length: 100, now: 0).isEmpty)
        direction.isCut = false
        #expect(direction.process(length: 100, now: 0).count == 1)
        #expect(direction.counters.drops[.cut] == 1)
    }

    @Test func theSameSeedReproducesTheRun() {
        var impairments = CableImpairments()
        impairments.lossPercent = 30
        impairments.jitterMs = 3
        impairments.delayMs = 5
        #expect(run(impairments, frames: 1000, seed: 99).1 == run(impairments, frames: 1000, seed: 99).1)
        #expect(run(impairments, frames: 1000, seed: 99).1 != run(impairments, frames: 1000, seed: 98).1)
    }
}
