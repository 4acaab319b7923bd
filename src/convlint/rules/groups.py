"""Groups and depthwise rules: CNV101 groups-dropped, CNV102 groups-shape-mismatch,
CNV103 tf-implicit-groups (catalog G01, G02, G04, G06)."""

from __future__ import annotations

from typing import Iterator, Optional

from ..findings import Edit, Fix
from ..layouts import input_data_layout
from ..pairing import Pair
from ..spec import CONV, NCL, ConvSpec, Site, Span
from .registry import ERROR, INFO, Hit, pair_rule, related_site, site_rule


def short_api(spec: ConvSpec) -> str:
    prefixes = {"torch.nn.functional.": "F.", "tensorflow.": "tf.", "keras.layers.": "keras.",
                "jax.lax.": "lax.", "flax.linen.": "linen.", "flax.nnx.": "nnx.",
                "torch.nn.": "nn."}
    for prefix, short in prefixes.items():
        if spec.api.startswith(prefix):
            return short + spec.api[len(prefix):]
    return spec.api


def source_groups(spec: ConvSpec) -> Optional[int]:
    """Groups of a source conv: the argument, or C / weight in-dim when both are known."""
    if spec.groups is not None:
        return spec.groups
    if spec.weight is not None and spec.in_channels and spec.kernel_layout == "OIK":
        per_group = spec.weight.dim(1)
        if per_group and spec.in_channels % per_group == 0:
            return spec.in_channels // per_group
    return None


def same_layer(source: ConvSpec, port: ConvSpec) -> bool:
    """Sizes that both sides state must agree, or the pair is not one layer."""
    for a, b in ((source.kernel_size, port.kernel_size), (source.out_channels, port.out_channels),
                 (source.in_channels, port.in_channels)):
        if a is not None and b is not None and a != b:
            return False
    return True


def _dense_reason(source: ConvSpec, port: ConvSpec, groups: int) -> Optional[str]:
    """Why the port computes a dense conv, or None if it is grouped or we cannot tell."""
    if port.kind != CONV:
        return None  # depthwise/separable layers group by construction
    if port.framework == "tensorflow":
        if port.weight is None or "setitem" in port.weight.views:
            return None  # hand-built values (e.g. block-diagonal): not a dense port per se
        filter_in = port.weight.dim(1)
        channels = port.in_channels if port.in_channels is not None else source.in_channels
        if filter_in is not None and channels is not None and filter_in == channels:
            return f"filter in-dim {filter_in} = input channels {channels}, so TF runs groups=1"
        return None
    if port.groups == 1:
        argument = {"keras": "groups", "jax": "feature_group_count",
                    "flax": "feature_group_count"}.get(port.framework, "groups")
        return f"no {argument}, so it runs groups=1"
    return None


def _fix_for(port: Site, source: ConvSpec, groups: int) -> Optional[Fix]:
    spec = port.spec
    if spec.framework == "tensorflow":
        per_group = source.in_channels // groups if source.in_channels else None
        spans = spec.weight.dim_spans if spec.weight is not None else None
        description = (f"give the filter in-dim C/groups = {per_group if per_group else 'C/g'} "
                       f"(torch weight.permute(2, 1, 0)); TF infers groups={groups} from it")
        if per_group is None or spans is None or len(spans) != 3 or spans[1] is None:
            return Fix(description)
        span: Span = spans[1]
        return Fix(description, (Edit(span.line, span.column + 1, span.end_line,
                                      span.end_column + 1, str(per_group)),))
    argument = "groups" if spec.framework in ("keras", "torch") else "feature_group_count"
    description = f"pass {argument}={groups}"
    if port.args_end is None:
        return Fix(description)
    line, column = port.args_end
    return Fix(description, (Edit(line, column + 1, line, column + 1, f", {argument}={groups}"),))


@pair_rule("CNV101", "groups-dropped", ERROR,
           "grouped or depthwise source conv ported to a dense conv")
