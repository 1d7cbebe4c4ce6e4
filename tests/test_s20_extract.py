"""Two defects a user met (s20): a token cut short in a code block, and ``inspect --against`` given
a JSON value that is not an object.

1. A code-block line holding only part of a token (two dot-separated segments, the signature lost)
   was reported by nothing when the line after it was no token text (a rule ``---``/``***``, a
   sentence) or there was none. README: "In a code block the token starts a line of its own, and
   continuation lines after a first line that is no token on its own (a part lost) are
   ``token-malformed``, never ignored", and ``token-malformed`` is "a token (by shape, or by place)
   [that] is not a well-formed JWT". The same two segments as a ``"token"`` value are already
   ``token-malformed`` ("not a JWT: 2 dot-separated segment(s), expected 3"): the code-block line
   says the same, at the token's first character, with the severity of its flow (an error for a
   token of a known flow, a note for one of none: "checked for form only, never more than info").
   A whole token broken over lines before a rule is still read as one.
2. ``oo-jwt inspect TOKEN --against FILE`` with a FILE holding a JSON string (an object encoded
   twice), a number, an array, null or a boolean: one line on stderr that says what the file
   holds, exit code 2 (as any ``--against`` file that cannot be used), never a traceback, a
   misleading difference, nor "no JSON value".

Every case runs the real command (``main`` in process) on real files; tokens are made by PyJWT.
"""

from __future__ import annotations

import io
import json
import sys

import jwt
import pytest
from pagekit import CONVERSION

SECRET = "s20-extract-test-secret-0123456789-abcdefgh"  # 43 bytes, test only
# the brief's token: {"alg":"HS256"} . {"url":"https://example.com"}, no signature segment
BRIEF_TWO = "eyJhbGciOiJIUzI1NiJ9.eyJ1cmwiOiJodHRwczovL2V4YW1wbGUuY29tIn0"
TWO_SEGMENTS = "2 dot-separated segment(s), expected 3"


def whole() -> str:
    return jwt.encode(CONVERSION, SECRET, algorithm="HS256")


def two_segments() -> str:
    """A conversion token whose signature segment was lost (its dot too)."""
    return whole().rsplit(".", 1)[0]


# lines 1-16: a conversion example and the lead-in of its sample token; the block opens on line 17
HEAD = (
    "# Conversion\n\n"
    "Sample parameters of the request to the document conversion service:\n\n"
    f"```json\n{json.dumps(CONVERSION, indent=4)}\n```\n\n"
)


def findings(run, page) -> tuple[int, list[dict]]:
    code, out, err = run("check", "--no-cache", "--format", "json", str(page))
    return code, json.loads(out)["findings"]


def where(found: list[dict]) -> list[tuple[str, str, int, int]]:
    return [(f["rule"], f["severity"], f["line"], f["column"]) for f in found]


# ------------------------------------------------------------------ 1. a token cut short in a code block

CUT_SHORT = {
    # name: (the page after HEAD, with {two} for the token; (line, column) of the token)
    "fenced-then-rule": ("Sample token:\n\n```\n{two}\n---\n```\n", (18, 1)),
    "fenced-then-stars": ("Sample token:\n\n```text\n{two}\n***\n```\n", (18, 1)),
    "fenced-then-text": ("Sample token:\n\n```\n{two}\nthen send it in the request body\n```\n", (18, 1)),
    "fenced-alone": ("Sample token:\n\n```\n{two}\n```\n", (18, 1)),
    "fenced-then-blank-then-text": ("Sample token:\n\n```\n{two}\n\nsent as it is\n```\n", (18, 1)),
    "indented-then-rule": ("Sample token:\n\n    {two}\n    ***\n\nDone.\n", (17, 5)),
    "list-item-fenced-then-rule": ("- Sample token:\n\n  ```\n  {two}\n  ---\n  ```\n", (18, 3)),
    "list-item-fenced-then-text": ("1. Sample token:\n\n   ```\n   {two}\n   sent as it is\n   ```\n", (18, 4)),
}


@pytest.mark.parametrize("name", sorted(CUT_SHORT))
def test_a_token_cut_short_in_a_code_block_is_malformed(name, env, run):
    body, (line, column) = CUT_SHORT[name]
    page = env / "page.md"
    page.write_text(HEAD + body.format(two=two_segments()), encoding="utf-8")
    assert page.read_text(encoding="utf-8").splitlines()[line - 1].strip() == two_segments()
    code, found = findings(run, page)
    assert where(found) == [("token-malformed", "error", line, column)], found
    assert found[0]["flow"] == "conversion"
    assert TWO_SEGMENTS in found[0]["message"]
    assert code == 1


