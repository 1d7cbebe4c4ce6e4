"""Hostile flow schemas: a user's flows folder (``--flows-dir``, the plugin's ``flows_dir``) whose
``$ref`` never ends.

A ``$ref`` chain that comes back to where it started without going down into a property or an
item validates the same value again and again, for ever: Python stops it with a RecursionError on
every page, and, when the recursion limit is reached inside jsonschema's Rust dependency (rpds), a
``PanicException`` (a BaseException) with thousands of lines of Rust backtrace. Such a folder
cannot be used: it is one configuration error at load (exit 2 for the command, a PluginError for
a build) that names the file and the cycle. Recursion through properties or items is legitimate
(it ends with the example): it loads, and an example nested deeper than Python's recursion limit
is a finding at the example, never a crash; a Rust panic met while validating is too, while
KeyboardInterrupt and SystemExit still go through.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from pagekit import SECRET_VARS

SECRET = "flows-attack-secret-0123456789-abcdefghijkl"  # the shared env fixture's OO_JWT_SECRET

ID = "https://flows.invalid/frob.json"
META = {"flow": "frob", "role": "inbox", "transports": ["body"], "endpoints": ["/frobnicate"], "words": ["frobnicate"]}
PARAMS = {"c": "go", "key": "k1"}


def flow_schema(**body) -> dict:
    return {"$id": ID, "x-oo-jwt": META, "type": "object", "properties": {"c": {"type": "string"}}, **body}


def page(params: dict = PARAMS, secret: str = SECRET) -> str:
    token = jwt.encode(params, secret)
    return f"""# Frobnicate

Send a POST request to the frobnicate service:

