"""Outputs that cannot crash: every format, any stdout encoding, any file name, any page content.

A report is the product of a run: a crash while writing it loses every finding and (before this
was fixed) exited 1, the code that says "findings found". These tests run the real command in a
subprocess, with its stdout a file as a CI runner redirects it, under the encodings a Windows
runner or a locked-down shell gives it (``PYTHONIOENCODING=cp1252``, ``ascii:strict``), over

- a page whose file name is not UTF-8 (the byte 0xFF: Linux file names are bytes), and one whose
  name is Cyrillic;
- messages holding Cyrillic and Chinese, terminal escapes (ESC, CSI), C1 controls, U+2028/U+2029,
  bidi controls that reorder what a reader sees, and two strings that differ only by Unicode
  normalisation (NFC "é" and NFD "e" + U+0301 look the same).

Each output must parse as its format claims (``json.loads`` for json and sarif, an XML parser for
junit), exit 1 for the findings (never a crash), write no traceback, and show what it cannot carry
as visible escapes instead of dropping it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import jwt
import pytest
from pagekit import CONVERSION, NEIGHBOUR, SECRET_VARS, conversion_page

SECRET = "output-encoding-secret-0123456789-abcdefghij"  # 44 bytes, test only
FORMATS = ("text", "json", "sarif", "github", "junit")
ENCODINGS = ("utf-8", "cp1252", "ascii:strict")

# A name Linux stores as bytes and UTF-8 cannot decode: Python sees it as "p\udcffage.md".
BAD_NAME = b"p\xffage.md"
BAD_NAME_SHOWN = "p\\xffage.md"  # how every format shows it: the byte, escaped as Python does
CYRILLIC_NAME = "кириллица.md"

# What page content may smuggle into a message (through a JSON key that a finding quotes).
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
HOSTILE_KEY = "ключ 键 " + BIDI + " \x1b[2J\x1b]0;title\x07 \u2028\u2029 \x9b31m"
RAW_HAZARDS = set(BIDI) | {"\x1b", "\x07", "\u2028", "\u2029", "\x9b"}


def duplicate_key_page() -> str:
    """NEIGHBOUR (json-syntax, an error, at line 9) plus an example repeating HOSTILE_KEY."""
    key = json.dumps(HOSTILE_KEY)  # \u escapes in the page; the decoded key is the hostile text
    return NEIGHBOUR + f"\nAnother example:\n\n```json\n{{\n    {key}: 1,\n    {key}: 2\n}}\n```\n"


def command(tmp_path: Path, *args: str, encoding: str = "utf-8", env: dict | None = None) -> tuple[int, bytes, str]:
    """Run ``python -m mkdocs_oo_jwt`` with stdout redirected to a file (as a CI runner does);
    (exit code, stdout bytes, stderr)."""
    environ = {k: v for k, v in os.environ.items() if k not in SECRET_VARS and k not in ("FORCE_COLOR", "NO_COLOR")}
    environ.update({"PYTHONIOENCODING": encoding, "NO_COLOR": "1", **(env or {})})
    out_file = tmp_path / "stdout.bin"
    with open(out_file, "wb") as out:
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs_oo_jwt", *args], cwd=tmp_path, env=environ,
            stdout=out, stderr=subprocess.PIPE, timeout=120,
        )
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    return result.returncode, out_file.read_bytes(), err


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    if not sys.platform.startswith("linux"):
        pytest.skip("file names that are not UTF-8 exist on Linux only (macOS and Windows refuse them)")
    folder = tmp_path / "docs"
    folder.mkdir()
    try:
        with open(os.path.join(os.fsencode(folder), BAD_NAME), "wb") as page:
            page.write(duplicate_key_page().encode("utf-8"))
    except OSError as exc:  # a file system that refuses such names (some FUSE or network mounts)
        pytest.skip(f"this file system refuses a non-UTF-8 file name: {exc}")
    (folder / CYRILLIC_NAME).write_text(NEIGHBOUR, encoding="utf-8")
    return folder


def text_of(out: bytes, encoding: str) -> str:
    """stdout as a reader of that stream decodes it (strictly: the bytes must be in its encoding)."""
    return out.decode(encoding.split(":")[0])


def cyrillic_as_shown(encoding: str) -> str:
    """"ключ" as the stream carries it: itself, or backslash escapes when the stream cannot."""
    return "ключ" if encoding == "utf-8" else "ключ".encode("ascii", "backslashreplace").decode()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_survives_any_file_name_on_any_stdout(docs, tmp_path, fmt, encoding):
    rc, out, err = command(tmp_path, "check", "--no-cache", "--format", fmt, "docs", encoding=encoding)
    assert rc == 1, f"exit code {rc}, expected 1 (findings)\nstderr: {err[-2000:]}"
    assert out, "nothing was written"
    if fmt in ("json", "sarif"):
        doc = json.loads(out)  # RFC 8259: UTF-8 (here plain ASCII), one value
        assert out.isascii()
        # A strict JSON reader (Rust's serde_json, for one) refuses an unpaired surrogate escape.
        assert b"\\udc" not in out.lower() and b"\\ud8" not in out.lower(), out[:2000]
        if fmt == "json":
            paths = {f["path"] for f in doc["findings"]}
            assert f"docs/{BAD_NAME_SHOWN}" in paths and f"docs/{CYRILLIC_NAME}" in paths, paths
            assert ("json-syntax", 9) in {(f["rule"], f["line"]) for f in doc["findings"]
                                          if f["path"] == f"docs/{BAD_NAME_SHOWN}"}
        else:
            uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    for r in doc["runs"][0]["results"]}
            # the file name's own bytes, percent-encoded: the uri decodes back to the real name
            assert "docs/p%FFage.md" in uris, uris
            assert "docs/" + quote(CYRILLIC_NAME) in uris, uris
    elif fmt == "junit":
        root = ET.fromstring(out)  # the declaration says UTF-8: the bytes must be UTF-8
        names = {case.get("name") for case in root.iter("testcase")}
        assert names == {f"docs/{BAD_NAME_SHOWN}", f"docs/{CYRILLIC_NAME}"}, names
        # a warning fails no page under the default fail_on: its message is in the case's system-out
        messages = " ".join([*(f.get("message") for f in root.iter("failure")),
                             *(s.text or "" for s in root.iter("system-out"))])
        assert "ключ" in messages and not RAW_HAZARDS & set(messages)
    else:
        shown = text_of(out, encoding)
        assert BAD_NAME_SHOWN in shown, shown
        assert cyrillic_as_shown(encoding) in shown, shown
        assert not RAW_HAZARDS & set(shown), shown
        lines = shown.splitlines()
        assert lines[-1] == "2 errors, 1 warning, 0 infos in 2 pages", shown
        assert len(lines) == 4, shown  # two json-syntax errors, the duplicate key, the summary


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_page_content_cannot_drive_the_terminal_or_reorder_text(docs, tmp_path, fmt):
    """ESC/CSI/OSC sequences, C1 controls, line separators and bidi controls from a page are shown
    as escapes in what people read (text, github); json keeps the exact value for programs."""
    rc, out, err = command(tmp_path, "check", "--no-cache", "--format", fmt, "docs")
    assert rc == 1, err
    shown = out.decode("utf-8")
    (line,) = [line for line in shown.splitlines() if "json-duplicate-key" in line]
    for escape in ("\\x1b[2J", "\\x1b]0;title\\x07", "\\u2028", "\\u2029", "\\x9b31m", "\\u202e", "\\u2066",
                   "\\u200e", "\\u061c"):
        assert escape in line, (escape, line)
    assert not RAW_HAZARDS & set(shown), shown
    assert "ключ 键" in line

    rc, out, err = command(tmp_path, "check", "--no-cache", "--format", "json", "docs")
    (finding,) = [f for f in json.loads(out)["findings"] if f["rule"] == "json-duplicate-key"]
    assert HOSTILE_KEY in finding["message"]  # exact, for programs


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_strings_that_differ_only_by_normalisation_look_different(tmp_path, fmt):
    """The example says "Café" (NFC), the token signs "Café" (NFD: e + U+0301): the finding says
    they differ, so what it shows of them must differ too."""
    nfc, nfd = "Caf\u00e9 title.docx", "Cafe\u0301 title.docx"
    token = jwt.encode({**CONVERSION, "title": nfd}, SECRET, algorithm="HS256")
    (tmp_path / "a.md").write_text(conversion_page(token, {**CONVERSION, "title": nfc}), encoding="utf-8")
    rc, out, err = command(tmp_path, "check", "--no-cache", "--format", fmt, "a.md", env={"OO_JWT_SECRET": SECRET})
    assert rc == 1, err
    (line,) = [line for line in out.decode("utf-8").splitlines() if "token-payload-mismatch" in line]
    assert "/title" in line
    assert "Cafe\\u0301 title.docx" in line, line  # the decomposed one, escaped
    assert nfc in line, line  # the composed one as written
    assert nfd not in line


def test_a_reader_that_goes_away_is_not_a_crash(docs, tmp_path):
    """``oo-jwt check | head -1``: the pipe closes before the report is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE
    environ = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "docs"], cwd=tmp_path, env=environ,
            stdout=write_end, stderr=subprocess.PIPE, timeout=120,
        )
    finally:
        os.close(write_end)
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert result.returncode == 1, err  # the findings' code: the run itself went well


