"""Padding, stride and dilation rules: CNV401-CNV408 (catalog 3.4 P01-P10, T02, T07, T08,
A05). The arithmetic lives in convlint.padding; these functions only decide what to say."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator, List, Optional, Sequence, Tuple

from .. import apis
from .. import padding as pad
from ..findings import Edit, Fix
from ..pairing import Pair
from ..spec import CONV, CONV_TRANSPOSE, ConvSpec, Padding, Site
from .groups import same_layer, short_api
from .registry import ERROR, WARNING, Hit, also_site_check, pair_rule, related_site, site_rule

_NP_MODE = {"constant": "zeros", "reflect": "reflect", "replicate": "replicate",
            "circular": "circular", "symmetric": "symmetric", "mixed": "mixed"}
# Where the port should get a non-zero mode (catalog P08, P09).
_MODE_FIX = {
    "reflect": "tf.pad(x, [[0, 0], [l, r], [0, 0]], mode='REFLECT') (or np.pad mode='reflect') "
               "then padding='valid'",
    "replicate": "np.pad(x, ..., mode='edge') or repeat the edge with tf.concat (TF has no "
                 "replicate mode: REFLECT and SYMMETRIC are wrong) then padding='valid'",
    "circular": "tf.concat([x[:, -l:], x, x[:, :r]], axis=1) (np.pad mode='wrap'; flax "
                "padding='CIRCULAR') then padding='valid'",
    "symmetric": "tf.pad(..., mode='SYMMETRIC') then padding='valid'",
    "constant": "pad with zeros (mode='CONSTANT')",
}
# APIs that accept padding='causal' (catalog P07); every other conv rejects it.
_CAUSAL_OK = {"keras.layers.Conv1D", "flax.linen.Conv", "flax.nnx.Conv"}
# APIs that crash on stride > 1 with dilation > 1 (catalog P05, measured).
_NO_STRIDE_WITH_DILATION = {"keras.layers.Conv1D", "keras.ops.conv", "tensorflow.nn.convolution"}
_BACKEND_STRIDE_WITH_DILATION = {"keras.ops.conv"}


# --- shared helpers -------------------------------------------------------------------------

def _describe(eff: Optional[pad.Effective]) -> str:
    if eff is None:
        return "?"
    mode = "" if eff.mode == "constant" else f" {_NP_MODE.get(eff.mode, eff.mode)}"
    return f"({eff.left}, {eff.right}){mode}"


def _spelled(spec: ConvSpec) -> str:
    """The port's padding as its code reads, for messages."""
    text = spec.padding.describe()
    if spec.input is not None and spec.input.pads:
        text = "pre-padded + " + text
    if spec.output_crop is not None:
        text += " + output slice"
    return text


def _lengths(source: ConvSpec, port: ConvSpec) -> Tuple[int, ...]:
    return pad.lengths_to_try(pad.input_length(source, port), source.stride or 1)


def _flax_default(spec: ConvSpec) -> bool:
    return spec.framework == "flax" and spec.kind == CONV and not spec.padding_explicit


def _when(lengths: Sequence[int], stride: int, known: bool) -> str:
    if known:
        return f"at L={lengths[0]}"
    if stride == 1:
        return ""
    residues = ", ".join(str(n % stride) for n in lengths)
    return f"when L % {stride} == {residues}"


def _arg_span(site: Site, concept: str):
    api = apis.lookup(site.spec.api)
    name = api.roles.get(concept) if api is not None else None
    return name, dict(site.arg_spans).get(name) if name else None


def _set_arg(site: Site, concept: str, text: str, description: str) -> Fix:
    """Replace an argument's value, or add it as a keyword after the last argument."""
    name, where = _arg_span(site, concept)
    if where is not None:
        return Fix(description, (Edit(where.line, where.column + 1, where.end_line,
                                      where.end_column + 1, text),))
    if name is None or site.args_end is None:
        return Fix(description)
    line, column = site.args_end
    return Fix(description, (Edit(line, column + 1, line, column + 1, f", {name}={text}"),))


