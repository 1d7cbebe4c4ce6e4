"""`oo-jwt inspect`: one token, as an integrator whose token is refused runs it.

Golden cases (tests/inspect/<case>.case.json, the output read and checked by hand in <case>.txt)
are built from real mistakes, with PyJWT and a test secret: every diagnosis id has a case that
fails with it and one that passes (the mistake put right). The seed pages' tokens (copied into
tests/inspect/seeds.json) are each named with their flow and their known defect. No secret is
ever printed; exit codes are 0 (right for its flow), 1 (not), 2 (usage).
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from pathlib import Path

import jwt
import pytest
from jwt.utils import base64url_encode

HERE = Path(__file__).parent / "inspect"
# a secret anyone would recognise in an output: the grep tests look for it (and for its middle)
SECRET = "Zq7-RECOGNISABLE-SECRET-do-not-print-93xK"
CASES = sorted(p.name[: -len(".case.json")] for p in HERE.glob("*.case.json"))


def build_token(spec: dict) -> str:
    """The token a case describes, made by PyJWT: signed with the test secret (or the key named),
    unsigned for key "none", its payload encoded twice for encode "text", then mangled as a
    copy or a hand-made header would mangle it."""
    key = spec.get("key", "test")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns of short HMAC keys: the weak secret is the point
        if key == "none":
            token = jwt.encode(spec["payload"], None, algorithm="none")
        elif spec.get("encode") == "text":  # JSON.stringify'd, then signed: the payload is a JSON string
            text = json.dumps(json.dumps(spec["payload"], separators=(",", ":")))
            token = jwt.api_jws.encode(text.encode(), SECRET if key == "test" else key, algorithm="HS256")
        else:
            token = jwt.encode(spec["payload"], SECRET if key == "test" else key, algorithm="HS256")
    if "header_text" in spec:
        token = base64url_encode(spec["header_text"].encode()).decode() + token[token.index("."):]
    mangle = spec.get("mangle")
    if mangle == "cut-signature":
        token = token.rsplit(".", 1)[0]
    elif mangle == "drop-11":
        token = token[:-11]
    elif mangle == "newline-at-60":
        token = token[:60] + "\n" + token[60:]
    elif mangle == "newline-at-60-lost-signature":  # a copy from a narrow terminal that lost its last line
        token = token[:60] + "\n" + token[60:].rsplit(".", 1)[0]
    return token


def case_argv(case: dict, tmp_path: Path) -> list[str]:
    token = build_token(case["token"]) if "token" in case else ""
    argv = ["inspect", case["input"].replace("{token}", token).replace("{secret}", SECRET), *case["args"]]
    if "against" in case:
        path = tmp_path / case["against"]["name"]
        path.write_text(case["against"]["text"].replace("{token}", token), encoding="utf-8")
        argv += ["--against", case["against"]["name"]]
    return argv


# ------------------------------------------------------------------ the golden cases


@pytest.mark.parametrize("name", CASES)
def test_golden_case(name, env, run):
    case = json.loads((HERE / f"{name}.case.json").read_text(encoding="utf-8"))
    argv = case_argv(case, env)
    code, out, err = run(*argv)
    assert (code, err) == (case["exit"], ""), (out, err)
    assert out == (HERE / f"{name}.txt").read_text(encoding="utf-8")
    code, out, err = run(*argv, "--format", "json")
    report = json.loads(out)
    assert code == case["exit"] and report["ok"] is (case["exit"] == 0)
    assert [d["id"] for d in report["diagnoses"]] == case["diagnoses"]


def test_every_diagnosis_has_a_failing_and_a_passing_case():
    from mkdocs_oo_jwt.diagnosis import MISTAKES

    cases = {name: json.loads((HERE / f"{name}.case.json").read_text(encoding="utf-8")) for name in CASES}
    for mistake in MISTAKES:
        failing = [n for n, c in cases.items() if n.startswith(f"{mistake}-fail") and c["diagnoses"] == [mistake]]
        passing = [n for n, c in cases.items() if n.startswith(f"{mistake}-pass") and c["exit"] == 0]
        assert failing and passing, mistake


def test_the_goldens_say_what_an_integrator_must_see(env, run):
    """What the goldens hold, said outright, so that a regenerated golden cannot quietly lose it."""
    golden = {name: (HERE / f"{name}.txt").read_text(encoding="utf-8") for name in CASES}
    assert "payload is a JSON string: encode the object, not its text" in golden["payload-double-encoded-fail"]
    assert "it signs an editor-config payload, not a command one" in golden["token-of-other-flow-fail"]
    assert "/document/permissions/commentGroups" in golden["missing-7.1-params-fail"]
    assert "it is the secret itself: the value of OO_JWT_SECRET" in golden["not-a-jwt-looks-like-secret-fail"]
    assert "/editorConfig/mode: the --against file has \"view\", the token has \"edit\"" in golden["against-js-config-fail"]
    assert "/documentType: the --against file has \"word\", the token lacks it" in golden["against-js-config-fail"]
    assert "/payload/url: the --against file has \"https://" in golden["against-header-body-fail"]
    assert "the signature is 24 bytes, HS256's is 32" in golden["malformed-signature-cut-short"]
    assert "2 dot-separated segment(s), expected 3" in golden["malformed-signature-lost"]
    assert "whitespace (a token broken over lines?)" in golden["malformed-broken-over-lines"]
    assert "a JWT, read as one token from 2 pieces" in golden["broken-over-lines-read-as-one"]
    assert "the header is not JSON (Expecting property name enclosed in double quotes" in golden["malformed-header-not-json"]
    for name, text in golden.items():
        case = json.loads((HERE / f"{name}.case.json").read_text(encoding="utf-8"))
        assert text.splitlines()[-1].startswith("result: right" if case["exit"] == 0 else "result: wrong"), name


def test_standard_base64_is_named(env, run):
    """A payload encoded with standard base64 ("+", "/"), which PyJWT refuses: said where."""
    header, payload, signature = build_token({"payload": {"c": "info", "key": ">>>???"}}).split(".")
    assert "-" in payload or "_" in payload
    mangled = payload.replace("-", "+").replace("_", "/")
    code, out, _ = run("inspect", f"{header}.{mangled}.{signature}")
    at = min(i for i, ch in enumerate(mangled) if ch in "+/") + 1
    assert code == 1
    assert f"the payload holds '+' or '/' (standard base64, not base64url) at its character {at}" in out


# ------------------------------------------------------------------ the seed pages' tokens

SEEDS = json.loads((HERE / "seeds.json").read_text(encoding="utf-8"))["tokens"]


@pytest.mark.parametrize("entry", SEEDS, ids=[f"seed{e['seed']}-line{e['line']}-{e['flow']}" for e in SEEDS])
def test_a_seed_token_is_named_with_its_flow_and_its_known_defect(entry, env, run, monkeypatch):
    monkeypatch.delenv("OO_JWT_SECRET")  # the seeds' secret is not published: their signatures go unchecked
    argv = ["inspect", entry["input"], *entry["args"], "--format", "json"]
    if entry["against"] is not None:
        (env / "example.json").write_text(json.dumps(entry["against"], indent=2), encoding="utf-8")
        argv += ["--against", "example.json"]
    code, out, err = run(*argv)
    report = json.loads(out)
    assert (code, err) == (entry["exit"], "")
    assert report["flow"]["id"] == entry["flow"]
    assert [d["id"] for d in report["diagnoses"]] == entry["diagnoses"]
    differences = [d["pointer"] for d in report["against"]["differences"]] if report["against"] else []
    assert differences == entry["differences"]
    # the defect `oo-jwt check` reports on the page is the one inspect names
    defect = entry["known_defect"]
    assert ("token-weak-secret" in defect) == ("weak-secret" in entry["diagnoses"])
    assert all(f"token-payload-mismatch {p}" in defect for p in differences)
    if entry["flow"] == "workspace-auth":
        assert report["token"]["opaque"] and report["ok"]


def test_the_seeds_cover_every_page_with_tokens():
    assert {e["seed"] for e in SEEDS} == {"000", "001", "002", "003", "004"} and len(SEEDS) == 25
    assert sum("weak-secret" in e["diagnoses"] for e in SEEDS) == 24  # all but the opaque Workspace token
    assert sum(bool(e["differences"]) for e in SEEDS) == 7


# ------------------------------------------------------------------ input forms


def test_the_token_on_stdin_and_as_an_argument_agree(env, run, monkeypatch):
    token = build_token({"payload": {"payload": {"c": "info", "key": "k1"}}})
    _, by_argument, _ = run("inspect", f"Bearer {token}")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"Bearer {token}\n".encode())))
    code, from_stdin, err = run("inspect", "-")
    assert (code, err) == (0, "") and from_stdin == by_argument
    assert "transport: header (it was given with the Bearer scheme)" in by_argument
    assert "signature: verifies with the inbox secret (from OO_JWT_SECRET)" in by_argument
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(token.encode())))
    assert run("inspect")[2] == ""  # no TOKEN: read from stdin


def test_a_token_that_does_not_verify_with_the_roles_secret(env, run):
    token = build_token({"payload": {"c": "info", "key": "k1"}, "key": "another-long-secret-of-the-wrong-server-0000"})
    code, out, _ = run("inspect", token)
    assert code == 1 and "signature: does not verify with the inbox secret (from OO_JWT_SECRET)" in out


def test_without_a_secret_the_signature_is_said_unchecked_not_wrong(env, run, monkeypatch):
    monkeypatch.delenv("OO_JWT_SECRET")
    code, out, _ = run("inspect", build_token({"payload": {"c": "info", "key": "k1"}}), "--transport", "body")
    assert code == 0 and "signature: not checked: no inbox secret in the environment (set OO_JWT_SECRET_INBOX or OO_JWT_SECRET)" in out


def test_a_role_variable_is_the_one_used(env, run, monkeypatch):
    monkeypatch.delenv("OO_JWT_SECRET")
    monkeypatch.setenv("OO_JWT_SECRET_BROWSER", SECRET)
    token = build_token({"payload": {"c": "add", "images": [{"fileType": "png", "url": "https://e.com/i.png"}]}})
    code, out, _ = run("inspect", token)
    assert code == 0 and "verifies with the browser secret (from OO_JWT_SECRET_BROWSER)" in out


def test_a_payload_of_no_flow_asks_for_one(env, run):
    token = build_token({"payload": {"fileType": "docx", "url": "https://e.com/a.docx"}})
    code, out, _ = run("inspect", token)
    assert code == 1 and "flow: none" in out and "name it with --flow ID" in out
    code, out, _ = run("inspect", token, "--flow", "setRevisedFile")
    assert code == 0 and "flow: setRevisedFile (--flow)" in out


def test_against_stdin_and_a_json_with_a_token_member(env, run, monkeypatch):
    """--against -: the body on stdin; a body's own "token" member is left out of the comparison."""
    body = {"c": "info", "key": "k1"}
    token = build_token({"payload": body})
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps({**body, "token": token}).encode())))
    code, out, err = run("inspect", token, "--against", "-", "--transport", "body")
    assert (code, err) == (0, "") and "against -: the token signs exactly what it holds" in out


