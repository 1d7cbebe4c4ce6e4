"""Helpers shared by the reporters."""

from __future__ import annotations

from ..model import RunResult, Severity

# Notices are labelled like compiler diagnostics: "note:", "warning:", "error:".
NOTICE_LABEL = {Severity.INFO: "note", Severity.WARNING: "warning", Severity.ERROR: "error"}

# SARIF (and GitHub) have no "info" level: it is called "note".
SARIF_LEVEL = {Severity.INFO: "note", Severity.WARNING: "warning", Severity.ERROR: "error"}


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(result: RunResult) -> str:
    """``3 errors, 1 warning, 2 infos in 5 pages`` or ``no problems in 5 pages``."""
    pages = plural(len(result.pages), "page")
    if not result.findings:
        return f"no problems in {pages}"
    counts = ", ".join(
        plural(result.count(sev), word)
        for sev, word in ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "info"))
    )
    return f"{counts} in {pages}"


def forward_slashes(path: str) -> str:
    return path.replace("\\", "/")
