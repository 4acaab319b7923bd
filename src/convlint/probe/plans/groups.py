"""Probe planners for the groups family (CNV101)."""

from __future__ import annotations

from typing import Optional

from ...pairing import Pair
from ...rules.groups import source_groups
from ..plan import MAX_DIM, TO_NLC, TORCH_TO_KIO, grouped_sizes, length, planner, port_call, size
from ..spec import ConvCall, ProbeSpec, Side


@planner("CNV101")
def plan_groups_dropped(pair: Pair) -> Optional[ProbeSpec]:
    if not isinstance(pair, Pair):
        return None
    source = pair.source.spec
    groups = source_groups(source)
    if groups is None or groups <= 1 or groups > MAX_DIM:
        return None
    c, o, k = grouped_sizes(source, groups)
    stride = size(source.stride, 1)
    dilation = size(source.dilation, 1)
    framework = pair.port.spec.framework
    dense = port_call(framework, c, o, k, 1, stride, dilation)
    grouped = port_call(framework, c, o, k, groups, stride, dilation)
    if dense is None or grouped is None:
        return None
    source_call = ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, stride=stride,
                           dilation=dilation, groups=groups, padding=(0, 0))
    # The port as written: the grouped taps tiled over the full in-dim, i.e. a dense
    # (K, C, O) filter built from the same per-channel taps (catalog G01, p05).
    port = Side(dense, kernel_ops=TORCH_TO_KIO + (("tile", (1, groups, 1)),), input_ops=TO_NLC)
    fix = Side(grouped, kernel_ops=TORCH_TO_KIO, input_ops=TO_NLC)
    return ProbeSpec("CNV101", Side(source_call), port, fix,
                     lengths=(length(c, o, k, dilation),), groups_hint=groups,
                     notes=("padding VALID on both sides: the probe isolates the groups",))