# ------------------------------------------------------------------ no secret in any output


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_secret_appears_nowhere(fmt, env, run, monkeypatch):
    """The `run` fixture fails on SECRET in stdout or stderr; here its distinctive middle too, for
    the secret pasted as the token, a token signed with it, and errors."""
    token = build_token({"payload": {"payload": {"c": "info", "key": "k1"}}})
    (env / "body.json").write_text('{"c": "info", "key": "k2"}', encoding="utf-8")
    monkeypatch.setenv("OO_JWT_SECRET_OUTBOX", SECRET + "-outbox")
    runs = [
        ("inspect", SECRET),
        ("inspect", f"Bearer {SECRET}"),
        ("inspect", SECRET, "--flow", "command"),
        ("inspect", SECRET + "." + SECRET + "." + SECRET),
        ("inspect", f"Bearer {token}", "--against", "body.json"),
        ("inspect", SECRET, "--against", "missing.json"),
        ("inspect", SECRET, "--flow", "no-such-flow"),
    ]
    for argv in runs:
        code, out, err = run(*argv, "--format", fmt)
        assert code in (1, 2)
        assert "RECOGNISABLE" not in out + err and "do-not-print" not in out + err, (argv, out, err)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SECRET.encode())))
    code, out, err = run("inspect", "-", "--format", fmt)
    assert code == 1 and "RECOGNISABLE" not in out + err
    assert "not-a-jwt-looks-like-secret" in out


