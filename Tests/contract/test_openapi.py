"""api/openapi.yaml is a valid OpenAPI 3.1 document, and a live vsquared answers its
parameter-free GET operations with bodies that match the spec's response schemas."""
import json
import urllib.error
import urllib.request

import jsonschema
from openapi_spec_validator import validate


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


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_parameter_free_gets_match_their_schemas(spec, vsquared):
    checked = 0
    for path, item in spec["paths"].items():
        if "{" in path or "get" not in item:
            continue
        if "text/event-stream" in str(item["get"]["responses"].get("200", {}).get("content", {})):
            continue  # an endless stream; checked by the Swift SSE tests
        status, headers, body = fetch(vsquared + path)
        responses = item["get"]["responses"]
        assert str(status) in responses, f"GET {path} answered {status}, which the spec does not list"
        assert headers.get("X-Request-Id"), f"GET {path} has no X-Request-Id"
        content = resolve(spec, responses[str(status)]).get("content", {})
        media = headers.get_content_type()
        assert media in content, f"GET {path} answered {media}, the spec lists {list(content)}"
        if media.endswith("json"):
            jsonschema.validate(json.loads(body), content[media]["schema"])
        checked += 1
    assert checked >= 3


def test_problems_match_the_problem_schema(spec, vsquared):
    problem = resolve(spec, spec["components"]["schemas"]["Problem"])
    status, headers, body = fetch(vsquared + "/v1/no-such-thing")
    assert status == 404
    assert headers.get_content_type() == "application/problem+json"
    jsonschema.validate(json.loads(body), problem)
    request = urllib.request.Request(vsquared + "/v1/health", method="DELETE")
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("DELETE /v1/health must not succeed")
    except urllib.error.HTTPError as error:
        assert error.code == 405
        assert error.headers["Allow"] == "GET, HEAD"
        jsonschema.validate(json.loads(error.read()), problem)
