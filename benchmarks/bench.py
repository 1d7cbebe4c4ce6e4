#!/usr/bin/env python3
"""How fast is oo-jwt, against what any Markdown-aware linter must pay? All figures in one run.

    python benchmarks/bench.py                 # the shared corpus (../shared/corpus), unpacked to a temp folder
    python benchmarks/bench.py --tree DIR      # another docs tree
    python benchmarks/bench.py --quick         # only docs/docs-api for everything (a smoke run)

A  reading every page (bytes): the floor
B  markdown-it-py parsing every page with the tool's parser configuration
C  `oo-jwt check` on the tree, cold (whole process, fresh cache dir); D the same again, warm (5
   times after each C: the pages' cache answers); D1 warm after one page with samples was edited
E  `mkdocs build` of a site made of docs/docs-api, without and with the plugin (mode verify, no
   secret), and the plugin's own time, measured inside its hooks (logged at DEBUG, read from -v)
F  a pre-commit style run on 3 pages with tokens (`oo-jwt check --no-cache f1 f2 f3`), best of 5

C, D and F run `oo-jwt` as a user has it: a copy of the package installed (not editable) in a
temp venv, through the script pip writes (see install_copy).

Figures are printed with the issue's targets beside them; nothing is asserted (shared, noisy
machines: figures are recorded, not asserted) and the exit code does not depend on them.
Standard library, the package and MkDocs only; never the network.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "onlyoffice-api-docs.tar.gz"
CORPUS_ROOT = "onlyoffice-api-docs"
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
PLUGIN_TIME = re.compile(r"oo-jwt: plugin time (\d+(?:\.\d+)?) s in (\d+) pages")

# The targets.
TARGET_C_OVER_B = 0.25  # on the full corpus
TARGET_D_OVER_C = 0.30  # warm: the pages' cache (the last run's replay is gone)
TARGET_D1_OVER_C = 0.35  # warm, after one page was edited
TARGET_PLUGIN_SHARE = 0.05
TARGET_F_SECONDS = 0.25


# ------------------------------------------------------------------------------------------------
# Where and on what
# ------------------------------------------------------------------------------------------------


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"nproc {cores}, {model}, {platform.python_implementation()} {platform.python_version()}"


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + ("+dirty" if changed else "")


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min)"
    except OSError:
        return "unknown"


def pages_under(root: Path) -> list[Path]:
    """Every page as `oo-jwt check` finds them (the package's own walk, default settings)."""
    from mkdocs_oo_jwt.run.walk import discover
    from mkdocs_oo_jwt.settings import Settings

    return [Path(file) for file, _ in discover([str(root)], Settings())]


def unpack_corpus(tarball: Path, into: Path) -> Path:
    with tarfile.open(tarball) as tar:
        try:
            tar.extractall(into, filter="data")
        except TypeError:  # Python without extraction filters
            tar.extractall(into)
    return into / CORPUS_ROOT


BYTECODE: Path | None = None  # set by main(): where the measured processes keep their bytecode


def clean_env() -> dict[str, str]:
    """The environment of every measured process: no secret (mode verify, signatures not checked),
    as the corpus' writers run it; and compiled bytecode kept (in a temp folder, warmed before any
    timing), as in any installed copy, even where PYTHONDONTWRITEBYTECODE is set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OO_JWT_SECRET")}
    if BYTECODE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(BYTECODE)
    return env


def oo_jwt_command() -> list[str]:
    """The command C, D and F run: the installed copy's (see ``install_copy``), else this Python's."""
    if COMMAND:
        return COMMAND
    script = Path(sys.executable).with_name("oo-jwt")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "mkdocs_oo_jwt.cli"]


COMMAND: list[str] = []  # set by main(): the installed copy's `oo-jwt`


def install_copy(work: Path) -> str:
    """oo-jwt as a user runs it, not as a developer's editable install does (whose import hook
    costs every process ~0.01 s): the package laid out in a fresh venv's site-packages as its
    wheel lays it out (the package, its schemas inside), with the `oo-jwt` script pip wrote for
    this Python, and this Python's site-packages for the dependencies (a .pth line, which adds the
    folder but runs none of its .pth files, so not the editable hook). No build, no network.
    Sets COMMAND; says what was measured."""
    import sysconfig
    import venv

    here = Path(sys.executable).with_name("oo-jwt")
    try:
        home = work / "installed"
        venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(home)
        python = home / "bin" / "python"
        site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   check=True, capture_output=True, text=True).stdout.strip())
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(REPO / "mkdocs_oo_jwt", site / "mkdocs_oo_jwt", ignore=ignore)
        shutil.copytree(REPO / "schemas", site / "mkdocs_oo_jwt" / "schemas", ignore=ignore)
        (site / "oo_jwt_bench_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
        script = home / "bin" / "oo-jwt"
        body = here.read_text(encoding="utf-8").split("\n", 1)[1]  # pip's script, after its #! line
        script.write_text(f"#!{python}\n{body}", encoding="utf-8")
        script.chmod(0o755)
        subprocess.run([str(script), "--version"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError, IndexError) as exc:
        return f"{' '.join(oo_jwt_command())} (an installed copy could not be made: {exc.__class__.__name__})"
    COMMAND[:] = [str(script)]
    return f"{script}: a copy installed as from its wheel, dependencies from {sysconfig.get_paths()['purelib']}"


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------


CPU: dict[str, list[float]] = {}  # CPU seconds (user + sys) of the measured processes and their children, by figure


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(cmd: list[str], *, cwd: Path, ok=(0,), figure: str | None = None) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of one whole process (and, under `figure`, its CPU time, which other work on the
    machine disturbs less: a figure whose wall time is far above its CPU time was kept waiting)."""
    cpu = children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=clean_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if figure:
        CPU.setdefault(figure, []).append(children_cpu() - cpu)
    if proc.returncode not in ok:
        tail = "\n".join((proc.stderr or proc.stdout).splitlines()[-20:])
        sys.exit(f"bench: {' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    return elapsed, proc


def measure_read(root: Path, runs: int) -> tuple[list[float], list[bytes]]:
    """A: find every page and read its bytes."""
    times, data = [], []
    for _ in range(runs):
        started = time.perf_counter()
        data = [p.read_bytes() for p in pages_under(root)]
        times.append(time.perf_counter() - started)
    return times, data


def measure_parse(data: list[bytes], runs: int) -> list[float]:
    from mkdocs_oo_jwt.extract.markdown import markdown_parser

    texts = [b.decode("utf-8", errors="replace") for b in data]
    parser = markdown_parser()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for text in texts:
            parser.parse(text)
        times.append(time.perf_counter() - started)
    return times


def measure_check(tree: Path, work: Path, runs: int, warm_runs: int, edited: Path) -> tuple[list[float], list[float], list[float], dict]:
    """C (fresh cache dir each time), each followed by `warm_runs` runs of D (the same cache dir):
    every run after the first is warm, and a figure of some 0.05 s needs more than one sample;
    then D1: `edited` (a page with samples) gets one more line, the run is timed, the page is put back."""
    cold, warm, after_edit, summary = [], [], [], {}
    for i in range(runs):
        cache = work / f"cache-{i}"
        cmd = [*oo_jwt_command(), "check", "--format", "json", "--cache-dir", str(cache), str(tree)]
        seconds, proc = timed_run(cmd, cwd=tree, ok=(0, 1), figure="C")  # 1: errors found, which is fine
        cold.append(seconds)
        summary = json.loads(proc.stdout).get("summary", {})
        for _ in range(warm_runs):
            seconds, proc = timed_run(cmd, cwd=tree, ok=(0, 1), figure="D")
            warm.append(seconds)
            if json.loads(proc.stdout).get("summary", {}) != summary:
                print("bench: warning: the warm run's summary differs from the cold run's", file=sys.stderr)
        original = edited.read_bytes()
        try:
            edited.write_bytes(original + b"\n")
            seconds, _ = timed_run(cmd, cwd=tree, ok=(0, 1), figure="D1")
            after_edit.append(seconds)
        finally:
            edited.write_bytes(original)
    return cold, warm, after_edit, summary


MKDOCS_YML = """\
site_name: oo-jwt benchmark (docs-api)
docs_dir: docs
theme:
  name: {theme}
# No nav: every page is in the automatic nav. Docusaurus links and MDX render oddly; only time counts.
validation:
  omitted_files: info
  not_found: info
  absolute_links: info
  unrecognized_links: info
  anchors: info
exclude_docs: |
  *.mdx
plugins: {plugins}
"""


def make_site(docs_api: Path, work: Path, theme: str) -> Path:
    site = work / "site-src"
    shutil.copytree(docs_api, site / "docs")
    # The only difference is the plugin: `plugins: [oo-jwt]` replaces MkDocs' default [search], so
    # the build without it has no plugin at all.
    (site / "without.yml").write_text(MKDOCS_YML.format(theme=theme, plugins="[]"))
    (site / "with.yml").write_text(MKDOCS_YML.format(theme=theme, plugins="[oo-jwt]"))
    return site


def warm_up(tree: Path, site: Path, files: list[str], work: Path) -> None:
    """Untimed: one run of each kind of process, so that every module is compiled to bytecode once."""
    timed_run([*oo_jwt_command(), "check", "--no-cache", str(site / "docs")], cwd=tree, ok=(0, 1))
    timed_run([*oo_jwt_command(), "check", "--no-cache", *files], cwd=tree, ok=(0, 1))
    out = work / "built-warm-up"
    timed_run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(site / "with.yml"), "-d", str(out)], cwd=site)
    shutil.rmtree(out, ignore_errors=True)


