"""Decoded-token panels: under each sample token of a built page, a collapsed ``<details>`` that shows
what the token holds (its header and payload, as pretty JSON), which example it signs, and whether
it signs that example exactly (or the differences, as JSON pointers). The integrators who copy a
sample can see what it signs without pasting it into a decoder.

Both build front ends use this module (the MkDocs plugin and the Python-Markdown extension), in the
same two steps:

1. ``page_panels`` makes the panels of a page from the engine's look at it (``explain_page``: its
   tokens, the examples they sign, their flows and findings) and, in ``mode: regenerate``, from the
   freshly signed tokens that replace stale ones (``fixes``): the panel shows what the built page shows.
2. ``PanelStash.edits`` puts one marker paragraph per panel into the Markdown, right after the
   block that holds the token (same indentation, so inside its list item, admonition or content
   tab; after the table for a token in a table row); after rendering, ``PanelStash.fill`` puts each
   panel's HTML where its marker paragraph is. The marker is a word of letters and digits with a
   random part per stash, so no page can write one, and no Markdown extension changes it.

A panel shows what the page's text does not hold (the decoded JSON): it stays out of the site's
search index. The MkDocs plugin puts the panels in after the search plugins have read the page
(``PanelStash.hide`` makes the markers HTML comments, which no search indexes, until then); the
extension, which renders the page's final HTML itself, marks each panel ``data-search-exclude``
where the site's search honours it (Zensical's, Material's: both take the attribute out of the
page they write).

Everything shown is HTML-escaped (a payload holding ``</details><script>`` reads as that text), no
script and no external asset is used (``details``/``summary`` open with the keyboard in every
browser), and a secret is never shown: the panel says whether the token verifies, never with what.
Characters that could hide or reorder what is shown (bidi controls, invisible format characters,
line separators) are written as JSON ``\\u`` escapes: the JSON stays the same value.

A page opts out with ``oo_jwt: {panels: false}`` in its front matter; one token with
``<!-- oo-jwt: no-panel -->`` above it (the next block that holds a sample token gets no panel).
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass
from secrets import token_hex
from typing import TYPE_CHECKING, Any

from .model import Fix, Span
from .report.common import plural, visible
from .samples import Token

if TYPE_CHECKING:
    from .engine import PageExplanation
    from .flows import FlowRegistry
    from .page import Page
    from .settings import Secret, Settings

NO_PANEL = "no-panel"  # the directive: <!-- oo-jwt: no-panel -->
EXACT = "signs exactly the example above"
VERIFIES = "verifies with the published docs secret"
CSS_CLASS = "oo-jwt-panel"  # on every panel: the theme's CSS may style it, tests find it


def _about_token(token: Token, span: Span) -> bool:
    """Is a finding at ``span`` about ``token``: in it, or on the request that carries it (its
    request line or a header: a GET path or Host the token does not sign, ``request-mismatch``)?"""
    if token.span.contains(span):
        return True
    request = token.request
    return request is not None and (request.span.contains(span) or any(h.line.contains(span) for h in request.headers))


@dataclass(frozen=True)
class Panel:
    """One token's panel: its HTML, and where it goes (after the page's line ``after``, 0-based,
    with the container prefix ``indent`` of the token's block)."""

    after: int
    indent: str
    html: str


def page_panels(doc: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret],
                fixes: list[Fix] = (), *, material: bool = False, search_exclude: bool = False) -> list[Panel]:
    """The panels of one page, in page order ([] when the page turns them off or holds no token).
    ``fixes``: the freshly signed tokens the built page shows in place of stale ones and
    placeholders (mode regenerate). ``search_exclude``: marked for the site's search to skip."""
    from .engine import explain_page
    from .samples import PLACEHOLDER

    if "eyJ" not in doc.text and PLACEHOLDER not in doc.text:
        return []  # nothing on the page can decode: no need to look at it
    opted_out, no_panel = _page_choices(doc)
    if opted_out:
        return []
    try:
        # every rule, whatever the site disables: a panel says "exactly" or "verifies" only where
        # no rule says otherwise (what the site or the page chose not to fail on is still said)
        explanation = explain_page(doc, settings._replace(disable=frozenset()), flows, secrets)
    except Exception:  # noqa: BLE001 - a checker bug: the page's check reports it (internal-error)
        return []
    tokens = explanation.check.extraction.tokens
    skipped = _skipped_blocks(tokens, no_panel)
    new = {fix.span: fix.replacement for fix in fixes}
    out = []
    for token in tokens:
        if token.where.block in skipped:
            continue
        body = _panel_body(explanation, token, new.get(token.span), settings.disable)
        if body is None:
            continue
        summary, content = body
        out.append(Panel(_after(doc, token), _indent(doc, token.where.lines[0]),
                         _details(summary, content, material, search_exclude)))
    return out


