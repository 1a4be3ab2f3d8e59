"""A real vsquared for the Python suites (contract, dashboard): started with a bounded wait for the
line saying where it serves, stopped so that a hung daemon is killed rather than left, and
cleaned up (workers started from its directory, namespaces with its instance prefix) even when
a step of the stop fails. Its namespace prefix goes into the run's ledger for ops/lib/sweep."""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import urllib.request


class StartFailed(AssertionError):
    pass


def read_line(stream, timeout):
    """One line from `stream` (a text pipe) within `timeout` seconds, or StartFailed."""
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise StartFailed(f"vsquared printed nothing within {timeout} s")
    return stream.readline()


def record_instance(base):
    """Notes the daemon's namespace prefix in the run's ledger (VSQ_TEST_LEDGER); returns it."""
    try:
        with urllib.request.urlopen(base + "/v1/version", timeout=10) as response:
            prefix = f"vsq-{json.loads(response.read())['instance']}-"
    except (OSError, ValueError, KeyError):
        return None
    ledger = os.environ.get("VSQ_TEST_LEDGER")
    if ledger:
        with open(ledger, "a") as handle:
            handle.write(f"namespace-prefix {prefix}\n")
    return prefix


class VSquared:
    """vsquared on `listen` with its home and run directories under `workdir`."""

    def __init__(self, binary, workdir, listen="127.0.0.1:0", env=None, startup_timeout=30):
        """`env`: extra environment (e.g. VSQUARE_TOKENS)."""
        self.workdir = workdir
        self.namespace_prefix = None
        # The daemon sees only the settings the test gives it, not the developer's own VSQUARE_*.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("VSQUARE_")}
        environment.update(env or {})
        self.process = subprocess.Popen(
            [binary, "--listen", listen, "--home", f"{workdir}/home", "--run", f"{workdir}/run"],
            stdout=subprocess.PIPE, stderr=open(f"{workdir}/log", "a"), env=environment, text=True)
        try:
            line = read_line(self.process.stdout, startup_timeout)
            match = re.search(r"serving (http://\S+?)/?$", line.strip())
            if not match:
                raise StartFailed(f"vsquared did not report its address: {line!r}; log: {self.log()[-2000:]}")
            self.base = match.group(1)
            self.namespace_prefix = record_instance(self.base)
        except BaseException:
            self.kill()
            raise

    def log(self):
        try:
            with open(f"{self.workdir}/log") as handle:
                return handle.read()
        except OSError:
            return ""

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL if it has not exited within `timeout`; its exit status (None if killed)."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self):
        """Stops vsquared (killing it if it hangs), ends what was started from its directory and
        removes its namespaces and the directory. Never raises."""
        try:
            self.stop()
        except Exception:
            self.kill()
        kill_mentioning(self.workdir)
        remove_namespaces(self.namespace_prefix)
        shutil.rmtree(self.workdir, ignore_errors=True)


def kill_mentioning(text):
    """SIGKILLs every process (but us) whose command line contains `text`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if text in handle.read().decode(errors="replace"):
                    os.kill(int(entry), signal.SIGKILL)
        except OSError:
            pass


def remove_namespaces(prefix):
    """Deletes the network namespaces named with `prefix` (a daemon's vsq-<instance>-)."""
    if not prefix or not shutil.which("ip"):
        return
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listed.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(prefix):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
