"""Examples where writers put them (issue 11, part 3): what a user sees found on a page.

Each page below is real Markdown as docs write it: Material code annotations, ``jsonc``/``json5``
blocks, Markdown tables, Python ``requests`` calls, Docusaurus ``<TabItem>`` bodies. For each: the
examples, tokens and requests found, at which line and column (1-based, as reported), with which
values, and which example each token signs; then ``oo-jwt fix`` on a page whose token there is
stale changes exactly that token's bytes. Expected tokens are made here with PyJWT, never by the tool.
"""

from __future__ import annotations

import re
import textwrap

import jwt
import pytest
from pagekit import CONVERSION

from mkdocs_oo_jwt.extract import extract
from mkdocs_oo_jwt.model import UNKNOWN
from mkdocs_oo_jwt.page import Page
from mkdocs_oo_jwt.pairing import pair

SECRET = "dialects-test-secret-0123456789-abcdefghijk"  # 43 bytes, test only
JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


def sign(payload) -> str:
    return jwt.encode(payload, SECRET, algorithm="HS256")


STALE = sign({**CONVERSION, "url": "https://example.com/some-other-document.docx"})


def page_of(markdown: str, crlf: bool = False, bom: bool = False) -> Page:
    text = textwrap.dedent(markdown).lstrip("\n")
    if crlf:
        text = text.replace("\n", "\r\n")
    return Page.from_bytes("page.md", (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def read(markdown: str, crlf: bool = False, bom: bool = False):
    page = page_of(markdown, crlf, bom)
    found = extract(page)
    return page, found, pair(found)


def at(page: Page, span) -> tuple[int, int]:
    """(line, column) of a span's start, 1-based as findings report them."""
    loc = page.location(span)
    return loc.line, loc.column


def values(page: Page, example) -> dict[str, tuple[int, int, str]]:
    """Every located value of an example: pointer -> (line, column, the page's characters there)."""
    return {p: (*at(page, s), page.text[s.start : s.end]) for p, s in sorted(example.spans.items())}


def fixed(tmp_path, monkeypatch, capsys, markdown: str, crlf: bool = False, bom: bool = False) -> tuple[bytes, bytes, str]:
    """Run ``oo-jwt fix`` on the page: (bytes before, bytes after, stdout)."""
    from mkdocs_oo_jwt.cli import main

    for var in ("OO_JWT_SECRET_INBOX", "OO_JWT_SECRET_OUTBOX", "OO_JWT_SECRET_BROWSER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)
    text = textwrap.dedent(markdown).lstrip("\n")
    if crlf:
        text = text.replace("\n", "\r\n")
    before = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    (tmp_path / "page.md").write_bytes(before)
    capsys.readouterr()
    main(["fix", "page.md"])
    out = capsys.readouterr().out
    assert SECRET not in out
    return before, (tmp_path / "page.md").read_bytes(), out


def only_token_changed(before: bytes, after: bytes, old: str, new: str) -> None:
    """``after`` is ``before`` with exactly the characters of ``old`` replaced by ``new``."""
    assert before.count(old.encode()) == 1
    at_ = before.index(old.encode())
    assert after == before[:at_] + new.encode() + before[at_ + len(old) :]


# ------------------------------------------------------------------ 1. Material code annotations


ANNOTATED = """\
    # Conversion

    Sample parameters of the request to convert the document:

    ```json
    {
        "filetype": "docx", // (1)!
        "key": "Khirz6zTPdfd7",  # (2)
        "outputtype": "pdf",
        "title": "Example Document Title.docx",
        "url": "https://example.com/url-to-example-document.docx", // (3)
        "token": "TOKEN" // (4)!
    }
    ```

    1. The type of the document.
    2. The key.

    ```http
    POST /converter HTTP/1.1
    Host: documentserver # (1)
    Authorization: Bearer TOKEN # (2)!

    {
        "filetype": "docx", // (3)!
        "key": "Khirz6zTPdfd7",
        "outputtype": "pdf",
        "title": "Example Document Title.docx",
        "url": "https://example.com/url-to-example-document.docx"
    }
    ```

    ```bash
    curl -X POST https://documentserver/converter \\ # (1)
      -H "Content-Type: application/json" \\
      -d '{"filetype": "docx", "key": "Khirz6zTPdfd7", "outputtype": "pdf", # (2)!
           "title": "Example Document Title.docx", "url": "https://example.com/url-to-example-document.docx"}'
    ```
"""


@pytest.mark.parametrize("crlf,bom", [(False, False), (True, True)], ids=["lf", "crlf-bom"])
def test_annotation_markers_are_not_json(crlf, bom):
    token = sign(CONVERSION)
    page, found, pairs = read(ANNOTATED.replace("TOKEN", token), crlf, bom)

    assert found.faults == []
    json_example, http_body = (e for e in found.examples if e.source in ("json", "http-body"))
    assert json_example.value == CONVERSION and not json_example.partial
    assert values(page, json_example)["/filetype"] == (7, 17, '"docx"')
    assert values(page, json_example)["/key"] == (8, 12, '"Khirz6zTPdfd7"')
    assert values(page, json_example)["/url"] == (11, 12, '"https://example.com/url-to-example-document.docx"')
    assert http_body.value == CONVERSION and not http_body.partial
    assert values(page, http_body)["/filetype"] == (25, 17, '"docx"')

    body_token, header_token = found.tokens[0], found.tokens[1]
    assert (body_token.place, at(page, body_token.span), body_token.text) == ("property", (12, 15), token)
    assert pairs[id(body_token)] is json_example
    assert (header_token.place, at(page, header_token.span), header_token.text) == ("header", (22, 23), token)
    assert page.text[header_token.span.start : header_token.span.end] == token
    assert http_body.request.header("Host").value == "documentserver"
    assert pairs[id(header_token)] is http_body


def test_annotation_marker_inside_a_curl_data_argument():
    page, found, _ = read(ANNOTATED.replace("TOKEN", sign(CONVERSION)))
    curl = next(e for e in found.examples if e.source == "curl-body")
    assert curl.value == CONVERSION and not curl.partial
    assert curl.request.method == "POST" and curl.request.target == "https://documentserver/converter"
    assert at(page, curl.span) == (36, 7)


def test_annotation_markers_in_js_are_comments():
    page, found, pairs = read("""\
        ```js
        docEditor.insertImage({
            "c": "add", // (1)!
            "fileType": "png", // (2)
            "url": "https://example.com/image.png",
            "token": "eyJhbGciOiJIUzI1NiJ9.e30.x" // (3)!
        });
        ```
    """)
    (example,) = found.examples
    assert example.value == {"c": "add", "fileType": "png", "url": "https://example.com/image.png"}
    assert not example.partial and example.flow_hint == "insertImage"


def test_a_comment_that_is_not_an_annotation_is_still_a_json_error():
    page, found, _ = read("""\
        ```json
        {
            "c": "info", // the command
            "key": "Khirz6zTPdfd7"
        }
        ```
    """)
    assert found.examples == [] and len(found.faults) == 1
    assert at(page, found.faults[0].span) == (3, 18)


def test_fix_rewrites_a_token_beside_an_annotation(tmp_path, monkeypatch, capsys):
    before, after, out = fixed(tmp_path, monkeypatch, capsys, ANNOTATED.replace("TOKEN", STALE), crlf=True)
    assert "fixed page.md: 2 tokens" in out
    new_body, new_header = JWT.findall(after.decode())[:2]
    assert jwt.decode(new_body, SECRET, algorithms=["HS256"]) == CONVERSION
    assert jwt.decode(new_header, SECRET, algorithms=["HS256"]) == {"payload": CONVERSION}
    assert after == before.replace(STALE.encode(), new_body.encode(), 1).replace(STALE.encode(), new_header.encode(), 1)
    assert b"\"token\": \"" + new_body.encode() + b"\" // (4)!\r\n" in after
    assert b"Authorization: Bearer " + new_header.encode() + b" # (2)!\r\n" in after


# ------------------------------------------------------------------ 2. jsonc / json5 blocks


JSONC = """\
    # Conversion

    Sample parameters of the request to convert the document:

    ```jsonc
    // every parameter is signed
    {
        "filetype": "docx", /* the type of the source */
        "key": "Khirz6zTPdfd7", // a key: "https://not-a-url"
        "outputtype": "pdf",
        "title": "Example Document Title.docx",
        "url": "https://example.com/url-to-example-document.docx", // see https://example.com//x
        "token": "TOKEN",
    }
    ```
"""


@pytest.mark.parametrize("crlf,bom", [(False, False), (True, True)], ids=["lf", "crlf-bom"])
def test_jsonc_comments_and_trailing_commas_are_read(crlf, bom):
    token = sign(CONVERSION)
    page, found, pairs = read(JSONC.replace("TOKEN", token), crlf, bom)
    assert found.faults == []
    (example,) = found.examples
    assert example.value == CONVERSION and not example.partial and example.token_holder
    located = values(page, example)
    assert located["/filetype"] == (8, 17, '"docx"')
    assert located["/key"] == (9, 12, '"Khirz6zTPdfd7"')
    assert located["/url"] == (12, 12, '"https://example.com/url-to-example-document.docx"')
    (tok,) = found.tokens
    assert (tok.place, at(page, tok.span), tok.text) == ("property", (13, 15), token)
    assert pairs[id(tok)] is example


def test_jsonc_comment_with_an_ellipsis_is_an_elision():
    page, found, _ = read("""\
        ```json5
        {
            "c": "add", // ...
            "images": [
                {"fileType": "png", "url": "https://example.com/a.png",}, /* … more images */
            ],
            "payload": {"a": 1}, // the rest as above (with no ellipsis)
        }
        ```
    """)
    (example,) = found.examples
    assert example.value == {"c": "add", "images": [{"fileType": "png", "url": "https://example.com/a.png"}], "payload": {"a": 1}}
    assert example.open == frozenset({"", "/images"})
    assert values(page, example)["/images/0/url"] == (5, 36, '"https://example.com/a.png"')


def test_plain_json_keeps_reading_a_comment_as_an_error():
    page, found, _ = read("""\
        ```json
        {
            "c": "info", /* the command */
            "key": "Khirz6zTPdfd7",
        }
        ```
    """)
    assert found.examples == [] and len(found.faults) == 1


def test_fix_rewrites_a_jsonc_token(tmp_path, monkeypatch, capsys):
    before, after, out = fixed(tmp_path, monkeypatch, capsys, JSONC.replace("TOKEN", STALE), bom=True)
    assert "fixed page.md: 1 token" in out
    (new,) = JWT.findall(after.decode("utf-8-sig"))
    assert jwt.decode(new, SECRET, algorithms=["HS256"]) == CONVERSION
    only_token_changed(before, after, STALE, new)


# ------------------------------------------------------------------ 5. Docusaurus <TabItem> bodies


TABITEMS = """\
    ## Request to receive the status of the edited document

    A request to the document command service, in two forms:

    <Tabs>
      <TabItem value="http" label="HTTP">
          ```http
          POST /command
          Authorization: Bearer TOKEN

          {
              "c": "info",
              "key": "Khirz6zTPdfd7"
          }
          ```
      </TabItem>
      <TabItem value="js" label="JavaScript">
            ```js
            docEditor.insertImage({
                "c": "add",
                "fileType": "png",
                "url": "https://example.com/ünïcode.png",
                "token": "TOKEN"
            });
            ```
      </TabItem>
    </Tabs>
"""

COMMAND = {"c": "info", "key": "Khirz6zTPdfd7"}


@pytest.mark.parametrize("crlf,bom", [(False, False), (True, True)], ids=["lf", "crlf-bom"])
def test_tabitem_bodies_are_read_as_their_fences(crlf, bom):
    token = sign({"payload": COMMAND})
    page, found, pairs = read(TABITEMS.replace("TOKEN", token), crlf, bom)

    body, js = found.examples
    assert (body.source, body.value, at(page, body.span)) == ("http-body", COMMAND, (11, 7))
    assert body.request.method == "POST" and body.request.target == "/command"
    assert at(page, body.request.span) == (8, 7)
    assert values(page, body)["/key"] == (13, 18, '"Khirz6zTPdfd7"')
    assert body.where.texts[0] == "A request to the document command service, in two forms:"
    header = found.tokens[0]
    assert (header.place, header.scheme, at(page, header.span), header.text) == ("header", "Bearer", (9, 29), token)
    assert pairs[id(header)] is body

    assert js.source == "js" and js.flow_hint == "insertImage"
    assert js.value == {"c": "add", "fileType": "png", "url": "https://example.com/ünïcode.png"}
    assert values(page, js)["/url"] == (22, 20, '"https://example.com/ünïcode.png"')
    prop = found.tokens[1]
    assert (prop.place, at(page, prop.span)) == ("property", (23, 23))
    assert pairs[id(prop)] is js


def test_fix_rewrites_a_tabitem_token(tmp_path, monkeypatch, capsys):
    stale = sign({"payload": {"c": "drop", "key": "Khirz6zTPdfd7"}})
    stale_js = sign({"c": "add", "fileType": "png", "url": "https://example.com/old.png"})
    page = TABITEMS.replace("TOKEN", stale, 1).replace("TOKEN", stale_js)
    before, after, out = fixed(tmp_path, monkeypatch, capsys, page, crlf=True)
    new = sign({"payload": COMMAND})
    new_js = sign({"c": "add", "fileType": "png", "url": "https://example.com/ünïcode.png"})
    assert "fixed page.md: 2 tokens" in out
    only_token_changed(before.replace(stale_js.encode(), new_js.encode()), after, stale, new)
    only_token_changed(before.replace(stale.encode(), new.encode()), after, stale_js, new_js)


# ------------------------------------------------------------------ 4. Python requests


PYTHON = """\
    # Conversion

    Send the request to the document conversion service from Python:

    ```python
    import json

    import requests

    URL = "https://documentserver/converter"
    HEADERS = {"Accept": "application/json", "Authorization": "Bearer TOKEN"}  # (1)
    body = {
        "async": False,
        "filetype": "docx",
        "key": "Khirz6zTPdfd7",
        "outputtype": "pdf",
        "title": "Example Document Title.docx",
        "url": "https://example.com/url-to-example-document.docx",
    }
    response = requests.post(URL, json=body, headers=HEADERS)
    ```

    ## Request to receive the status of the edited document

    With the token in the body, and a key read from elsewhere:

    ```py
    requests.request("POST", f"{base}/command", data=json.dumps({"c": "info", "key": doc.key, "images": [1, ...], "token": "TOKEN"}))
    httpx.post("https://documentserver/command", json={"token": "eyJhbGciOiJIUzI1NiJ9.e30.x"}, timeout=None)
    ```
"""


@pytest.mark.parametrize("crlf,bom", [(False, False), (True, True)], ids=["lf", "crlf-bom"])
def test_python_requests_are_requests_with_a_body(crlf, bom):
    token = sign({"payload": {**CONVERSION, "async": False}})
    page, found, pairs = read(PYTHON.replace("TOKEN", token), crlf, bom)

    body, command = found.examples
    assert body.source == "python-body" and body.value == {"async": False, **CONVERSION}
    assert not body.partial and not body.token_holder
    assert at(page, body.span) == (12, 8)
    located = values(page, body)
    assert located["/async"] == (13, 14, "False")
    assert located["/key"] == (15, 12, '"Khirz6zTPdfd7"')
    assert located["/url"] == (18, 12, '"https://example.com/url-to-example-document.docx"')
    request = body.request
    assert (request.method, request.target) == ("POST", "https://documentserver/converter")
    assert at(page, request.span) == (20, 12)
    assert request.header("Accept").value == "application/json"
    assert request.header("Authorization").value == f"Bearer {token}"
    header = found.tokens[0]
    assert (header.place, header.scheme, header.text, at(page, header.span)) == ("header", "Bearer", token, (11, 67))
    assert header.request is request and pairs[id(header)] is body

    # requests.request("POST", f-string, data=json.dumps({...})): a property token owning the rest
    assert command.source == "python-body" and command.token_holder
    assert command.request.method == "POST" and command.request.target == "{base}/command"
    assert command.value == {"c": "info", "key": UNKNOWN, "images": [1]}
    assert command.unknown == frozenset({"/key"}) and command.open == frozenset({"/images"})
    assert values(page, command)["/key"] == (28, 82, "doc.key")
    prop = found.tokens[1]
    assert (prop.place, at(page, prop.span), prop.text) == ("property", (28, 121), token)
    assert pairs[id(prop)] is command

    # httpx.post(..., json={"token": ...}): a body token, as in a JSON block
    body_token = found.tokens[2]
    assert (body_token.place, at(page, body_token.span)) == ("body", (29, 62))
    assert body_token.request.target == "https://documentserver/command"
    assert pairs[id(body_token)] is None  # no example before it but one that holds its own token
    assert found.faults == []


def test_python_values_are_read_as_json():
    page, found, _ = read("""\
        ```python
        requests.post(url, json={"a": True, "b": None, "c": -1.5, "d": 10, "e": "x" "y", "f": f"{n}", "g": (1, 2), **more})
        ```
    """)
    (example,) = found.examples
    assert example.value == {"a": True, "b": None, "c": -1.5, "d": 10, "e": "xy", "f": UNKNOWN, "g": [1, 2]}
    assert example.unknown == frozenset({"/f"}) and example.open == frozenset({""})
    assert values(page, example)["/c"] == (2, 53, "-1.5")


def test_a_python_header_dict_used_twice_gives_one_token():
    page, found, _ = read("""\
        ```python
        HEADERS = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"}
        requests.get("https://documentserver/a", headers=HEADERS)
        requests.get("https://documentserver/b", headers=HEADERS)
        ```
    """)
    (token,) = found.tokens
    assert (token.place, at(page, token.span)) == ("header", (2, 37))
    assert token.request.method == "GET" and token.request.target == "https://documentserver/a"
    assert found.examples == []


def test_fix_rewrites_a_python_header_token(tmp_path, monkeypatch, capsys):
    stale = sign({"payload": CONVERSION})
    before, after, out = fixed(tmp_path, monkeypatch, capsys, PYTHON.replace("TOKEN", stale, 1), crlf=True, bom=True)
    new = sign({"payload": {"async": False, **CONVERSION}})
    assert "fixed page.md: 1 token" in out
    only_token_changed(before, after, stale, new)


def test_a_python_tab_beside_a_json_tab_has_their_lead_in():
    page, found, _ = read("""\
        # Command service

        ## Callback

        Sample parameters of the request to the "callbackUrl" address:

        === "JSON"

            ```json
            {"key": "Khirz6zTPdfd7", "status": 2}
            ```

        === "Python"

            ```python
            requests.post(callback_url, json={"key": "Khirz6zTPdfd7", "status": 2})
            ```
    """)
    json_example, python = found.examples
    assert python.source == "python-body" and at(page, python.span) == (16, 38)
    lead = 'Sample parameters of the request to the "callbackUrl" address:'
    assert json_example.where.texts[0] == lead and python.where.texts[0] == lead


# ------------------------------------------------------------------ 3. Markdown tables


INSERT_IMAGE = {"c": "add", "fileType": "png", "url": "https://example.com/ünïcode.png"}

TABLE = """\
    # Editor methods

    The methods that take a signed object:

    | Method | Parameters | Token |
    | --- | --- | --- |
    | `insertImage` | `{"c": "add", "images": [...]}` | `ROW1` |
    | ROW2 | `{"c": "add", "fileType": "png", "url": "https://example.com/ünïcode.png"}` | `insertImage` \\| see above |
    | `setRevisedFile` | a token alone: | ROW3 |

    After the table.
"""


@pytest.mark.parametrize("crlf,bom", [(False, False), (True, True)], ids=["lf", "crlf-bom"])
def test_a_table_row_shows_an_example_and_its_token(crlf, bom):
    one, two, three = sign({"c": "add", "images": []}), sign(INSERT_IMAGE), sign({"c": "x"})
    page, found, pairs = read(TABLE.replace("ROW1", one).replace("ROW2", two).replace("ROW3", three), crlf, bom)

    first, second = found.examples
    assert (first.value, first.open, at(page, first.span)) == ({"c": "add", "images": []}, frozenset({"/images"}), (7, 20))
    assert values(page, first)["/images"] == (7, 43, "[...]")
    assert (second.value, second.partial, at(page, second.span)) == (INSERT_IMAGE, False, (8, 192))
    assert values(page, second)["/url"] == (8, 231, '"https://example.com/ünïcode.png"')
    assert first.where.block != second.where.block and first.where.row and second.where.row

    # the row's other cells, then the header row, then the usual context
    assert first.where.texts[:3] == ("`insertImage`", "Method | Parameters | Token", "The methods that take a signed object:")
    assert second.where.texts[:2] == ("`insertImage` | see above", "Method | Parameters | Token")

    token_one, token_two, token_three = found.tokens
    assert (token_one.place, token_one.text, at(page, token_one.span)) == ("bare", one, (7, 54))
    assert pairs[id(token_one)] is first
    assert (token_two.place, token_two.text, at(page, token_two.span)) == ("bare", two, (8, 3))
    assert pairs[id(token_two)] is second  # the token's cell comes first: it still signs its row
    assert (token_three.place, at(page, token_three.span)) == ("prose", (9, 39))
    assert pairs[id(token_three)] is None  # a row with no example: a mention, as in a paragraph
    for token in found.tokens:
        assert page.text[token.span.start : token.span.end] == token.text


def test_a_table_row_is_attributed_by_its_cells(tmp_path, monkeypatch, capsys):
    from mkdocs_oo_jwt.cli import main

    stale = sign({**INSERT_IMAGE, "url": "https://example.com/old.png"})
    page = TABLE.replace("ROW1", "x").replace("ROW2", stale).replace("ROW3", "y")
    (tmp_path / "page.md").write_text(textwrap.dedent(page), encoding="utf-8")
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    capsys.readouterr()
    main(["check", "--format", "json", str(tmp_path / "page.md")])
    import json

    findings = json.loads(capsys.readouterr().out)["findings"]
    mismatch = [f for f in findings if f["rule"] == "token-payload-mismatch"]
    assert [(f["line"], f["column"], f["flow"], f["pointer"]) for f in mismatch] == [(8, 3, "insertImage", "/url")]


def test_a_directive_before_a_table_holds_for_every_row():
    page, found, _ = read("""\
        <!-- oo-jwt: ignore -->
        | Method | Parameters |
        | --- | --- |
        | insertImage | `{"c": "add"}` |
        | setRevisedFile | `{"fileType": "docx"}` |
    """)
    assert found.examples == [] and found.tokens == []


def test_a_table_without_samples_stays_a_paragraph():
    page, found, _ = read("""\
        | Parameter | Type |
        | --- | --- |
        | key | string |

        ```json
        {"c": "info"}
        ```
    """)
    (example,) = found.examples
    assert example.where.texts[0] == "| Parameter | Type |\n| --- | --- |\n| key | string |"


def test_json_in_a_table_of_parameters_is_not_an_example():
    page, found, _ = read("""\
        Parameters of the request to the document conversion service:

        | Parameter | Type | Example |
        | --- | --- | --- |
        | thumbnail | object | `{"aspect": 2, "first": true}` |
        | url | string | `https://example.com/{id}` |
    """)
    assert found.examples == [] and found.tokens == []


def test_a_placeholder_in_a_table_row_is_a_token():
    page, found, pairs = read("""\
        | Method | Parameters |
        | --- | --- |
        | `insertImage` | `{"c": "add", "fileType": "png", "token": "<oo-jwt>"}` |
    """)
    (example,) = found.examples
    (token,) = found.tokens
    assert (token.place, token.placeholder, at(page, token.span)) == ("property", True, (3, 62))
    assert example.token_holder and pairs[id(token)] is example and example.value == {"c": "add", "fileType": "png"}


def test_fix_rewrites_a_table_token(tmp_path, monkeypatch, capsys):
    stale = sign({**INSERT_IMAGE, "url": "https://example.com/old.png"})
    markdown = TABLE.replace("ROW1", sign({"c": "add"})).replace("ROW2", stale).replace("ROW3", "y")
    before, after, out = fixed(tmp_path, monkeypatch, capsys, markdown, crlf=True, bom=True)
    assert "fixed page.md: 1 token" in out  # the first row's example is partial: not signed over
    only_token_changed(before, after, stale, sign(INSERT_IMAGE))


@pytest.mark.parametrize("key", ["'\\x74oken'", '"tok\\u0065n"'])
def test_a_js_token_key_written_with_escapes_is_still_read(key):
    # a JS block is looked at only if it can hold a token property: an escaped key has no "token" in it
    page, found, _ = read(f"""\
        ```js
        docEditor.insertImage({{
            c: "add",
            {key}: "eyJhbGciOiJIUzI1NiJ9.e30.x"
        }});
        ```
    """)
    (example,) = found.examples
    assert example.value == {"c": "add"} and example.flow_hint == "insertImage"
    (token,) = found.tokens
    assert token.place == "property" and at(page, token.span) == (4, len(key) + 8)


def test_a_js_block_with_no_token_gives_no_sample():
    _, found, _ = read("""\
        ```js
        docEditor.insertImage({c: "add", url: "https://example.com/image.png"});
        ```
    """)
    assert found.examples == [] and found.tokens == []


@pytest.mark.parametrize("crlf", [False, True])
def test_a_tab_the_parser_expands_in_an_indented_fence_keeps_spans_exact(crlf):
    # a fence indented by one space: markdown-it takes one column of each content line's
    # indentation, and a tab there becomes three spaces in the content it gives
    token = sign({**CONVERSION, "title": "a.docx"})
    page = page_of(
        " ```json\n{\n\t\"filetype\": \"docx\",\n\t\"token\": \"" + token + "\"\n}\n ```\n", crlf=crlf
    )
    found = extract(page)
    (tok,) = found.tokens
    assert page.text[tok.span.start : tok.span.end] == tok.text == token
    assert at(page, tok.span) == (4, 12)
    (example,) = found.examples
    assert values(page, example)["/filetype"] == (3, 14, '"docx"')


def test_a_url_with_an_unclosed_ipv6_bracket_is_read_not_raised():
    # urlsplit raises on "https://[host/path": the request is read with that text as its path
    page, found, _ = read("""\
        ```bash
        curl -X POST https://[documentserver/converter \\
            -H "Content-Type: application/json" \\
            -d '{"filetype": "docx", "key": "k", "outputtype": "pdf", "url": "http://[x/a.docx"}'
        ```
    """)
    (example,) = found.examples
    assert example.request.target == "https://[documentserver/converter"
    assert example.value["filetype"] == "docx"
