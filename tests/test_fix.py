"""``oo-jwt fix``: golden before/after pages, and what a user sees when running it.

Every page is written by the test; every expected token is made here with PyJWT
(``jwt.encode(payload, SECRET, "HS256")``), never by the tool.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys

import jwt
import pytest
from pagekit import CONVERSION, SECRET_VARS


SECRET = "fix-test-secret-0123456789-abcdefghijklmnop"  # 43 bytes, test only
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|<oo-jwt>")
BOM = b"\xef\xbb\xbf"

COMMAND = {"c": "info", "key": "Khirz6zTPdfd7"}
CALLBACK_BROKEN = {"key": "Khirz6zTPdfd7", "status": 5}  # there is no callback status 5


def sign(payload) -> str:
    return jwt.encode(payload, SECRET, algorithm="HS256")


STALE_CONVERSION = sign({**CONVERSION, "url": "http://example.com/some-other-document.docx"})
STALE_CALLBACK = sign({"key": "Khirz6zTPdfd7", "status": 4})
NEW_CONVERSION = sign(CONVERSION)  # a body token signs the parameters themselves
NEW_COMMAND = sign({"payload": COMMAND})  # a header token wraps the body as {"payload": ...}


def _json(value: dict, indent: str = "    ") -> str:
    return json.dumps(value, indent=indent)


def conversion_section(token: str) -> str:
    return f"""## Request to convert the document

Sample parameters of the request to convert the document:  

```json
{_json(CONVERSION)}
```

These parameters are encoded into the token, so that the request looks like this:

```http
POST /converter HTTP/1.1
Host: documentserver
Content-Type: application/json

{{
\t"token": "{token}"
}}
```
"""


def command_section(token: str) -> str:
    return f"""## Request to receive the status of the edited document

A request to the **document command service** with the token in the header:\t

```http
POST /command HTTP/1.1
Host: documentserver
Content-Type: application/json
Authorization: Bearer {token}

{_json(COMMAND)}
```
"""


def callback_section(token: str) -> str:
    return f"""## Request to "callbackUrl" address

Sample parameters of the request to the callbackUrl:

```json
{_json(CALLBACK_BROKEN)}
```

The request sent by the document editing service:

