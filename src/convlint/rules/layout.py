"""Data-layout rules: CNV301 channels-first-into-channels-last, CNV302 reshape-not-transpose,
CNV303 lax-default-layout, CNV304 global-data-format, CNV305 unbatched-input
(catalog L01, L02, L05, L06, A07).

A tensor's layout is known from its flow (the input of a torch conv is (N, C, L); a
conv's output has the conv's layout; permutes move the labels; see ``infer``) or, for a
rank-3 tensor of known shape, from the channel count the op itself states: an
(N, C, L)-shaped tensor whose dim 1 is the kernel's in-dim and dim 2 is not.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator, Optional, Tuple

from ..findings import Edit, Fix
from ..layouts import SCRAMBLED_NCL, SCRAMBLED_NLC, input_data_layout
from ..spec import NCL, NLC, ConvSpec, Site, Span, TensorFact
from .chainfix import rewrite
from .groups import short_api
from .registry import ERROR, WARNING, Hit, related_site, site_rule

_LAX_DEFAULT_NCW = ("jax.lax.conv_general_dilated", "jax.lax.conv_with_general_padding",
                    "jax.lax.conv")


def _reported(site: Site) -> Site:
    """Layers are reported where they are applied to the tensor."""
    return replace(site, span=site.call_span) if site.call_span is not None else site


def _append(site: Site, text: str) -> Tuple[Edit, ...]:
    span: Optional[Span] = site.input_span
    if span is None:
        return ()
    return (Edit(span.end_line, span.end_column + 1, span.end_line, span.end_column + 1, text),)


def _swap_fix(site: Site, fact: TensorFact, target: str) -> Fix:
    description = (f"swap the input to {target} with .swapaxes(1, 2) (np.transpose(x, "
                   f"(0, 2, 1)), tf.transpose(x, [0, 2, 1])) and the output back")
    if fact.framework in ("tensorflow", "keras"):
        return Fix(description)  # TF tensors have no swapaxes method
    return Fix(description, _append(site, ".swapaxes(1, 2)"))


def _consequence_nlc_op(spec: ConvSpec, c: Optional[int], length: Optional[int]) -> str:
    """What an NLC op does with an (N, C, L) tensor (catalog L01, p02)."""
    if c is None or length is None:
        return "it reads the length axis as channels"
    if c == length:
        return f"C == L == {c}: it runs and returns wrong numbers (silent)"
    if spec.framework == "tensorflow" and spec.form == "functional":
        out = spec.out_channels
        if length % c == 0:
            groups = length // c
            if out is not None and out % groups:
                return (f"TF reads {length} channels: 'output depth must be evenly divisible "
                        f"by number of groups: {out} vs {groups}'")
            return (f"TF reads {length} channels and silently runs a grouped conv with "
                    f"groups={groups} (L % C == 0): wrong length axis, wrong numbers")
        return f"TF reads {length} channels: 'input depth must be evenly divisible by filter depth'"
    if spec.form == "layer" and spec.framework in ("keras", "flax"):
        return (f"the layer builds its kernel for {length} input channels: wrong output shape "
                f"(or a shape error when the torch weights are loaded)")
    return f"it reads {length} channels instead of {c}"


@site_rule("CNV301", "channels-first-into-channels-last", ERROR,
           "channels-first (N, C, L) tensor into a channels-last conv, or the reverse")
def channels_first_into_channels_last(site: Site) -> Iterator[Hit]:
    spec = site.spec
    fact = spec.input
    if fact is None or spec.data_layout not in (NCL, NLC):
        return
    if spec.data_format_from is not None and spec.data_layout == NCL:
        return  # channels-first by a global set_image_data_format call: CNV304
    if spec.data_layout == NCL and spec.api in _LAX_DEFAULT_NCW:
        return  # lax's own default layout: CNV303
    layout, how = input_data_layout(spec)
    if layout is None or layout == spec.data_layout:
        return
    api = short_api(spec)
    if spec.data_layout == NLC:
        c, length = fact.dim(1), fact.dim(2)
        message = (f"channels-first (N, C, L) tensor{how} into {api}, which reads "
                   f"(N, L, C): {_consequence_nlc_op(spec, c, length)}")
        fix = _swap_fix(site, fact, "(N, L, C)")
    else:
        length, c = fact.dim(1), fact.dim(2)
        if c is not None and c == length:
            outcome = f"C == L == {c}: it runs and returns wrong numbers (silent)"
        elif c is not None and length is not None and spec.framework == "torch":
            outcome = f"torch raises 'expected input ... to have {c} channels, but got {length}'"
        else:
            outcome = "it reads the length axis as channels"
        message = (f"channels-last (N, L, C) tensor{how} into {api}, which reads "
                   f"(N, C, L): {outcome}")
        fix = _swap_fix(site, fact, "(N, C, L)")
    yield Hit(_reported(site), f"{message}. Fix: {fix.description}", (), fix)


def _last_reshape(fact: TensorFact) -> str:
    return next((v for v in reversed(fact.views) if v.startswith(("reshape", "view"))),
                "reshape")


@site_rule("CNV302", "reshape-not-transpose", ERROR,
           "reshape/view used to swap the channel and length axes of data")
def reshape_not_transpose(site: Site) -> Iterator[Hit]:
    fact = site.spec.input
    if fact is None or fact.axes is None or not any(a in "cl" for a in fact.axes):
        return
    was = {SCRAMBLED_NCL: "(N, C, L)", SCRAMBLED_NLC: "(N, L, C)"}.get(fact.axes, "data")
    message = (f"{_last_reshape(fact)} gives this {was} tensor the other layout's shape but "
               f"scrambles its values: {short_api(site.spec)} reads mixed channels and "
               f"positions (catalog L02: max|diff| 17.3, no error). Fix: .transpose(0, 2, 1) / "
               f".permute(0, 2, 1) / np.transpose(x, (0, 2, 1)) instead of the reshape")
    yield Hit(_reported(site), message, (),
              Fix("swap the axes with a transpose, not a reshape", _swap_instead(fact)))


def _swap_instead(fact: TensorFact) -> Tuple[Edit, ...]:
    """The last view is the scrambling reshape: only it becomes a (0, 2, 1) permutation."""
    if fact.rank != 3 or not fact.views or not fact.views[-1].startswith(("reshape", "view")):
        return ()
    edit = rewrite(fact, (("permute", (0, 2, 1)),), keep=len(fact.views) - 1)
    return (edit,) if edit is not None else ()


def _lax_evidence(spec: ConvSpec, site: Site) -> Tuple[Optional[str], Optional[str]]:
    """(why the input is channels-last, why the kernel is (K, I, O)); None when not."""
    data_reason = kernel_reason = None
    weight = spec.weight
    layout, how = input_data_layout(spec)
    if layout == NLC:
        data_reason = f"the input is channels-last (N, L, C){how}"
    if weight is not None and weight.axes == "KIO":
        kernel_reason = "the kernel is (K, I, O)"
    return data_reason, kernel_reason


@site_rule("CNV303", "lax-default-layout", ERROR,
           "lax conv without dimension_numbers (NCW/OIW) given channels-last data or a "
           "(K, I, O) kernel")
def lax_default_layout(site: Site) -> Iterator[Hit]:
    spec = site.spec
    if spec.api not in _LAX_DEFAULT_NCW or spec.data_layout != NCL:
        return
    data_reason, kernel_reason = _lax_evidence(spec, site)
    if data_reason is None and kernel_reason is None:
        return
    fact = spec.input
    lhs = "NWC" if data_reason else "NCW"
    rhs = "WIO" if kernel_reason else "OIW"
    numbers = f"('{lhs}', '{rhs}', '{lhs}')"
    if data_reason and fact is not None and fact.dim(1) is not None and fact.dim(1) == fact.dim(2):
        outcome = "with C == L it silently returns a wrong shape"
    elif data_reason:
        outcome = ("it raises 'lhs feature dimension size divided by feature_group_count must "
                   "equal the rhs input feature dimension size'")
    else:
        outcome = "it reads the kernel's K as out-channels and O as taps: wrong shape or error"
    reasons = " and ".join(r for r in (data_reason, kernel_reason) if r)
    api = short_api(spec)
    if spec.api == "jax.lax.conv_general_dilated":
        description = f"pass dimension_numbers={numbers}"
        edits: Tuple[Edit, ...] = ()
        if site.args_end is not None:
            line, column = site.args_end
            edits = (Edit(line, column + 1, line, column + 1,
                          f", dimension_numbers={numbers}"),)
        fix = Fix(description, edits)
    else:
        fix = Fix(f"use lax.conv_general_dilated(..., dimension_numbers={numbers}); {api} is "
                  f"always NCW/OIW")
    means = ("without dimension_numbers means" if spec.api == "jax.lax.conv_general_dilated"
             else "always means")
    yield Hit(site, f"{api} {means} NCW/OIW (torch layout) but {reasons}: {outcome}. "
                    f"Fix: {fix.description}", (), fix)


@site_rule("CNV304", "global-data-format", WARNING,
           "set_image_data_format('channels_first') silently changes Keras convs without "
           "data_format")
def global_data_format(site: Site) -> Iterator[Hit]:
    spec = site.spec
    where = spec.data_format_from
    if spec.framework != "keras" or where is None or spec.data_layout != NCL:
        return
    fact = spec.input
    if fact is not None and fact.axes == NCL:
        explicit = "channels_first"  # torch-layout data: keep the meaning, state it
    else:
        explicit = "channels_last"
    description = f"pass data_format='{explicit}' explicitly"
    edits: Tuple[Edit, ...] = ()
    if site.args_end is not None:
        line, column = site.args_end
        edits = (Edit(line, column + 1, line, column + 1, f", data_format='{explicit}'"),)
    consequence = "reads (N, C, L)"
    if fact is not None and fact.axes != NCL and fact.rank == 3:
        consequence = "reads this (N, L, C) input's length axis as channels"
    message = (f"{short_api(spec)} has no data_format, so set_image_data_format("
               f"'channels_first') at line {where.line} makes it channels-first: it "
               f"{consequence} (catalog L06: kernel (3, 16, 5), output (2, 5, 6) instead of "
               f"(2, 14, 5), no error). Fix: {description}")
    related = (related_site(replace(site, span=where), "set_image_data_format('channels_first')"),)
    yield Hit(site, message, related, Fix(description, edits))


# What a rank-2 input does to each API family (catalog A07; tf.nn.convolution measured too).
def _unbatched_outcome(spec: ConvSpec) -> Optional[str]:
    if spec.api in ("tensorflow.nn.conv1d", "tensorflow.nn.convolution"):
        return ("TF aborts the whole process (SIGABRT: 'Check failed: index >= 0 && index < "
                "num_total_dims'); try/except cannot catch it")
    if spec.framework == "keras" and spec.form == "layer":
        return "Keras raises 'expected min_ndim=3, found ndim=2'"
    if spec.framework == "keras":
        return "keras.ops raises 'Input rank not supported: 2'"
    if spec.framework == "jax" and spec.weight is not None and spec.weight.rank == 3:
        return "lax raises 'convolution requires lhs and rhs ndim to be equal, got 2 and 3'"
    return None  # torch and flax accept an unbatched (C, L) / (L, C) input


@site_rule("CNV305", "unbatched-input", ERROR,
           "a 2-D (unbatched) input to an API that needs a batch axis; tf.nn.conv1d aborts")
def unbatched_input(site: Site) -> Iterator[Hit]:
    spec = site.spec
    fact = spec.input
    if fact is None or fact.rank != 2:
        return
    outcome = _unbatched_outcome(spec)
    if outcome is None:
        return
    description = ("add the batch axis (x[None], or xn[:1] instead of xn[0]) and take [0] of "
                   "the output")
    fix = Fix(description, _append(site, "[None]"))
    yield Hit(_reported(site), f"2-D (unbatched) input to {short_api(spec)}: {outcome}. "
                               f"Fix: {description}", (), fix)
