"""Review of issue 15 (``oo-jwt inspect`` and the decoded-token panels), as an integrator and a
reader meet them: a token copied out of a narrow terminal, a request body pasted whole as
``--against``, a panel under a one-line list item, a panel under a token whose difference the page
accepted with a directive.
"""

from __future__ import annotations

import json
import re
import warnings

import jwt
import pytest
from pagekit import SECRET_VARS

SECRET = "Zq7-review15-SECRET-never-shown-4Kp"
DEMO_SECRET = "oo-jwt-demo-docs-secret-2026-not-for-production"
COMMAND = {"c": "info", "key": "Khirz6zTPdfd7"}
REVISED = {"fileType": "docx", "url": "https://example.com/a.docx"}


def signed(payload, secret: str = SECRET) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode(payload, secret, algorithm="HS256")


# ------------------------------------------------------------------ inspect: the token as pasted


@pytest.mark.parametrize("broken", [
    lambda t: t[:60] + "\n" + t[60:],  # a copy from a terminal 60 columns wide
    lambda t: t[:40] + "\r\n" + t[40:90] + "\r\n" + t[90:] + "\r\n",  # from a Windows terminal
    lambda t: "Bearer " + t[:50] + "\n  " + t[50:],  # a header value folded over two lines
    lambda t: "Bearer\t" + t,  # the scheme and the token apart by a tab
], ids=["newline", "crlf-lines", "bearer-folded", "bearer-tab"])
def test_a_token_broken_over_lines_is_read_as_one(broken, env, run):
    """`oo-jwt check` reads a token broken over lines as one token; so must inspect: what it holds,
    its flow and its signature, and a word that it was given in pieces."""
    token = signed({"payload": COMMAND})
    code, out, err = run("inspect", broken(token))
    assert (code, err) == (0, ""), out
    assert '"key": "Khirz6zTPdfd7"' in out  # the payload decoded
    assert "flow: command" in out and "signature: verifies with the inbox secret" in out
    assert "result: right for command" in out
    report = json.loads(run("inspect", broken(token), "--format", "json")[1])
    assert report["ok"] and report["payload"] == {"payload": COMMAND}


def test_a_token_in_pieces_says_so(env, run):
    token = signed({"payload": COMMAND})
    _, out, _ = run("inspect", token[:60] + "\n" + token[60:])
    assert "read as one token from 2 pieces" in out


def test_whitespace_that_joins_no_token_is_still_malformed(env, run):
    """Two tokens, or words, are not one token: the whitespace is said, as before."""
    token = signed(COMMAND)
    code, out, _ = run("inspect", f"{token}\n{token}")
    assert code == 1 and "malformed" in out
    code, out, _ = run("inspect", "not a token at all")
    assert code == 1 and "malformed" in out


# ------------------------------------------------------------------ inspect: a request body as --against


def test_a_body_that_holds_its_token_says_the_body_transport(env, run):
    """An integrator pastes the request body they send, its "token" in it: the token travels in the
    body, so a wrapped payload is the body-token-with-wrapper mistake (it passed as right)."""
    wrapped = signed({"payload": COMMAND})
    (env / "body.json").write_text(json.dumps({**COMMAND, "token": wrapped}, indent=2), encoding="utf-8")
    code, out, err = run("inspect", wrapped, "--against", "body.json")
    assert (code, err) == (1, ""), out
    assert "transport: body" in out
    assert "body-token-with-wrapper" in out

    plain = signed(COMMAND)
    (env / "body.json").write_text(json.dumps({**COMMAND, "token": plain}, indent=2), encoding="utf-8")
    code, out, _ = run("inspect", plain, "--against", "body.json")
    assert code == 0 and "transport: body" in out and "the token signs exactly what it holds" in out


def test_a_config_that_holds_its_token_keeps_the_browser_transport(env, run):
    """An editor config pasted whole (its "token" in it) is the browser's: no body transport for it."""
    config = {"document": {"fileType": "docx", "key": "k1", "title": "a.docx", "url": "https://e.com/a.docx"},
              "documentType": "word", "editorConfig": {"callbackUrl": "https://e.com/cb", "mode": "edit",
                                                       "user": {"id": "1", "name": "Ann"}}}
    token = signed(config)
    (env / "config.json").write_text(json.dumps({**config, "token": token}, indent=2), encoding="utf-8")
    code, out, _ = run("inspect", token, "--against", "config.json", "--target-version", "7.0")
    assert code == 0, out
    assert "flow: editor-config" in out and "transport: browser" in out