def _spellings(spec: ConvSpec, target: Optional[pad.Effective]) -> List[Tuple[str, Padding]]:
    """The padding values this API accepts, simplest first (strings before amounts)."""
    valid, same, causal = Padding("valid", 0, 0), Padding("same"), Padding("causal")
    fw, api = spec.framework, spec.api
    out: List[Tuple[str, Padding]]
    if fw == "keras":
        out = [('"valid"', valid), ('"same"', same)]
        if api == "keras.layers.Conv1D":
            out.append(('"causal"', causal))
    elif fw == "tensorflow":
        out = [('"VALID"', valid), ('"SAME"', same)]
    elif fw == "jax":
        out = [('"VALID"', valid), ('"SAME"', same), ('"SAME_LOWER"', Padding("same_lower"))]
    elif fw == "flax":
        out = [('"VALID"', valid), ('"SAME"', same)]
        if api in _CAUSAL_OK:
            out.append(('"CAUSAL"', causal))
    elif fw == "torch":
        out = [("0", valid)]
        if spec.stride == 1:
            out.append(('"same"', same))
    else:
        return []
    if target is not None:
        pre = pad.pre_pads(spec) or []
        removed = pad.crop(spec) or (0, 0)
        left = target.left - sum(p[0] for p in pre) + removed[0]
        right = target.right - sum(p[1] for p in pre) + removed[1]
        if left >= 0 and right >= 0:
            if fw in ("jax", "flax"):
                out.append((f"[({left}, {right})]", Padding.explicit(left, right)))
            elif fw == "torch" and left == right:
                out.append((str(left), Padding.explicit(left, left)))
    return out


def _fix_spelling(pair: Pair, lengths: Sequence[int]) -> Optional[Tuple[str, Padding]]:
    """The first spelling of the port's padding that matches the source at every L."""
    source, port = pair.source.spec, pair.port.spec
    target = pad.effective(source, lengths[0])
    for text, candidate in _spellings(port, target):
        verdict = pad.compare(source, replace(port, padding=candidate), lengths)
        if verdict is not None and not verdict.differs_at:
            return text, candidate
    return None


def fixed_padding(pair: Pair) -> Optional[Padding]:
    """The padding the fix of CNV401/402/405 gives the port; None: pad explicitly instead."""
    source, port = _share_kernel_size(pair.source.spec, pair.port.spec)
    if pad.span(source) is None or source.stride is None:
        return None  # K unknown (both weights parameters): only an explicit pad is certain
    choice = _fix_spelling(Pair(replace(pair.source, spec=source), replace(pair.port, spec=port),
                                pair.evidence), _lengths(source, port))
    return choice[1] if choice else None


def _padding_fix(pair: Pair, lengths: Sequence[int]) -> Fix:
    source = pair.source.spec
    target = pad.effective(source, lengths[0])
    choice = _fix_spelling(pair, lengths)
    if choice is not None:
        return _set_arg(pair.port, "padding", choice[0], f"padding={choice[0]}")
    if target is None:
        return Fix("pad explicitly so both sides pad the same amounts")
    if source.stride and source.stride > 1 and len(lengths) > 1 and len(
            {(e.left, e.right) for e in (pad.effective(source, n) for n in lengths) if e}) > 1:
        return Fix("pad T//2 left and T-T//2 right with T = max(d(K-1) - (L-1) % s, 0) from "
                   "the runtime L, then padding 0 / 'valid'")
    return Fix(f"pad ({target.left}, {target.right}) explicitly (F.pad / tf.pad "
               f"[[0, 0], [{target.left}, {target.right}], [0, 0]] / ZeroPadding1D), then "
               f"padding 0 / 'valid'")


def _share_kernel_size(source: ConvSpec, port: ConvSpec) -> Tuple[ConvSpec, ConvSpec]:
    """A port that takes the converted weight as a parameter has K from its source."""
    if port.kernel_size is None:
        port = replace(port, kernel_size=source.kernel_size)
    if source.kernel_size is None:
        source = replace(source, kernel_size=port.kernel_size)
    return source, port


def _comparable(pair: Pair) -> Optional[Tuple[ConvSpec, ConvSpec]]:
    source, port = _share_kernel_size(pair.source.spec, pair.port.spec)
    if CONV_TRANSPOSE in (source.kind, port.kind) or not same_layer(source, port):
        return None
    if not pad.same_geometry(source, port):
        return None  # a stride or dilation change is CNV407's
    return source, port


def _mismatch(pair: Pair) -> Optional[Tuple[pad.Verdict, Tuple[int, ...], bool, Pair]]:
    specs = _comparable(pair)
    if specs is None:
        return None
    source, port = specs
    known = pad.input_length(source, port) is not None
    pair = Pair(replace(pair.source, spec=source), replace(pair.port, spec=port), pair.evidence)
    lengths = _lengths(source, port)
    verdict = pad.compare(source, port, lengths)
    if verdict is None or not verdict.differs_at:
        return None
    return verdict, lengths, known, pair


