"""Random probe tensors and the numpy view operations that derive each side's inputs.

Runs in the linter process: numpy only, never a framework.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np

from convlint.probe.spec import ConvCall, ProbeSpec, Side, ViewOp

# Probes are meant to be tiny (catalog 4.3: N=2, a few channels, L around 9). The cap
# only stops a spec built from a user's literal sizes (C=512, L=16000) from turning a
# lint run into a benchmark; such probes are skipped, never truncated.
MAX_TENSOR_BYTES = 4 << 20


class ProbeTooLarge(ValueError):
    """A tensor of the probe would exceed MAX_TENSOR_BYTES."""


@dataclass(frozen=True)
class SourceTensors:
    """The source call's random input, weight and bias, in the source's layouts."""

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray


@dataclass(frozen=True)
class CallArrays:
    """What one side's call receives (bias is None when the call has no bias)."""

    x: np.ndarray
    weight: np.ndarray
    bias: Optional[np.ndarray]


def kernel_shape(call: ConvCall) -> Tuple[int, ...]:
    """The kernel shape ``call`` expects in its own ``kernel_layout``."""
    layout = call.kernel_layout
    if layout == "KCM":
        return (call.kernel_size, call.in_channels, call.depth_multiplier)
    if layout not in ("OIK", "IOK", "KIO", "KOI"):
        raise ValueError(f"unknown kernel layout {layout!r}")
    sizes = {"O": call.out_channels, "I": call.in_channels, "K": call.kernel_size}
    # In each of these layouts the middle axis holds one group's channels.
    return tuple(
        _div(sizes[axis], call.groups) if position == 1 else sizes[axis]
        for position, axis in enumerate(layout)
    )


def _div(channels: int, groups: int) -> int:
    if groups < 1 or channels % groups:
        raise ValueError(f"{channels} channels are not divisible by groups={groups}")
    return channels // groups


def input_shape(call: ConvCall, batch: int, length: int) -> Tuple[int, int, int]:
    c = call.in_channels
    return (batch, c, length) if call.data_layout == "NCL" else (batch, length, c)


def source_tensors(spec: ProbeSpec, length: int) -> SourceTensors:
    """N(0, 1) float32 tensors for the source call at input length ``length``.

    Weight and bias come from a stream that ignores the length, so every length of a
    probe sees the same parameters; the input stream is seeded by the length too.
    """
    call = spec.source.call
    shapes = [input_shape(call, spec.batch, length), kernel_shape(call), (call.out_channels,)]
    params = np.random.default_rng([spec.seed, 0])
    weight = params.standard_normal(shapes[1], dtype=np.float32)
    bias = params.standard_normal(shapes[2], dtype=np.float32)
    x = np.random.default_rng([spec.seed, 1, length]).standard_normal(shapes[0], dtype=np.float32)
    return SourceTensors(x, weight, bias)


def side_arrays(side: Side, source: SourceTensors) -> CallArrays:
    """Derive a side's call inputs from the source tensors by its recorded views."""
    x = apply_ops(source.x, side.input_ops)
    if side.pre_pad is not None:
        x = _pre_pad(x, side.pre_pad, side.call.data_layout)
    weight = apply_ops(source.weight, side.kernel_ops)
    bias = apply_ops(source.bias, side.bias_ops) if side.call.bias else None
    _check_size(x.shape)
    _check_size(weight.shape)
    return CallArrays(x, weight, bias)


def _pre_pad(x: np.ndarray, pre_pad: Tuple[int, int, str], layout: str) -> np.ndarray:
    left, right, mode = pre_pad
    # Negative axes so that an unbatched (rank-2) input pads its length axis too.
    axis = x.ndim - 1 if layout == "NCL" else x.ndim - 2
    widths = [(0, 0)] * x.ndim
    widths[axis] = (left, right)
    return np.pad(x, widths, mode=mode)


def apply_ops(array: np.ndarray, ops: Sequence[ViewOp]) -> np.ndarray:
    """Apply the ViewOp vocabulary of spec.py in order; returns float32, C-contiguous."""
    for op in ops:
        name, args = op[0], op[1:]
        if name not in _OPS:
            raise ValueError(f"unknown view op {name!r}")
        _check_size(_grown_shape(array.shape, name, args))  # before allocating it
        array = _OPS[name](array, *args)
    return np.ascontiguousarray(array, dtype=np.float32)