def test_a_token_cut_short_of_no_flow_is_a_note_as_in_a_token_member(env, run):
    """The brief's token (no flow speaks for {"url": ...}) says in a code block what it says as a
    "token" value: token-malformed, at most info."""
    block = env / "block.md"
    block.write_text(f"# Sample\n\n```\n{BRIEF_TWO}\n---\n```\n", encoding="utf-8")
    member = env / "member.md"
    member.write_text(f'# Sample\n\n```json\n{{"url": "https://example.com", "token": "{BRIEF_TWO}"}}\n```\n',
                      encoding="utf-8")
    code, in_block = findings(run, block)
    assert where(in_block) == [("token-malformed", "info", 4, 1)] and code == 0
    _, in_member = findings(run, member)
    assert [(f["rule"], f["severity"]) for f in in_member] == [("token-malformed", "info")]
    assert TWO_SEGMENTS in in_block[0]["message"] and TWO_SEGMENTS in in_member[0]["message"]


@pytest.mark.parametrize("after", ["---", "***", "then send it in the request body", ""])
def test_a_whole_token_broken_over_two_lines_is_still_one_token(after, env, run):
    """No regression: three segments over two lines, then a rule or text, are one token that
    verifies and signs its example: nothing to report."""
    token = whole()
    page = env / "page.md"
    page.write_text(HEAD + f"Sample token:\n\n```\n{token[:60]}\n{token[60:]}\n{after}\n```\n", encoding="utf-8")
    code, found = findings(run, page)
    assert (code, found) == (0, [])


def test_a_token_cut_short_is_one_finding_not_two(env, run):
    """The line after the cut-short token that continues it (the part lost is its signature) still
    makes one malformed token, as before: not one finding for each line."""
    token = whole()
    page = env / "page.md"
    page.write_text(HEAD + f"Sample token:\n\n```\n{token[:60]}\n{two_segments()[60:]}\n---\n```\n", encoding="utf-8")
    code, found = findings(run, page)
    assert where(found) == [("token-malformed", "error", 18, 1)], found
    assert code == 1


# ------------------------------------------------------------------ 2. inspect --against a value that is not an object

COMMAND = {"c": "info", "key": "Khirz6zTPdfd7"}

NOT_AN_OBJECT = {
    # name: (the file's text, what the one line says)
    "double-encoded": (json.dumps(json.dumps(COMMAND)), "a JSON string holding the text of an object (encoded twice)"),
    "string": ('"info"\n', "a JSON string, not an object"),
    "number": ("42\n", "a JSON number, not an object"),
    "array": (json.dumps([COMMAND]), "a JSON array, not an object"),
    "null": ("null\n", "a JSON null, not an object"),
    "boolean": ("true\n", "a JSON boolean, not an object"),
    "double-encoded-with-comment": ("// the body\n" + json.dumps(json.dumps(COMMAND)) + "\n",
                                    "a JSON string holding the text of an object (encoded twice)"),
}


def header_token() -> str:
    return jwt.encode({"payload": COMMAND}, SECRET, algorithm="HS256")


@pytest.mark.parametrize("name", sorted(NOT_AN_OBJECT))
def test_inspect_against_a_value_that_is_not_an_object(name, env, run):
    text, says = NOT_AN_OBJECT[name]
    (env / "body.json").write_text(text, encoding="utf-8")
    token = header_token()
    for fmt in ("text", "json"):
        code, out, err = run("inspect", f"Bearer {token}", "--against", "body.json", "--format", fmt)
        assert (code, out) == (2, ""), (out, err)
        assert err.count("\n") == 1 and err.startswith(f"oo-jwt: error: body.json: {says}"), err
        assert token not in err and token.split(".")[1] not in err


def test_inspect_against_an_object_encoded_twice_on_stdin(env, run, monkeypatch):
    token = header_token()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(json.dumps(COMMAND)).encode())))
    code, out, err = run("inspect", f"Bearer {token}", "--against", "-")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "a JSON string holding the text of an object (encoded twice)" in err, err


def test_inspect_against_the_object_itself_still_compares(env, run):
    """The file put right (the object, not its text) is compared as before."""
    (env / "body.json").write_text(json.dumps(COMMAND), encoding="utf-8")
    code, out, err = run("inspect", f"Bearer {header_token()}", "--against", "body.json")
    assert (code, err) == (0, "")
    assert "against body.json: the token signs exactly what it holds" in out


def test_inspect_against_a_string_holding_a_token_says_so_without_quoting_it(env, run):
    """A JSON string that is a token (the token saved as the file to compare with) keeps its own
    line: the file holds only a token; neither it nor the token given is quoted."""
    token = header_token()
    (env / "body.json").write_text(json.dumps(token), encoding="utf-8")
    code, out, err = run("inspect", f"Bearer {token}", "--against", "body.json")
    assert (code, out) == (2, "")
    assert err == "oo-jwt: error: body.json: holds only a token: no parameters to compare with\n"