def groups_dropped(pair: Pair) -> Iterator[Hit]:
    source, port = pair.source.spec, pair.port.spec
    groups = source_groups(source)
    if groups is None or groups <= 1 or not same_layer(source, port):
        return
    reason = _dense_reason(source, port, groups)
    if reason is None:
        return
    fix = _fix_for(pair.port, source, groups)
    channels = source.in_channels if source.in_channels is not None else "all"
    message = (f"groups dropped: {short_api(source)} at {pair.source.label} is grouped "
               f"(groups={groups}) but this {short_api(port)} is dense ({reason}); each output "
               f"now sums over {channels} input channels. Fix: {fix.description if fix else ''}")
    yield Hit(pair.port, message,
              (related_site(pair.source, f"source: {short_api(source)}, groups={groups}"),),
              fix)


def _input_channels(spec: ConvSpec) -> Optional[int]:
    if spec.input is None or spec.input.rank != 3 or spec.data_layout is None:
        return None
    if input_data_layout(spec)[0] not in (None, spec.data_layout):
        return None  # the wrong data layout: CNV301 says so, its channels are not these
    return spec.input.dim(1 if spec.data_layout == NCL else 2)


def _weight_in_dim(spec: ConvSpec) -> Optional[int]:
    if spec.weight is None or spec.weight.rank != 3 or spec.kernel_layout not in ("OIK", "KIO"):
        return None
    return spec.weight.dim(1)


@site_rule("CNV102", "groups-shape-mismatch", ERROR,
           "weight in-dim x groups != input channels, or channels not divisible by groups")
def groups_shape_mismatch(site: Site) -> Iterator[Hit]:
    spec = site.spec
    if spec.kind != CONV:
        return
    channels = _input_channels(spec)
    per_group = _weight_in_dim(spec)
    if spec.framework == "tensorflow":
        if channels and per_group and channels % per_group:
            yield Hit(site, f"input channels {channels} are not divisible by the filter in-dim "
                            f"{per_group}: TF raises 'input depth must be evenly divisible by "
                            f"filter depth'. Fix: filter in-dim must be C/groups")
        elif channels and per_group and spec.out_channels:
            groups = channels // per_group
            if spec.out_channels % groups:
                yield Hit(site, f"filter out-dim {spec.out_channels} is not divisible by the "
                                f"inferred groups {groups}: TF raises 'output depth must be "
                                f"evenly divisible by number of groups'")
        return
    groups = spec.groups
    if not groups:
        return
    word = {"torch": "groups", "keras": "groups"}.get(spec.framework, "feature_group_count")
    for label, count in (("in_channels", spec.in_channels if spec.form == "layer" else None),
                         ("out_channels", spec.out_channels), ("input channels", channels)):
        if count and count % groups:
            yield Hit(site, f"{label} {count} is not divisible by {word}={groups}: this "
                            f"crashes at {'construction' if spec.form == 'layer' else 'call'} "
                            f"time. Fix: choose {word} dividing both channel counts")
            return
    if spec.form == "functional" and channels and per_group and per_group * groups != channels:
        yield Hit(site, f"weight in-dim {per_group} x {word}={groups} = {per_group * groups} "
                        f"!= input channels {channels}: the call raises. Fix: "
                        f"{word}={channels // per_group if channels % per_group == 0 else '?'}"
                        f" or a weight of in-dim {channels // groups}")


@site_rule("CNV103", "tf-implicit-groups", INFO,
           "tf.nn conv filter in-dim is a proper divisor of the input channels", default=False)
def tf_implicit_groups(site: Site) -> Iterator[Hit]:
    spec = site.spec
    if spec.framework != "tensorflow" or spec.kind != CONV:
        return
    channels, per_group = _input_channels(spec), _weight_in_dim(spec)
    if channels and per_group and per_group < channels and channels % per_group == 0:
        groups = channels // per_group
        yield Hit(site, f"TF infers a grouped conv (groups={groups}) from the filter in-dim "
                        f"{per_group} < input channels {channels}; eager TF 2.21 runs it, but "
                        f"tf.function + bias_add with TF_ENABLE_ONEDNN_OPTS=0 and older TF "
                        f"releases reject it. Portable: keras Conv1D(groups={groups}) or a "
                        f"block-diagonal filter")