```http
POST /url-to-callback.ashx HTTP/1.1
Host: example.com
Content-Type: application/json

{{
    "token": "{token}"
}}
```
"""


def page_text(conversion: str = STALE_CONVERSION, command: str = "<oo-jwt>", callback: str | None = None) -> str:
    parts = ["# Signature   \n\nTrailing spaces here:   \nand a tab\there, and one at the end\t\n\n"]
    parts.append(conversion_section(conversion))
    parts.append("\n")
    parts.append(command_section(command))
    if callback is not None:
        parts.append("\n")
        parts.append(callback_section(callback))
    return "".join(parts)


def to_bytes(text: str, crlf: bool = False, bom: bool = False) -> bytes:
    if crlf:
        text = text.replace("\n", "\r\n")
    return (BOM if bom else b"") + text.encode("utf-8")



def tokens(data: bytes) -> list[bytes]:
    return JWT.findall(data)


def skeleton(data: bytes) -> bytes:
    """The file with every token (and placeholder) cut out: what fix must leave byte for byte."""
    return JWT.sub(b"<TOKEN>", data)


# ------------------------------------------------------------------ golden before/after


@pytest.mark.parametrize("crlf,bom", [(False, False), (True, True), (True, False), (False, True)],
                         ids=["lf", "crlf-bom", "crlf", "lf-bom"])
def test_fix_rewrites_exactly_the_stale_tokens(env, run, crlf, bom):
    page = env / "page.md"
    before = to_bytes(page_text(callback=STALE_CALLBACK), crlf, bom)
    page.write_bytes(before)

    rc, out, err = run("fix", "page.md")

    after = page.read_bytes()
    expected = to_bytes(page_text(NEW_CONVERSION, NEW_COMMAND, STALE_CALLBACK), crlf, bom)
    assert after == expected  # the golden "after": only the two tokens differ
    assert skeleton(after) == skeleton(before)
    assert after.startswith(BOM) == bom
    assert after.count(b"\r\n") == before.count(b"\r\n")
    assert b"   \r\n" in after if crlf else b"   \n" in after  # trailing spaces kept
    assert b"\t\"token\"" in after and b"tab\there" in after  # tabs kept
    assert tokens(after) == [NEW_CONVERSION.encode(), NEW_COMMAND.encode(), STALE_CALLBACK.encode()]
    assert rc == 1
    assert "fixed page.md: 2 tokens" in out
    # the example that breaks its schema is not signed over: its error is reported instead
    assert re.search(r"page\.md:\d+:\d+: error schema \[callback\] /status", out)
    assert "page-unreadable" not in out and err == ""
    assert not [p for p in env.iterdir() if p.name != "page.md"]  # no temporary file left behind


def test_new_tokens_verify_over_their_examples(env, run):
    (env / "page.md").write_text(page_text(), encoding="utf-8")
    run("fix", "page.md")
    conversion, command = tokens((env / "page.md").read_bytes())
    assert jwt.decode(conversion, SECRET, algorithms=["HS256"]) == CONVERSION
    assert jwt.decode(command, SECRET, algorithms=["HS256"]) == {"payload": COMMAND}


def test_second_run_changes_nothing(env, run):
    page = env / "page.md"
    page.write_bytes(to_bytes(page_text(), crlf=True, bom=True))
    rc, out, _ = run("fix", "page.md")
    assert rc == 1 and "fixed page.md: 2 tokens" in out
    fixed = page.read_bytes()
    mtime = page.stat().st_mtime_ns

    rc, out, err = run("fix", "page.md")
    assert rc == 0, out + err
    assert page.read_bytes() == fixed and page.stat().st_mtime_ns == mtime
    assert "fixed" not in out
    rc, out, _ = run("check", "page.md")
    assert rc == 0, out


def test_token_made_by_pyjwt_comes_back_unchanged(env, run):
    page = env / "page.md"
    data = to_bytes(page_text(sign(CONVERSION), sign({"payload": COMMAND})), crlf=True)
    page.write_bytes(data)
    rc, out, err = run("fix", "page.md")
    assert rc == 0, out + err
    assert page.read_bytes() == data
    assert "fixed" not in out and "no problems" in out


def test_schema_broken_example_keeps_its_token(env, run):
    page = env / "page.md"
    data = page_text(sign(CONVERSION), sign({"payload": COMMAND}), callback=STALE_CALLBACK).encode()
    page.write_bytes(data)
    rc, out, _ = run("fix", "page.md")
    assert page.read_bytes() == data  # nothing to sign over: the callback example is invalid
    assert rc == 1
    assert "fixed" not in out
    assert re.search(r"error schema \[callback\] /status: 5", out)


# ------------------------------------------------------------------ --diff, formats


def test_diff_prints_a_patch_and_writes_nothing(env, run):
    page = env / "page.md"
    before = to_bytes(page_text(), crlf=True, bom=True)
    page.write_bytes(before)
    mtime = page.stat().st_mtime_ns

    rc, out, err = run("fix", "--diff", "page.md")

    assert rc == 1  # it would change something
    assert page.read_bytes() == before and page.stat().st_mtime_ns == mtime
    assert out.startswith("--- a/page.md\n+++ b/page.md\n@@ ")
    assert f"-\t\"token\": \"{STALE_CONVERSION}\"\r\n" in out
    assert f"+\t\"token\": \"{NEW_CONVERSION}\"\r\n" in out
    assert "-Authorization: Bearer <oo-jwt>\r\n" in out
    assert f"+Authorization: Bearer {NEW_COMMAND}\r\n" in out
    assert "would fix page.md: 2 tokens" in err
    if shutil.which("git"):  # the diff is a patch git applies, giving what fix writes
        subprocess.run(["git", "init", "-q", str(env)], check=True)
        (env / "page.patch").write_bytes(out.encode("utf-8"))
        subprocess.run(["git", "apply", "page.patch"], cwd=env, check=True)
        patched = page.read_bytes()
        page.write_bytes(before)
        run("fix", "page.md")
        assert patched == page.read_bytes()


def test_diff_with_nothing_to_fix_is_empty(env, run):
    (env / "page.md").write_text(page_text(sign(CONVERSION), sign({"payload": COMMAND})), encoding="utf-8")
    rc, out, _ = run("fix", "--diff", "page.md")
    assert rc == 0 and out == ""


def test_json_format_stays_one_object(env, run):
    (env / "page.md").write_text(page_text(callback=STALE_CALLBACK), encoding="utf-8")
    rc, out, err = run("fix", "--format", "json", "page.md")
    assert rc == 1
    report = json.loads(out)  # stdout is exactly one JSON object
    assert [f["rule"] for f in report["findings"] if f["severity"] == "error"].count("schema") == 1
    assert "token-payload-mismatch" not in {f["rule"] for f in report["findings"] if f["flow"] == "conversion"}
    assert err.strip() == "fixed page.md: 2 tokens"


def test_folder_is_fixed_page_by_page(env, run):
    docs = env / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.md").write_text(page_text(), encoding="utf-8")
    (docs / "sub" / "b.md").write_text(page_text(sign(CONVERSION)), encoding="utf-8")
    (docs / "notes.txt").write_text(page_text(), encoding="utf-8")  # not a page
    rc, out, _ = run("fix")  # default: docs/
    assert rc == 1
    assert "fixed docs/a.md: 2 tokens" in out and "fixed docs/sub/b.md: 1 token\n" in out
    assert (docs / "notes.txt").read_text(encoding="utf-8") == page_text()


# ------------------------------------------------------------------ files on disk


def test_file_mode_is_kept(env, run):
    page = env / "page.md"
    page.write_text(page_text(), encoding="utf-8")
    page.chmod(0o640)
    rc, _, _ = run("fix", "page.md")
    assert rc == 1
    assert stat.S_IMODE(page.stat().st_mode) == 0o640
    assert tokens(page.read_bytes())[0] == NEW_CONVERSION.encode()


def test_read_only_file_is_reported_and_left_untouched(env, run):
    page = env / "page.md"
    data = page_text().encode()
    page.write_bytes(data)
    page.chmod(0o444)
    try:
        rc, out, err = run("fix", "page.md")
        assert rc == 1
        assert page.read_bytes() == data
        assert stat.S_IMODE(page.stat().st_mode) == 0o444
        assert "page.md: read-only file: not fixed" in out
        assert "fixed page.md" not in out
        assert not [p for p in env.iterdir() if p.name != "page.md"]
    finally:
        page.chmod(0o644)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlinked_page_is_written_through_to_its_target(env, run):
    real = env / "shared"
    real.mkdir()
    target = real / "page.md"
    target.write_text(page_text(), encoding="utf-8")
    docs = env / "docs"
    docs.mkdir()
    link = docs / "page.md"
    link.symlink_to(os.path.join("..", "shared", "page.md"))

    rc, out, _ = run("fix", "docs")

    assert rc == 1 and "fixed docs/page.md: 2 tokens" in out
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "shared", "page.md")
    assert tokens(target.read_bytes())[:2] == [NEW_CONVERSION.encode(), NEW_COMMAND.encode()]
    assert sorted(p.name for p in real.iterdir()) == ["page.md"]


def test_file_changed_on_disk_during_the_fix_is_left_alone(env, run, monkeypatch):
    import mkdocs_oo_jwt.run.fixer as fixer

    page = env / "page.md"
    page.write_text(page_text(), encoding="utf-8")
    edited = page_text().replace("# Signature", "# Edited meanwhile").encode()
    real_check = fixer.check_page

    def check_then_edit(*args, **kwargs):  # someone saves the page while it is being checked
        report = real_check(*args, **kwargs)
        page.write_bytes(edited)
        return report

    monkeypatch.setattr(fixer, "check_page", check_then_edit)
    rc, out, _ = run("fix", "page.md")
    assert rc == 1
    assert page.read_bytes() == edited
    assert "page.md: changed on disk while it was being fixed: not fixed" in out
    assert not [p for p in env.iterdir() if p.name != "page.md"]


# ------------------------------------------------------------------ configuration errors


def test_no_secret_is_a_usage_error(env, run, monkeypatch):
    monkeypatch.delenv("OO_JWT_SECRET")
    page = env / "page.md"
    data = page_text().encode()
    page.write_bytes(data)
    rc, out, err = run("fix", "page.md")
    assert rc == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "OO_JWT_SECRET" in err and "secret" in err
    assert page.read_bytes() == data


def test_secret_on_the_command_line_is_refused(env, run):
    (env / "page.md").write_text(page_text(), encoding="utf-8")
    rc, out, err = run("fix", "--secret", "not-the-real-one", "page.md")
    assert rc == 2 and "environment" in err


def test_missing_path_is_a_usage_error(env, run):
    rc, _, err = run("fix", "nowhere.md")
    assert rc == 2 and "nowhere.md" in err


def test_disable_and_fail_on_apply_to_what_remains(env, run):
    data = page_text(sign(CONVERSION), sign({"payload": COMMAND}), callback=STALE_CALLBACK).encode()
    (env / "page.md").write_bytes(data)
    rc, out, _ = run("fix", "--fail-on", "never", "page.md")
    assert rc == 0 and "error schema" in out
    rc, out, _ = run("fix", "--disable", "token-payload-mismatch", "page.md")
    assert rc == 1 and "error schema" in out and "token-payload-mismatch" not in out
    assert (env / "page.md").read_bytes() == data
    rc, _, err = run("fix", "--disable", "no-such-rule", "page.md")
    assert rc == 2 and "no-such-rule" in err


REVISED_FILE = {"fileType": "docx", "url": "https://example.com/url-to-example-document.docx"}


def browser_method_page(first: str, second: str) -> str:
    """Two code blocks after a setRevisedFile example: a token alone on its line, then one after a
    short label (a text export's "Sample token: eyJ...")."""
    return f"""# setRevisedFile

When calling the setRevisedFile method to select a document for comparing, the token must be added to validate the parameters:

```json
{_json(REVISED_FILE)}
```

```
{first}
```

```text
Sample token: {second}
```
"""


def test_token_cut_to_its_header_is_signed_again_in_place(env, run):
    """A token of which only its header was pasted (alone, or after a label) is token-malformed,
    and fix puts a whole token signing the example in its place: those bytes change, no other."""
    header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # {"alg":"HS256","typ":"JWT"}
    page = env / "page.md"
    page.write_text(browser_method_page(header, header), encoding="utf-8")
    rc, out, _ = run("check", "page.md")
    assert rc == 1
    assert re.findall(r"page\.md:(\d+):(\d+): error token-malformed \[setRevisedFile\]", out) == [("13", "1"), ("17", "15")]

    rc, out, _ = run("fix", "page.md")
    assert rc == 1 and "fixed page.md: 2 tokens" in out  # a run that rewrote a page fails, as above
    new = sign(REVISED_FILE)  # a browser method's token signs the parameters themselves
    assert page.read_text(encoding="utf-8") == browser_method_page(new, new)
    rc, out, _ = run("check", "page.md")
    assert rc == 0 and "no problems" in out, out


def test_a_bare_token_that_cannot_be_read_is_signed_over_its_example_itself(env, run):
    """A sample token alone in a code block under the conversion example, cut short (its signature
    lost): fix signs the example itself, as a body token does and as the bare token shows it; not
    the {"payload": ...} of a header token (a conversion request may carry its token either way)."""
    cut = sign({"payload": CONVERSION}).rsplit(".", 1)[0]
    page = env / "page.md"
    text = ("# Conversion\n\nSample parameters of the request to the document conversion service:\n\n"
            f"```json\n{_json(CONVERSION)}\n```\n\nSample token:\n\n```\n{{token}}\n```\n")
    page.write_text(text.replace("{token}", cut), encoding="utf-8")
    rc, out, _ = run("fix", "page.md")
    assert rc == 1 and "fixed page.md: 1 token" in out
    assert page.read_text(encoding="utf-8") == text.replace("{token}", NEW_CONVERSION)
    rc, out, _ = run("check", "page.md")
    assert rc == 0 and "no problems" in out, out
