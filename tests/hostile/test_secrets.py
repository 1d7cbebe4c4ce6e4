"""No secret leaks: the signing secret never appears in stdout, stderr, the JSON/SARIF/GitHub/JUnit
reports, the fixed pages, the cache, log records, exception messages or the repr() of config
objects. Each check uses a recognisable secret value (a canary) and greps for it, also base64url-
and hex-encoded. A secret on the command line is refused with a hint to use the environment.
Signature comparison is constant-time (PyJWT's verify; hmac.compare_digest for the weak-secret
check), asserted on the source of mkdocs_oo_jwt/tokens.py.

(The built site is covered by tests/test_plugin.py.)
"""

from __future__ import annotations

import ast
import base64
import copy
import inspect
import json
import logging
import os
import pickle
import re
import time
from pathlib import Path

import jwt
import pytest
from pagekit import CONVERSION, SECRET_VARS, conversion_page

from mkdocs_oo_jwt.cli import main

CANARY = "CANARY-s3cr3t-7f3a9c1e-do-not-leak-0123456789"  # 46 bytes
SECRET = CANARY  # what the shared env fixture (conftest.py) puts in OO_JWT_SECRET
CANARY_INBOX = "CANARY-inbox-5b2d8e04-do-not-leak-0123456789"
CANARY_OUTBOX = "CANARY-outbox-9c41f7a2-do-not-leak-012345678"
CANARY_BROWSER = "CANARY-browser-e8d0b3c6-do-not-leak-01234567"
SHORT_CANARY = "CANARY-sh0rt-77"  # under 32 bytes: gets a warning, which must not show it
OTHER = "not-the-docs-secret-0123456789-abcdefghijkl"

COMMAND = {"c": "info", "key": "Khirz6zTPdfd7"}


def encodings(secret: str) -> list[bytes]:
    raw = secret.encode("utf-8", "surrogateescape")
    return [raw, base64.urlsafe_b64encode(raw).rstrip(b"="), base64.b64encode(raw).rstrip(b"="), raw.hex().encode()]


def assert_no_leak(text: str | bytes, *secrets: str, where: str = "output") -> None:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    for secret in secrets:
        for form in encodings(secret):
            assert form not in data, f"the secret ({form[:12]!r}...) is in the {where}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def command_section(token: str) -> str:
    return f"""## Request to receive the status of the edited document

A request to the **document command service** with the token in the header:

```http
POST /command HTTP/1.1
Host: documentserver
Content-Type: application/json
Authorization: Bearer {token}

{json.dumps(COMMAND, indent=4)}
```
"""


def pages(folder: Path, secret: str) -> None:
    """Pages giving every kind of finding; none of them holds the secret."""
    folder.mkdir(parents=True, exist_ok=True)
    good = jwt.encode(CONVERSION, secret)
    files = {
        "good.md": conversion_page(good),
        "stale.md": conversion_page(jwt.encode({**CONVERSION, "url": "http://other"}, secret)),
        "other-key.md": conversion_page(jwt.encode(CONVERSION, OTHER)),
        "weak.md": conversion_page(jwt.encode(CONVERSION, "secret")),
        "alg.md": conversion_page(jwt.encode(CONVERSION, secret, algorithm="HS512")),
        "none.md": conversion_page(b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(CONVERSION).encode()) + "."),
        "malformed.md": conversion_page("eyJhbGciOiJIUzI1NiJ9.not-json.x"),
        "expired.md": conversion_page(jwt.encode({**CONVERSION, "exp": 1}, secret)),
        "wrapper.md": command_section(jwt.encode(COMMAND, secret)),
        "placeholder.md": command_section("<oo-jwt>"),
        "crit.md": conversion_page(
            b64url(b'{"alg":"HS256","crit":["exp"]}') + "." + b64url(json.dumps(CONVERSION).encode()) + ".c2ln"),
        "schema.md": '# Callback\n\n```json\n{"key": "k", "status": 99}\n```\n',
        "binary.md": b"\xff\xfe token \x00",
    }
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())


@pytest.fixture
def run(capsys, caplog):
    caplog.set_level(logging.DEBUG)

    def _run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            rc = main(list(argv))
        except SystemExit as exc:  # argparse exits by itself on a usage error
            rc = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
        return rc, out, err + logged

    return _run


