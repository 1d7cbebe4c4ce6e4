"""Material for MkDocs code annotations: a ``// (1)``, ``# (1)`` or ``# (1)!`` marker at the end of a line.

The marker points at a note shown beside the code; it is not part of the code (with ``!`` Material
even removes the comment from the rendered block). It is blanked before a block is read, with as
many spaces as it has characters, so every offset after it still holds.
"""

from __future__ import annotations

import re

# a comment holding only "(n)" or "(n)!", at the end of a line, after a blank, a comma or a bracket
MARKER = re.compile(r"(?:^|(?<=[,{\[(])|[ \t]++)(?://|#)[ \t]*+\(\d{1,3}\)!?[ \t]*+$", re.M)
# what every marker ends with: looked for first (from its "(", quick), as most blocks hold no marker
_MARKER_END = re.compile(r"\(\d{1,3}\)!?[ \t]*+$", re.M)


def mask(text: str) -> str:
    """The text with every annotation marker blanked (same length)."""
    if ")" not in text or not _MARKER_END.search(text):
        return text
    return MARKER.sub(lambda m: " " * len(m.group()), text)
