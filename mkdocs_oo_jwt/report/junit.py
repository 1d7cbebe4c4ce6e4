"""``--format junit``: JUnit XML, one test case per page.

The findings of a page that fail the run (at or above ``fail_on``, the page's own where a per-path
override gives one; not baselined) are ``<failure>`` elements of its test case; its other findings
(notes, and warnings under ``fail_on = "error"``) go to the case's ``<system-out>``, so a page with
only warnings passes unless ``fail_on`` says otherwise; run-level notices go to the suite's.
Each test case carries ``file`` (the page's path, relative to the repository's top folder when
known, as GitLab links it) and, for a page with findings, ``line`` (its first failure's line, else
its first finding's).

Names and messages are shown as people read them (``common.visible``): a control character XML
1.0 cannot hold, an ESC sequence or a bidi control becomes its escape (``\\x1b``), a file name's
byte that is not UTF-8 is ``\\xff``. Non-ASCII characters are character references (``&#1082;``),
so the document is ASCII: valid XML, as its declaration says, in any stdout encoding.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..model import Finding, RunResult, Severity
from .common import NOTICE_LABEL, escape, forward_slashes, rooted, visible, without_surrogates

NAME = "oo-jwt"

# Characters XML 1.0 cannot carry at all, even escaped (what visible() leaves of them: U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(s: str) -> str:
    return _NOT_XML.sub(lambda m: escape(m.group()), visible(s, keep_lines=True))


def _line(f: Finding) -> str:
    return f"{f.location.line}:{f.location.column} {f.severity} {f.rule} {f.message}"


def _fails(f: Finding, fail_on: str) -> bool:
    if fail_on == "never" or f.baselined:
        return False
    return f.severity >= (Severity.WARNING if fail_on == "warning" else Severity.ERROR)


def render(result: RunResult, *, color: bool = False, fail_on: str = "error", root: str | None = None,
           cwd: str | None = None) -> str:  # color is ignored
    """The JUnit document; ``fail_on`` is the run's (``result.fail_on`` has the pages' own)."""
    top = root  # (``root`` names the document's element below)
    pages = list(dict.fromkeys(result.pages))
    by_page: dict[str, list[Finding]] = {p: [] for p in pages}
    for f in result.findings:
        if f.path not in by_page:  # a finding outside the page list still gets its case
            by_page[f.path] = []
        by_page[f.path].append(f)

    root = ET.Element("testsuites", name=NAME)
    suite = ET.SubElement(root, "testsuite", name=NAME)
    failed = 0
    for path, findings in by_page.items():
        file = rooted(path, top, cwd) or forward_slashes(path)
        # ``file`` is the name on disk (for GitLab to link it); only what XML cannot hold is escaped
        case = ET.SubElement(suite, "testcase", classname=NAME, name=_xml(visible(path)),
                             file=_NOT_XML.sub(lambda m: escape(m.group()), without_surrogates(file)))
        own = result.fail_on.get(path, fail_on)
        failures = [f for f in findings if _fails(f, own)]
        infos = [f for f in findings if not _fails(f, own)]
        if findings:
            case.set("line", str((failures or findings)[0].location.line))
        for f in failures:
            el = ET.SubElement(case, "failure", type=f.rule, message=_xml(f.message))
            el.text = _xml(_line(f))
        if infos:
            ET.SubElement(case, "system-out").text = _xml("\n".join(_line(f) for f in infos))
        failed += bool(failures)
    if result.notices:
        ET.SubElement(suite, "system-out").text = _xml(
            "\n".join(f"{NOTICE_LABEL[n.severity]}: {n.message}" for n in result.notices)
        )

    counts = {"tests": str(len(by_page)), "failures": str(failed), "errors": "0", "skipped": "0"}
    for el in (root, suite):
        for k, v in counts.items():
            el.set(k, v)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode").encode("ascii", "xmlcharrefreplace").decode("ascii")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
