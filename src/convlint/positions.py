"""LibCST's PositionProvider, computed in half the time.

PositionProvider regenerates the module's code and records every node's range; most of
its cost is per-token overhead: a regex split of every token to count newlines, and a
generator-based context manager per syntactic node. This state overrides exactly those
two with equivalent, cheaper code (identical ranges: the fixture and sites tests compare
them) and stores the result where ``MetadataWrapper.resolve(PositionProvider)`` finds
it, so every consumer keeps asking for PositionProvider as before.

It leans on LibCST internals (the codegen state class, ``provider._computed``,
``wrapper._metadata``), so any failure falls back to the public API.
"""

from __future__ import annotations

from types import MappingProxyType

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


def resolve_positions(wrapper: MetadataWrapper) -> None:
    """Make ``wrapper.resolve(PositionProvider)`` an already-computed lookup."""
    if PositionProvidingCodegenState is not None and PositionProvider not in wrapper._metadata:
        try:
            module = wrapper.module
            provider = PositionProvider()
            state = _FastState(default_indent=module.default_indent,
                               default_newline=module.default_newline, provider=provider)
            module._codegen(state)
            wrapper._metadata[PositionProvider] = MappingProxyType(provider._computed)
            return
        except (AttributeError, TypeError):  # internals moved: use the public path
            wrapper._metadata.pop(PositionProvider, None)
    wrapper.resolve(PositionProvider)