def test_a_value_starting_with_a_dash_is_not_echoed_by_the_usage_error(env, run):
    """A secret (or a token) that begins with "-" reads as an unknown option: the usage error
    says so without the value; an unknown option's name is still shown, without its value."""
    dashed = "-" + SECRET
    code, out, err = run("inspect", dashed)
    assert code == 2 and "RECOGNISABLE" not in out + err and "give it after --" in err
    code, out, err = run("check", "--fial-on=warning", dashed)
    assert code == 2 and "--fial-on" in err and "RECOGNISABLE" not in err and "warning" not in err


# ------------------------------------------------------------------ exit codes


def test_exit_codes(env, run, monkeypatch):
    right = build_token({"payload": {"c": "info", "key": "k1"}})
    assert run("inspect", right, "--transport", "body")[0] == 0
    assert run("inspect", right, "--transport", "header")[0] == 1
    usage = [
        (("inspect", right, "--format", "xml"), "invalid choice"),
        (("inspect", right, "--transport", "query"), "invalid choice"),
        (("inspect", right, "--flow", "commands"), "--flow commands: no such flow (the flows: callback,"),
        (("inspect", right, "--against", "missing.json"), "missing.json: cannot read (No such file or directory)"),
        (("inspect", right, "--against", "."), ".: cannot read"),
        (("inspect", right, "--target-version", "x"), "--target-version"),
        (("inspect", right, "--flows-dir", "nowhere"), "nowhere: no such folder"),
        (("inspect", "-", "--against", "-"), "cannot both come from stdin"),
        (("inspect", "   "), "no token given"),
    ]
    (env / "broken.json").write_text('{\n  "c": "info"\n  "key": "k1"\n}\n', encoding="utf-8")
    usage.append((("inspect", right, "--against", "broken.json"), "broken.json: line 3, column 3: "))
    (env / "broken.js").write_text("var config = {document: {key: 'k1',,};\n", encoding="utf-8")
    usage.append((("inspect", right, "--against", "broken.js"), "broken.js: no JSON value, nor a JS object literal"))
    (env / "binary.json").write_bytes(b'{"c": "\xff"}')
    usage.append((("inspect", right, "--against", "binary.json"), "binary.json: not UTF-8 text"))
    for argv, says in usage:
        code, out, err = run(*argv)
        assert code == 2 and out == "", argv
        assert err.count("\n") == 1 and err.startswith("oo-jwt: error: ") and says in err, (argv, err)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    assert run("inspect", "-")[0] == 2


