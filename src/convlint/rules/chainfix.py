"""Fix edits that rewrite a tensor's view chain in the user's own idiom.

Inference records, for a tensor value, the one expression that produced it as a base
and method steps (``spec.ViewChain``). When that expression holds every view the value
went through, replacing it with the base, its non-view steps (``.detach()``,
``.numpy()``) and the correct conversion is an exact, local edit: torch tensors get
``.permute(...)``, ndarrays ``.transpose(...)``. Anything else (views split over
statements, TF or JAX values, a flip on an ndarray) keeps the description-only fix.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from ..findings import Edit
from ..spec import TensorFact, ViewChain

ViewOp = Tuple[object, ...]


def _args(values: Sequence[object]) -> str:
    return ", ".join(str(v) for v in values)


def op_text(op: ViewOp, kind: Optional[str]) -> Optional[str]:
    """One probe view op as a method call on a ``kind`` value, or None."""
    name = op[0]
    if name == "permute" and kind in ("torch", "numpy"):
        method = "permute" if kind == "torch" else "transpose"
        return f".{method}({_args(op[1])})"  # type: ignore[arg-type]
    if name == "reshape" and kind in ("torch", "numpy"):
        return f".reshape({_args(op[1])})"  # type: ignore[arg-type]
    if name == "flip" and kind == "torch":
        return f".flip({op[1]})"
    return None


def _kind_from_views(chain: ViewChain) -> Optional[str]:
    """A chain of unknown base kind whose first view names a torch-only method."""
    first = next((s.text for s in chain.steps if s.view), "")
    return "torch" if first.startswith((".permute(", ".view(")) else None


def whole_chain(fact: TensorFact) -> Optional[ViewChain]:
    """The recorded expression that applied every view of ``fact``, or None."""
    chain = fact.chain
    if chain is None:
        return None
    if chain.view_count == 0 and fact.views and chain.prior is not None:
        chain = chain.prior  # `w = x.view(...)` and then `w` used as is
    return chain if chain.view_count == len(fact.views) else None


def rewrite(fact: TensorFact, ops: Sequence[ViewOp], keep: int = 0) -> Optional[Edit]:
    """Replace the views of ``fact`` after the first ``keep`` ones by ``ops``."""
    chain = whole_chain(fact)
    if chain is None:
        return None
    steps = chain.steps
    views = [i for i, s in enumerate(steps) if s.view]
    if keep > len(views):
        return None
    dropped = set(views[keep:])
    if dropped:
        at = min(dropped)
    else:
        # No view to replace: insert before the torch -> numpy step when there is one
        # (`w.permute(2, 1, 0).numpy()`), else at the end.
        at = len(steps)
        for i, step in enumerate(steps):
            before = chain.kind if i == 0 else steps[i - 1].kind
            if step.kind == "numpy" and before == "torch":
                at = i
                break
    kind = chain.kind if at == 0 else steps[at - 1].kind
    if kind is None:
        kind = _kind_from_views(chain)
    texts = [op_text(op, kind) for op in ops]
    if any(t is None for t in texts):
        return None
    inserted = "".join(texts)  # type: ignore[arg-type]
    out: List[str] = [chain.base]
    for i, step in enumerate(steps):
        if i == at:
            out.append(inserted)
        if i not in dropped:
            out.append(step.text)
    if at == len(steps):
        out.append(inserted)
    span = chain.span
    return Edit(span.line, span.column + 1, span.end_line, span.end_column + 1, "".join(out))
