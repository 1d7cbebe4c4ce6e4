"""curl commands in shell blocks: method, URL, headers and the data argument, quoting undone."""

from __future__ import annotations

import re
import shlex
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


def command_end(text: str, start: int) -> int:
    """End of a command that may continue over lines ending in a backslash, or inside open quotes."""
    pos = start
    for _ in range(MAX_COMMAND_LINES):
        eol = text.find("\n", pos)
        if eol < 0:
            return len(text)
        if not text[pos:eol].rstrip().endswith("\\") and _quotes_closed(text[start:eol]):
            return eol
        pos = eol + 1
    return text.find("\n", pos) if "\n" in text[pos:] else len(text)


def _quotes_closed(command: str) -> bool:
    try:
        shlex.split(command.replace("\\\n", " "), posix=True)
    except ValueError:
        return False
    return True


def read_curl(text: str, start: int) -> Curl | None:
    end = command_end(text, start)
    raw = text[start:end]
    try:
        argv = shlex.split(raw.replace("\\\n", " "), comments=False, posix=True)
    except ValueError:  # unbalanced quotes: not a command we can read
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
