"""Padding arithmetic: the effective (left, right) padding of a conv on its length axis.

Two convolutions with the same kernel, stride and dilation compute the same output iff
they pad the same amount on the left and produce the same number of outputs (the extra
right padding no window reaches is invisible). Everything here is a pure function of
the numbers in a ConvSpec and an input length L; ``None`` means "cannot tell".

Measured facts used (catalog 3.4, p03): TF/Keras/lax/flax SAME pads a total
``T = max(d(K-1) - (L-1) % s, 0)`` with ``T // 2`` on the left; SAME_LOWER puts the
odd element on the left; torch ``'same'`` equals SAME at stride 1 and crashes at
stride > 1; causal pads ``d(K-1)`` on the left only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, List, Optional, Tuple

from .spec import CONV_TRANSPOSE, NCL, NLC, ConvSpec

# Lengths tried when the input length is not a compile-time fact: the result only
# depends on L mod stride once L is large enough for every window.
BASE_LENGTH = 64


@dataclass(frozen=True)
class Effective:
    """What one conv does to the length axis at one input length."""

    left: int
    right: int
    mode: str  # "constant", "reflect", "replicate", "circular", "symmetric" or "mixed"


@dataclass(frozen=True)
class Verdict:
    """Source vs port over the lengths that matter."""

    differs_at: Tuple[int, ...]  # input lengths L where the outputs differ
    agrees_at: Tuple[int, ...]

    @property
    def always(self) -> bool:
        return bool(self.differs_at) and not self.agrees_at

    @property
    def sometimes(self) -> bool:
        return bool(self.differs_at) and bool(self.agrees_at)


def span(spec: ConvSpec) -> Optional[int]:
    """d(K-1): how far a window reaches beyond its first element."""
    if spec.kernel_size is None or spec.dilation is None:
        return None
    return spec.dilation * (spec.kernel_size - 1)


def same_total(reach: int, stride: int, length: Optional[int]) -> Optional[int]:
    """Total SAME padding; needs L only when stride > 1."""
    if stride < 1:
        return None  # every framework rejects it; nothing to compute
    if stride == 1:
        return reach
    if length is None:
        return None
    return max(reach - (length - 1) % stride, 0)


def conv_padding(spec: ConvSpec, length: Optional[int]) -> Optional[Tuple[int, int]]:
    """(left, right) the conv's own padding argument adds, or None."""
    padding, reach, stride = spec.padding, span(spec), spec.stride
    if padding.mode == "valid":
        return (0, 0)
    if padding.mode == "explicit":
        if padding.left is None or padding.right is None:
            return None
        return (padding.left, padding.right)
    if reach is None or stride is None or stride < 1 or reach < 0:
        return None  # unknown, or a stride/dilation every framework rejects
    if padding.mode == "causal":
        return (reach, 0)
    if padding.mode in ("same", "same_lower", "circular"):
        if spec.framework == "torch" and stride > 1:
            return None  # crashes (catalog P02): CNV403
        total = same_total(reach, stride, length)
        if total is None:
            return None
        small, large = total // 2, total - total // 2
        return (large, small) if padding.mode == "same_lower" else (small, large)
    return None


def conv_mode(spec: ConvSpec) -> str:
    if spec.padding.mode == "circular":
        return "circular"  # flax 'CIRCULAR'
    mode = spec.padding_mode or "zeros"
    return "constant" if mode == "zeros" else mode


def length_axis(spec: ConvSpec) -> Optional[int]:
    return {NCL: -1, NLC: -2}.get(spec.data_layout or "")


def pre_pads(spec: ConvSpec) -> Optional[List[Tuple[int, int, str]]]:
    """Explicit pads of the input on the length axis, [(left, right, mode)], or None."""
    if spec.input is None or not spec.input.pads:
        return []
    axis = length_axis(spec)
    out = []
    for pad in spec.input.pads:
        if pad.mode == "unknown" or pad.axis == 0 or axis is None:
            return None
        if pad.axis != axis:
            continue  # another axis: the port pads channels (CNV402/401 see no L padding)
        if pad.left is None or pad.right is None:
            return None
        out.append((pad.left, pad.right, pad.mode))
    return out


def crop(spec: ConvSpec) -> Optional[Tuple[int, int]]:
    """(from the left, from the right) the output slice removes; stride 1 only."""
    cut = spec.output_crop
    if cut is None:
        return (0, 0)
    if cut.axis != length_axis(spec) or spec.stride != 1 or (cut.step or 1) != 1:
        return None
    start = cut.start or 0
    if start < 0 or (cut.stop is not None and cut.stop > 0):
        return None  # relative to the end / an absolute length: depends on L
    return (start, -cut.stop if cut.stop is not None else 0)


def effective(spec: ConvSpec, length: Optional[int]) -> Optional[Effective]:
    """Input pads + the conv's padding - the output crop, as one (left, right)."""
    if spec.kind == CONV_TRANSPOSE:
        return None
    own = conv_padding(spec, length)
    pads = pre_pads(spec)
    removed = crop(spec)
    if own is None or pads is None or removed is None:
        return None
    left, right = own
    modes = {conv_mode(spec)} if own != (0, 0) else set()
    for pad_left, pad_right, mode in pads:
        left, right = left + pad_left, right + pad_right
        modes.add(mode)
    left, right = left - removed[0], right - removed[1]
    mode = modes.pop() if len(modes) == 1 else ("constant" if not modes else "mixed")
    return Effective(left, right, mode)


