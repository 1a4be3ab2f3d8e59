"""api/topology.schema.yaml is a valid JSON Schema (2020-12), every example lab in
ops/examples/labs/ and ops/examples/hosts/ matches it, and it refuses what it describes as wrong."""
import pathlib

import jsonschema
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "ops" / "examples" / "labs").glob("*.yaml")) + sorted((ROOT / "ops" / "examples" / "hosts").glob("*.yaml"))


@pytest.fixture(scope="module")
def topology_schema():
    with open(ROOT / "api" / "topology.schema.yaml") as handle:
        schema = yaml.safe_load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_there_are_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_an_example_matches_the_schema(topology_schema, path):
    with open(path) as handle:
        document = yaml.safe_load(handle)
    jsonschema.Draft202012Validator(topology_schema).validate(document)


@pytest.mark.parametrize("document", [
    {"routers": []},
    {"switches": [{"ports": 4}]},
    {"switches": [{"name": "Bad Name"}]},
    {"switches": [{"name": "s", "vlans": [{"vid": 4095}]}]},
    {"switches": [{"name": "s", "stp_ports": [{"port": 1, "priority": 20}]}]},
    {"switches": [{"name": "s", "stp_ports": [{"path_cost": 100}]}]},
    {"stacks": [{"name": "h", "interfaces": [], "startup": [{"argv": []}]}]},
    {"labels": {"a": 1}},
    {"checks": [{"id": "c", "host": "h", "argv": ["true"], "reach": {"from": "h", "to": "g"}}]},
    {"checks": [{"id": "c", "reach": {"from": "h"}}]},
    {"checks": [{"id": "c", "host": "h"}]},
    {"hosts": {"b": {"api": "http://10.0.0.2:8420"}}},
    {"hosts": {"b": {"address": "10.0.0.2", "api": "ftp://10.0.0.2"}}},
    {"hosts": {"B": {"address": "10.0.0.2"}}},
    {"cables": [{"name": "c", "a": {}, "b": {}, "encapsulation": "gre"}]},
])
def test_the_schema_refuses_what_it_says_is_wrong(topology_schema, document):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(topology_schema).validate(document)
