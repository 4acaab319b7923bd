"""Human-readable output in the flake8/ruff shape: ``path:line:col: CODE message``."""

from __future__ import annotations

from collections import Counter
from typing import List, Optional, Sequence

from ..findings import Finding


def _number(value: float) -> str:
    return f"{value:.3g}"


def position(path: str, line: int, column: int, cell: Optional[int] = None) -> str:
    """``path:line:col``; in a notebook ``path:cell N:line:col``, as ruff prints it."""
    if cell is not None:
        return f"{path}:cell {cell}:{line}:{column}"
    return f"{path}:{line}:{column}"


def render_finding(finding: Finding) -> List[str]:
    where = position(finding.path, finding.line, finding.column, finding.cell)
    lines = [f"{where}: {finding.code} [{finding.severity}] {finding.message}"]
    for related in finding.related:
        where = position(related.path, related.line, related.column, related.cell)
        lines.append(f"    related: {where}: "
                     f"{related.message}")
    probe = finding.probe
    if probe is not None:
        measured = "" if probe.max_abs_diff is None else f" max|diff|={_number(probe.max_abs_diff)}"
        if probe.fix_max_abs_diff is not None:
            measured += f", fix max|diff|={_number(probe.fix_max_abs_diff)}"
        lines.append(f"    probe: {probe.status}{measured}: {probe.detail}")
    if finding.fix is not None and finding.fix.edits:
        lines.append(f"    fix available: {finding.fix.description}")
    return lines


def render(findings: Sequence[Finding], files_checked: int) -> str:
    out: List[str] = []
    for finding in findings:
        out.extend(render_finding(finding))
    if findings:
        by_severity = Counter(f.severity for f in findings)
        parts = ", ".join(f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in sorted(by_severity.items()))
        out.append(f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} "
                   f"({parts}) in {files_checked} file{'s' if files_checked != 1 else ''} checked.")
    else:
        out.append(f"All clear: {files_checked} file{'s' if files_checked != 1 else ''} checked.")
    return "\n".join(out) + "\n"