# ------------------------------------------------------------------ panels


@pytest.fixture
def demo_secret(monkeypatch):
    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", DEMO_SECRET)


def render(text: str, **options) -> str:
    import markdown

    from mkdocs_oo_jwt.extension import OoJwtExtension

    options = {"mode": "verify", "panels": True, **options}
    return markdown.markdown(text, extensions=["pymdownx.superfences", "admonition", OoJwtExtension(**options)])


EXAMPLE = ("When calling the `setRevisedFile` method, the token signs:\n\n```json\n"
           + json.dumps(REVISED) + "\n```\n\n")


@pytest.mark.parametrize("indent", ["", "    "], ids=["page", "in-an-admonition"])
def test_a_panel_under_a_one_line_list_item_keeps_the_list_whole(indent, demo_secret):
    """Steps 1-4, the token on step 2's line: the panel goes into step 2, and the list stays one
    list (a second <ol> restarts its numbers at 1: steps 3 and 4 read as 1 and 2)."""
    steps = (f"1. Sign the parameters.\n2. Sample token: {signed(REVISED, DEMO_SECRET)}\n"
             "3. Send it with the method.\n4. Done.\n")
    if indent:
        steps = '!!! example "Steps"\n\n' + "".join(indent + line + "\n" for line in steps.splitlines())
    out = render("# Steps\n\n" + EXAMPLE + steps)
    assert out.count("oo-jwt-panel") == 1
    assert out.count("<ol>") == 1, out
    items = re.findall(r"<li>(.*?)</li>", out, re.S)
    assert len(items) == 4, out
    assert "oo-jwt-panel" in items[1] and "Done." in items[3]


def test_a_bullet_item_token_keeps_its_panel_in_the_item(demo_secret):
    out = render("# Steps\n\n" + EXAMPLE + f"- Sample token: {signed(REVISED, DEMO_SECRET)}\n- Next item.\n")
    assert out.count("<ul>") == 1, out
    items = re.findall(r"<li>(.*?)</li>", out, re.S)
    assert len(items) == 2 and "oo-jwt-panel" in items[0]


def _summary(out: str) -> str:
    import html

    found = re.search(r'<details class="oo-jwt-panel">\s*<summary>(.*?)</summary>', out, re.S)
    assert found, out
    return html.unescape(found.group(1))


def test_a_panel_never_says_exact_for_a_difference_the_page_ignores(demo_secret):
    """The page accepts a stale token with a directive (its check passes); the reader's panel must
    not say the token signs exactly the example: it shows the difference."""
    stale = signed({**REVISED, "url": "https://example.com/OLD.docx"}, DEMO_SECRET)
    text = ("# P\n\n" + EXAMPLE + "<!-- oo-jwt: ignore rule=token-payload-mismatch -->\nSample token\n\n"
            f"```\n{stale}\n```\n")
    out = render(text)
    assert "signs exactly" not in _summary(out)
    assert "/url" in out and "OLD.docx" in out


def test_a_panel_never_says_verifies_for_a_signature_the_page_ignores(demo_secret):
    other = signed(REVISED, "a-secret-of-another-server-entirely-000")
    text = ("# P\n\n" + EXAMPLE + "<!-- oo-jwt: ignore rule=token-signature -->\nSample token\n\n"
            f"```\n{other}\n```\n")
    out = render(text)
    assert "verifies" not in _summary(out)
    assert "token-signature" in out


def test_a_panel_never_says_verifies_for_a_rule_the_site_disables(demo_secret):
    other = signed(REVISED, "a-secret-of-another-server-entirely-000")
    out = render("# P\n\n" + EXAMPLE + f"Sample token\n\n```\n{other}\n```\n", disable=["token-signature"])
    assert "verifies" not in _summary(out)


def test_a_server_script_as_against_is_no_browser_config(env, run):
    """A Node.js integration builds the command body in JS and signs it: its file is no editor
    config, so the command token is not said to be sent in the browser (it was wrong for that)."""
    token = signed(COMMAND)
    (env / "status.js").write_text(
        "const jwt = require('jsonwebtoken');\n"
        "const body = {\n  c: 'info',\n  key: 'Khirz6zTPdfd7',\n};\n"
        "const token = jwt.sign(body, process.env.JWT_SECRET);\n", encoding="utf-8")
    code, out, err = run("inspect", token, "--against", "status.js")
    assert (code, err) == (0, ""), out
    assert "flow: command" in out and "not the browser" not in out
    assert "against status.js: the token signs exactly what it holds" in out


