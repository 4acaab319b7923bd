"""Jupyter notebooks: code cells joined into one virtual module, findings mapped back.

Notebooks are where ports are prototyped, with the torch cell above the TF cell, so all
code cells of a notebook are analyzed as one module: sites pair across cells exactly as
within one file, and a variable set in cell 2 is known in cell 5 (the usual top-to-bottom
run order). Each code cell is preceded by a marker comment line, so the virtual source
alone says where every cell starts and no side table has to travel with it.

IPython syntax is not Python: in a cell that does not compile as it is, lines starting
with ``%`` or ``!`` (line magics, shell escapes) and ``?`` help lines become ``pass`` at
the same indentation; a cell that starts with a ``%%`` cell magic is blanked whole (its
body may be bash or SQL). A cell that compiles keeps every line, so ``% b`` continuing a
bracketed expression stays Python.

Positions are reported as ruff does for notebooks: the path is the ``.ipynb`` file, the
line is the line within the cell, and the cell is given apart: ``Finding.cell`` (1-based,
counting every cell of the notebook, markdown included, as Jupyter and VS Code number
them), printed as ``nb.ipynb:cell 3:2:5:`` in text and as a ``"cell"`` key in JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .findings import Edit, Finding, Fix, Related

SUFFIX = ".ipynb"
MARKER = "# convlint-notebook-cell "
_MAGIC = re.compile(r"^(\s*)(?:[%!?]|[\w.]+\?\??\s*$)")


_NEWLINE = re.compile(r"\r\n|\r|\n")  # what LibCST counts as a line break (not \f, \u2028)


class NotebookError(ValueError):
    """The file is not a notebook convlint can read (message for CNV900)."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


def split_lines(text: str) -> List[str]:
    lines = _NEWLINE.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def is_notebook(path: str) -> bool:
    return path.lower().endswith(SUFFIX)


def _cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        if not all(isinstance(part, str) for part in source):
            raise NotebookError("a cell's source is not text")
        return "".join(source)
    if not isinstance(source, str):
        raise NotebookError("a cell's source is not text")
    return source


def _python_lines(text: str) -> List[str]:
    lines = split_lines(text)
    if lines and lines[0].lstrip().startswith("%%"):
        return [""] * len(lines)
    matches = [_MAGIC.match(line) for line in lines]
    if not any(matches) or _compiles(text):
        return lines  # `% b` or `!= c` continuing a bracketed expression is Python
    return [f"{m.group(1)}pass" if m else line for m, line in zip(matches, lines)]


def _compiles(text: str) -> bool:
    try:
        compile(text, "<cell>", "exec", flags=0x400, dont_inherit=True)  # PyCF_ONLY_AST
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def load(data: bytes) -> dict:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise NotebookError(f"notebook is not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"notebook is not valid JSON: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno}", exc.lineno) from None
    except RecursionError:
        raise NotebookError("notebook JSON nested too deeply") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("not a Jupyter notebook: no list of \"cells\" (nbformat 4)")
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {number} is not an object")
    return document


def code_cells(document: dict) -> List[Tuple[int, str]]:
    """(cell number, source text) of every code cell."""
    return [(number, _cell_text(cell)) for number, cell in enumerate(document["cells"], start=1)
            if cell.get("cell_type") == "code"]


def to_source(data: bytes) -> str:
    """The virtual module of a notebook's bytes; raises NotebookError."""
    out: List[str] = []
    for number, text in code_cells(load(data)):
        out.append(f"{MARKER}{number}")
        out.extend(_python_lines(text))
    return "\n".join(out) + "\n" if out else ""


def raw_source(cells: Sequence[Tuple[int, str]]) -> str:
    """Like :func:`to_source`, line for line, but with the cells' text as written (magics,
    line endings): what fix edits are applied to before the cells are split apart."""
    parts = []
    for number, text in cells:
        parts.append(f"{MARKER}{number}\n{text}")
        if text and not text.endswith(("\n", "\r")):
            parts.append("\n")
    return "".join(parts)


