"""Hostile input: a clear finding or a clear error, never a traceback.

Every bad page gets a finding with its file and line, and every other page of the run is still
checked: each hostile page ``a.md`` is checked in one run beside ``z.md``, a normal page with a
known finding (json-syntax at line 9), and that finding must be in the report. What is not a page
problem (a flows folder, a config file, a missing path) is one line on stderr and exit code 2.

Every input is built at test time; nothing big is committed.

Unreadable files: the tests run as root, so ``chmod 000`` does not stop ``open()``. The unreadable
page is a dangling symlink named ``a.md`` (``open()`` fails with ENOENT) and, second, a symlink to
itself (ELOOP). A FIFO named ``a.md`` is tested too, in a subprocess with a timeout, because
``open()`` on a FIFO with no writer blocks for ever.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from pagekit import CONVERSION, NEIGHBOUR, NEIGHBOUR_FINDING, SECRET_VARS, conversion_page

from mkdocs_oo_jwt.cli import main

SECRET = "hostile-inputs-secret-0123456789-abcdefghij"  # 43 bytes, test only
OUTBOX_SECRET = "hostile-outbox-secret-0123456789-abcdefghi"  # another role's secret
OTHER_SECRET = "an-attackers-secret-0123456789-abcdefghijkl"
LEVELS = ("error", "warning")
JWT_OR_PLACEHOLDER = re.compile(rb"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|<oo-jwt>")

# The normal page of every run: a conversion example with a missing comma, json-syntax at line 9.
CONVERSION_JSON = json.dumps(CONVERSION).encode()


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line holding ``needle``."""
    for number, line in enumerate(text.split("\n"), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle[:40]!r} is not in the page")


