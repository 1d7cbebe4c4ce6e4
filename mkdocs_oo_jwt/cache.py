"""A content-hash cache of each page's findings, for repeated runs over a big tree.

An entry is keyed by the SHA-256 of the page's bytes; the whole cache is keyed by the tool version
and code, the bytes of every flow schema, the settings and a slow one-way fingerprint of each
configured secret (never the secret). A change of any of them starts the cache afresh. A file
whose size and modification time are unchanged since it was read is not read again (as git's index
does). A page that holds nothing to check is noted as such, not hashed: looking at it again costs
no more.
Pages whose findings depend on the clock (tokens with exp or nbf) are not cached.

The last run over the same paths from the same folder is kept too, with a digest of every page's
path, size and modification time: a run that finds the same digest (nothing added, removed,
touched or edited) gives that run's findings without looking up a single page.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from . import __version__
from .model import Finding, Location, Severity, Span

FILE = "findings-v1.json"
RECORD = "last-run-v1.json"
NOTHING = ""  # the content hash noted for a page with nothing to check (never hashed: it is cheaper to look again)


def fingerprint(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def secret_fingerprint(value: str) -> bytes:
    """A one-way, deliberately slow fingerprint: a secret is never stored, nor cheaply guessable."""
    return hashlib.pbkdf2_hmac("sha256", value.encode(), b"mkdocs-oo-jwt cache v1", 20_000)


def source_stamp() -> bytes:
    """The tool's own code, by name, size and modification time of each module: a change of it
    (not only of its version) starts the cache afresh."""
    root = os.path.dirname(os.path.abspath(__file__))
    stamp = []
    for folder in (root, *(entry.path for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("_"))):
        for entry in os.scandir(folder):
            if entry.name.endswith(".py"):
                stat = entry.stat()
                stamp.append(f"{entry.path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return "\n".join(sorted(stamp)).encode()


def run_key(schema_files: list[Path], settings_repr: str, secrets: dict) -> str:
    parts = [__version__.encode(), source_stamp(), settings_repr.encode()]
    for path in sorted(schema_files):
        parts += [str(path).encode(), path.read_bytes()]
    for role in sorted(secrets):
        parts += [role.encode(), secret_fingerprint(secrets[role].reveal())]
    return fingerprint(parts)


class Cache:
    """Two files: each page's findings (by content) and stat, read only when needed; and the last
    run's record (its scope, a digest of every page's path, size and modification time, its
    findings), which lets a run over an unchanged tree skip even the look-up of each page."""

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

    def record(self, scope: str) -> dict | None:
        """The last run's record, if it was a run over the same paths from the same folder."""
        data = self._read(RECORD)
        return data if data is not None and data.get("scope") == scope else None

    def save_record(self, scope: str, tree: str, findings: list[Finding], unsigned: set[str]) -> None:
        record = {"key": self.key, "scope": scope, "tree": tree, "unsigned": sorted(unsigned),
                  "findings": [[f.path, *_dump(f)] for f in findings]}
        self._write(RECORD, json.dumps(record, separators=(",", ":")))

    @staticmethod
    def hash(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    @staticmethod
    def recorded_findings(record: dict) -> list[Finding]:
        return [_finding(d[1:], d[0]) for d in record["findings"]]

    def known(self, path: str, size: int, mtime_ns: int, shown: str) -> tuple[list[Finding], set[str]] | None:
        """The findings of a file unchanged (same size and modification time) since it was read."""
        seen = self.stats.get(path)
        if seen and seen[0] == size and seen[1] == mtime_ns:
            return self.get(seen[2], shown)
        return None

    def get(self, content_hash: str, shown: str) -> tuple[list[Finding], set[str]] | None:
        if content_hash == NOTHING:
            return [], set()
        entry = self.entries.get(content_hash)
        if entry is None:
            return None
        return [_finding(d, shown) for d in entry["findings"]], set(entry["unsigned"])

    def put(self, path: str, stat: tuple[int, int], content_hash: str, findings: list[Finding], unsigned: set[str]) -> None:
        if content_hash != NOTHING:
            self.entries[content_hash] = {"findings": [_dump(f) for f in findings], "unsigned": sorted(unsigned)}
        self.stats[path] = [stat[0], stat[1], content_hash]
        self.dirty = True

    def save(self) -> None:
        if self.dirty:
            # json.dumps, not json.dump: only the one-shot encoder is the C one (ten times faster)
            self._write(FILE, json.dumps({"key": self.key, "entries": self.entries, "stats": self.stats}, separators=(",", ":")))

    def _write(self, name: str, text: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n", encoding="utf-8")
            import tempfile

            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".findings-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, self.folder / name)
        except OSError:
            pass  # a cache that cannot be written is only a slower next run


def tree_stamp(pages: list[tuple[str, int, int]]) -> str:
    """A digest of every page of a run (path as reported, size, modification time), in order."""
    return hashlib.sha256("\n".join(f"{shown}\0{size}\0{mtime}" for shown, size, mtime in pages).encode("utf-8", "surrogatepass")).hexdigest()


def _dump(f: Finding) -> list:
    loc, span = f.location, f.span
    return [f.rule, int(f.severity), loc.line, loc.column, loc.end_line, loc.end_column, f.message,
            f.flow, f.pointer, [span.start, span.end] if span else None]


def _finding(d: list, shown: str) -> Finding:
    rule, severity, line, column, end_line, end_column, message, flow, pointer, span = d
    return Finding(rule, Severity(severity), shown, Location(line, column, end_line, end_column), message,
                   flow, pointer, Span(*span) if span else None)
