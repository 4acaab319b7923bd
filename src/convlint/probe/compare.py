"""Compare a port's output with the source's and name the pattern of the difference.

Both outputs arrive normalized to channels-first: (..., C, L). Tolerance follows
catalog DT02: a correct float32 port on CPU is within 1.1e-5, the smallest real hazard
measured 0.111, so ``1e-4 * max(1, max|ref|)`` separates them with margin both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

RELATIVE_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Comparison:
    length: int  # the probe's input length L
    max_abs_diff: Optional[float]  # None when the shapes differ
    rel_diff: Optional[float]
    tolerance: float
    pattern: str  # what the difference looks like; "" when within tolerance

    @property
    def differs(self) -> bool:
        return self.max_abs_diff is None or self.max_abs_diff > self.tolerance


def tolerance(ref: np.ndarray) -> float:
    peak = float(np.max(np.abs(ref))) if ref.size else 0.0
    return RELATIVE_TOLERANCE * max(1.0, peak)


def shape_text(shape) -> str:
    return "(" + ",".join(str(d) for d in shape) + ")"


def compare(ref: np.ndarray, out: np.ndarray, *, length: int, edge: int,
            groups_hint: Optional[int] = None) -> Comparison:
    """Compare ``out`` with the reference ``ref`` (shapes are reported in that order).

    ``edge``: how many positions at each end padding can influence.
    """
    ref64, out64 = ref.astype(np.float64), out.astype(np.float64)
    tol = tolerance(ref64)
    if ref64.shape != out64.shape:
        pattern = f"shape {shape_text(ref64.shape)} vs {shape_text(out64.shape)}"
        if ref64.ndim >= 2 and _close(out64, np.swapaxes(ref64, -1, -2), tol):
            pattern += " (layout: the source's output with channel and length axes swapped)"
        return Comparison(length, None, None, tol, pattern)
    diff = float(np.max(np.abs(out64 - ref64))) if ref64.size else 0.0
    peak = float(np.max(np.abs(ref64))) if ref64.size else 0.0
    rel = diff / peak if peak > 0 else None
    pattern = describe(ref64, out64, tol, edge, groups_hint) if diff > tol else ""
    return Comparison(length, diff, rel, tol, pattern)


def describe(ref: np.ndarray, out: np.ndarray, tol: float, edge: int,
             groups_hint: Optional[int]) -> str:
    """The first recognizable pattern, most specific first."""
    for detect in (_groups, _bias, _channels_permuted, _axes_swapped, _edges, _shift,
                   _everywhere_grouped):
        text = detect(ref, out, tol, edge, groups_hint)
        if text:
            return text
    return "values differ"


def _close(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol))


def _groups(ref, out, tol, edge, groups_hint) -> str:
    # Catalog G01: with equal channels and constant taps the dense port is exactly
    # g times the grouped source.
    if not groups_hint or groups_hint == 1 or not _close(out, groups_hint * ref, tol * groups_hint):
        return ""
    return f"groups: port = {groups_hint} x source everywhere (groups={groups_hint} dropped)"


def _bias(ref, out, tol, edge, groups_hint) -> str:
    if ref.ndim < 2:
        return ""
    delta = out - ref
    others = tuple(a for a in range(delta.ndim) if a != delta.ndim - 2)
    offset = delta.mean(axis=others, keepdims=True)
    if not _close(delta, np.broadcast_to(offset, delta.shape), tol):
        return ""
    return f"bias: constant offset per output channel (max {float(np.max(np.abs(offset))):.3g})"


def _channels_permuted(ref, out, tol, edge, groups_hint) -> str:
    if ref.ndim < 2 or ref.shape[-2] < 2:
        return ""
    ref_c, out_c = np.moveaxis(ref, -2, 0), np.moveaxis(out, -2, 0)
    order = []
    for channel in out_c:
        matches = [i for i, candidate in enumerate(ref_c) if _close(channel, candidate, tol)]
        if len(matches) != 1:
            return ""
        order.append(matches[0])
    if sorted(order) != list(range(len(order))):
        return ""
    return f"layout: output channels permuted (port channel j = source channel {order}[j])"


def _axes_swapped(ref, out, tol, edge, groups_hint) -> str:
    if ref.ndim < 2 or not _close(out, np.swapaxes(ref, -1, -2), tol):
        return ""
    return "layout: port output is the source's with channel and length axes swapped"


def _edges(ref, out, tol, edge, groups_hint) -> str:
    bad = np.any(np.abs(out - ref) > tol, axis=tuple(range(ref.ndim - 1)))
    positions = np.flatnonzero(bad)
    size = bad.size
    if size <= 2 * edge or not positions.size:
        return ""
    head = int(np.sum(positions < edge))
    tail = int(np.sum(positions >= size - edge))
    if head + tail != positions.size:
        return ""
    return (f"padding: differences only at the edges ({head} first / {tail} last of "
            f"{size} output positions; interior matches)")


def _shift(ref, out, tol, edge, groups_hint) -> str:
    size = ref.shape[-1]
    for k in range(1, min(edge, size - 2) + 1):
        if _close(out[..., k:], ref[..., :-k], tol):
            return f"padding: port output is the source's delayed by {k} position(s)"
        if _close(out[..., :-k], ref[..., k:], tol):
            return f"padding: port output is the source's advanced by {k} position(s)"
    return ""


def _everywhere_grouped(ref, out, tol, edge, groups_hint) -> str:
    # With random data a dense port of a grouped conv is no multiple of the source (that
    # needs constant taps, G01); what it shows is a difference in every output channel
    # at every position, which no padding, layout or bias pattern above explains.
    if not groups_hint or groups_hint == 1 or ref.ndim < 2:
        return ""
    bad = np.abs(out - ref) > tol
    per_channel = np.any(bad, axis=tuple(a for a in range(ref.ndim) if a != ref.ndim - 2))
    per_position = np.any(bad, axis=tuple(range(ref.ndim - 1)))
    if not (per_channel.all() and per_position.all()):
        return ""
    return (f"groups: every output channel differs at every position (consistent with "
            f"groups={groups_hint} dropped)")