TOKEN_LINE = line_of(conversion_page("X"), '"token": "X"')


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs256(header: bytes, payload: bytes, key: str = SECRET) -> str:
    """A JWT made by hand from raw header and payload bytes, HMAC-SHA256 signed with ``key``."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    mac = hmac.new(key.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def skeleton(data: bytes) -> bytes:
    return JWT_OR_PLACEHOLDER.sub(b"<TOKEN>", data)


# ------------------------------------------------------------------ running the command


@dataclass
class Run:
    rc: int
    out: str
    err: str
    seconds: float

    def report(self) -> dict:
        try:
            return json.loads(self.out)
        except json.JSONDecodeError as exc:  # pragma: no cover - a failure message
            raise AssertionError(f"stdout is not one JSON report ({exc}):\n{self.out[:2000]}\n{self.err[-2000:]}")


@pytest.fixture
def run(capsys):
    def _run(*argv: str) -> Run:
        capsys.readouterr()
        start = time.monotonic()
        rc = main(list(argv))  # an exception here is a traceback for the user: the test fails
        seconds = time.monotonic() - start
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return Run(rc, out, err, seconds)

    return _run


def findings_of(report: dict, name: str, levels=LEVELS) -> set[tuple[str, int]]:
    return {(f["rule"], f["line"]) for f in report["findings"] if Path(f["path"]).name == name and f["severity"] in levels}


def assert_clean_run(report: dict) -> None:
    """The neighbour was checked, and no page made the checker fail."""
    assert NEIGHBOUR_FINDING in findings_of(report, "z.md"), f"the other page was not checked: {report['findings']}"
    internal = [f for f in report["findings"] if f["rule"] == "internal-error"]
    assert not internal, f"the checker failed on a page: {internal}"


def check_docs(run, docs: Path, *extra: str) -> tuple[Run, dict]:
    result = run("check", "--no-cache", "--format", "json", *extra, str(docs))
    return result, result.report()


def docs_with(tmp: Path, hostile: bytes | None) -> Path:
    docs = tmp / "docs"
    docs.mkdir()
    if hostile is not None:
        (docs / "a.md").write_bytes(hostile)
    (docs / "z.md").write_text(NEIGHBOUR, encoding="utf-8")
    return docs


def assert_one_line_error(result: Run, *needles: str) -> None:
    assert result.rc == 2, f"exit code {result.rc}, expected 2\nstdout: {result.out[:1000]}\nstderr: {result.err[-1000:]}"
    assert result.out == "", result.out[:1000]
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("oo-jwt: error: "), result.err
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"


# ------------------------------------------------------------------ pages that are not text


_rng = random.Random(20261124)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(_rng.randrange(256) for _ in range(4000))
SAMPLE = b'```json\n{"token": "<oo-jwt>"}\n```\n'  # makes a page worth parsing


@pytest.mark.parametrize(
    "data,expected",
    [
        pytest.param(b"# Title\n\n" + SAMPLE + b"\nabc \xff\xfe def\n", {("page-unreadable", 7)}, id="invalid-utf8-with-a-sample"),
        pytest.param(b"# Title\n\n" + SAMPLE + b"\nline\nabc \xc3\x28 def\n", {("page-unreadable", 8)}, id="invalid-continuation-byte"),
        pytest.param(b"# Title\n\n" + SAMPLE + b"\n\xed\xa0\x80 surrogate\n", {("page-unreadable", 7)}, id="encoded-surrogate"),
        pytest.param(b"# Title\n\n" + SAMPLE + b"\nx\x00y\n", {("page-unreadable", 7)}, id="nul-byte"),
        pytest.param(b"# Title\n\nSome prose.\nabc \xff def\n", {("page-unreadable", 4)}, id="invalid-utf8-plain-prose"),
        pytest.param(PNG, {("page-unreadable", 1)}, id="binary-png-named-md"),
        pytest.param("\ufeff# Title\n\nThe token is signed.\n".encode("utf-16-le"), {("page-unreadable", 1)}, id="utf-16-page"),
        pytest.param(b"", set(), id="empty-file"),
        pytest.param(b"\xef\xbb\xbf", set(), id="bom-only"),
        pytest.param(b"\n\r\n\r\r\n   \t\n", set(), id="blank-lines-only"),
    ],
)
def test_page_that_is_not_text(env, run, data, expected):
    docs = docs_with(env, data)
    result, report = check_docs(run, docs)
    assert findings_of(report, "a.md") == expected, report["findings"]
    assert_clean_run(report)
    assert report["summary"]["pages"] == 2
    assert result.rc == 1


# ------------------------------------------------------------------ hostile JSON examples


def json_page(*body: str) -> bytes:
    """A JSON example under a neutral lead-in (no flow): its first line is page line 6."""
    return ("# Hostile JSON\n\nAn example:\n\n```json\n" + "\n".join(body) + "\n```\n").encode()


def test_duplicate_keys_are_reported_at_the_repeated_key(env, run):
    docs = docs_with(env, json_page("{", '    "a": 1,', '    "b": {"c": 1, "c": 2},', '    "a": 2', "}"))
    result, report = check_docs(run, docs)
    dups = sorted((f["line"], f["pointer"]) for f in report["findings"]
                  if Path(f["path"]).name == "a.md" and f["rule"] == "json-duplicate-key")
    assert dups == [(8, "/b/c"), (9, "/a")], report["findings"]
    assert all(f["severity"] == "warning" for f in report["findings"] if f["rule"] == "json-duplicate-key")
    assert_clean_run(report)


NOT_JSON_VALUES = {
    "NaN": "NaN",
    "Infinity": "Infinity",
    "minus-Infinity": "-Infinity",
    "beyond-double": "1e400",
    "beyond-double-negative": "-1.5e309",
    "5000-digit-integer": "1" + "0" * 5000,
}


@pytest.mark.parametrize("value", list(NOT_JSON_VALUES.values()), ids=list(NOT_JSON_VALUES))
def test_values_json_does_not_allow_are_json_syntax(env, run, value):
    docs = docs_with(env, json_page("{", '    "filetype": "docx",', f'    "size": {value}', "}"))
    result, report = check_docs(run, docs)
    found = findings_of(report, "a.md")
    assert {rule for rule, _ in found} == {"json-syntax"}, report["findings"]
    assert all(6 <= line <= 9 for _, line in found), found  # inside the example
    assert_clean_run(report)


@pytest.mark.parametrize("value", list(NOT_JSON_VALUES.values()), ids=list(NOT_JSON_VALUES))
def test_values_json_does_not_allow_are_reported_at_their_line(env, run, value):
    docs = docs_with(env, json_page("{", '    "filetype": "docx",', f'    "size": {value}', "}"))
    result, report = check_docs(run, docs)
    assert findings_of(report, "a.md") == {("json-syntax", 8)}, report["findings"]


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_a_finding_is_one_line_whatever_the_page_holds(env, run, fmt):
    """A newline in a JSON key or in a file name cannot split a finding, forge another one, or forge a
    GitHub workflow command (text output is read by CI logs, github output by the runner)."""
    forged = "::error file=README.md,line=1::forged"
    docs = env / "docs"
    docs.mkdir()
    key = json.dumps("a\n" + forged)
    (docs / "a.md").write_bytes(json_page("{", f"    {key}: 1,", f"    {key}: 2", "}"))
    (docs / f"b\n{forged}.md").write_bytes(json_page("{", '    "a": 1,', '    "a": 2', "}"))
    result = run("check", "--no-cache", "--format", fmt, "docs")
    lines = result.out.splitlines()
    assert len(lines) == 3, result.out  # two findings and the summary
    assert not [line for line in lines if line.startswith("::error")], result.out
    if fmt == "github":
        assert all(line.startswith("::warning ") for line in lines[:2]), result.out


# ------------------------------------------------------------------ hostile tokens


def _token_cases() -> list:
    c = CONVERSION_JSON
    hs = b'{"alg":"HS256","typ":"JWT"}'
    return [
        pytest.param(hs256(b'{"alg": HS256', c), {"token-malformed"}, id="header-not-json"),
        pytest.param(hs256(b'["HS256"]', c), {"token-malformed"}, id="header-an-array"),
        pytest.param(hs256(b'"HS256"', c), {"token-malformed"}, id="header-a-string"),
        pytest.param(hs256(hs, b'{"key": oops'), {"token-malformed"}, id="payload-not-json"),
        pytest.param(hs256(hs, b"[1, 2, 3]"), {"token-malformed"}, id="payload-an-array"),
        pytest.param(hs256(hs, b'"hello"'), {"token-malformed"}, id="payload-a-string"),
        pytest.param(hs256(hs, b"\xff\xfe"), {"token-malformed"}, id="payload-not-utf8"),
        pytest.param(hs256(b'{"typ":"JWT"}', c), {"token-malformed"}, id="alg-missing"),
        pytest.param(hs256(hs, c).rsplit(".", 1)[0], {"token-malformed"}, id="two-segments"),
        pytest.param(hs256(hs, c) + ".eyJ", {"token-malformed"}, id="four-segments"),
        pytest.param(hs256(b'{"alg":"HS256","b64":false}', c), {"token-malformed"}, id="b64-false-without-crit"),
        pytest.param(hs256(b'{"alg":"HS256","crit":["exp"]}', c), {"token-malformed"}, id="crit-unsupported"),
        pytest.param(hs256(b'{"alg":"HS256","crit":"exp"}', c), {"token-malformed"}, id="crit-not-a-list"),
        pytest.param(hs256(b'{"alg":"HS256","crit":[]}', c), {"token-malformed"}, id="crit-empty"),
        pytest.param(hs256(b'{"alg":"none","typ":"JWT"}', c).rsplit(".", 1)[0] + ".", {"token-alg"}, id="alg-none"),
        pytest.param(hs256(b'{"alg":null}', c), {"token-alg"}, id="alg-null"),
        pytest.param(hs256(b'{"alg":"RS256","typ":"JWT"}', c), {"token-alg"}, id="alg-RS256"),
        pytest.param(hs256(b'{"alg":"ES256","typ":"JWT"}', c), {"token-alg"}, id="alg-ES256"),
        pytest.param(hs256(b'{"alg":"PS256","typ":"JWT"}', c), {"token-alg"}, id="alg-PS256"),
        pytest.param(jwt.encode(CONVERSION, SECRET, algorithm="HS512"), {"token-alg"}, id="alg-HS512-with-the-secret"),
        pytest.param(jwt.encode(CONVERSION, SECRET, algorithm="HS256", headers={"kid": "../../../etc/passwd"}), set(),
                     id="kid-path-signed-with-the-secret"),
        pytest.param(jwt.encode(CONVERSION, OTHER_SECRET, algorithm="HS256",
                                headers={"kid": "attacker", "jku": "https://attacker.example/jwks.json",
                                         "x5u": "https://attacker.example/cert.pem"}),
                     {"token-signature"}, id="jku-x5u-elsewhere-signed-with-another-key"),
        pytest.param(jwt.encode(CONVERSION, SECRET, algorithm="HS256",
                                headers={"jku": "https://attacker.example/jwks.json", "x5u": "https://attacker.example/c.pem",
                                         "jwk": {"kty": "oct", "k": b64url(OTHER_SECRET.encode())}}),
                     set(), id="jku-x5u-jwk-signed-with-the-secret"),
        pytest.param(jwt.encode(CONVERSION, OTHER_SECRET, algorithm="HS256",
                                headers={"jwk": {"kty": "oct", "k": b64url(OTHER_SECRET.encode())}}),
                     {"token-signature"}, id="embedded-jwk-of-the-signing-key"),
        pytest.param(jwt.encode(CONVERSION, OUTBOX_SECRET, algorithm="HS256"), {"token-signature"},
                     id="inbox-flow-token-signed-with-the-outbox-secret"),
    ]


@pytest.mark.parametrize("token,rules", _token_cases())
def test_hostile_token_gets_its_finding_at_its_line(env, run, monkeypatch, token, rules):
    monkeypatch.setenv("OO_JWT_SECRET_OUTBOX", OUTBOX_SECRET)
    docs = docs_with(env, conversion_page(token).encode())
    result, report = check_docs(run, docs)
    assert findings_of(report, "a.md") == {(rule, TOKEN_LINE) for rule in rules}, report["findings"]
    assert_clean_run(report)


@pytest.mark.parametrize(
    "header,payload",
    [
        pytest.param(b'{"alg":"HS256"}', b'{"filetype": NaN}', id="payload-NaN"),
        pytest.param(b'{"alg":"HS256"}', b'{"filetype": 1e400}', id="payload-beyond-double"),
        pytest.param(b'{"alg":"HS256"}', b'{"filetype": 1' + b"0" * 5000 + b"}", id="payload-5000-digit-integer"),
        pytest.param(b'{"alg":"HS256"}', b'{"filetype": "docx", "filetype": "pdf"}', id="payload-duplicate-key"),
        pytest.param(b'{"alg":"HS256","alg":"none"}', CONVERSION_JSON, id="header-duplicate-alg"),
        pytest.param(b'{"alg":"HS256"}', b'{"filetype": ' + b"[" * 5000 + b"]" * 5000 + b"}", id="payload-nested-5000-deep"),
        pytest.param(b'{"alg":"HS256","x":' + b"[" * 5000 + b"]" * 5000 + b"}", CONVERSION_JSON, id="header-nested-5000-deep"),
    ],
)
def test_token_with_odd_json_never_breaks_the_page(env, run, header, payload):
    """Not JSON as RFC 8259 means it, but Python's json reads some of it: any token finding will do,
    at the token's line, never a checker failure."""
    docs = docs_with(env, conversion_page(hs256(header, payload)).encode())
    result, report = check_docs(run, docs)
    found = findings_of(report, "a.md", LEVELS + ("info",))
    assert found and all(rule.startswith("token-") and line == TOKEN_LINE for rule, line in found), report["findings"]
    assert_clean_run(report)


