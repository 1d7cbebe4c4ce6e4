"""Property tests (hypothesis) on random Markdown pages built from real fragments.

A page is front matter (or not), a title, and sections, with noise between them (paragraphs, lists,
admonitions, tabs, ts/bash fences, indented blocks, quotes, tables, comments). A section is one of the
documented shapes (a JSON example then an http body token, an http request with an Authorization
header, a bare "Sample token" block, split into content tabs or not, a JS method call, a curl command,
a "token" property), its body plain or inside an admonition, a collapsible admonition, a content tab
or a list item, its JSON indented with two or four spaces or a tab, its token freshly signed over the
example with the test secret, stale (another payload, another key, the other transport's wrapper) or
a placeholder. Some sections cannot be signed over: a partial example (``// ...``) and an example that
breaks its schema. Line endings are LF or CRLF, with or without a BOM.

Properties:
- fix never changes a byte outside token spans (pages compared with every token masked), and a
  second fix changes nothing;
- after fix, check reports no token-payload-mismatch or token-signature in a section fix can cure,
  and each cured token verifies (PyJWT, the test secret) over its example; the tokens of sections
  that cannot be signed over are left as they were;
- the extractor never raises on these pages, also cut short or with junk spliced in, and every span
  it reports lies inside the page (and a token's span holds exactly its text).

Profiles (tests/conftest.py): "ci" when CI=true (60 examples, derandomized), else "dev" (smaller).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from mkdocs_oo_jwt.run.checking import check_paths
from mkdocs_oo_jwt.extract import extract
from mkdocs_oo_jwt.run.fixer import fix_paths
from mkdocs_oo_jwt.page import Page
from mkdocs_oo_jwt.settings import Settings

SECRET = "property-test-secret-0123456789-abcdefghij"  # 43 bytes, test only
OTHER = "some-other-secret-0123456789-abcdefghijklmn"
ENV = {"OO_JWT_SECRET": SECRET}
JWT_OR_PLACEHOLDER = re.compile(rb"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|<oo-jwt>")
JWT_TEXT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
CURED_RULES = ("token-payload-mismatch", "token-signature")


def sign(payload, key: str = SECRET) -> str:
    return jwt.encode(payload, key, algorithm="HS256")


# ------------------------------------------------------------------ fragments


@dataclass
class Fragment:
    lines: list[str]
    kind: str  # "curable", "exempt", "noise"
    expected: list = field(default_factory=list)  # curable: the payloads the fixed token may sign
    token: str | None = None  # the token as written


def _json(value, indent) -> list[str]:
    return json.dumps(value, indent=indent, ensure_ascii=False).split("\n")


def _token(state: str, fresh, stale, other_form):
    return {
        "fresh": lambda: sign(fresh),
        "stale-payload": lambda: sign(stale),
        "stale-secret": lambda: sign(fresh, OTHER),
        "stale-wrapper": lambda: sign(other_form),
        "placeholder": lambda: "<oo-jwt>",
    }[state]()


def conversion(key: str, title: str) -> dict:
    return {"filetype": "docx", "key": key, "outputtype": "pdf", "title": title,
            "url": f"https://example.com/{key}.docx"}


def conv_http(n, key, title, state, indent, split):
    c = conversion(key, title)
    t = _token(state, c, {**c, "outputtype": "odt"}, {"payload": c})
    lines = ["Sample parameters of the request to the document conversion service:  ", "",
             "```json", *_json(c, indent), "```", "",
             "These parameters are encoded into the token, so that the request looks like this:", "",
             "```http", "POST /converter HTTP/1.1", "Host: documentserver", "Content-Type: application/json", "",
             "{", f'\t"token": "{t}"', "}", "```"]
    return f"Request to convert the document {n}", lines, [c], t


def cmd_header(n, key, title, state, indent, split):
    c = {"c": "info", "key": key}
    t = _token(state, {"payload": c}, {"payload": {**c, "c": "drop"}}, c)
    lines = ["A request to the **document command service** with the token in the header:\t", "",
             "```http", "POST /command HTTP/1.1", "Host: documentserver", "Content-Type: application/json",
             f"Authorization: Bearer {t}", "", *_json(c, indent), "```"]
    return f"Request to receive the status of the edited document {n}", lines, [{"payload": c}], t


def _bare(state: str) -> str:
    """A bare sample token has no wrapper to get wrong, and no placeholder (documented for the
    "token" property and the Authorization header only)."""
    return "stale-payload" if state in ("stale-wrapper", "placeholder") else state


def callback_bare(n, key, title, state, indent, split, status=4):
    c = {"key": key, "status": status}
    t = _token(_bare(state), c, {**c, "status": 2}, c)
    example = ["```json", *_json(c, indent), "```"]
    sample = ["```", t, "```"]
    if split:  # content tabs: the example in one, the token in the other
        body = ['=== "JSON"', "", *_indent(example), "", '=== "Token"', "", *_indent(sample)]
    else:
        body = [*example, "", "Sample token:", "", *sample]
    lines = ['Sample parameters of the request to the "callbackUrl" address by the document editing service:', "", *body]
    return f"Callback {n}", lines, [c, {"payload": c}], t


def callback_indented(n, key, title, state, indent, split):
    c = {"key": key, "status": 4}
    t = _token(_bare(state), c, {**c, "status": 1}, c)
    lines = ['Sample parameters of the request to the "callbackUrl" address when the document is closed:', "",
             *["    " + line for line in _json(c, indent)], "", "Sample token:", "", "    " + t]
    return f"Document closed {n}", lines, [c, {"payload": c}], t


def js_method(n, key, title, state, indent, split):
    p = {"fileType": "docx", "url": f"https://example.com/{key}.docx"}
    t = _token("stale-payload" if state == "stale-wrapper" else state, p, {**p, "fileType": "odt"}, p)
    lines = ["Select the revised version of the document and pass it to the editor:", "",
             "```js", "docEditor.setRevisedFile({", '    fileType: "docx",', f'    url: "{p["url"]}",',
             f'    token: "{t}",', "});", "```"]
    return f"Comparing documents {n}", lines, [p], t


def curl_header(n, key, title, state, indent, split):
    c = conversion(key, title)
    t = _token(state, {"payload": c}, {"payload": {**c, "outputtype": "odt"}}, c)
    body = _json(c, indent)
    lines = ["Send the parameters of the request to the document conversion service; the header token carries them:", "",
             "```bash", "curl -X POST https://documentserver/converter \\", '    -H "Content-Type: application/json" \\',
             f'    -H "Authorization: Bearer {t}" \\', "    -d '" + body[0], *body[1:-1], body[-1] + "'", "```"]
    return f"Request to convert the document with curl {n}", lines, [{"payload": c}], t


def conv_property(n, key, title, state, indent, split):
    c = conversion(key, title)
    t = _token("stale-payload" if state == "stale-wrapper" else state, c, {**c, "filetype": "odt"}, c)
    example = _json({**c, "token": "TOKEN"}, indent)
    lines = ["Sample parameters of the request to the document conversion service, with the token that signs them:", "",
             "```json", *[line.replace('"TOKEN"', f'"{t}"') for line in example], "```"]
    return f"Conversion with a token property {n}", lines, [c], t


def conv_partial(n, key, title, state, indent, split):
    """Cannot be signed over: an elided example."""
    c = conversion(key, title)
    t = sign({**c, "async": True})
    example = _json(c, indent)
    lines = ["Sample parameters of the request to the document conversion service:", "",
             "```json", example[0], "    // ...", *example[1:], "```", "",
             "The request:", "", "```http", "POST /converter HTTP/1.1", "Host: documentserver", "",
             "{", f'    "token": "{t}"', "}", "```"]
    return f"Request to convert the document, in part {n}", lines, [], t


def callback_broken(n, key, title, state, indent, split):
    """Cannot be signed over: the example breaks its schema (there is no callback status 5)."""
    heading, lines, _, t = callback_bare(n, key, title, "stale-payload", indent, split, status=5)
    return heading, lines, [], t


CURABLE = {"conv_http": conv_http, "cmd_header": cmd_header, "callback_bare": callback_bare,
           "callback_indented": callback_indented, "js_method": js_method, "curl_header": curl_header,
           "conv_property": conv_property}
EXEMPT = {"conv_partial": conv_partial, "callback_broken": callback_broken}
STATES = ("fresh", "stale-payload", "stale-secret", "stale-wrapper", "placeholder")

NOISE = {
    "paragraph": ["Every request is signed; the token is checked by the server.  ", "A second line of the paragraph."],
    "list": ["- the first item", "- the second item, with `code`", "    - a nested item"],
    "admonition": ["!!! warning", "    Never publish the real secret: the token below is only a sample."],
    "tabs": ['=== "Python"', "", "    Install it with pip.", "", '=== "Node"', "", "    Install it with npm."],
    "ts": ["```ts", 'const config = { width: "100%", height: "100%" };', "```"],
    "bash": ["```bash", "pip install mkdocs-oo-jwt", "oo-jwt check docs/", "```"],
    "indented": ["    $ oo-jwt check docs/", "    0 errors, 0 warnings"],
    "quote": ["> A quote about JSON Web Tokens,", "> on two lines."],
    "table": ["| name | value |", "| --- | --- |", "| key | Khirz6zTPdfd7 |"],
    "comment": ["<!-- a comment for writers -->"],
    "subheading": ["### Notes", "", "Nothing to see here."],
    "unicode": ["Ünïcödé ✓ 文档 — «quotes» and emoji 🎉 in prose."],
    "python": ["```python", 'token = jwt.encode(payload, secret, algorithm="HS256")', "```"],
    "trailing": ["Trailing spaces and a tab at the end:   ", "\t", "   "],
}


def _indent(lines: list[str], prefix: str = "    ") -> list[str]:
    return [prefix + line if line else "" for line in lines]


def wrap(body: list[str], how: str) -> list[str]:
    if how == "admonition":
        return ['!!! example "Sample"', *_indent(body)]
    if how == "collapsible":
        return ['???+ note "Request"', "", *_indent(body)]
    if how == "tab":
        return ['=== "Request"', "", *_indent(body)]
    if how == "list":
        return ["1. " + body[0], *_indent(body[1:])]
    return body


KEYS = st.from_regex(r"[A-Za-z0-9]{1,16}", fullmatch=True)
TITLES = st.text(alphabet=st.sampled_from(list("abcXYZ019 -._é文ü\"\\/")), min_size=1, max_size=24).map(
    lambda s: s.strip() + ".docx")


@st.composite
def sections(draw, number: int) -> Fragment:
    exempt = draw(st.integers(0, 5)) == 0
    table = EXEMPT if exempt else CURABLE
    name = draw(st.sampled_from(sorted(table)))
    state = draw(st.sampled_from(STATES))
    wrappers = draw(st.lists(st.sampled_from(["admonition", "collapsible", "tab", "list"]), max_size=2))
    heading, body, expected, token = table[name](
        number, draw(KEYS), draw(TITLES), state, draw(st.sampled_from([2, 4, "\t"])), draw(st.booleans()))
    for how in wrappers:
        body = wrap(body, how)
    if not wrappers:  # up to three spaces before a top-level block change nothing
        body = _indent(body, " " * draw(st.integers(0, 3)))
    style = draw(st.sampled_from(["atx", "closed", "setext"]))
    title = {"atx": [f"## {heading}"], "closed": [f"## {heading} ##"], "setext": [heading, "-" * len(heading)]}[style]
    note(f"section {number}: {name} {state} in {wrappers or 'nothing'}, {style} heading")
    return Fragment([*title, "", *body], "exempt" if exempt else "curable", expected, token)


@st.composite
def pages(draw) -> tuple[bytes, list[tuple[Fragment, int, int]]]:
    """(page bytes, [(fragment, first line, last line)] with 1-based lines)."""
    lines: list[str] = []
    if draw(st.booleans()):
        lines += ["---", "title: A page of samples", "description: Generated.", "---", ""]
    lines += ["# Samples", ""]
    placed = []
    count = draw(st.integers(1, 5))
    for number in range(count):
        for noise in draw(st.lists(st.sampled_from(sorted(NOISE)), max_size=2)):
            lines += [*NOISE[noise], ""]
        fragment = draw(sections(number))
        first = len(lines) + 1
        lines += fragment.lines
        placed.append((fragment, first, len(lines)))
        lines.append("")
    endings = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    if endings == "mixed":  # some lines CRLF, some LF: each line keeps its own
        marks = draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines)))
        text = "".join(line + ("\r\n" if crlf else "\n") for line, crlf in zip(lines, marks))
    else:
        text = ("\r\n" if endings == "crlf" else "\n").join(lines)
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data, placed


def skeleton(data: bytes) -> bytes:
    return JWT_OR_PLACEHOLDER.sub(b"<TOKEN>", data)


def _run_fix(path: Path):
    return fix_paths([str(path)], Settings(), write=True, environ=ENV)


def _section_tokens(text: str, first: int, last: int) -> list[str]:
    lines = re.split(r"\r\n|\r|\n", text)
    return JWT_TEXT.findall("\n".join(lines[first - 1:last]))


# ------------------------------------------------------------------ the properties


@given(pages())
def test_fix_changes_nothing_but_tokens_and_a_second_fix_changes_nothing(page):
    data, placed = page
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "page.md"
        path.write_bytes(data)
        _run_fix(path)
        after = path.read_bytes()
        assert skeleton(after) == skeleton(data), "fix changed bytes outside token spans"
        assert after.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
        again = _run_fix(path)
        assert path.read_bytes() == after and not again.changed, "a second fix changed the page again"
        assert [p.name for p in Path(folder).iterdir()] == ["page.md"]


@given(pages())
def test_after_fix_check_finds_nothing_fix_should_have_cured(page):
    data, placed = page
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "page.md"
        path.write_bytes(data)
        _run_fix(path)
        text = Page.from_bytes("page.md", path.read_bytes()).text
        result = check_paths([str(path)], Settings(), environ=ENV, jobs=1)
    assert not [f for f in result.findings if f.rule == "internal-error"], result.findings
    exempt = [(first, last) for fragment, first, last in placed if fragment.kind == "exempt"]
    left = [(f.rule, f.location.line, f.message) for f in result.findings if f.rule in CURED_RULES
            and not any(first <= f.location.line <= last for first, last in exempt)]
    assert not left, f"fix left these for check to find: {left}"
    for fragment, first, last in placed:
        tokens = _section_tokens(text, first, last)
        if fragment.kind == "curable":
            assert len(tokens) == 1, f"lines {first}-{last}: {len(tokens)} tokens after fix"
            payload = jwt.decode(tokens[0], SECRET, algorithms=["HS256"])
            assert payload in fragment.expected, f"lines {first}-{last}: {payload} not in {fragment.expected}"
        else:
            assert tokens == [fragment.token], f"lines {first}-{last}: fix signed over an example it cannot sign"


JUNK = ["```", "```json", "~~~", "{", "}", "[", '"', "\\", "eyJ", "eyJhbGciOiJIUzI1NiJ9.e30.", ".", "\r", "\n",
        "\r\n", "\t", "    ", "\ufeff", "<!-- oo-jwt: ignore -->", "<!-- oo-jwt: flow=conversion -->",
        "<!-- oo-jwt: disable -->", "!!! note", '=== "A"', "> ", "- ", "1. ", "---\n", "<oo-jwt>",
        "Authorization: Bearer ", '"token": ', "curl -d '", "// ...", "…", "\u2028", "é文"]


@st.composite
def mangled_pages(draw) -> bytes:
    data, _ = draw(pages())
    text = data.decode("utf-8")
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(text)))
        junk = draw(st.one_of(st.sampled_from(JUNK), st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)))
        text = text[:at] + junk + text[at:]
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8")


def _spans(extraction) -> list[tuple[str, object]]:
    out = []
    for example in extraction.examples:
        out.append(("example", example.span))
        out += [(f"example {pointer!r}", span) for pointer, span in example.spans.items()]
        out += [(f"duplicate {pointer!r}", span) for pointer, span in example.duplicates]
        if example.request is not None:
            out.append(("request", example.request.span))
            out += [(f"header {h.name}", s) for h in example.request.headers for s in (h.line, h.value_span)]
    for token in extraction.tokens:
        out.append(("token", token.span))
        if token.request is not None:
            out.append(("token request", token.request.span))
    out += [("fault", fault.span) for fault in extraction.faults]
    return out


@given(mangled_pages())
def test_the_extractor_never_raises_and_its_spans_lie_inside_the_page(data):
    page = Page.from_bytes("page.md", data)
    extraction = extract(page)
    size = len(page.text)
    for what, span in _spans(extraction):
        assert 0 <= span.start <= span.end <= size, f"{what} span {span} outside the page of {size} characters"
    for token in extraction.tokens:
        held = page.text[token.span.start:token.span.end]
        if held != token.text:  # a token broken over lines: its pieces, and between them only line breaks and indentation
            assert "\n" in held or "\r" in held, f"token span does not hold its text: {token.span}"
            assert "".join(ch for ch in held if ch not in " \t\r\n>") == token.text, f"token span does not hold its pieces: {token.span}"
    for suppression in extraction.suppressions:
        assert 0 <= suppression.first <= suppression.end <= len(page.lines), suppression


@pytest.mark.parametrize("data", [b'```json\n{"a"', b'# T\n\n```json\n{\n  "key": "0",\n  "status"', b"```json\n{"])
def test_a_fault_at_the_end_of_a_page_without_a_final_newline_lies_inside_it(data):
    page = Page.from_bytes("page.md", data)
    extraction = extract(page)
    assert extraction.faults
    for fault in extraction.faults:
        assert fault.span.end <= len(page.text), f"fault span {fault.span} outside the page of {len(page.text)} characters"


@given(st.lists(st.sampled_from(["a", "é", " ", "\n", "\r", "\r\n", "\t", "\u2028", "\x85"]), max_size=40).map("".join))
def test_a_pages_lines_and_their_starts_are_delimited_as_markdown_it_delimits_them(text):
    # the definition: "\r\n", "\r" or "\n" ends a line, nothing else ("\u2028" and "\x85" do not)
    ends = list(re.finditer(r"\r\n?|\n", text))
    expected_lines = [text[a.end() if a else 0:b.start() if b else len(text)] for a, b in zip([None, *ends], [*ends, None])]
    page = Page("page.md", text)
    assert page.lines == expected_lines
    assert page.line_starts == [0, *(m.end() for m in ends)]
    assert all(page.offset(i) + len(line) <= len(text) for i, line in enumerate(page.lines))
