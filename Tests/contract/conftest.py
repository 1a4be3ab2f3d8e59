"""Fixtures for the contract tests: the spec, and a real vsquared on an ephemeral port.

The daemon is torn down so that nothing it made outlives the tests, even when they fail: every
stack, cable and switch is deleted through the API, then (Tests/harness/vsquared_process.py) any
worker left running from its directories is killed and any namespace with its instance prefix
removed."""
import json
import os
import pathlib
import sys
import tempfile
import urllib.request

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "harness"))
from vsquared_process import VSquared  # noqa: E402


@pytest.fixture(scope="session")
def spec():
    with open(ROOT / "api" / "openapi.yaml") as handle:
        return yaml.safe_load(handle)


def api(base, method, path, body=None):
    """(status, parsed JSON or None) of one request; HTTP errors are answers, not exceptions."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw and "json" in response.headers.get("Content-Type", "") else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def empty(base):
    """Deletes every class (its labs and tokens go), experiment (its runs end and tear down), lab, stack, cable and switch the daemon has."""
    for noun in ("classes", "experiments", "labs"):
        status, listing = api(base, "GET", f"/v1/{noun}")
        for item in (listing or {}).get(noun, []) if status == 200 else []:
            api(base, "DELETE", f"/v1/{noun}/{item['name']}")
    for noun in ("stacks", "cables", "switches"):
        status, listing = api(base, "GET", f"/v1/{noun}")
        for item in (listing or {}).get(noun, []) if status == 200 else []:
            api(base, "DELETE", f"/v1/{noun}/{item['name']}" + ("?force=true" if noun == "switches" else ""))


class Daemon:
    def __init__(self, url, workdir, log):
        self.url = url
        self.workdir = workdir
        self.log = log

    def request(self, method, path, body=None):
        return api(self.url, method, path, body)


@pytest.fixture(scope="session")
def daemon():
    """A running vsquared (a Daemon); emptied, stopped and cleaned up afterwards."""
    binary = os.environ.get("VSQUARED_BIN") or str(ROOT / ".build" / "debug" / "vsquared")
    process = VSquared(binary, tempfile.mkdtemp(prefix="vsqc-"))
    try:
        yield Daemon(process.base, process.workdir, f"{process.workdir}/log")
        empty(process.base)
        assert process.stop() == 0, "vsquared did not exit 0 on SIGTERM"
    finally:
        process.cleanup()


@pytest.fixture(scope="session")
def vsquared(daemon):
    """The base URL of the running vsquared."""
    return daemon.url
