"""flake8-compatible ``# noqa`` comments, so the CLI honors what flake8 honors."""

from __future__ import annotations

import re
from typing import Dict, List, Sequence

from .findings import Finding

# Same grammar as flake8's defaults.NOQA_INLINE_REGEX.
_NOQA = re.compile(
    r"# noqa"
    r"(?::[\s]?(?P<codes>[A-Z][0-9]+(?:[,\s]+)?(?:[,\s]*[A-Z][0-9]+(?:[,\s]+)?)*))?",
    re.IGNORECASE,
)
_CODE = re.compile(r"[A-Z][0-9]+", re.IGNORECASE)


def is_suppressed(finding: Finding, lines: Sequence[str]) -> bool:
    if not 1 <= finding.line <= len(lines):
        return False
    match = _NOQA.search(lines[finding.line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    if codes is None:
        return True  # bare `# noqa` silences every code, as in flake8
    return any(finding.code.upper().startswith(c.upper()) for c in _CODE.findall(codes))


def drop_suppressed(findings: Sequence[Finding], sources: Dict[str, str]) -> List[Finding]:
    # Only the files that have findings are split: a large tree has a few.
    lines_by_path: Dict[str, List[str]] = {}
    kept = []
    for f in findings:
        lines = lines_by_path.get(f.path)
        if lines is None:
            lines = lines_by_path[f.path] = sources.get(f.path, "").splitlines()
        if not is_suppressed(f, lines):
            kept.append(f)
    return kept
