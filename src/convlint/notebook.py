"""Jupyter notebooks: code cells joined into one virtual module, findings mapped back.

Notebooks are where ports are prototyped, with the torch cell above the TF cell, so all
code cells of a notebook are analyzed as one module: sites pair across cells exactly as
within one file, and a variable set in cell 2 is known in cell 5 (the usual top-to-bottom
run order). Each code cell is preceded by a marker comment line, so the virtual source
alone says where every cell starts and no side table has to travel with it.

IPython syntax is not Python: lines starting with ``%`` or ``!`` (line magics, shell
escapes) and ``?`` help lines become ``pass`` at the same indentation, and a cell that
starts with a ``%%`` cell magic is blanked whole (its body may be bash or SQL).

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

from .findings import Finding, Related

SUFFIX = ".ipynb"
MARKER = "# convlint-notebook-cell "
_MAGIC = re.compile(r"^(\s*)(?:[%!?]|[\w.]+\?\??\s*$)")


class NotebookError(ValueError):
    """The file is not a notebook convlint can read (message for CNV900)."""


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
    lines = text.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return [""] * len(lines)
    out = []
    for line in lines:
        match = _MAGIC.match(line)
        out.append(f"{match.group(1)}pass" if match else line)
    return out


def to_source(data: bytes) -> str:
    """The virtual module of a notebook's bytes; raises NotebookError."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise NotebookError(f"notebook is not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"notebook is not valid JSON: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno}") from None
    except RecursionError:
        raise NotebookError("notebook JSON nested too deeply") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("not a Jupyter notebook: no list of \"cells\" (nbformat 4)")
    out: List[str] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {number} is not an object")
        if cell.get("cell_type") != "code":
            continue
        out.append(f"{MARKER}{number}")
        out.extend(_python_lines(_cell_text(cell)))
    return "\n".join(out) + "\n" if out else ""


def cell_starts(source: str) -> List[Tuple[int, int]]:
    """(virtual line of the marker, cell number) for every code cell, in order."""
    return [(number, int(line[len(MARKER):]))
            for number, line in enumerate(source.splitlines(), start=1)
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
    # Fix edits stay in the virtual module's lines: --fix does not rewrite notebooks,
    # and other consumers would need the cell of every edit. Drop them rather than lie.
    return replace(finding, line=max(line, 1), end_line=max(end_line, line, 1), cell=cell,
                   related=related, message=_map_message(finding.message, starts),
                   fix=None if finding.fix is None else replace(finding.fix, edits=()))


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
