"""curl commands in shell blocks: method, URL, headers and the data argument, quoting undone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CURL_START = re.compile(r"(?:\$\s+)?curl\b")
DATA_FLAGS = ("-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--json")
HEADER_FLAGS = ("-H", "--header")
METHOD_FLAGS = ("-X", "--request")
# flags of curl that take a value (so the value is not taken for the URL)
VALUE_FLAGS = set(DATA_FLAGS + HEADER_FLAGS + METHOD_FLAGS) | {
    "-o", "--output", "-u", "--user", "-F", "--form", "-A", "--user-agent", "-e", "--referer",
    "--url", "-b", "--cookie", "-c", "--cookie-jar", "-T", "--upload-file", "--connect-timeout",
    "-m", "--max-time", "--cacert", "--cert", "-w", "--write-out", "-x", "--proxy",
}


@dataclass
class Curl:
    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    data: str | None = None
    data_offset: int | None = None  # offset in the command text where the data argument starts
    data_quote: str = ""  # the quote that opens the raw data argument ("'" maps 1:1)
    end: int = 0  # offset just past the command


MAX_COMMAND_LINES = 500
# the characters that change the shell's quoting state, or end a line
_QUOTING = re.compile(r"[\\'\"\n]")


def command_end(text: str, start: int) -> int:
    """End of a command that may continue over lines ending in a backslash, or inside open quotes.

    One pass over the characters that matter (backslash, quotes, newlines), as POSIX sh reads
    them: nothing escapes inside single quotes, a backslash escapes the next character elsewhere.
    A command whose quote never closes ends after MAX_COMMAND_LINES lines or at the end of text.
    """
    quote = ""
    skip_to = start  # a backslash escapes the character after it
    line_start, lines = start, 0
    for match in _QUOTING.finditer(text, start):
        at, char = match.start(), match.group()
        if at < skip_to:
            continue
        if char == "\\" and quote != "'":
            skip_to = at + 2
            if text.startswith("\n", at + 1):  # a line continuation
                line_start, lines = at + 2, lines + 1
        elif char == "\n":
            # a backslash followed by blanks still continues the line, as writers mean it
            if not quote and not text[line_start:at].rstrip().endswith("\\"):
                return at
            line_start, lines = at + 1, lines + 1
        elif not quote:
            quote = char
        elif char == quote:
            quote = ""
        if lines >= MAX_COMMAND_LINES:
            return text.find("\n", line_start) if "\n" in text[line_start:] else len(text)
    return len(text)


# One shell word: runs of plain characters, escapes and quoted strings, as POSIX sh splits them.
# (shlex does the same but builds each word a character at a time: quadratic, 14 s for a 1 MB
# data argument; these patterns are linear, their alternatives start on different characters.)
_WORD = re.compile(r"""(?:[^ \t\r\n\\'"]+|\\[\s\S]?|'[^']*'|"(?:[^"\\]|\\[\s\S])*")+""")
_PIECE = re.compile(r"""([^\\'"]+)|\\([\s\S]?)|'([^']*)'|"((?:[^"\\]|\\[\s\S])*)["]""")
_DOUBLE_QUOTED_ESCAPE = re.compile(r'\\([\\"$`\n])')  # what a backslash escapes inside "..."
_BLANKS = " \t\r\n"


def split_words(command: str) -> list[str] | None:
    """The words of a command with quotes and escapes removed, or None if a quote never closes."""
    words, at = [], 0
    for match in _WORD.finditer(command):
        if command[at : match.start()].strip(_BLANKS):
            return None  # a quote that does not close: no pattern took it
        at = match.end()
        words.append("".join(_unquote(piece) for piece in _PIECE.finditer(match.group())))
    if command[at:].strip(_BLANKS):
        return None
    return words


def _unquote(piece: re.Match) -> str:
    plain, escaped, single, double = piece.groups()
    if plain is not None:
        return plain
    if escaped is not None:
        return "" if escaped == "\n" else escaped
    if single is not None:
        return single
    return _DOUBLE_QUOTED_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), double)


def read_curl(text: str, start: int) -> Curl | None:
    end = command_end(text, start)
    raw = text[start:end]
    argv = split_words(raw.replace("\\\n", " "))
    if argv is None:  # unbalanced quotes: not a command we can read
        return None
    if argv and argv[0] == "$":
        argv = argv[1:]
    if not argv or argv[0] != "curl":
        return None
    curl = Curl("", "", end=end)
    i = 1
    while i < len(argv):
        arg = argv[i]
        flag, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        value = inline if eq else (argv[i + 1] if i + 1 < len(argv) else "")
        step = 1 if eq else 2
        if flag in METHOD_FLAGS:
            curl.method = value.upper()
        elif flag in HEADER_FLAGS:
            name, _, hv = value.partition(":")
            curl.headers.append((name.strip(), hv.strip()))
        elif flag in DATA_FLAGS:
            curl.data = value
            if flag == "--json":
                curl.headers.append(("Content-Type", "application/json"))
            m = re.search(rf"(?:^|\s){re.escape(flag)}(?:\s+|=)", raw)
            if m:
                curl.data_offset = start + m.end()
                curl.data_quote = raw[m.end() : m.end() + 1]
        elif flag == "--url":
            curl.url = value
        elif arg.startswith("-") and flag in VALUE_FLAGS:
            pass
        elif arg.startswith("-"):
            step = 1
        else:
            step = 1
            if not curl.url:
                curl.url = arg
        i += step
    curl.method = curl.method or ("POST" if curl.data is not None else "GET")
    return curl
