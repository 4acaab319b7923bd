"""GitHub Actions workflow commands: one annotation per finding, then a plain list.

``::error file=...,line=...::message`` lines in a step's log become annotations on the run
and on the pull request diff. GitHub shows at most 10 annotations of each type (error,
warning, notice) per step and 50 per job, and drops the rest without a word. So after
the commands every finding is printed again as a plain ``path:line:col: CODE message``
line, then a count: the log always has all of them.
"""

from __future__ import annotations

from collections import Counter
from typing import List, Sequence

from ..findings import ERROR, INFO, WARNING, Finding
from . import text as text_report

COMMANDS = {ERROR: "error", WARNING: "warning", INFO: "notice"}
PER_TYPE_LIMIT, PER_JOB_LIMIT = 10, 50


def escape_data(text: str) -> str:
    """The message after ``::``: the runner decodes %25, %0D and %0A (``%`` first)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A ``key=value`` property: ``:`` would end the list and ``,`` start the next key."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    # The runner drops col/endColumn when line != endLine (and logs a complaint), so
    # columns are only given for single-line spans.
    columns = finding.line == finding.end_line and finding.column <= finding.end_column
    properties = [
        ("file", finding.path),
        ("line", finding.line),
        ("col", finding.column if columns else None),
        ("endLine", finding.end_line),
        ("endColumn", finding.end_column if columns else None),
        ("title", f"{finding.code} {finding.name}"
                  + (f" (cell {finding.cell})" if finding.cell is not None else "")),
    ]
    listed = ",".join(f"{key}={escape_property(str(value))}"
                      for key, value in properties if value is not None)
    # The annotation is all a reviewer sees on the diff, so it carries the related site,
    # the probe verdict and the fix too, as the text reporter's indented lines.
    details = [line.strip() for line in text_report.render_finding(finding)[1:]]
    message = "\n".join([finding.message, *details])
    return f"::{COMMANDS[finding.severity]} {listed}::{escape_data(message)}"


def plain_line(finding: Finding) -> str:
    # One finding per line: a message's own line breaks would split it (and a line of
    # the log that starts with "::" would be taken for a command).
    message = " ".join(finding.message.splitlines())
    where = text_report.position(finding.path, finding.line, finding.column, finding.cell)
    return f"{where}: {finding.code} {message}"


def render(findings: Sequence[Finding], files_checked: int) -> str:
    out: List[str] = [annotation(f) for f in findings]
    out.extend(plain_line(f) for f in findings)
    per_type = Counter(COMMANDS[f.severity] for f in findings)
    if len(findings) > PER_JOB_LIMIT or any(n > PER_TYPE_LIMIT for n in per_type.values()):
        out.append(f"GitHub shows at most {PER_TYPE_LIMIT} annotations of each type per step "
                   f"and {PER_JOB_LIMIT} per job; all {len(findings)} findings are listed above.")
    # The text reporter's closing line, so both formats count alike.
    out.append(text_report.render(findings, files_checked).splitlines()[-1])
    return "\n".join(out) + "\n"