def _grown_shape(shape: Tuple[int, ...], name: str, args) -> Tuple[int, ...]:
    """The result shape of the ops that allocate more than their input."""
    if name == "tile":
        reps = tuple(args[0])
        shape = (1,) * (len(reps) - len(shape)) + tuple(shape)
        reps = (1,) * (len(shape) - len(reps)) + reps
        return tuple(d * r for d, r in zip(shape, reps))
    if name in ("block_diag", "interleave_diag") and len(shape) == 3:
        return (shape[0], shape[1] * int(args[0]), shape[2])
    if name == "reshape":
        return tuple(d for d in args[0] if d >= 0)  # a -1 keeps the size: checked as is
    return tuple(shape)


def _block_diag(kernel: np.ndarray, groups: int, interleave: bool = False) -> np.ndarray:
    # (K, I/g, O) -> dense (K, I, O): group i reads its own input channels only.
    k, per_group_in, out = kernel.shape
    per_group_out = _div(out, groups)
    dense = np.zeros((k, per_group_in * groups, out), kernel.dtype)
    for g in range(groups):
        cols = slice(g * per_group_out, (g + 1) * per_group_out)
        contiguous = slice(g * per_group_in, (g + 1) * per_group_in)
        rows = slice(g, None, groups) if interleave else contiguous
        dense[:, rows, cols] = kernel[:, :, cols]
    return dense


def _slice(array: np.ndarray, axis: int, start, stop, step=None) -> np.ndarray:
    index = [slice(None)] * array.ndim
    index[axis] = slice(start, stop, step)
    return array[tuple(index)]


_OPS = {
    "permute": lambda a, axes: np.transpose(a, tuple(axes)),
    "reshape": lambda a, shape: a.reshape(tuple(shape)),
    "flip": lambda a, axis: np.flip(a, axis),
    "tile": lambda a, reps: np.tile(a, tuple(reps)),
    "block_diag": lambda a, groups: _block_diag(a, groups),
    "interleave_diag": lambda a, groups: _block_diag(a, groups, interleave=True),
    "slice": lambda a, spec: _slice(a, *spec),
    "zero": np.zeros_like,
}


def _check_size(shape: Sequence[int]) -> None:
    # Python ints: an inferred 10**9 channels must not wrap around in int64 arithmetic.
    nbytes = 4 * math.prod(int(d) for d in shape)
    if nbytes > MAX_TENSOR_BYTES:
        raise ProbeTooLarge(
            f"probe tensor of shape {tuple(shape)} is {nbytes / 2**20:.1f} MiB "
            f"(limit {MAX_TENSOR_BYTES >> 20} MiB)"
        )


def output_bound(side: Side, batch: int, length: int) -> int:
    """Generous upper bound of a side's output size in bytes (transposed convs grow)."""
    call = side.call
    padded = length + (side.pre_pad[0] + side.pre_pad[1] if side.pre_pad else 0)
    explicit = sum(call.padding) if isinstance(call.padding, (tuple, list)) else 0
    growth = max(call.stride, call.lhs_dilation, 1)
    out_len = padded * growth + call.dilation * call.kernel_size + explicit
    return 4 * batch * max(call.out_channels, call.in_channels) * out_len


def check_size(spec: ProbeSpec) -> None:
    """Refuse an oversized probe before any worker is started for it.

    Covers the source tensors and a bound on every side's output; the derived inputs
    are checked again once built (a tile or block_diag grows them).
    """
    call = spec.source.call
    _check_size(kernel_shape(call))
    for length in spec.lengths:
        _check_size(input_shape(call, spec.batch, length))
        for side in (spec.source, spec.port, spec.fix):
            if side is not None and output_bound(side, spec.batch, length) > MAX_TENSOR_BYTES:
                raise ProbeTooLarge(
                    f"{side.call.api} output at L={length} could exceed "
                    f"{MAX_TENSOR_BYTES >> 20} MiB"
                )
