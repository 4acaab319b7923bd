"""Probe planners for the groups family (CNV101, CNV102, CNV103)."""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from ...pairing import Pair
from ...rules.groups import source_groups
from ...spec import CONV, NCL, ConvSpec, Site
from ..plan import MAX_DIM, TO_NLC, TORCH_TO_KIO, grouped_sizes, length, planner, port_call, size
from ..spec import ConvCall, ProbeSpec, Side
from ..worker import ONEDNN_OFF


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


def _channels(spec: ConvSpec) -> Optional[int]:
    """Input channels: the constructor's, else the input's channel dimension."""
    if spec.in_channels is not None:
        return spec.in_channels
    if spec.input is None or spec.input.rank != 3 or spec.data_layout is None:
        return None
    return spec.input.dim(1 if spec.data_layout == NCL else 2)


def _weight_in_dim(spec: ConvSpec) -> Optional[int]:
    if spec.weight is None or spec.weight.rank != 3 or spec.kernel_layout not in ("OIK", "KIO"):
        return None
    return spec.weight.dim(1)


def _in_dim_ops(axis: int, have: int, want: int):
    """View ops turning a kernel in-dim of ``have`` into ``want`` (shape only matters)."""
    if want == have:
        return ()
    tile = -(-want // have)
    reps = tuple(tile if a == axis else 1 for a in range(3))
    return (("tile", reps),) if want == have * tile else (
        ("tile", reps), ("slice", (axis, 0, want, 1)))


_CRASH_APIS = {
    # framework -> (api, data layout, kernel layout): the call as the site wrote it.
    "keras": ("keras.layers.Conv1D", "NLC", "KIO"),
    "jax": ("jax.lax.conv_general_dilated", "NLC", "KIO"),
    "flax": ("flax.linen.Conv", "NLC", "KIO"),
}


@planner("CNV102")
def plan_groups_shape_mismatch(site: Site) -> Optional[ProbeSpec]:
    """The site as written crashes where a conv of the same sizes runs (catalog G04, G06).

    There is no source to port from: the reference is a torch conv with the site's own
    sizes that is consistent (the groups the weight implies, else dense), and the port
    is the site exactly as written, which must raise. Where the weight implies a groups
    count (G04), the fix passes it and must agree with the reference.
    """
    if not isinstance(site, Site) or site.spec.kind != CONV:
        return None
    spec = site.spec
    k, stride, dilation = size(spec.kernel_size, 3), size(spec.stride, 1), size(spec.dilation, 1)
    per_group = _weight_in_dim(spec)
    if spec.framework == "tensorflow":
        return _tf_in_dim_mismatch(spec, k, stride, dilation, per_group)
    groups = spec.groups
    if groups is None or groups > MAX_DIM:
        return None
    c = size(_channels(spec), groups * 2 if groups * 2 <= MAX_DIM else groups)
    o = size(spec.out_channels, None)
    if o is None:
        return None
    implied = c // per_group if per_group and c % per_group == 0 else 1
    source_groups_ = implied if implied > 1 and o % implied == 0 else 1
    written_in = per_group or max(c // groups, 1)
    source = Side(ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, stride=stride,
                           dilation=dilation, groups=source_groups_, padding=(0, 0)))
    have = c // source_groups_
    fix = None
    if spec.framework == "torch":
        layer = spec.form == "layer"
        api = "torch.nn.Conv1d" if layer else "torch.nn.functional.conv1d"
        call = ConvCall("torch", api, c, o, k, stride=stride, dilation=dilation, groups=groups,
                        padding=(0, 0))
        port = Side(call, kernel_ops=_in_dim_ops(1, have, written_in))
        if source_groups_ > 1 and source_groups_ != groups:
            fix = Side(replace(call, groups=source_groups_))
    elif spec.framework in _CRASH_APIS:
        api, layout, kernel_layout = _CRASH_APIS[spec.framework]
        padding = "valid" if spec.framework == "keras" else "VALID"
        numbers = ("NWC", "WIO", "NWC") if spec.framework == "jax" else None
        call = ConvCall(spec.framework, api, c, o, k, stride=stride, dilation=dilation,
                        groups=groups, padding=padding, data_layout=layout,
                        kernel_layout=kernel_layout, dimension_numbers=numbers)
        port = Side(call, kernel_ops=TORCH_TO_KIO + _in_dim_ops(1, have, written_in),
                    input_ops=TO_NLC)
        if source_groups_ > 1 and source_groups_ != groups:
            fix = Side(replace(call, groups=source_groups_), kernel_ops=TORCH_TO_KIO,
                       input_ops=TO_NLC)
    else:
        return None
    return ProbeSpec("CNV102", source, port, fix, lengths=(length(c, o, k, dilation),),
                     notes=("the port is the site as written; the reference has its sizes",))


def _tf_in_dim_mismatch(spec: ConvSpec, k: int, stride: int, dilation: int,
                        per_group: Optional[int]) -> Optional[ProbeSpec]:
    """tf.nn infers groups = C / filter in-dim and raises when that does not divide."""
    c, o = _channels(spec), spec.out_channels
    if not c or not o or not per_group or max(c, o, per_group) > MAX_DIM:
        return None
    source = Side(ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, stride=stride,
                           dilation=dilation, padding=(0, 0)))
    call = ConvCall("tensorflow", "tensorflow.nn.conv1d", c, o, k, stride=stride,
                    dilation=dilation, padding="VALID", data_layout="NLC", kernel_layout="KIO")
    port = Side(call, kernel_ops=TORCH_TO_KIO + _in_dim_ops(1, c, per_group), input_ops=TO_NLC)
    return ProbeSpec("CNV102", source, port, lengths=(length(c, o, k, dilation),))


@planner("CNV103")
def plan_tf_implicit_groups(site: Site) -> Optional[ProbeSpec]:
    """Eager tf.nn runs the implicitly grouped filter; tf.function + bias_add without
    oneDNN raises (catalog G02, measured on TF 2.21). The reference is the site as
    written in eager TF; the port is the same call in that other setting; the fix is
    Keras Conv1D(groups=g), portable everywhere."""
    if not isinstance(site, Site) or site.spec.framework != "tensorflow":
        return None
    spec = site.spec
    c, per_group, o = _channels(spec), _weight_in_dim(spec), spec.out_channels
    if not c or not per_group or not o or max(c, o) > MAX_DIM or c % per_group:
        return None
    groups = c // per_group
    if groups <= 1 or o % groups:
        return None
    k, stride, dilation = size(spec.kernel_size, 3), size(spec.stride, 1), size(spec.dilation, 1)
    tf_call = ConvCall("tensorflow", "tensorflow.nn.conv1d", c, o, k, stride=stride,
                       dilation=dilation, groups=groups, padding="VALID", bias=True,
                       data_layout="NLC", kernel_layout="KIO")
    port = replace(tf_call, framework=ONEDNN_OFF, api="tensorflow.function.conv1d_bias_add")
    fix = replace(tf_call, framework="keras", api="keras.layers.Conv1D", padding="valid")
    return ProbeSpec("CNV103", Side(tf_call), Side(port), Side(fix),
                     lengths=(length(c, o, k, dilation),),
                     notes=("port: tf.function + bias_add with TF_ENABLE_ONEDNN_OPTS=0",))
