"""``--format text``: one line per finding, then notices, then a summary line."""

from __future__ import annotations

from ..model import RunResult, Severity
from .common import NOTICE_LABEL, plural, summary_line, visible

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


def render(result: RunResult, *, color: bool = False, quiet: bool = False) -> str:
    """The report; ``quiet``: the finding lines only (no notes, no summary line)."""
    lines = []
    for f in result.findings:
        loc = f.location
        flow = f" [{one_line(f.flow)}]" if f.flow is not None else ""
        lines.append(
            f"{one_line(f.path)}:{loc.line}:{loc.column}: "
            f"{_paint(str(f.severity), f.severity, color)} {f.rule}{flow} {one_line(f.message)}"
            + (" (baselined)" if f.baselined else "")
        )
    if quiet:
        return "".join(line + "\n" for line in lines)
    for n in result.notices:
        lines.append(f"{_paint(NOTICE_LABEL[n.severity], n.severity, color)}: {one_line(n.message)}")
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


def summary(result: RunResult) -> str:
    """The summary line (``3 errors, 1 warning, 2 infos in 5 pages``, and the baseline's counts)."""
    return summary_line(result) + baseline_summary(result)


def baseline_summary(result: RunResult) -> str:
    """``; baseline: 27 findings baselined, 1 entry stale (...)``, when the run had a baseline."""
    if result.baselined is None:
        return ""
    stale = f"{result.stale} {'entry' if result.stale == 1 else 'entries'} stale"
    if result.stale:
        stale += " (no finding matches them any more: --update-baseline removes them)"
    return f"; baseline: {plural(result.baselined, 'finding')} baselined, {stale}"