def measure_build(site: Path, work: Path, runs: int) -> tuple[list[float], list[float], list[tuple[float, int]]]:
    """E: `mkdocs build -v` without, then with the plugin (interleaved, `runs` times each)."""
    without, with_, inside = [], [], []
    for i in range(runs):
        for name, times in (("without", without), ("with", with_)):
            out = work / f"built-{name}-{i}"
            cmd = [sys.executable, "-m", "mkdocs", "build", "-v", "-f", str(site / f"{name}.yml"), "-d", str(out)]
            seconds, proc = timed_run(cmd, cwd=site, figure=f"E {name}")
            times.append(seconds)
            if name == "with":
                found = PLUGIN_TIME.findall(proc.stdout + proc.stderr)
                if not found:
                    sys.exit("bench: no 'oo-jwt: plugin time' line in `mkdocs build -v` (plugin without timing?)")
                inside.append((float(found[-1][0]), int(found[-1][1])))
            shutil.rmtree(out, ignore_errors=True)
    return without, with_, inside


def token_pages(docs_api: Path, tree: Path, n: int = 3) -> list[str]:
    """The first n pages (in path order) of docs-api with a JWT in them (else its first n pages),
    relative to the tree, as pre-commit passes them."""
    pages = pages_under(docs_api)
    chosen = [p for p in pages if JWT.search(p.read_bytes())][:n] or pages[:n]
    if not chosen:
        sys.exit(f"bench: {docs_api}: no page")
    return [str(p.relative_to(tree)) for p in chosen]


