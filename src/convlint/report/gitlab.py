"""GitLab Code Quality: a JSON array of issues for ``artifacts: reports: codequality``.

GitLab compares the fingerprints of the merge request's report with the target branch's
to tell new findings from fixed ones, so fingerprints leave out line numbers (see
:func:`convlint.report.sarif.fingerprints`, shared with the SARIF reporter).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from ..findings import ERROR, INFO, WARNING, Finding
from .sarif import fingerprints, relative_path

# GitLab's scale is info, minor, major, critical, blocker. convlint's "error" is a wrong
# result or a crash in the ported code: major, leaving critical/blocker unused.
SEVERITIES = {ERROR: "major", WARNING: "minor", INFO: "info"}


def _cell(finding: Finding) -> str:
    # Lines of a notebook finding count within its cell; say which cell.
    return f"cell {finding.cell}: " if finding.cell is not None else ""


def render(findings: Sequence[Finding], files_checked: int) -> str:
    issues = [
        {
            # GitLab's widget shows the description but not check_name: lead with the code.
            "description": f"{f.code}: {_cell(f)}{f.message}",
            "check_name": f.code,
            "fingerprint": fingerprint,
            "severity": SEVERITIES[f.severity],
            "location": {
                # Repository-relative, no "./" (what GitLab links to); as given otherwise.
                "path": relative_path(f.path) or Path(f.path).as_posix(),
                "lines": {"begin": f.line, "end": f.end_line},
            },
        }
        for f, fingerprint in zip(findings, fingerprints(findings))
    ]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
