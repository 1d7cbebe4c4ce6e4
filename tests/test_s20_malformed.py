"""Malformed sample tokens that were passed in silence (s20-malformed).

1. A three-segment token whose signature is not as long as its algorithm's (an HS256 signature of
   28 bytes, 38 characters, instead of 32 and 43: cut short, or two joined) decodes, so a token of
   no known flow got only ``flow-unknown`` ("checked for form only") and one of a known flow only
   ``token-signature`` (with a secret; nothing without one), while ``oo-jwt inspect`` names it
   ("the signature is 28 bytes, HS256's is 32"). README: ``token-malformed`` is "a token ... [that]
   is not a well-formed JWT", and a token is whole with "three segments and a signature of its
   algorithm's length: 43 characters for HS256, 64 for HS384, 86 for HS512". So it is
   ``token-malformed``: an error in a known flow, a note (info) in none ("checked for form only,
   never more than info"), as a two-segment token is. A well-formed token of no flow is unchanged.
2. A code-block line ``Sample token: eyJ<header>.eyJ<payload>`` (a short label, then a token cut
   short, its signature lost) was silent, while the same token alone on its line is
   ``token-malformed`` (README: "so is a line holding only a token cut short ... whatever follows
   it"; "a short label, a colon and the token alone: ``Sample token: eyJ...``" is a bare sample
   token). A sentence that only mentions ``eyJ``, and prose (which reads only whole JWTs), stay
   silent.

Expected findings (rule, severity, line, column) were written from README; every case runs the real
command (``main`` in process) on real pages in tmp_path; tokens are made by PyJWT.
"""

from __future__ import annotations

import json

import jwt
import pytest
from jwt.utils import base64url_decode, base64url_encode
from pagekit import CONVERSION

SECRET = "s20-malformed-test-secret-0123456789-abcdef-0123456789-abcdefghi"  # 64 bytes, test only
# jwt.io's sample claims: no flow speaks for them
NO_FLOW = {"sub": "1234567890", "name": "John Doe", "admin": True}
# the brief of s20-extract: {"alg":"HS256"} . {"url":"https://example.com"}, its signature lost
BRIEF_TWO = "eyJhbGciOiJIUzI1NiJ9.eyJ1cmwiOiJodHRwczovL2V4YW1wbGUuY29tIn0"


def token(payload: dict, alg: str = "HS256") -> str:
    return jwt.encode(payload, SECRET, algorithm=alg)