def test_a_token_over_the_limit_is_not_decoded(env, run):
    code, out, _ = run("inspect", "eyJ" + "A" * 70000 + ".x.y")
    assert code == 1 and "over max_token_bytes (65536): not decoded" in out


def test_an_opaque_flow_takes_any_value(env, run):
    code, out, _ = run("inspect", "sdjhfskjdhkqy739459234", "--flow", "workspace-auth")
    assert code == 0 and "its tokens are opaque, not JWTs" in out


def test_a_hostile_payload_cannot_rewrite_the_terminal(env, run):
    token = build_token({"payload": {"c": "info", "key": "k\x1b[2J\u202e1"}})
    _, out, _ = run("inspect", token)
    assert "\x1b" not in out and "\u202e" not in out and "\\u202e" in out


# ------------------------------------------------------------------ the hints in check messages


HINT_PAGES = {
    "double-encoded-header.md": (
        "# Command service\n\nRequest to the document command service:\n\n```http\nPOST /command HTTP/1.1\n"
        "Host: documentserver\nAuthorization: Bearer {header_double}\n\n{{\"c\": \"info\", \"key\": \"k1\"}}\n```\n",
        "token-wrapper", "payload is a JSON string: encode the object, not its text"),
    "double-encoded-body.md": (
        "# Command service\n\nRequest to the document command service:\n\n```http\nPOST /command HTTP/1.1\n"
        "Host: documentserver\n\n{{\"token\": \"{body_double}\"}}\n```\n",
        "token-malformed", "payload is a JSON string: encode the object, not its text"),
    "secret-as-token.md": (
        "# Command service\n\nRequest to the document command service:\n\n```http\nPOST /command HTTP/1.1\n"
        "Host: documentserver\n\n{{\"c\": \"info\", \"key\": \"k1\", \"token\": \"Xk9-pQ2rT7vB4nM8wL5c\"}}\n```\n",
        "token-malformed", "this looks like a secret, not a token"),
    "alg-none.md": (
        "# Command service\n\nRequest to the document command service:\n\n```http\nPOST /command HTTP/1.1\n"
        "Host: documentserver\n\n{{\"token\": \"{none}\"}}\n```\n",
        "token-alg", "Document Server refuses an unsigned token: sign it with HS256"),
    "expired.md": (
        "# Command service\n\nRequest to the document command service:\n\n```http\nPOST /command HTTP/1.1\n"
        "Host: documentserver\n\n{{\"token\": \"{expired}\"}}\n```\n",
        "token-expired", "Document Server refuses it: sign a fresh token"),
}


