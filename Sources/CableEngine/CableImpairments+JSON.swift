// CableImpairments to and from JSON, with the field names scripts rely on and the ranges checked.
import JSON

extension CableImpairments {
    public var json: JSONObject {
        ["delay_ms": JSON(delayMs), "jitter_ms": JSON(jitterMs), "jitter_distribution": JSON(jitterDistribution.rawValue),
         "loss_pct": JSON(lossPercent), "loss_burst": JSON(lossBurst), "dup_pct": JSON(duplicatePercent),
         "rate_kbit": JSON(rateKbit), "queue_frames": JSON(queueFrames), "mtu": JSON(mtu), "ber": JSON(bitErrorRate),
         "reorder_pct": JSON(reorderPercent)]
    }

    /// The fields `reader` holds applied on top of `self`; `null` resets a field to off.
    public func merging(_ reader: inout JSONReader) throws(JSONFieldError) -> CableImpairments {
        var next = self
        func number(_ key: String, _ range: ClosedRange<Double>, _ current: Double) throws(JSONFieldError) -> Double {
            switch try reader.patch(key, { (r: inout JSONReader, k: String) throws(JSONFieldError) in try r.double(k, in: range) }) {
            case .absent: return current
            case .clear: return 0
            case .set(let value): return value
            }
        }
        func integer(_ key: String, _ range: ClosedRange<Int>, _ current: Int, cleared: Int) throws(JSONFieldError) -> Int {
            switch try reader.patch(key, { (r: inout JSONReader, k: String) throws(JSONFieldError) in try r.int(k, in: range) }) {
            case .absent: return current
            case .clear: return cleared
            case .set(let value): return value
            }
        }
        next.delayMs = try number("delay_ms", 0...60_000, delayMs)
        next.jitterMs = try number("jitter_ms", 0...60_000, jitterMs)
        next.lossPercent = try number("loss_pct", 0...100, lossPercent)
        next.lossBurst = try number("loss_burst", 0...100_000, lossBurst)
        next.duplicatePercent = try number("dup_pct", 0...100, duplicatePercent)
        next.rateKbit = try number("rate_kbit", 0...100_000_000, rateKbit)
        next.queueFrames = try integer("queue_frames", 1...1_000_000, queueFrames, cleared: 1000)
        next.mtu = try integer("mtu", 0...65535, mtu, cleared: 0)
        next.bitErrorRate = try number("ber", 0...1, bitErrorRate)
        next.reorderPercent = try number("reorder_pct", 0...100, reorderPercent)
        if reader.contains("jitter_distribution") {
            if reader.object["jitter_distribution"]?.isNull == true {
                _ = reader.value("jitter_distribution")
                next.jitterDistribution = .uniform
            } else {
                let text = try reader.string("jitter_distribution")
                guard let distribution = JitterDistribution(rawValue: text) else {
                    throw JSONFieldError(path: reader.path.isEmpty ? "jitter_distribution" : reader.path + ".jitter_distribution",
                                         rule: "must be \"uniform\" or \"normal\", not \(text)")
                }
                next.jitterDistribution = distribution
            }
        }
        return next
    }
}

extension CableCounters {
    public var json: JSONObject {
        var drops = JSONObject()
        for cause in CableDropCause.allCases { drops[cause.rawValue] = JSON(self.drops[cause] ?? 0) }
        return ["frames_in": JSON(framesIn), "bytes_in": JSON(bytesIn), "frames_out": JSON(framesOut), "bytes_out": JSON(bytesOut),
                "duplicated": JSON(duplicated), "corrupted": JSON(corrupted), "reordered": JSON(reordered), "drops": .object(drops)]
    }
}
