"""page -> samples: everything the checks need from one page, with exact spans."""

from __future__ import annotations

import re
from dataclasses import replace

from ..model import Span
from ..page import Page
from ..samples import Extraction, Misread, Suppression, Token, Unread, Where
from . import directives
from .code import BlockScanner
from .jwtshape import JWT, LABEL, LABELLED_JWT, WHOLE_JWT, wrapped_jwts
from .markdown import MAX_NESTING, Block, blocks, map_content
from .shell import CURL_START


# A paragraph is a sample only if it holds a JWT or starts a curl command (see _prose below)
PROSE_NEEDLES = ("eyJ", "curl")


def extract(page: Page, max_json_depth: int = 200, max_samples: int = 1000, keep_ignored: bool = False) -> Extraction:
    """Every example, token, fault and directive of the page. Past ``max_samples`` examples and
    tokens the page is not read further (an Unread says from where): that bounds the work one
    page can make, far above what a real page holds (tens).

    ``keep_ignored``: a block under an ``ignore`` of every rule is read as any other (its findings
    are then suppressed): how the engine tells whether such a directive hides anything."""
    out = Extraction()
    page_flow: str | None = None
    pending_flow: str | None = None
    pending_ignores: list[Suppression] = []  # ignore directives waiting for their block
    disabled: dict[frozenset[str], Suppression] = {}  # rules -> the open disable (from its first line)
    seen: set[int] = set()  # directives read (the lines of an MDX block are parsed twice)
    table, table_directives = None, (None, [])  # a directive before a table holds for all its rows

    for block in blocks(page, PROSE_NEEDLES):
        if block.kind == "unread":
            first, end = block.lines
            out.unread.append(Unread(page.line_span(first), (
                f"lines {first + 1}-{end} are nested too deeply to parse (past {MAX_NESTING} levels: a list "
                "counts 2, a quote or an admonition 1), so they were not checked")))
            continue
        if len(out.examples) + len(out.tokens) > max_samples:
            break  # cut below
        if block.kind == "front_matter":
            meta = front_matter_section(block.raw)
            page_flow = meta.get("flow") if isinstance(meta.get("flow"), str) else None
            version = meta.get("version")
            out.version = str(version) if version is not None else None
            continue
        if block.kind == "html":
            for d in directives.parse(block.raw):
                span = _directive_span(page, block, d.start, d.end)
                if span.start in seen:
                    continue
                seen.add(span.start)
                if d.problem is not None:
                    out.misread.append(Misread(span, d.problem))
                elif d.verb == "flow":
                    pending_flow = d.flow
                    out.flow_directives.append((span, d.flow or ""))
                elif d.verb == "ignore":
                    pending_ignores.append(Suppression(0, 0, d.rules, span, d.reason, not d.rules, d.text))
                elif d.verb == "disable":
                    opened = Suppression(block.lines[1], len(page.lines), d.rules, span, d.reason, text=d.text)
                    if d.rules in disabled:  # disabled already: this one suppresses nothing more
                        opened = replace(opened, end=block.lines[1])
                        out.suppressions.append(opened)
                    else:
                        disabled[d.rules] = opened
                elif d.verb == "enable":
                    _enable(page, d.rules, disabled, block.lines[0], span, d.text, out)
            continue
        if block.kind == "row":
            if block.meta["table"] != table:
                table, table_directives = block.meta["table"], (pending_flow, pending_ignores)
            pending_flow, pending_ignores = table_directives[0], list(table_directives[1])
        command = block.kind == "prose" and CURL_START.match(block.raw)
        if block.kind == "prose" and not command and not JWT.search(block.raw) and not wrapped_jwts(block.raw, True):
            continue  # nothing to find, and directives wait for the next sample-bearing block
        where = Where(
            block.index,
            block.context.section,
            block.context.texts,
            block.lines,
            pending_flow or page_flow,
            explicit=pending_flow is not None,
            nearness=block.context.nearness,
            row=block.kind == "row",
        )
        ignores, pending_flow, pending_ignores = pending_ignores, None, []
        out.blocks.append((block.meta["table"] if block.kind == "row" else block.lines[0], *block.lines, block.kind))
        out.suppressions += [replace(s, first=first, end=end) for s in ignores
                             for first, end in [_ignored_lines(page, block, s)]]
        if block.kind == "code" and _counter_example(where):
            continue  # shown as what not to do ("Wrong", "Incorrect"...): not a sample
        if any(s.whole for s in ignores) and not keep_ignored:
            continue  # the whole block is ignored: it yields no sample at all
        if command:  # a curl command written as a paragraph (text exports)
            block.content = map_content(page, block.raw, block.lines[0])
        if block.kind == "row":
            BlockScanner(block, where, out, max_json_depth).row(block.meta["json"])
        elif block.kind == "code" or command:
            BlockScanner(block, where, out, max_json_depth).scan()
        else:
            _prose(page, block, where, out)

    if len(out.examples) + len(out.tokens) > max_samples:
        _cut(out, max_samples)
    out.suppressions += disabled.values()  # disabled to the end of the page
    end = len(page.lines)  # an ignore with no block after it ignores nothing
    out.suppressions += [replace(s, first=end, end=end) for s in pending_ignores]
    out.tokens.sort(key=lambda t: t.span.start)
    out.examples.sort(key=lambda e: e.span.start)
    return out