def _amount_hit(pair: Pair, what: str) -> Iterator[Hit]:
    found = _mismatch(pair)
    if found is None:
        return
    verdict, lengths, known, pair = found
    source, port = pair.source.spec, pair.port.spec
    at = verdict.differs_at[0]
    src, dst = pad.effective(source, at), pad.effective(port, at)
    stride = source.stride or 1
    when = _when(verdict.differs_at, stride, known)
    fix = _padding_fix(pair, lengths)
    reach = pad.span(source)
    if what.startswith("causal") and src is not None and reach and src.left == reach \
            and src.right > 0 and pad.is_causal(port, dst):
        fix = Fix(f"the source is not causal: slice its output y[..., :-{src.right}] "
                  f"(symmetric pad then chomp), or port it with padding='same'")
    severity = None
    depends = ""
    if verdict.sometimes:
        severity = WARNING
        depends = (f" (equal when L % {stride} == "
                   f"{', '.join(str(n % stride) for n in verdict.agrees_at)}: depends on L)")
    message = (f"{what}: {short_api(source)} at {pair.source.label} pads {_describe(src)} but "
               f"this {short_api(port)} ({_spelled(port)}) pads {_describe(dst)}"
               f"{(' ' + when) if when else ''}{depends}. Fix: {fix.description}")
    yield Hit(pair.port, message,
              (related_site(pair.source, f"source: {short_api(source)}, padding "
                                         f"{_describe(src)}"),), fix, severity)


def _causal_pair(pair: Pair) -> bool:
    source, port = _share_kernel_size(pair.source.spec, pair.port.spec)
    length = pad.input_length(source, port) or pad.BASE_LENGTH
    return pad.is_causal(source, pad.effective(source, length)) or pad.is_causal(
        port, pad.effective(port, length))


# --- the rules ------------------------------------------------------------------------------

@pair_rule("CNV401", "padding-mismatch", ERROR,
           "effective left/right padding of the port differs from the source")
def padding_mismatch(pair: Pair) -> Iterator[Hit]:
    if _flax_default(pair.port.spec) or _flax_default(pair.source.spec) or _causal_pair(pair):
        return
    yield from _amount_hit(pair, "padding mismatch")
    yield from _side_hit_without_kernel(pair)


def _side_hit_without_kernel(pair: Pair) -> Iterator[Hit]:
    """Both convs take their weight as a parameter (K unknown) but pad by known amounts:
    at stride 1 with equal dilation, different (left, right) differ for every K (catalog
    P10: ``F.pad(x, (K-1, 0))`` ported as ``tf.pad(x, [[0, 0], [0, K-1], [0, 0]])``)."""
    source, port = pair.source.spec, pair.port.spec
    if source.kernel_size is not None or port.kernel_size is not None or \
            CONV_TRANSPOSE in (source.kind, port.kind) or source.stride != 1 or \
            port.stride != 1 or (source.dilation or 1) != (port.dilation or 1):
        return
    if any(s.padding.mode not in ("valid", "explicit") for s in (source, port)):
        return
    length = pad.input_length(source, port) or pad.BASE_LENGTH
    src, dst = pad.effective(source, length), pad.effective(port, length)
    if src is None or dst is None or (src.left, src.right) == (dst.left, dst.right):
        return
    yield Hit(pair.port,
              f"padding mismatch: {short_api(source)} at {pair.source.label} pads "
              f"{_describe(src)} but this {short_api(port)} ({_spelled(port)}) pads "
              f"{_describe(dst)}: shifted or resized output for every kernel size. Fix: pad "
              f"({src.left}, {src.right}) on the length axis",
              (related_site(pair.source, f"source: {short_api(source)}, padding "
                                         f"{_describe(src)}"),))


@pair_rule("CNV402", "causal-padding-mismatch", ERROR,
           "causal padding ported as same/symmetric, the wrong amount or side")
def causal_padding_mismatch(pair: Pair) -> Iterator[Hit]:
    if _flax_default(pair.port.spec) or _flax_default(pair.source.spec):
        return
    if pair.port.spec.padding.mode == "causal" and pair.port.spec.api not in _CAUSAL_OK:
        return  # reported on the site: the layer rejects 'causal'
    if not _causal_pair(pair):
        return
    yield from _amount_hit(pair, "causal padding mismatch")


