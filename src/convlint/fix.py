"""``convlint check --fix`` / ``--diff``: apply the fix edits of findings, safely.

A fix is a few text edits (``findings.Edit``: 1-based lines and columns, end exclusive,
the positions LibCST reported), so applying it keeps every other byte of the file:
formatting, comments, encoding, BOM and line endings. What makes it safe:

- The result must parse (LibCST, and Python's compiler, which also rejects what LibCST
  accepts such as a repeated keyword argument); otherwise the file is left alone.
- The file is hashed when read and again just before it is replaced: if anything else
  wrote it meanwhile (an editor, another hook), it is left alone.
- The new content goes to a temporary file in the same directory, is flushed to disk and
  then ``os.replace``-d over the original: an interrupted run leaves either the old or
  the new file, never half of one. The file's permission bits are kept.
- Fixes whose edits overlap an already chosen fix wait for the next pass; passes repeat
  (re-checking everything, so pairs across files stay right) until nothing is left to
  fix, a fix did not clear its finding, or :data:`MAX_PASSES` is reached. A second run
  therefore changes nothing.
- With probes on, a fix is applied only when the probe ran it and it matched the source
  (``fix_max_abs_diff`` within tolerance). Without probes every mechanical fix applies.

Notebooks: the edits (in cell coordinates, ``Edit.cell``) are applied to the code cells'
text, and the notebook is written back only if its JSON layout can be reproduced
exactly (nbformat's ``indent=1, sort_keys=True`` and a few common others), so only the
fixed cells' ``source`` changes in the file; otherwise it is left alone with a message.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import os
import re
import stat
import tempfile
import tokenize
from dataclasses import dataclass, replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .findings import Finding
from . import notebook
from .notebook import is_notebook

MAX_PASSES = 5
# The probe's tolerance (convlint.probe.compare): 1e-4 * max(1, max|reference|).
RELATIVE_TOLERANCE = 1e-4
_NEWLINE = re.compile(r"\r\n|\r|\n")


class FileChanged(Exception):
    """The file on disk is no longer the one the fixes were computed for."""


@dataclass(frozen=True)
class Decoded:
    text: str  # without a BOM, line endings as in the file
    encoding: str  # what PEP 263 detection said; "utf-8-sig" re-adds the BOM
    newline: str  # the first line ending in the file, used for inserted line breaks


@dataclass(frozen=True)
class FileResult:
    path: str
    original: bytes
    fixed: bytes
    applied: Tuple[Finding, ...] = ()
    skipped: Tuple[Tuple[Finding, str], ...] = ()  # finding, why not applied
    error: Optional[str] = None  # why the file was not written at all

    @property
    def changed(self) -> bool:
        return self.fixed != self.original


@dataclass(frozen=True)
class Outcome:
    results: Tuple[FileResult, ...]  # the last result per file that had something to fix
    passes: int
    diffs: Tuple[str, ...] = ()
    findings: Tuple[Finding, ...] = ()  # what the last check found (after the fixes)

    @property
    def fixed_count(self) -> int:
        return sum(len(r.applied) for r in self.results if r.changed)

    @property
    def changed_paths(self) -> Tuple[str, ...]:
        return tuple(sorted({r.path for r in self.results if r.changed}))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes) -> Decoded:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):  # a BOM under a coding cookie: keep it by re-encoding
        text, encoding = text[1:], "utf-8-sig"
    match = _NEWLINE.search(text)
    return Decoded(text, encoding, match.group(0) if match else "\n")


def fixable(finding: Finding, probes: bool) -> bool:
    """Whether ``finding`` carries edits that may be applied in this run."""
    if finding.fix is None or not finding.fix.edits:
        return False
    if is_notebook(finding.path) and any(e.cell is None for e in finding.fix.edits):
        return False
    return probe_agrees(finding) if probes else True


def probe_agrees(finding: Finding) -> bool:
    probe = finding.probe
    if probe is None or probe.status != "confirmed" or probe.fix_max_abs_diff is None:
        return False
    peak = 1.0
    if probe.max_abs_diff is not None and probe.rel_diff:
        peak = probe.max_abs_diff / probe.rel_diff  # the reference's max|value|
    return probe.fix_max_abs_diff <= RELATIVE_TOLERANCE * max(1.0, peak)


def _line_starts(text: str) -> List[int]:
    starts = [0]
    starts.extend(m.end() for m in _NEWLINE.finditer(text))
    return starts


def _offset(text: str, starts: List[int], line: int, column: int) -> Optional[int]:
    if not 1 <= line <= len(starts) or column < 1:
        return None
    begin = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    content_end = begin + len(_NEWLINE.sub("", text[begin:end]))
    offset = begin + column - 1
    return offset if offset <= content_end else None


def apply_fixes(decoded: Decoded, findings: Sequence[Finding]
                ) -> Tuple[str, List[Finding], List[Tuple[Finding, str]]]:
    """Apply the edits of every fix that fits (non-overlapping, inside the file)."""
    text = decoded.text
    starts = _line_starts(text)
    chosen: List[Tuple[int, int, str]] = []
    applied: List[Finding] = []
    skipped: List[Tuple[Finding, str]] = []
    for finding in sorted(findings, key=lambda f: f.sort_key):
        spans = []
        for edit in finding.fix.edits:
            begin = _offset(text, starts, edit.line, edit.column)
            end = _offset(text, starts, edit.end_line, edit.end_column)
            if begin is None or end is None or end < begin:
                spans = None
                break
            replacement = edit.replacement.replace("\r\n", "\n").replace("\n", decoded.newline)
            spans.append((begin, end, replacement))
        if spans is None:
            skipped.append((finding, "an edit lies outside the file"))
            continue
        if any(_overlap(a, b) for i, a in enumerate(spans) for b in chosen + spans[i + 1:]):
            skipped.append((finding, "overlaps another fix; retried in the next pass"))
            continue
        chosen.extend(spans)
        applied.append(finding)
    for begin, end, replacement in sorted(chosen, reverse=True):
        text = text[:begin] + replacement + text[end:]
    return text, applied, skipped


def _overlap(a: Tuple[int, int, str], b: Tuple[int, int, str]) -> bool:
    # Two edits starting at one point (two insertions there) would depend on their order.
    return a[0] == b[0] or (a[0] < b[1] and b[0] < a[1])


def parse_error(text: str, path: str) -> Optional[str]:
    import libcst as cst

    try:
        cst.parse_module(text)
    except Exception as exc:  # noqa: BLE001 - any parser failure means "do not write"
        return f"the fixed file would not parse (LibCST: {str(exc).splitlines()[0]})"
    try:
        # A full compile (never run): the AST-only mode misses checks such as a
        # repeated keyword argument, which the code generator makes.
        compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return f"the fixed file would not compile ({exc})"
    except (RecursionError, MemoryError):
        return "the fixed file is nested too deeply to verify"
    return None


def fix_file(path: str, data: bytes, findings: Sequence[Finding]) -> FileResult:
    """The fixed content of one file (nothing written)."""
    try:
        decoded = decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return FileResult(path, data, data, error=f"cannot decode: {exc}")
    text, applied, skipped = apply_fixes(decoded, findings)
    if not applied or text == decoded.text:
        return FileResult(path, data, data, (), tuple(skipped))
    problem = parse_error(text, path)
    if problem is not None:
        return FileResult(path, data, data, (), tuple(skipped), error=problem)
    try:
        fixed = text.encode(decoded.encoding)
    except UnicodeEncodeError as exc:
        return FileResult(path, data, data, (), tuple(skipped),
                          error=f"the fix is not representable in {decoded.encoding}: {exc}")
    return FileResult(path, data, fixed, tuple(applied), tuple(skipped))


# json.dumps settings that reproduce how notebooks are commonly written (nbformat first).
_NOTEBOOK_LAYOUTS = ({"indent": 1, "sort_keys": True}, {"indent": 1}, {"indent": 2},
                     {"indent": 2, "sort_keys": True}, {"indent": 4}, {"indent": 4, "sort_keys": True})


def _notebook_dumper(document: dict, text: str):
    for layout in _NOTEBOOK_LAYOUTS:
        for end in ("\n", ""):
            for ascii_only in (False, True):
                def dump(doc, layout=layout, end=end, ascii_only=ascii_only):
                    return json.dumps(doc, ensure_ascii=ascii_only, **layout) + end
                if dump(document) == text:
                    return dump
    return None


def fix_notebook(path: str, data: bytes, findings: Sequence[Finding]) -> FileResult:
    """The fixed content of one notebook (nothing written)."""
    try:
        document = notebook.load(data)
        text = data.decode("utf-8")
        cells = notebook.code_cells(document)
    except (notebook.NotebookError, UnicodeDecodeError) as exc:
        return FileResult(path, data, data, error=f"cannot read the notebook: {exc}")
    dump = _notebook_dumper(document, text)
    if dump is None:
        return FileResult(path, data, data, error="the notebook's JSON layout cannot be "
                                                  "reproduced, so it is not rewritten")
    raw = notebook.raw_source(cells)
    table = notebook.cell_starts(raw)
    virtual: List[Finding] = []
    for finding in findings:
        edits = [notebook.virtual_edit(e, table) for e in finding.fix.edits]
        if all(e is not None for e in edits):
            virtual.append(replace(finding, fix=replace(finding.fix, edits=tuple(edits))))
    new_raw, applied, skipped = apply_fixes(Decoded(raw, "utf-8", "\n"), virtual)
    if not applied or new_raw == raw:
        return FileResult(path, data, data, (), tuple(skipped))
    new_cells = notebook.split_raw(new_raw)
    if new_cells is None or sorted(new_cells) != [number for number, _ in cells]:
        return FileResult(path, data, data, (), tuple(skipped),
                          error="a fix would move a cell boundary")
    for number, old in cells:
        new = new_cells[number]
        if old and not old.endswith(("\n", "\r")) and new.endswith("\n"):
            new = new[:-1]  # the line break raw_source added after the cell's last line
        if new != old:
            cell = document["cells"][number - 1]
            cell["source"] = new.splitlines(True) if isinstance(cell["source"], list) else new
    fixed = dump(document)
    problem = parse_error(notebook.to_source(fixed.encode("utf-8")), path)
    if problem is not None:
        return FileResult(path, data, data, (), tuple(skipped), error=problem)
    return FileResult(path, data, fixed.encode("utf-8"), tuple(applied), tuple(skipped))


def write_atomic(path: str, data: bytes, expected: str) -> None:
    """Replace ``path`` by ``data`` if it still hashes to ``expected``; atomic."""
    target = os.path.realpath(path)  # a symlink keeps pointing at the fixed file
    with open(target, "rb") as handle:
        if digest(handle.read()) != expected:
            raise FileChanged(path)
    mode = stat.S_IMODE(os.stat(target).st_mode)
    directory, name = os.path.split(target)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".convlint-fix", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def unified_diff(path: str, before: bytes, after: bytes) -> str:
    old, new = decode(before).text, decode(after).text
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 f"a/{os.path.normpath(path)}", f"b/{os.path.normpath(path)}")
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def _key(finding: Finding) -> tuple:
    """A finding that is still there, at the same place, after its fix was applied: the
    fix did not clear it, and applying it again (an insertion) would repeat the edit."""
    return (finding.path, finding.code, finding.line, finding.column, finding.related,
            finding.fix.description)


def _snapshot(paths: Sequence[str]) -> Dict[str, str]:
    out = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                out[path] = digest(handle.read())
        except OSError:
            pass
    return out


def run(check: Callable[[], Sequence[Finding]], probes: bool, write: bool = True,
        max_passes: int = MAX_PASSES, paths: Sequence[str] = ()) -> Outcome:
    """Fix until clean. ``check`` runs the whole check (reading the files) each pass.

    ``paths``: the files ``check`` reads. They are hashed just before each check, so a
    file that changes between the check and the fix (whose edits would then land on
    other text) is left alone, not only one that changes while it is being fixed.
    """
    results: Dict[str, FileResult] = {}
    originals: Dict[str, bytes] = {}
    attempted: set = set()
    passes = 0
    seen = _snapshot(paths)
    findings = check()
    while True:
        todo: Dict[str, List[Finding]] = {}
        for finding in findings:
            if fixable(finding, probes) and _key(finding) not in attempted:
                todo.setdefault(finding.path, []).append(finding)
        if not todo or passes >= max_passes:
            break
        passes += 1
        wrote = False
        for path, group in sorted(todo.items()):
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError as exc:
                results[path] = FileResult(path, b"", b"", error=f"cannot read: {exc.strerror}")
                continue
            originals.setdefault(path, data)
            if path in seen and seen[path] != digest(data):
                results[path] = _merge(results.get(path), FileResult(
                    path, data, data, error="the file changed while convlint was fixing it"),
                    originals[path])
                continue
            result = (fix_notebook if is_notebook(path) else fix_file)(path, data, group)
            attempted.update(_key(f) for f in result.applied)
            if result.changed and write:
                try:
                    write_atomic(path, result.fixed, digest(data))
                    wrote = True
                except FileChanged:
                    result = FileResult(path, data, data, (), result.skipped,
                                        error="the file changed while convlint was fixing it")
                except OSError as exc:
                    result = FileResult(path, data, data, (), result.skipped,
                                        error=f"cannot write: {exc.strerror or exc}")
            results[path] = _merge(results.get(path), result, originals[path])
        if not wrote:
            break
        seen = _snapshot(paths)
        findings = check()
    diffs = tuple(unified_diff(r.path, originals[r.path], r.fixed)
                  for r in sorted(results.values(), key=lambda r: r.path) if r.changed)
    return Outcome(tuple(sorted(results.values(), key=lambda r: r.path)), passes, diffs,
                   tuple(findings))


def _merge(before: Optional[FileResult], now: FileResult, original: bytes) -> FileResult:
    """One result per file over all passes: first original, latest content."""
    if before is None:
        return FileResult(now.path, original, now.fixed if now.changed else original,
                          now.applied, now.skipped, now.error)
    fixed = now.fixed if now.changed else before.fixed
    return FileResult(now.path, original, fixed, before.applied + now.applied, now.skipped,
                      now.error or before.error)
