"""The last ``check``, answered again: the same command, from the same folder, over pages and
inputs that have not changed since, prints what it printed then and exits as it exited, without
loading the checker: a ``stat`` per page, per folder walked and per input, no page read.

The record (``last-run-v2`` in the cache folder) holds the invocation (folder, arguments,
whether stdout is a terminal), the tool's stamp (``stamps.tool_stamp``), a slow one-way
fingerprint of each secret variable the run could read (never the secret), the stamp of every
input (the config file or its absence, the flow schemas and their folders), of every folder
walked and every page, and the output. Anything different or unreadable, and the
run is made afresh.

A run is recorded only if its output depends on nothing else: not with settings from a
``mkdocs.yml`` (which can read the environment), not when findings depend on the clock or a page
or folder could not be read, and not when a stamp is too fresh to tell from a change made within
the same tick of the file system's clock (git's "racy" entries): the next run is made afresh and
recorded then.

Light on purpose: ``os`` to find the record, ``json`` to read it (hashlib only for a
secret's fingerprint).
"""

from __future__ import annotations

import os

from .forking import fork_is_safe
from .stamps import file_stamp, secret_fingerprint, tool_stamp

RECORD = "last-run-v2"  # a line of JSON, then the stamps (see ``save``)
DEFAULT_FOLDER = ".oo-jwt-cache"  # the cache folder of `check` without --cache-dir
SPLIT_AT = 2_000  # files and folders to stamp before a forked child stamps half
FRESH_NS = 2_000_000_000  # a stamp this close to the run's start is not trusted (coarse clocks: FAT's is 2 s)


def cache_folder(argv: list[str]) -> str | None:
    """The cache folder of ``oo-jwt check`` with these arguments, as far as it can be told without
    parsing them (None with --no-cache). A wrong guess costs nothing: a record is only ever written
    in the folder the parsed arguments name, and holds them."""
    folder = DEFAULT_FOLDER
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--no-cache":
            return None
        if arg == "--cache-dir" and index + 1 < len(argv):
            folder = argv[index + 1]
        elif arg.startswith("--cache-dir="):
            folder = arg.partition("=")[2]
    return folder


def answer(argv: list[str], out) -> int | None:
    """Print the last run's output and give its exit code, if it holds for this run; else None."""
    folder = cache_folder(argv)
    if folder is None:
        return None
    try:
        with open(os.path.join(folder, RECORD), "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    try:
        import json

        line, _, packed = data.partition(b"\n")
        record = json.loads(line)
        if record["invocation"] != _invocation(argv, out) or not _unchanged(record, memoryview(packed).cast("q")):
            return None
        output, code = record["output"], record["code"]
        if not isinstance(output, str) or not isinstance(code, int):
            return None
    except Exception:  # noqa: BLE001 - a record that cannot be used (torn, older, hand-edited) is no record
        return None
    out.write(output)
    out.flush()
    return code


def save(folder: str, argv: list[str], out, output: str, code: int, stamps: dict, config: list) -> None:
    """Record a run: its output and exit code, the ``stamps`` of its result (``engine.check_paths``)
    and ``config``, [path, stamp] of the config file read (stamp None: none there), stamped
    before it was read. A run that cannot be recorded removes the record of an earlier one.

    The file: a line of JSON, then the stamps of the folders and pages packed as 64-bit integers
    (compared as they are: no parsing, no digest)."""
    import json
    from array import array
    from pathlib import Path

    from .cache import write

    inputs = [*config, *stamps["inputs"]]
    fresh = stamps["started"] - FRESH_NS
    tree = [stamp for _, stamp in stamps["folders"]] + [page[1:] for page in stamps["pages"]]
    if any(stamp[1] >= fresh for stamp in [*(stamp for _, stamp in inputs if stamp is not None), *tree]):
        _forget(folder)
        return
    try:
        packed = array("q", [n for stamp in tree for n in stamp])
    except OverflowError:  # a time past what 64 bits hold: not worth a record
        _forget(folder)
        return
    record = {
        "invocation": _invocation(argv, out),
        "tool": tool_stamp(),
        "inputs": inputs,
        "secrets": [[name, _secret(name)] for name in stamps["secret_names"]],
        "folders": [name for name, _ in stamps["folders"]],
        "pages": _grouped([page[0] for page in stamps["pages"]]),
        "output": output,
        "code": code,
    }
    write(Path(folder), RECORD, json.dumps(record, separators=(",", ":")).encode() + b"\n" + packed.tobytes())


def _forget(folder: str) -> None:
    try:
        os.unlink(os.path.join(folder, RECORD))
    except OSError:
        pass


def _invocation(argv: list[str], out) -> list:
    return [os.getcwd(), list(argv), out.isatty()]


def _grouped(files: list[str]) -> list:
    """[folder, [names]] for each run of files in the same folder: a tenth of the record to read."""
    groups: list = []
    for file in files:
        folder, sep, name = file.rpartition(os.sep)
        folder += sep
        if groups and groups[-1][0] == folder:
            groups[-1][1].append(name)
        else:
            groups.append([folder, [name]])
    return groups


def _unchanged(record: dict, stamps) -> bool:
    """Every input, folder and page as it was stamped, and the tool and secrets the same (the
    cheap looks first: a secret's fingerprint is slow on purpose)."""
    if any(file_stamp(path) != stamp for path, stamp in record["inputs"]):
        return False
    if record["tool"] != tool_stamp():
        return False
    paths = [*record["folders"], *(folder + name for folder, names in record["pages"] for name in names)]
    if len(stamps) != 3 * len(paths) or not _stamps_hold(paths, stamps):
        return False
    return all(_secret(name) == fingerprint for name, fingerprint in record["secrets"])


def _stamps_hold(paths: list[str], stamps) -> bool:
    """Whether these files and folders have these stamps (3 integers each). A ``stat`` is mostly
    the kernel's time: on more than one core, a forked child looks at half of them."""
    half = len(paths) // 2
    if half < SPLIT_AT // 2 or not _may_fork():
        return _stamps_of(paths) == stamps.tolist()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its half, then gone (whatever happens, the parent reads a yes or nothing)
        try:
            os.close(read)
            if _stamps_of(paths[half:]) == stamps[3 * half :].tolist():
                os.write(write, b"+")
        finally:
            os._exit(0)
    os.close(write)
    try:
        mine = _stamps_of(paths[:half]) == stamps[: 3 * half].tolist()
        theirs = os.read(read, 1)
    finally:
        os.close(read)
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
    return mine and theirs == b"+"


def _may_fork() -> bool:
    return (os.cpu_count() or 1) > 1 and fork_is_safe()


def _stamps_of(paths: list[str]) -> list[int] | None:
    ints: list[int] = []
    stat = os.stat
    try:
        for path in paths:
            st = stat(path)
            ints += (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    except (OSError, ValueError):
        return None
    return ints


def _secret(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else secret_fingerprint(value).hex()
