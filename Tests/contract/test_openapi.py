"""api/openapi.yaml is a valid OpenAPI 3.1 document, and a live vsquared, populated with switches,
a VLAN, a cable and stacks, answers every operation of the spec with a documented status and a
body that matches that status's schema. The walk below names one request per operation; an
operation the spec adds without a request here fails the coverage check."""
import json
import time
import os
import socket
import urllib.error
import urllib.parse
import urllib.request

import jsonschema
import pytest
from openapi_spec_validator import validate

ROOT_USER = os.geteuid() == 0
# Operations that need root: everything about a network-namespace stack's processes.
NEEDS_ROOT = {("POST", "/v1/stacks/{name}/exec"), ("GET", "/v1/stacks/{name}/processes"),
              ("GET", "/v1/stacks/{name}/processes/{id}"), ("DELETE", "/v1/stacks/{name}/processes/{id}")}


def test_spec_is_valid_openapi_31(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def resolve(spec, schema):
    """Inlines local $refs so jsonschema can check a response body on its own."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            target = spec
            for part in schema["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(spec, target)
        return {key: resolve(spec, value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [resolve(spec, item) for item in schema]
    return schema


def fetch(url, method="GET", body=None, stream=False, yaml_text=None, headers=None):
    """(status, headers, body bytes); an event stream is read only up to its first event."""
    data = yaml_text.encode() if yaml_text is not None else None if body is None else json.dumps(body).encode()
    content_type = "application/yaml" if yaml_text is not None else "application/json"
    sent = {**({"Content-Type": content_type} if data is not None else {}), **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            if stream:
                return response.status, response.headers, response.read1(4096)
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class Walk:
    """Sends requests named by (method, path template, parameters) and checks every answer."""

    def __init__(self, spec, base):
        self.spec = spec
        self.base = base
        self.covered = set()

    def __call__(self, method, template, parameters=None, body=None, query="", expect=None, yaml_text=None, headers=None):
        parameters = parameters or {}
        path = template.format(**{k: urllib.parse.quote(str(v), safe="") for k, v in parameters.items()})
        operation = self.spec["paths"][template][method.lower()]
        stream = "text/event-stream" in str(operation["responses"].get("200", {}).get("content", {}))
        status, headers, raw = fetch(self.base + path + query, method, body, stream, yaml_text, headers)
        what = f"{method} {path}{query}"
        responses = operation["responses"]
        assert str(status) in responses, f"{what} answered {status}, which the spec does not list: {raw[:300]!r}"
        if expect is not None:
            assert status == expect, f"{what} answered {status}, not {expect}: {raw[:300]!r}"
        else:
            assert 200 <= status < 300, f"{what} answered {status}: {raw[:300]!r}"
        assert headers.get("X-Request-Id"), f"{what} has no X-Request-Id"
        content = resolve(self.spec, responses[str(status)]).get("content", {})
        media = headers.get_content_type()
        if raw or content:
            assert media in content, f"{what} answered {media}, the spec lists {list(content)}"
        parsed = None
        if media.endswith("json"):
            parsed = json.loads(raw)
            jsonschema.validate(parsed, content[media]["schema"])
        elif media == "text/csv":
            parsed = raw.decode()
        elif media == "text/event-stream":
            assert raw.startswith((b":", b"event:", b"id:", b"retry:", b"data:")), raw[:100]
        elif media == "application/vnd.tcpdump.pcap":
            # The classic pcap header: magic (microseconds, little-endian), version 2.4, Ethernet.
            assert raw[:4] == bytes.fromhex("d4c3b2a1") and raw[20:24] == bytes.fromhex("01000000"), raw[:24]
            parsed = raw
        self.covered.add((method, template))
        return parsed


def test_every_operation_answers_as_the_spec_says(spec, daemon):
    try:
        walk_every_operation(spec, daemon)
    finally:
        for path in ("/v1/experiments/exp1", "/v1/labs/lab1", "/v1/labs/lab3", "/v1/stacks/h1", "/v1/cables/c1", "/v1/cables/vx1", "/v1/switches/s1?force=true", "/v1/switches/s2?force=true"):
            daemon.request("DELETE", path)


def walk_every_operation(spec, daemon):
    walk = Walk(spec, daemon.url)
    walk("GET", "/")
    walk("GET", "/v1/health")
    walk("GET", "/v1/version")

    walk("POST", "/v1/switches", body={"name": "s1", "ports": 8, "description": "contract", "mac_aging_s": 60}, expect=201)
    walk("POST", "/v1/switches", body={"name": "s2", "ports": 8}, expect=201)
    switches = walk("GET", "/v1/switches")
    assert {s["name"] for s in switches["switches"]} >= {"s1", "s2"}
    walk("GET", "/v1/switches/{name}", {"name": "s1"})
    changed = walk("PATCH", "/v1/switches/{name}", {"name": "s1"}, body={"description": "changed", "mac_aging_s": 120})
    assert changed["description"] == "changed" and changed["mac_aging_s"] == 120
    # The spanning tree: on with a priority, the timers the standard forbids refused (422), the bridge its own root.
    refused = walk("PATCH", "/v1/switches/{name}", {"name": "s1"}, body={"stp": {"enabled": True, "max_age_s": 40}}, expect=422)
    assert refused["code"] == "unprocessable" and "max_age_s" in refused["detail"], refused
    tree = walk("PATCH", "/v1/switches/{name}", {"name": "s1"}, body={"stp": {"enabled": True, "priority": 4096, "hello_s": 1}})["stp"]
    assert tree["enabled"] and tree["priority"] == 4096 and tree["is_root"] is True and tree["bridge_id"].startswith("1000."), tree
    state = walk("GET", "/v1/switches/{name}/stp", {"name": "s1"})
    assert state["root_id"] == tree["bridge_id"] and state["root_port"] is None, state
    # Multicast snooping: on, querier, VLAN 1 only; its state as the worker runs it.
    snooping = walk("PATCH", "/v1/switches/{name}", {"name": "s1"},
                    body={"multicast": {"snooping": True, "querier": True, "query_interval_s": 30, "vlans": [1]}})["multicast"]
    assert snooping == {"snooping": True, "querier": True, "query_interval_s": 30, "vlans": [1]}, snooping
    groups = walk("GET", "/v1/switches/{name}/multicast", {"name": "s1"})
    assert groups["snooping"] is True and groups["queriers"] == [{"vlan": 1, "igmp": "this switch", "mld": "this switch"}], groups
    walk("PATCH", "/v1/switches/{name}", {"name": "s1"}, body={"multicast": {"query_interval_s": 0}}, expect=400)
    walk("GET", "/v1/switches/{name}/ports", {"name": "s1"})
    walk("GET", "/v1/switches/{name}/ports/{n}", {"name": "s1", "n": 1})
    port = walk("PATCH", "/v1/switches/{name}/ports/{n}", {"name": "s1", "n": 2}, body={"enabled": False})
    assert port["enabled"] is False
    walk("POST", "/v1/switches/{name}/vlans", {"name": "s1"}, body={"vid": 10, "untagged": [3], "tagged": [4]}, expect=201)
    vlans = walk("GET", "/v1/switches/{name}/vlans", {"name": "s1"})
    assert 10 in [v["vid"] for v in vlans["vlans"]]
    assert walk("GET", "/v1/switches/{name}/vlans/{vid}", {"name": "s1", "vid": 10})["untagged"] == [3]
    walk("PUT", "/v1/switches/{name}/vlans/{vid}", {"name": "s1", "vid": 10}, body={"untagged": [3, 5], "tagged": []})
    walk("GET", "/v1/switches/{name}/macs", {"name": "s1"})
    walk("GET", "/v1/switches/{name}/macs", {"name": "s1"}, query="?vlan=10&port=3")
    walk("DELETE", "/v1/switches/{name}/macs", {"name": "s1"}, query="?port=3")
    walk("GET", "/v1/switches/{name}/metrics", {"name": "s1"})
    walk("POST", "/v1/switches/{name}/ports/{n}/kick", {"name": "s1", "n": 1})
    walk("GET", "/v1/switches/{name}/ports/{n}/capture", {"name": "s1", "n": 1}, query="?duration_s=0.3&filter=icmp&snaplen=128")
    refused = walk("GET", "/v1/switches/{name}/ports/{n}/capture", {"name": "s1", "n": 1}, query="?filter=tcp%20port%20and", expect=400)
    assert refused["code"] == "invalid_filter" and "syntax error" in refused["libpcap"], refused

    cable = walk("POST", "/v1/cables", body={"name": "c1", "a": {"switch": "s1"}, "b": {"switch": "s2"},
                                              "impairments": {"delay_ms": 1, "loss_pct": 0.5}}, expect=201)
    assert cable["impairments"]["a_to_b"]["delay_ms"] == 1 and cable["impairments"]["b_to_a"]["delay_ms"] == 1
    walk("GET", "/v1/cables")
    walk("GET", "/v1/cables/{name}", {"name": "c1"})
    patched = walk("PATCH", "/v1/cables/{name}", {"name": "c1"}, body={"impairments": {"loss_pct": None, "jitter_ms": 2}})
    assert patched["impairments"]["a_to_b"]["loss_pct"] == 0 and patched["impairments"]["a_to_b"]["jitter_ms"] == 2
    walk("POST", "/v1/cables/{name}/cut", {"name": "c1"})
    walk("POST", "/v1/cables/{name}/restore", {"name": "c1"})
    walk("GET", "/v1/cables/{name}/metrics", {"name": "c1"})
    walk("GET", "/v1/cables/{name}/capture", {"name": "c1"}, query="?direction=b_to_a&duration_s=0.3")
    # A VXLAN cable over loopback: its end, encapsulation and worker status held to the schema too.
    tunnel = walk("POST", "/v1/cables", body={"name": "vx1", "a": {"switch": "s1"},
                                               "b": {"vxlan": {"remote": "127.0.0.2", "local": "127.0.0.1", "vni": 9, "port": 24789}}}, expect=201)
    assert tunnel["encapsulation"]["kind"] == "vxlan" and tunnel["b"]["vxlan"]["vni"] == 9, tunnel
    assert walk("GET", "/v1/cables/{name}", {"name": "vx1"})["ends"][1]["largest_frame"] > 1500
    walk("DELETE", "/v1/cables/{name}", {"name": "vx1"}, expect=204)

    if ROOT_USER:
        stack = {"name": "h1", "interfaces": [{"name": "eth0", "switch": "s2", "addresses": ["10.251.0.1/24"]}]}
    else:
        stack = {"name": "h1", "kind": "slirp", "interfaces": [{"name": "eth0", "switch": "s2"}]}
    walk("POST", "/v1/stacks", body=stack, expect=201)
    listed = walk("GET", "/v1/stacks")
    assert "h1" in [s["name"] for s in listed["stacks"]]
    walk("GET", "/v1/stacks/{name}", {"name": "h1"})
    if ROOT_USER:
        updated = walk("PATCH", "/v1/stacks/{name}", {"name": "h1"},
                       body={"interfaces": {"eth0": {"addresses": ["10.251.0.2/24"]}}, "forwarding": True,
                             "routes": [{"to": "10.250.0.0/16", "via": "10.251.0.254"}]})
        assert updated["forwarding"] is True
        assert updated["interfaces"][0]["addresses"] == ["10.251.0.2/24"], updated["interfaces"][0]
        assert {"to": "10.250.0.0/16", "via": "10.251.0.254"} in updated["routes"], updated["routes"]
        result = walk("POST", "/v1/stacks/{name}/exec", {"name": "h1"}, body={"argv": ["echo", "hi"]})
        assert result["exit_code"] == 0 and result["stdout"] == "hi\n"
        started = walk("POST", "/v1/stacks/{name}/exec", {"name": "h1"}, body={"argv": ["sleep", "30"], "detach": True}, expect=201)
        walk("GET", "/v1/stacks/{name}/processes", {"name": "h1"})
        walk("GET", "/v1/stacks/{name}/processes/{id}", {"name": "h1", "id": started["id"]})
        walk("DELETE", "/v1/stacks/{name}/processes/{id}", {"name": "h1", "id": started["id"]})
    else:
        walk("PATCH", "/v1/stacks/{name}", {"name": "h1"},
             body={"host_forwards": [{"host_address": "127.0.0.1", "host_port": free_port(), "guest_address": "10.0.2.15", "guest_port": 22}]})

    topology = {"description": "two switches and a cable", "labels": {"by": "contract"},
                "switches": [{"name": "a", "ports": 4}, {"name": "b", "ports": 4}],
                "cables": [{"name": "ab", "a": {"switch": "a"}, "b": {"switch": "b"}, "impairments": {"delay_ms": 1}}]}
    planned = walk("POST", "/v1/labs/plan", body={"name": "lab1", "topology": topology})
    assert [(st["action"], st["global_name"]) for st in planned["steps"]] == \
        [("create", "lab1-a"), ("create", "lab1-b"), ("create", "lab1-ab")], planned
    assert walk("GET", "/v1/labs/{name}", {"name": "lab1"}, expect=404)["code"] == "not_found", "a plan made something"
    lab = walk("POST", "/v1/labs", body={"name": "lab1", "topology": topology}, expect=201)
    assert sorted(m["global_name"] for m in lab["members"]) == ["lab1-a", "lab1-ab", "lab1-b"], lab["members"]
    member = walk("GET", "/v1/switches/{name}", {"name": "lab1-a"})
    assert member["ports"] == 4 and member["lab"] == "lab1", member
    assert walk("GET", "/v1/switches/{name}", {"name": "s1"})["lab"] is None
    assert sorted(s["name"] for s in walk("GET", "/v1/switches", query="?lab=lab1")["switches"]) == ["lab1-a", "lab1-b"]
    assert [c["name"] for c in walk("GET", "/v1/cables", query="?lab=lab1")["cables"]] == ["lab1-ab"]
    assert walk("GET", "/v1/stacks", query="?lab=lab1")["stacks"] == []
    refused = walk("POST", "/v1/labs", body={"name": "lab2", "topology": {"cables": [{"name": "x", "a": {"switch": "nope"},
                                                                                      "b": {"switch": "nope"}}]}}, expect=422)
    assert refused["code"] == "invalid_topology"
    assert {"/cables/0/a/switch", "/cables/0/b/switch"} <= {p["pointer"] for p in refused["problems"]}, refused["problems"]
    from_yaml = walk("POST", "/v1/labs", query="?name=lab3", expect=201,
                     yaml_text="switches:\n  - name: solo\n    ports: 2\n")
    assert [m["global_name"] for m in from_yaml["members"]] == ["lab3-solo"]
    located = walk("POST", "/v1/labs", query="?name=lab4", expect=422,
                   yaml_text="switches:\n  - name: s\ncables:\n  - name: c\n    a: {switch: s}\n    b: {switch: ghost}\n")
    assert {"pointer": "/cables/0/b/switch", "code": "unknown_switch", "line": 6, "column": 17} \
        in [{k: p[k] for k in ("pointer", "code", "line", "column")} for p in located["problems"]], located["problems"]
    walk("DELETE", "/v1/labs/{name}", {"name": "lab3"}, expect=204)
    grown = {**topology, "switches": topology["switches"] + [{"name": "c"}]}
    dry = walk("PUT", "/v1/labs/{name}", {"name": "lab1"}, query="?dry_run=true", body={"topology": grown})
    assert [(s["action"], s["global_name"]) for s in dry["steps"]] == [("create", "lab1-c")], dry
    applied = walk("PUT", "/v1/labs/{name}", {"name": "lab1"}, body={"topology": grown})
    assert applied["generation"] == 2 and applied["last_apply"]["outcome"] == "applied", applied
    walk("PUT", "/v1/labs/{name}", {"name": "lab1"}, body={"topology": topology}, headers={"If-Match": '"1"'}, expect=412)
    walk("PUT", "/v1/labs/{name}", {"name": "lab1"}, body={"topology": topology}, headers={"If-Match": "1"}, expect=412)
    walk("PUT", "/v1/labs/{name}", {"name": "lab1"}, body={"topology": topology}, headers={"If-Match": '"2"'})
    assert walk("PATCH", "/v1/switches/{name}", {"name": "lab1-a"}, body={"hub": True}, expect=409)["code"] == "lab_member"
    reset = walk("POST", "/v1/labs/{name}/reset", {"name": "lab1"}, query="?members=a")
    assert reset["reset"]["members"] == ["a"] and reset["state"] == "ready", reset
    graded = walk("POST", "/v1/labs/{name}/checks", {"name": "lab1"})
    assert graded["results"] == [] and graded["passed"] is True and graded["generation"] == 3, graded
    assert walk("GET", "/v1/labs/{name}/checks", {"name": "lab1"}, query="?limit=1")["runs"] == [graded]
    assert "lab1" in [item["name"] for item in walk("GET", "/v1/labs")["labs"]]
    assert walk("GET", "/v1/labs/{name}", {"name": "lab1"})["topology"] == topology

    walk_experiments(walk)
    walk_tokens(walk)
    walk_classes(walk)

    walk("GET", "/v1/events")
    walk("GET", "/metrics")
    walk("POST", "/v1/switches/{name}/restart", {"name": "s1"})

    walk("DELETE", "/v1/stacks/{name}", {"name": "h1"}, expect=204)
    walk("DELETE", "/v1/cables/{name}", {"name": "c1"}, expect=204)
    walk("GET", "/v1/cables/{name}", {"name": "c1"}, expect=404)
    assert "c1" not in [c["name"] for c in walk("GET", "/v1/cables")["cables"]]
    walk("DELETE", "/v1/switches/{name}/vlans/{vid}", {"name": "s1", "vid": 10}, expect=409)
    walk("PATCH", "/v1/switches/{name}/ports/{n}", {"name": "s1", "n": 3}, body={"untagged_vlan": 1})
    walk("PATCH", "/v1/switches/{name}/ports/{n}", {"name": "s1", "n": 5}, body={"untagged_vlan": 1})
    walk("PATCH", "/v1/switches/{name}/ports/{n}", {"name": "s1", "n": 4}, body={"tagged_vlans": []})
    walk("DELETE", "/v1/switches/{name}/vlans/{vid}", {"name": "s1", "vid": 10}, expect=204)
    walk("DELETE", "/v1/switches/{name}", {"name": "s1"}, expect=204)
    walk("DELETE", "/v1/switches/{name}", {"name": "s2"}, query="?force=true", expect=204)
    walk("DELETE", "/v1/labs/{name}", {"name": "lab1"}, expect=204)
    walk("GET", "/v1/labs/{name}", {"name": "lab1"}, expect=404)
    walk("GET", "/v1/switches/{name}", {"name": "lab1-a"}, expect=404)

    every = {(method.upper(), path) for path, item in spec["paths"].items() for method in item
             if method in ("get", "put", "post", "patch", "delete")}
    missing = every - walk.covered - (set() if ROOT_USER else NEEDS_ROOT)
    assert not missing, f"operations the walk does not exercise: {sorted(missing)}"


def walk_experiments(walk):
    """An experiment with control tasks only (switches and a cable: no root needed), refused and
    accepted, run twice in one run, reported, cancelled and deleted."""
    experiment = {"description": "contract", "seed": 5,
                  "topology": {"switches": [{"name": "a"}, {"name": "b"}],
                               "cables": [{"name": "ab", "a": {"switch": "a"}, "b": {"switch": "b"}}]},
                  "tasks": [{"id": "flush", "action": "flush_macs", "switch": "a"},
                            {"id": "cut", "after": ["flush"], "action": "cut", "cable": "ab"},
                            {"id": "nap", "after": ["cut"], "action": "sleep", "seconds": 0.1},
                            {"id": "back", "after": ["nap"], "action": "restore", "cable": "ab"},
                            {"id": "cap", "after": ["flush"], "action": "capture_start", "cable": "ab"},
                            {"id": "uncap", "after": ["back", "cap"], "action": "capture_stop", "capture": "cap"}]}
    cyclic = {**experiment, "tasks": [{"id": "x", "after": ["y"], "action": "sleep", "seconds": 0},
                                      {"id": "y", "after": ["x"], "action": "sleep", "seconds": 0}]}
    refused = walk("POST", "/v1/experiments", body={"name": "exp2", "document": cyclic}, expect=422)
    assert refused["code"] == "invalid_experiment" and "x → y → x" in refused["problems"][0]["message"], refused
    created = walk("POST", "/v1/experiments", body={"name": "exp1", "document": experiment}, expect=201)
    assert [task["id"] for task in created["tasks"]] == ["flush", "cut", "nap", "back", "cap", "uncap"]
    assert "exp1" in [item["name"] for item in walk("GET", "/v1/experiments")["experiments"]]
    walk("GET", "/v1/experiments/{name}", {"name": "exp1"})
    updated = walk("PUT", "/v1/experiments/{name}", {"name": "exp1"}, body={"document": {**experiment, "seed": 6}},
                   headers={"If-Match": '"1"'})
    assert updated["generation"] == 2
    run = walk("POST", "/v1/experiments/{name}/runs", {"name": "exp1"}, body={"repeat": 2}, expect=202)
    for _ in range(300):
        record = walk("GET", "/v1/experiments/{name}/runs/{id}", {"name": "exp1", "id": run["id"]})
        if record["state"] in ("passed", "failed", "error", "cancelled", "timed_out"):
            break
        time.sleep(0.1)
    assert record["state"] == "passed" and len(record["repetitions"]) == 2, record
    assert [task["status"] for task in record["tasks"]] == ["passed"] * 6, record["tasks"]
    assert [[c["file"] for c in r["captures"]] for r in record["repetitions"]] == [["cap.pcap"], ["cap.2.pcap"]], record
    walk("GET", "/v1/experiments/{name}/runs/{id}/captures/{file}", {"name": "exp1", "id": run["id"], "file": "cap.2.pcap"})
    walk("GET", "/v1/experiments/{name}/runs/{id}/captures/{file}", {"name": "exp1", "id": run["id"], "file": "nap.pcap"}, expect=404)
    report = walk("GET", "/v1/experiments/{name}/runs/{id}/report", {"name": "exp1", "id": run["id"]})
    assert report["seeds"]["run"] == "6" and report["document"]["seed"] == 6
    walk("POST", "/v1/experiments/{name}/runs/{id}/cancel", {"name": "exp1", "id": run["id"]}, expect=409)
    second = walk("POST", "/v1/experiments/{name}/runs", {"name": "exp1"}, expect=202)
    walk("POST", "/v1/experiments/{name}/runs/{id}/cancel", {"name": "exp1", "id": second["id"]}, expect=202)
    assert len(walk("GET", "/v1/experiments/{name}/runs", {"name": "exp1"})["runs"]) == 2
    walk("DELETE", "/v1/experiments/{name}", {"name": "exp1"}, expect=204)
    walk("GET", "/v1/experiments/{name}", {"name": "exp1"}, expect=404)


def walk_tokens(walk):
    """A viewer token issued, used (reads pass, a change is 403), listed and revoked."""
    me = walk("GET", "/v1/whoami")
    assert me["anonymous"] is True and me["role"] == "admin" and me["tokens_required"] is False, me
    issued = walk("POST", "/v1/tokens", body={"name": "contract viewer", "role": "viewer"}, expect=201)
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert walk("GET", "/v1/whoami", headers=bearer)["role"] == "viewer"
    refused = walk("POST", "/v1/switches", body={"name": "never"}, headers=bearer, expect=403)
    assert refused["code"] == "forbidden", refused
    assert issued["id"] in [token["id"] for token in walk("GET", "/v1/tokens")["tokens"]]
    assert "token" not in walk("GET", "/v1/tokens/{id}", {"id": issued["id"]})
    walk("DELETE", "/v1/tokens/{id}", {"id": issued["id"]}, expect=204)
    walk("GET", "/v1/tokens/{id}", {"id": issued["id"]}, expect=404)


def walk_classes(walk):
    """A class from a one-switch template: refused with its template's problems, created (tokens as JSON,
    then as CSV for students who join), planned and changed in every lab, reset, graded, left, deleted."""
    template = {"switches": [{"name": "s", "ports": 4}]}
    refused = walk("POST", "/v1/classes", expect=422, body={
        "name": "cls", "students": [{"id": "a"}],
        "template": {"cables": [{"name": "x", "a": {"switch": "no"}, "b": {"switch": "no"}}]}})
    assert refused["code"] == "invalid_topology" and "/template/cables/0/a/switch" in {p["pointer"] for p in refused["problems"]}, refused
    assert walk("GET", "/v1/labs/{name}", {"name": "cls-a"}, expect=404)
    located = walk("POST", "/v1/classes", expect=422, yaml_text=(
        "name: cls\nstudents: [{id: a}]\ntemplate:\n  switches: [{name: s}]\n  cables:\n    - {name: x, a: {switch: s}, b: {switch: ghost}}\n"))
    assert {"pointer": "/template/cables/0/b/switch", "line": 6, "column": 45} in \
        [{k: p.get(k) for k in ("pointer", "line", "column")} for p in located["problems"]], located["problems"]
    created = walk("POST", "/v1/classes", expect=201,
                   body={"name": "cls", "template": template, "students": [{"id": "a", "name": "Ann"}, {"id": "b"}]})
    assert [t["lab"] for t in created["tokens"]] == ["cls-a", "cls-b"] and created["state"] == "ready", created
    assert "cls" in [c["name"] for c in walk("GET", "/v1/classes")["classes"]]
    assert [s["lab_state"] for s in walk("GET", "/v1/classes/{name}", {"name": "cls"})["students"]] == ["ready", "ready"]
    changed = {"switches": [{"name": "s", "ports": 4, "mac_aging_s": 60}]}
    plan = walk("PUT", "/v1/classes/{name}", {"name": "cls"}, query="?dry_run=true", body={"template": changed})
    assert [[step["action"] for step in lab["steps"]] for lab in plan["labs"]] == [["change"], ["change"]], plan
    applied = walk("PUT", "/v1/classes/{name}", {"name": "cls"}, body={"template": changed, "permissions": {"exec": False}})
    assert applied["generation"] == 2 and [lab["outcome"] for lab in applied["applied"]] == ["applied", "applied"], applied
    assert applied["permissions"]["exec"] is False and applied["permissions"]["reset"] is True
    joined = walk("POST", "/v1/classes/{name}/students", {"name": "cls"}, body={"students": [{"id": "c"}]},
                  headers={"Accept": "text/csv"}, expect=201)
    lines = joined.splitlines()
    assert lines[0] == "student,name,unix_user,lab,token_id,token" and lines[1].startswith("c,c,,cls-c,tok-") and len(lines) == 2, joined
    again = walk("POST", "/v1/classes/{name}/students/{id}/token", {"name": "cls", "id": "c"}, expect=201)
    assert again["lab"] == "cls-c" and again["token"].startswith("vsq_") and again["token"] not in joined
    reset = walk("POST", "/v1/classes/{name}/reset", {"name": "cls"}, query="?students=a,c")
    assert [lab["student"] for lab in reset["reset"]["labs"]] == ["a", "c"], reset
    graded = walk("POST", "/v1/classes/{name}/checks", {"name": "cls"})
    assert [row["student"] for row in graded["students"]] == ["a", "b", "c"] and graded["max_points"] == 0, graded
    assert walk("GET", "/v1/classes/{name}/checks", {"name": "cls"}, headers={"Accept": "text/csv"}).splitlines()[0] == "student,name,total,max,at"
    walk("DELETE", "/v1/classes/{name}/students/{id}", {"name": "cls", "id": "b"}, expect=204)
    walk("GET", "/v1/labs/{name}", {"name": "cls-b"}, expect=404)
    walk("DELETE", "/v1/classes/{name}", {"name": "cls"}, expect=204)
    walk("GET", "/v1/classes/{name}", {"name": "cls"}, expect=404)
    walk("GET", "/v1/labs/{name}", {"name": "cls-a"}, expect=404)
    audited = walk("GET", "/v1/audit", query="?kind=request&limit=3")["entries"]
    assert [e["route"] for e in audited] == ["/v1/classes/{name}", "/v1/classes/{name}/students/{id}", "/v1/classes/{name}/checks"], audited
    assert audited[0]["class"] == "cls" and audited[0]["status"] == 204 and audited[1]["target"] == "cls", audited
    assert walk("GET", "/v1/audit", query="?since=yesterday", expect=400)["code"] == "invalid_field"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_problems_match_the_problem_schema(spec, vsquared):
    problem = resolve(spec, spec["components"]["schemas"]["Problem"])
    status, headers, body = fetch(vsquared + "/v1/no-such-thing")
    assert status == 404
    assert headers.get_content_type() == "application/problem+json"
    jsonschema.validate(json.loads(body), problem)
    status, headers, body = fetch(vsquared + "/v1/health", method="DELETE")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"
    jsonschema.validate(json.loads(body), problem)
