"""Clients generated from api/openapi.yaml work, as an orchestration tool would use them: a Python
client from openapi-python-client and pydantic models from datamodel-code-generator, both generated
without a single warning. Through the generated client, a switch, a cable and a stack are created,
read, changed and deleted, and an error is read as a typed Problem; the pydantic models parse what
the daemon answers."""
import importlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SPEC = ROOT / "api" / "openapi.yaml"
BIN = ROOT / ".venv" / "bin"


@pytest.fixture(scope="module")
def generated():
    """A directory holding the generated package `vsquare_client` and module `vsquare_models`."""
    directory = pathlib.Path(tempfile.mkdtemp(prefix="vsq-clients-"))
    # Removed even when generation fails (an assertion before the yield).
    try:
        client = subprocess.run(
            [str(BIN / "openapi-python-client"), "generate", "--path", str(SPEC), "--meta", "none", "--fail-on-warning",
             "--config", str(HERE / "openapi-python-client.yaml"), "--output-path", str(directory / "vsquare_client")],
            capture_output=True, text=True)
        output = client.stdout + client.stderr
        assert client.returncode == 0 and "warning" not in output.lower(), output
        models = subprocess.run(
            [str(BIN / "datamodel-codegen"), "--input", str(SPEC), "--input-file-type", "openapi",
             "--output", str(directory / "vsquare_models.py"), "--output-model-type", "pydantic_v2.BaseModel",
             "--use-annotated", "--formatters", "builtin", "--target-python-version", "3.11"],
            capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "error"})
        output = models.stdout + models.stderr
        assert models.returncode == 0 and "warning" not in output.lower(), output
        sys.path.insert(0, str(directory))
        yield directory
        sys.path.remove(str(directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_the_generated_client_drives_switches_cables_and_stacks(generated, daemon):
    vc = importlib.import_module("vsquare_client")
    from vsquare_client.api.switches import create_switch, get_switch, update_switch, delete_switch
    from vsquare_client.api.cables import create_cable, get_cable, update_cable, delete_cable
    from vsquare_client.api.stacks import create_stack, get_stack, update_stack, delete_stack
    from vsquare_client import models as m

    client = vc.Client(base_url=daemon.url, raise_on_unexpected_status=True)

    for name in ("gc-a", "gc-b"):
        created = create_switch.sync_detailed(client=client, body=m.SwitchCreate(name=name, ports=8))
        assert created.status_code == 201 and isinstance(created.parsed, m.Switch), created.content
    switch = get_switch.sync("gc-a", client=client)
    assert isinstance(switch, m.Switch) and switch.ports == 8 and switch.state == m.WorkerState.RUNNING
    changed = update_switch.sync("gc-a", client=client, body=m.SwitchUpdate(hub=True, mac_aging_s=60))
    assert isinstance(changed, m.Switch) and changed.hub and changed.mac_aging_s == 60

    cable = create_cable.sync_detailed(client=client, body=m.CableCreate(
        name="gc", a=m.CableEnd(switch="gc-a"), b=m.CableEnd(switch="gc-b", port=3),
        impairments=m.CableImpairmentsChange(delay_ms=5.0)))
    assert cable.status_code == 201 and isinstance(cable.parsed, m.Cable), cable.content
    read = get_cable.sync("gc", client=client)
    assert isinstance(read, m.Cable) and read.impairments.a_to_b.delay_ms == 5.0 and read.b.port == 3
    patched = update_cable.sync("gc", client=client, body=m.CableUpdate(
        impairments=m.CableImpairmentsChange(a_to_b=m.CableDirectionChange(loss_pct=2.5))))
    assert isinstance(patched, m.Cable)
    assert patched.impairments.a_to_b.loss_pct == 2.5 and patched.impairments.b_to_a.loss_pct == 0

    if os.geteuid() == 0:
        body = m.StackCreate(name="gc", interfaces=[m.InterfaceCreate(name="eth0", switch="gc-a", addresses=["10.251.0.1/24"])])
    else:
        body = m.StackCreate(name="gc", kind=m.StackKind.SLIRP, interfaces=[m.InterfaceCreate(name="up", switch="gc-a")])
    stack = create_stack.sync_detailed(client=client, body=body)
    assert stack.status_code == 201 and isinstance(stack.parsed, m.Stack), stack.content
    assert isinstance(get_stack.sync("gc", client=client), m.Stack)
    if os.geteuid() == 0:
        update = m.StackUpdate(interfaces=m.StackUpdateInterfaces.from_dict({"eth0": {"addresses": ["10.251.0.9/24"]}}))
        after = update_stack.sync("gc", client=client, body=update)
        assert isinstance(after, m.Stack) and after.interfaces[0].addresses == ["10.251.0.9/24"]

    # An error is a typed Problem with its stable code, not an exception or a dict.
    missing = get_switch.sync_detailed("no-such-switch", client=client)
    assert missing.status_code == 404 and isinstance(missing.parsed, m.Problem)
    assert missing.parsed.code == m.ErrorCode.NOT_FOUND
    refused = create_switch.sync_detailed(client=client, body=m.SwitchCreate(name="gc-a"))
    assert refused.status_code == 409 and refused.parsed.code == m.ErrorCode.NAME_TAKEN

    for call, name in ((delete_stack, "gc"), (delete_cable, "gc"), (delete_switch, "gc-a"), (delete_switch, "gc-b")):
        assert call.sync_detailed(name, client=client).status_code == 204
    assert get_cable.sync_detailed("gc", client=client).status_code == 404


def test_the_generated_models_parse_the_daemons_answers(generated, daemon):
    models = importlib.import_module("vsquare_models")
    assert daemon.request("POST", "/v1/switches", {"name": "gm-a", "ports": 4})[0] == 201
    assert daemon.request("POST", "/v1/switches", {"name": "gm-b", "ports": 4})[0] == 201
    assert daemon.request("POST", "/v1/cables", {"name": "gm", "a": {"switch": "gm-a"}, "b": {"switch": "gm-b"}})[0] == 201
    try:
        for path, model in (("/v1/switches", models.SwitchList), ("/v1/switches/gm-a", models.Switch),
                            ("/v1/switches/gm-a/ports?all=true", models.PortList), ("/v1/switches/gm-a/vlans", models.VLANList),
                            ("/v1/switches/gm-a/macs", models.MACList), ("/v1/switches/gm-a/metrics", models.SwitchMetrics),
                            ("/v1/cables", models.CableList), ("/v1/cables/gm", models.Cable),
                            ("/v1/cables/gm/metrics", models.CableMetrics), ("/v1/stacks", models.StackList),
                            ("/v1/health", models.Health), ("/v1/version", models.Version), ("/v1/nothing", models.Problem)):
            status, body = daemon.request("GET", path)
            model.model_validate(body)
    finally:
        daemon.request("DELETE", "/v1/switches/gm-a?force=true")
        daemon.request("DELETE", "/v1/switches/gm-b")