```http
POST /frobnicate HTTP/1.1
Host: example.com
Content-Type: application/json

{json.dumps({**params, "token": token})}
```
"""


def write(folder: Path, files: dict[str, dict | str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return folder


# Each of these validates one value again and again without going into a property or an item.
CYCLES = {
    "root-ref": {"frob.json": flow_schema(**{"$ref": "#"})},
    "allOf-root": {"frob.json": flow_schema(allOf=[{"$ref": "#"}])},
    "defs-pair": {"frob.json": flow_schema(
        **{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}, allOf=[{"$ref": "#/$defs/a"}])},
    "inside-a-property": {"frob.json": flow_schema(
        **{"$defs": {"a": {"anyOf": [{"type": "null"}, {"not": {"$ref": "#/$defs/b"}}]}, "b": {"if": {"$ref": "#/$defs/a"}}}},
        properties={"c": {"$ref": "#/$defs/a"}})},
    "anchor": {"frob.json": flow_schema(
        **{"$defs": {"a": {"$anchor": "loop", "oneOf": [{"$ref": "#loop"}, {"type": "string"}]}}},
        properties={"c": {"$ref": "#/$defs/a"}})},
    "dependentSchemas": {"frob.json": flow_schema(dependentSchemas={"c": {"$ref": "#"}})},
    "across-files": {
        "frob.json": flow_schema(allOf=[{"$ref": "shared.json#/$defs/any"}]),
        "shared.json": {"$id": "https://flows.invalid/shared.json", "$defs": {"any": {"allOf": [{"$ref": "frob.json"}]}}},
    },
    # reached by no "$ref", but validation applies them: a "since" part (of any version: one
    # that applies only from 9.0 is validated under --target-version 9.0), the flow's response
    "since": {"frob.json": {**flow_schema(**{"$defs": {"v9": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/v9"}]}}}),
                            "x-oo-jwt": {**META, "since": {"9.0": "#/$defs/v9"}}}},
    "response": {"frob.json": {**flow_schema(**{"$defs": {"r": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/r"}]}}}),
                               "x-oo-jwt": {**META, "response": "#/$defs/r"}}},
}


@pytest.mark.parametrize("files", list(CYCLES.values()), ids=list(CYCLES))
def test_a_ref_cycle_is_one_config_error_at_load(env, run, files):
    write(env / "flows", files)
    write(env / "docs", {"frob.md": page()})
    rc, out, err = run("check", "--no-cache", "--jobs", "1", "--flows-dir", "flows", "docs")
    assert rc == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert ".json" in lines[0] and "$ref" in lines[0] and "cycle" in lines[0], lines[0]
    assert "panicked" not in err and "Recursion" not in err


def test_the_error_names_the_file_and_the_chain(env, run):
    write(env / "flows", CYCLES["defs-pair"])
    write(env / "docs", {"frob.md": page()})
    rc, _, err = run("check", "--no-cache", "--flows-dir", "flows", "docs")
    assert rc == 2
    assert "frob.json" in err and "#/$defs/a" in err and "#/$defs/b" in err, err


# Cycles that validation never reaches: a definition no flow uses, a file nothing refers to.
UNREACHED = {
    "unused-def": {"frob.json": flow_schema(**{"$defs": {"unused": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/unused"}]}}})},
    "unused-file": {
        "frob.json": flow_schema(),
        "spare.json": {"$id": "https://flows.invalid/spare.json", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}},
    },
}


@pytest.mark.parametrize("files", list(UNREACHED.values()), ids=list(UNREACHED))
def test_a_cycle_that_validation_never_reaches_loads(env, run, files):
    """A definition kept for later, or for another flow, is no reason to refuse the folder: no
    example is ever validated against it."""
    write(env / "flows", files)
    write(env / "docs", {"frob.md": page(), "broken.md": page({"c": 7, "key": "k1"})})
    rc, out, err = run("check", "--no-cache", "--jobs", "1", "--format", "json", "--flows-dir", "flows", "docs")
    assert err == "", err
    found = [(Path(f["path"]).name, f["rule"], f.get("pointer")) for f in json.loads(out)["findings"] if f["severity"] == "error"]
    assert rc == 1 and found == [("broken.md", "schema", "/c")], found  # the flow is used: c must be a string


# Recursion that goes down into the value each time: it ends with the example.
RECURSIVE = {
    "properties": flow_schema(properties={"c": {"type": "string"}, "child": {"$ref": "#"}}),
    "items": flow_schema(properties={"c": {"type": "string"}, "list": {"type": "array", "items": {"$ref": "#"}}}),
    "additionalProperties": flow_schema(properties={"c": {"type": "string"}, "more": {"additionalProperties": {"$ref": "#"}}}),
    "prefixItems-through-defs": flow_schema(
        **{"$defs": {"node": {"allOf": [{"$ref": "#"}]}}},
        properties={"c": {"type": "string"}, "pair": {"type": "array", "prefixItems": [{"$ref": "#/$defs/node"}]}}),
}


@pytest.mark.parametrize("schema", list(RECURSIVE.values()), ids=list(RECURSIVE))
def test_recursion_through_properties_or_items_loads_and_checks(env, run, schema):
    write(env / "flows", {"frob.json": schema})
    write(env / "docs", {"frob.md": page({"c": "go", "child": {"c": 7}})})
    rc, out, err = run("check", "--no-cache", "--jobs", "1", "--format", "json", "--flows-dir", "flows", "docs")
    findings = json.loads(out)["findings"]
    assert rc in (0, 1), err
    assert not [f for f in findings if f["rule"] == "internal-error"], findings
    if "child" in json.dumps(schema):  # the nested "c": 7 breaks the recursive schema
        assert [(f["rule"], f["pointer"]) for f in findings if f["rule"] == "schema"] == [("schema", "/child/c")]


def test_an_example_nested_deeper_than_python_allows_is_a_finding_not_a_crash(env, run):
    write(env / "flows", {"frob.json": RECURSIVE["properties"]})
    deep: dict = {"c": "leaf"}
    for _ in range(600):  # parsed (max_json_depth below), but deeper than validation can recurse
        deep = {"c": "go", "child": deep}
    body = json.dumps({"c": "go", "child": deep})
    write(env / "docs", {"frob.md": page().split("```http")[0] + f"```http\nPOST /frobnicate HTTP/1.1\n\n{body}\n```\n"})
    (env / "pyproject.toml").write_text("[tool.oo-jwt]\nmax_json_depth = 900\n", encoding="utf-8")
    rc, out, err = run("check", "--no-cache", "--jobs", "1", "--format", "json", "--flows-dir", "flows", "docs")
    findings = json.loads(out)["findings"]
    assert not [f for f in findings if f["rule"] == "internal-error"], findings
    schema = [f for f in findings if f["rule"] == "schema"]
    assert rc == 1 and len(schema) == 1 and "not validated" in schema[0]["message"], findings


def _a_rust_panic() -> BaseException:
    """pyo3's PanicException, raised for real by rpds (it is no importable name)."""
    import rpds

    class Key:
        def __hash__(self):
            return 1

        def __eq__(self, other):
            raise ValueError("a comparison that fails")

    table = rpds.HashTrieMap({Key(): 1})
    try:
        table[Key()]
    except BaseException as exc:  # noqa: BLE001 - the panic is what we are after
        return exc
    pytest.skip("rpds did not panic on a failing __eq__ (another rpds version)")