def test_an_hmac_token_is_verified_only_with_its_flows_secret_and_hs256(env, run, monkeypatch):
    """No key confusion: whatever the token's header says, PyJWT's verification is asked for HS256
    with the flow's own secret only (never another role's secret, never 'none', never an RSA/EC alg)."""
    monkeypatch.setenv("OO_JWT_SECRET_OUTBOX", OUTBOX_SECRET)
    calls = []
    real_decode = jwt.decode

    def spy(token, key="", algorithms=None, *args, **kwargs):
        calls.append((key, tuple(algorithms or ())))
        return real_decode(token, key, algorithms, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", spy)
    c = CONVERSION_JSON
    tokens = [
        jwt.encode(CONVERSION, SECRET, algorithm="HS256"),
        jwt.encode(CONVERSION, OUTBOX_SECRET, algorithm="HS256"),
        jwt.encode(CONVERSION, SECRET, algorithm="HS384"),
        hs256(b'{"alg":"RS256"}', c, key=SECRET),
        hs256(b'{"alg":"ES256"}', c, key=SECRET),
        hs256(b'{"alg":"PS256"}', c, key=SECRET),
        hs256(b'{"alg":"none"}', c).rsplit(".", 1)[0] + ".",
        hs256(b'{"alg":"HS256","jku":"https://attacker.example/jwks.json"}', c, key=OTHER_SECRET),
    ]
    docs = env / "docs"
    docs.mkdir()
    for i, token in enumerate(tokens):
        (docs / f"t{i}.md").write_text(conversion_page(token), encoding="utf-8")
    result, report = check_docs(run, docs)
    assert calls, "no signature was verified at all"
    assert set(calls) == {(SECRET, ("HS256",))}, calls
    rules = {Path(f["path"]).name: f["rule"] for f in report["findings"] if f["severity"] == "error"}
    assert "t0.md" not in rules
    assert rules == {"t1.md": "token-signature", "t2.md": "token-alg", "t3.md": "token-alg", "t4.md": "token-alg",
                     "t5.md": "token-alg", "t6.md": "token-alg", "t7.md": "token-signature"}, report["findings"]


# ------------------------------------------------------------------ folders, links and odd files


def test_folder_with_symlink_loops_is_walked_once(env, run):
    docs = docs_with(env, conversion_page(jwt.encode(CONVERSION, SECRET)).encode())
    (docs / "sub").mkdir()
    (docs / "sub" / "page.md").write_text(NEIGHBOUR, encoding="utf-8")
    (docs / "sub" / "up").symlink_to("..")  # docs/sub/up -> docs
    (docs / "loop").symlink_to("loop")  # a link to itself
    (docs / "sub" / "again").symlink_to(docs.resolve())
    result, report = check_docs(run, docs)
    # generous, not a benchmark: 0.27 s on a quiet machine (37x); a walk that followed the links
    # round and round would not end at all
    assert result.seconds < 10
    assert report["summary"]["pages"] == 3  # a.md, sub/page.md, z.md: no page twice through a link
    assert findings_of(report, "page.md") == {NEIGHBOUR_FINDING}
    assert_clean_run(report)


@pytest.mark.parametrize("kind", ["dangling-symlink", "symlink-to-itself"])
def test_unreadable_page_is_page_unreadable_and_the_run_goes_on(env, run, kind):
    docs = docs_with(env, None)
    if kind == "dangling-symlink":
        (docs / "a.md").symlink_to(env / "no-such-target.md")
    else:
        (docs / "a.md").symlink_to("a.md")
    result, report = check_docs(run, docs)
    assert findings_of(report, "a.md") == {("page-unreadable", 1)}, report["findings"]
    message = next(f["message"] for f in report["findings"] if f["rule"] == "page-unreadable")
    assert "cannot read" in message
    assert_clean_run(report)
    assert result.rc == 1


@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_missing_path_is_a_one_line_error(env, run, command):
    (env / "z.md").write_text(NEIGHBOUR, encoding="utf-8")
    assert_one_line_error(run(command, "z.md", "no/such/page.md"), "no/such/page.md")


def test_a_symlink_loop_given_as_the_path_is_a_one_line_error(env, run):
    (env / "loop").symlink_to("loop")
    assert_one_line_error(run("check", "--no-cache", "loop"), "loop")


def _subprocess_check(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess | None:
    """Run the command in a subprocess; None if it did not finish within ``timeout`` seconds."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env["OO_JWT_SECRET"] = SECRET
    code = "import sys; from mkdocs_oo_jwt.cli import main; sys.exit(main(sys.argv[1:]))"
    try:
        return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_fifo_named_md_does_not_hang_the_run(tmp_path, command):
    docs = docs_with(tmp_path, None)
    os.mkfifo(docs / "a.md")
    args = [command, "--format", "json", "docs"] + (["--no-cache"] if command == "check" else [])
    done = _subprocess_check(args, tmp_path, timeout=15)  # a hang guard: 0.26 s on a quiet machine (58x)
    assert done is not None, "the run hung on the FIFO"
    report = json.loads(done.stdout)
    assert findings_of(report, "a.md") == {("page-unreadable", 1)}
    assert NEIGHBOUR_FINDING in findings_of(report, "z.md")


# ------------------------------------------------------------------ flows folders


FLOW_META = {"flow": "myflow", "role": "inbox", "token": "jwt", "transports": ["body"],
             "endpoints": ["/myflow"], "methods": ["POST"], "hints": ["my flow"]}
MY_PAGE = '# My flow\n\n<!-- oo-jwt: flow=myflow -->\n\n```json\n{"a": 1, "token": "<oo-jwt>"}\n```\n'


def _schema(**extra) -> dict:
    return {"$id": "https://flows.invalid/my.json", "x-oo-jwt": FLOW_META, "type": "object", **extra}


@pytest.mark.parametrize(
    "content,needle",
    [
        pytest.param(json.dumps(_schema(type="objekt")), "my.json", id="not-a-valid-json-schema"),
        pytest.param('{"$id": oops', "my.json", id="not-json"),
        pytest.param(b'{"$id": "\xff"}', "my.json", id="not-utf8"),
        pytest.param("[1, 2]", "my.json", id="not-an-object"),
        pytest.param(json.dumps({"x-oo-jwt": FLOW_META}), "my.json", id="no-id"),
        pytest.param(json.dumps(_schema(**{"x-oo-jwt": {"flow": "m", "transports": "body"}})), "my.json", id="bad-x-oo-jwt"),
        pytest.param(json.dumps(_schema(**{"x-oo-jwt": {**FLOW_META, "role": "admin"}})), "my.json", id="unknown-role"),
        pytest.param(json.dumps(_schema(properties={"a": {"$ref": "https://attacker.example/s.json#/x"}})),
                     "fetched", id="ref-to-an-https-url"),
        pytest.param(json.dumps(_schema(properties={"a": {"$ref": "http://169.254.169.254/latest/meta-data"}})),
                     "fetched", id="ref-to-an-http-url"),
        pytest.param(json.dumps(_schema(properties={"a": {"$ref": "file:///etc/passwd"}})), "fetched",
                     id="ref-to-a-file-url"),
        pytest.param(json.dumps(_schema(properties={"a": {"$ref": "//attacker.example/s.json"}})), "my.json",
                     id="ref-to-a-network-path"),
        pytest.param(json.dumps(_schema(properties={"a": {"$ref": "other.json#/x"}})), "my.json",
                     id="ref-to-a-schema-not-loaded"),
        pytest.param(json.dumps(_schema(properties={"a": {"$ref": "#/$defs/nope"}})), "my.json",
                     id="ref-to-a-missing-def"),
        pytest.param('{"$id": "https://flows.invalid/my.json", "x-oo-jwt": ' + json.dumps(FLOW_META)
                     + ', "properties": {"a": ' + '{"items": ' * 100_000 + "{}" + "}" * 100_000 + "}}",
                     "my.json", id="nested-100000-deep"),
        pytest.param('{"$id": "https://flows.invalid/my.json", "x-oo-jwt": ' + json.dumps(FLOW_META)
                     + ', "properties": {"a": ' + '{"items": ' * 400 + "{}" + "}" * 400 + "}}",
                     "my.json", id="nested-400-deep"),
    ],
)
@pytest.mark.parametrize("command", ["check", "fix"])
def test_flows_folder_with_a_bad_schema_is_a_one_line_error(env, run, command, content, needle):
    flows = env / "flows"
    flows.mkdir()
    (flows / "my.json").write_bytes(content if isinstance(content, bytes) else content.encode())
    (env / "my.md").write_text(MY_PAGE, encoding="utf-8")
    (env / "z.md").write_text(NEIGHBOUR, encoding="utf-8")
    before = (env / "my.md").read_bytes()
    extra = ["--no-cache"] if command == "check" else []
    result = run(command, *extra, "--flows-dir", "flows", "my.md", "z.md")
    assert_one_line_error(result, needle)
    assert (env / "my.md").read_bytes() == before


@pytest.mark.parametrize("content,needle", [
    pytest.param(json.dumps(_schema(type="objekt")), "my.json", id="not-a-valid-json-schema"),
    pytest.param(json.dumps(_schema(properties={"a": {"$ref": "https://attacker.example/s.json#/x"}})), "fetched",
                 id="ref-to-an-https-url"),
])
def test_a_bad_flows_folder_is_a_one_line_error_while_workers_check_a_big_tree(env, run, content, needle):
    """200 pages: they go to worker processes before the flows are read; the run still ends with
    the one-line error, and no worker's traceback."""
    flows = env / "flows"
    flows.mkdir()
    (flows / "my.json").write_text(content, encoding="utf-8")
    for i in range(200):
        (env / f"p{i:03}.md").write_text(MY_PAGE if i % 2 else NEIGHBOUR, encoding="utf-8")
    result = run("check", "--no-cache", "--jobs", "2", "--flows-dir", "flows", ".")
    assert_one_line_error(result, needle)


def test_a_flows_folder_that_is_missing_is_a_one_line_error(env, run):
    (env / "z.md").write_text(NEIGHBOUR, encoding="utf-8")
    assert_one_line_error(run("check", "--no-cache", "--flows-dir", "nowhere", "z.md"), "nowhere")


# ------------------------------------------------------------------ config files


@pytest.mark.parametrize(
    "name,content,needle",
    [
        pytest.param("pyproject.toml", "[tool.oo-jwt\nversion = ", "pyproject.toml", id="toml-syntax"),
        pytest.param("pyproject.toml", b"[tool.oo-jwt]\nversion = \"\xff\"\n", "pyproject.toml", id="toml-not-utf8"),
        pytest.param("mkdocs.yml", "site_name: x\nplugins:\n  - oo-jwt: {\n  bad: [\n", "mkdocs.yml", id="yaml-syntax"),
        pytest.param("mkdocs.yml", b"site_name: \xff\nplugins:\n  - oo-jwt\n", "mkdocs.yml", id="yaml-not-utf8"),
        pytest.param("mkdocs.yml", "site_name: x\n", "mkdocs.yml", id="yaml-without-the-plugin"),
        pytest.param("mkdocs.yml", "site_name: x\nplugins:\n  - oo-jwt\nx: " + "[" * 100_000 + "]" * 100_000 + "\n",
                     "mkdocs.yml", id="yaml-nested-100000-deep"),
        pytest.param("pyproject.toml", "[tool.oo-jwt]\nunknown_option = 1\n", "unknown_option", id="toml-unknown-option"),
        pytest.param("pyproject.toml", "[tool]\n\"oo-jwt\" = 3\n", "pyproject.toml", id="toml-section-not-a-table"),
        pytest.param("pyproject.toml", "[tool.oo-jwt]\nfail_on = 3\n", "fail_on", id="toml-fail-on-int"),
        pytest.param("pyproject.toml", "[tool.oo-jwt]\nsecret_env = 3\n", "secret_env", id="toml-secret-env-int"),
        pytest.param("pyproject.toml", "tool = 3\n", "pyproject.toml", id="toml-tool-not-a-table"),
        pytest.param("pyproject.toml", "[tool.oo-jwt]\ndisable = 3\n", "disable", id="toml-disable-int"),
        pytest.param("pyproject.toml", "[tool.oo-jwt]\nflows_dir = 3\n", "flows_dir", id="toml-flows-dir-int"),
        pytest.param("pyproject.toml", "[tool.oo-jwt]\nsecret_env = {inbox = 3}\n", "secret_env",
                     id="toml-secret-env-role-int"),
        pytest.param("mkdocs.yml", "site_name: x\nplugins: 3\n", "mkdocs.yml", id="yaml-plugins-int"),
        pytest.param("mkdocs.yml", "site_name: x\nplugins:\n  - oo-jwt: 3\n", "mkdocs.yml", id="yaml-section-int"),
        pytest.param("mkdocs.yml", "site_name: x\nplugins:\n  - oo-jwt: [1, 2]\n", "mkdocs.yml", id="yaml-section-list"),
        pytest.param("pyproject.toml", "[tool.oo-jwt]\nversion = \"abc\"\n", "abc", id="toml-version-not-a-number"),
    ],
)
def test_config_file_that_cannot_be_used_is_a_one_line_error(env, run, name, content, needle):
    (env / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    (env / "z.md").write_text(NEIGHBOUR, encoding="utf-8")
    assert_one_line_error(run("check", "--no-cache", "--config", name, "z.md"), needle)


def test_a_missing_config_file_is_a_one_line_error(env, run):
    (env / "z.md").write_text(NEIGHBOUR, encoding="utf-8")
    assert_one_line_error(run("check", "--no-cache", "--config", "nowhere.toml", "z.md"), "nowhere.toml")


def test_yaml_python_tags_in_mkdocs_yml_are_not_executed(env, run):
    marker = env / "pwned"
    (env / "mkdocs.yml").write_text(
        "site_name: !!python/object/apply:os.system ['touch pwned']\n"
        "extra: !!python/object/apply:builtins.exec ['open(\"pwned\", \"w\")']\nplugins:\n  - oo-jwt\n",
        encoding="utf-8")
    (env / "z.md").write_text(NEIGHBOUR, encoding="utf-8")
    result = run("check", "--no-cache", "--format", "json", "--config", "mkdocs.yml", "z.md")
    assert not marker.exists()
    assert NEIGHBOUR_FINDING in findings_of(result.report(), "z.md")


# ------------------------------------------------------------------ oo-jwt fix on hostile pages


STALE = jwt.encode({**CONVERSION, "url": "http://example.com/another-document.docx"}, SECRET)
FRESH = jwt.encode(CONVERSION, SECRET)
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"# Title\n\nSome prose.\nabc \xff def\n", id="invalid-utf8"),
        pytest.param(PNG, id="binary-png-named-md"),
        pytest.param(b"", id="empty-file"),
        pytest.param(json_page("{", '    "a": NaN,', '    "a": 1e400', "}"), id="not-json-numbers"),
        pytest.param(json_page("{", '    "a": 1,', '    "a": 2', "}"), id="duplicate-keys"),
        pytest.param(conversion_page(hs256(b'{"alg": HS256', CONVERSION_JSON)).encode(), id="token-header-not-json"),
        pytest.param(conversion_page(hs256(b'{"alg":"HS256"}', b"[1]")).encode(), id="token-payload-an-array"),
        pytest.param(conversion_page(hs256(b'{"alg":"RS256"}', CONVERSION_JSON)).encode(), id="token-alg-RS256"),
        pytest.param(conversion_page(hs256(b'{"alg":"none"}', CONVERSION_JSON)).encode(), id="token-alg-none"),
        pytest.param(conversion_page(jwt.encode(CONVERSION, OTHER_SECRET, headers={"jku": "https://attacker.example/k"})).encode(),
                     id="token-jku"),
        pytest.param(conversion_page(hs256(b'{"alg":"HS256","crit":["exp"]}', CONVERSION_JSON)).encode(),
                     id="token-crit"),
    ],
)
def test_fix_survives_a_hostile_page_and_fixes_the_others(env, run, data):
    docs = env / "docs"
    docs.mkdir()
    (docs / "a.md").write_bytes(data)
    (docs / "z.md").write_text(conversion_page(STALE), encoding="utf-8")
    result = run("fix", "--format", "json", "docs")
    report = result.report()
    assert result.rc == 1
    assert (docs / "z.md").read_text(encoding="utf-8") == conversion_page(FRESH), "the other page was not fixed"
    assert skeleton((docs / "a.md").read_bytes()) == skeleton(data), "fix changed more than a token"
    assert not [f for f in report["findings"] if f["rule"] == "internal-error"], report["findings"]
    assert sorted(p.name for p in docs.iterdir()) == ["a.md", "z.md"]  # no temporary file left


