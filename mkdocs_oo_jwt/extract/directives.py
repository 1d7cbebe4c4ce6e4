"""Directives in HTML comments, invisible when rendered (in the style of markdownlint and Vale).

    <!-- oo-jwt: flow=conversion -->             the next block belongs to that flow
    <!-- oo-jwt: ignore -->                      the next block is not checked
    <!-- oo-jwt: ignore rule=token-signature --> the next block is not checked for that rule
    <!-- oo-jwt: disable [rule=a,b] --> ... <!-- oo-jwt: enable [rule=a,b] -->
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_COMMENT = re.compile(r"<!--\s*oo-jwt\s*:(?P<body>.*?)-->", re.S)
VERBS = {"flow", "ignore", "disable", "enable"}


@dataclass(frozen=True)
class Directive:
    verb: str  # flow, ignore, disable, enable; "" for a directive that cannot be read
    flow: str | None = None
    rules: frozenset[str] = field(default_factory=frozenset)
    text: str = ""


def parse(html: str) -> list[Directive]:
    out = []
    for m in _COMMENT.finditer(html):
        body = m.group("body").strip()
        verb, flow, rules = "", None, set()
        for word in body.split():
            key, eq, value = word.partition("=")
            if eq and key == "flow":
                verb, flow = verb or "flow", value
            elif eq and key in ("rule", "rules"):
                rules.update(r for r in value.split(",") if r)
            elif not eq and key in VERBS and not verb:
                verb = key
            else:
                verb = ""
                break
        out.append(Directive(verb, flow, frozenset(rules), body))
    return out
