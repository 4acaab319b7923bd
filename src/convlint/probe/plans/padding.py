"""Probe planners for the padding family (CNV401-CNV408).

The source is a torch conv with its effective padding (pre-pads and output crop folded
into one explicit (left, right) pair, with its padding_mode); the port runs as written
(its padding string, explicit pre-pad, output crop, input dilation); the fix is the
port with the padding the rule suggests. Padding that depends on L mod stride is probed
at every residue (catalog 4.3: "test both parities of L mod s").
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional, Tuple

from ... import padding as pad
from ...pairing import Pair
from ...rules.padding import (_CAUSAL_OK, _share_kernel_size, dilated_causal_slip,
                              fixed_padding, keras_output_padding_zero)
from ...spec import CONV, CONV_TRANSPOSE, DEPTHWISE, NLC, ConvSpec, Padding, Site
from ..plan import TO_NLC, TORCH_TO_KIO, length, planner, size
from ..spec import ConvCall, ProbeSpec, Side

# Effective-padding modes (torch names) -> np.pad modes for Side.pre_pad.
_NP_PAD = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
           "circular": "wrap", "symmetric": "symmetric"}
_TORCH_MODE = {"constant": "zeros", "reflect": "reflect", "replicate": "replicate",
               "circular": "circular"}
_PORT_API = {
    "keras.layers.Conv1D": "keras.layers.Conv1D", "keras.ops.conv": "keras.ops.conv",
    "keras.layers.DepthwiseConv1D": "keras.layers.DepthwiseConv1D",
    "keras.layers.SeparableConv1D": "keras.layers.SeparableConv1D",
    "keras.layers.Conv1DTranspose": "keras.layers.Conv1DTranspose",
    "tensorflow.nn.conv1d": "tensorflow.nn.conv1d",
    "tensorflow.nn.convolution": "tensorflow.nn.convolution",
    "jax.lax.conv_general_dilated": "jax.lax.conv_general_dilated",
    "jax.lax.conv_with_general_padding": "jax.lax.conv_general_dilated",
    "jax.lax.conv": "jax.lax.conv_general_dilated",
    "jax.lax.conv_transpose": "jax.lax.conv_transpose",
    "flax.linen.Conv": "flax.linen.Conv", "flax.nnx.Conv": "flax.linen.Conv",
    "flax.linen.ConvTranspose": "flax.linen.ConvTranspose",
    "flax.nnx.ConvTranspose": "flax.linen.ConvTranspose",
    "torch.nn.Conv1d": "torch.nn.functional.conv1d",
    "torch.nn.functional.conv1d": "torch.nn.functional.conv1d",
    "torch.nn.ConvTranspose1d": "torch.nn.functional.conv_transpose1d",
    "torch.nn.functional.conv_transpose1d": "torch.nn.functional.conv_transpose1d",
}
_LOWER_CASE = ("keras", "torch")


def _sizes(source: ConvSpec, port: ConvSpec) -> Tuple[int, int, int]:
    c = size(source.in_channels or port.in_channels, 3)
    o = size(source.out_channels or port.out_channels, 5)
    k = size(source.kernel_size or port.kernel_size, 3)
    return c, o, k


def _lengths(source: ConvSpec, port: ConvSpec, c: int, o: int, k: int) -> Tuple[int, ...]:
    known = pad.input_length(source, port)
    if known is not None and 0 < known <= 4096:
        return (known,)
    base = length(c, o, k, max(source.dilation or 1, port.dilation or 1))
    stride = max(source.stride or 1, port.stride or 1)
    # Every residue of L mod stride: SAME at stride s pads by (L-1) % s (catalog P01).
    return tuple(base + r for r in range(stride))


def _padding_text(spec: ConvSpec, padding: Padding):
    if padding.mode == "explicit":
        return (padding.left, padding.right)
    if padding.mode == "valid" and (spec.input_dilation or 1) > 1:
        # [(0, 0)] and "VALID" are one Padding; with input dilation lax accepts only the
        # explicit form (a string raises), so probe what runs: the longer output (A05).
        return (0, 0)
    mode = "valid" if padding.mode is None else padding.mode
    return mode if spec.framework in _LOWER_CASE else mode.upper()


def _pre_pad(spec: ConvSpec) -> Tuple[bool, Optional[Tuple[int, int, str]]]:
    """(representable, pre_pad) from the port's explicit pads on the length axis."""
    pads = pad.pre_pads(spec)
    if pads is None:
        return False, None
    if not pads:
        return True, None
    modes = {m for _, _, m in pads}
    if len(pads) > 1 and modes != {"constant"}:
        return False, None
    mode = _NP_PAD.get(pads[0][2])
    if mode is None:
        return False, None
    return True, (sum(p[0] for p in pads), sum(p[1] for p in pads), mode)


