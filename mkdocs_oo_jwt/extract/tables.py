"""Markdown tables whose rows hold an example or a token (GFM tables, markdown-it's own table rule).

Docs list methods in tables, one per row: ``| insertImage | `{"c": "add", ...}` | eyJ... |``. Such
a table is parsed as a table, and a row that holds a token (a JWT, a ``"token"`` member or a
placeholder) is read: the JSON objects in its inline code are examples. Every other table is still
read as the paragraph it was without the rule (markdown-it's rule is asked only when the table's
lines hold a token), so a table with nothing to check costs nothing more and changes nothing.

markdown-it gives each cell's text (split at unescaped pipes, ``\\|`` unescaped) but no position:
each cell is found on its page line in order, its pipes escaped again, and the inline code in it
is found by markdown-it's inline parser, then on the line; so every offset is the page's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import table as gfm_table

from ..samples import PLACEHOLDER
from .jwtshape import JWT

# a JWT, a "token" member or a placeholder: a row without one shows no signed example (a JSON
# object in a table of parameters is one parameter's value, not a payload)
SAMPLE = re.compile(rf"eyJ|\"token\"|{re.escape(PLACEHOLDER)}")
_DELIMITER_ROW = re.compile(r"[|:-][-|: \t]*")  # the second line of a table: | --- | :-: |


def _table(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    # Tried at every block start and every paragraph line, so cheapest first: two of markdown-it's
    # own conditions (the next line holds only "|", "-", ":" and blanks; a pipe in this line), then
    # whether the lines up to a blank one hold a sample, and only then markdown-it's rule (whose
    # test of a long delimiter row, a character at a time, costs more than the rest together).
    below = start_line + 1
    if below >= end_line:
        return False
    at = state.bMarks[below] + state.tShift[below]
    if not _DELIMITER_ROW.fullmatch(state.src, at, state.eMarks[below]):
        return False
    if state.src.find("|", state.bMarks[start_line], state.eMarks[start_line]) < 0:
        return False
    last = below
    while last < end_line and not state.isEmpty(last):  # a table runs at most to a blank line
        last += 1
    if not SAMPLE.search(state.src, state.bMarks[start_line], state.eMarks[last - 1]):
        return False  # nothing to find in it: a paragraph, as without the rule
    return gfm_table(state, start_line, end_line, silent)


def tables_plugin(md: MarkdownIt) -> None:
    md.block.ruler.at("table", _table, {"alt": ["paragraph", "reference"]})  # as markdown-it's own
    md.enable("table")


@dataclass
class Row:
    line: int  # the row's line in the parsed text
    cells: list[str]  # each cell's text, as markdown-it split it
    json: list[tuple[int, int]] = field(default_factory=list)  # inline code holding a JSON object: [start, end) on the line
    samples: set[int] = field(default_factory=set)  # the cells that hold an example or a JWT


def rows(tokens: list, start: int) -> tuple[list[Row], int]:
    """The rows (header row first) of the table that opens at ``tokens[start]``, and the index of
    the token after the table."""
    out: list[Row] = []
    i = start + 1
    while i < len(tokens) and tokens[i].type != "table_close":
        token = tokens[i]
        if token.type == "tr_open" and token.map:
            out.append(Row(token.map[0], []))
        elif token.type == "inline" and out:
            out[-1].cells.append(token.content)
        i += 1
    return out, i + 1


def locate(row: Row, line: str, md: MarkdownIt) -> None:
    """Find the row's inline code holding a JSON object, and its cells that hold a sample, on ``line``
    (the row's page line)."""
    cursor = 0
    for index, cell in enumerate(row.cells):
        raw = cell.replace("|", "\\|")  # as written: every pipe left in a cell was escaped
        at = line.find(raw, cursor) if raw else -1
        if at < 0:
            continue  # an empty cell, or one written otherwise: nothing in it is located
        cursor = at + len(raw)
        if JWT.search(cell):
            row.samples.add(index)
        if "`" not in cell or "{" not in cell:
            continue
        children: list = []
        md.inline.parse(cell, md, {}, children)
        inside = at
        for child in children:
            if child.type != "code_inline" or "|" in child.content:
                continue
            found = line.find(child.content, inside, cursor)
            if found < 0:
                continue
            inside = found + len(child.content)
            if child.content.lstrip().startswith("{"):
                row.json.append((found, inside))
                row.samples.add(index)
