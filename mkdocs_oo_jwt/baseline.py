"""The baseline: the findings a tree already had when the gate was turned on, kept in a file
(``.oo-jwt-baseline.json``) so that only new ones fail it.

An entry is keyed by what a finding is about, never by its line: the page's path (relative to the
baseline file's folder, with forward slashes, so the same wherever the run starts and whichever
files it is given), the rule, the flow, the JSON pointer and a fingerprint (``Finding.subject``: a
hash of the token's text, of the example's canonical JSON, or of the block's text). Text added
or edited above a baselined token leaves it baselined; a token re-signed, an example changed, a
page renamed makes a new finding. Entries are a multiset: two identical findings are two entries,
and a third one is new. The file holds hashes only: no secret, no token, no message.

``Gate`` matches one run's findings page by page (the command, the plugin and the extension each
feed it their pages); an entry of a page the run covered (checked, or under a folder it walked)
that no finding matches any more is *stale*: ``ratcheted`` drops those (``--update-baseline``:
the file only ever shrinks), ``written`` replaces the covered pages' entries by the findings of
this run (``--write-baseline``), keeping those of pages the run did not cover.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .model import Finding, RunResult
from .settings import ConfigError

VERSION = 1
DEFAULT_NAME = ".oo-jwt-baseline.json"
MAX_BYTES = 64 << 20  # a baseline of a million findings; a larger file (or a link to /dev/zero) is not read


class BaselineError(ConfigError):
    """A baseline file that cannot be used: one line, exit code 2."""


@dataclass(frozen=True)
class Entry:
    path: str  # the page, relative to the baseline file's folder, with forward slashes
    rule: str
    flow: str | None
    pointer: str | None
    fingerprint: str

    def order(self) -> tuple:
        return (self.path, self.rule, self.flow or "", self.flow is not None, self.pointer or "",
                self.pointer is not None, self.fingerprint)

    def as_dict(self) -> dict:
        return {"path": self.path, "rule": self.rule, "flow": self.flow, "pointer": self.pointer,
                "fingerprint": self.fingerprint}


@dataclass
class Baseline:
    file: Path  # as named (said in messages)
    entries: list[Entry] = field(default_factory=list)

    @property
    def folder(self) -> str:
        return os.path.dirname(os.path.abspath(self.file))

    def key(self, page: str) -> str:
        """A page's path as entries name it: relative to the baseline file's folder."""
        path = os.path.abspath(page)
        try:
            relative = os.path.relpath(path, self.folder)
        except ValueError:  # another drive (Windows): the whole path
            relative = path
        return relative.replace(os.sep, "/")

    def covers(self, entry: Entry, roots: Iterable[str]) -> bool:
        """Is the entry's page one of ``roots`` (files and folders a run was given) or under one?"""
        path = os.path.normpath(os.path.join(self.folder, entry.path.replace("/", os.sep)))
        for root in roots:
            top = os.path.abspath(root)
            if path == top or path.startswith(top.rstrip(os.sep) + os.sep):
                return True
        return False


def entry_of(finding: Finding, key: str) -> Entry:
    """A finding's entry, its page's ``key`` given. A finding about a page as a whole (it cannot be
    read) has no subject: its message stands for it (it names no line of the page)."""
    fingerprint = finding.subject if finding.subject is not None else _digest(finding.message)
    return Entry(key, finding.rule, finding.flow, finding.pointer, fingerprint)


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# ------------------------------------------------------------------ the file