def _call(spec: ConvSpec, c: int, o: int, k: int, padding: Padding, *,
          stride: Optional[int] = None, dilation: Optional[int] = None,
          crop: Optional[Tuple[int, Optional[int]]] = None,
          ) -> Optional[Tuple[ConvCall, tuple, tuple]]:
    """(call, kernel_ops, input_ops) running ``spec``'s API with the probe's sizes."""
    api = _PORT_API.get(spec.api)
    if api is None:
        return None
    layout = spec.data_layout or ("NCL" if spec.framework == "torch" else NLC)
    transposed = spec.kind == CONV_TRANSPOSE
    depthwise = spec.kind == DEPTHWISE or api.endswith(("DepthwiseConv1D", "SeparableConv1D"))
    if spec.framework == "torch":
        kernel_layout, kernel_ops = ("IOK" if transposed else "OIK"), ()
    elif depthwise:
        kernel_layout = "KCM"
        kernel_ops = TORCH_TO_KIO + (("reshape", (k, c, o // c)),)
    else:
        kernel_layout, kernel_ops = ("KOI" if transposed else "KIO"), TORCH_TO_KIO
    dimension_numbers = None
    if spec.framework == "jax":
        if layout == NLC:
            dimension_numbers = ("NWC", "WIO", "NWC")
        else:
            kernel_layout, kernel_ops = "OIK", ()
    if transposed and spec.framework in ("jax", "flax"):
        kernel_layout = "KIO"  # with transpose_kernel=True a TF-layout kernel is exact (T03)
    call = ConvCall(
        spec.framework, api, c, o, k, stride=stride or spec.stride or 1,
        dilation=dilation or spec.dilation or 1, groups=c if depthwise else 1,
        padding=_padding_text(spec, padding),
        padding_mode=spec.padding_mode or "zeros", output_padding=spec.output_padding,
        data_layout=layout, kernel_layout=kernel_layout, dimension_numbers=dimension_numbers,
        transpose_kernel=transposed and spec.framework in ("jax", "flax"),
        lhs_dilation=spec.input_dilation or 1, depth_multiplier=max(o // c, 1) if depthwise else 1,
        output_crop=crop,
    )
    return call, kernel_ops, TO_NLC if layout == NLC else ()


def _crop(spec: ConvSpec) -> Tuple[bool, Optional[Tuple[int, Optional[int]]]]:
    cut = spec.output_crop
    if cut is None:
        return True, None
    if cut.axis != pad.length_axis(spec):
        return False, None
    return True, (cut.start or 0, cut.stop)


def _port(spec: ConvSpec, c: int, o: int, k: int, **overrides) -> Optional[Side]:
    """The port exactly as written: its padding, pre-pad and output crop."""
    ok_pad, pre = _pre_pad(spec)
    ok_crop, crop = _crop(spec)
    if not (ok_pad and ok_crop):
        return None
    padding = overrides.pop("padding", spec.padding)
    built = _call(spec, c, o, k, padding, crop=crop, **overrides)
    if built is None:
        return None
    call, kernel_ops, input_ops = built
    return Side(call, kernel_ops, input_ops, pre_pad=pre)


def _explicit_fix(spec: ConvSpec, c: int, o: int, k: int, left: int, right: int, mode: str,
                  **overrides) -> Optional[Side]:
    """The port with its padding replaced by an explicit pad before a valid conv."""
    built = _call(replace(spec, padding_mode=None), c, o, k, Padding("valid", 0, 0), **overrides)
    if built is None or mode not in _NP_PAD:
        return None
    call, kernel_ops, input_ops = built
    return Side(call, kernel_ops, input_ops, pre_pad=(left, right, _NP_PAD[mode]))


def _torch_source(spec: ConvSpec, c: int, o: int, k: int, at: int, *,
                  groups: int = 1) -> Optional[Side]:
    eff = pad.effective(spec, at)
    if eff is None or eff.left < 0 or eff.right < 0 or eff.mode not in _TORCH_MODE:
        return None
    call = ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, stride=spec.stride or 1,
                    dilation=spec.dilation or 1, groups=groups, padding=(eff.left, eff.right),
                    padding_mode=_TORCH_MODE[eff.mode] if (eff.left, eff.right) != (0, 0)
                    else "zeros")
    return Side(call)


def _pair_specs(pair: Pair) -> Optional[Tuple[ConvSpec, ConvSpec]]:
    if not isinstance(pair, Pair) or pair.source.spec.framework != "torch":
        return None
    return _share_kernel_size(pair.source.spec, pair.port.spec)


def _padding_probe(code: str, pair: Pair, mode_fix: bool = False) -> Optional[ProbeSpec]:
    specs = _pair_specs(pair)
    if specs is None:
        return None
    source, port = specs
    if CONV_TRANSPOSE in (source.kind, port.kind) or port.kind != CONV:
        return None
    c, o, k = _sizes(source, port)
    lengths = _lengths(source, port, c, o, k)
    src = _torch_source(source, c, o, k, lengths[0])
    port_side = _port(port, c, o, k)
    if src is None or port_side is None:
        return None
    eff = pad.effective(source, lengths[0])
    assert eff is not None
    fix: Optional[Side] = None
    chosen = None if mode_fix else fixed_padding(pair)
    if chosen is not None:
        fix = _port(port, c, o, k, padding=chosen)
    elif port.framework != "torch":
        fix = _explicit_fix(port, c, o, k, eff.left, eff.right, eff.mode)
    return ProbeSpec(code, src, port_side, fix, lengths=lengths,
                     notes=("source: torch with its effective padding; port as written",))


@planner("CNV401")
def plan_padding_mismatch(pair: Pair) -> Optional[ProbeSpec]:
    return _padding_probe("CNV401", pair)


@planner("CNV402")
def plan_causal(evidence) -> Optional[ProbeSpec]:
    if isinstance(evidence, Pair):
        specs = _pair_specs(evidence)
        if specs is not None and pad.is_causal(specs[1], None) and not pad.is_causal(
                specs[0], pad.effective(specs[0], pad.BASE_LENGTH)):
            # The torch side is the one that is not causal (a missing chomp): the fix
            # is on the source, so the probe shows the difference and offers no port fix.
            probe = _padding_probe("CNV402", evidence)
            return replace(probe, fix=None) if probe is not None else None
        return _padding_probe("CNV402", evidence)
    if isinstance(evidence, Site) and dilated_causal_slip(evidence.spec) is not None:
        return _causal_slip(evidence)
    return _causal_rejected(evidence)


def _causal_slip(site: Site) -> Optional[ProbeSpec]:
    spec = site.spec
    c, o, k = _sizes(spec, spec)
    dilation = spec.dilation or 1
    reach = dilation * (k - 1)
    source = ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, stride=spec.stride or 1,
                      dilation=dilation, padding=(reach, 0))
    port = _port(spec, c, o, k)
    fix = _explicit_fix(spec, c, o, k, reach, 0, "constant")
    if port is None:
        return None
    return ProbeSpec("CNV402", Side(source), port, fix, lengths=(length(c, o, k, dilation),),
                     notes=("source: causal with the dilated reach d*(K-1)",))


def _causal_rejected(site: Site) -> Optional[ProbeSpec]:
    spec = site.spec
    if spec.padding.mode != "causal" or spec.api in _CAUSAL_OK or spec.kind == CONV_TRANSPOSE:
        return None
    depthwise = spec.kind in (DEPTHWISE, "separable")
    c = size(spec.in_channels, 3)
    o = c if depthwise else size(spec.out_channels, 5)
    k = size(spec.kernel_size, 3)
    reach = (spec.dilation or 1) * (k - 1)
    lengths = (length(c, o, k, spec.dilation or 1),)
    source = ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, stride=spec.stride or 1,
                      dilation=spec.dilation or 1, groups=c if depthwise else 1,
                      padding=(reach, 0))
    sized = replace(spec, in_channels=c, out_channels=o, kernel_size=k)
    port_side = _port(sized, c, o, k)
    fix = _explicit_fix(sized, c, o, k, reach, 0, "constant")
    if port_side is None:
        return None
    return ProbeSpec("CNV402", Side(source), port_side, fix, lengths=lengths,
                     notes=("source: torch causal (left pad d(K-1)); port as written",))


@planner("CNV403")
def plan_same_with_stride(site: Site) -> Optional[ProbeSpec]:
    if not isinstance(site, Site):
        return None
    spec = site.spec
    c, o, k = _sizes(spec, spec)
    stride, dilation = spec.stride or 2, spec.dilation or 1
    at = length(c, o, k, dilation)
    total = pad.same_total(dilation * (k - 1), stride, at) or 0
    reference = ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, stride=stride,
                         dilation=dilation, padding=(total // 2, total - total // 2))
    port = ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, stride=stride,
                    dilation=dilation, padding="same")
    return ProbeSpec("CNV403", Side(reference), Side(port), Side(reference), lengths=(at,),
                     notes=("reference: TF SAME as F.pad(T//2, T - T//2) + padding 0",))


@planner("CNV404")
def plan_padding_mode(pair: Pair) -> Optional[ProbeSpec]:
    return _padding_probe("CNV404", pair, mode_fix=True)


@planner("CNV405")
def plan_flax_default(pair: Pair) -> Optional[ProbeSpec]:
    return _padding_probe("CNV405", pair)


@planner("CNV406")
def plan_stride_with_dilation(site: Site) -> Optional[ProbeSpec]:
    if not isinstance(site, Site):
        return None
    spec = site.spec
    c, o, k = _sizes(spec, spec)
    at = length(c, o, k, spec.dilation or 1) + 2 * (spec.dilation or 1) * (k - 1)
    reference_spec = replace(spec, input=None, output_crop=None)
    source = _torch_source(reference_spec, c, o, k, at)
    port = _port(spec, c, o, k)
    eff = pad.effective(spec, at)
    if source is None or port is None or eff is None:
        return None
    fix_spec = replace(spec, api="tensorflow.nn.conv1d", framework="tensorflow", input=None)
    fix = _explicit_fix(fix_spec, c, o, k, eff.left, eff.right, "constant")
    return ProbeSpec("CNV406", source, port, fix, lengths=(at,),
                     notes=("reference: torch with the same stride and dilation",))


@planner("CNV407")
def plan_stride_or_dilation(pair: Pair) -> Optional[ProbeSpec]:
    specs = _pair_specs(pair)
    if specs is None:
        return None
    source, port = specs
    if source.kind != CONV or port.kind != CONV:
        return None
    c, o, k = _sizes(source, port)
    lengths = (length(c, o, k, max(source.dilation or 1, port.dilation or 1)) + 8,)
    src = _torch_source(source, c, o, k, lengths[0])
    port_side = _port(port, c, o, k)
    if src is None or port_side is None:
        return None
    fixed = _port(replace(port, input_dilation=1), c, o, k, stride=source.stride,
                  dilation=source.dilation)
    return ProbeSpec("CNV407", src, port_side, fixed, lengths=lengths,
                     notes=("port with the source's stride and kernel dilation as the fix",))


def _output_padding_zero(site: Site) -> Optional[ProbeSpec]:
    """Keras 'same' with output_padding=0 against what 'same' means: L*s outputs (T07)."""
    spec = site.spec
    c, o, k = _sizes(spec, spec)
    stride, dilation = spec.stride or 1, spec.dilation or 1
    at = length(c, o, k, dilation)
    total = max(dilation * (k - 1) + 1 - stride, 0)
    reference = ConvCall("torch", "torch.nn.functional.conv_transpose1d", c, o, k, stride=stride,
                         dilation=dilation, padding=(0, 0), kernel_layout="IOK",
                         output_crop=(total // 2, total // 2 + at * stride))
    port = _port(spec, c, o, k)
    fix = _port(replace(spec, output_padding=None), c, o, k)
    if port is None:
        return None
    return ProbeSpec("CNV408", Side(reference), port, fix, lengths=(at,),
                     notes=("reference: 'same' = the padding-0 output cropped to L*s",))


@planner("CNV408")
def plan_transposed_padding(pair: Pair) -> Optional[ProbeSpec]:
    if isinstance(pair, Site):
        return _output_padding_zero(pair) if keras_output_padding_zero(pair.spec) else None
    specs = _pair_specs(pair)
    if specs is None:
        return None
    source, port = specs
    if source.kind != CONV_TRANSPOSE or port.kind != CONV_TRANSPOSE:
        return None
    c, o, k = _sizes(source, port)
    at = length(c, o, k, source.dilation or 1)
    window = pad.transposed_window(source, at)
    src = _call(source, c, o, k, source.padding)
    port_side = _port(port, c, o, k)
    if window is None or src is None or port_side is None:
        return None
    source_side = Side(src[0], src[1], src[2])
    fix: Optional[Side] = None
    if port.output_padding is not None and pad.transposed_window(
            replace(port, output_padding=None), at) == window:
        fix = _port(replace(port, output_padding=None), c, o, k)
    elif port.framework in ("jax", "flax"):
        extent = (pad.span(source) or 0) + 1
        amount = extent - 1 - window[0] if port.transpose_pads_dilated_input else window[0]
        fix = _port(port, c, o, k, padding=Padding.explicit(amount, amount))
    else:
        fixed = _call(replace(port, output_padding=None), c, o, k, Padding("valid", 0, 0),
                      crop=(window[0], window[0] + window[1]))
        if fixed is not None:
            fix = Side(fixed[0], fixed[1], fixed[2])
    return ProbeSpec("CNV408", source_side, port_side, fix, lengths=(at,),
                     notes=("torch ConvTranspose1d vs the port as written",))
