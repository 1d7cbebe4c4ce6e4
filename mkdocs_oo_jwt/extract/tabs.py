"""A markdown-it-py block rule for MkDocs Material content tabs (``=== "Title"``).

Material's tabs (pymdownx.tabbed) are written like admonitions: a marker line, then a body indented
by four spaces. Without this rule markdown-it-py reads the body as an indented code block, and a
fence inside a tab would be lost. The rule mirrors ``mdit_py_plugins.admon`` (same indentation
logic), with the tab markers ``===``, ``===+`` and ``===!``.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from mdit_py_plugins.utils import is_code_block

MARKERS = ("===!", "===+", "===")


def _tab(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    start = state.bMarks[start_line] + state.tShift[start_line]
    if not state.src.startswith("===", start) or is_code_block(state, start_line):
        return False  # tried at every line: the cheapest test first
    maximum = state.eMarks[start_line]
    line = state.src[start:maximum]
    marker = next((m for m in MARKERS if line.startswith(m)), None)
    if marker is None or not line[len(marker) :].strip().startswith('"'):
        return False
    if silent:
        return True

    old_parent, old_line_max, old_indent = state.parentType, state.lineMax, state.blkIndent
    state.parentType = "tab"  # type: ignore[assignment]
    state.blkIndent += 4  # the body is indented by four spaces, whatever the marker

    next_line = start_line
    was_empty = False
    while True:
        next_line += 1
        if next_line >= end_line:
            break
        pos = state.bMarks[next_line] + state.tShift[next_line]
        is_empty = state.sCount[next_line] < state.blkIndent
        if is_empty and was_empty:
            break
        was_empty = is_empty
        if pos < state.eMarks[next_line] and state.sCount[next_line] < state.blkIndent:
            break
    state.lineMax = next_line

    token = state.push("tab_open", "div", 1)
    token.markup = marker
    token.block = True
    token.info = line[len(marker) :].strip()
    token.map = [start_line, next_line]
    state.md.block.tokenize(state, start_line + 1, next_line)
    token = state.push("tab_close", "div", -1)
    token.markup = marker
    token.block = True

    state.parentType, state.lineMax, state.blkIndent = old_parent, old_line_max, old_indent
    state.line = next_line
    return True


def tabs_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before(
        "fence", "tab", _tab, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