def output_length(length: int, left: int, right: int, reach: int, stride: int) -> int:
    return (length + left + right - reach - 1) // stride + 1


def lengths_to_try(known: Optional[int], stride: int) -> Tuple[int, ...]:
    if known is not None:
        return (known,)
    return tuple(BASE_LENGTH + r for r in range(max(stride, 1)))


def input_length(*specs: ConvSpec) -> Optional[int]:
    """L when a side states it (source first), else None."""
    for spec in specs:
        axis = length_axis(spec)
        if spec.input is not None and spec.input.rank == 3 and axis is not None:
            dim = spec.input.dim(axis)
            if dim is not None:
                pads = [p for p in spec.input.pads if p.axis == axis]
                return dim - sum((p.left or 0) + (p.right or 0) for p in pads)
    return None


def same_geometry(a: ConvSpec, b: ConvSpec) -> bool:
    """Kernel, stride and dilation are known and equal: paddings are comparable."""
    pairs = ((a.kernel_size, b.kernel_size), (a.stride, b.stride), (a.dilation, b.dilation))
    return all(x is not None and x == y for x, y in pairs)


def compare(source: ConvSpec, port: ConvSpec, lengths: Iterable[int]) -> Optional[Verdict]:
    """Where the two paddings give different outputs (amounts only, not modes)."""
    reach, stride = span(source), source.stride
    assert reach is not None and stride is not None
    differs, agrees = [], []
    for length in lengths:
        a, b = effective(source, length), effective(port, length)
        if a is None or b is None:
            return None
        size_a = output_length(length, a.left, a.right, reach, stride)
        size_b = output_length(length, b.left, b.right, reach, stride)
        same = a.left == b.left and size_a == size_b
        (agrees if same else differs).append(length)
    return Verdict(tuple(differs), tuple(agrees))


def is_causal(spec: ConvSpec, eff: Optional[Effective]) -> bool:
    reach = span(spec)
    if spec.padding.mode == "causal":
        return True
    return eff is not None and reach is not None and reach > 0 and eff.left == reach \
        and eff.right == 0


# --- transposed convolution (catalog T02, T07, T08) ---------------------------------------

def _cropped(window: Optional[Tuple[int, int]], cut, axis) -> Optional[Tuple[int, int]]:
    """The (start, size) window after ``y[..., start:stop]`` on the length axis."""
    if window is None or cut.axis != axis or (cut.step or 1) != 1:
        return None
    begin, size = window
    start = cut.start or 0
    stop = size if cut.stop is None else cut.stop
    if start < 0:
        start += size
    if stop < 0:
        stop += size
    stop = min(stop, size)
    if not 0 <= start <= stop:
        return None
    return (begin + start, stop - start)


def transposed_window(spec: ConvSpec, length: int) -> Optional[Tuple[int, int]]:
    """(start, size) of the output inside torch's padding-0 output (zero-extended).

    torch: ``full[p : p + (L-1)s + K' - 2p + op]`` with ``K' = d(K-1) + 1``; TF/Keras
    SAME returns ``n`` outputs starting at ``max((L-1)s + K' - n, 0) // 2``.
    """
    reach, stride = span(spec), spec.stride
    if reach is None or stride is None:
        return None
    extent = reach + 1
    full = (length - 1) * stride + extent
    if spec.output_crop is not None:
        return _cropped(transposed_window(replace(spec, output_crop=None), length),
                        spec.output_crop, length_axis(spec))
    padding, op = spec.padding, spec.output_padding
    if spec.framework == "torch":
        if padding.mode == "valid":
            left = 0
        elif padding.mode == "explicit" and padding.left == padding.right \
                and padding.left is not None:
            left = padding.left
        else:
            return None
        return (left, full - 2 * left + (op or 0))
    if spec.framework in ("keras", "tensorflow") and padding.mode in ("same", "valid"):
        same = padding.mode == "same"
        if spec.framework == "tensorflow":
            return None  # tf.nn takes output_shape: the size is the caller's
        if op is None:
            size = length * stride if same else (length - 1) * stride + max(extent, stride)
        else:
            size = full - 2 * (extent // 2 if same else 0) + op
        return ((max(full - size, 0) // 2) if same else 0, size)
    if spec.framework in ("jax", "flax"):
        if padding.mode == "same":
            return (max(extent - stride, 0) // 2, length * stride)
        if padding.mode == "valid":
            return (0, full)
        if padding.mode == "explicit" and padding.left is not None and padding.right is not None:
            left, right = padding.left, padding.right
            if spec.transpose_pads_dilated_input:
                # Pads the dilated input: torch padding K'-1-pad (catalog T08).
                return (extent - 1 - left, (length - 1) * stride + 1 + left + right - extent + 1)
            return (left, full - left - right)
    return None