def split_raw(source: str) -> Optional[Dict[int, str]]:
    """Cell number -> text, from a (fixed) :func:`raw_source`; None if markers moved."""
    out: Dict[int, str] = {}
    pieces = re.split(r"(?m)^" + re.escape(MARKER) + r"(\d+)\n", source)
    if pieces[0] != "":
        return None
    for i in range(1, len(pieces), 2):
        out[int(pieces[i])] = pieces[i + 1]
    return out


def cell_starts(source: str) -> List[Tuple[int, int]]:
    """(virtual line of the marker, cell number) for every code cell, in order."""
    return [(number, int(line[len(MARKER):]))
            for number, line in enumerate(split_lines(source), start=1)
            if line.startswith(MARKER)]


def locate(starts: Sequence[Tuple[int, int]], line: int) -> Tuple[Optional[int], int]:
    """A virtual line as (cell, line within the cell); (None, line) before any cell."""
    cell, marker = None, 0
    for marker_line, number in starts:
        if marker_line >= line:
            break
        cell, marker = number, marker_line
    if cell is None:
        return None, line
    return cell, line - marker


def map_findings(findings: Sequence[Finding], sources: Dict[str, str]) -> List[Finding]:
    """Findings (and their related sites and fix edits) in notebooks, in cell coordinates."""
    starts = {path: cell_starts(text) for path, text in sources.items() if is_notebook(path)}
    if not starts:
        return list(findings)
    return [_map_finding(f, starts) for f in findings]


def _map_finding(finding: Finding, starts: Dict[str, List[Tuple[int, int]]]) -> Finding:
    related = tuple(_map_related(r, starts) for r in finding.related)
    if finding.path not in starts:
        return replace(finding, related=related) if related != finding.related else finding
    table = starts[finding.path]
    cell, line = locate(table, finding.line)
    end_cell, end_line = locate(table, finding.end_line)
    if end_cell != cell:
        end_line = line
    return replace(finding, line=max(line, 1), end_line=max(end_line, line, 1), cell=cell,
                   related=related, message=_map_message(finding.message, starts),
                   fix=None if finding.fix is None else _map_fix(finding.fix, table))


def _map_fix(fix: Fix, table: List[Tuple[int, int]]) -> Fix:
    edits = []
    for edit in fix.edits:
        cell, line = locate(table, edit.line)
        end_cell, end_line = locate(table, edit.end_line)
        if cell is None or end_cell != cell:
            return replace(fix, edits=())  # an edit across cells: nothing safe to offer
        edits.append(replace(edit, line=line, end_line=end_line, cell=cell))
    return replace(fix, edits=tuple(edits))


def virtual_edit(edit: Edit, table: Sequence[Tuple[int, int]]) -> Optional[Edit]:
    """An edit in cell coordinates back in the virtual module's lines."""
    marker = dict((number, line) for line, number in table).get(edit.cell)
    if marker is None:
        return None
    return replace(edit, line=marker + edit.line, end_line=marker + edit.end_line, cell=None)


def _map_message(message: str, starts: Dict[str, List[Tuple[int, int]]]) -> str:
    """Rules name other sites as ``path:line``; in a notebook that line is virtual."""
    for path, table in starts.items():
        def cell_line(match: "re.Match[str]", table=table, path=path) -> str:
            cell, line = locate(table, int(match.group(1)))
            return match.group(0) if cell is None else f"{path}:cell {cell}:{line}"
        message = re.sub(re.escape(path) + r":(\d+)", cell_line, message)
    return message


def _map_related(related: Related, starts: Dict[str, List[Tuple[int, int]]]) -> Related:
    if related.path not in starts:
        return related
    cell, line = locate(starts[related.path], related.line)
    return replace(related, line=max(line, 1), cell=cell)


def map_unused(unused: Sequence, sources: Dict[str, str]) -> List:
    starts = {path: cell_starts(text) for path, text in sources.items() if is_notebook(path)}
    out = []
    for item in unused:
        if item.path in starts:
            cell, line = locate(starts[item.path], item.line)
            item = replace(item, line=line, cell=cell)
        out.append(item)
    return out


def read_source(data: bytes) -> Union[str, NotebookError]:
    try:
        return to_source(data)
    except NotebookError as exc:
        return exc
