"""Fixtures for the contract tests: the spec, and a real vsquared on an ephemeral port.

The daemon is torn down so that nothing it made outlives the tests, even when they fail: every
stack, cable and switch is deleted through the API, then any worker left running from its
directories is killed and any namespace with its instance prefix removed."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import pathlib
import urllib.request

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


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
    """Deletes every stack, cable and switch the daemon has."""
    for noun in ("stacks", "cables", "switches"):
        status, listing = api(base, "GET", f"/v1/{noun}")
        for item in (listing or {}).get(noun, []) if status == 200 else []:
            api(base, "DELETE", f"/v1/{noun}/{item['name']}" + ("?force=true" if noun == "switches" else ""))


def kill_leftovers(workdir, namespace_prefix):
    """Kills processes whose command line mentions `workdir`; removes namespaces named with the prefix."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().decode(errors="replace")
        except OSError:
            continue
        if workdir in command:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except ProcessLookupError:
                pass
    if namespace_prefix and shutil.which("ip"):
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for line in listed.splitlines():
            name = line.split()[0] if line.split() else ""
            if name.startswith(namespace_prefix):
                subprocess.run(["ip", "netns", "del", name], capture_output=True)


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
    workdir = tempfile.mkdtemp(prefix="vsqc-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VSQUARE_")}
    home = f"{workdir}/home"
    proc = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--home", home, "--run", f"{workdir}/run"],
        stdout=subprocess.PIPE, stderr=open(f"{workdir}/log", "w"), env=env, text=True)
    prefix = None
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://\S+?)/?$", line.strip())
        assert match, f"vsquared did not report its address: {line!r}"
        base = match.group(1)
        status, version = api(base, "GET", "/v1/version")
        if status == 200:
            prefix = f"vsq-{version['instance']}-"
        yield Daemon(base, workdir, f"{workdir}/log")
        empty(base)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            kill_leftovers(workdir, prefix)
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def vsquared(daemon):
    """The base URL of the running vsquared."""
    return daemon.url
