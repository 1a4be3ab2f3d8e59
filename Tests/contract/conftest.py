"""Fixtures for the contract tests: the spec, and a real vsquared on an ephemeral port."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def spec():
    with open(ROOT / "api" / "openapi.yaml") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="session")
def vsquared():
    """Yields the base URL of a running vsquared; stops it and removes its directories afterwards."""
    binary = os.environ.get("VSQUARED_BIN") or str(ROOT / ".build" / "debug" / "vsquared")
    workdir = tempfile.mkdtemp(prefix="vsqc-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VSQUARE_")}
    proc = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--home", f"{workdir}/home", "--run", f"{workdir}/run"],
        stdout=subprocess.PIPE, stderr=open(f"{workdir}/log", "w"), env=env, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://\S+?)/?$", line.strip())
        assert match, f"vsquared did not report its address: {line!r}"
        yield match.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree(workdir, ignore_errors=True)