def dilated_causal_slip(spec: ConvSpec) -> Optional[Tuple[int, int]]:
    """(pad, d*(K-1)) when a left-only pad of K-1 feeds a dilated conv, else None."""
    reach, eff = pad.span(spec), pad.effective(spec, pad.BASE_LENGTH)
    if spec.kind == CONV_TRANSPOSE or reach is None or eff is None or not spec.dilation \
            or spec.dilation <= 1 or spec.kernel_size is None:
        return None
    if eff.right == 0 and eff.left == spec.kernel_size - 1 and eff.left != reach \
            and spec.padding.mode in ("valid", None):
        return eff.left, reach
    return None


@also_site_check("CNV402")
def causal_site(site: Site) -> Iterator[Hit]:
    spec = site.spec
    slip = dilated_causal_slip(spec)
    if slip is not None:
        yield Hit(site, f"causal pad of K-1 = {slip[0]} on the left, but dilation="
                        f"{spec.dilation} reaches d*(K-1) = {slip[1]}: the output is "
                        f"{slip[1] - slip[0]} shorter and not aligned with the input. "
                        f"Fix: pad ({slip[1]}, 0)")
        return
    if spec.padding.mode != "causal" or spec.api in _CAUSAL_OK:
        return
    reach = pad.span(spec)
    amount = f"({reach}, 0)" if reach is not None else "(d*(K-1), 0)"
    yield Hit(site, f"{short_api(spec)} rejects padding='causal' (ValueError / invalid padding "
                    f"string at run time). Fix: pad {amount} on the left of the length axis "
                    f"(ZeroPadding1D / tf.pad / F.pad) and use padding='valid'")


@site_rule("CNV403", "same-with-stride", ERROR, "torch padding='same' with stride > 1 (crash)")
def same_with_stride(site: Site) -> Iterator[Hit]:
    spec = site.spec
    if spec.framework != "torch" or spec.kind != CONV or spec.padding.mode != "same":
        return
    if spec.stride is None or spec.stride <= 1:
        return
    yield Hit(site, f"torch padding='same' with stride={spec.stride} raises 'padding='same' is "
                    f"not supported for strided convolutions'. Fix: F.pad(x, (T//2, T - T//2)) "
                    f"with T = max(d*(K-1) - (L-1) % {spec.stride}, 0), then padding=0")


def _padding_mode_of(spec: ConvSpec, length: int) -> Optional[pad.Effective]:
    eff = pad.effective(spec, length)
    if eff is None or (eff.left, eff.right) == (0, 0) or eff.mode == "mixed":
        return None
    return eff


@pair_rule("CNV404", "padding-mode-mismatch", ERROR,
           "torch padding_mode reflect/replicate/circular dropped or mapped to the wrong mode")
def padding_mode_mismatch(pair: Pair) -> Iterator[Hit]:
    source, port = pair.source.spec, pair.port.spec
    if CONV_TRANSPOSE in (source.kind, port.kind) or not same_layer(source, port):
        return
    length = pad.input_length(source, port) or pad.BASE_LENGTH
    src, dst = _padding_mode_of(source, length), _padding_mode_of(port, length)
    if src is None or dst is None or src.mode == dst.mode:
        return
    if "constant" not in (src.mode, dst.mode) and src.mode != dst.mode:
        what = f"pads with {_NP_MODE[dst.mode]}, not {_NP_MODE[src.mode]}"
    else:
        what = f"pads with {_NP_MODE[dst.mode]}"
    fix = Fix(_MODE_FIX.get(src.mode, "pad with the source's mode"))
    yield Hit(pair.port,
              f"padding mode mismatch: {short_api(source)} at {pair.source.label} pads "
              f"{_describe(src)} but this {short_api(port)} {what}; the first/last "
              f"{max(src.left, src.right)} outputs differ. Fix: {fix.description}",
              (related_site(pair.source, f"source: padding_mode {_NP_MODE[src.mode]}"),), fix)


@pair_rule("CNV405", "flax-default-same", ERROR,
           "flax Conv without padding (default SAME) ported from a torch conv with padding 0")