def load(file: Path) -> Baseline:
    """The baseline in ``file``; BaselineError (one line) when it is missing or not a baseline."""
    from .run.files import NotRegularFile, OverLimit, read_regular_file

    try:
        data, _ = read_regular_file(file, MAX_BYTES)
    except FileNotFoundError:
        raise BaselineError(f"baseline {file}: no such file (make it with oo-jwt check --baseline {file} "
                            "--write-baseline)") from None
    except NotRegularFile:
        raise BaselineError(f"baseline {file}: not a regular file") from None
    except OverLimit:
        raise BaselineError(f"baseline {file}: larger than {MAX_BYTES >> 20} MiB: not read") from None
    except OSError as exc:
        raise BaselineError(f"baseline {file}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    return Baseline(file, parse(data, file))


def parse(data: bytes, file: Path) -> list[Entry]:
    def wrong(why: str) -> BaselineError:
        return BaselineError(f"baseline {file}: not an oo-jwt baseline ({why}); write it again with --write-baseline")

    try:
        doc = json.loads(data.decode("utf-8-sig"))  # a BOM too: an editor's (Notepad's) way of saving UTF-8
    except UnicodeDecodeError:
        raise wrong("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise wrong(f"not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise wrong("nested too deeply") from None
    if not isinstance(doc, dict) or "entries" not in doc:
        raise wrong('no "entries" list')
    if doc.get("version") != VERSION:
        raise wrong(f"version {json.dumps(doc.get('version'))}, this oo-jwt reads version {VERSION}")
    entries = doc["entries"]
    if not isinstance(entries, list):
        raise wrong('"entries" is not a list')
    out = []
    for number, item in enumerate(entries, 1):
        if not (isinstance(item, dict) and all(isinstance(item.get(k), str) for k in ("path", "rule", "fingerprint"))
                and all(item.get(k) is None or isinstance(item.get(k), str) for k in ("flow", "pointer"))):
            raise wrong(f"entry {number} is not one: it needs path, rule, flow, pointer and fingerprint")
        out.append(Entry(item["path"], item["rule"], item.get("flow"), item.get("pointer"), item["fingerprint"]))
    return out


def render(entries: Iterable[Entry]) -> str:
    """The file's text: sorted, one entry a line (a review sees one line per finding come or go),
    ASCII, the same text for the same entries."""
    lines = [json.dumps(entry.as_dict(), ensure_ascii=True) for entry in sorted(entries, key=Entry.order)]
    body = ",\n".join(f"    {line}" for line in lines)
    return f'{{\n  "version": {VERSION},\n  "entries": [\n{body}{chr(10) if lines else ""}  ]\n}}\n'


def save(file: Path, entries: Iterable[Entry]) -> None:
    """Write the baseline whole (a temporary file beside it, renamed over it: a reader never sees
    half of it), through a link to its target; BaselineError when it cannot be written."""
    import tempfile

    target = Path(os.path.realpath(file))
    data = render(entries).encode("ascii")
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise BaselineError(f"baseline {file}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            try:
                mode = os.stat(target).st_mode & 0o7777
            except OSError:
                mode = 0o666 & ~_umask()
            if hasattr(os, "fchmod"):  # mkstemp made it private; a baseline is a file of the project
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException as exc:  # noqa: BLE001 - the temporary file goes, whatever stopped the write
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise BaselineError(f"baseline {file}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------ a run against it

class Gate:
    """One run's findings against a baseline, page by page (``page``)."""

    def __init__(self, baseline: Baseline):
        self.baseline = baseline
        self.left = Counter(baseline.entries)  # entries no finding has matched yet
        self.found: list[Entry] = []  # every finding's entry, this run
        self.checked: set[str] = set()  # the keys of the pages checked
        self.baselined = 0

    def page(self, page: str, findings: list[Finding]) -> list[Finding]:
        """The findings of one page (``page``: its file), those the baseline holds marked ``baselined``."""
        key = self.baseline.key(page)
        self.checked.add(key)
        out = []
        for finding in findings:
            entry = entry_of(finding, key)
            self.found.append(entry)
            if self.left[entry] > 0:
                self.left[entry] -= 1
                self.baselined += 1
                finding = finding._replace(baselined=True)
            out.append(finding)
        return out

    def _covered(self, entry: Entry, roots: Iterable[str]) -> bool:
        return entry.path in self.checked or self.baseline.covers(entry, roots)

    def stale(self, roots: Iterable[str] = ()) -> list[Entry]:
        """The entries of the pages this run covered (checked, or under ``roots``) that no finding
        matched: fixed, or their page gone."""
        roots = list(roots)
        return [entry for entry, n in self.left.items() if n > 0 and self._covered(entry, roots) for _ in range(n)]

    def ratcheted(self, roots: Iterable[str] = ()) -> list[Entry]:
        """The baseline without its stale entries (``--update-baseline``): it never gains one."""
        left = Counter(self.baseline.entries)
        left.subtract(Counter(self.stale(roots)))
        return list(left.elements())

    def written(self, roots: Iterable[str] = ()) -> list[Entry]:
        """This run's findings, and the entries of the pages it did not cover (``--write-baseline``)."""
        roots = list(roots)
        return [e for e in self.baseline.entries if not self._covered(e, roots)] + self.found


def gate_result(result: RunResult, gate: Gate, roots: Iterable[str], show: bool = False) -> None:
    """Match a command's run (``result``: pages by their path as given) against the baseline:
    baselined findings are counted (``result.baselined``), and kept, marked, only if ``show``;
    ``result.stale`` counts the stale entries of what the run covered."""
    by_page: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_page.setdefault(finding.path, []).append(finding)
    findings = []
    for page in dict.fromkeys([*result.pages, *by_page]):  # pages in order (a finding's page is one)
        findings += [f for f in gate.page(page, by_page.get(page, [])) if show or not f.baselined]
    result.findings = findings
    result.baselined = gate.baselined
    result.stale = len(gate.stale(roots))
