"""schemathesis, driven by api/openapi.yaml, against a live vsquared with every check it has: no
5xx but a documented 503, every answer matching its schema and documented status, every valid
request accepted (or refused as impossible here, 422) and every invalid one refused. Settings are
in schemathesis.toml beside this file (fixed seed, bounded examples); the report is written to
test-output/fuzz/. Every operation in the spec is fuzzed, so new routes are covered as they come; fuzz_hooks.py
gives each capture a short duration (a pcap stream lasts as long as its capture)."""
import os
import pathlib
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def make_fixtures(daemon):
    """The resources schemathesis.toml aims reads and changes at."""
    for body in ({"name": "fz", "ports": 32}, {"name": "fz2", "ports": 32}):
        status, answer = daemon.request("POST", "/v1/switches", body)
        assert status == 201, answer
    status, answer = daemon.request("POST", "/v1/cables", {"name": "fz", "a": {"switch": "fz"}, "b": {"switch": "fz2"}})
    assert status == 201, answer
    # An experiment of control tasks only: runs of it build two switches and a cable, then go.
    status, answer = daemon.request("POST", "/v1/experiments", {"name": "fz", "document": {
        "topology": {"switches": [{"name": "s1"}, {"name": "s2"}], "cables": [{"name": "c", "a": {"switch": "s1"}, "b": {"switch": "s2"}}]},
        "tasks": [{"id": "cut", "action": "cut", "cable": "c"}, {"id": "back", "after": ["cut"], "action": "restore", "cable": "c"}]}})
    assert status == 201, answer
    # A class of one student whose lab is one switch: class reads, resets and checks reach a real lab.
    status, answer = daemon.request("POST", "/v1/classes", {"name": "fz", "template": {"switches": [{"name": "s"}]},
                                                            "students": [{"id": "a"}]})
    assert status == 201, answer
    if os.geteuid() == 0:
        status, answer = daemon.request("POST", "/v1/stacks", {
            "name": "fz", "interfaces": [{"name": "eth0", "switch": "fz", "addresses": ["10.250.0.1/24"]}]})
        assert status == 201, answer


def test_the_fuzzer_finds_nothing(daemon):
    make_fixtures(daemon)
    out = ROOT / "test-output" / "fuzz"
    out.mkdir(parents=True, exist_ok=True)
    binary = ROOT / ".venv" / "bin" / "schemathesis"
    command = [str(binary), "--no-color", "--config-file", str(HERE / "schemathesis.toml"), "run",
               str(ROOT / "api" / "openapi.yaml"), "--url", daemon.url, "--checks", "all", "--report", "junit",
               "--report-junit-path", str(out / "junit.xml")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1500,
                            env={**os.environ, "SCHEMATHESIS_HOOKS": str(HERE / "fuzz_hooks.py")})
    (out / "output.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, "schemathesis found failures (test-output/fuzz/output.txt):\n" + result.stdout[-12000:]
    # The daemon survived it all.
    status, health = daemon.request("GET", "/v1/health")
    assert status == 200 and health["status"] == "ok"