# ------------------------------------------------------------------ outputs


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit"])
def test_check_output_never_holds_the_secret(env, run, fmt):
    pages(env / "docs", CANARY)
    rc, out, err = run("check", "--format", fmt, "--cache-dir", "cache", "docs")
    assert rc == 1 and out
    if fmt == "json":
        rules = {f["rule"] for f in json.loads(out)["findings"]}
        # the run really produced the findings whose messages talk about secrets and signatures
        assert {"token-signature", "token-weak-secret", "token-alg", "token-payload-mismatch"} <= rules, rules
    assert_no_leak(out, CANARY, where=f"{fmt} report")
    assert_no_leak(err, CANARY, where="stderr or the log")
    # the cache too, written by this run and read by the next
    assert (env / "cache" / "findings-v2.json").is_file()
    assert run("check", "--format", fmt, "--cache-dir", "cache", "docs")[:2] == (rc, out)
    for file in (env / "cache").rglob("*"):
        if file.is_file():
            assert_no_leak(file.read_bytes(), CANARY, where=f"cache file {file.name}")


@pytest.mark.parametrize("argv", [["fix"], ["fix", "--format", "json"], ["fix", "--format", "sarif"],
                                  ["fix", "--diff"], ["fix", "--diff", "--format", "junit"]],
                         ids=["text", "json", "sarif", "diff", "diff-junit"])
def test_fix_output_and_fixed_pages_never_hold_the_secret(env, run, argv):
    pages(env / "docs", CANARY)
    rc, out, err = run(*argv, "docs")
    assert rc == 1 and (out or err)
    assert_no_leak(out, CANARY, where="stdout")
    assert_no_leak(err, CANARY, where="stderr or the log")
    for page in (env / "docs").iterdir():
        assert_no_leak(page.read_bytes(), CANARY, where=f"fixed page {page.name}")
    if "--diff" not in argv:  # the placeholder really was signed with the secret
        token = re.search(r"Bearer (\S+)", (env / "docs" / "placeholder.md").read_text()).group(1)
        assert jwt.decode(token, CANARY, algorithms=["HS256"]) == {"payload": COMMAND}


def test_role_secrets_and_a_short_secret_are_never_shown(env, run, monkeypatch):
    monkeypatch.setenv("OO_JWT_SECRET", SHORT_CANARY)
    monkeypatch.setenv("OO_JWT_SECRET_INBOX", CANARY_INBOX)
    monkeypatch.setenv("OO_JWT_SECRET_OUTBOX", CANARY_OUTBOX)
    monkeypatch.setenv("OO_JWT_SECRET_BROWSER", SHORT_CANARY)
    pages(env / "docs", CANARY_INBOX)
    for fmt in ("text", "json", "sarif", "github", "junit"):
        rc, out, err = run("check", "--no-cache", "--format", fmt, "docs")
        assert rc == 1
        assert_no_leak(out + err, SHORT_CANARY, CANARY_INBOX, CANARY_OUTBOX, where=f"{fmt} run")
    rc, out, err = run("check", "--no-cache", "--format", "json", "docs")
    notices = json.loads(out)["summary"]["notices"]
    assert any("OO_JWT_SECRET_BROWSER" in n["message"] and "shorter" in n["message"] for n in notices), notices


# ------------------------------------------------------------------ the command line


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["check", "--secret", CANARY, "docs"], id="check-secret-value"),
        pytest.param(["check", f"--secret={CANARY}", "docs"], id="check-secret-equals"),
        pytest.param(["check", "docs", "--secret", CANARY], id="check-secret-after-the-path"),
        pytest.param(["fix", "--secret", CANARY, "docs"], id="fix-secret-value"),
        pytest.param(["fix", "--diff", f"--secret={CANARY}", "docs"], id="fix-diff-secret-equals"),
        pytest.param(["--secret", CANARY, "check", "docs"], id="before-the-command"),
        pytest.param(["rules", "--secret", CANARY], id="rules-secret"),
    ],
)
def test_a_secret_on_the_command_line_is_refused_and_not_echoed(env, run, argv):
    pages(env / "docs", OTHER)
    before = {p.name: p.read_bytes() for p in (env / "docs").iterdir()}
    rc, out, err = run(*argv)
    assert rc == 2
    assert "environment" in err and "OO_JWT_SECRET" in err, err
    assert_no_leak(out + err, CANARY, where="usage error")
    assert {p.name: p.read_bytes() for p in (env / "docs").iterdir()} == before


