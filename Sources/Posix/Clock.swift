// Clock readings: monotonic time for durations and deadlines, wall time for timestamps (RFC 3339).
import Glibc

public enum Clock {
    /// Nanoseconds on the monotonic clock: only differences mean anything.
    public static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds since the Unix epoch, with sub-second precision.
    public static func wallSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// `seconds` since the epoch as RFC 3339 UTC with milliseconds, e.g. `2026-11-21T20:19:48.123Z`.
    public static func rfc3339(_ seconds: Double) -> String {
        // To the nearest millisecond: a time read back by parseRFC3339 is written again as it was.
        let total = Int64((seconds * 1000).rounded())
        var whole = time_t(total.quotientAndRemainder(dividingBy: 1000).quotient - (total % 1000 < 0 ? 1 : 0))
        let millis = Int(total - Int64(whole) * 1000)
        var parts = tm()
        gmtime_r(&whole, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    /// The seconds since the epoch of an RFC 3339 time (`rfc3339` writes one): `Z` or a ±HH:MM
    /// offset, an optional fraction; nil for anything else.
    public static func parseRFC3339(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            guard range.upperBound <= bytes.count, range.allSatisfy({ (48...57).contains(bytes[$0]) }) else { return nil }
            return Int32(String(decoding: bytes[range], as: UTF8.self))
        }
        func byte(_ index: Int, is characters: String) -> Bool { index < bytes.count && characters.utf8.contains(bytes[index]) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              byte(4, is: "-"), byte(7, is: "-"), byte(10, is: "Tt "), byte(13, is: ":"), byte(16, is: ":"),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var end = 19
        var fraction = 0.0
        if byte(19, is: ".") {
            end = 20
            while end < bytes.count, (48...57).contains(bytes[end]) { end += 1 }
            guard end > 20 else { return nil }
            fraction = Double("0" + String(decoding: bytes[19..<end], as: UTF8.self)) ?? 0
        }
        var offset = 0
        if byte(end, is: "Zz"), end + 1 == bytes.count {
            offset = 0
        } else if byte(end, is: "+-"), end + 6 == bytes.count, byte(end + 3, is: ":"),
                  let hours = number((end + 1)..<(end + 3)), let minutes = number((end + 4)..<(end + 6)), hours < 24, minutes < 60 {
            offset = (Int(hours) * 60 + Int(minutes)) * 60 * (bytes[end] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Double(timegm(&parts)) + fraction - Double(offset)
    }
}
