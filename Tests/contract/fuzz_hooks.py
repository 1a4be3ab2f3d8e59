"""schemathesis hooks for test_fuzz.py. A capture (capturePort, captureCable) is a pcap stream that
lasts as long as the capture: one the fuzzer starts without an end would hold its request until the
request timeout. Each generated capture with a valid `duration_s` (or none) is given a short one, a
value the document also allows, so it ends at once; invalid values are left for the server to refuse."""
import schemathesis

SHORT = 0.2


def valid_duration(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool) and 0 < number <= 86400 and number == number


@schemathesis.hook
def before_call(context, case, **kwargs):
    if not case.operation.path.endswith("/capture"):
        return
    query = dict(case.query or {})
    current = query.get("duration_s")
    if current is None or valid_duration(current):
        query["duration_s"] = SHORT
        case.query = query
