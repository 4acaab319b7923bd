"""API-surface rules: CNV501 positional-slot-mismatch, CNV502 bias-mismatch,
CNV503 flipped-kernel, CNV504 unknown-argument (catalog T05, A01-A04, A06, B01, D02).

They read how a call was spelled (``Site.call``: positional slots, unknown keywords,
constant values) against the API tables, so a new API needs a table row, not a branch.
"""

from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Tuple

from .. import apis
from ..apis import REQUIRED, ApiSpec
from ..apis.numpy import TRUE_CONVOLUTIONS
from ..findings import Fix
from ..pairing import Pair
from ..spec import CONV, CONV_TRANSPOSE, DEPTHWISE, SEPARABLE, ConvSpec, Site
from .groups import short_api
from .registry import ERROR, Hit, pair_rule, related_site, site_rule

_TENSOR_CONCEPTS = ("input", "weight", "bias")


def _api(site: Site) -> Optional[ApiSpec]:
    return apis.APIS_BY_NAME.get(site.spec.api)


def _concepts(api: ApiSpec) -> Dict[str, str]:
    """Parameter name -> neutral concept ("stride", "out_channels", ...)."""
    return {parameter: concept for concept, parameter in api.roles.items()}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- CNV501 positional-slot-mismatch --------------------------------------------------------

def _missing_required(site: Site, api: ApiSpec) -> List[str]:
    if site.call.super_init or site.call.extra_positional or site.call.unknown:
        return []  # a misspelled keyword (CNV504) is the real cause
    passed = set(site.call.positional) | {k for k, _ in site.call.texts}
    if _has_star(site):
        return []
    return [p for p in api.positional if api.defaults.get(p) is REQUIRED and p not in passed]


def _has_star(site: Site) -> bool:
    return site.call.star_args or site.call.super_init


@site_rule("CNV501", "positional-slot-mismatch", ERROR,
           "a positional argument lands in a slot of another meaning")
def positional_slot_mismatch(site: Site) -> Iterator[Hit]:
    api = _api(site)
    if api is None or site.spec.framework == "numpy":
        return
    yield from _transposed_output_padding(site, api)
    yield from _tf_order_in_torch(site, api)
    missing = _missing_required(site, api)
    if missing and api.framework == "tensorflow":
        yield Hit(site, f"{short_api(site.spec)} requires {', '.join(missing)} (no default): "
                        f"this raises TypeError: Missing required positional argument. "
                        f"Fix: pass them, e.g. {_tf_required_hint(missing)}")


def _tf_required_hint(missing: List[str]) -> str:
    hints = {"stride": "stride=1", "strides": "strides=1", "padding": "padding='VALID'"}
    return ", ".join(hints.get(m, f"{m}=...") for m in missing)


def _transposed_output_padding(site: Site, api: ApiSpec) -> Iterator[Hit]:
    """conv_transpose1d's 6th positional is output_padding where conv1d's is dilation
    (catalog T05): a value >= both stride and dilation is a copied dilation and raises."""
    if api.framework != "torch" or api.kind != CONV_TRANSPOSE:
        return
    if "output_padding" not in site.call.positional:
        return
    value = site.call.value("output_padding")
    stride, dilation = site.spec.stride, site.spec.dilation
    if not _is_int(value) or stride is None or dilation is None:
        return
    if value < max(stride, dilation):  # type: ignore[operator]
        return
    slot = site.call.positional.index("output_padding") + 1
    conv = "F.conv1d" if api.form == "functional" else "nn.Conv1d"
    yield Hit(site, f"positional argument {slot} of {short_api(site.spec)} is output_padding, "
                    f"not dilation as in {conv}: output_padding={value} is not smaller than "
                    f"stride {stride} or dilation {dilation}, so this raises RuntimeError: "
                    f"output padding must be smaller than either stride or dilation. Fix: "
                    f"pass dilation={value} by keyword (and output_padding explicitly)",
              fix=Fix(f"name the argument: dilation={value}"))