def flax_default_same(pair: Pair) -> Iterator[Hit]:
    if not (_flax_default(pair.port.spec) or _flax_default(pair.source.spec)):
        return
    found = _mismatch(pair)
    if found is None:
        return
    verdict, lengths, known, pair = found
    flax_site = pair.port if _flax_default(pair.port.spec) else pair.source
    other = pair.source if flax_site is pair.port else pair.port
    at = verdict.differs_at[0]
    fix = _padding_fix(pair, lengths) if flax_site is pair.port else Fix(
        "give the flax Conv padding='VALID' or the torch side's explicit amounts")
    yield Hit(flax_site,
              f"flax {short_api(flax_site.spec)} has no padding argument, so it pads 'SAME' "
              f"{_describe(pad.effective(flax_site.spec, at))}, while {short_api(other.spec)} "
              f"at {other.label} pads {_describe(pad.effective(other.spec, at))}. "
              f"Fix: {fix.description}",
              (related_site(other, f"{short_api(other.spec)} padding "
                                   f"{_describe(pad.effective(other.spec, at))}"),), fix)


@site_rule("CNV406", "stride-with-dilation", ERROR,
           "stride > 1 and dilation > 1 together in Keras Conv1D / tf.nn.convolution (crash)")
def stride_with_dilation(site: Site) -> Iterator[Hit]:
    spec = site.spec
    if spec.api not in _NO_STRIDE_WITH_DILATION or not spec.stride or not spec.dilation:
        return
    if spec.stride <= 1 or spec.dilation <= 1:
        return
    # The layers check in __init__ on every backend; keras.ops.conv only fails on the
    # TensorFlow backend (jax/torch backends and symbolic KerasTensors return (2, 7, 2)).
    backend = spec.api in _BACKEND_STRIDE_WITH_DILATION
    yield Hit(site, f"{short_api(spec)} raises '`strides > 1` not supported in conjunction with "
                    f"`dilation_rate > 1`'{' on the TensorFlow backend' if backend else ''} "
                    f"(stride={spec.stride}, dilation={spec.dilation}). "
                    f"Fix: tf.nn.conv1d(x, k, stride={spec.stride}, padding=..., "
                    f"dilations={spec.dilation}), or a stride-1 dilated conv then "
                    f"[:, ::{spec.stride}] (valid padding)", severity=WARNING if backend else None)


def _dilation_fix(site: Site, dilation: int) -> Fix:
    spec = site.spec
    lax = spec.framework == "jax"
    value = f"({dilation},)" if lax else str(dilation)
    neutral = "None" if lax else "1"
    name = "rhs_dilation" if lax else "kernel_dilation"
    description = (f"kernel dilation: {name}={value}, not input dilation" if dilation > 1
                   else "drop the input dilation")
    edits: List[Edit] = []
    _, input_span = _arg_span(site, "input_dilation")
    if input_span is not None:
        edits.append(Edit(input_span.line, input_span.column + 1, input_span.end_line,
                          input_span.end_column + 1, neutral))
    if dilation > 1:
        edits.extend(_set_arg(site, "dilation", value, description).edits)
    return Fix(description, tuple(edits))


@pair_rule("CNV407", "stride-or-dilation-mismatch", ERROR,
           "the port changes or drops stride or dilation, or uses input dilation")
def stride_or_dilation_mismatch(pair: Pair) -> Iterator[Hit]:
    source, port = pair.source.spec, pair.port.spec
    if (source.kind == CONV_TRANSPOSE) != (port.kind == CONV_TRANSPOSE) or \
            not same_layer(source, port):
        return
    related = (related_site(pair.source, f"source: {short_api(source)}, stride={source.stride}, "
                                         f"dilation={source.dilation}"),)
    src_d, in_d = source.dilation, port.input_dilation
    if source.kind != CONV_TRANSPOSE and src_d and in_d and in_d > 1 and \
            (source.input_dilation or 1) == 1:
        fix = _dilation_fix(pair.port, src_d)
        what = (f"dilates the kernel by {src_d}" if src_d > 1 else "has no input dilation")
        yield Hit(pair.port, f"input dilation in the port: {short_api(source)} at "
                             f"{pair.source.label} {what}, this {short_api(port)} dilates the "
                             f"input by {in_d} (a fractionally strided conv: longer output). "
                             f"Fix: {fix.description}", related, fix)
        return
    for concept, a, b in (("stride", source.stride, _subsampled_stride(port)),
                          ("dilation", source.dilation, port.dilation)):
        if a is None or b is None or a == b:
            continue
        value = f"({a},)" if port.framework == "jax" else str(a)
        name, _ = _arg_span(pair.port, concept)
        fix = _set_arg(pair.port, concept, value, f"{name or concept}={value}")
        yield Hit(pair.port, f"{concept} mismatch: {short_api(source)} at {pair.source.label} "
                             f"has {concept}={a}, this {short_api(port)} has {concept}={b}. "
                             f"Fix: {fix.description}", related, fix)