# ------------------------------------------------------------------ exception messages


class _Boom(RuntimeError):
    pass


def _explode_with_the_secret(text, secret, alg):  # stands for verifies(): a library error quoting its key
    raise _Boom(f"cannot use key {secret!r} for {alg}")


def test_a_checker_failure_never_shows_its_message(env, run, monkeypatch):
    """An exception raised while checking a page may quote the secret: check reports its class only."""
    import mkdocs_oo_jwt.rules.token as token_rules

    monkeypatch.setattr(token_rules, "verifies", _explode_with_the_secret)
    pages(env / "docs", CANARY)
    for fmt in ("text", "json", "sarif", "github", "junit"):
        rc, out, err = run("check", "--no-cache", "--jobs", "1", "--format", fmt, "docs")
        assert rc == 1
        assert "internal-error" in out or "InternalError" in out, out[:2000]
        assert_no_leak(out + err, CANARY, where=f"{fmt} report of a checker failure")


def test_a_fix_failure_never_shows_its_message(env, run, monkeypatch):
    import mkdocs_oo_jwt.rules.token as token_rules

    monkeypatch.setattr(token_rules, "verifies", _explode_with_the_secret)
    pages(env / "docs", CANARY)
    try:
        rc, out, err = run("fix", "--format", "json", "docs")
    except _Boom as exc:
        assert_no_leak(str(exc), CANARY, where="exception message printed by the traceback")
        raise
    assert rc == 1
    assert_no_leak(out + err, CANARY, where="fix output")


@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_secret_that_is_not_utf8_is_a_one_line_error(env, run, monkeypatch, command):
    secret = "CANARY-\udcff\udcfe-not-utf8-0123456789-abcdefghij"  # os.environ's surrogateescape of raw bytes
    monkeypatch.setenv("OO_JWT_SECRET", secret)
    pages(env / "docs", OTHER)
    extra = ["--no-cache"] if command == "check" else []
    rc, out, err = run(command, *extra, "docs")
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "OO_JWT_SECRET" in err, err
    assert_no_leak(out + err, secret, where="error")


def test_a_literal_secret_in_mkdocs_yml_is_refused_without_echoing_it(env, run):
    (env / "mkdocs.yml").write_text(f"site_name: x\nplugins:\n  - oo-jwt:\n      secrets:\n        inbox: {CANARY}\n",
                                    encoding="utf-8")
    pages(env / "docs", OTHER)
    rc, out, err = run("check", "--no-cache", "--config", "mkdocs.yml", "docs")
    assert rc == 2 and "!ENV" in err
    assert_no_leak(out + err, CANARY, where="configuration error")


@pytest.mark.parametrize("toml", [f'secret = "{CANARY}"', f'OO_JWT_SECRET = "{CANARY}"'],
                         ids=["secret-option", "variable-name-as-option"])
def test_a_secret_option_in_pyproject_is_an_error_that_does_not_echo_it(env, run, toml):
    """A writer pastes the secret into pyproject.toml: an unknown option, named, its value not printed."""
    (env / "pyproject.toml").write_text(f"[tool.oo-jwt]\n{toml}\n", encoding="utf-8")
    pages(env / "docs", OTHER)
    rc, out, err = run("check", "--no-cache", "docs")
    assert rc == 2
    assert_no_leak(out + err, CANARY, where="configuration error")


# ------------------------------------------------------------------ repr of the objects that hold secrets