def _enable(page: Page, rules: frozenset[str], disabled: dict[frozenset[str], Suppression], line: int, span: Span,
            text: str, out: Extraction) -> None:
    """An ``enable`` on ``line``: it ends the disable of the same rules; a bare one, if there is no
    bare disable, ends every disable. One that ends nothing while a disable is open is misread
    (the writer believes the rules are checked again; they are not); one with nothing open is a
    directive that does nothing (reported as unused)."""
    if rules in disabled:
        out.suppressions.append(replace(disabled.pop(rules), end=line))
    elif not rules and disabled:
        out.suppressions += [replace(s, end=line) for s in disabled.values()]
        disabled.clear()
    elif disabled:
        open_ = ", ".join(f"'{s.text}' at line {page.line_of(s.directive.start) + 1}" for s in disabled.values()
                          if s.directive is not None)
        out.misread.append(Misread(span, f"'{text}' ends no disable: an enable ends the disable of exactly its "
                                         f"rules, a bare enable every one (open: {open_})"))
    else:
        out.suppressions.append(Suppression(line, line, rules, span, None, text=text))


def _directive_span(page: Page, block, start: int, end: int) -> Span:
    """The span on the page of a comment found at ``start``..``end`` of an html block's source,
    which may have lost the indent or ``> `` of its container on each line."""

    def offset(at: int) -> int:
        line = block.lines[0] + block.raw.count("\n", 0, at)
        column = at - (block.raw.rfind("\n", 0, at) + 1)
        if line >= len(page.lines):
            return len(page.text)
        text = page.lines[line]
        raw_line = block.raw[at - column:].split("\n", 1)[0]
        lead = len(text) - len(raw_line) if raw_line and text.endswith(raw_line) else 0
        return min(page.line_starts[line] + lead + column, page.line_starts[line] + len(text))

    first = offset(start)
    return Span(first, max(first, offset(end)))


def _ignored_lines(page: Page, block, ignore: Suppression) -> tuple[int, int]:
    """The lines an ``ignore`` holds for: its block's; or, when it stands right above a container
    (an admonition, a list, a quote, a tab: one that opens after the directive and holds the
    block), all of that container's, as a directive above a table holds for each of its rows."""
    if ignore.directive is not None:
        after = page.line_of(ignore.directive.end - 1) if ignore.directive.end else 0
        for first, end in block.meta.get("containers", ()):  # outermost first
            if first > after:
                return first, end
    return block.lines


def _cut(out: Extraction, max_samples: int) -> None:
    """Keep the first ``max_samples`` samples; what starts at or after the next one is not checked."""
    starts = sorted([e.span.start for e in out.examples] + [t.span.start for t in out.tokens])
    cut = starts[max_samples]
    out.examples = [e for e in out.examples if e.span.start < cut]
    out.tokens = [t for t in out.tokens if t.span.start < cut]
    out.faults = [f for f in out.faults if f.span.start < cut]
    out.unread.append(Unread(Span(cut, cut), (
        f"more than {max_samples} examples and tokens on this page (max_samples_per_page): "
        "the page is not checked from here on")))


# "Wrong:", "Incorrect example", ":::danger[Wrong]", "!!! failure \"Bad\"", "❌ ..."; and, in any
# language, a Material "failure" or "bug" admonition (its type is not translated: !!! failure "错误")
# (two expressions, each with a first character to look for: one that can match anywhere is tried
# at every character, a third of a context's time)
_COUNTER_AT_START = re.compile(r"\W*(?:wrong|incorrect|bad)\b|(?:failure|bug)(?:\s+\"[^\"]*\")?\s*$", re.I)
_COUNTER_INSIDE = re.compile(r"[\[\"'❌](?:(?<=❌)|\W*(?:wrong|incorrect|bad)\b)", re.I)


def _counter_example(where: Where) -> bool:
    """An example introduced (or titled, in an admonition) as what not to do."""
    return any(_COUNTER_AT_START.match(text) or _COUNTER_INSIDE.search(text) for text in where.texts[:2])


def _prose(page: Page, block: Block, where: Where, out: Extraction) -> None:
    """JWTs in a paragraph: a paragraph that is only a token, or a short label with a colon and
    then only a token ("Sample token: `eyJ...`", in any language), is a bare sample token. So is
    one whose token is broken over lines (a hard wrap): read as the one token it is."""
    first, end = block.lines
    start, stop = page.line_starts[first], page.line_starts[end] if end < len(page.line_starts) else len(page.text)
    source = page.text[start:stop]
    raw = block.raw.strip()
    alone = WHOLE_JWT.fullmatch(raw) is not None or LABELLED_JWT.fullmatch(raw) is not None
    wrapped: list[Span] = []
    if "eyJ" in block.raw:
        content = map_content(page, block.raw, first)
        for s, e, token in wrapped_jwts(content.text, True):
            before, after = content.text[:s].strip(" \t\n`"), content.text[e:].strip(" \t\n`.")
            lone = not after and (not before or LABEL.fullmatch(before) is not None)
            wrapped.append(content.span(s, e))
            out.tokens.append(Token(wrapped[-1], token, "bare" if lone else "prose", where))
    for m in JWT.finditer(source):
        span = Span(start + m.start(), start + m.end())
        if not any(w.start <= span.start < w.end for w in wrapped):  # not a piece of a wrapped token
            out.tokens.append(Token(span, m.group(), "bare" if alone else "prose", where))


def front_matter_section(raw: str) -> dict:
    """The ``oo_jwt:`` mapping of a page's front matter (safe YAML, no aliases), or {}."""
    if "oo_jwt" not in raw:  # most front matter is the site's own: no need to parse it
        return {}
    import yaml

    class NoAliases(yaml.SafeLoader):
        """Front matter with anchors and aliases is not read (a "billion laughs" would expand)."""

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("aliases are not read")
            return super().compose_node(parent, index)

    try:
        data = yaml.load(raw, Loader=NoAliases)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, RecursionError):
        return {}
    section = data.get("oo_jwt") if isinstance(data, dict) else None
    return section if isinstance(section, dict) else {}
