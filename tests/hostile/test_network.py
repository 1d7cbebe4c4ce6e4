"""No network access, ever: check and fix run over pages whose tokens carry jku, x5u, kid, jwk and x5c
headers and whose examples are full of URLs, and over flows folders with remote references, while
socket.socket.connect/connect_ex/sendto, socket.create_connection, socket.getaddrinfo and
gethostbyname are monkeypatched to raise (and to record the attempt, in a file too, so that an
attempt made in a forked worker process is seen as well). The runs pass, and nothing was attempted.
"""

from __future__ import annotations

import base64
import json
import socket
import urllib.request
from pathlib import Path

import jwt
import pytest
from pagekit import SECRET_VARS

from mkdocs_oo_jwt.cli import main

SECRET = "network-test-secret-0123456789-abcdefghijk"  # 42 bytes, test only
OTHER = "an-attackers-secret-0123456789-abcdefghijkl"
ATTACKER = "https://attacker.example"

CONVERSION = {
    "filetype": "docx",
    "key": "Khirz6zTPdfd7",
    "outputtype": "pdf",
    "title": "Example Document Title.docx",
    "url": f"{ATTACKER}/url-to-example-document.docx",
}


class NetworkAttempt(OSError):
    pass


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Every way out to the network raises; attempts are listed (and appended to a file for forks)."""
    log = tmp_path / "network-attempts.log"
    attempts: list[str] = []

    def refuse(name):
        def _refuse(*args, **kwargs):
            what = f"{name} {args[1:3]!r}" if name.startswith("socket.") else f"{name} {args[:2]!r}"
            attempts.append(what)
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(what + "\n")
            raise NetworkAttempt(f"network access attempted: {what}")

        return _refuse

    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.{name}"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        monkeypatch.setattr(socket, name, refuse(name))
    monkeypatch.setattr(jwt.PyJWKClient, "__init__", refuse("jwt.PyJWKClient"))

    def seen() -> list[str]:
        from_forks = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return sorted(set(attempts) | set(from_forks))

    return seen



def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def conversion_page(token: str) -> str:
    return f"""# Conversion

## Request to convert the document

Sample parameters of the request to convert the document (see {ATTACKER}/docs):

```json
{json.dumps({"$schema": f"{ATTACKER}/schema.json", **CONVERSION}, indent=4)}
```

The request:

```http
POST /converter HTTP/1.1
Host: attacker.example
Content-Type: application/json

{{
    "token": "{token}"
}}
```

The same with curl:

```bash
curl -X POST {ATTACKER}/converter -H "Content-Type: application/json" -d '{{"token": "{token}"}}'
```
"""


TOKEN_LINES = {i + 1 for i, line in enumerate(conversion_page("X").split("\n")) if '"token": "X"' in line}

HEADERS = [
    {"jku": f"{ATTACKER}/jwks.json"},
    {"x5u": f"{ATTACKER}/cert.pem"},
    {"kid": f"{ATTACKER}/key"},
    {"jku": f"{ATTACKER}/jwks.json", "x5u": f"{ATTACKER}/cert.pem", "kid": "k1",
     "jwk": {"kty": "oct", "k": b64url(OTHER.encode()), "x5u": f"{ATTACKER}/c.pem"},
     "x5c": ["MIIBszCCAVmgAwIBAgIU"], "x5t": "abc"},
]


def write_pages(docs: Path, copies: int = 1) -> dict[str, str]:
    """Pages with remote-pointing token headers: signed with the docs secret (clean) or another key
    (token-signature); and what each page's token should give."""
    docs.mkdir(parents=True, exist_ok=True)
    expected = {}
    for copy in range(copies):
        for i, headers in enumerate(HEADERS):
            (docs / f"good-{copy}-{i}.md").write_text(
                conversion_page(jwt.encode({**CONVERSION, "$schema": f"{ATTACKER}/schema.json"}, SECRET, headers=headers)),
                encoding="utf-8")
            expected[f"good-{copy}-{i}.md"] = ""
            (docs / f"other-{copy}-{i}.md").write_text(
                conversion_page(jwt.encode({**CONVERSION, "$schema": f"{ATTACKER}/schema.json"}, OTHER, headers=headers)),
                encoding="utf-8")
            expected[f"other-{copy}-{i}.md"] = "token-signature"
    return expected


def test_the_guard_catches_a_real_attempt(no_network):
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{ATTACKER}/jwks.json", timeout=1)
    assert no_network(), "the guard saw nothing"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit"])