# --------------------------------------------------------------------------------------------
# What a panel says
# --------------------------------------------------------------------------------------------

def _panel_body(explanation: PageExplanation, token: Token, replacement: str | None,
                disabled: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """(summary text, inner HTML) of one token's panel; None for a token that gets none: an
    opaque flow's token (not a JWT), another API's credential, a placeholder left unfilled."""
    from .tokens import Malformed, decode

    ctx = explanation.check
    flow = ctx.flow_of(token)
    if flow is not None and flow.opaque:
        return None
    shown = replacement if replacement is not None else token.text
    if token.placeholder and replacement is None:
        return None
    if flow is None and token.by_place and not shown.startswith("eyJ"):
        return None  # not a sample JWT (the token rules skip it too)
    doc = explanation.page
    example = ctx.pairs.get(id(token))
    decoded = None
    if len(shown) <= ctx.settings.max_token_bytes:
        try:
            decoded = decode(shown)
        except Malformed:
            pass  # the token rules say why (token-malformed): shown below as a problem
    if replacement is not None:  # freshly signed over its example with the flow's secret
        problems, status = [], [EXACT, VERIFIES]
    else:
        findings = sorted((f for f in [*explanation.findings, *explanation.suppressed]
                           if f.span is not None and _about_token(token, f.span)),
                          key=lambda f: (f.location.line, f.location.column, f.rule))
        problems = [f"{f.rule}: {f.message}{_accepted(f, disabled)}" for f in findings]
        if decoded is None and not problems:
            problems.append("not a JWT: it cannot be decoded")
        status = [EXACT] if example is not None else []
        if flow is not None and flow.role in ctx.secrets:
            status.append(VERIFIES)
        elif flow is not None:
            status.append(f"signature not checked: this build has no secret for the {flow.role} role")

    parts = []  # the status is the summary's when all is well, else a list under it
    if problems:
        parts.append('<ul class="oo-jwt-status">' + "".join(f"<li>{_text(p)}</li>" for p in problems) + "</ul>")
    if example is not None:
        flow_text = f", flow <code>{_text(flow.id)}</code>" if flow is not None else ""
        parts.append(f"<p>Signs the example at line {doc.location(example.span).line} of the page's source{flow_text}.</p>")
    elif flow is not None:
        parts.append(f"<p>Signs no example of this page (flow <code>{_text(flow.id)}</code>).</p>")
    if decoded is not None:
        parts.append(f"<p><strong>Header</strong></p>\n<pre><code>{_json(decoded.header)}</code></pre>")
        parts.append(f"<p><strong>Payload</strong></p>\n<pre><code>{_json(decoded.payload)}</code></pre>")
    if problems:
        summary = f"Decoded token: {plural(len(problems), 'problem')}" if decoded is not None else "Token: not decoded"
    else:
        summary = "Decoded token" + (f": {'; '.join(status)}" if status else "")
    return summary, "\n".join(parts)


def _accepted(finding, disabled: frozenset[str]) -> str:
    """What the page or the site said of a finding it does not fail on (the reader is told all the same)."""
    if finding.suppressed is not None:
        line = finding.suppressed.line
        return f" (ignored by the directive at line {line} of the page's source)" if line else " (ignored on this page)"
    return " (a rule this site disables)" if finding.rule in disabled else ""


SEARCH_EXCLUDE = ' data-search-exclude="true"'  # with a value: Material's search takes only such out of the page


def _details(summary: str, content: str, material: bool, search_exclude: bool = False) -> str:
    """Material's collapsible admonition (as pymdownx.details writes it) or a plain ``details``."""
    classes = f"note {CSS_CLASS}" if material else CSS_CLASS
    skipped = SEARCH_EXCLUDE if search_exclude else ""
    return f'<details class="{classes}"{skipped}>\n<summary>{_text(summary)}</summary>\n{content}\n</details>'


def _text(value: str) -> str:
    """Page content as HTML text: escaped, invisible and reordering characters made visible."""
    return html.escape(visible(str(value)), quote=True)


_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_KEPT = {"\n", "\u200c", "\u200d"}  # the layout's newlines; ZWNJ and ZWJ, which scripts and emoji need


def _json(value: Any) -> str:
    """Pretty JSON, HTML-escaped. Only inside strings can JSON hold an invisible or reordering
    character; each is written as its ``\\u`` escape, so the text shows them and means the same value."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=repr)
    out = []
    for ch in text:
        if ch in _KEPT or unicodedata.category(ch) not in _INVISIBLE:
            out.append(ch)
        elif ord(ch) > 0xFFFF:
            code = ord(ch) - 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return html.escape("".join(out), quote=False)


# --------------------------------------------------------------------------------------------
# Where a panel goes, and where the page says no
# --------------------------------------------------------------------------------------------

def _after(doc: Page, token: Token) -> int:
    """The page line after the token's block; for a table row, after its table (a panel between
    two rows would end the table)."""
    end = token.where.lines[1]
    if token.where.row:
        while end < len(doc.lines) and doc.lines[end].strip(" \t>"):
            end += 1
    return end


_LIST_CONTINUATION = 4  # Python-Markdown's tab_length: what a list item's next block is indented by
_PREFIX = re.compile(r"[ \t>]*")
_LIST_MARKER = re.compile(r"(?:[-*+]|\d{1,9}[.)])[ \t]+")
_CONTAINER = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)|(?:!!!|\?\?\?\+?|===)[ \t]")  # list item, admonition, tab


def _indent(doc: Page, first: int) -> str:
    """The container prefix of the block that starts on line ``first``: the indentation and
    blockquote markers its content has in its list item, admonition, content tab or quote (a
    list marker opening the block counts as indentation), so that a panel placed with it is in
    the same container. An indented code block's own four spaces are not the container's: they
    would make the panel's marker a line of the code."""
    line = doc.lines[first]
    prefix = _PREFIX.match(line).group()
    marker = _LIST_MARKER.match(line, len(prefix))
    if marker:  # Python-Markdown (MkDocs, Zensical) continues an item at 4 columns whatever its marker's
        return prefix + " " * max(_LIST_CONTINUATION, marker.end() - marker.start())
    width = _width(prefix)
    if line[len(prefix):].startswith(("```", "~~~")) or not width:
        return prefix  # a fence, or a block at the start of its line: its prefix is its container's
    for above in range(first - 1, -1, -1):  # the nearest line above that is less indented
        text = doc.lines[above]
        if not text.strip(" \t>"):
            continue
        its = _PREFIX.match(text).group()
        if _width(its) < width:
            # content of the container that line opens; else an indented code block under a paragraph
            return prefix if _CONTAINER.match(text, len(its)) else its
    return prefix.replace(" ", "").replace("\t", "")  # indented code at the top of the page


