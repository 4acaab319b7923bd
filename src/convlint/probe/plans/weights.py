"""Probe planners for the weight-transfer family (CNV104, CNV201-CNV205).

Source: the torch conv on random data. Port: the target conv whose kernel is the user's
view chain applied to the torch weight. Fix: the correct conversion. Sizes are the
user's where known, since that is where the silent coincidences (O == K, I == O) live.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional, Tuple

from ...pairing import Pair
from ...rules.weights import (chain_ops, expectation, flow_weight, interleaved_write, judge,
                              replay, source_shape)
from ...spec import NCL, NLC, ConvSpec, Site
from ..plan import MAX_DIM, TO_NLC, TORCH_TO_KIO, length, planner, port_call, size
from ..spec import ConvCall, ProbeSpec, Side

_DN_KERNEL = {"KIO": "WIO", "KOI": "WOI", "OIK": "OIW", "IOK": "IOW"}
_DN_DATA = {NLC: "NWC", NCL: "NCW"}
_FORWARD = {
    "keras.layers.Conv1D": ("keras", "keras.layers.Conv1D", "valid"),
    "keras.ops.conv": ("keras", "keras.ops.conv", "valid"),
    "tensorflow.nn.conv1d": ("tensorflow", "tensorflow.nn.conv1d", "VALID"),
    "tensorflow.nn.convolution": ("tensorflow", "tensorflow.nn.convolution", "VALID"),
    "flax.linen.Conv": ("flax", "flax.linen.Conv", "VALID"),
    "flax.nnx.Conv": ("flax", "flax.linen.Conv", "VALID"),
    "jax.lax.conv_general_dilated": ("jax", "jax.lax.conv_general_dilated", "VALID"),
}
_TRANSPOSED = {
    "keras.layers.Conv1DTranspose": ("keras", "keras.layers.Conv1DTranspose", "valid"),
    "tensorflow.nn.conv1d_transpose": ("tensorflow", "tensorflow.nn.conv1d_transpose", "VALID"),
    "flax.linen.ConvTranspose": ("flax", "flax.linen.ConvTranspose", "VALID"),
    "flax.nnx.ConvTranspose": ("flax", "flax.linen.ConvTranspose", "VALID"),
    "jax.lax.conv_transpose": ("jax", "jax.lax.conv_transpose", "VALID"),
}


def _sizes(source: ConvSpec, has_reshape: bool) -> Optional[Tuple[int, int, int, int]]:
    """(C, O, K, groups): the user's. Sizes too large to probe are replaced by small ones
    with the same equalities (I == O, O == K: where silence lives), unless a reshape's
    literal dims depend on them."""
    g = source.groups or 1
    c, o, k = source.in_channels, source.out_channels, source.kernel_size
    if any(v is None or v < 1 for v in (c, o, k)) or c % g or o % g:  # type: ignore[operator]
        return None
    if max(c, o, k, g) <= MAX_DIM:  # type: ignore[type-var]
        return c, o, k, g  # type: ignore[return-value]
    if has_reshape or g != 1:
        return None
    small: dict = {1: 1}
    for value in (c, o, k):
        small.setdefault(value, 3 + len(small) - 1)
    return small[c], small[o], small[k], 1


def _port_call(port: ConvSpec, c: int, o: int, k: int, g: int,
               transpose_kernel: Optional[bool] = None) -> Optional[ConvCall]:
    if port.api == "keras.layers.DepthwiseConv1D":
        if c == 0 or o % c:
            return None
        return ConvCall("keras", port.api, c, o, k, padding="valid", data_layout=NLC,
                        kernel_layout="KCM", depth_multiplier=o // c)
    table = _TRANSPOSED if port.kind == "conv_transpose" else _FORWARD
    entry = table.get(port.api)
    if entry is None or port.data_layout is None or port.kernel_layout is None:
        return None
    framework, api, padding = entry
    dimension_numbers = None
    if framework == "jax":
        data = _DN_DATA.get(port.data_layout)
        kernel = _DN_KERNEL.get(port.kernel_layout)
        if data is None or kernel is None:
            return None
        dimension_numbers = (data, kernel, data)
    flag = port.transpose_kernel if transpose_kernel is None else transpose_kernel
    return ConvCall(framework, api, c, o, k, groups=1 if port.kind == "conv_transpose" else g,
                    padding=padding, data_layout=port.data_layout,
                    kernel_layout=port.kernel_layout, dimension_numbers=dimension_numbers,
                    transpose_kernel=bool(flag))


def _probe_ops(ops, shape):
    """unsqueeze has no probe op: spell it as the reshape it is."""
    out = []
    current = shape
    for op in ops:
        after = replay(current, (op,))
        if after is None:
            return None
        out.append(("reshape", after.shape) if op[0] == "unsqueeze" else op)
        current = after.shape
    return tuple(out)


@planner("CNV201")
@planner("CNV202")
@planner("CNV203")
@planner("CNV204")
@planner("CNV205")
def plan_weight_flow(pair: Pair) -> Optional[ProbeSpec]:
    if not isinstance(pair, Pair):
        return None
    weight = flow_weight(pair)
    source, port = pair.source.spec, pair.port.spec
    if weight is None:
        return None
    verdict = judge(source, port, weight)
    ops = chain_ops(weight.views, 3)
    expected = expectation(source, port)
    if verdict is None or ops is None or expected is None:
        return None
    has_reshape = expected.depthwise or any(op[0] != "permute" and op[0] != "flip" for op in ops)
    sizes = _sizes(source, has_reshape)
    if sizes is None:
        return None
    c, o, k, g = sizes
    shape = source_shape(replace(source, in_channels=c, out_channels=o, kernel_size=k, groups=g))
    if shape is None or None in shape:
        return None
    user_ops = _probe_ops(ops, shape)
    fix_ops = _probe_ops(expected.ops, shape)
    if user_ops is None or fix_ops is None:
        return None
    transposed = source.kind == "conv_transpose"
    source_call = ConvCall("torch", "torch.nn.functional.conv_transpose1d" if transposed
                           else "torch.nn.functional.conv1d", c, o, k,
                           groups=g, padding=(0, 0), kernel_layout="IOK" if transposed else "OIK")
    port_call_ = _port_call(port, c, o, k, g)
    if port_call_ is None:
        return None
    input_ops = TO_NLC if port_call_.data_layout == NLC else ()
    fix = Side(port_call_, kernel_ops=fix_ops, input_ops=input_ops)
    if verdict.code == "CNV204" and port.framework in ("jax", "flax") and not port.transpose_kernel:
        swapped = expectation(source, port, transpose_kernel=True)
        concrete = tuple(shape)
        if swapped is not None and replay(concrete, ops) == replay(concrete, swapped.ops):
            fix = Side(_port_call(port, c, o, k, g, transpose_kernel=True), kernel_ops=user_ops,
                       input_ops=input_ops)
    port_side = Side(port_call_, kernel_ops=user_ops, input_ops=input_ops)
    return ProbeSpec(verdict.code, Side(source_call), port_side, fix,
                     lengths=(length(c, o, k, 1),),
                     notes=("stride 1, padding VALID on every side: the probe isolates the "
                            "kernel conversion",))


@planner("CNV104")
def plan_group_block_order(site: Site) -> Optional[ProbeSpec]:
    if not isinstance(site, Site):
        return None
    found = interleaved_write(site)
    spec = site.spec
    if found is None or found[1] is None or spec.weight is None or spec.weight.shape is None:
        return None
    groups = found[1]
    dims = dict(zip(spec.kernel_layout or "", spec.weight.shape))
    c = size(dims.get("I"), 2 * groups)
    o = size(dims.get("O"), 3 * groups)
    k = size(dims.get("K"), 4)
    if c % groups or o % groups or groups > MAX_DIM:
        return None
    dense = port_call(spec.framework, c, o, k, 1, 1, 1)
    if dense is None:
        return None
    source_call = ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, groups=groups,
                           padding=(0, 0))
    port = Side(dense, kernel_ops=TORCH_TO_KIO + (("interleave_diag", groups),), input_ops=TO_NLC)
    fix = Side(dense, kernel_ops=TORCH_TO_KIO + (("block_diag", groups),), input_ops=TO_NLC)
    return ProbeSpec("CNV104", Side(source_call), port, fix, lengths=(length(c, o, k, 1),),
                     notes=("the port's filter puts input channel c in group c % g",))
