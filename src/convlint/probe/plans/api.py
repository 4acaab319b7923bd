"""Probe planners for the API-surface family (CNV501-CNV504).

The crash rules (CNV501, CNV504) probe the user's own spelling: the port is a
*verbatim* call built from the constants the code passes (never from its text), and it
is confirmed when it raises where the source, the call as meant, runs. CNV502 probes
the port without the bias, CNV503 ``np.convolve`` against ``F.conv1d``.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Optional, Tuple

from ... import apis
from ...pairing import Pair
from ...spec import CONV_TRANSPOSE, SEPARABLE, Site
from ..plan import MAX_DIM, TO_NLC, TORCH_TO_KIO, length, planner, port_call, size
from ..spec import ConvCall, ProbeSpec, Side

_MISSING = object()
_TENSORS = ("input", "weight")
_TORCH_CONV = "torch.nn.functional.conv1d"


def _literal(site: Site, parameter: str) -> object:
    values = dict(site.call.values)
    if parameter in values:
        return values[parameter]
    text = site.call.text(parameter)
    if text is None:
        return _MISSING
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return _MISSING


def _plain(value: object) -> bool:
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def verbatim_args(site: Site) -> Optional[Tuple[Tuple[str, object], ...]]:
    """The call's arguments as constants, tensors left out (the worker supplies input
    and kernel; "<bias>" marks a bias tensor). None if any other argument is unknown."""
    api = apis.APIS_BY_NAME.get(site.spec.api)
    if api is None or site.call.star_args or site.call.super_init:
        return None
    concepts = {parameter: concept for concept, parameter in api.roles.items()}
    out = []
    positional = site.call.positional
    functional = api.form == "functional"
    if functional and positional[:2] != api.positional[:2]:
        return None  # tensors passed by keyword: the worker passes them positionally
    names = [("", p) for p in positional] + [
        (k, k) for k, _ in site.call.texts if k not in positional]
    for key, parameter in names:
        concept = concepts.get(parameter)
        if functional and concept in _TENSORS:
            continue
        value = _literal(site, parameter)
        if concept == "bias" and functional and value is _MISSING:
            value = "<bias>"  # a tensor: the probe's random bias stands in
        elif value is _MISSING or not _plain(value):
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_DIM:
            return None
        out.append((key, value))
    return tuple(out)


def _sizes(site: Site, c: int = 3, o: int = 5, k: int = 3) -> Tuple[int, int, int]:
    spec = site.spec
    c = size(spec.in_channels, c)
    o = size(spec.out_channels, o)
    k = size(spec.kernel_size, k)
    return c, o, k


def _torch_source(c: int, o: int, k: int, stride: int = 1, dilation: int = 1, padding=(0, 0),
                  bias: bool = False, groups: int = 1) -> ConvCall:
    return ConvCall("torch", _TORCH_CONV, c, o, k, stride=stride, dilation=dilation,
                    groups=groups, padding=padding, bias=bias)


def _verbatim_side(site: Site, c: int, o: int, k: int, stride: int, dilation: int,
                   bias: bool) -> Optional[Side]:
    """The port as written, reading the source's tensors in the port's layouts."""
    args = verbatim_args(site)
    if args is None:
        return None
    spec = site.spec
    bias = bias or any(value == "<bias>" for _, value in args)
    if spec.framework == "torch":
        transposed = spec.kind == CONV_TRANSPOSE
        call = ConvCall("torch", spec.api, c, o, k, stride=stride, dilation=dilation,
                        bias=bias, kernel_layout="IOK" if transposed else "OIK", verbatim=args)
        return Side(call)
    if spec.data_layout != "NLC":
        return None
    call = ConvCall(spec.framework, spec.api, c, o, k, stride=stride, dilation=dilation,
                    bias=bias, data_layout="NLC", kernel_layout="KIO", verbatim=args)
    return Side(call, kernel_ops=TORCH_TO_KIO, input_ops=TO_NLC)


def _fix_side(framework: str, c: int, o: int, k: int, stride: int, dilation: int,
              bias: bool, padding=None) -> Optional[Side]:
    if framework == "torch":
        return Side(_torch_source(c, o, k, stride, dilation, padding or (0, 0), bias))
    call = port_call(framework, c, o, k, 1, stride, dilation)
    if call is None:
        return None
    call = replace(call, bias=bias, padding=padding or call.padding)
    return Side(call, kernel_ops=TORCH_TO_KIO, input_ops=TO_NLC)


# --- CNV501 -----------------------------------------------------------------------------------

@planner("CNV501")
def plan_positional(evidence) -> Optional[ProbeSpec]:
    if isinstance(evidence, Pair):
        return _plan_copied_positionals(evidence)
    site = evidence
    spec = site.spec
    if spec.framework == "torch" and spec.kind == CONV_TRANSPOSE:
        return _plan_output_padding(site)
    if spec.framework == "torch":
        return _plan_tf_order(site)
    if spec.framework == "tensorflow":
        c, o, k = _sizes(site, k=4)
        port = _verbatim_side(site, c, o, k, 1, 1, False)
        if port is None:
            return None
        return ProbeSpec("CNV501", Side(_torch_source(c, o, k)), port,
                         _fix_side("tensorflow", c, o, k, 1, 1, False),
                         lengths=(length(c, o, k, 1),))
    return None


def _plan_output_padding(site: Site) -> Optional[ProbeSpec]:
    meant = _literal(site, "output_padding")
    if not isinstance(meant, int) or not 1 <= meant <= 8:
        return None
    spec = site.spec
    c, o, k = _sizes(site, c=4, o=5, k=3)
    stride = size(spec.stride, 1)
    pad = spec.padding.left if spec.padding.mode in ("explicit", "valid") else None
    if pad is None or pad != spec.padding.right:
        return None
    source = ConvCall("torch", "torch.nn.functional.conv_transpose1d", c, o, k, stride=stride,
                      dilation=meant, padding=(pad, pad), kernel_layout="IOK",
                      bias=spec.form == "layer" and spec.bias is not False)
    port = _verbatim_side(site, c, o, k, stride, meant, source.bias)
    if port is None:
        return None
    return ProbeSpec("CNV501", Side(source), port, Side(source),
                     lengths=(length(c, o, k, meant),),
                     notes=(f"source: the 6th positional read as dilation={meant}",))


def _plan_tf_order(site: Site) -> Optional[ProbeSpec]:
    c, o, k = _sizes(site, k=4)
    stride = _literal(site, "bias")
    stride = stride if isinstance(stride, int) and not isinstance(stride, bool) else 1
    stride = size(stride, 1)
    port = _verbatim_side(site, c, o, k, stride, 1, False)
    if port is None:
        return None
    source = _torch_source(c, o, k, stride)
    return ProbeSpec("CNV501", Side(source), port, Side(source),
                     lengths=(length(c, o, k, 1),),
                     notes=("source: the arguments read in tf.nn.conv1d's order",))


def _plan_copied_positionals(pair: Pair) -> Optional[ProbeSpec]:
    source = pair.source.spec
    c, o, k = _sizes(pair.source, k=4)
    stride = size(source.stride, 1)
    bias = source.bias is True
    port = _verbatim_side(pair.port, c, o, k, stride, 1, bias)
    if port is None:
        return None
    return ProbeSpec("CNV501", Side(_torch_source(c, o, k, stride, bias=bias)), port,
                     _fix_side(pair.port.spec.framework, c, o, k, stride, 1, bias),
                     lengths=(length(c, o, k, 1),))


# --- CNV502 -----------------------------------------------------------------------------------

@planner("CNV502")
def plan_bias(pair) -> Optional[ProbeSpec]:
    if not isinstance(pair, Pair):
        return None
    source, port = pair.source.spec, pair.port.spec
    if port.kind == SEPARABLE:
        c = size(source.in_channels, 6)
        k = size(source.kernel_size, 5)
        call = ConvCall("keras", "keras.layers.SeparableConv1D", c, c, k, data_layout="NLC",
                        kernel_layout="KCM")
        depthwise = (("permute", (2, 0, 1)),)  # torch (C, 1, K) -> Keras (K, C, 1)
        return ProbeSpec("CNV502", Side(_torch_source(c, c, k, bias=True, groups=c)),
                         Side(call, kernel_ops=depthwise, input_ops=TO_NLC),
                         Side(replace(call, bias=True), kernel_ops=depthwise, input_ops=TO_NLC),
                         lengths=(length(c, c, k, 1),),
                         notes=("separable probed as its depthwise step (identity pointwise)",))
    c, o, k = _sizes(pair.source, k=4)
    stride = size(source.stride, 1)
    dilation = size(source.dilation, 1)
    if source.groups not in (None, 1):
        return None
    without = _fix_side(port.framework, c, o, k, stride, dilation, False)
    with_bias = _fix_side(port.framework, c, o, k, stride, dilation, True)
    if without is None:
        return None
    return ProbeSpec("CNV502", Side(_torch_source(c, o, k, stride, dilation, bias=True)),
                     without, with_bias, lengths=(length(c, o, k, dilation),))


# --- CNV503 -----------------------------------------------------------------------------------

@planner("CNV503")
def plan_flipped(pair) -> Optional[ProbeSpec]:
    if not isinstance(pair, Pair):
        return None
    k = size(pair.source.spec.kernel_size, 3)
    if k < 2:
        return None  # a single tap reads the same both ways
    convolve = ConvCall("numpy", "numpy.convolve", 1, 1, k, padding="valid")
    correlate = replace(convolve, api="numpy.correlate")
    return ProbeSpec("CNV503", Side(_torch_source(1, 1, k)), Side(convolve), Side(correlate),
                     lengths=(length(1, 1, k, 1),),
                     notes=("single channel: np.convolve/np.correlate are 1-D",))


# --- CNV504 -----------------------------------------------------------------------------------

_MEANT = {"stride": "stride", "strides": "stride", "dilation": "dilation",
          "dilations": "dilation", "dilation_rate": "dilation", "kernel_dilation": "dilation",
          "rhs_dilation": "dilation"}


@planner("CNV504")
def plan_unknown(site) -> Optional[ProbeSpec]:
    if isinstance(site, Pair):
        return None
    spec = site.spec
    c, o, k = _sizes(site, k=3)
    stride, dilation = size(spec.stride, 1), size(spec.dilation, 1)
    for keyword in site.call.unknown:
        value = _literal(site, keyword)
        value = value[0] if isinstance(value, tuple) and len(value) == 1 else value
        if isinstance(value, int) and not isinstance(value, bool):
            if _MEANT.get(keyword) == "stride":
                stride = size(value, 1)
            elif _MEANT.get(keyword) == "dilation":
                dilation = size(value, 1)
    if stride > 1 and dilation > 1:
        return None
    padding, fix_padding, pre_pad = _meant_padding(site, k, dilation)
    if padding is None:
        return None
    port = _verbatim_side(site, c, o, k, stride, dilation, False)
    if port is None:
        return None
    source = _torch_source(c, o, k, stride, dilation, padding)
    fix = _fix_side(spec.framework, c, o, k, stride, dilation, False, fix_padding)
    if fix is not None and pre_pad is not None:
        fix = replace(fix, pre_pad=pre_pad)
    return ProbeSpec("CNV504", Side(source), port, fix, lengths=(length(c, o, k, dilation),))


def _meant_padding(site: Site, k: int, dilation: int):
    """(torch padding of the source, padding of the fix, pre_pad of the fix)."""
    api = apis.APIS_BY_NAME.get(site.spec.api)
    parameter = api.roles.get("padding") if api is not None else None
    value = _literal(site, parameter) if parameter else _MISSING
    framework = site.spec.framework
    valid = "VALID" if framework in ("tensorflow", "jax") else "valid"
    if value is _MISSING:
        return (0, 0), valid if framework != "torch" else (0, 0), None
    if isinstance(value, str) and value.lower() in ("same", "valid"):
        lower = value.lower()
        if lower == "same" and (dilation * (k - 1)) % 2:
            return None, None, None  # torch and TF split an odd total differently
        source = "same" if lower == "same" else (0, 0)
        fix = {"tensorflow": value.upper(), "jax": value.upper()}.get(framework, lower)
        return source, fix if framework != "torch" else source, None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_DIM:
        if framework == "torch":
            return (value, value), (value, value), None
        return (value, value), valid, (value, value, "constant")
    return None, None, None