# A looker or a checker that dies, as one the OOM killer took (module functions: a checker's task
# is pickled by name). Only in a forked process: the main process's fallback runs the real thing.
_MAIN_PID = os.getpid()
_REAL: dict = {}


def _looker_dies_at_page_64(index, *args):
    if os.getpid() != _MAIN_PID and index == 64:
        os._exit(9)
    return _REAL["_look"](index, *args)


def _checker_dies(batch):
    if os.getpid() != _MAIN_PID:
        os._exit(9)
    return _REAL["check_batch"](batch)


@pytest.mark.parametrize("stage, dying", [("_look", _looker_dies_at_page_64), ("check_batch", _checker_dies)])
def test_when_a_worker_dies_its_pages_are_checked_in_the_main_process(env, run, monkeypatch, stage, dying):
    for i in range(200):
        (env / f"p{i:03}.md").write_text(MY_PAGE if i % 3 else NEIGHBOUR, encoding="utf-8")
    alone = run("check", "--no-cache", "--jobs", "1", "--format", "json", ".")
    from mkdocs_oo_jwt.run import pipeline

    monkeypatch.setitem(_REAL, stage, getattr(pipeline, stage))
    monkeypatch.setattr(pipeline, stage, dying)
    monkeypatch.setattr(sys.modules[__name__], "_MAIN_PID", os.getpid())
    workers = run("check", "--no-cache", "--jobs", "2", "--format", "json", ".")
    assert workers.rc == alone.rc == 1
    assert json.loads(workers.out)["findings"] == json.loads(alone.out)["findings"]
    assert json.loads(workers.out)["summary"] == json.loads(alone.out)["summary"]
    assert len(json.loads(alone.out)["findings"]) >= 67
    assert "Traceback" not in workers.err
