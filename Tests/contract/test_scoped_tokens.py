"""A student's token against every operation of the spec: with another student's lab (and a class
named bob) in every path, nothing of them can be read or changed (404, their names do not leak),
what is not about a lab or class is 403, lists leave them out, and afterwards they are exactly as
they were. In its own lab the
student runs what the policy allows and no more. Every answer is one the spec lists."""
import json
import urllib.parse

from test_openapi import ROOT_USER, fetch, resolve
import jsonschema

OPEN = {("GET", "/"), ("GET", "/v1/health"), ("GET", "/v1/version"), ("GET", "/v1/whoami")}
LISTS = {"/v1/labs": "labs", "/v1/switches": "switches", "/v1/cables": "cables", "/v1/stacks": "stacks", "/v1/classes": "classes",
         "/v1/audit": "entries"}


def lab(name):
    topology = {"switches": [{"name": "s1", "ports": 8}, {"name": "s2", "ports": 8}],
                "cables": [{"name": "c", "a": {"switch": "s1"}, "b": {"switch": "s2"}}]}
    if ROOT_USER:
        topology["stacks"] = [{"name": "h", "interfaces": [{"name": "eth0", "switch": "s1", "addresses": ["10.9.0.1/24"]}]}]
    return {"name": name, "topology": topology}


def bobs_state(daemon):
    """Everything an admin can read about bob's lab, minus what moves by itself."""
    state = {}
    for path in ["/v1/labs/bob", "/v1/switches/bob-s1", "/v1/switches/bob-s2", "/v1/cables/bob-c", "/v1/classes/bob",
                 "/v1/classes/bob/checks"] + (["/v1/stacks/bob-h"] if ROOT_USER else []):
        status, body = daemon.request("GET", path)
        assert status == 200, (path, status, body)
        for moving in ("uptime_s", "counters", "last_seen", "reset", "ports"):
            body.pop(moving, None)
        state[path] = body
    return state


def check(spec, method, template, status, headers, raw):
    operation = spec["paths"][template][method.lower()]
    assert str(status) in operation["responses"], f"{method} {template} answered {status}, which the spec does not list: {raw[:200]!r}"
    content = resolve(spec, operation["responses"][str(status)]).get("content", {})
    media = headers.get_content_type()
    if media.endswith("json") and media in content:
        jsonschema.validate(json.loads(raw), content[media]["schema"])


def test_a_student_reaches_nothing_outside_its_lab(spec, daemon):
    try:
        for name in ("alice", "bob"):
            status, body = daemon.request("POST", "/v1/labs", lab(name))
            assert status == 201, body
        status, body = daemon.request("POST", "/v1/classes", {"name": "bob", "template": {"switches": [{"name": "sw"}]}, "students": [{"id": "x"}]})
        assert status == 201, body
        status, issued = daemon.request("POST", "/v1/tokens", {"name": "alice", "role": "student", "scope": {"labs": ["alice"]}})
        assert status == 201 and issued["scope"] == {"labs": ["alice"], "classes": []}, issued
        student = {"Authorization": f"Bearer {issued['token']}"}
        before = bobs_state(daemon)

        names = {"labs": "bob", "switches": "bob-s1", "cables": "bob-c", "stacks": "bob-h", "experiments": "exp", "tokens": issued["id"]}
        for template, operations in spec["paths"].items():
            for method in [m.upper() for m in operations if m in ("get", "put", "post", "patch", "delete")]:
                parts = template.strip("/").split("/")
                values = {"n": 1, "vid": 1, "file": "cap.pcap", "id": issued["id"] if parts[1:2] == ["tokens"] else 1}
                if len(parts) > 2 and parts[2] == "{name}":
                    values["name"] = names.get(parts[1], "bob")
                path = template.format(**{k: urllib.parse.quote(str(v), safe="") for k, v in values.items()})
                stream = template == "/v1/events"
                status, headers, raw = fetch(daemon.url + path, method, None if method in ("GET", "DELETE") else {}, stream,
                                             headers=student)
                what = f"{method} {path}"
                check(spec, method, template, status, headers, raw)
                if (method, template) in OPEN:
                    assert status == 200, what
                elif stream:
                    assert status == 200 and b"bob" not in raw, (what, raw[:300])
                elif method == "GET" and template in LISTS:
                    items = json.loads(raw)[LISTS[template]]
                    assert status == 200 and b"bob" not in raw, (what, raw[:300])
                    assert {item.get("lab", item.get("name")) for item in items} <= {"alice"}, items
                elif len(parts) > 2 and parts[2] == "{name}" and parts[1] in ("labs", "switches", "cables", "stacks", "classes"):
                    assert status == 404 and json.loads(raw)["code"] == "not_found", (what, status, raw[:300])
                else:
                    assert status == 403 and json.loads(raw)["code"] == "forbidden", (what, status, raw[:300])
        assert bobs_state(daemon) == before, "bob's lab changed"

        # In its own lab: reads, cut/restore/impair, reset and checks pass; deleting or rebuilding the lab does not.
        def send(method, path, body=None):
            status, headers, raw = fetch(daemon.url + path, method, body, headers=student)
            return status, json.loads(raw) if raw else None

        assert send("GET", "/v1/labs/alice")[0] == 200
        assert send("POST", "/v1/cables/alice-c/cut", {})[0] == 200
        assert daemon.request("GET", "/v1/cables/alice-c")[1]["cut"] is True
        assert send("POST", "/v1/cables/alice-c/restore", {})[0] == 200
        assert send("PATCH", "/v1/cables/alice-c?force=true", {"impairments": {"delay_ms": 3}})[0] == 200
        assert send("POST", "/v1/labs/alice/reset", {})[0] == 200
        status, graded = send("POST", "/v1/labs/alice/checks", {})
        assert status == 200 and graded["lab"] == "alice", graded
        assert send("GET", "/v1/labs/alice/checks")[1]["runs"][0]["at"] == graded["at"]
        assert daemon.request("GET", "/v1/cables/alice-c")[1]["impairments"]["a_to_b"]["delay_ms"] == 0
        for method, path, body in [("DELETE", "/v1/labs/alice", None), ("PUT", "/v1/labs/alice", {"topology": lab("alice")["topology"]}),
                                   ("PATCH", "/v1/switches/alice-s1?force=true", {"hub": True}), ("DELETE", "/v1/cables/alice-c?force=true", None)]:
            status, body = send(method, path, body)
            assert status == 403 and body["code"] == "forbidden", (method, path, status, body)
        assert daemon.request("GET", "/v1/labs/alice")[0] == 200
        if ROOT_USER:
            status, ran = send("POST", "/v1/stacks/alice-h/exec", {"argv": ["true"]})
            assert status == 200 and ran["exit_code"] == 0, ran
    finally:
        daemon.request("DELETE", "/v1/classes/bob")
        for name in ("alice", "bob"):
            daemon.request("DELETE", f"/v1/labs/{name}")
