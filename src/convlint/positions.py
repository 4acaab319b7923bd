"""LibCST's PositionProvider, computed in half the time.

PositionProvider regenerates the module's code and records every node's range; most of
its cost is per-token overhead: a regex split of every token to count newlines, and a
generator-based context manager per syntactic node. This state overrides exactly those
two with equivalent, cheaper code (identical ranges: the fixture and sites tests compare
them) and stores the result where ``MetadataWrapper.resolve(PositionProvider)`` finds
it, so every consumer keeps asking for PositionProvider as before.

Most files need the positions of a few nodes only (the convolution calls and what
feeds them), so :class:`LazyPositions` computes them one top-level statement at a time,
on first use: Python's ``ast`` (parsed anyway) gives each statement's first line, the
statement's own code generation gives the ranges inside it, and the generated text is
compared with the source at that line, so a wrong guess falls back to the whole module
instead of giving a wrong range. Which statement a node belongs to is recorded by the
sites visitor, which walks every node anyway.

It leans on LibCST internals (the codegen state class, ``provider._computed``,
``wrapper._metadata``), so any failure falls back to the public API.
"""

from __future__ import annotations

import ast
from types import MappingProxyType
from typing import Dict, Iterator, List, Optional, Tuple

import libcst as cst

from libcst.metadata import MetadataWrapper, PositionProvider

try:
    from libcst._position import CodePosition, CodeRange
    from libcst.metadata.position_provider import NEWLINE_RE, PositionProvidingCodegenState
except ImportError:  # pragma: no cover - a LibCST that reorganized its internals
    PositionProvidingCodegenState = None


if PositionProvidingCodegenState is not None:

    class _Record:
        """``record_syntactic_position`` without a generator per node."""

        __slots__ = ("state", "node", "start_node", "end_node", "line", "column")

        def __init__(self, state, node, start_node, end_node) -> None:
            self.state = state
            self.node = node
            self.start_node = start_node
            self.end_node = end_node

        def __enter__(self) -> None:
            self.line = self.state.line
            self.column = self.state.column

        def __exit__(self, *exc) -> bool:
            state = self.state
            computed = state.provider._computed
            start = (computed[self.start_node].start if self.start_node is not None
                     else CodePosition(self.line, self.column))
            end = (computed[self.end_node].end if self.end_node is not None
                   else CodePosition(state.line, state.column))
            computed[self.node] = CodeRange(start, end)
            return False

    class _FastState(PositionProvidingCodegenState):
        __slots__ = ()

        def _update_position(self, value: str) -> None:
            if "\n" in value or "\r" in value:
                segments = NEWLINE_RE.split(value)
                self.line += len(segments) - 1
                self.column = len(segments[-1])
            else:
                self.column += len(value)

        def add_token(self, value: str) -> None:
            self.tokens.append(value)
            self._update_position(value)

        def before_codegen(self, node) -> None:
            self._stack.append((self.line, self.column))

        def after_codegen(self, node) -> None:
            line, column = self._stack.pop()
            computed = self.provider._computed
            if node not in computed:
                computed[node] = CodeRange(CodePosition(line, column),
                                           CodePosition(self.line, self.column))

        def record_syntactic_position(self, node, *, start_node=None, end_node=None):
            return _Record(self, node, start_node, end_node)


def _generate(module: cst.Module, node: Optional[cst.CSTNode] = None, line: int = 1,
              indents: Tuple[str, ...] = ()) -> Tuple[Dict[cst.CSTNode, CodeRange], str]:
    """Ranges of ``node`` (default: the module) and its code, generated from ``line`` at
    the indentation ``indents``."""
    provider = PositionProvider()
    state = _FastState(default_indent=module.default_indent,
                       default_newline=module.default_newline, provider=provider)
    state.line = line
    for indent in indents:
        state.increase_indent(indent)
    (module if node is None else node)._codegen(state)
    return provider._computed, "".join(state.tokens)


def resolve_positions(wrapper: MetadataWrapper) -> None:
    """Make ``wrapper.resolve(PositionProvider)`` an already-computed lookup."""
    if PositionProvidingCodegenState is not None and PositionProvider not in wrapper._metadata:
        try:
            computed, _ = _generate(wrapper.module)
            wrapper._metadata[PositionProvider] = MappingProxyType(computed)
            return
        except (AttributeError, TypeError):  # internals moved: use the public path
            wrapper._metadata.pop(PositionProvider, None)
    wrapper.resolve(PositionProvider)



