"""Findings: what rules produce and every reporter consumes.

Lines are 1-based. Columns are 1-based here (the JSON contract); the flake8 front end
converts back to the 0-based offset flake8 expects from plugins.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Tuple

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True)
class Related:
    path: str
    line: int
    column: int
    message: str
    cell: Optional[int] = None  # notebook cell (1-based); line is then the line in the cell


@dataclass(frozen=True)
class Edit:
    """Replace the text between (line, column) and (end_line, end_column), 1-based."""

    line: int
    column: int
    end_line: int
    end_column: int
    replacement: str
    cell: Optional[int] = None  # in a notebook: the cell; lines count within it


@dataclass(frozen=True)
class Fix:
    description: str
    edits: Tuple[Edit, ...] = ()


@dataclass(frozen=True)
class ProbeResult:
    status: str  # "confirmed" | "not-reproduced" | "failed" | "skipped"
    max_abs_diff: Optional[float]
    detail: str
    rel_diff: Optional[float] = None
    fix_max_abs_diff: Optional[float] = None


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    severity: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    related: Tuple[Related, ...] = ()
    fix: Optional[Fix] = None
    probe: Optional[ProbeResult] = None
    # The sites (or the source/port pair) the finding is about, for the probe planner.
    evidence: Tuple[object, ...] = field(default=(), compare=False, repr=False)
    # In a notebook: the cell (1-based, every cell counted), and line is the line in it.
    cell: Optional[int] = None

    def with_probe(self, probe: ProbeResult) -> "Finding":
        return replace(self, probe=probe)

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.line, self.column, self.code)

    def to_json(self) -> dict:
        """The element of the JSON contract in shared/hazards.md, plus ``cell`` (as in
        ruff's JSON) for findings and related sites in a notebook."""
        out = self._contract_json()
        if self.cell is not None:
            out["cell"] = self.cell
        for related, entry in zip(self.related, out["related"]):
            if related.cell is not None:
                entry["cell"] = related.cell
        for edit, entry in zip(self.fix.edits if self.fix else (), (out["fix"] or {}).get("edits", ())):
            if edit.cell is not None:
                entry["cell"] = edit.cell
        return out

    def _contract_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "related": [
                {"path": r.path, "line": r.line, "column": r.column, "message": r.message}
                for r in self.related
            ],
            "fix": None
            if self.fix is None
            else {
                "description": self.fix.description,
                "edits": [
                    {
                        "line": e.line,
                        "column": e.column,
                        "end_line": e.end_line,
                        "end_column": e.end_column,
                        "replacement": e.replacement,
                    }
                    for e in self.fix.edits
                ],
            },
            "probe": None
            if self.probe is None
            else {
                "status": self.probe.status,
                "max_abs_diff": self.probe.max_abs_diff,
                "rel_diff": self.probe.rel_diff,
                "fix_max_abs_diff": self.probe.fix_max_abs_diff,
                "detail": self.probe.detail,
            },
        }