def test_check_never_touches_the_network(env, run, no_network, fmt):
    expected = write_pages(env / "docs")
    rc, out, err = run("check", "--no-cache", "--format", fmt, "docs")
    assert no_network() == []
    assert rc == 1 and "Traceback" not in err
    if fmt == "json":
        found = {}
        for f in json.loads(out)["findings"]:
            if f["severity"] == "error":
                assert f["line"] in TOKEN_LINES or f["rule"] != "token-signature", f
                found.setdefault(Path(f["path"]).name, set()).add(f["rule"])
        assert found == {name: {rule} for name, rule in expected.items() if rule}, found


def test_check_in_worker_processes_never_touches_the_network(env, run, no_network):
    expected = write_pages(env / "docs", copies=4)  # 32 pages: checked by a pool of forked workers
    rc, out, err = run("check", "--no-cache", "--jobs", "2", "--format", "json", "docs")
    assert no_network() == []
    errors = {Path(f["path"]).name for f in json.loads(out)["findings"] if f["severity"] == "error"}
    assert errors == {name for name, rule in expected.items() if rule}


@pytest.mark.parametrize("argv", [["fix"], ["fix", "--diff"], ["fix", "--format", "json"]], ids=["fix", "diff", "json"])
def test_fix_never_touches_the_network(env, run, no_network, argv):
    write_pages(env / "docs")
    rc, out, err = run(*argv, "docs")
    assert no_network() == []
    assert rc == 1 and "Traceback" not in err
    if argv == ["fix"]:  # the tokens signed with another key were re-signed with the docs secret
        for page in (env / "docs").glob("other-*.md"):
            token = page.read_text(encoding="utf-8").split('"token": "')[1].split('"')[0]
            assert jwt.decode(token, SECRET, algorithms=["HS256"])["url"] == CONVERSION["url"]


FLOW_META = {"flow": "myflow", "role": "inbox", "token": "jwt", "transports": ["body"],
             "endpoints": ["/myflow"], "methods": ["POST"], "hints": ["my flow"]}
MY_PAGE = '# My flow\n\n<!-- oo-jwt: flow=myflow -->\n\n```json\n{"a": 1, "token": "<oo-jwt>"}\n```\n'


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param({"properties": {"a": {"$ref": f"{ATTACKER}/schema.json#/a"}}}, id="ref-https"),
        pytest.param({"properties": {"a": {"$ref": "http://169.254.169.254/latest/meta-data/"}}}, id="ref-metadata-ip"),
        pytest.param({"properties": {"a": {"$ref": "//attacker.example/schema.json"}}}, id="ref-network-path"),
        pytest.param({"properties": {"a": {"$ref": "other.json"}}}, id="ref-relative-to-a-remote-id"),
        pytest.param({"$dynamicRef": f"{ATTACKER}/schema.json"}, id="dynamic-ref"),
        pytest.param({"$schema": f"{ATTACKER}/meta-schema.json"}, id="remote-meta-schema"),
        pytest.param({"allOf": [{"$ref": f"{ATTACKER}/a.json"}], "properties": {"a": {"$ref": "#/$defs/x"}},
                      "$defs": {"x": {"$ref": f"{ATTACKER}/b.json"}}}, id="refs-in-allof-and-defs"),
    ],
)
@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_flows_folder_with_remote_references_never_touches_the_network(env, capsys, no_network, command, schema):
    flows = env / "flows"
    flows.mkdir()
    (flows / "my.json").write_text(json.dumps({"$id": f"{ATTACKER}/flows/my.json", "x-oo-jwt": FLOW_META,
                                               "type": "object", **schema}), encoding="utf-8")
    (env / "my.md").write_text(MY_PAGE, encoding="utf-8")
    write_pages(env / "docs")
    extra = ["--no-cache"] if command == "check" else []
    try:  # how a dangling reference is reported is tested in test_inputs.py; here: no fetch, ever
        rc = main([command, *extra, "--flows-dir", "flows", "my.md", "docs"])
    except NetworkAttempt:
        raise
    except Exception:  # noqa: BLE001
        rc = None
    out, err = capsys.readouterr()
    assert no_network() == []
    assert "attacker.example" not in out + err or rc == 2  # named only in a configuration error


def test_a_remote_ref_is_a_configuration_error_that_says_it_is_not_fetched(env, run, no_network):
    flows = env / "flows"
    flows.mkdir()
    (flows / "my.json").write_text(json.dumps({"$id": "https://flows.invalid/my.json", "x-oo-jwt": FLOW_META,
                                               "type": "object",
                                               "properties": {"a": {"$ref": f"{ATTACKER}/schema.json"}}}), encoding="utf-8")
    write_pages(env / "docs")
    for command in ("check", "fix"):
        rc, out, err = run(command, "--flows-dir", "flows", "docs")
        assert rc == 2 and out == ""
        assert "fetched" in err and "my.json" in err and len(err.strip().splitlines()) == 1
    assert no_network() == []