def test_repr_of_settings_secrets_and_results_never_holds_the_secret(env):
    from mkdocs_oo_jwt.engine import check_page
    from mkdocs_oo_jwt.run.checking import check_paths
    from mkdocs_oo_jwt.flows import load_flows
    from mkdocs_oo_jwt.run.fixer import fix_paths
    from mkdocs_oo_jwt.page import Page
    from mkdocs_oo_jwt.settings import Secret, Settings, secrets_from_env

    environ = {"OO_JWT_SECRET": CANARY, "OO_JWT_SECRET_OUTBOX": CANARY_OUTBOX}
    settings = Settings()
    secrets = secrets_from_env(settings, environ)
    assert secrets and all(isinstance(s, Secret) for s in secrets.values())
    secret = secrets["inbox"]
    shown = [repr(settings), str(settings), repr(secrets), str(secrets), repr(secret), str(secret),
             f"{secret}", f"{secret!r}", "%s %r" % (secret, secret), repr(list(secrets.items()))]
    with pytest.raises(TypeError) as pickled:
        pickle.dumps(secret)
    shown.append(str(pickled.value))
    with pytest.raises(TypeError) as copied:
        copy.deepcopy(secrets)
    shown.append(str(copied.value))
    assert not hasattr(secret, "__dict__")

    pages(env / "docs", CANARY)
    page = Page.from_bytes("stale.md", (env / "docs" / "stale.md").read_bytes())
    report = check_page(page, settings, load_flows(()), secrets)
    shown += [repr(report), repr(report.fixes)]
    result = check_paths([str(env / "docs")], settings, environ=environ, jobs=1)
    shown += [repr(result), json.dumps(result.summary())]
    run = fix_paths([str(env / "docs")], settings, write=False, environ=environ)
    shown += [repr(run.result), repr([(f.shown, f.problem, f.fixes) for f in run.files])]
    for text in shown:
        assert_no_leak(text, CANARY, CANARY_OUTBOX, where=f"repr {text[:60]!r}")


def test_repr_of_the_plugin_and_its_config_never_holds_the_secret(env, monkeypatch):
    from mkdocs.config import load_config

    monkeypatch.setenv("OO_JWT_SECRET_INBOX", CANARY_INBOX)
    (env / "docs").mkdir()
    (env / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    (env / "mkdocs.yml").write_text(
        "site_name: x\nplugins:\n  - oo-jwt:\n      secrets:\n        inbox: !ENV [OO_JWT_SECRET_INBOX, null]\n",
        encoding="utf-8")
    config = load_config(str(env / "mkdocs.yml"))
    plugin = config["plugins"]["oo-jwt"]
    texts = [repr(config), str(dict(config)), repr(plugin), repr(plugin.config), repr(dict(plugin.config)),
             repr(vars(plugin))]
    for text in texts:
        assert_no_leak(text, CANARY_INBOX, where="plugin repr")


# ------------------------------------------------------------------ constant-time comparison


def _tokens_source() -> tuple[str, ast.Module]:
    import mkdocs_oo_jwt.tokens as tokens

    source = inspect.getsource(tokens)
    return source, ast.parse(source)


_SECRETISH = re.compile(r"sig|(^|_)mac($|_)|secret", re.I)  # signatures, MACs, keys: not hash constructors


def _names(node: ast.AST) -> set[str]:
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            out.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            out.add(sub.attr)
    return out


def test_the_weak_secret_check_compares_with_hmac_compare_digest():
    source, tree = _tokens_source()
    weak = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "weak_secret")
    calls = {ast.unparse(c.func) for c in ast.walk(weak) if isinstance(c, ast.Call)}
    assert "hmac.compare_digest" in calls, calls
    assert "hmac.new" in calls, calls


def test_no_signature_is_compared_with_equality_in_tokens_py():
    source, tree = _tokens_source()
    offenders = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
            names = _names(node)
            if any(_SECRETISH.search(name) for name in names):
                offenders.append(f"line {node.lineno}: {ast.unparse(node)}")
    assert not offenders, offenders
    assert not re.search(r"(signature|\bmac\b|digest\(\))\s*[!=]=|[!=]=\s*(\w+\.)?(signature|mac\b)", source)


def test_signatures_are_verified_by_pyjwt():
    source, tree = _tokens_source()
    verifies = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "verifies")
    calls = {ast.unparse(c.func) for c in ast.walk(verifies) if isinstance(c, ast.Call)}
    assert "jwt.decode" in calls, calls
    algorithms = [kw for c in ast.walk(verifies) if isinstance(c, ast.Call) and ast.unparse(c.func) == "jwt.decode"
                  for kw in c.keywords if kw.arg == "algorithms"]
    assert algorithms and ast.unparse(algorithms[0].value) == "[alg]"  # exactly one algorithm, the flow's
