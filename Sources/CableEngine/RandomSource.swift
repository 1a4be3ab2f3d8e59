// RandomSource: a small seeded generator (SplitMix64), so a cable run can be reproduced exactly
// from its reported seed, plus the samples the impairments need.
import Glibc

public struct RandomSource: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// True with probability `percent` / 100.
    public mutating func chance(percent: Double) -> Bool { percent > 0 && unit() * 100 < percent }

    /// A standard normal sample (Box–Muller).
    public mutating func normal() -> Double {
        let u = max(unit(), 1e-300)
        return sqrt(-2 * log(u)) * cos(2 * Double.pi * unit())
    }

    /// A Poisson sample with mean `mean` (Knuth for small means, normal approximation above 30).
    public mutating func poisson(mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 30 { return max(0, Int((mean + sqrt(mean) * normal()).rounded())) }
        let limit = exp(-mean)
        var product = unit()
        var count = 0
        while product > limit {
            product *= unit()
            count += 1
        }
        return count
    }
}
