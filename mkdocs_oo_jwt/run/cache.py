"""A content-hash cache of each page's findings, for repeated runs over a big tree.

An entry is keyed by the SHA-256 of the page's bytes; the whole cache is keyed by the tool
(version, code, Python, installed packages: ``stamps.tool_stamp``), the bytes of every flow
schema, the settings and a slow one-way fingerprint of each configured secret (never the secret).
A change of any of them starts the cache afresh. A file whose stamp (size, modification and
change time) is unchanged since it was read is not read again (as git's index does). A page that
holds nothing to check is noted as such, not hashed: looking at it again costs no more.
Pages whose findings depend on the clock (tokens with exp or nbf) are not cached.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..model import Finding, Location, Severity, Span
from .stamps import Stamp, secret_fingerprint, tool_stamp

FILE = "findings-v2.json"
NOTHING = ""  # the content hash noted for a page with nothing to check (never hashed: it is cheaper to look again)


def fingerprint(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def run_key(schema_files: list[Path], settings_repr: str, secrets: dict) -> str:
    parts = [tool_stamp().encode("utf-8", "surrogateescape"), settings_repr.encode()]
    for path in sorted(schema_files):
        parts += [str(path).encode(), path.read_bytes()]
    for role in sorted(secrets):
        parts += [role.encode(), secret_fingerprint(secrets[role].reveal())]
    return fingerprint(parts)


class Cache:
    """Each page's findings (by content) and stat, in one file read only when a run needs it."""

    def __init__(self, folder: Path, key: str):
        self.folder = folder
        self.key = key
        self.entries: dict[str, Any] = {}
        self.stats: dict[str, list] = {}
        self.dirty = False

    def load(self) -> None:
        data = self._read(FILE)
        if data is not None:
            self.entries = data.get("entries") or {}
            self.stats = data.get("stats") or {}

    def _read(self, name: str) -> dict | None:
        try:
            data = json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("key") == self.key else None

    @staticmethod
    def hash(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def known(self, path: str, stamp: Stamp, shown: str) -> tuple[list[Finding], set[str]] | None:
        """The findings of a file unchanged (same stamp: ``stamps.stamp_of``) since it was read."""
        seen = self.stats.get(path)
        if seen and seen[:3] == stamp:
            return self.get(seen[3], shown)
        return None

    def get(self, content_hash: str, shown: str) -> tuple[list[Finding], set[str]] | None:
        if content_hash == NOTHING:
            return [], set()
        entry = self.entries.get(content_hash)
        if entry is None:
            return None
        return [_finding(d, shown) for d in entry["findings"]], set(entry["unsigned"])

    def put(self, path: str, stamp: Stamp, content_hash: str, findings: list[Finding], unsigned: set[str]) -> None:
        if content_hash != NOTHING:
            self.entries[content_hash] = {"findings": [_dump(f) for f in findings], "unsigned": sorted(unsigned)}
        self.stats[path] = [*stamp, content_hash]
        self.dirty = True

    def save(self) -> None:
        if self.dirty:
            # json.dumps, not json.dump: only the one-shot encoder is the C one (ten times faster)
            write(self.folder, FILE, json.dumps({"key": self.key, "entries": self.entries, "stats": self.stats}, separators=(",", ":")))

def write(folder: Path, name: str, data: str | bytes) -> None:
    """A file of the cache folder, replaced whole (a reader never sees half of it); the folder
    is made, and ignores itself in git. A folder that cannot be written is only a slower next run."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        gitignore = folder / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n", encoding="utf-8")
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".findings-", suffix=".tmp")
        with (os.fdopen(fd, "wb") if isinstance(data, bytes) else os.fdopen(fd, "w", encoding="utf-8")) as out:
            out.write(data)
        os.replace(tmp, folder / name)
    except OSError:
        pass


def _dump(f: Finding) -> list:
    loc, span = f.location, f.span
    return [f.rule, int(f.severity), loc.line, loc.column, loc.end_line, loc.end_column, f.message,
            f.flow, f.pointer, [span.start, span.end] if span else None]


def _finding(d: list, shown: str) -> Finding:
    rule, severity, line, column, end_line, end_column, message, flow, pointer, span = d
    return Finding(rule, Severity(severity), shown, Location(line, column, end_line, end_column), message,
                   flow, pointer, Span(*span) if span else None)
