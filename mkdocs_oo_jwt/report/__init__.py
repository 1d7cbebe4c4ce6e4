"""Output reporters: each turns a :class:`~mkdocs_oo_jwt.model.RunResult` into a string.

Reporters only format. They never print, read files or look at the environment; the caller
decides where the text goes (every reporter's output ends with a newline).
"""

from __future__ import annotations

from typing import Callable

from . import github, json_report, junit, sarif, text

REPORTERS: dict[str, Callable[..., str]] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "github": github.render,
    "junit": junit.render,
}

__all__ = ["REPORTERS"]
