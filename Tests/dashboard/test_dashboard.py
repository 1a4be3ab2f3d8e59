"""The dashboard in real headless Chromium, against a real vsquared with two switches, a cable and
two plugged vde_plug clients: the overview and topology show them; the switch view shows ports,
MAC entries and a working filter; a port disabled from the keyboard is disabled in the API; a
cable's impairments change (only the field edited) and it is cut; an API error shows its
problem+json title and detail; the page catches up after vsquared restarts; no horizontal
overflow at 1280x800 or in a narrow window, and no movement during live updates. The labs view:
a document's problem shown under its line, the plan, the lab built and drawn with no label cut
or run into another, a change planned then applied with its generation, a reset with its
duration. The class view: a teacher's grade grid (a student's broken lab failing exactly its
checks), a reset from a student's row, the audit log; a student's token opens on its own lab
alone, where it runs its checks. Screenshots are kept in test-output/dashboard/."""
import json
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from cdp import Browser

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "harness"))
from vsquared_process import VSquared  # noqa: E402
SHOTS = ROOT / "test-output" / "dashboard"


def free_port():
    # Below the ephemeral range, so no outgoing connection takes it between the check and the use.
    while True:
        port = random.randint(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


class Daemon:
    def __init__(self, token=None):
        self.token = token
        self.binary = os.environ.get("VSQUARED_BIN") or str(ROOT / ".build" / "debug" / "vsquared")
        self.workdir = tempfile.mkdtemp(prefix="vsqd-dash-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        env = {}
        if self.token:
            with open(f"{self.workdir}/tokens", "w") as handle:
                handle.write(f"# the dashboard test's token\n{self.token}\n")
            env["VSQUARE_TOKENS"] = f"{self.workdir}/tokens"
        self.process = VSquared(self.binary, self.workdir, listen=f"127.0.0.1:{self.port}", env=env)

    def stop(self):
        if self.process:
            self.process.stop()

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read().decode() or "{}")

    def cleanup(self):
        # Workers outlive vsquared by design: everything started from this directory ends too.
        if self.process:
            self.process.cleanup()
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def plug(directory, mac):
    """A real VDE client (Debian's vde_plug) that announces `mac` with one broadcast frame."""
    process = subprocess.Popen(["vde_plug", f"vde://{directory}"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    announce(process, mac)
    return process


def announce(process, mac):
    """One broadcast frame from `mac` through a vde_plug started by `plug`."""
    frame = bytes(6 * [0xFF]) + bytes.fromhex(mac.replace(":", "")) + b"\x88\xb5" + b"vsquare dashboard test".ljust(46, b".")
    process.stdin.write(struct.pack(">H", len(frame)) + frame)
    process.stdin.flush()


@pytest.fixture
def lab():
    daemon = Daemon()
    clients = []
    try:
        daemon.start()
        assert daemon.request("POST", "/v1/switches", {"name": "sw-a", "ports": 8})[0] == 201
        assert daemon.request("POST", "/v1/switches", {"name": "sw-b", "ports": 8})[0] == 201
        assert daemon.request("POST", "/v1/cables", {"name": "c1", "a": {"switch": "sw-a"}, "b": {"switch": "sw-b"},
                                                     "impairments": {"delay_ms": 5}})[0] == 201
        directory = daemon.request("GET", "/v1/switches/sw-a")[1]["plug_url"].removeprefix("vde://")
        clients = [plug(directory, "02:00:00:00:0d:01"), plug(directory, "02:00:00:00:0d:02")]
        yield daemon
    finally:
        for client in clients:
            client.kill()
            client.wait()
        daemon.cleanup()


@pytest.fixture
def browser():
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser = Browser()
    try:
        yield browser
    finally:
        browser.close()


def no_horizontal_overflow(browser):
    return browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_dashboard_shows_and_drives_the_network(lab, browser):
    browser.navigate(lab.base + "/#/")
    browser.wait_for("document.querySelectorAll('tr[data-key=\"sw-a\"], tr[data-key=\"sw-b\"]').length === 2", message="switches not listed")
    browser.wait_for("document.querySelectorAll('svg.topology a.switch').length === 2 && document.querySelectorAll('svg.topology a.cable').length === 1")
    browser.wait_for("document.getElementById('stream-status').dataset.state === 'live'")
    assert "delay 5 ms" in browser.evaluate("document.querySelector('tr[data-key=\"c1\"]').textContent")
    assert browser.evaluate("document.querySelector('tr[data-key=\"sw-a\"]').textContent").count("3 / 8") == 1  # 2 clients + the cable
    assert no_horizontal_overflow(browser)
    browser.screenshot(SHOTS / "overview-1280x800.png")

    # Live updates rewrite text in place: nothing moves between two refreshes.
    layout = "JSON.stringify([...document.querySelectorAll('main section')].map(e => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }))"
    before = browser.evaluate(layout)
    time.sleep(2.5)
    assert browser.evaluate(layout) == before

    # An API error shows the problem's title and detail.
    browser.focus("form[aria-label='Create a switch'] input[name=name]")
    browser.type("sw-a")
    browser.press("Enter")
    problem = browser.wait_for("document.querySelector('.problem[data-code=name_taken]')?.textContent")
    assert "Name taken" in problem and "sw-a" in problem

    # The switch view: ports with their clients, the MAC table and its filter.
    directory = lab.request("GET", "/v1/switches/sw-a")[1]["plug_url"].removeprefix("vde://")
    browser.navigate(lab.base + "/#/switches/sw-a")
    browser.wait_for("document.querySelectorAll('table.macs tbody tr').length === 2", message="MAC entries not shown")
    browser.wait_for("[...document.querySelectorAll('table.ports tbody tr')].filter(r => r.textContent.includes('vdeplug')).length === 2")
    assert browser.evaluate("document.querySelectorAll('table.matrix tbody tr').length") == 8
    browser.focus("input.filter")
    browser.type("0d:02")
    browser.wait_for("document.querySelectorAll('table.macs tbody tr').length === 1")
    macs = lab.request("GET", "/v1/switches/sw-a/macs")[1]["macs"]
    port = next(entry["port"] for entry in macs if entry["mac"] == "02:00:00:00:0d:02")
    assert browser.evaluate("document.querySelector('table.macs tbody tr').cells[2].textContent") == str(port)
    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot(SHOTS / "switch-1280x800.png")

    # Capture that port for 2 s from its row while a third client plugs in (its broadcast reaches the port):
    # the page saves a pcap (the file's header, and the frame counted) and says how many frames it holds.
    browser.evaluate("document.querySelector('form.capture input[name=duration_s]').value = '2'")
    browser.click(f"document.querySelector(\"button[aria-label='Capture port {port}']\")", "the port's Capture button")
    browser.wait_for("document.querySelector('form.capture .capture-status')?.textContent.startsWith('Capturing')")
    third = plug(directory, "02:00:00:00:0d:03")
    try:
        # "Capturing" shows when the request leaves the page, maybe before the worker's tap is in place:
        # a second broadcast half a second later lands inside the 2 s whatever the load.
        time.sleep(0.5)
        announce(third, "02:00:00:00:0d:03")
        frames = browser.wait_for("document.querySelector('form.capture .capture-status a[download]')?.dataset.frames", timeout=10,
                                  message="the capture was not saved")
        assert int(frames) >= 1, frames
        link = browser.evaluate("document.querySelector('form.capture a[download]').download")
        assert link == f"sw-a-port{port}.pcap"
        magic = browser.evaluate("fetch(document.querySelector('form.capture a[download]').href).then(r => r.arrayBuffer())"
                                 ".then(b => [...new Uint8Array(b.slice(0, 4))].map(x => x.toString(16).padStart(2, '0')).join(''))")
        assert magic == "d4c3b2a1", magic
        browser.screenshot(SHOTS / "switch-capture-1280x800.png")
    finally:
        third.kill()
        third.wait()

    # Disable that port from the keyboard; the API sees it.
    browser.focus(f"button[aria-label='Disable port {port}']")
    browser.press("Enter")
    deadline = time.time() + 10
    while lab.request("GET", f"/v1/switches/sw-a/ports/{port}")[1]["enabled"] and time.time() < deadline:
        time.sleep(0.1)
    assert lab.request("GET", f"/v1/switches/sw-a/ports/{port}")[1]["enabled"] is False
    browser.wait_for(f"!!document.querySelector(\"button[aria-label='Enable port {port}']\")")

    # The cable view: PATCH only what was edited, then cut.
    browser.navigate(lab.base + "/#/cables/c1")
    browser.wait_for("document.querySelector('input[name=\"a_to_b.delay_ms\"]')?.value === '5'")
    # Real input: a click into the field, its text selected and replaced by typing, a click on the button.
    browser.click("document.querySelector('input[name=\"a_to_b.delay_ms\"]')", "the a_to_b delay field")
    browser.evaluate("document.querySelector('input[name=\"a_to_b.delay_ms\"]').select()")
    browser.type("25")
    browser.click("document.querySelector('form.impairments button[type=submit]')", "the impairments form's submit button")
    deadline = time.time() + 10
    while lab.request("GET", "/v1/cables/c1")[1]["impairments"]["a_to_b"]["delay_ms"] != 25 and time.time() < deadline:
        time.sleep(0.1)
    impairments = lab.request("GET", "/v1/cables/c1")[1]["impairments"]
    assert impairments["a_to_b"]["delay_ms"] == 25 and impairments["b_to_a"]["delay_ms"] == 5
    browser.wait_for("document.querySelectorAll('table.counters tbody tr').length >= 8")
    browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Cut')", "the Cut button")
    deadline = time.time() + 10
    while not lab.request("GET", "/v1/cables/c1")[1]["cut"] and time.time() < deadline:
        time.sleep(0.1)
    assert lab.request("GET", "/v1/cables/c1")[1]["cut"] is True
    browser.wait_for("[...document.querySelectorAll('button')].some(b => b.textContent === 'Restore')")
    browser.screenshot(SHOTS / "cable-1280x800.png")
    # The cable's capture: a direction, a filter libpcap refuses (its words shown), then a good one.
    browser.evaluate("(f => { f.querySelector('select[name=direction]').value = 'a_to_b'; f.querySelector('input[name=duration_s]').value = '1';"
                     " f.querySelector('input[name=filter]').value = 'tcp port and'; })(document.querySelector('form.capture'))")
    browser.click("document.querySelector('form.capture button[type=submit]')", "the cable's Capture button")
    problem = browser.wait_for("document.querySelector('.problem[data-code=invalid_filter]')?.textContent", message="no invalid_filter problem")
    assert "syntax error" in problem, problem
    browser.evaluate("document.querySelector('form.capture input[name=filter]').value = 'ether broadcast'")
    browser.click("document.querySelector('form.capture button[type=submit]')", "the cable's Capture button")
    assert browser.wait_for("document.querySelector('form.capture a[download]')?.download", timeout=10) == "c1-a_to_b.pcap"

    # vsquared restarts: the stream reconnects and the page catches up on what changed meanwhile.
    browser.navigate(lab.base + "/#/")
    browser.wait_for("document.getElementById('stream-status').dataset.state === 'live'")
    lab.stop()
    browser.wait_for("document.getElementById('stream-status').dataset.state === 'reconnecting'", message="the page did not notice the restart")
    lab.start()
    assert lab.request("POST", "/v1/switches", {"name": "sw-c"})[0] == 201
    browser.wait_for("document.getElementById('stream-status').dataset.state === 'live'", timeout=20)
    browser.wait_for("!!document.querySelector('tr[data-key=\"sw-c\"]')", message="the page did not catch up after the restart")
    browser.wait_for("document.querySelectorAll('svg.topology a.switch').length === 3")

    # A narrow window: everything still reachable, tables scroll inside their panels.
    browser.resize(420, 900)
    time.sleep(0.3)
    assert no_horizontal_overflow(browser)
    browser.screenshot(SHOTS / "overview-narrow.png")
    assert browser.console == [], f"the page reported errors: {browser.console}"


def test_the_page_asks_for_a_token_once_and_keeps_it_for_the_tab(browser):
    daemon = Daemon(token="dashboard-" + os.urandom(8).hex())
    try:
        daemon.start()
        assert daemon.request("POST", "/v1/switches", {"name": "guarded"})[0] == 201
        browser.navigate(daemon.base + "/#/")
        browser.wait_for("document.getElementById('token-dialog').open", message="no token dialog")
        browser.focus("#token-dialog input")
        browser.type(daemon.token)
        browser.press("Enter")
        browser.wait_for("!!document.querySelector('tr[data-key=\"guarded\"]')", message="the page did not load with the token")
        browser.wait_for("document.getElementById('stream-status').dataset.state === 'live'")
        assert browser.evaluate("sessionStorage.getItem('vsquare.token')") == daemon.token
        # A reload keeps the token (same tab): no second question.
        browser.navigate(daemon.base + "/#/")
        browser.wait_for("!!document.querySelector('tr[data-key=\"guarded\"]')")
        assert not browser.evaluate("document.getElementById('token-dialog').open")
    finally:
        daemon.cleanup()


@pytest.mark.skipif(os.geteuid() != 0, reason="netns stacks need root")
def test_stack_view_runs_a_command(lab, browser):
    status, body = lab.request("POST", "/v1/stacks", {"name": f"dash{random.randint(0, 99999)}",
                                                      "interfaces": [{"name": "eth0", "switch": "sw-b", "addresses": ["10.207.0.1/24"]}]})
    assert status == 201, body
    stack = body["name"]
    try:
        browser.navigate(f"{lab.base}/#/stacks/{stack}")
        browser.wait_for("document.querySelector('main table tbody tr')?.textContent.includes('10.207.0.1/24')", message="addresses not shown")
        browser.focus("input[name=command]")
        browser.type("ip -brief addr show dev eth0; exit 3")
        browser.press("Enter")
        output = browser.wait_for("(t => t.includes('[exit') && t)(document.querySelector('pre.output').textContent)")
        assert "10.207.0.1/24" in output and "[exit 3" in output
        browser.screenshot(SHOTS / "stack-1280x800.png")
    finally:
        lab.request("DELETE", f"/v1/stacks/{stack}")


LAB_DOCUMENT = """description: two LANs, three hosts on each
switches:
  - name: north
    ports: 8
  - name: south
    ports: 8
cables:
  - name: trunk
    a: {switch: north}
    b: {switch: south}
    impairments: {delay_ms: 5}
stacks:
""" + "".join(f"""  - name: host-{side}-{index}
    interfaces: [{{name: eth0, switch: {side}, addresses: [10.210.0.{10 * (side == 'south') + index}/24]}}]
""" for side in ("north", "south") for index in (1, 2, 3))


def set_document(browser, selector, text):
    browser.evaluate(f"(e => {{ e.value = {json.dumps(text)}; e.dispatchEvent(new Event('input')); }})(document.querySelector({json.dumps(selector)}))")


def labels_inside_the_drawing(browser):
    """The labels of the drawing that are cut at its edges or run into another one (none, we hope)."""
    return browser.evaluate("""(() => {
      const svg = document.querySelector('svg.topology'); const box = svg.viewBox.baseVal;
      const texts = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBBox()]);
      const cut = texts.filter(([, b]) => b.x < box.x || b.y < box.y || b.x + b.width > box.x + box.width || b.y + b.height > box.y + box.height);
      const overlapping = texts.filter(([, a], i) => texts.some(([, b], j) => i !== j
        && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height));
      return [...cut.map(([t]) => 'cut: ' + t), ...overlapping.map(([t]) => 'overlaps: ' + t)]; })()""")


@pytest.mark.skipif(os.geteuid() != 0, reason="netns stacks need root")
def test_labs_view_checks_plans_applies_and_resets(browser):
    daemon = Daemon()
    try:
        daemon.start()
        browser.navigate(daemon.base + "/#/labs")
        browser.wait_for("!!document.querySelector('textarea.document')", message="no document editor")
        # The first refresh has filled the list (so nothing moves under the clicks below).
        browser.wait_for("document.querySelector('table.labs').closest('.table-wrap').dataset.empty === 'No labs yet.'")
        browser.evaluate("document.querySelector('input[name=name]').value = 'class1'")
        # A document with a problem: shown under the line it points at, and nothing is made.
        broken = LAB_DOCUMENT.replace("switch: south, addresses: [10.210.0.13", "switch: ghost, addresses: [10.210.0.13")
        line = next(number for number, text in enumerate(broken.split("\n"), 1) if "ghost" in text)
        set_document(browser, "textarea.document", broken)
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Check and plan')", "Check and plan")
        browser.wait_for("!!document.querySelector('.problem-line[data-code=unknown_switch]')", message="the problem was not shown")
        assert browser.evaluate("document.querySelector('.problem-line[data-code=unknown_switch]').closest('ol.source > li').value") == line
        assert daemon.request("GET", "/v1/labs")[1]["labs"] == []
        browser.screenshot(SHOTS / "labs-problem-1280x800.png")

        # The plan, then the lab.
        set_document(browser, "textarea.document", LAB_DOCUMENT)
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Check and plan')", "Check and plan")
        browser.wait_for("document.querySelectorAll('ol.steps > li[data-action=create]').length === 9", message="no plan")
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Create lab')", "Create lab")
        browser.wait_for("location.hash === '#/labs/class1'", timeout=30)
        browser.wait_for("document.querySelector('.lab-summary')?.dataset.state === 'ready'", timeout=30, message="the lab never showed ready")
        browser.wait_for("document.querySelectorAll('table.members.stacks tbody tr').length === 6")
        browser.wait_for("document.querySelectorAll('svg.topology a.stack').length === 6 && document.querySelectorAll('svg.topology a.switch').length === 2")
        assert labels_inside_the_drawing(browser) == []
        assert no_horizontal_overflow(browser)
        browser.screenshot(SHOTS / "lab-1280x800.png")

        # A change: planned first (old → new), then applied with the generation it was read at.
        browser.wait_for("document.querySelector('textarea.document').value.includes('\"delay_ms\": 5')")
        edited = browser.evaluate("document.querySelector('textarea.document').value").replace('"delay_ms": 5', '"delay_ms": 40')
        set_document(browser, "textarea.document", edited)
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Plan changes')", "Plan changes")
        step = browser.wait_for("document.querySelector('ol.steps > li[data-action=change]')?.textContent")
        assert "trunk" in step and "impairments" in step and "40" in step, step
        assert daemon.request("GET", "/v1/cables/class1-trunk")[1]["impairments"]["a_to_b"]["delay_ms"] == 5
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Apply')", "Apply")
        browser.wait_for("document.querySelector('.lab-summary').textContent.includes('generation 2')", timeout=30)
        assert daemon.request("GET", "/v1/cables/class1-trunk")[1]["impairments"]["a_to_b"]["delay_ms"] == 40

        # Reset: it says how long it took.
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Reset lab')", "Reset lab")
        done = browser.wait_for("document.querySelector('.reset-done')?.textContent", timeout=30)
        assert re.search(r"ready again in \d+ ms", done), done
        browser.wait_for("document.querySelector('.lab-summary')?.dataset.state === 'ready'", timeout=30)

        # The overview draws the same members: no label cut at its edges either.
        browser.navigate(daemon.base + "/#/")
        browser.wait_for("document.querySelectorAll('svg.topology a.stack').length === 6")
        assert labels_inside_the_drawing(browser) == []

        # The list.
        browser.navigate(daemon.base + "/#/labs")
        browser.wait_for("document.querySelector('table.labs tr[data-key=class1]')?.textContent.includes('6 / 9') === false "
                         "&& document.querySelector('table.labs tr[data-key=class1]')?.textContent.includes('9 / 9 running')")
        assert browser.console == [], f"the page reported errors: {browser.console}"
    finally:
        daemon.request("DELETE", "/v1/labs/class1")
        daemon.cleanup()


EXPERIMENT_DOCUMENT = """description: a ping, a cut and a command that fails
max_parallel: 2
topology:
  switches:
    - name: left
    - name: right
  cables:
    - name: wire
      a: {switch: left}
      b: {switch: right}
  stacks:
    - name: a
      interfaces: [{name: eth0, switch: left, addresses: [10.230.0.1/24]}]
    - name: b
      interfaces: [{name: eth0, switch: right, addresses: [10.230.0.2/24]}]
tasks:
  - id: up
    action: wait_until
    host: a
    ping: 10.230.0.2
    timeout_s: 10
  - id: tap
    after: [up]
    action: capture_start
    cable: wire
    filter: icmp
  - id: ping
    after: [tap]
    hosts: [a]
    argv: [ping, -n, -c, "2", -i, "0.2", 10.230.0.2]
  - id: cut
    after: [ping]
    action: cut
    cable: wire
  - id: lost
    after: [cut]
    hosts: [b]
    argv: [ping, -n, -c, "1", -W, "1", 10.230.0.1]
    expect: {fail: true}
  - id: doomed
    after: [up]
    hosts: [b]
    argv: [sh, -c, "echo about to fail; exit 3"]
  - id: never
    after: [doomed]
    hosts: [a]
    argv: ["true"]
  - id: untap
    after: [ping]
    action: capture_stop
    capture: tap
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="netns stacks need root")
def test_experiments_view_runs_and_shows_the_graph_timeline_output_and_report(browser):
    daemon = Daemon()
    try:
        daemon.start()
        browser.navigate(daemon.base + "/#/experiments")
        browser.wait_for("document.querySelector('table.experiments').closest('.table-wrap').dataset.empty === 'No experiments yet.'")
        browser.evaluate("document.querySelector('input[name=name]').value = 'exp1'")
        # A cycle: refused, shown under the line it points at.
        cyclic = EXPERIMENT_DOCUMENT.replace("  - id: up\n    action: wait_until", "  - id: up\n    after: [never]\n    action: wait_until")
        set_document(browser, "textarea.document", cyclic)
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Create experiment')", "Create experiment")
        message = browser.wait_for("document.querySelector('.problem-line[data-code=cycle]')?.textContent", message="the cycle was not shown")
        assert "→" in message, message
        assert daemon.request("GET", "/v1/experiments")[1]["experiments"] == []

        set_document(browser, "textarea.document", EXPERIMENT_DOCUMENT)
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Create experiment')", "Create experiment")
        browser.wait_for("location.hash === '#/experiments/exp1'", timeout=15)
        browser.wait_for("document.querySelectorAll('svg.task-graph g.task').length === 8", message="no task graph")
        assert browser.evaluate("document.querySelectorAll('svg.task-graph path.edge').length") == 7
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Start run')", "Start run")
        browser.wait_for("['passed', 'failed'].includes(document.querySelector('.run-summary')?.dataset.state)", timeout=60,
                         message="the run never ended")
        statuses = browser.evaluate("Object.fromEntries([...document.querySelectorAll('svg.task-graph g.task')].map(g => [g.dataset.task, g.dataset.status]))")
        assert statuses == {"up": "passed", "tap": "passed", "ping": "passed", "untap": "passed", "cut": "passed", "lost": "passed",
                            "doomed": "failed", "never": "skipped"}, statuses
        assert browser.evaluate("document.querySelector('.run-summary').dataset.state") == "failed"
        assert browser.evaluate("document.querySelectorAll('.timeline-row').length") == 8
        assert browser.evaluate("document.querySelectorAll('.timeline-row .bar').length") == 7
        # A task's output and verdicts.
        browser.click("document.querySelector('.timeline-row[data-task=doomed]')", "the doomed task")
        text = browser.wait_for("document.querySelector('.task-output pre.stdout')?.textContent")
        assert "about to fail" in text, text
        verdict = browser.evaluate("document.querySelector('.task-output ul.verdicts li.failed')?.textContent")
        assert "exit_code" in verdict and "3" in verdict, verdict
        # The capture task's pcap: named with its frames, and the button saves the file the run kept.
        browser.click("document.querySelector('.timeline-row[data-task=tap]')", "the capture task")
        kept = browser.wait_for("document.querySelector('.task-output .capture-file')?.textContent", message="no capture file shown")
        assert kept.startswith("Download tap.pcap") and "4 frames, 0 dropped" in kept, kept
        browser.evaluate("window.saved = []; HTMLAnchorElement.prototype.click = function () {"
                         " const name = this.download; fetch(this.href).then(r => r.arrayBuffer()).then(b => window.saved.push("
                         "[name, [...new Uint8Array(b.slice(0, 4))].map(x => x.toString(16).padStart(2, '0')).join(''), b.byteLength])); }")
        browser.click("document.querySelector('.task-output .capture-file button')", "Download tap.pcap")
        saved = browser.wait_for("window.saved.length && window.saved[0]", message="the pcap was not saved")
        assert saved[0] == "tap.pcap" and saved[1] == "d4c3b2a1" and saved[2] > 24 + 4 * 16, saved
        browser.click("document.querySelector('.timeline-row[data-task=doomed]')", "the doomed task")
        assert browser.evaluate("document.querySelector('button[hidden]')?.textContent") == "Cancel run"
        assert browser.evaluate("!document.querySelector('.actions button:not([hidden])')") is False
        assert browser.evaluate("[...document.querySelectorAll('button')].find(b => b.textContent === 'Download report').hidden") is False
        assert browser.evaluate("document.querySelector('table.runs tbody tr')?.textContent").startswith("#1")
        assert no_horizontal_overflow(browser)
        browser.screenshot(SHOTS / "experiment-1280x800.png")
        # The report the button downloads is the run's.
        report = daemon.request("GET", "/v1/experiments/exp1/runs/1/report")[1]
        assert report["state"] == "failed" and [task["status"] for task in report["repetitions"][0]["tasks"] if task["id"] == "doomed"] == ["failed"]
        assert [capture["file"] for capture in report["repetitions"][0]["captures"]] == ["tap.pcap"]
        browser.navigate(daemon.base + "/#/experiments")
        browser.wait_for("document.querySelector('table.experiments tr[data-key=exp1]')?.textContent.includes('#1 failed')")
        assert browser.console == [], f"the page reported errors: {browser.console}"
    finally:
        daemon.request("DELETE", "/v1/experiments/exp1")
        daemon.cleanup()


CLASS_TEMPLATE = {
    "switches": [{"name": "lan", "ports": 4}],
    "stacks": [{"name": "h1", "interfaces": [{"name": "eth0", "switch": "lan", "addresses": ["10.9.0.1/24"]}]},
               {"name": "h2", "interfaces": [{"name": "eth0", "switch": "lan", "addresses": ["10.9.0.2/24"]}]}],
    "checks": [{"id": "h1-h2", "description": "h1 reaches h2", "points": 2, "reach": {"from": "h1", "to": "h2", "count": 1}},
               {"id": "h2-up", "host": "h2", "argv": ["ip", "link", "show", "eth0", "up"], "expect": {"stdout": "eth0"}}],
}


@pytest.mark.skipif(os.geteuid() != 0, reason="netns stacks need root")
def test_class_view_grades_resets_and_audits_and_a_student_sees_only_its_lab(browser):
    daemon = Daemon(token="dashboard-" + os.urandom(8).hex())
    try:
        daemon.start()
        status, made = daemon.request("POST", "/v1/classes", {"name": "dash", "template": CLASS_TEMPLATE,
                                                             "students": [{"id": "ann", "name": "Ann"}, {"id": "ben", "name": "Ben"}]})
        assert status == 201, made
        ann = next(t["token"] for t in made["tokens"] if t["student"] == "ann")
        status, teacher = daemon.request("POST", "/v1/tokens", {"name": "teacher", "role": "teacher", "scope": {"classes": ["dash"]}})
        assert status == 201, teacher

        # The teacher's class view: a row a student, a column a check.
        browser.navigate(daemon.base + "/#/")
        browser.evaluate(f"sessionStorage.setItem('vsquare.token', {json.dumps(teacher['token'])})")
        browser.navigate(daemon.base + "/#/classes/dash")
        browser.wait_for("document.querySelector('.class-summary')?.dataset.state === 'ready'", timeout=30, message="the class never showed ready")
        browser.wait_for("document.querySelectorAll('table.grades tbody tr').length === 2", message="no grade grid")
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Run checks')", "Run checks")
        browser.wait_for("!!document.querySelector('.checks-done')", timeout=30, message="the checks never ended")
        browser.wait_for("document.querySelectorAll('table.grades .check.passed').length === 4", message="not every check passed")
        # Ben breaks his lab: only his h1-h2 and h2-up fail, Ann's pass.
        status, ran = daemon.request("POST", "/v1/stacks/dash-ben-h2/exec", {"argv": ["ip", "link", "set", "eth0", "down"]})
        assert status == 200 and ran["exit_code"] == 0, ran
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Run checks')", "Run checks")
        browser.wait_for("document.querySelectorAll('table.grades tr[data-key=ben] .check.failed').length === 2", timeout=30,
                         message="ben's failures were not shown")
        assert browser.evaluate("document.querySelectorAll('table.grades tr[data-key=ann] .check.passed').length") == 2
        assert "0 / 3" in browser.evaluate("document.querySelector('table.grades tr[data-key=ben]').textContent")
        browser.screenshot(SHOTS / "class-1280x800.png")
        assert no_horizontal_overflow(browser)
        # His reset, from his row; then his checks pass again.
        browser.click("document.querySelector('table.grades tr[data-key=ben] button')", "ben's Reset")
        browser.wait_for("!!document.querySelector('.reset-done')", timeout=30, message="the reset never ended")
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Run checks')", "Run checks")
        browser.wait_for("document.querySelectorAll('table.grades .check.passed').length === 4", timeout=30, message="ben's lab was not reset")
        # The audit log: who ran the exec, and the teacher's checks and reset.
        browser.wait_for("[...document.querySelectorAll('table.audit tbody tr')].some(r => r.textContent.includes('POST /v1/classes/dash/reset'))",
                         message="the reset is not in the audit log")
        assert browser.evaluate("[...document.querySelectorAll('table.audit tbody tr')].some(r => r.textContent.includes('/v1/stacks/dash-ben-h2/exec'))")

        # A student's token: the page opens on her lab alone.
        browser.evaluate(f"sessionStorage.setItem('vsquare.token', {json.dumps(ann)})")
        browser.navigate(daemon.base + "/")
        browser.wait_for("location.hash === '#/labs/dash-ann'", message="the student was not taken to her lab")
        assert browser.evaluate("document.querySelector('header nav a[data-nav=classes]').hidden")
        browser.wait_for("document.querySelectorAll('table.lab-checks tbody tr').length === 2", message="no checks in her lab")
        browser.click("[...document.querySelectorAll('button')].find(b => b.textContent === 'Run checks')", "Run checks")
        browser.wait_for("document.querySelector('.checks-summary').textContent.includes('3 of 3 points')", timeout=30, message="her checks did not run")
        browser.screenshot(SHOTS / "student-lab-1280x800.png")
        # Nothing of Ben's anywhere on her page, and no button she would be refused.
        assert "dash-ben" not in browser.evaluate("document.body.textContent")
        assert browser.evaluate("[...document.querySelectorAll('button')].filter(b => !b.hidden).map(b => b.textContent)"
                                ".filter(t => ['Apply', 'Plan changes', 'Delete lab'].includes(t)).length") == 0
        assert browser.console == [], f"the page reported errors: {browser.console}"
    finally:
        daemon.request("DELETE", "/v1/classes/dash")
        daemon.cleanup()


class Broadcaster:
    """A real VDE client (Debian's vde_plug) sending `rate` broadcast frames a second until stopped."""

    def __init__(self, directory, mac, rate=100):
        import threading
        self.process = subprocess.Popen(["vde_plug", f"vde://{directory}"], stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        frame = bytes(6 * [0xFF]) + bytes.fromhex(mac.replace(":", "")) + b"\x88\xb5" + b"vsquare traffic plot".ljust(200, b".")
        self.packet = struct.pack(">H", len(frame)) + frame
        self.interval = 1 / rate
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped.wait(self.interval):
            try:
                self.process.stdin.write(self.packet)
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError):
                return

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=5)
        self.process.kill()
        self.process.wait()


def test_spanning_tree_on_the_drawing_and_traffic_plots(browser):
    """Three switches in a loop with the spanning tree on, broadcasts flowing: the overview dashes the
    one blocked cable, the switch view names the root bridge and each port's role, and the switch,
    port and cable views plot frames/s and bit/s each way with drops stacked by cause (the blocked
    port's own, `blocked`)."""
    daemon = Daemon()
    sender = None
    try:
        daemon.start()
        tree = {"enabled": True, "hello_s": 1, "max_age_s": 6, "forward_delay_s": 4}
        for name, priority in (("t1", 4096), ("t2", 8192), ("t3", 32768)):
            assert daemon.request("POST", "/v1/switches", {"name": name, "ports": 8, "stp": {**tree, "priority": priority}})[0] == 201
        for name, a, b in (("t12", "t1", "t2"), ("t13", "t1", "t3"), ("t23", "t2", "t3")):
            assert daemon.request("POST", "/v1/cables", {"name": name, "a": {"switch": a}, "b": {"switch": b}})[0] == 201
        # t1 is the root and t2 the next: t3's port towards t2 blocks, so the cable t23 is the blocked one.
        deadline = time.time() + 20
        blocked = []
        while time.time() < deadline:
            blocked = [(name, port) for name in ("t1", "t2", "t3")
                       for port in (daemon.request("GET", f"/v1/switches/{name}")[1]["stp"]["blocked_ports"] or [])]
            if len(blocked) == 1:
                break
            time.sleep(0.2)
        assert len(blocked) == 1, blocked
        switch, port = blocked[0]
        plugs = {endpoint["description"]: entry["port"] for entry in daemon.request("GET", f"/v1/switches/{switch}/ports")[1]["ports"]
                 for endpoint in entry["endpoints"]}
        blocked_cable = next(name for name in ("t12", "t13", "t23") if plugs.get(f"vsquare-cable: {name}") == port)
        directory = daemon.request("GET", "/v1/switches/t1")[1]["plug_url"].removeprefix("vde://")
        sender = Broadcaster(directory, "02:00:00:00:0e:01")

        browser.navigate(daemon.base + "/#/")
        browser.wait_for("document.querySelectorAll('svg.topology a.cable').length === 3")
        label = browser.wait_for("[...document.querySelectorAll('svg.topology a.cable.blocked')].map(a => a.getAttribute('aria-label')).join('|')",
                                 message="no cable drawn as blocked")
        assert label.startswith(f"cable {blocked_cable}") and "|" not in label, label
        assert browser.evaluate("getComputedStyle(document.querySelector('svg.topology a.cable.blocked line')).strokeDasharray") != "none"
        browser.screenshot(SHOTS / "overview-stp-1280x800.png")

        # The switch with the blocked port: the root bridge in its summary, each port's role and state, the plots.
        root = daemon.request("GET", "/v1/switches/t1")[1]["stp"]["bridge_id"]
        browser.navigate(f"{daemon.base}/#/switches/{switch}")
        summary = browser.wait_for(f"(t => t.includes('root bridge') && t)(document.querySelector('p.summary').textContent)")
        assert root in summary and "root port" in summary, summary
        row = browser.wait_for(f"document.querySelector('table.ports tr[data-key=\"{port}\"]')?.textContent")
        assert "alternate · discarding" in row, row
        browser.screenshot(SHOTS / "switch-stp-1280x800.png")
        # Frames/s: a line each way with the broadcasts' rate on its scale; drops: the blocked port's, stacked.
        browser.wait_for("document.querySelectorAll('svg.traffic g[data-chart=\"Frames/s\"] polyline.line').length === 2", timeout=20,
                         message="no frames/s lines")
        browser.wait_for("!!document.querySelector('svg.traffic g[data-chart=\"Drops/s by cause\"] polygon[data-series=blocked]')", timeout=20,
                         message="no blocked drops stacked")
        # Five readings drawn (ten seconds of them), for a picture worth looking at.
        browser.wait_for("document.querySelector('svg.traffic g[data-chart=\"Frames/s\"] polyline.line').points.length >= 5", timeout=20)
        scale = float(browser.evaluate("document.querySelector('svg.traffic g[data-chart=\"Frames/s\"]').dataset.max"))
        assert scale >= 50, scale
        browser.evaluate("window.scrollTo(0, document.querySelector('svg.traffic').getBoundingClientRect().top + window.scrollY - 200)")
        browser.screenshot(SHOTS / "switch-traffic-1280x800.png")
        # One port: the blocked one drops what it receives, and sends nothing but BPDUs.
        browser.evaluate(f"(s => {{ s.value = '{port}'; s.dispatchEvent(new Event('change')); }})(document.querySelector('select[name=traffic-of]'))")
        assert browser.evaluate("document.querySelector('svg.traffic').getAttribute('aria-label')").startswith(f"Traffic of port {port} of {switch}")
        assert browser.evaluate("!!document.querySelector('svg.traffic polygon[data-series=blocked]')")
        assert no_horizontal_overflow(browser)

        # A forwarding cable from t1: what it delivers each way.
        forwarding = next(name for name in ("t12", "t13") if name != blocked_cable)
        browser.navigate(f"{daemon.base}/#/cables/{forwarding}")
        browser.wait_for("document.querySelectorAll('svg.traffic g[data-chart=\"Bit/s\"] polyline.line').length === 2", timeout=20,
                         message="no bit/s lines on the cable")
        browser.wait_for("Number(document.querySelector('svg.traffic g[data-chart=\"Frames/s\"]').dataset.max) >= 50", timeout=10)
        legend = browser.evaluate("[...document.querySelectorAll('svg.traffic g[data-chart=\"Frames/s\"] .legend text')].map(t => t.textContent).join(',')")
        assert legend == "a → b,b → a", legend
        browser.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        browser.screenshot(SHOTS / "cable-traffic-1280x800.png")
        assert browser.console == [], f"the page reported errors: {browser.console}"
    finally:
        if sender:
            sender.stop()
        daemon.cleanup()
