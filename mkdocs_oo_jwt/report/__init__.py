"""Output reporters: each turns a :class:`~mkdocs_oo_jwt.model.RunResult` into a string.

Reporters only format. They never print, read files or look at the environment; the caller
decides where the text goes (every reporter's output ends with a newline).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Callable, Iterator

_MODULES = {"text": "text", "json": "json_report", "sarif": "sarif", "github": "github", "junit": "junit",
            "gitlab": "gitlab"}


class _Reporters(Mapping):
    """name -> render; a reporter's module is imported when it is first asked for (a pre-commit
    run should not pay for the XML and SARIF machinery it does not use)."""

    def __getitem__(self, name: str) -> Callable[..., str]:
        module = _MODULES[name]
        return importlib.import_module(f"{__name__}.{module}").render

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


REPORTERS: Mapping[str, Callable[..., str]] = _Reporters()

__all__ = ["REPORTERS"]