def measure_precommit(tree: Path, files: list[str], runs: int) -> list[float]:
    cmd = [*oo_jwt_command(), "check", "--no-cache", *files]
    return [timed_run(cmd, cwd=tree, ok=(0, 1), figure="F")[0] for _ in range(runs)]


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------


def fmt(times: list[float], pick) -> str:
    shown = f"{pick(times):8.3f} s"
    if len(times) > 1:
        shown += "   [" + " ".join(f"{t:.3f}" for t in times) + "]"
    return shown


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, help=f"docs tree to measure (default: {CORPUS.name} unpacked to a temp folder)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the corpus tarball (default: %(default)s)")
    parser.add_argument("--docs-api", default="docs/docs-api", metavar="SUBDIR",
                        help="subfolder of the tree built with MkDocs for E, and the source of F's pages (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="use only the docs-api subfolder for everything")
    parser.add_argument("--parse-runs", type=int, default=2, help="repetitions of B (best; default: %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of C (median; default: %(default)s)")
    parser.add_argument("--warm-runs", type=int, default=5, help="runs of D after each C (median of all; default: %(default)s)")
    parser.add_argument("--build-runs", type=int, default=2, help="builds with and without the plugin (best; default: %(default)s)")
    parser.add_argument("--theme", choices=("mkdocs", "material"), default="mkdocs", help="theme of E's site (default: %(default)s)")
    args = parser.parse_args(argv)

    global BYTECODE
    with tempfile.TemporaryDirectory(prefix="oo-jwt-bench-") as tmp:
        work = Path(tmp)
        BYTECODE = work / "bytecode"
        if args.tree:
            tree = args.tree.resolve()
            origin = "given"
        else:
            if not args.corpus.is_file():
                sys.exit(f"bench: {args.corpus}: no such corpus (give --tree DIR or --corpus FILE)")
            tree = unpack_corpus(args.corpus, work / "corpus")
            origin = f"{args.corpus.name}, unpacked to a temp folder"
        docs_api = tree / args.docs_api
        if not docs_api.is_dir():
            sys.exit(f"bench: {docs_api}: no such folder (--docs-api)")
        measured = docs_api if args.quick else tree

        md_pages = [p for p in pages_under(docs_api) if p.suffix.lower() in (".md", ".markdown")]
        f_files = token_pages(docs_api, tree)
        site = make_site(docs_api, work, args.theme)
        installed = install_copy(work)
        warm_up(tree, site, f_files, work)

        print("oo-jwt benchmark" + (" (--quick: docs-api only)" if args.quick else ""))
        print(f"date:      {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
        print(f"machine:   {machine()}")
        print(f"commit:    {commit()}")
        print(f"tree:      {measured} ({origin})")
        print("processes: no OO_JWT_SECRET*; bytecode cached in a temp PYTHONPYCACHEPREFIX, warmed before timing")
        print(f"oo-jwt:    {installed} (C, D, F; E: this Python's mkdocs)")
        print(f"load avg:  {load()} at the start (other work on the machine skews every figure)")
        print(flush=True)

        a_times, data = measure_read(measured, 3)
        size = sum(map(len, data))
        print(f"A  find and read every page (bytes)   {fmt(a_times, statistics.median)}   median; {len(data)} pages, {size / 1e6:.1f} MB", flush=True)
        b_times = measure_parse(data, args.parse_runs)
        del data
        print(f"B  markdown-it-py parse, tool config  {fmt(b_times, min)}   best; markdown_parser().parse(text), every page", flush=True)

        cold, warm, after_edit, summary = measure_check(measured, work, args.runs, args.warm_runs, tree / f_files[0])
        print(f"C  oo-jwt check, cold (process)       {fmt(cold, statistics.median)}   median; fresh --cache-dir each;"
              f" {summary.get('pages', '?')} pages, {summary.get('errors', '?')} errors, {summary.get('warnings', '?')} warnings", flush=True)
        print(f"D  oo-jwt check, warm (process)       {fmt(warm, statistics.median)}   median; {args.warm_runs} after each C, same --cache-dir", flush=True)
        print(f"D1 oo-jwt check, one page edited      {fmt(after_edit, statistics.median)}   median; after each C's D, {f_files[0]} one line longer", flush=True)

        without, with_, inside = measure_build(site, work, args.build_runs)
        best_with = min(range(len(with_)), key=with_.__getitem__)
        plugin_seconds, plugin_pages = inside[best_with]
        print(f"E  mkdocs build, no plugin            {fmt(without, min)}   best; {args.docs_api} ({len(md_pages)} .md pages), theme {args.theme}, plugins: []", flush=True)
        print(f"   mkdocs build, with oo-jwt          {fmt(with_, min)}   best; plugins: [oo-jwt], mode verify, no secret", flush=True)
        print(f"   plugin time inside its hooks       {plugin_seconds:8.3f} s   in {plugin_pages} pages, in the best build with it"
              f" [{' '.join(f'{s:.3f}' for s, _ in inside)}]", flush=True)

        f_times = measure_precommit(tree, f_files, 5)
        print(f"F  pre-commit run on {len(f_files)} files          {fmt(f_times, min)}   best of 5; {' '.join(oo_jwt_command())} check --no-cache {' '.join(f_files)}")
        print()

        c, d, d1, b = statistics.median(cold), statistics.median(warm), statistics.median(after_edit), min(b_times)
        e_without, e_with = min(without), with_[best_with]
        rows = [
            ("C/B", c / b, f"<= {TARGET_C_OVER_B}" + (" (full corpus)" if args.quick or args.tree else ""), verdict(c / b, TARGET_C_OVER_B)),
            ("D/C", d / c, f"<= {TARGET_D_OVER_C}", verdict(d / c, TARGET_D_OVER_C)),
            ("D1/C", d1 / c, f"<= {TARGET_D1_OVER_C}", verdict(d1 / c, TARGET_D1_OVER_C)),
            ("E(with)/E(without)", e_with / e_without, "(no target)", ""),
            ("plugin time/E(with)", plugin_seconds / e_with, f"<= {TARGET_PLUGIN_SHARE}", verdict(plugin_seconds / e_with, TARGET_PLUGIN_SHARE)),
            ("F", min(f_times), f"<= {TARGET_F_SECONDS} s", verdict(min(f_times), TARGET_F_SECONDS)),
        ]
        print("CPU seconds (user + sys, process and children), median: " + ", ".join(
            f"{k} {statistics.median(v):.3f}" for k, v in CPU.items()))
        print()
        print(f"{'ratio':<22}{'value':>8}   {'target':<24}")
        for name, value, target, met in rows:
            unit = " s" if name == "F" else "  "
            print(f"{name:<22}{value:>8.3f}{unit} {target:<24}{met}")
        print(f"\nload avg:  {load()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
