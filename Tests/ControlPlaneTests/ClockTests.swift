// RFC 3339 times as the API reads and writes them: offsets and fractions read, every time written
// back to the millisecond it was (a filter bound and a stored time then compare as text).
import Posix
import Testing

@Suite struct ClockTests {
    @Test func timesAreReadWithTheirOffsetsAndWrittenBackAsTheyWere() {
        #expect(Clock.parseRFC3339("1970-01-01T00:00:00Z") == 0)
        #expect(Clock.parseRFC3339("1970-01-01T01:30:00+01:30") == 0)
        #expect(Clock.parseRFC3339("1969-12-31T23:00:00.5-01:00") == 0.5)
        #expect(Clock.parseRFC3339("2026-12-03t06:40:34.881z") == Clock.parseRFC3339("2026-12-03T06:40:34.881Z"))
        for text in ["2026-12-03T06:40:34.881Z", "2026-12-03T06:40:34.999Z", "1960-05-01T12:00:00.001Z", "0002-03-22T21:46:13.000Z"] {
            #expect(Clock.parseRFC3339(text).map(Clock.rfc3339) == text, "\(text)")
        }
        for bad in ["yesterday", "2026-12-03", "2026-12-03T06:40:34", "2026-13-03T06:40:34Z", "2026-12-03T06:40:34.Z",
                    "2026-12-03T06:40:34+0100", "2026-12-03X06:40:34Z"] {
            #expect(Clock.parseRFC3339(bad) == nil, "\(bad)")
        }
    }
}
