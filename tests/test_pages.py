"""Golden tests: every tests/pages/**/X.md with an X.expected.json beside it.

X.expected.json holds
    {"env": {VAR: value, ...}, "levels": ["error", "warning"(, "info")],
     "findings": [{"rule", "severity", "line"(, "pointer")(, "flow")}, ...]}
and the linter's findings at the listed levels must equal the expected ones as a multiset of
(rule, severity, line) -- plus the pointer and the flow, for the expected entries that give them.

The expected findings were derived by reading the pages, not by running the linter.
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

import pytest
from pagekit import SECRET_VARS

HERE = Path(__file__).parent
PAGES = HERE / "pages"
RULE_PAGES = PAGES / "rules"

LEVELS = ("error", "warning", "info")

# nesting pages re-checked as CRLF and UTF-8-BOM variants
LINE_ENDING_PAGES = ("nesting/front-matter.md", "nesting/non-ascii.md", "nesting/tabs-in-admonition.md")


def expected_path(page: Path) -> Path:
    return page.with_name(page.name[: -len(page.suffix)] + ".expected.json")  # X.md or X.mdx


def load_expected(page: Path) -> dict:
    return json.loads(expected_path(page).read_text(encoding="utf-8"))


PAGE_CASES = sorted(p for pattern in ("*.md", "*.mdx") for p in PAGES.rglob(pattern) if expected_path(p).exists())
PAGE_IDS = [p.relative_to(PAGES).as_posix() for p in PAGE_CASES]


# ------------------------------------------------------------------ running the linter


def run_check(path: Path, env: dict, monkeypatch, capsys) -> tuple[int, dict]:
    """Run ``check --format json`` on one page with exactly ``env`` as the secret environment."""
    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from mkdocs_oo_jwt.cli import main

    capsys.readouterr()  # drop anything printed before
    try:
        rc = main(["check", "--format", "json", str(path)])
    except SystemExit as exc:  # tolerate an argparse-style exit
        rc = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr().out
    try:
        report = json.loads(out)
    except json.JSONDecodeError as exc:
        pytest.fail(f"--format json did not print one JSON object ({exc}); stdout was:\n{out}")
    assert isinstance(report, dict) and report.get("version") == 1, f"unexpected report header: {out[:500]}"
    assert isinstance(report.get("findings"), list), f"no findings list: {out[:500]}"
    assert isinstance(report.get("summary"), dict), f"no summary object: {out[:500]}"
    return rc, report


# ------------------------------------------------------------------ comparison


OPTIONAL = ("pointer", "flow")  # compared for the expected entries that give them


def _expected_key(f: dict) -> tuple:
    """((rule, severity, line), the optional fields given, their values)."""
    fields = tuple(k for k in OPTIONAL if k in f)
    return (f["rule"], f["severity"], f["line"]), fields, tuple(f[k] for k in fields)


def comparable(expected: list[dict], actual: list[dict]) -> tuple[collections.Counter, collections.Counter]:
    """Keys to compare: (rule, severity, line), plus the pointer and the flow for the expected
    entries that give them.

    Each actual finding takes an expected entry with its (rule, severity, line) whose given fields
    it has (the entries that give more fields first); one that takes none is counted as
    (rule, severity, line) alone, so it shows as unexpected.
    """
    want = collections.Counter(_expected_key(f) for f in expected)
    open_keys = sorted(want, key=lambda k: -len(k[1]))
    left = want.copy()
    got: collections.Counter = collections.Counter()
    for f in actual:
        triple = (f["rule"], f["severity"], f["line"])
        match = next(
            (k for k in open_keys if k[0] == triple and left[k] > 0 and tuple(f.get(x) for x in k[1]) == k[2]), None
        )
        if match is None:
            got[(triple, (), ())] += 1
        else:
            left[match] -= 1
            got[match] += 1
    return want, got


def _fmt(f: dict) -> str:
    s = f"  {f['line']:>4}  {f['severity']:<7}  {f['rule']}"
    for k in OPTIONAL:
        if f.get(k) is not None:
            s += f"  {k}={f[k]!r}"
    if f.get("message"):
        s += f"  -- {f['message']}"
    return s


def _fmt_key(k: tuple) -> str:
    (rule, severity, line), fields, values = k
    return f"  {line:>4}  {severity:<7}  {rule}" + "".join(f"  {f}={v!r}" for f, v in zip(fields, values))


def _order(f: dict) -> tuple:
    return (f["line"], f["rule"], str(f.get("pointer")))


def mismatch_message(page: str, levels: list, expected: list, actual: list, want, got) -> str:
    order = lambda k: (k[0][2], k[0][0], str(k[2]))  # noqa: E731
    missing = sorted((want - got).elements(), key=order)
    unexpected = sorted((got - want).elements(), key=order)
    lines = [f"findings of {page} at levels {levels} differ", "", "expected:"]
    lines += [_fmt(f) for f in sorted(expected, key=_order)] or ["  (none)"]
    lines += ["", "actual:"]
    lines += [_fmt(f) for f in sorted(actual, key=_order)] or ["  (none)"]
    lines += ["", "missing (expected, not reported):"]
    lines += [_fmt_key(k) for k in missing] or ["  (none)"]
    lines += ["", "unexpected (reported, not expected):"]
    lines += [_fmt_key(k) for k in unexpected] or ["  (none)"]
    return "\n".join(lines)


# ------------------------------------------------------------------ the golden test


@pytest.mark.parametrize("page", PAGE_CASES, ids=PAGE_IDS)
def test_page(page: Path, monkeypatch, capsys, tmp_path_factory):
    exp = load_expected(page)
    levels = exp["levels"]
    # checked under a name that says nothing: a page's path is evidence of its flow, and these
    # pages' names (flows-callback-..., i18n-...) must not help them
    copy = tmp_path_factory.mktemp("golden") / f"page{page.suffix}"  # .md or .mdx, as the page is
    copy.write_bytes(page.read_bytes())
    rc, report = run_check(copy, exp["env"], monkeypatch, capsys)

    for f in report["findings"]:
        assert Path(f["path"]) == copy, f"finding for another file: {f}"
    actual = [f for f in report["findings"] if f["severity"] in levels]
    want, got = comparable(exp["findings"], actual)
    assert got == want, mismatch_message(page.relative_to(PAGES).as_posix(), levels, exp["findings"], actual, want, got)

    error_expected = any(f["severity"] == "error" for f in exp["findings"])
    assert rc == (1 if error_expected else 0), (
        f"exit status {rc}, expected {1 if error_expected else 0} "
        f"({'an error is' if error_expected else 'no error is'} expected); summary: {report['summary']}"
    )


# ------------------------------------------------------------------ line endings and BOM


def _variant_bytes(text: str, variant: str) -> bytes:
    if "crlf" in variant:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if variant.startswith("bom"):
        data = b"\xef\xbb\xbf" + data
    return data


def _positions(report: dict) -> collections.Counter:
    return collections.Counter(
        (f["rule"], f["severity"], f["line"], f["column"], f["end_line"], f["end_column"], f.get("pointer"))
        for f in report["findings"]
    )


@pytest.mark.parametrize("variant", ["crlf", "bom", "bom-crlf"])
@pytest.mark.parametrize("rel", LINE_ENDING_PAGES)
def test_line_endings_and_bom(rel: str, variant: str, tmp_path, monkeypatch, capsys):
    page = PAGES / rel
    exp = load_expected(page)
    text = page.read_bytes().decode("utf-8")
    assert "\r" not in text and not text.startswith("\ufeff"), "the original must be LF without BOM"

    _, original = run_check(page, exp["env"], monkeypatch, capsys)
    assert original["findings"], f"{rel}: the LF original gives no findings at all"

    copy = tmp_path / page.name
    copy.write_bytes(_variant_bytes(text, variant))
    _, changed = run_check(copy, exp["env"], monkeypatch, capsys)

    a, b = _positions(original), _positions(changed)
    assert a == b, (
        f"{rel} as {variant}: positions differ from the LF original\n"
        f"only in LF original: {sorted((a - b).elements(), key=lambda t: t[2:4])}\n"
        f"only in {variant}:   {sorted((b - a).elements(), key=lambda t: t[2:4])}"
    )


# ------------------------------------------------------------------ the fixtures themselves


FLOW_IDS = {p.stem for p in (HERE.parent / "schemas").glob("*.json")} - {"common"}


def _catalog():
    from mkdocs_oo_jwt.catalog import RULES

    return RULES


def test_every_rule_has_pages():
    rules = _catalog()
    problems = []
    for rid, rule in rules.items():
        if rid in ("page-unreadable", "internal-error"):  # a file problem; a bug
            continue
        fail, ok, info = (RULE_PAGES / f"{rid}-fail.md", RULE_PAGES / f"{rid}-pass.md", RULE_PAGES / f"{rid}.md")
        if info.exists() and expected_path(info).exists():
            exp = load_expected(info)
            if "info" not in exp["levels"]:
                problems.append(f"{info.name}: levels must include info")
            if not any(f["rule"] == rid for f in exp["findings"]):
                problems.append(f"{info.name}: expects no {rid} finding")
            continue
        for p in (fail, ok):
            if not (p.exists() and expected_path(p).exists()):
                problems.append(f"{rid}: missing {p.relative_to(PAGES)} (or its .expected.json)")
        if fail.exists() and expected_path(fail).exists():
            if not any(f["rule"] == rid for f in load_expected(fail)["findings"]):
                problems.append(f"{fail.name}: expects no {rid} finding")
        if ok.exists() and expected_path(ok).exists():
            if load_expected(ok)["findings"]:
                problems.append(f"{ok.name}: a pass page must expect no finding")
    assert not problems, "\n".join(problems)


def test_expected_files_are_consistent():
    rules = _catalog()
    problems = []
    for exp_file in sorted(PAGES.rglob("*.expected.json")):
        stem = exp_file.name[: -len(".expected.json")]
        page = next((p for p in (exp_file.with_name(stem + ".md"), exp_file.with_name(stem + ".mdx")) if p.exists()),
                    exp_file.with_name(stem + ".md"))
        name = exp_file.relative_to(PAGES).as_posix()
        if not page.exists():
            problems.append(f"{name}: no page beside it")
            continue
        exp = json.loads(exp_file.read_text(encoding="utf-8"))
        if set(exp) != {"env", "levels", "findings"}:
            problems.append(f"{name}: keys {sorted(exp)}")
            continue
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in exp["env"].items()):
            problems.append(f"{name}: env must map names to strings")
        if not exp["levels"] or not set(exp["levels"]) <= set(LEVELS):
            problems.append(f"{name}: levels {exp['levels']}")
        n_lines = len(page.read_text(encoding="utf-8").splitlines())
        for f in exp["findings"]:
            if not {"rule", "severity", "line"} <= set(f) <= {"rule", "severity", "line", *OPTIONAL}:
                problems.append(f"{name}: finding keys {sorted(f)}")
                continue
            if f["rule"] not in rules:
                problems.append(f"{name}: unknown rule {f['rule']}")
            elif f["severity"] not in (str(rules[f["rule"]].severity), "info"):
                # a rule's findings keep its severity, or are notes: a token of no flow, a {} placeholder
                problems.append(f"{name}: {f['rule']} is {rules[f['rule']].severity}, not {f['severity']}")
            if f["severity"] not in exp["levels"]:
                problems.append(f"{name}: a {f['severity']} finding outside the compared levels")
            if not (isinstance(f["line"], int) and 1 <= f["line"] <= n_lines):
                problems.append(f"{name}: line {f['line']} outside 1..{n_lines}")
            if "pointer" in f and not (f["pointer"] == "" or str(f["pointer"]).startswith("/")):
                problems.append(f"{name}: bad JSON pointer {f['pointer']!r}")
            if "flow" in f and f["flow"] is not None and f["flow"] not in FLOW_IDS:
                problems.append(f"{name}: unknown flow {f['flow']!r}")
    assert not problems, "\n".join(problems)
