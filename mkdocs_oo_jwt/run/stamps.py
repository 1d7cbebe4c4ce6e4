"""Stat stamps: whether a file or the tool itself changed since a run, told without reading a
byte.

A page's stamp is the stat data git's index keeps: [device, inode, size, modification time,
change time] (nanoseconds). Writing a file, touching it, renaming another onto its path, changing
its mode, or the same path leading to another file (a symlink switched outside the walked tree,
another checkout sharing the cache folder) each change one of them.

What no stamp can tell: a rewrite of the same size within one tick of a file system's clock
(whole seconds on ext4 with 128-byte inodes, ext3 and HFS+; two on FAT) keeps every field. So a
stamp taken less than a tick after the file's last change is *racily clean* (``is_racy``): the
cache verifies such a page by its content the next time, as git does.
"""

from __future__ import annotations

import os
import sys

# "dev:ino:size:mtime_ns:ctime_ns": a string, as the cache keeps it (ten thousand strings read back
# and compared cost a fraction of as many lists of large integers)
Stamp = str

# The coarsest timestamps of a file system in use (FAT's 2 s), plus a second for the lag of the
# kernel's coarse clock behind ours and a small skew of a network file system's clock.
RACY_NS = 3_000_000_000

# On Windows a directory entry's stat() has no device or inode (zeros) while the read's fstat
# has them: left out there, so that the walk's stamp and the read's agree.
_NO_INODES = os.name == "nt"


def stamp_of(stat: os.stat_result) -> Stamp:
    if _NO_INODES:
        return f"0:0:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"
    return f"{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"


def is_racy(stamp: Stamp, read_ns: int) -> bool:
    """Whether a file stamped at ``read_ns`` (or later, by our clock) may be rewritten with the same
    size and keep its stamp: its modification or change time is within a tick of that moment, or
    after it (a clock ahead of ours, a time set in the future)."""
    _, _, _, modified, changed = stamp.split(":")
    return max(int(modified), int(changed)) >= read_ns - RACY_NS


def file_stamp(path: str) -> Stamp | None:
    """The stamp of a file or folder, None if it is not there (or cannot be looked at)."""
    try:
        return stamp_of(os.stat(path))
    except (OSError, ValueError):
        return None


def source_stamp() -> str:
    """The tool's own code, by name and stamp of each module: a change of it (not only of its
    version) makes earlier results stale."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package, not run/
    stamp = []
    for folder in (root, *(entry.path for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("_"))):
        for entry in os.scandir(folder):
            if entry.name.endswith(".py"):
                stamp.append(f"{entry.path}\0{stamp_of(entry.stat())}")
    return "\n".join(sorted(stamp))


def import_folders() -> list[str]:
    """Every place Python imports from, in order: the standard library, the venv's or the system's
    site-packages, the user's (``pip install --user``), PYTHONPATH's folders, those ``.pth`` files
    add. Not the folder Python put first (the script's, or the current one for ``python -m`` and
    ``-c``) nor the current folder: they are the project's, whose files come and go with every
    edit (the cache folder made there would change their stamp), not an install."""
    try:
        here = os.getcwd()
    except OSError:  # the current folder was removed: nothing is imported from it either
        here = None
    first = 0 if getattr(sys.flags, "safe_path", False) else 1  # -P / PYTHONSAFEPATH: nothing put first
    return [entry for entry in sys.path[first:] if entry and os.path.abspath(entry) != here]


def tool_stamp() -> str:
    """The tool as it runs: its version and code, the Python running it, and the stamp of each
    place it imports from (installing, upgrading or removing a package there, say markdown-it-py or
    PyJWT, adds or removes an entry: the folder's stamp changes; a new place on the path is a new
    line). A module edited in place inside an installed package is not seen: reinstalling it is."""
    from .. import __version__

    # the interpreter as a file: ``python`` and ``python3`` of one venv are the same one
    return "\n".join([__version__, sys.version, os.path.realpath(sys.executable),
                      *(f"{folder}\0{file_stamp(folder)}" for folder in import_folders()), source_stamp()])


def secret_fingerprint(value: str) -> bytes:
    """A one-way, deliberately slow fingerprint: a secret is never stored, nor cheaply guessable.
    Any value the environment can hold has one (bytes that are not UTF-8 too, told apart)."""
    import hashlib

    return hashlib.pbkdf2_hmac("sha256", value.encode("utf-8", "surrogateescape"), b"mkdocs-oo-jwt cache v1", 20_000)
