"""``--format text``: one line per finding, then notices, then a summary line."""

from __future__ import annotations

from ..model import RunResult, Severity
from .common import NOTICE_LABEL, summary_line, visible

_COLOR = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[34m"}
_RESET = "\x1b[0m"


def one_line(s: str) -> str:
    """Keep one finding on one line and keep page content from driving the terminal.

    Line breaks become ``\\n``/``\\r``, other control characters (tab excepted) ``\\xNN``, and
    what could hide or reorder text (bidi controls, U+2028, a denormalised string, a file name's
    undecodable byte) its escape: see :func:`~mkdocs_oo_jwt.report.common.visible`.
    """
    return visible(s)


def _paint(word: str, severity: Severity, color: bool) -> str:
    return f"{_COLOR[severity]}{word}{_RESET}" if color else word


def render(result: RunResult, *, color: bool = False) -> str:
    lines = []
    for f in result.findings:
        loc = f.location
        flow = f" [{one_line(f.flow)}]" if f.flow is not None else ""
        lines.append(
            f"{one_line(f.path)}:{loc.line}:{loc.column}: "
            f"{_paint(str(f.severity), f.severity, color)} {f.rule}{flow} {one_line(f.message)}"
        )
    for n in result.notices:
        lines.append(f"{_paint(NOTICE_LABEL[n.severity], n.severity, color)}: {one_line(n.message)}")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
