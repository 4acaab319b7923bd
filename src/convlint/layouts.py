"""Input data layout facts that both inference and the rules use.

Kept apart from :mod:`convlint.infer` so that the rules (and with them a warm run served
from the file cache) can be imported without LibCST.
"""

from __future__ import annotations

from typing import Optional, Tuple

from .spec import NCL, NLC, ConvSpec, TensorFact

SCRAMBLED_NCL = "Nlc"  # an (N, C, L) tensor reshaped to (N, L, C)
SCRAMBLED_NLC = "Ncl"  # an (N, L, C) tensor reshaped to (N, C, L)


# Frameworks whose tensors the shape test may call channels-first (into an NLC op) or
# channels-last (into a torch conv). TF-born data is never presumed torch layout: a TF
# filter with in-dim C/g is a legitimate grouped conv (catalog G02).
_PRESUMED_NCL_ORIGINS = ("torch", "numpy")
_PRESUMED_NLC_ORIGINS = ("tensorflow", "keras", "jax", "flax", "numpy")


def _origin_framework(fact: TensorFact) -> str:
    return fact.origin.split(".", 1)[0]


def _stated_channels(spec: ConvSpec) -> Optional[int]:
    """Input channels as the op's own kernel or constructor states them, never from data."""
    if spec.form == "layer" and spec.framework in ("torch", "flax"):
        return spec.in_channels
    if spec.form == "layer" and spec.framework != "keras":
        return None
    # A Keras layer builds from its data, unless a kernel was loaded into it (set_weights).
    weight = spec.weight
    if weight is None or weight.rank != 3 or spec.kernel_layout not in ("OIK", "KIO"):
        return None
    per_group = weight.dim(1)
    if per_group is None:
        return None
    if spec.framework == "tensorflow":
        return per_group  # TF infers groups from this very number (catalog G02)
    return per_group * spec.groups if spec.groups else None


def input_data_layout(spec: ConvSpec) -> Tuple[Optional[str], str]:
    """(layout of the conv's input, how we know it if not from its flow), or (None, "").

    Known from the tensor's flow (its axes), or for a rank-3 tensor of known shape from
    the channel count the op itself states: an NLC op whose kernel in-dim is dim 1 (not
    dim 2) of a torch- or numpy-made tensor is given (N, C, L) data (catalog L01)."""
    fact = spec.input
    if fact is None or fact.rank != 3:
        return None, ""
    if fact.axes in (NCL, NLC):
        return fact.axes, ""
    if fact.axes is not None or fact.shape is None:
        return None, ""
    _, first, second = fact.shape
    channels = _stated_channels(spec)
    if channels is None or first is None or second is None or first == second:
        return None, ""
    origin = _origin_framework(fact)
    if spec.data_layout == NLC and first == channels and origin in _PRESUMED_NCL_ORIGINS:
        return NCL, f" (dim 1 is the {channels} input channels)"
    # lax without dimension_numbers fails on any such tensor, torch-made ones included.
    if spec.data_layout == NCL and second == channels and (
            origin in _PRESUMED_NLC_ORIGINS or spec.framework == "jax"):
        return NLC, f" (dim 2 is the {channels} input channels)"
    return None, ""
