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
from .tabs import tabs_plugin


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """The one parser configuration the tool uses (benchmarks measure exactly this)."""
    md = (
        MarkdownIt("commonmark")
        .use(front_matter_plugin)
        .use(admon_plugin)
        .use(tabs_plugin)
        .enable("table")
    )
    # Docusaurus admonitions: ":::note", ":::danger[Wrong]", ":::tip Title" ... ":::"
    return md.use(container_plugin, name="docusaurus", validate=_docusaurus_admonition)


_DOCUSAURUS = re.compile(r"\s*(note|tip|info|warning|danger|caution|important|success|secondary)\b", re.I)


def _docusaurus_admonition(params: str, *args) -> bool:
    return bool(_DOCUSAURUS.match(params))


@dataclass(frozen=True)
class MappedText:
    """Text taken from a page (a block's content) with each of its lines' page offset."""

    text: str
    line_starts: tuple[int, ...]  # offset in ``text`` of each line
    origins: tuple[int, ...]  # page offset of each line's first character

    def to_page(self, offset: int) -> int:
        i = bisect.bisect_right(self.line_starts, offset) - 1
        return self.origins[i] + (offset - self.line_starts[i])

    def span(self, start: int, end: int) -> Span:
        return Span(self.to_page(start), max(self.to_page(start), self.to_page(end)))


@dataclass(frozen=True)
class Context:
    """What an example sits under: its section and the prose around it, nearest first."""

    section: int
    texts: tuple[str, ...]  # lead-in paragraphs since the last block, list-item leads, headings


@dataclass
class Block:
    kind: str  # "code", "prose", "html", "front_matter"
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
    starts, origins, pos = [], [], 0
    for i, line in enumerate(lines):
        starts.append(pos)
        pos += len(line) + 1
        n = first_line + i
        if n >= len(page.lines):
            origins.append(len(page.text))
            continue
        raw = page.lines[n]
        if raw.endswith(line):
            col = len(raw) - len(line)
        else:  # tabs expanded by the parser: anchor on the text after the indentation
            stripped = line.lstrip(" ")
            col = len(raw) - len(stripped) if raw.endswith(stripped) else 0
        origins.append(page.line_starts[n] + col)
    return MappedText("\n".join(lines) + ("\n" if lines else ""), tuple(starts), tuple(origins))


def blocks(page: Page) -> list[Block]:
    """Every block of the page that can hold a sample, a directive or front matter, in order."""
    tokens = markdown_parser().parse(page.text)
    out: list[Block] = []
    headings: list[tuple[int, str]] = []
    list_leads: list[str | None] = []
    prose: list[str] = []
    section = 0

    def context() -> Context:
        texts = list(reversed(prose))
        texts += [lead for lead in reversed(list_leads) if lead]
        texts += [text for _, text in reversed(headings)]
        return Context(section, tuple(texts))

    i = 0
    while i < len(tokens):
        tok = tokens[i]
        kind = tok.type
        if kind == "heading_open":
            level = int(tok.tag[1:])
            text = tokens[i + 1].content if i + 1 < len(tokens) else ""
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text))
            section += 1
            prose = []
            if tok.map:
                out.append(Block("prose", tuple(tok.map), len(out), context(), raw=text))
            i += 3
            continue
        if kind == "list_item_open":
            list_leads.append(None)
        elif kind in ("container_docusaurus_open", "tab_open", "admonition_open"):
            list_leads.append(tok.info.strip())  # the title says what the examples inside are
        elif kind in ("list_item_close", "container_docusaurus_close", "tab_close", "admonition_close"):
            if list_leads:
                list_leads.pop()
        elif kind == "inline" and tok.map:
            if list_leads and list_leads[-1] is None:
                list_leads[-1] = tok.content
            out.append(Block("prose", tuple(tok.map), len(out), context(), raw=tok.content))
            prose.append(tok.content)
        elif kind in ("fence", "code_block") and tok.map:
            first = tok.map[0] + (1 if kind == "fence" else 0)
            block = Block(
                "code",
                tuple(tok.map),
                len(out),
                context(),
                info=tok.info if kind == "fence" else "",
                content=map_content(page, tok.content, first),
            )
            out.append(block)
            prose = []
        elif kind == "html_block" and tok.map:
            out.append(Block("html", tuple(tok.map), len(out), context(), raw=tok.content))
        elif kind == "front_matter" and tok.map:
            out.append(Block("front_matter", tuple(tok.map), len(out), context(), raw=tok.content))
        i += 1
    return out