def _check_with_validation_raising(exc: BaseException, monkeypatch):
    """Check the frobnicate page with a flows registry whose validation raises ``exc``."""
    from mkdocs_oo_jwt import flows as flows_module
    from mkdocs_oo_jwt.engine import check_page
    from mkdocs_oo_jwt.page import Page
    from mkdocs_oo_jwt.settings import settings_from

    class Raising:
        def __init__(self, *args, **kwargs):
            pass

        def iter_errors(self, instance):
            raise exc
            yield  # a generator, as jsonschema's

    registry = flows_module.FlowRegistry()
    monkeypatch.setattr(flows_module, "lenient_validator", lambda: Raising)
    doc = Page.from_bytes("frob.md", page(
        {"filetype": "docx", "key": "k", "outputtype": "pdf", "url": "https://example.com/a.docx"}
    ).replace("/frobnicate", "/converter").encode())
    return check_page(doc, settings_from({}, Path.cwd(), "", {}), registry, {})


def test_a_rust_panic_while_validating_is_a_finding(monkeypatch):
    panic = _a_rust_panic()
    assert not isinstance(panic, Exception)  # what made it escape `except Exception` before
    report = _check_with_validation_raising(panic, monkeypatch)
    schema = [f for f in report.findings if f.rule == "schema"]
    assert len(schema) == 1 and "not validated" in schema[0].message, report.findings


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)], ids=["KeyboardInterrupt", "SystemExit"])
def test_an_interrupt_while_validating_is_not_swallowed(monkeypatch, exc):
    with pytest.raises(type(exc)):
        _check_with_validation_raising(exc, monkeypatch)


def test_a_build_with_a_cyclic_flows_dir_stops_with_one_error(tmp_path):
    site = tmp_path / "site"
    write(site / "flows", CYCLES["root-ref"])
    write(site / "docs", {"index.md": page()})
    (site / "mkdocs.yml").write_text("site_name: t\nplugins:\n  - oo-jwt:\n      flows_dir: flows\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update(OO_JWT_SECRET=SECRET, NO_MKDOCS_2_WARNING="1", RUST_BACKTRACE="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=site, timeout=300,  # a hang guard
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line or "Error" in line]
    assert len(errors) == 1 and "frob.json" in errors[0] and "cycle" in errors[0], result.stderr
    assert len(result.stderr.splitlines()) < 10, result.stderr[:3000]
    assert "panicked" not in result.stderr and "Traceback" not in result.stderr


def test_the_bundled_schemas_given_as_a_flows_folder_load(env, run):
    """Every bundled schema passes the user's checks (the cycle check among them): no false alarm
    on the real schemas, whose $refs cross files (common.json) and recurse through properties."""
    from mkdocs_oo_jwt.flows import bundled_schema_dir

    write(env / "flows", {p.name: p.read_text(encoding="utf-8") for p in bundled_schema_dir().glob("*.json")})
    write(env / "docs", {"frob.md": page()})
    rc, out, err = run("check", "--no-cache", "--jobs", "1", "--flows-dir", "flows", "docs")
    assert rc in (0, 1) and err == "", err