def _tf_order_in_torch(site: Site, api: ApiSpec) -> Iterator[Hit]:
    """tf.nn.conv1d(x, w, stride, padding) transliterated to F.conv1d(x, w, 1, 'VALID'):
    the 3rd positional is torch's bias and the 4th its stride (catalog 2.1, T05)."""
    if api.framework != "torch" or api.form != "functional":
        return
    wrong = []
    for parameter in ("bias", "stride"):
        if parameter not in site.call.positional:
            continue
        value = site.call.value(parameter, _MISSING)
        if parameter == "bias" and (_is_int(value) or isinstance(value, (str, float))):
            wrong.append(f"bias={value!r} (tf.nn.conv1d's 3rd positional is the stride)")
        if parameter == "stride" and isinstance(value, str):
            wrong.append(f"stride={value!r} (tf.nn.conv1d's 4th positional is the padding)")
    if wrong:
        yield Hit(site, f"{short_api(site.spec)} takes (input, weight, bias, stride, padding, "
                        f"...) but gets {'; '.join(wrong)}: TF's positional order does not "
                        f"carry over, and this raises TypeError. Fix: name the arguments "
                        f"(stride=..., padding=... with torch spellings)",
                  fix=Fix("pass stride and padding by keyword; torch's bias is the 3rd slot"))


_MISSING = object()


@pair_rule("CNV501", "positional-slot-mismatch", ERROR,
           "a positional argument lands in a slot of another meaning")
def transliterated_positionals(pair: Pair) -> Iterator[Hit]:
    """The port copies the source's positional values into slots that mean something
    else: nn.Conv1d(4, 6, 3) -> keras Conv1D(4, 6, 3) is filters=4, kernel_size=6,
    strides=3 (catalog A01)."""
    source_api, port_api = _api(pair.source), _api(pair.port)
    if source_api is None or port_api is None or pair.port.spec.framework == "numpy":
        return
    source_concepts, port_concepts = _concepts(source_api), _concepts(port_api)
    source_values = _constant_values(pair.source)
    port_values = _constant_values(pair.port)
    copied: List[Tuple[str, str, object]] = []
    for source_param, port_param in zip(pair.source.call.positional, pair.port.call.positional):
        s_concept, p_concept = source_concepts.get(source_param), port_concepts.get(port_param)
        if s_concept in _TENSOR_CONCEPTS or p_concept in _TENSOR_CONCEPTS:
            continue
        s_value, p_value = source_values.get(source_param), port_values.get(port_param)
        if s_value is None or p_value is None or s_value != p_value:
            return  # not a verbatim copy
        copied.append((port_param, p_concept or "", s_value))
    if len(copied) < 2:
        return
    wrong = []
    for port_param, concept, value in copied:
        meant = _source_value(pair.source.spec, concept)
        if meant is not None and meant != value:
            wrong.append(f"{port_param}={value} (source {concept}={meant})")
    if not wrong:
        return
    fix = _keyword_fix(pair, port_api)
    message = (f"{short_api(pair.port.spec)} copies the positional arguments of "
               f"{short_api(pair.source.spec)} at {pair.source.label}, but its slots mean "
               f"other things: {', '.join(wrong)}. Fix: {fix.description}")
    related = related_site(pair.source, f"source: {short_api(pair.source.spec)}")
    yield Hit(pair.port, message, (related,), fix)


def _constant_values(site: Site) -> Dict[str, object]:
    return {name: value for name, value in site.call.values}


def _source_value(spec: ConvSpec, concept: str) -> Optional[object]:
    return {"out_channels": spec.out_channels, "in_channels": spec.in_channels,
            "kernel_size": spec.kernel_size, "stride": spec.stride, "dilation": spec.dilation,
            "groups": spec.groups}.get(concept)


def _keyword_fix(pair: Pair, port_api: ApiSpec) -> Fix:
    spec = pair.source.spec
    parts = []
    for concept, value in (("out_channels", spec.out_channels), ("kernel_size", spec.kernel_size),
                           ("stride", spec.stride)):
        parameter = port_api.roles.get(concept)
        if parameter is not None and value is not None and not (concept == "stride" and value == 1):
            parts.append(f"{parameter}={value}")
    call = f"{short_api(pair.port.spec)}({', '.join(parts)}, ...)"
    return Fix(f"spell the port with keywords: {call}")


# --- CNV502 bias-mismatch ------------------------------------------------------------------

def _is_depthwise(spec: ConvSpec) -> bool:
    return spec.kind == DEPTHWISE or (spec.groups is not None and spec.groups > 1
                                      and spec.groups == spec.in_channels)


@pair_rule("CNV502", "bias-mismatch", ERROR,
           "source bias (on by default) not carried into the port")
