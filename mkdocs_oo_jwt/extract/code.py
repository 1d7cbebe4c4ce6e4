"""Turn one code block into samples: JSON examples, HTTP messages, curl commands, tokens.

Blocks are read line by line: a line opening a JSON value starts an example, a request or status
line starts an HTTP message (whose body follows), ``curl`` starts a command, a line that is only a
JWT, alone or after a short label such as "Sample token:" (or one cut short: its signature segment
lost, or all but a JOSE header; malformed, never passed over), is a bare sample token, and any
other line is prose, which
may mention a JWT and which becomes the lead-in text of the next sample (text exports put the
prose and the examples in one block).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ..model import Span, Unknown
from ..page import INVISIBLE
from ..samples import PLACEHOLDER, Example, Extraction, Fault, Header, Request, SpansOnUse, Token, Where
from . import http, jsonc, jsondoc, markers, shell
from .jwtshape import JWT, LABELLED_JWT, WHOLE_JWT, br_broken_jwts, broken_token, wrapped_jwts
from .markdown import Block, MappedText, nearness

_TYPOGRAPHIC_QUOTES = "\u201c\u201d\u201e\u2018\u2019\u00ab\u00bb"  # “ ” „ ‘ ’ « »
JSON_LANGS = {"json", "jsonc", "json5", "javascript-json"}
JSONC_LANGS = {"jsonc", "json5"}  # JSON with comments and trailing commas
HTTP_LANGS = {"http", "https", "rest"}
JS_LANGS = {"js", "javascript", "ts", "typescript", "jsx", "tsx", "mjs", "cjs"}
PYTHON_LANGS = {"python", "py", "python3"}
# a value that opens as JSON does: a key or a value, a bracket, the end; or as a copy from a word
# processor or a JS file makes it look (an invisible character before it, typographic quotes, a
# comment): no JSON, a json-syntax there, never an example passed over
_LOOKS_LIKE_JSON = re.compile(rf'[{INVISIBLE}]*[\[{{]\s*(?:"|[\[{{}}\]]|//|/\*|[{_TYPOGRAPHIC_QUOTES}]|$)')


class BlockScanner:
    def __init__(self, block: Block, where: Where, out: Extraction, max_depth: int = jsondoc.DEFAULT_MAX_DEPTH):
        self.block = block
        self.max_depth = max_depth
        self.text: MappedText = block.content  # type: ignore[assignment]
        # what is read: the text with annotation markers (and, in a jsonc block, comments) blanked;
        # same length as the text, so an offset in one is an offset in the other
        self.source = markers.mask(self.text.text)
        self.elisions: list[int] = []  # offsets of the comments that elide part of an example
        if block.lang in JSONC_LANGS:
            self.source, self.elisions = jsonc.mask_comments(self.source)
        self.where = where
        self.out = out
        self.lead: list[str] = []  # prose lines inside the block since the last sample
        self.taken: list[tuple[int, int]] = []  # content ranges of tokens already found

    # -- helpers -----------------------------------------------------------------------------
    def span(self, start: int, end: int) -> Span:
        return self.text.span(start, end)

    def here(self) -> Where:
        if not self.lead:
            return self.where
        texts = tuple(reversed(self.lead)) + self.where.texts
        return replace(self.where, texts=texts, nearness=nearness(len(self.lead), 0, 0) + self.where.nearness)

    def add_token(self, start: int, end: int, place: str, text: str | None = None, **kw: Any) -> Token:
        """``text``: the token, when it is not the characters from start to end (broken over lines)."""
        token = Token(self.span(start, end), self.text.text[start:end] if text is None else text, place, self.here(), **kw)
        self.out.tokens.append(token)
        self.taken.append((start, end))
        return token

    # -- the scan ------------------------------------------------------------------------------
    def scan(self) -> None:
        text = self.source
        lang = self.block.lang
        if lang in JS_LANGS:
            from .js import JsScanner

            JsScanner(self, lang).scan()
            self.prose_tokens()
            return
        if lang in PYTHON_LANGS:
            from .python import PythonScanner

            PythonScanner(self).scan()
            self.prose_tokens()
            return
        # tokens broken over lines, by where they start: each read as one bare sample token
        wrapped = {s: (e, token) for s, e, token in wrapped_jwts(text)} if "eyJ" in text else {}
        pos = 0
        while pos < len(text):
            eol = text.find("\n", pos)
            eol = len(text) if eol < 0 else eol
            line = text[pos:eol]
            stripped = line.strip()
            first = pos + len(line) - len(line.lstrip())
            nxt = eol + 1
            if not stripped:
                pass
            elif stripped[0] in "{[" or stripped.lstrip(INVISIBLE)[:1] in ("{", "["):  # (not JSON after an invisible one)
                nxt = self.json_value(first, strict=lang in JSON_LANGS or not lang)
            elif http.start_of_message(stripped, strict=lang not in HTTP_LANGS):
                nxt = self.http_message(first)
            elif shell.CURL_START.match(stripped):
                nxt = self.curl(first)
            elif first in wrapped:
                end, token = wrapped[first]
                self.add_token(first, end, "bare", text=token)
                self.lead = []
                nxt = text.find("\n", end) + 1 or len(text)
            elif "eyJ" not in stripped:  # no token on it (what follows all need one): prose
                self.lead.append(stripped)
            elif alone := WHOLE_JWT.fullmatch(stripped) or LABELLED_JWT.fullmatch(stripped):  # "Sample token: eyJ..." too
                s = first + alone.start(1)
                self.add_token(s, s + len(alone.group(1)), "bare")
                self.lead = []
            elif (at := broken_token(stripped)) is not None:  # nothing after it continues it: a part lost, or broken
                self.add_token(first + at, first + len(stripped), "bare")
                self.lead = []
            else:
                self.lead.append(stripped)
            pos = max(nxt, pos + 1)
        self.prose_tokens()

    def row(self, json: list[tuple[int, int]]) -> None:
        """A table row: the JSON objects written in its inline code (``json``: where, on the row's
        line), then its JWTs. A JWT in a row that shows an example signs it (a "bare" token, paired
        within the row); in a row without one it is a mention."""
        blank = [" "] * len(self.source)
        for start, end in json:  # only the code is read as JSON: not the pipes and text around it
            blank[start:end] = self.source[start:end]
        self.source = "".join(blank)
        shown = len(self.out.examples) + len(self.out.faults)
        # in a row with a JWT the JSON is the example it signs: json-syntax where it does not parse,
        # as any example; in another (a "token" member shown as `{"token": ...}`), an illustration
        signed = "eyJ" in self.text.text
        for start, _end in json:
            self.json_value(start, strict=signed)
        place = "bare" if len(self.out.examples) + len(self.out.faults) > shown else "prose"
        for start, end, token in br_broken_jwts(self.text.text):  # a token a cell breaks with <br>: one token
            self.add_token(start, end, place, text=token)
        for m in JWT.finditer(self.text.text):
            if not any(s <= m.start() < e for s, e in self.taken):
                self.add_token(m.start(), m.end(), place)

    def prose_tokens(self) -> None:
        """Any JWT in the block not already found as a sample token (a mention, a JS string...)."""
        for m in JWT.finditer(self.text.text):
            if not any(s <= m.start() < e for s, e in self.taken):
                self.add_token(m.start(), m.end(), "prose")

    def json_value(self, start: int, strict: bool, request: Request | None = None, source: str = "json") -> int:
        text = self.source
        doc = jsondoc.parse(text, start, self.max_depth)
        opened: frozenset[str] = frozenset()
        if isinstance(doc, jsondoc.JsonFault):  # a partial example with "..." elisions?
            masked, elisions = jsondoc.mask_elisions(text)
            if elisions:
                retry = jsondoc.parse(masked, start, self.max_depth)
                if isinstance(retry, jsondoc.JsonDoc):
                    doc, opened = retry, jsondoc.open_pointers(retry, elisions)
        if isinstance(doc, jsondoc.JsonFault):
            if strict and _LOOKS_LIKE_JSON.match(text, start):
                at = min(doc.offset, len(text))
                message = doc.message
                if not text[at:].strip():  # the block ends first: said where its text ends, not past it
                    at = len(text.rstrip())
                    message += ": the example ends before its last object or array is closed"
                elif text.startswith(("//", "/*"), at):
                    message += (": a comment is not JSON (in a jsonc block it is read as one; "
                                "\"// ...\" marks a part left out)")
                elif text[at] in _TYPOGRAPHIC_QUOTES:
                    message += f": {text[at]} is a typographic quote (a word processor's), JSON's is \""
                elif text[at] in INVISIBLE:
                    message += f": an invisible U+{ord(text[at]):04X} is there (a copy from a word processor or a chat?)"
                self.out.faults.append(Fault(self.span(at, at), message, self.here()))
                return len(text)  # the rest of the block is not readable as samples
            return text.find("\n", start) + 1 or len(text)
        elided = [at for at in self.elisions if doc.start < at < doc.end]
        if elided:
            opened |= jsondoc.open_pointers(doc, elided)
        self.add_json(doc, source, request, opened)
        end = text.find("\n", doc.end)
        return len(text) if end < 0 else end + 1

    def add_json(
        self, doc: jsondoc.JsonDoc, source: str, request: Request | None, opened: frozenset[str] = frozenset(),
        raw_range: tuple[int, int] | None = None, unknown: frozenset[str] = frozenset(),
    ) -> None:
        """Add a parsed JSON value; ``raw_range``: where to find its strings when quoting changed them;
        ``unknown``: the pointers of values written as expressions (any value passes)."""
        place = self.text.span  # (the block's text, as now: spans are placed on first use)
        spans = SpansOnUse(lambda: {p: place(s, e) for p, (s, e) in doc.spans.items()})
        where = self.here()
        response = request.is_response if request is not None else introduces_response(where)
        duplicates = tuple(
            (p, self.span(*doc.key_spans[p])) for p in dict.fromkeys(doc.duplicates) if p in doc.key_spans
        )
        example = Example(
            self.span(doc.start, doc.end), doc.value, spans, where, source, request, response=response, open=opened,
            unknown=unknown, duplicates=duplicates,
        )
        holders = list(_token_holders(doc.value))
        root_holder = None
        for pointer, obj in holders:
            vs, ve = doc.spans.get(f"{pointer}/token", (doc.start, doc.start))
            value = obj["token"]
            s, e = (vs + 1, ve - 1) if ve - vs >= 2 else (vs, ve)  # inside the quotes
            if isinstance(value, str) and raw_range is not None and self.text.text[s:e] != value:
                at = self.text.text.find(value, *raw_range) if value else -1
                s, e = (at, at + len(value)) if at >= 0 else (s, e)
            if len(obj) == 1:
                if isinstance(value, str):
                    self.add_token(s, e, "body", request=request)
                if pointer == "":
                    root_holder = "body"
                continue
            rest = {k: v for k, v in obj.items() if k != "token"}
            owner_spans = {
                p[len(pointer) :]: sp
                for p, sp in spans.items()
                if (p == pointer or p.startswith(pointer + "/")) and not p.startswith(f"{pointer}/token")
            }
            owner = Example(
                spans.get(pointer, example.span), rest, owner_spans, where, source, request,
                token_holder=True, response=response,
                open=_under(opened, pointer), unknown=_under(unknown, pointer),
            )
            if value == PLACEHOLDER or isinstance(value, str):
                self.add_token(s, e, "property", request=request, owner=owner)
            if pointer == "":
                root_holder = "property"
                owner.duplicates = example.duplicates
                self.out.examples.append(owner)
        if root_holder is None:
            if isinstance(doc.value, dict) and list(doc.value) == ["payload"] and isinstance(doc.value["payload"], dict):
                example.wrapped = True
            self.out.examples.append(example)
        self.lead = []

    def http_message(self, start: int) -> int:
        text = self.source
        msg = http.read_message(text, start)
        headers = [
            Header(name, value, self.span(*line), self.span(*vspan))
            for name, value, line, vspan in msg.headers
        ]
        request = Request(msg.method, msg.target, self.span(*msg.line), headers, msg.status)
        for (name, value, _line, (vs, _ve)) in msg.headers:
            if name.lower() == "authorization" and value:
                self.add_authorization(request, value, vs)
        end = msg.end
        if msg.body_start is not None:
            end = self.json_value(msg.body_start, strict=True, request=request, source="http-body")
        self.lead = []
        return end

    def add_authorization(self, request: Request, value: str, start: int) -> None:
        """The token of an Authorization header whose value is written at ``start``: what follows
        its scheme ("Bearer"), or the whole value when it has none."""
        scheme, _, rest = value.partition(" ")
        end = start + len(value)
        if rest.strip():
            self.add_token(end - len(value[len(scheme) :].lstrip()), end, "header", request=request, scheme=scheme)
        else:
            self.add_token(start, end, "header", request=request)

    def curl(self, start: int) -> int:
        text = self.source
        curl = shell.read_curl(text, start)
        if curl is None:
            return shell.command_end(text, start) + 1
        parts = url_parts(curl.url)
        cmd_span = self.span(start, text.find("\n", start) if "\n" in text[start:] else len(text))
        headers = []
        for name, value in curl.headers:
            headers.append(Header(name, value, cmd_span, cmd_span))
        if parts.netloc and not any(h.name.lower() == "host" for h in headers):
            headers.append(Header("Host", parts.netloc, cmd_span, cmd_span))
        request = Request(curl.method, curl.url, cmd_span, headers)
        for name, value in curl.headers:
            if name.lower() == "authorization" and value:
                token_text = value.split()[-1]
                at = text.find(token_text, start, curl.end)
                if at >= 0:
                    scheme = value.split()[0] if len(value.split()) > 1 else None
                    self.add_token(at, at + len(token_text), "header", request=request, scheme=scheme)
        if curl.data is not None and curl.data.lstrip()[:1] in ("{", "["):
            self.curl_body(curl, request)
        self.lead = []
        return curl.end + 1

    def curl_body(self, curl: shell.Curl, request: Request) -> None:
        doc = jsondoc.parse(curl.data or "", 0, self.max_depth)
        anchor = curl.data_offset if curl.data_offset is not None else request.span.start
        if isinstance(doc, jsondoc.JsonFault):
            at = self.span(anchor, anchor)
            self.out.faults.append(Fault(at, doc.message, self.here()))
            return
        raw = self.source
        exact = curl.data_quote == "'" and raw[anchor + 1 : anchor + 1 + len(curl.data or "")] == curl.data
        if exact:  # single quotes: the JSON's characters are the page's characters
            shift = anchor + 1
            doc.spans = {p: (s + shift, e + shift) for p, (s, e) in doc.spans.items()}
            doc.start, doc.end = doc.start + shift, doc.end + shift
        else:  # quoting changed the characters: every value points at the data argument
            doc.spans = {p: (anchor, anchor) for p in doc.spans}
            doc.start = doc.end = anchor
        self.add_json(doc, "curl-body", request, raw_range=(anchor, curl.end))


_RESPONSE = re.compile(r"\bresponses?\b", re.I)
_REQUEST = re.compile(r"\brequests?\b", re.I)


def introduces_response(where: Where) -> bool:
    """Is the example introduced as a response ("Response:", "must return the following response")?"""
    lead = where.texts[0] if where.texts else ""
    return bool(_RESPONSE.search(lead)) and not _REQUEST.search(lead)


def _under(pointers: frozenset[str], pointer: str) -> frozenset[str]:
    """The pointers at or under ``pointer``, relative to it."""
    return frozenset(p[len(pointer) :] for p in pointers if p == pointer or p.startswith(pointer + "/"))


def _token_holders(value: Any, pointer: str = ""):
    """(pointer, object) of every object with a ``token`` member: a string, or an expression (a
    token made at run time, ``json={"token": token}``: nothing to verify, and the object is still
    a token's holder, not a payload)."""
    if isinstance(value, dict):
        if isinstance(value.get("token"), (str, Unknown)):
            yield pointer, value
        for key, child in value.items():
            if key != "token":
                yield from _token_holders(child, f"{pointer}/{jsondoc.pointer_token(str(key))}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _token_holders(child, f"{pointer}/{i}")


def url_parts(url: str) -> SplitResult:
    """A URL's parts; one a writer got wrong (``https://[host/path``: an unclosed IPv6 bracket)
    is all path: never an exception."""
    try:
        return urlsplit(url)
    except ValueError:
        return SplitResult("", "", url, "", "")


def request_path_host(request: Request) -> tuple[str, str | None]:
    """The path a request is sent to, and its host (from an absolute target or the Host header)."""
    parts = url_parts(request.target)
    if parts.scheme and parts.netloc:
        return parts.path or "/", parts.netloc
    host = request.header("Host")
    return parts.path, host.value if host else None
