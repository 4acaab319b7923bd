"""Stage 1: source bytes -> one LibCST module with positions, parsed once per file.

Bad input never raises out of here: it becomes a :class:`ParseFailure` that the engine
reports as CNV900. Nothing the user wrote is imported or executed.
"""

from __future__ import annotations

import ast
import os
import sys
import warnings
from dataclasses import dataclass
from typing import Callable, Optional, Tuple, Union

import libcst as cst
from libcst.metadata import MetadataWrapper

from .positions import lazy_positions
from .quickscan import decode

# Files larger than this are reported, not parsed. LibCST needs ~35 s and ~800 MB per MB
# of source (measured: 1 MB of code or of data tables); the largest hand-written file in
# transformers 4.46 is 0.3 MB, so anything past 1 MB is generated and would stall a
# pre-commit run. CONVLINT_MAX_BYTES raises the limit.
MAX_BYTES = 1024 * 1024


def max_bytes() -> int:
    try:
        return int(os.environ.get("CONVLINT_MAX_BYTES", MAX_BYTES))
    except ValueError:
        return MAX_BYTES


@dataclass(frozen=True)
class ParsedFile:
    path: str
    source: str
    wrapper: MetadataWrapper

    @property
    def module(self) -> cst.Module:
        return self.wrapper.module


@dataclass(frozen=True)
class ParseFailure:
    path: str
    message: str
    line: int = 1
    column: int = 0  # 0-based


def parse_bytes(path: str, data: bytes, gate: Optional[Callable[[ast.AST], bool]] = None
                ) -> Union[ParsedFile, ParseFailure, None]:
    limit = max_bytes()
    if len(data) > limit:
        return ParseFailure(path, f"file is {len(data) / 2**20:.1f} MB, over the "
                                  f"{limit / 2**20:.1f} MB limit (CONVLINT_MAX_BYTES); "
                                  f"not analyzed")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return ParseFailure(path, "file contains a NUL byte: not Python source", line)
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1  # the line of the first bad byte
        return ParseFailure(path, f"cannot decode source: {exc}", line)
    except (SyntaxError, LookupError) as exc:
        return ParseFailure(path, f"cannot decode source: {exc}")
    return parse_text(path, text, gate)


def parse_text(path: str, text: str, gate: Optional[Callable[[ast.AST], bool]] = None
               ) -> Union[ParsedFile, ParseFailure, None]:
    """LibCST module of ``text``; None when ``gate`` rejects Python's ast of it."""
    tree = _python_ast(path, text)
    if isinstance(tree, ParseFailure):
        return tree
    # Depth first: it is linear, while the quick scan's dotted-name reading is not.
    depth, line = nesting_depth(tree)
    if depth > MAX_DEPTH:
        return ParseFailure(path, f"code nested {depth} levels deep, over the limit of "
                                  f"{MAX_DEPTH}; not analyzed", line)
    if gate is not None and not gate(tree):
        return None
    try:
        module = cst.parse_module(text)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        # wrapper.resolve(PositionProvider), computed a statement or method at a time on demand.
        lazy_positions(wrapper, tree, text)
    except cst.ParserSyntaxError as exc:
        return ParseFailure(path, f"LibCST cannot parse this file: {exc.message}",
                            exc.raw_line, max(exc.raw_column, 0))
    except RecursionError:
        return ParseFailure(path, "expression nesting too deep to analyze")
    except Exception as exc:  # noqa: BLE001 - a parser bug must not hide other files
        return ParseFailure(path, f"LibCST failed on this file: {type(exc).__name__}: {exc}")
    return ParsedFile(path, text, wrapper)


# LibCST's parser slows down sharply on long left-deep chains (`a + b + ...`, `f()()`,
# `x.a.b...`): 2,000 levels take ~2 s, 4,000 ~25 s and 10,000 overflow the C stack.
# Code nested deeper than this is reported, not parsed.
MAX_DEPTH = 1200


def nesting_depth(tree: ast.AST) -> Tuple[int, int]:
    """(depth, line of the deepest node) of the tree as LibCST will build it.

    Iterative, so it cannot itself overflow; `a and b and c` counts as LibCST nests it.
    """
    deepest, deepest_line = 0, 1
    stack = [(tree, 1, 1)]
    while stack:
        node, depth, line = stack.pop()
        line = getattr(node, "lineno", line)
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 2
        if depth > deepest:
            deepest, deepest_line = depth, line
        stack.extend((child, depth + 1, line) for child in ast.iter_child_nodes(node))
    return deepest, deepest_line


def _python_ast(path: str, text: str) -> Union[ast.AST, ParseFailure]:
    """Python's own parser gives the clearest message and line for invalid code."""
    try:
        with warnings.catch_warnings():
            # SyntaxWarnings about the user's code ("'str' object is not callable") are
            # not ours to print, and under -W error they must not become CNV900.
            warnings.simplefilter("ignore")
            tree = compile(text, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        return tree
    except SyntaxError as exc:
        return ParseFailure(path, f"syntax error: {exc.msg}", exc.lineno or 1,
                            max((exc.offset or 1) - 1, 0))
    except (RecursionError, MemoryError):
        return ParseFailure(path, "expression nesting too deep to analyze")
    except ValueError as exc:
        return ParseFailure(path, f"cannot parse: {exc}")


def ensure_recursion_headroom() -> None:
    # LibCST's parser and visitors recurse per nesting level; deep but valid code
    # should be analyzed, not rejected at Python's default limit of 1000.
    if sys.getrecursionlimit() < 10000:
        sys.setrecursionlimit(10000)