def bias_mismatch(pair: Pair) -> Iterator[Hit]:
    source, port = pair.source.spec, pair.port.spec
    if source.bias is not True or port.framework == "numpy" or pair.port.call.super_init:
        return
    related = (related_site(pair.source, f"source: {short_api(source)} with a bias"),)
    if port.kind == SEPARABLE and _is_depthwise(source):
        if pair.port.call.file_has_matmul or pair.source.call.file_has_matmul:
            return  # a fold b_pw + W_pw @ b_dw may be there; we cannot tell it apart
        yield Hit(pair.port, f"{short_api(port)} has a single bias after the pointwise step, "
                             f"but the depthwise {short_api(source)} at {pair.source.label} "
                             f"has its own bias (bias=True is torch's default): dropping it "
                             f"measured 2.62. Fix: fold it, bias = b_pw + W_pw[:, :, 0] @ "
                             f"b_dw, or pass bias=False to the depthwise conv", related,
                  Fix("fold the depthwise bias into the pointwise bias: "
                      "b_pw + W_pw[:, :, 0] @ b_dw"))
        return
    if port.form == "layer" and port.bias is False:
        parameter = _api(pair.port).roles.get("bias", "use_bias")  # type: ignore[union-attr]
        yield Hit(pair.port, f"{short_api(port)} has {parameter}=False but "
                             f"{short_api(source)} at {pair.source.label} adds a bias (torch "
                             f"default bias=True): every output is off by the bias (measured "
                             f"0.111 = max|bias|). Fix: {parameter}=True and load the bias",
                  related, _flag_fix(pair.port, parameter))
    elif port.form == "functional" and port.bias is False and pair.port.call.result_biased is False:
        yield Hit(pair.port, f"the result of {short_api(port)} never gets the bias of "
                             f"{short_api(source)} at {pair.source.label} ({short_api(port)} "
                             f"has no bias argument): every output is off by the bias "
                             f"(measured 0.111 = max|bias|). Fix: tf.nn.bias_add(y, b) or "
                             f"y + b", related, Fix("add the bias to the result: "
                                                    "tf.nn.bias_add(y, b) / y + b"))


def _flag_fix(site: Site, parameter: str) -> Fix:
    return Fix(f"{parameter}=True, and load the torch bias with the kernel")


# --- CNV503 flipped-kernel -----------------------------------------------------------------

@pair_rule("CNV503", "flipped-kernel", ERROR,
           "true convolution (np.convolve) paired with a DL conv (cross-correlation)")
def flipped_kernel(pair: Pair) -> Iterator[Hit]:
    port, source = pair.port, pair.source
    if pair.weak or port.spec.api not in TRUE_CONVOLUTIONS or source.spec.kind != CONV:
        return
    weight_param = _api(port).roles.get("weight", "v")  # type: ignore[union-attr]
    if weight_param in port.call.flipped or "input" in port.call.flipped:
        return
    source_weight = _api(source).roles.get("weight") if _api(source) else None
    if source_weight and source_weight in source.call.flipped:
        return
    if source.spec.weight is not None and any("flip" in v for v in source.spec.weight.views):
        return
    name = port.spec.api.replace("jax.numpy.", "jnp.").replace("numpy.", "np.")
    correlate = name.replace("fftconvolve", "correlate").replace("oaconvolve", "correlate") \
        .replace("convolve", "correlate")
    yield Hit(port, f"{name} flips the kernel (true convolution) but "
                    f"{short_api(source.spec)} at {source.label} is a cross-correlation: "
                    f"with an asymmetric kernel the results differ (measured 9.11). Fix: "
                    f"{correlate}(...) or reverse the taps (k[::-1])",
              (related_site(source, f"source: {short_api(source.spec)}"),),
              Fix(f"use {correlate}, or pass the kernel reversed (k[::-1])"))


# --- CNV504 unknown-argument ---------------------------------------------------------------

def _vocabulary() -> Dict[str, str]:
    """Every parameter name some conv API gives a concept: name -> concept."""
    out: Dict[str, str] = {}
    for api in apis.APIS_BY_NAME.values():
        if api.framework == "numpy":
            continue
        for concept, parameter in api.roles.items():
            out.setdefault(parameter, concept)
    return out


_VOCABULARY = _vocabulary()


