"""Directives in HTML comments, invisible when rendered (in the style of markdownlint and Vale).

    <!-- oo-jwt: flow=conversion -->             the next block belongs to that flow
    <!-- oo-jwt: ignore -->                      the next block is not checked
    <!-- oo-jwt: ignore rule=token-signature --> the next block is not checked for that rule
    <!-- oo-jwt: disable [rule=a,b] --> ... <!-- oo-jwt: enable [rule=a,b] -->

``ignore`` and ``disable`` take ``reason="..."`` (kept in the JSON and SARIF reports).

A comment whose text starts with ``oo-jwt`` or ``oo_jwt`` is meant for this tool: if it cannot be
read as one of the above (``oo-jwt ignore`` without the colon, ``ignroe``, an unknown rule id, a
word too many), it gets a ``problem`` and does nothing, and the engine reports it
(``directive-invalid``), never drops it in silence: a mistyped ``enable`` would leave the rest of
the page unchecked. Other comments are not ours.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from ..catalog import RULES

_COMMENT = re.compile(r"<!--(?P<body>.*?)-->", re.S)
# "oo-jwt" as a word of its own, or joined to a directive's word by "-" (``oo-jwt-ignore``: meant
# for us, misspelt); another name that starts so (``oo-jwt-fix``, the pre-commit hook) is not ours
_OURS = re.compile(r"\s*(?P<name>oo[-_]jwt)(?![A-Za-z0-9_])(?!-(?!(?:ignore|disable|enable|flow|no-panel)\b))"
                   r"(?P<colon>\s*:)?")
# a word, or key=value with the value bare or quoted ("..." or '...'); an unclosed quote is a word
_WORD = re.compile(r"""\s*(?:(?P<key>[A-Za-z_][\w-]*)\s*=\s*(?P<value>"[^"]*"|'[^']*'|[^\s"']*)|(?P<word>\S+))""")
VERBS = ("ignore", "disable", "enable", "no-panel")  # no-panel: the next token's block gets no panel (panels.py)
KEYS = ("flow", "rule", "rules", "reason")
NAME = "oo-jwt"


@dataclass(frozen=True)
class Directive:
    verb: str  # flow, ignore, disable, enable; "" for a directive that cannot be read (see problem)
    flow: str | None = None
    rules: frozenset[str] = field(default_factory=frozenset)
    text: str = ""
    reason: str | None = None  # ``reason="..."`` of an ignore or disable
    start: int = 0  # offsets of the whole comment in the text parsed
    end: int = 0
    problem: str | None = None  # why it cannot be read; None: it can


def parse(html: str) -> list[Directive]:
    """The comments of ``html`` that are meant for oo-jwt, in order, each read or with its problem."""
    out = []
    for m in _COMMENT.finditer(html):
        ours = _OURS.match(m.group("body"))
        if ours is None:
            continue
        body = m.group("body")[ours.end():].strip()
        if ours.group("name") != NAME or not ours.group("colon"):
            problem = (f"a directive starts with '{NAME}:'" + (" (the colon is missing)" if ours.group("colon") is None
                                                               and ours.group("name") == NAME else "")
                       + f", not '{m.group('body').strip()[:40]}': it was not applied")
            out.append(Directive("", text=body, start=m.start(), end=m.end(), problem=problem))
            continue
        out.append(_read(body, m.start(), m.end()))
    return out


def _read(body: str, start: int, end: int) -> Directive:
    def wrong(problem: str) -> Directive:
        return Directive("", text=body, start=start, end=end, problem=f"{problem}: the directive was not applied")

    verb, flow, rules, reason, seen = "", None, set(), None, set()
    position = 0
    while position < len(body):
        m = _WORD.match(body, position)
        if m is None or m.end() == position:
            break
        position = m.end()
        if m.group("word") is not None:
            word = m.group("word")
            if word.lower() in VERBS and word not in VERBS:
                return wrong(f"write '{word.lower()}' in lower case")
            if word not in VERBS:
                return wrong(f"unknown directive '{word}'" + _did_you_mean(word, VERBS + tuple(f"{k}=" for k in KEYS)))
            if verb:
                return wrong(f"'{verb}' and '{word}' in one directive: give each its own comment")
            verb = word
            continue
        key, value = m.group("key"), m.group("value")
        if key not in KEYS:
            return wrong(f"unknown option '{key}='" + _did_you_mean(key, KEYS))
        canonical = "rule" if key == "rules" else key
        if canonical in seen:
            return wrong(f"'{key}=' given twice")
        seen.add(canonical)
        if value[:1] in "\"'" and len(value) >= 2:
            value = value[1:-1]
        elif key != "reason" and not value:
            return wrong(f"'{key}=' has no value")
        if key == "flow":
            flow = value
        elif key == "reason":
            reason = value
        else:
            names = [r.strip() for r in value.split(",") if r.strip()]
            unknown = [r for r in names if r not in RULES]
            if unknown:
                return wrong(f"unknown rule id '{unknown[0]}'" + _did_you_mean(unknown[0], tuple(RULES))
                             + " (see `oo-jwt rules`)")
            if not names:
                return wrong(f"'{key}=' names no rule")
            rules.update(names)
    if flow is not None:
        if verb:
            return wrong(f"flow= and '{verb}' in one directive: give each its own comment")
        if rules or reason is not None:
            return wrong("flow= takes no rule= nor reason=")
        return Directive("flow", flow, text=body, start=start, end=end)
    if not verb:
        return wrong(f"nothing to do: give one of {', '.join(VERBS)} or flow=")
    if reason is not None and verb == "enable":
        return wrong("reason= belongs to the ignore or disable it ends")
    return Directive(verb, None, frozenset(rules), body, reason, start, end)


def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    started = [c for c in choices if c.startswith(word.lower())]  # a rule id cut short: token-sig
    close = started[:1] if len(started) == 1 else difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0].rstrip('=')}'?)" if close else ""