def _width(prefix: str) -> int:
    """The indentation of a line's prefix, tabs to the next multiple of four, quote markers apart."""
    width = 0
    for ch in prefix.replace(">", ""):
        width = (width // 4 + 1) * 4 if ch == "\t" else width + 1
    return width


def _page_choices(doc: Page) -> tuple[bool, list[int]]:
    """(the page's front matter turns panels off, the end lines of its ``no-panel`` directives)."""
    front = doc.text.startswith("---") and "panels" in doc.text
    if not front and NO_PANEL not in doc.text:
        return False, []
    from .extract import directives
    from .extract.markdown import blocks

    off, ends = False, []
    for block in blocks(doc, ()):
        if block.kind == "front_matter":
            off = _front_matter_off(block.raw)
        elif block.kind == "html" and any(NO_PANEL in (d.verb, d.text) for d in directives.parse(block.raw)):
            ends.append(block.lines[1])
    return off, ends


def _front_matter_off(raw: str) -> bool:
    """``oo_jwt: {panels: false}`` in the page's front matter (read as extraction reads it)."""
    from .extract import front_matter_section

    return front_matter_section(raw).get("panels") is False


def _skipped_blocks(tokens: list[Token], directive_ends: list[int]) -> set[int]:
    """The blocks a ``no-panel`` directive turns off: for each, the next block below it that holds
    a sample token."""
    skipped = set()
    for end in directive_ends:
        token = next((t for t in tokens if t.where.lines[0] >= end), None)
        if token is not None:
            skipped.add(token.where.block)
    return skipped


# --------------------------------------------------------------------------------------------
# Into the Markdown, and into the HTML
# --------------------------------------------------------------------------------------------

class PanelStash:
    """The panels of the pages a front end renders: a marker paragraph for each in the Markdown
    (``edits``), its HTML in the rendered page (``fill``)."""

    def __init__(self) -> None:
        self.prefix = "oojwtpanel" + token_hex(8)
        self._count = 0
        self._html: dict[str, str] = {}
        self._filled: set[str] = set()
        self._pages: dict[str, list[str]] = {}  # a page's path -> the markers put into it
        self._marker = re.compile(rf"<p>\s*({self.prefix}n\d+)\s*</p>|<!--({self.prefix}n\d+)-->|({self.prefix}n\d+)")

    def edits(self, doc: Page, panels: list[Panel]) -> list[Fix]:
        """Insertions into the page's text (spans of no length): a marker paragraph after each
        token's block, panels of one place together, as ``fixes.apply`` takes them."""
        grouped: dict[int, tuple[str, list[str]]] = {}  # line -> (the container prefix, the markers there)
        for panel in panels:
            marker = f"{self.prefix}n{self._count}"
            self._count += 1
            self._html[marker] = panel.html
            self._pages.setdefault(doc.path, []).append(marker)
            grouped.setdefault(panel.after, (panel.indent, []))[1].append(marker)
        out = []
        for after, (indent, markers) in grouped.items():
            if after < len(doc.line_starts):
                at, lead = doc.line_starts[after], ""
            else:  # the block ends the page, maybe with no newline
                at, lead = len(doc.text), "" if doc.text.endswith(("\n", "\r")) else "\n"
            blank = indent.rstrip(" \t")
            text = "".join(f"{blank}\n{indent}{marker}\n" for marker in markers) + f"{blank}\n"
            out.append(Fix(Span(at, at), lead + text))
        return out

    def fill(self, rendered: str) -> str:
        """The rendered page (or a part of it: Python-Markdown's toc runs the postprocessors on
        each heading too) with each marker paragraph (or its comment: ``hide``) replaced by its panel."""
        if self.prefix not in rendered:
            return rendered

        def panel(m: re.Match) -> str:
            marker = m.group(1) or m.group(2) or m.group(3)
            self._filled.add(marker)
            return self._html.get(marker, "")

        return self._marker.sub(panel, rendered)

    def hide(self, rendered: str) -> str:
        """The rendered page with each marker paragraph an HTML comment: no text for a search to
        index, and still the panel's place for ``fill``."""
        if self.prefix not in rendered:
            return rendered
        return self._marker.sub(lambda m: f"<!--{m.group(1) or m.group(2) or m.group(3)}-->", rendered)

    def forget(self, page: str | None = None) -> list[str]:
        """Drop the panels made so far for ``page`` (a path, as ``edits`` was given it), or for
        every page; the markers of those that reached no rendered page are returned (something
        changed the Markdown or the HTML after the markers went in)."""
        markers = list(self._html) if page is None else self._pages.pop(page, [])
        if page is None:
            self._pages.clear()
        left = [marker for marker in markers if marker not in self._filled]
        for marker in markers:
            self._html.pop(marker, None)
            self._filled.discard(marker)
        return left
