"""Stat stamps: whether a file or the tool itself changed since a run, told without reading a
byte.

A stamp is [size, modification time, change time] (nanoseconds): writing a file, touching it,
renaming another onto its path or changing its mode each change one of them.
"""

from __future__ import annotations

import os
import sys

Stamp = list  # [size, mtime_ns, ctime_ns]


def stamp_of(stat: os.stat_result) -> Stamp:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


def file_stamp(path: str) -> Stamp | None:
    """The stamp of a file or folder, None if it is not there (or cannot be looked at)."""
    try:
        return stamp_of(os.stat(path))
    except (OSError, ValueError):
        return None


def source_stamp() -> str:
    """The tool's own code, by name, size and modification time of each module: a change of it
    (not only of its version) makes earlier results stale."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package, not run/
    stamp = []
    for folder in (root, *(entry.path for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("_"))):
        for entry in os.scandir(folder):
            if entry.name.endswith(".py"):
                stat = entry.stat()
                stamp.append(f"{entry.path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return "\n".join(sorted(stamp))


def tool_stamp() -> str:
    """The tool as it runs: its version and code, the Python version, and the stamp of each
    folder of installed packages (installing, upgrading or removing one, say markdown-it-py or
    PyJWT, changes it)."""
    from .. import __version__

    site = sys.modules.get("site")
    folders = site.getsitepackages() if site is not None and hasattr(site, "getsitepackages") else []
    return "\n".join([__version__, sys.version, *(f"{f}\0{file_stamp(f)}" for f in folders), source_stamp()])


def secret_fingerprint(value: str) -> bytes:
    """A one-way, deliberately slow fingerprint: a secret is never stored, nor cheaply guessable.
    Any value the environment can hold has one (bytes that are not UTF-8 too, told apart)."""
    import hashlib

    return hashlib.pbkdf2_hmac("sha256", value.encode("utf-8", "surrogateescape"), b"mkdocs-oo-jwt cache v1", 20_000)