def _aligned(statements, nodes) -> Optional[List[tuple]]:
    """(LibCST statement, its first ast statement, first line with its leading blank or
    comment lines) for one block; None when the two trees do not line up."""
    out: List[tuple] = []
    index = 0
    for statement in statements:
        if index >= len(nodes):
            return None
        node = nodes[index]
        if isinstance(statement, cst.SimpleStatementLine):
            index += len(statement.body)  # `a; b` is one LibCST line, two ast statements
            line = node.lineno
        else:
            index += 1
            line = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
        out.append((statement, node, line - len(statement.leading_lines)))
    return out if index == len(nodes) else None


def _units(module: cst.Module, tree: ast.Module) -> Optional[List[Tuple[cst.CSTNode, Tuple[str, ...], int]]]:
    """What positions are computed in one go: each top-level statement, and each
    statement of a top-level class body (a model class is most of a file; its
    convolutions sit in one or two methods). (node, indentation it is generated at,
    first line)."""
    top = _aligned(module.body, tree.body)
    if top is None:
        return None
    units: List[Tuple[cst.CSTNode, Tuple[str, ...], int]] = []
    for statement, node, line in top:
        units.append((statement, (), line))
        if (isinstance(statement, cst.ClassDef) and isinstance(node, ast.ClassDef)
                and isinstance(statement.body, cst.IndentedBlock)):
            members = _aligned(statement.body.body, node.body)
            if members is None:
                continue  # the class stays one unit
            indent = statement.body.indent
            indent = module.default_indent if indent is None else indent
            units.extend((member, (indent,), first) for member, _, first in members)
    return units


class LazyPositions:
    """The mapping ``wrapper.resolve(PositionProvider)`` returns, filled on demand."""

    def __init__(self, module: cst.Module, tree: ast.Module, source: str) -> None:
        self.module = module
        self.source = source
        self.computed: Dict[cst.CSTNode, CodeRange] = {}
        self.units = _units(module, tree) or []
        # node -> index of the innermost unit holding it; convlint.sites fills it while
        # visiting (it meets a unit's node before anything inside it).
        self.owner: Dict[cst.CSTNode, int] = {}
        self.tops: Dict[cst.CSTNode, int] = {u[0]: i for i, u in enumerate(self.units)}
        self.done: set = set()
        self.complete = False
        self._line_offsets: Optional[List[int]] = None

    # -- Mapping protocol (what MetadataWrapper and get_metadata use) ------------------
    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        found = self.computed.get(node)
        if found is not None:
            return found
        index = self.owner.get(node)
        if index is not None and index not in self.done and not self.complete:
            self._statement(index)
            found = self.computed.get(node)
            if found is not None:
                return found
        self._everything()
        return self.computed[node]

    def get(self, node: cst.CSTNode, default: object = None) -> object:
        try:
            return self[node]
        except KeyError:
            return default

    def __contains__(self, node: object) -> bool:
        return self.get(node) is not None  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[cst.CSTNode]:
        self._everything()
        return iter(self.computed)

    def __len__(self) -> int:
        self._everything()
        return len(self.computed)

    # -- computing ----------------------------------------------------------------------
    def _statement(self, index: int) -> bool:
        """Compute one unit's ranges; False when its generated code is not where the
        ast said (then lookups fall back to the whole module)."""
        self.done.add(index)
        node, indents, start = self.units[index]
        try:
            computed, text = _generate(self.module, node, start, indents)
        except (AttributeError, TypeError):
            return False
        offsets = self._offsets()
        if not 1 <= start <= len(offsets):
            return False
        begin = offsets[start - 1]
        if self.source[begin:begin + len(text)] != text:
            return False  # the ast's line was off (a decorator split by a backslash...)
        self.computed.update(computed)
        return True

    def _offsets(self) -> List[int]:
        if self._line_offsets is None:
            # LibCST's own idea of a line end, so line numbers agree with its ranges.
            self._line_offsets = [0] + [m.end() for m in NEWLINE_RE.finditer(self.source)]
        return self._line_offsets

    def _everything(self) -> None:
        if self.complete:
            return
        self.complete = True
        self.computed, _ = _generate(self.module)


def lazy_positions(wrapper: MetadataWrapper, tree: ast.Module, source: str) -> None:
    """Install a :class:`LazyPositions` as the wrapper's PositionProvider result."""
    if PositionProvidingCodegenState is None or PositionProvider in wrapper._metadata:
        resolve_positions(wrapper)
        return
    try:
        wrapper._metadata[PositionProvider] = LazyPositions(wrapper.module, tree, source)
    except (AttributeError, TypeError):  # pragma: no cover - internals moved
        resolve_positions(wrapper)


def positions_of(wrapper: MetadataWrapper) -> Optional[LazyPositions]:
    found = getattr(wrapper, "_metadata", {}).get(PositionProvider)
    return found if isinstance(found, LazyPositions) else None