# ------------------------------------------------------------------ json-syntax: whole sentences


def json_page(*body: str, lang: str = "json") -> str:
    return (f"# Conversion\n\nSample parameters of the request to the conversion service:\n\n```{lang}\n"
            + "\n".join(body) + "\n```\n")


CURL = 'curl -X POST https://documentserver/converter -H "Content-Type: application/json" -d '


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        pytest.param((CURL + """'{"filetype": "docx", "title": "Example.docx'""",), 6,
                     "a string is not closed", id="string-not-closed-at-the-end"),
        pytest.param(('{', '    "filetype": "docx",', '    "title": "Example.docx', '}'), 8,
                     "closing quote is missing", id="string-not-closed-on-its-line"),
        pytest.param(('{', '    "filetype": "docx",', '    "title": "Exam\tple.docx"', '}'), 8,
                     "control character U+0009", id="tab-inside-a-string"),
        pytest.param(('{', '    "title": "C:\\q.docx"', '}'), 7, "\\q", id="bad-escape"),
        pytest.param(('{', '    "title": "\\u12"', '}'), 7, "\\u", id="short-u-escape"),
    ],
)
def test_a_json_syntax_message_is_a_whole_sentence(tmp_path, body, line, says):
    """The parser's message for an unterminated string or a control character ended with a bare
    "at" (the standard library appends the position to it; the finding has its own)."""
    (tmp_path / "a.md").write_text(json_page(*body, lang="sh" if body[0].startswith("curl") else "json"), encoding="utf-8")
    rc, out, err = command(tmp_path, "check", "--no-cache", "--format", "json", "a.md")
    assert rc == 1, err
    (finding,) = [f for f in json.loads(out)["findings"] if f["rule"] == "json-syntax"]
    message = finding["message"]
    assert finding["line"] == line, finding
    assert not message.rstrip(" .").endswith((" at", " starting")), message
    assert says in message, message


def test_the_rule_fixture_of_unclosed_strings_reads_in_whole_sentences(tmp_path):
    """tests/pages/rules/json-syntax-unclosed-string.md (its lines are checked with the goldens)."""
    page = Path(__file__).parent.parent / "pages" / "rules" / "json-syntax-unclosed-string.md"
    (tmp_path / "page.md").write_bytes(page.read_bytes())
    rc, out, err = command(tmp_path, "check", "--no-cache", "--format", "json", "page.md")
    assert rc == 1, err
    messages = {f["line"]: f["message"] for f in json.loads(out)["findings"] if f["rule"] == "json-syntax"}
    assert set(messages) == {12, 24}, messages
    assert "closing quote is missing" in messages[12]
    assert "control character U+0009 inside a string" in messages[24]
    assert not [m for m in messages.values() if m.endswith(" at")], messages