def _subsampled_stride(spec: ConvSpec) -> Optional[int]:
    """The stride of ``conv(x)[:, ::s]`` (catalog P05's fix: a stride-1 dilated conv, then
    every s-th output), or the conv's own stride."""
    cut = spec.output_crop
    if spec.stride is None or cut is None or not cut.step or cut.step == 1 or \
            cut.axis != pad.length_axis(spec) or cut.start not in (None, 0) or \
            cut.stop is not None:
        return spec.stride
    return spec.stride * cut.step


def keras_output_padding_zero(spec: ConvSpec) -> bool:
    """Keras Conv1DTranspose('same', output_padding=0): not torch's 0, not None (T07)."""
    return spec.framework == "keras" and spec.kind == CONV_TRANSPOSE and \
        spec.padding.mode == "same" and spec.output_padding == 0 and (spec.stride or 1) > 1


@also_site_check("CNV408")
def output_padding_zero(site: Site) -> Iterator[Hit]:
    if not keras_output_padding_zero(site.spec):
        return
    fix = _set_arg(site, "output_padding", "None", "output_padding=None")
    yield Hit(site, f"{short_api(site.spec)}(padding='same', output_padding=0) is not "
                    f"'same' (L*s outputs): 13 vs 14 for K=3, s=2, and the TF backend crashes "
                    f"for K=4, s=2. Fix: output_padding=None", fix=fix)


@pair_rule("CNV408", "transposed-padding-mismatch", ERROR,
           "transposed conv padding/output_padding differ between source and port")
def transposed_padding_mismatch(pair: Pair) -> Iterator[Hit]:
    if keras_output_padding_zero(pair.port.spec):
        return  # reported on the site itself
    source, port = _share_kernel_size(pair.source.spec, pair.port.spec)
    if source.kind != CONV_TRANSPOSE or port.kind != CONV_TRANSPOSE or \
            not same_layer(source, port) or not pad.same_geometry(source, port):
        return
    known = pad.input_length(source, port)
    lengths = (known,) if known is not None else (7, 8, 9)
    for length in lengths:
        src, dst = pad.transposed_window(source, length), pad.transposed_window(port, length)
        if src is None or dst is None:
            return
        if src == dst:
            continue
        fix = _transposed_fix(pair.port, source, port, lengths)
        yield Hit(pair.port,
                  f"transposed padding mismatch: {short_api(source)} at {pair.source.label} "
                  f"returns {src[1]} outputs from offset {src[0]} (L={length}), this "
                  f"{short_api(port)} ({_spelled(port)}, output_padding={port.output_padding}) "
                  f"returns {dst[1]} from offset {dst[0]}. Fix: {fix.description}",
                  (related_site(pair.source, f"source: padding={source.padding.describe()}, "
                                             f"output_padding={source.output_padding}"),),
                  fix)
        return


def _transposed_fix(site: Site, source: ConvSpec, port: ConvSpec,
                    lengths: Sequence[int]) -> Fix:
    def matches(candidate: ConvSpec) -> bool:
        return all(pad.transposed_window(source, n) == pad.transposed_window(candidate, n)
                   for n in lengths)

    if port.output_padding is not None and matches(replace(port, output_padding=None)):
        return Fix("output_padding=None (Keras 0 is not torch's 0)")
    extent = (pad.span(source) or 0) + 1
    start = pad.transposed_window(source, lengths[0])
    if port.framework in ("jax", "flax") and start is not None:
        amount = extent - 1 - start[0] if port.transpose_pads_dilated_input else start[0]
        candidate = replace(port, padding=Padding.explicit(amount, amount))
        if amount >= 0 and matches(candidate):
            text = f"[({amount}, {amount})]"
            return _set_arg(site, "padding", text,
                            f"padding={text} (lax pads the dilated input: torch p is K'-1-p)")
    if start is None:
        return Fix("match torch's (padding, output_padding) exactly")
    stride = source.stride or 1
    extra = start[1] - lengths[0] * stride
    tail = f" + {extra}" if extra > 0 else (f" - {-extra}" if extra < 0 else "")
    return Fix(f"padding='valid' and output_padding=None, then crop the output "
               f"[:, {start[0]}:{start[0]} + L*{stride}{tail}] (no 'same' spelling matches)")