def with_signature_of(text: str, size: int) -> str:
    """The token with a signature of ``size`` bytes (base64url as a signer writes it): its own cut
    short, or its own with bytes of another joined on."""
    signing_input, _, sig = text.rpartition(".")
    raw = base64url_decode(sig.encode())
    raw = (raw * (size // len(raw) + 1))[:size]
    return f"{signing_input}.{base64url_encode(raw).decode()}"


def findings(run, page) -> tuple[int, list[dict]]:
    code, out, _err = run("check", "--no-cache", "--format", "json", str(page))
    return code, json.loads(out)["findings"]


def where(found: list[dict]) -> list[tuple[str, str, int, int]]:
    return [(f["rule"], f["severity"], f["line"], f["column"]) for f in found]


# ------------------------------------------------------------------ 1. a signature of the wrong length

def lone_token_page(text: str) -> str:
    """A page whose only sample is ``text`` in a fenced block: line 6, column 1."""
    return f"# Tokens\n\nWhat a JWT looks like:\n\n```\n{text}\n```\n"


WRONG_LENGTH = {
    # name: (alg, signature bytes, what the message says)
    "hs256-cut-to-38-characters": ("HS256", 28, "the signature is 28 bytes, HS256's is 32"),
    "hs256-cut-to-32-characters": ("HS256", 24, "the signature is 24 bytes, HS256's is 32"),
    "hs256-two-joined": ("HS256", 64, "the signature is 64 bytes, HS256's is 32"),
    "hs256-empty": ("HS256", 0, "the signature is empty"),
    "hs512-cut-short": ("HS512", 48, "the signature is 48 bytes, HS512's is 64"),
}


@pytest.mark.parametrize("name", sorted(WRONG_LENGTH))
def test_a_signature_of_the_wrong_length_of_no_flow_is_a_malformed_note(name, env, run):
    alg, size, said = WRONG_LENGTH[name]
    text = with_signature_of(token(NO_FLOW, alg), size) if size else token(NO_FLOW, alg).rpartition(".")[0] + "."
    assert text.count(".") == 2
    page = env / "page.md"
    page.write_text(lone_token_page(text), encoding="utf-8")
    code, found = findings(run, page)
    assert where(found) == [("token-malformed", "info", 6, 1)], found
    assert said in found[0]["message"] and found[0]["flow"] is None
    assert code == 0  # a note, never a failure


def test_the_brief_hs256_token_of_38_signature_characters_is_named(env, run):
    """The brief's case in text output: not "checked for form only" alone, but what is wrong."""
    text = with_signature_of(token(NO_FLOW), 28)
    assert len(text.rpartition(".")[2]) == 38
    page = env / "page.md"
    page.write_text(lone_token_page(text), encoding="utf-8")
    code, out, _err = run("check", "--no-cache", str(page))
    assert "page.md:6:1: info token-malformed" in out and "flow-unknown" not in out
    assert code == 0


def test_a_signature_of_the_wrong_length_in_a_known_flow_is_an_error(env, run):
    """The same form check where the flow is known: an error, not only a signature that fails."""
    text = with_signature_of(token(CONVERSION), 28)
    page = env / "page.md"
    page.write_text(
        "# Conversion\n\n"
        "Sample parameters of the request to the document conversion service:\n\n"
        f"```json\n{json.dumps(CONVERSION, indent=4)}\n```\n\n"
        f"Sample token:\n\n```\n{text}\n```\n",
        encoding="utf-8",
    )
    assert page.read_text(encoding="utf-8").splitlines()[17] == text  # line 18
    code, found = findings(run, page)
    assert where(found) == [("token-malformed", "error", 18, 1)], found
    assert found[0]["flow"] == "conversion"
    assert "the signature is 28 bytes, HS256's is 32" in found[0]["message"]
    assert code == 1


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_a_well_formed_token_of_no_flow_is_unchanged(alg, env, run):
    page = env / "page.md"
    page.write_text(lone_token_page(token(NO_FLOW, alg)), encoding="utf-8")
    code, found = findings(run, page)
    assert where(found) == [("flow-unknown", "info", 6, 1)], found
    assert code == 0


# ------------------------------------------------------------------ 2. a labelled token cut short in a code block

def two_segments() -> str:
    """A conversion token whose signature segment was lost (its dot too)."""
    return token(CONVERSION).rsplit(".", 1)[0]


HEAD = (  # lines 1-14: a conversion example; the token's block opens on line 15
    "# Conversion\n\n"
    "Sample parameters of the request to the document conversion service:\n\n"
    f"```json\n{json.dumps(CONVERSION, indent=4)}\n```\n\n"
)

LABELLED = {
    # name: (the page after HEAD, with {two} for the token; (line, column) of the token)
    "fenced": ("```\nSample token: {two}\n```\n", (16, 15)),
    "fenced-then-rule": ("```text\nSample token: {two}\n---\n```\n", (16, 15)),
    "fenced-bold-label": ("```\n**Token**: {two}\n```\n", (16, 12)),
    "fullwidth-colon": ("```\n示例令牌：{two}\n```\n", (16, 6)),
    "indented": ("    Sample token: {two}\n\nDone.\n", (15, 19)),
}


@pytest.mark.parametrize("name", sorted(LABELLED))
def test_a_labelled_token_cut_short_in_a_code_block_is_malformed(name, env, run):
    body, (line, column) = LABELLED[name]
    page = env / "page.md"
    page.write_text(HEAD + body.format(two=two_segments()), encoding="utf-8")
    text = page.read_text(encoding="utf-8").splitlines()[line - 1]
    assert text[column - 1:] == two_segments()
    code, found = findings(run, page)
    assert where(found) == [("token-malformed", "error", line, column)], found
    assert found[0]["flow"] == "conversion"
    assert "2 dot-separated segment(s), expected 3" in found[0]["message"]
    assert code == 1


def test_a_labelled_token_cut_short_of_no_flow_is_a_note_as_alone(env, run):
    """The brief's token (no flow speaks for {"url": ...}) says labelled what it says alone."""
    alone = env / "alone.md"
    alone.write_text(f"# Sample\n\n```\n{BRIEF_TWO}\n```\n", encoding="utf-8")
    labelled = env / "labelled.md"
    labelled.write_text(f"# Sample\n\n```\nSample token: {BRIEF_TWO}\n```\n", encoding="utf-8")
    _, by_itself = findings(run, alone)
    code, found = findings(run, labelled)
    assert where(by_itself) == [("token-malformed", "info", 4, 1)]
    assert where(found) == [("token-malformed", "info", 4, 15)] and code == 0
    assert found[0]["message"] == by_itself[0]["message"]


SILENT = {
    # a sentence that mentions the beginning of a token: no token, in a code block or in prose
    "code-sentence": "```\nEvery token starts with eyJhbGciOiJIUzI1NiJ9.eyJ and goes on.\n```\n",
    "code-sentence-with-colon": "```\nNote: a token such as eyJhbGciOiJIUzI1NiJ9.eyJ1cmwiOi is cut short.\n```\n",
    "code-label-then-text": "```\nSample token: eyJhbGciOiJIUzI1NiJ9.eyJ1cmwiOi (cut here)\n```\n",
    "prose-sentence": "Every token starts with eyJhbGciOiJIUzI1NiJ9.eyJ and goes on.\n",
    # prose reads only whole JWTs: a labelled token cut short in a paragraph is not read
    "prose-labelled": f"Sample token: {BRIEF_TWO}\n",
}


@pytest.mark.parametrize("name", sorted(SILENT))
def test_a_mention_of_eyj_stays_silent(name, env, run):
    page = env / "page.md"
    page.write_text("# Sample\n\n" + SILENT[name], encoding="utf-8")
    code, found = findings(run, page)
    assert (code, found) == (0, [])


def test_a_part_pyjwt_cannot_decode_is_named_with_what_is_wrong(tmp_path):
    """PyJWT says "Invalid crypto padding" (no part, no position): the finding says which part."""
    import base64
    import hashlib
    import hmac
    import json as json_module

    from mkdocs_oo_jwt.cli import main

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json_module.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json_module.dumps({"url": "https://example.com/a.docx"}).encode())
    signature = b64(hmac.new(b"k" * 32, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(f"# Sample\n\n```\n{header}.{payload}.{signature[:37]}\n```\n", encoding="utf-8")
    (docs / "b.md").write_text(f"# Sample\n\n```\n{header}x.{payload}.{signature}\n```\n", encoding="utf-8")
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", "--no-cache", "--format", "json", str(docs)])
    messages = {f["path"].rsplit("/", 1)[-1]: f["message"] for f in json_module.loads(out.getvalue())["findings"]}
    assert messages["a.md"] == ("sample token: not a JWT: the signature is not valid base64url "
                                "(37 characters leave one over)")
    assert messages["b.md"].startswith("sample token: not a JWT: the header ")
    assert "padding" not in " ".join(messages.values())


# ------------------------------------------------------------------ 3. tokens broken by a botched copy (s23)
# Written from README: a JWT's segments are base64url ("no `=` padding, no `+` or `/`"); a code
# block's line holding only "two tokens glued together, a token with a blank in it" is
# token-malformed, alone or after a short label; words after a whole token stay a mention.


def padded(text: str) -> str:
    """The token as standard base64 with its padding writes it (a classic mistake)."""
    return ".".join(part + "=" * (-len(part) % 4) for part in text.split("."))


def body_token_page(value: str) -> str:
    """A conversion request whose body token is ``value``: its "token" line is line 21."""
    return (HEAD + "```http\nPOST /converter HTTP/1.1\nHost: documentserver\nContent-Type: application/json\n\n"
            f'{{\n    "token": "{value}"\n}}\n```\n')


@pytest.mark.parametrize("secret", [True, False], ids=["with-secret", "no-secret"])
def test_a_padded_token_is_malformed_not_a_signature_that_fails(secret, env, run, monkeypatch):
    text = padded(token(CONVERSION))
    assert "=" in text and jwt.decode(text, SECRET, algorithms=["HS256"], options={"verify_signature": False}) == CONVERSION
    if not secret:
        monkeypatch.delenv("OO_JWT_SECRET")
    page = env / "page.md"
    page.write_text(body_token_page(text), encoding="utf-8")
    assert page.read_text(encoding="utf-8").splitlines()[20] == f'    "token": "{text}"'
    code, found = findings(run, page)
    assert where(found) == [("token-malformed", "error", 21, 15)], found
    assert "'=' padding (a JWT's base64url has none)" in found[0]["message"]
    assert code == 1


def test_a_token_in_standard_base64_is_malformed(env, run):
    text = token(CONVERSION)
    header, payload, signature = text.split(".")
    signature = signature.replace("-", "+").replace("_", "/") if ("-" in signature or "_" in signature) else signature[:-1] + "+"
    page = env / "page.md"
    page.write_text(body_token_page(f"{header}.{payload}.{signature}"), encoding="utf-8")
    code, found = findings(run, page)
    assert where(found) == [("token-malformed", "error", 21, 15)], found
    assert "'+' or '/' (standard base64, not base64url)" in found[0]["message"]


BROKEN_LINES = {
    # name: (the code block's line, with {t} and {u} for two whole tokens; column of the token)
    "glued": ("{t}{u}", 1),
    "glued-with-a-dot": ("{t}.{u}", 1),
    "a-blank-inside": ("{t_blank}", 1),
    "labelled-a-blank-inside": ("Sample token: {t_blank}", 15),
    "padded": ("{t_padded}", 1),
}


@pytest.mark.parametrize("name", sorted(BROKEN_LINES))
def test_a_code_block_line_of_a_broken_token_is_malformed(name, env, run):
    t, u = token(CONVERSION), token({**CONVERSION, "title": "Another.docx"})
    cut = t.index(".") + 20
    line_text, column = BROKEN_LINES[name]
    line_text = line_text.format(t=t, u=u, t_blank=t[:cut] + " " + t[cut:], t_padded=padded(t))
    page = env / "page.md"
    page.write_text(HEAD + f"```\n{line_text}\n```\n", encoding="utf-8")
    assert page.read_text(encoding="utf-8").splitlines()[15] == line_text  # line 16
    code, found = findings(run, page)
    assert where(found) == [("token-malformed", "error", 16, column)], found
    assert found[0]["flow"] == "conversion" and code == 1


def test_words_after_a_whole_token_or_a_header_are_no_broken_token(env, run):
    """A whole token then words is a mention (a token of no pair: a note, not malformed); a header
    then words is prose."""
    t = token(CONVERSION)
    page = env / "page.md"
    page.write_text(HEAD + f"```\n{t} is the token of this request\n"
                           "eyJhbGciOiJIUzI1NiJ9 is the header of every HS256 token\n```\n", encoding="utf-8")
    code, found = findings(run, page)
    assert [f["rule"] for f in found if f["severity"] != "info"] == [] and code == 0, found


def conversion_with_line(extra: str, closed: bool = True) -> str:
    """HEAD's conversion example with ``extra`` as its second line (line 9), then its token."""
    body = json.dumps(CONVERSION, indent=4).splitlines()
    lines = [body[0], extra, *body[1:]] if extra else body
    if not closed:
        lines = lines[:-1]
    return ("# Conversion\n\nSample parameters of the request to the document conversion service:\n\n```json\n"
            + "\n".join(lines) + "\n```\n\n" + f"Sample token:\n\n```\n{token(CONVERSION)}\n```\n")


def test_a_comment_in_a_json_block_is_no_json_unless_it_elides(env, run):
    """README: in a json block a comment line elides only when it holds "..."; any other is not
    JSON (json-syntax at it, which says so); "// ..." makes the example partial (no finding)."""
    page = env / "page.md"
    page.write_text(conversion_with_line("    // the parameters of the conversion"), encoding="utf-8")
    code, found = findings(run, page)
    assert [(f["rule"], f["line"], f["column"]) for f in found if f["severity"] == "error"] == [("json-syntax", 7, 5)], found
    assert "a comment is not JSON" in found[0]["message"] and code == 1
    page.write_text(conversion_with_line("    // ... the other parameters"), encoding="utf-8")
    code, found = findings(run, page)
    assert (code, [f for f in found if f["severity"] != "info"]) == (0, []), found


def test_an_example_that_ends_unclosed_is_reported_where_its_text_ends(env, run):
    page = env / "page.md"
    page.write_text(conversion_with_line("", closed=False), encoding="utf-8")
    last = page.read_text(encoding="utf-8").splitlines()[10]  # line 11, the example's last line
    assert last.endswith('.docx"')
    code, found = findings(run, page)
    syntax = [f for f in found if f["rule"] == "json-syntax"]
    assert [(f["line"], f["column"]) for f in syntax] == [(11, len(last) + 1)], found
    assert "ends before its last object or array is closed" in syntax[0]["message"] and code == 1
