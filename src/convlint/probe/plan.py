"""Findings -> probe specifications, from the inferred numbers alone.

A planner per rule turns the finding's sites (their ConvSpecs) into a ProbeSpec: the
source conv, the port as written and the suggested fix, with sizes taken from the
user's code where known (that is where silent cases live: C == O, O == K) and chosen
otherwise, pairwise distinct and consistent with the groups (catalog 4.3).
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

from ..findings import Finding
from ..pairing import Pair
from ..rules.groups import source_groups
from ..spec import ConvSpec
from .spec import ConvCall, ProbeSpec, Side

# Probes never allocate more than a few MB, whatever the code says (a channel count
# of 10**9 in the source is a fact about the source, not a size to allocate).
MAX_DIM = 256
TO_NLC = (("permute", (0, 2, 1)),)
TORCH_TO_KIO = (("permute", (2, 1, 0)),)

_PORT_APIS = {
    "tensorflow": "tensorflow.nn.conv1d",
    "keras": "keras.layers.Conv1D",
    "jax": "jax.lax.conv_general_dilated",
    "flax": "flax.linen.Conv",
}


def _size(value: Optional[int], default: int) -> int:
    if value is None or value < 1 or value > MAX_DIM:
        return default
    return value


def _grouped_sizes(source: ConvSpec, groups: int) -> Tuple[int, int, int]:
    """(C, O, K): the user's where known, else distinct values divisible by groups."""
    c = _size(source.in_channels, groups * 2 if groups * 2 <= MAX_DIM else groups)
    o = _size(source.out_channels, groups * 3 if groups * 3 <= MAX_DIM else groups)
    k = _size(source.kernel_size, 4)
    if c % groups or o % groups:
        c, o = groups * 2, groups * 3
    return c, o, k


def _length(c: int, o: int, k: int, dilation: int) -> int:
    length = max(9, dilation * (k - 1) + 2)
    while length in (c, o, k):
        length += 1
    return length


def _port_call(framework: str, c: int, o: int, k: int, groups: int, stride: int,
               dilation: int) -> Optional[ConvCall]:
    api = _PORT_APIS.get(framework)
    if api is None:
        return None
    padding = "valid" if framework == "keras" else "VALID"
    dimension_numbers = ("NWC", "WIO", "NWC") if framework == "jax" else None
    return ConvCall(framework, api, c, o, k, stride=stride, dilation=dilation, groups=groups,
                    padding=padding, data_layout="NLC", kernel_layout="KIO",
                    dimension_numbers=dimension_numbers)


def plan_groups_dropped(pair: Pair) -> Optional[ProbeSpec]:
    source = pair.source.spec
    groups = source_groups(source)
    if groups is None or groups <= 1 or groups > MAX_DIM:
        return None
    c, o, k = _grouped_sizes(source, groups)
    stride = _size(source.stride, 1)
    dilation = _size(source.dilation, 1)
    framework = pair.port.spec.framework
    dense = _port_call(framework, c, o, k, 1, stride, dilation)
    grouped = _port_call(framework, c, o, k, groups, stride, dilation)
    if dense is None or grouped is None:
        return None
    source_call = ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, stride=stride,
                           dilation=dilation, groups=groups, padding=(0, 0))
    # The port as written: the grouped taps tiled over the full in-dim, i.e. a dense
    # (K, C, O) filter built from the same per-channel taps (catalog G01, p05).
    port = Side(dense, kernel_ops=TORCH_TO_KIO + (("tile", (1, groups, 1)),), input_ops=TO_NLC)
    fix = Side(grouped, kernel_ops=TORCH_TO_KIO, input_ops=TO_NLC)
    return ProbeSpec("CNV101", Side(source_call), port, fix,
                     lengths=(_length(c, o, k, dilation),), groups_hint=groups,
                     notes=("padding VALID on both sides: the probe isolates the groups",))


_PLANNERS: Dict[str, Callable[[Pair], Optional[ProbeSpec]]] = {
    "CNV101": plan_groups_dropped,
}


def has_recipe(code: str) -> bool:
    return code in _PLANNERS


def plan(finding: Finding) -> Optional[ProbeSpec]:
    planner = _PLANNERS.get(finding.code)
    if planner is None or not finding.evidence or not isinstance(finding.evidence[0], Pair):
        return None
    return planner(finding.evidence[0])
