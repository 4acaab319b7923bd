"""Suppression comments, and which of them suppressed nothing.

Two spellings:

- ``# noqa`` / ``# noqa: CNV101`` on the reported line, with flake8's grammar, so the CLI
  honors exactly what the flake8 plugin honors.
- ``# convlint: ignore`` / ``# convlint: ignore[CNV101, CNV4]`` on *any* line of the
  finding's span (``line`` to ``end_line``): a long call formatted over several lines can
  carry it beside the argument it is about, where a formatter will not move it away.

Codes are prefixes, as in ``--select``. Comments are found with :mod:`tokenize`, so a
``# noqa`` inside a string literal suppresses nothing.

Unused suppressions (``--report-unused-suppressions``) are not findings: hazards.md's
codes name porting hazards, so they get their own stable name, ``unused-suppression``,
and are printed apart from the findings. A ``# noqa`` that names no CNV code belongs to
other flake8 plugins and is never reported; a bare ``# noqa`` neither (it silences every
plugin). A ``# noqa: CNV101, E501`` whose CNV101 matched nothing is reported for CNV101.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .findings import Finding

UNUSED_NAME = "unused-suppression"

# flake8's defaults.NOQA_INLINE_REGEXP (flake8 >= 6: codes are letters then digits, so
# `CNV101` is one code, not a `V101` inside a blanket `# noqa`).
_NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*convlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
_CANDIDATE = re.compile(r"noqa|convlint:\s*ignore", re.IGNORECASE)


@dataclass(frozen=True)
class Suppression:
    path: str
    line: int
    column: int  # 1-based, where the comment starts
    kind: str  # "noqa" | "ignore"
    codes: Optional[Tuple[str, ...]]  # None: every code
    text: str

    def covers(self, finding: Finding) -> bool:
        if self.kind == "noqa":
            if finding.line != self.line:
                return False
        elif not finding.line <= self.line <= max(finding.end_line, finding.line):
            return False
        return self.codes is None or any(finding.code.startswith(c) for c in self.codes)

    def used_codes(self, finding: Finding) -> Tuple[str, ...]:
        if self.codes is None:
            return ("*",)
        return tuple(c for c in self.codes if finding.code.startswith(c))


@dataclass(frozen=True)
class UnusedSuppression:
    path: str
    line: int
    column: int
    text: str
    codes: Tuple[str, ...]  # the codes that matched nothing; () for a bare comment
    cell: Optional[int] = None  # notebook cell (1-based); line is then the line in the cell

    @property
    def name(self) -> str:
        return UNUSED_NAME

    @property
    def message(self) -> str:
        if not self.codes:
            return f"`{self.text}` suppresses nothing"
        listed = ", ".join(self.codes)
        return f"`{self.text}`: {listed} suppress{'es' if len(self.codes) == 1 else ''} nothing"


def _comments(source: str) -> Iterable[Tuple[int, int, str]]:
    """(line, 0-based column, text) of every comment."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.start[1], token.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # Only parsed files reach here, so this is rare; scan lines as flake8 does.
        for number, line in enumerate(source.splitlines(), start=1):
            index = line.find("#")
            if index >= 0:
                yield number, index, line[index:]


def find_suppressions(path: str, source: str) -> List[Suppression]:
    if not source or _CANDIDATE.search(source) is None:
        return []
    out: List[Suppression] = []
    for line, column, comment in _comments(source):
        # A comment can hold both (`# convlint: ignore[CNV1]  # noqa: E501`).
        for match in _IGNORE.finditer(comment):
            raw = match.group("codes")
            codes = None if raw is None else tuple(c.upper() for c in _CODE.findall(raw))
            out.append(Suppression(path, line, column + match.start() + 1, "ignore",
                                   codes if codes != () else None, match.group(0)))
        match = _NOQA.search(comment)
        if match is not None:
            raw = match.group("codes")
            codes = None if raw is None else tuple(c.upper() for c in _CODE.findall(raw))
            out.append(Suppression(path, line, column + match.start() + 1, "noqa", codes,
                                   match.group(0).rstrip(", ")))
    return out


def filter_suppressed(findings: Sequence[Finding], sources: Dict[str, str],
                      known: Optional[Dict[str, Sequence[Suppression]]] = None
                      ) -> Tuple[List[Finding], List[UnusedSuppression]]:
    """The findings no comment suppresses, and the comments that suppressed nothing.

    ``known`` holds already-found suppressions by path (the file cache keeps them:
    tokenizing every source again would dominate a warm run)."""
    known = known or {}
    by_path = {path: list(known[path]) if path in known else find_suppressions(path, text)
               for path, text in sources.items()}
    used: Dict[Suppression, Set[str]] = {}
    kept: List[Finding] = []
    for finding in findings:
        hits = [s for s in by_path.get(finding.path, ()) if s.covers(finding)]
        for suppression in hits:
            used.setdefault(suppression, set()).update(suppression.used_codes(finding))
        if not hits:
            kept.append(finding)
    unused: List[UnusedSuppression] = []
    for suppressions in by_path.values():
        for s in suppressions:
            spent = used.get(s, set())
            if s.codes is None:
                if s.kind == "ignore" and not spent:
                    unused.append(UnusedSuppression(s.path, s.line, s.column, s.text, ()))
                continue
            idle = tuple(c for c in s.codes if c.startswith("CNV") and c not in spent)
            if idle:
                unused.append(UnusedSuppression(s.path, s.line, s.column, s.text, idle))
    unused.sort(key=lambda u: (u.path, u.line, u.column))
    return kept, unused


def drop_suppressed(findings: Sequence[Finding], sources: Dict[str, str]) -> List[Finding]:
    return filter_suppressed(findings, sources)[0]


def is_suppressed(finding: Finding, lines: Sequence[str]) -> bool:
    """Whether a comment in ``lines`` (the finding's file) suppresses ``finding``."""
    source = "\n".join(lines) + "\n"
    return any(s.covers(finding) for s in find_suppressions(finding.path, source))
