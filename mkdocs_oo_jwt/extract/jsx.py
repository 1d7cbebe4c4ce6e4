"""A markdown-it-py block rule for MDX component bodies indented under their tag, with no blank line.

Docusaurus pages write tabs as JSX, often with the body indented under the tag::

    <Tabs>
      <TabItem value="json" label="JSON">
          ```json
          {...}
          ```
      </TabItem>
    </Tabs>

CommonMark reads ``<TabItem ...>`` as an HTML block that runs to the next blank line, and the
indented fence in it as an indented code block. MDX has no indented code: the body is Markdown at
its own level. This rule reads a line that is only a component's opening tag (a capitalised name,
as markdown-it's own HTML tag pattern matches it), followed at once by a line indented deeper, as
an HTML block of that one line, then the lines indented at least as deep as the first body line
(blank lines included) as Markdown at that indentation, as ``tabs.py`` reads a Material tab's body.
A line that is only a component's closing tag (``</TabItem>``) is an HTML block of its own line,
so it does not swallow the next component. Block contents keep their page lines and columns.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.html_re import HTML_OPEN_CLOSE_TAG_STR
from markdown_it.rules_block import StateBlock

_TAG = re.compile(HTML_OPEN_CLOSE_TAG_STR + r"\s*$")
_COMPONENT = re.compile(r"</?[A-Z]")  # JSX components are capitalised; HTML tags are not


def _component(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    start = state.bMarks[start_line] + state.tShift[start_line]
    if not state.src.startswith("<", start) or state.is_code_block(start_line):
        return False  # tried at every line: the cheapest test first
    line = state.src[start : state.eMarks[start_line]]
    if not _COMPONENT.match(line) or not _TAG.match(line) or line.rstrip().endswith("/>"):
        return False
    closing = line.startswith("</")
    body = start_line + 1
    indented = (
        not closing
        and body < end_line
        and not state.isEmpty(body)
        and state.sCount[body] > state.sCount[start_line]
    )
    if not closing and not indented:
        return False  # an opening tag followed by a blank or unindented line: markdown-it's HTML block
    if silent:
        return False  # like an HTML block of another tag, it does not interrupt a paragraph

    token = state.push("html_block", "", 0)
    token.map = [start_line, start_line + 1]
    token.content = state.getLines(start_line, start_line + 1, state.blkIndent, True)
    if closing:
        state.line = start_line + 1
        return True

    indent = state.sCount[body]
    end, last = body, body  # last: one past the last body line that is not blank
    while end < end_line and (state.isEmpty(end) or state.sCount[end] >= indent):
        end += 1
        if not state.isEmpty(end - 1):
            last = end
    old_parent, old_line_max, old_indent = state.parentType, state.lineMax, state.blkIndent
    state.parentType = "jsx"  # type: ignore[assignment]
    state.lineMax, state.blkIndent = last, indent
    state.md.block.tokenize(state, body, last)
    state.parentType, state.lineMax, state.blkIndent = old_parent, old_line_max, old_indent
    state.line = last
    return True


def jsx_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before("html_block", "jsx_component", _component)
