"""``--format github``: GitHub Actions workflow commands, one annotation per finding.

Escaping follows the runner (``ActionCommand``): in the message ``%``, CR and LF are
percent-encoded; in property values ``:`` and ``,`` are encoded as well. Before that, what page
content could use to drive a log viewer or hide text (ESC sequences, bidi controls, U+2028...) is
made a visible escape in the message, as in the text report (``common.visible``). The ``file``
property is the file's real name, for the annotation to attach to it: a name not in Unicode NFC
is still the name on disk. Only a byte that is not UTF-8 is written as its escape (``\\xff``): the
runner reads UTF-8, and no other writing of it exists.
"""

from __future__ import annotations

from ..model import Finding, RunResult, Severity
from .common import forward_slashes, summary_line, visible, without_surrogates

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _message(s: str) -> str:
    """A message as an annotation shows it: line breaks kept (percent-encoded), hazards escaped."""
    return escape_data(visible(s, keep_lines=True))


def _properties(f: Finding) -> str:
    loc = f.location
    line = max(1, loc.line)
    end_line = max(line, loc.end_line)
    props = [("file", without_surrogates(forward_slashes(f.path))), ("line", str(line))]
    if end_line == line:
        # The runner drops columns (with a warning) unless start and end are on one line.
        col = max(1, loc.column)
        props.append(("col", str(col)))
        props.append(("endLine", str(end_line)))
        props.append(("endColumn", str(max(col, loc.end_column))))
    else:
        props.append(("endLine", str(end_line)))
    props.append(("title", f.rule))
    return ",".join(f"{k}={escape_property(v)}" for k, v in props)


def render(result: RunResult, *, color: bool = False, quiet: bool = False) -> str:  # color is ignored
    """One annotation per finding, then the notices and the summary line (``quiet``: neither)."""
    # a baselined finding (shown with --show-baselined) is a notice saying so: it fails nothing
    lines = [
        f"::notice {_properties(f)}::{_message('(baselined) ' + f.message)}" if f.baselined
        else f"::{_COMMAND[f.severity]} {_properties(f)}::{_message(f.message)}" for f in result.findings
    ]
    if quiet:
        return "".join(line + "\n" for line in lines)
    # Run-level notices belong to no file: plain annotations, so CI does not lose them.
    lines += [f"::{_COMMAND[n.severity]}::{_message(n.message)}" for n in result.notices]
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
