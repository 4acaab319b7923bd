"""``node.children`` of LibCST, without rebuilding the node.

LibCST computes ``children`` by running a visitor over the node's fields, which
constructs and validates a copy of the node each time: on transformers that was a third
of the inference stage, which walks subtrees a lot (``infer._calls_in`` and friends).
The children are the node's field values that are nodes, in the order LibCST visits the
fields. That order is fixed per node type, except that absent fields (None, a sentinel,
an empty sequence) are skipped; so it is learned once per (type, which fields are
present) from LibCST's own ``children`` and checked to reproduce it exactly. A shape
whose order cannot be reproduced keeps using LibCST's property.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst

_Node = cst.CSTNode
_FIELDS: Dict[type, Tuple[str, ...]] = {}
# (type, presence of each field) -> indexes of the fields in visiting order, or None.
_ORDER: Dict[Tuple[type, Tuple[bool, ...]], Optional[Tuple[int, ...]]] = {}


def _present(value: object) -> bool:
    if isinstance(value, _Node):
        return True
    return isinstance(value, (list, tuple)) and any(isinstance(v, _Node) for v in value)


def _expand(values: Sequence[object], order: Tuple[int, ...]) -> List[_Node]:
    out: List[_Node] = []
    for index in order:
        value = values[index]
        if isinstance(value, _Node):
            out.append(value)
        else:
            out.extend(v for v in value if isinstance(v, _Node))  # type: ignore[union-attr]
    return out


def _learn(node: _Node, values: Sequence[object]) -> Optional[Tuple[int, ...]]:
    reference = list(node.children)
    owner: Dict[int, int] = {}
    for index, value in enumerate(values):
        if isinstance(value, _Node):
            owner[id(value)] = index
        elif isinstance(value, (list, tuple)):
            for item in value:
                owner[id(item)] = index
    order: List[int] = []
    for child in reference:
        index = owner.get(id(child))
        if index is None:
            return None
        if not order or order[-1] != index:
            order.append(index)
    found = tuple(order)
    rebuilt = _expand(values, found)
    if (len(set(found)) != len(found) or len(rebuilt) != len(reference)
            or any(a is not b for a, b in zip(rebuilt, reference))):
        return None
    if any(_present(values[i]) for i in set(range(len(values))) - set(found)):
        return None  # a field LibCST did not visit
    return found


def children(node: _Node) -> Sequence[_Node]:
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in fields(node))
    values = [getattr(node, name) for name in names]
    key = (kind, tuple(_present(v) for v in values))
    try:
        order = _ORDER[key]
    except KeyError:
        order = _ORDER[key] = _learn(node, values)
    if order is None:
        return node.children
    return _expand(values, order)
