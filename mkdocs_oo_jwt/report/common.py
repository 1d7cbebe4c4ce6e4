"""Helpers shared by the reporters: labels, the summary line, and how text is made safe to show.

Two kinds of reader get a report. Programs (``--format json``, SARIF's data) get every value
exactly, except what no encoding can carry: a lone surrogate, which is how Python holds a file
name's byte that is not UTF-8 (``surrogateescape``), or a ``\\ud800`` escape in an example.
People (text, github, the messages of SARIF and JUnit) get :func:`visible` text: page content
quoted in a message cannot drive a terminal (ESC sequences, C1 controls), break a line (CR, LF,
U+2028/U+2029), reorder or hide what is shown (bidi controls, invisible format characters), and two
strings that differ only by Unicode normalisation do not look identical.
"""

from __future__ import annotations

import re
import unicodedata

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
    if all(f.baselined for f in result.findings):  # none, or only baselined ones (--show-baselined)
        return f"no problems in {pages}"
    counts = ", ".join(
        plural(result.count(sev), word)
        for sev, word in ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "info"))
    )
    return f"{counts} in {pages}"


def forward_slashes(path: str) -> str:
    return path.replace("\\", "/")


def rooted(path: str, root: str | None, cwd: str | None) -> str | None:
    """``path`` as reported (relative to ``cwd``, the folder the run started in, or absolute) made
    relative to ``root`` (the repository's top folder) with forward slashes, as code scanning and
    GitLab resolve it; None without a root, or for a path outside it. Only the strings are looked
    at (no file system)."""
    import os.path

    if not root or not cwd:
        return None
    full = os.path.normpath(path if os.path.isabs(path) else os.path.join(cwd, path))
    try:
        relative = os.path.relpath(full, os.path.normpath(root))
    except ValueError:  # another drive (Windows)
        return None
    if relative == os.pardir or relative.startswith(os.pardir + os.sep) or os.path.isabs(relative):
        return None
    return forward_slashes(relative)


# ---------------------------------------------------------------- escapes

_LINE_ESCAPES = {"\n": "\\n", "\r": "\\r"}
# Zero-width non-joiner and joiner are format characters that Persian, Indic scripts and emoji
# are written with: shown as they are. Every other format character (bidi controls such as
# U+202E, U+2066-U+2069, U+200E/F, U+061C; zero-width space, word joiner, BOM, soft hyphen, tags)
# is invisible or reorders what surrounds it, so it is shown as its escape.
_KEEP_FORMAT = frozenset("\u200c\u200d")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_A_BYTE = re.compile("[\ud800-\udc7f\udd00-\udfff]")  # surrogates surrogateescape never makes
# all ASCII but controls and DEL: nothing to escape, the common case
_PLAIN = re.compile(r"[\x20-\x7e\t]*+")


def escape(ch: str) -> str:
    """One character as a Python-style escape. A lone surrogate from U+DC80 to U+DCFF is a byte
    that did not decode (``surrogateescape``): it is shown as that byte, ``\\xff``."""
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def without_surrogates(s: str) -> str:
    """``s`` with every lone surrogate written as its escape (``p\\xffage.md``): valid Unicode that
    every encoder and every strict JSON reader accepts; nothing else changes."""
    return _SURROGATE.sub(lambda m: escape(m.group()), s)


def portable(value):
    """A JSON-able ``value`` with every string in it (keys too) free of lone surrogates."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {portable(k): portable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable(v) for v in value]
    return value


def utf8_bytes(s: str) -> bytes:
    """The bytes ``s`` stands for: UTF-8, with a file name's undecodable bytes given back as they
    were (``surrogateescape``); any other lone surrogate is written as its escape."""
    return _NOT_A_BYTE.sub(lambda m: escape(m.group()), s).encode("utf-8", "surrogateescape")


_LONGEST_COMPOSITION = 32


def _denormalised(s: str) -> list[tuple[int, int]]:
    """The ranges of ``s`` that NFC normalisation would change (``e`` + U+0301, U+212B ANGSTROM
    SIGN...): where a string can look the same as another and differ from it."""
    if unicodedata.is_normalized("NFC", s):
        return []
    clusters: list[list[int]] = []  # a character with the combining marks that follow it
    for i, ch in enumerate(s):
        if clusters and unicodedata.combining(ch):
            clusters[-1][1] = i + 1
        else:
            clusters.append([i, i + 1])
    merged: list[list[int]] = []  # clusters that compose with each other (Hangul jamo, some vowels)
    for cluster in clusters:
        # (a composition spans a few clusters at most: the bound keeps a hostile string linear)
        if merged and merged[-1][1] - merged[-1][0] <= _LONGEST_COMPOSITION:
            a, b = s[merged[-1][0] : merged[-1][1]], s[cluster[0] : cluster[1]]
            if unicodedata.normalize("NFC", a + b) != unicodedata.normalize("NFC", a) + unicodedata.normalize("NFC", b):
                merged[-1][1] = cluster[1]
                continue
        merged.append(cluster)
    return [(a, b) for a, b in merged if not unicodedata.is_normalized("NFC", s[a:b])]


def visible(s: str, *, keep_lines: bool = False) -> str:
    """``s`` as a person may safely be shown it, every hazard as a visible escape.

    Escaped: control characters but tab (``\\x1b``; CR and LF as ``\\r``/``\\n`` unless
    ``keep_lines``), U+2028/U+2029, format characters but ZWNJ/ZWJ (``\\u202e``), lone surrogates
    (an undecodable file-name byte as ``\\xff``), and the non-ASCII characters of a part that is
    not in NFC (``e\\u0301``, so that it no longer looks like ``é``).
    """
    if _PLAIN.fullmatch(s):
        return s
    unnormal = bytearray(len(s))
    for a, b in _denormalised(s):
        unnormal[a:b] = b"\1" * (b - a)
    out = []
    for i, ch in enumerate(s):
        if ch in _LINE_ESCAPES:
            out.append(ch if keep_lines else _LINE_ESCAPES[ch])
        elif ch == "\t":
            out.append(ch)
        elif unnormal[i] and not ch.isascii():
            out.append(escape(ch))
        elif unicodedata.category(ch) in _HIDDEN_CATEGORIES and ch not in _KEEP_FORMAT:
            out.append(escape(ch))
        else:
            out.append(ch)
    return "".join(out)
