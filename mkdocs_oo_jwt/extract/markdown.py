"""Parse a page once with markdown-it-py and list its blocks with their source lines and context.

Block contents are mapped back to page offsets line by line from the raw source (``fence.content``
is dedented and stripped of ``> ``), so every span points at the real characters of the page.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from ..model import Span
from ..page import Page
from . import tables
from .jsx import jsx_plugin
from .tables import tables_plugin
from .tabs import tabs_plugin


MAX_NESTING = 100  # markdown-it's nesting limit (its default, 20, is too low for nested docs lists)
TOO_DEEP = "oo_jwt_too_deep"  # key of the parse env: the [first, end) lines skipped as too deep


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """The one parser configuration the tool uses (benchmarks measure exactly this)."""
    md = (
        MarkdownIt("commonmark", {"maxNesting": MAX_NESTING})
        .use(_bounded_nesting)
        .use(front_matter_plugin)
        .use(admon_plugin)
        .use(tabs_plugin)
        .use(jsx_plugin)
        .use(tables_plugin)  # only tables that hold a sample: the others stay paragraphs
    )
    # Docusaurus admonitions: ":::note", ":::danger[Wrong]", ":::tip Title" ... ":::"
    md.use(container_plugin, name="docusaurus", validate=_docusaurus_admonition)
    # The tool reads each inline token's raw content and line map, never its children: skip
    # inline tokenizing (two thirds of markdown-it's time on API pages full of links).
    md.core.ruler.disable(["inline", "text_join"])
    return md


def _bounded_nesting(md: MarkdownIt) -> None:
    """Past maxNesting, markdown-it "skips the tail to the end" of the enclosing container: for a
    list nested 50 deep, the end of the page. Skip only the too-deep container's own lines (those
    indented under it) instead, and note them in the env, so the rest of the page is still read
    and the skipped lines are reported."""
    tokenize = md.block.tokenize

    def bounded(state, start: int, end: int) -> None:
        if state.level < state.md.options.maxNesting:
            return tokenize(state, start, end)
        line, last = start, None  # last: the last skipped line that is not blank
        while line < end and (state.isEmpty(line) or state.sCount[line] >= state.blkIndent):
            last = last if state.isEmpty(line) else line
            line += 1
        state.line = line  # as markdown-it's own tokenize ends: on the first line not its own
        if last is not None:
            state.env.setdefault(TOO_DEEP, []).append((start, last + 1))

    md.block.tokenize = bounded


_DOCUSAURUS = re.compile(r"\s*(note|tip|info|warning|danger|caution|important|success|secondary)\b", re.I)


def _docusaurus_admonition(params: str, *args) -> bool:
    return bool(_DOCUSAURUS.match(params))


@dataclass(frozen=True)
class MappedText:
    """Text taken from a page (a block's content) with each of its lines' page offset."""

    text: str
    line_starts: tuple[int, ...]  # offset in ``text`` of each line
    origins: tuple[int, ...]  # page offset of each line's first character

    page_end: int = 0  # the page's length: no offset maps past it
    # of each line, the spaces that a tab of the page became (the parser expands a tab it dedents
    # part of): they all map to the tab, and ``origins`` is the page offset of what follows them
    leads: tuple[int, ...] = ()

    def to_page(self, offset: int) -> int:
        i = max(bisect.bisect_right(self.line_starts, offset) - 1, 0)
        if not self.origins:
            return 0
        into = offset - self.line_starts[i]
        if self.leads:
            into = max(into - self.leads[i], 0)
        return min(self.origins[i] + into, self.page_end)

    def span(self, start: int, end: int) -> Span:
        return Span(self.to_page(start), max(self.to_page(start), self.to_page(end)))


@dataclass(frozen=True)
class Context:
    """What an example sits under: its section and the prose around it, nearest first."""

    section: int
    texts: tuple[str, ...]  # lead-in paragraphs since the last block, list-item leads, headings
    nearness: tuple[float, ...] = ()  # of each text: see ``nearness``


@dataclass
class Block:
    kind: str  # "code", "prose", "row" (of a table), "html", "front_matter", "unread" (nested too deep to parse)
    lines: tuple[int, int]  # [first, end) 0-based page lines
    index: int  # order of the block in the page
    context: Context
    info: str = ""  # fence info string
    content: MappedText | None = None
    raw: str = ""  # for html/front matter: the source text
    meta: dict = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.info.split(maxsplit=1)[0].lower().strip("{}.") if self.info.strip() else ""


def map_content(page: Page, content: str, first_line: int) -> MappedText:
    """Map a dedented block content back to the page, line by line."""
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    starts, origins, leads, pos = [], [], [], 0
    for i, line in enumerate(lines):
        starts.append(pos)
        pos += len(line) + 1
        n = first_line + i
        lead = 0
        if n >= len(page.lines):
            origins.append(len(page.text))
            leads.append(lead)
            continue
        raw = page.lines[n]
        if raw.endswith(line):
            col = len(raw) - len(line)
        else:  # tabs expanded by the parser: anchor on the text after the indentation
            stripped = line.lstrip(" ")
            if raw.endswith(stripped):
                col, lead = len(raw) - len(stripped), len(line) - len(stripped)
            else:
                col = 0
        origins.append(page.line_starts[n] + col)
        leads.append(lead)
    return MappedText("\n".join(lines) + ("\n" if lines else ""), tuple(starts), tuple(origins), len(page.text),
                      tuple(leads) if any(leads) else ())


_FENCE_OR_JWT = re.compile(r"^\s*(?:```|~~~)|eyJ", re.M)
# an HTML <pre> (with or without <code>) whose tags stand on lines of their own: group 1 is what it shows
_PRE = re.compile(r"[ \t]*<pre\b[^>\n]*>(?:<code\b[^>\n]*>)?[ \t]*\n(.*?\n)[ \t]*(?:</code>)?</pre>[ \t]*\n?", re.S | re.I)


def blocks(page: Page, prose_needles: tuple[str, ...] | None = None) -> list[Block]:
    """Every block of the page that can hold a sample, a directive or front matter, in order;
    then an "unread" block for each part nested too deep to be parsed. With ``prose_needles``,
    only the prose blocks holding one of them are listed (a paragraph is still read as the
    context of the blocks after it)."""
    walker = _Walker(page, prose_needles)
    walker.parse(page.text, 0)
    for first, end in walker.too_deep:
        walker.add("unread", (first, end))
    return walker.out


MAX_LEAD_PARAGRAPHS = 6  # the prose just above a block that can name its flow; bounds the work


def nearness(paragraphs: int, leads: int, headings: int) -> tuple[float, ...]:
    """How much each text above a block says of it: the k-th lead-in paragraph (nearest first)
    1/(1+k/2); the list items and titles around it and its section's heading fully; the k-th
    heading above that 1/(1+k) (the page's place counts as one more heading: see ``Page.where``)."""
    return (
        tuple(1 / (1 + k / 2) for k in range(paragraphs))
        + (1.0,) * leads
        + tuple(1 / (1 + k) for k in range(headings))
    )


# the blocks that hold other blocks (a directive right above one holds for all it holds)
_CONTAINERS = ("bullet_list", "ordered_list", "list_item", "blockquote", "admonition", "container_docusaurus", "tab")
_CONTAINER_OPEN = frozenset(f"{name}_open" for name in _CONTAINERS)
_CONTAINER_CLOSE = frozenset(f"{name}_close" for name in _CONTAINERS)


class _Walker:
    def __init__(self, page: Page, prose_needles: tuple[str, ...] | None = None):
        self.page = page
        self.place = page.where
        self.prose_needles = prose_needles
        self.out: list[Block] = []
        self.headings: list[tuple[int, str]] = []
        self.list_leads: list[str | None] = []
        self.prose: list[str] = []
        self.tab_leads: dict[int, list[str]] = {}  # nesting level -> the prose above the first of its tabs
        self.section = 0
        self.too_deep: list[tuple[int, int]] = []  # page lines [first, end) nested past MAX_NESTING
        self.containers: list[tuple[int, int]] = []  # page lines [first, end) of the open containers, outermost first

    def parse(self, text: str, shift: int) -> None:
        env: dict = {}
        tokens = markdown_parser().parse(text, env)
        self.too_deep += [(first + shift, end + shift) for first, end in env.get(TOO_DEEP, ())]
        self.walk(tokens, shift)

    def context(self) -> Context:
        paragraphs = list(reversed(self.prose[-MAX_LEAD_PARAGRAPHS:]))
        leads = [lead for lead in reversed(self.list_leads) if lead]
        headings = [text for _, text in reversed(self.headings)] + [self.place]
        return Context(self.section, tuple(paragraphs + leads + headings), nearness(len(paragraphs), len(leads), len(headings)))

    def listed(self, prose: str) -> bool:
        return self.prose_needles is None or any(needle in prose for needle in self.prose_needles)

    def add(self, kind: str, lines: tuple[int, int], **kw) -> Block:
        block = Block(kind, lines, len(self.out), self.context(), **kw)
        if self.containers:
            block.meta["containers"] = tuple(self.containers)
        self.out.append(block)
        return block

    def walk(self, tokens, shift: int) -> None:
        page = self.page
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            kind = tok.type
            lines = (tok.map[0] + shift, tok.map[1] + shift) if tok.map else None
            if kind in _CONTAINER_OPEN:
                self.containers.append(lines or (0, 0))
            elif kind in _CONTAINER_CLOSE and self.containers:
                self.containers.pop()
            if kind == "heading_open":
                level = int(tok.tag[1:])
                text = tokens[i + 1].content if i + 1 < len(tokens) else ""
                while self.headings and self.headings[-1][0] >= level:
                    self.headings.pop()
                self.headings.append((level, text))
                self.section += 1
                self.prose = []
                if lines and self.listed(text):
                    self.add("prose", lines, raw=text)
                i += 3
                continue
            if kind == "list_item_open":
                self.list_leads.append(None)
            elif kind in ("container_docusaurus_open", "tab_open", "admonition_open"):
                self.list_leads.append(tok.info.strip())  # the title says what the examples inside are
                if kind == "tab_open":  # tabs side by side show one example: each has the lead-in above them
                    if i and tokens[i - 1].type == "tab_close":
                        self.prose = list(self.tab_leads.get(tok.level, ()))
                    else:
                        self.tab_leads[tok.level] = list(self.prose)
            elif kind in ("list_item_close", "container_docusaurus_close", "tab_close", "admonition_close"):
                if self.list_leads:
                    self.list_leads.pop()
            elif kind == "inline" and lines:
                if self.list_leads and self.list_leads[-1] is None:
                    self.list_leads[-1] = tok.content
                if self.listed(tok.content):
                    self.add("prose", lines, raw=tok.content)
                self.prose.append(tok.content)
                del self.prose[:-MAX_LEAD_PARAGRAPHS]
            elif kind in ("fence", "code_block") and lines:
                first = lines[0] + (1 if kind == "fence" else 0)
                self.add(
                    "code", lines, info=tok.info if kind == "fence" else "",
                    content=map_content(page, tok.content, first),
                )
                self.prose = []
            elif kind == "html_block" and lines:
                self.add("html", lines, raw=tok.content)
                inner = tok.content.split("\n", 1)[1] if "\n" in tok.content else ""
                pre = _PRE.fullmatch(tok.content)
                if pre:  # <pre><code> ... </code></pre>, its tags on lines of their own: a code block
                    body = pre.group(1)
                    self.add("code", lines, content=map_content(page, body, lines[0] + 1))
                    self.prose = []
                elif tok.content.lstrip().startswith("<!--"):
                    pass  # a comment: what it holds (an old example, a token) is not shown to a reader
                elif _FENCE_OR_JWT.search(inner):
                    # JSX such as <TabItem> followed by Markdown with no blank line (MDX): the HTML
                    # block swallowed the Markdown; read the lines after the tag as Markdown again
                    sub = "\n".join(page.lines[lines[0] + 1 : lines[1]]) + "\n"
                    self.parse(sub, lines[0] + 1)
            elif kind == "table_open" and lines:
                i = self.table(tokens, i, shift)
                continue
            elif kind == "front_matter" and lines:
                self.add("front_matter", lines, raw=tok.content)
            i += 1

    def table(self, tokens, start: int, shift: int) -> int:
        """A table that holds a sample: a "row" block for each row that holds an example or a JWT,
        with the row's other cells and the header row as its nearest context; then the whole table
        is context for what follows, as the paragraph it would be without the table rule."""
        page = self.page
        first, end = tokens[start].map[0] + shift, tokens[start].map[1] + shift
        rows, after = tables.rows(tokens, start)
        header = rows[0].cells if rows else []
        context = self.context()
        for row in rows:
            line = row.line + shift
            if not tables.SAMPLE.search(page.lines[line]):
                continue
            tables.locate(row, page.lines[line], markdown_parser())
            if not row.samples:
                continue
            others = " | ".join(cell for n, cell in enumerate(row.cells) if n not in row.samples and cell)
            texts = tuple(text for text in (others, " | ".join(header)) if text)
            content = MappedText(page.lines[line] + "\n", (0,), (page.line_starts[line],), len(page.text))
            near = Context(context.section, texts + context.texts, (1.0,) * len(texts) + context.nearness)
            block = Block("row", (line, line + 1), len(self.out), near, content=content, meta={"json": row.json, "table": first})
            self.out.append(block)
        text = "\n".join(line.strip() for line in page.lines[first:end])
        if self.list_leads and self.list_leads[-1] is None:
            self.list_leads[-1] = text
        self.prose.append(text)
        del self.prose[:-MAX_LEAD_PARAGRAPHS]
        return after