@pytest.mark.parametrize("page", sorted(HINT_PAGES))
def test_check_messages_carry_the_diagnosis_hint(page, env, run):
    body = {"c": "info", "key": "k1"}
    tokens = {
        "header_double": build_token({"payload": {"payload": json.dumps(body)}}),
        "body_double": build_token({"payload": body, "encode": "text"}),
        "none": build_token({"payload": body, "key": "none"}),
        "expired": build_token({"payload": {**body, "exp": 1700000000}}),
    }
    text, rule, hint = HINT_PAGES[page]
    (env / page).write_text(text.format(**tokens), encoding="utf-8")
    _, out, _ = run("check", "--no-cache", "--format", "json", page)
    messages = [f["message"] for f in json.loads(out)["findings"] if f["rule"] == rule]
    assert messages and all(hint in m for m in messages), json.loads(out)["findings"]


def test_a_value_that_is_no_secret_gets_no_secret_hint(env, run):
    """A placeholder or a plain word where the token goes is not called a secret."""
    for value in ("YOUR_JWT_TOKEN", "<token>", "insertImage", "Smith"):
        page = ("# Command service\n\nRequest to the document command service:\n\n```http\nPOST /command HTTP/1.1\n"
                f"Host: documentserver\n\n{{\"c\": \"info\", \"token\": \"{value}\"}}\n```\n")
        (env / "page.md").write_text(page, encoding="utf-8")
        _, out, _ = run("check", "--no-cache", "--format", "json", "page.md")
        messages = [f["message"] for f in json.loads(out)["findings"]]
        assert not any("looks like a secret" in m for m in messages), (value, messages)