def _unknown_keyword_hits(site: Site, api: ApiSpec) -> Iterator[Hit]:
    for keyword in site.call.unknown:
        concept = _VOCABULARY.get(keyword)
        if concept is None:
            continue  # not conv vocabulary (e.g. a Keras base-layer keyword)
        right = api.roles.get(concept)
        crash = (f"ValueError: Unrecognized keyword arguments passed to "
                 f"{api.name.rsplit('.', 1)[1]}" if api.accepts_var_kwargs
                 else f"TypeError: got an unexpected keyword argument '{keyword}'")
        hint = f"use {right}=" if right else f"{short_api(site.spec)} has no {concept} parameter"
        yield Hit(site, f"{short_api(site.spec)} does not accept {keyword}= (that is another "
                        f"framework's name for {concept}): this raises {crash}. Fix: {hint}",
                  fix=Fix(hint))


_TF_PADDINGS = ("SAME", "VALID")
_KERAS_PADDINGS = ("valid", "same", "causal")


def _rejects_causal(site: Site) -> bool:
    from .padding import _CAUSAL_OK  # the padding family (CNV402) owns causal spellings

    return site.spec.padding.mode == "causal" and site.spec.api not in _CAUSAL_OK


def _padding_problem(site: Site, api: ApiSpec) -> Optional[str]:
    parameter = api.roles.get("padding")
    if parameter is None:
        return None
    value = site.call.value(parameter, _MISSING)
    if value is _MISSING:
        return None
    if isinstance(value, str) and value.lower() == "causal" and _rejects_causal(site):
        return None  # CNV402 reports it, with the causal fix
    if api.framework == "tensorflow":
        if isinstance(value, str) and value not in _TF_PADDINGS:
            if value.upper() in _TF_PADDINGS:
                return (f"padding={value!r}: tf.nn takes upper-case only; this raises "
                        f"InvalidArgumentError: Value for attr 'padding' of \"{value}\" is not in "
                        f"the list of allowed values. Fix: padding={value.upper()!r}")
            return f"padding={value!r} is not 'SAME' or 'VALID': tf.nn raises"
        if _is_int(value) or isinstance(value, tuple):
            return (f"padding={value!r}: tf.nn.{api.name.rsplit('.', 1)[1]} takes only 'SAME' "
                    f"or 'VALID' and raises TypeError: Expected string for argument 'padding'. "
                    f"Fix: tf.pad the input explicitly and use 'VALID' (or 'SAME' for odd "
                    f"kernels at stride 1)")
    if api.framework == "torch":
        if isinstance(value, str) and value not in ("same", "valid"):
            hint = f" Fix: padding={value.lower()!r}" if value.lower() in ("same", "valid") else ""
            return (f"padding={value!r}: torch takes lower-case 'same'/'valid' only and raises "
                    f"RuntimeError: Invalid padding string: {value!r}.{hint}")
        if isinstance(value, tuple) and len(value) != 1:
            return (f"padding={value!r}: torch conv1d takes an int or a 1-tuple and raises "
                    f"RuntimeError: expected padding to be a single integer value. Fix: "
                    f"F.pad(x, (left, right)) and padding=0")
    if api.framework == "keras" and api.form == "layer":
        if _is_int(value):
            return (f"padding={value!r}: Keras layers take 'valid', 'same' or 'causal' and "
                    f"raise AttributeError: 'int' object has no attribute 'lower'. Fix: "
                    f"keras.layers.ZeroPadding1D({value}) before the conv and padding='valid'")
        if isinstance(value, str) and value.lower() not in _KERAS_PADDINGS:
            return f"padding={value!r} is not 'valid', 'same' or 'causal': Keras raises"
    if api.framework == "jax" and _is_int(value):
        return (f"padding={value!r}: lax raises ValueError: padding argument to "
                f"conv_general_dilated should be a string or a sequence of (low, high) pairs. "
                f"Fix: padding=[({value}, {value})]")
    return None


@site_rule("CNV504", "unknown-argument", ERROR,
           "a keyword or padding spelling the target API rejects")
def unknown_argument(site: Site) -> Iterator[Hit]:
    api = _api(site)
    if api is None or site.spec.framework == "numpy":
        return
    yield from _unknown_keyword_hits(site, api)
    problem = _padding_problem(site, api)
    if problem is not None:
        yield Hit(site, f"{short_api(site.spec)}: {problem}",
                  fix=Fix(problem.split("Fix: ", 1)[1]) if "Fix: " in problem else None)