@pytest.mark.parametrize("secret", ["my server secret v1.2.3", "correct horse battery staple"])
def test_a_secret_with_spaces_pasted_as_the_token_is_named_and_not_described(secret, env, run, monkeypatch):
    """Read as a token in pieces or not, the configured secret is recognised, and nothing of it is
    said: not its words, nor how many pieces it came in (as its length is not said)."""
    monkeypatch.setenv("OO_JWT_SECRET", secret)
    code, out, err = run("inspect", secret)
    assert code == 1 and "it is the secret itself: the value of OO_JWT_SECRET" in out
    assert "pieces" not in out
    code, out, err = run("inspect", secret, "--format", "json")
    report = json.loads(out)
    assert code == 1 and [d["id"] for d in report["diagnoses"]] == ["not-a-jwt-looks-like-secret"]
    assert report["token"]["length"] is None and report["token"]["pieces"] is None
    for word in secret.split():
        if len(word) >= 5 and word != "secret":
            assert word not in out + err, word


def test_a_token_file_with_a_byte_order_mark_on_stdin(env, run, monkeypatch):
    """`oo-jwt inspect - < token.txt`, the file saved by Notepad (a BOM, CRLF): the token as written."""
    import io
    import sys

    token = signed(COMMAND)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf" + token.encode() + b"\r\n")))
    code, out, err = run("inspect", "-", "--transport", "body")
    assert (code, err) == (0, ""), out
    assert "token: 3 segment(s): a JWT" in out and "result: right for command" in out


def test_a_panel_shows_a_request_that_disagrees_with_its_token(demo_secret):
    """The token signs the example exactly, but the GET request that carries it asks for another
    path (request-mismatch, reported at the request line): the panel must not say all is well."""
    payload = {"payload": {"url": "https://example.com/url-to-document-changes.zip"}}
    token = signed(payload, DEMO_SECRET)
    text = ("# Downloading the changes\n\nThe token signs:\n\n```json\n" + json.dumps(payload, indent=4)
            + "\n```\n\nThe request:\n\n```http\nGET /url-to-changes.zip HTTP/1.1\nHost: example.com\n"
            f"Authorization: Bearer {token}\n```\n")
    out = render(text, fail_on="never")
    assert "1 problem" in _summary(out)
    assert "request-mismatch" in out and "url-to-changes.zip" in out


def test_against_a_config_file_that_declares_another_object_first(env, run):
    """An integrator's page script: a toolbar object, then the config passed to the editor. The
    config is compared (it was the first object, the toolbar: every key of the payload "extra")."""
    config = {"document": {"fileType": "docx", "key": "k1", "title": "Example Document Title.docx",
                           "url": "https://example.com/url-to-example-document.docx"},
              "documentType": "word", "editorConfig": {"callbackUrl": "https://example.com/url-to-callback.ashx"}}
    token = signed(config)
    (env / "page.js").write_text(
        "var toolbar = { height: 40 };\n"
        f"var config = {json.dumps(config)};\n"
        'var docEditor = new DocsAPI.DocEditor("placeholder", config);\n', encoding="utf-8")
    code, out, err = run("inspect", token, "--against", "page.js", "--target-version", "7.0")
    assert err == "" and "height" not in out, out
    assert "against page.js: the token signs exactly what it holds" in out


@pytest.mark.parametrize("pasted", ["oo-jwt-demo-docs-secret-2026-not-for-production", "YOUR_JWT_SECRET",
                                    "my-jwt-secret-key"])
def test_a_secret_whose_name_says_jwt_is_still_named_a_secret(pasted, env, run, monkeypatch):
    """The docs' own demo secret (it holds "jwt") pasted where the token goes, with no secret in
    the environment: "jwt" made it read as a placeholder such as "<jwt>", and no diagnosis was given."""
    monkeypatch.delenv("OO_JWT_SECRET", raising=False)
    code, out, err = run("inspect", pasted)
    assert code == 1 and "not-a-jwt-looks-like-secret" in out, out
