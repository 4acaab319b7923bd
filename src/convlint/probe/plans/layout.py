"""Probe planners for the data-layout family (CNV301-305).

Each probe runs a torch conv on random (N, C, L) data as the source, the port as the
finding describes it (the channels-last op fed the channels-first array unchanged, or
reshaped; lax with its default NCW/OIW; a Keras layer flipped to channels_first; a 2-D
input) and the fix (the same op fed ``permute(0, 2, 1)`` data, or given explicit
dimension_numbers / data_format / a batch axis). The user's sizes are used where known:
C == L is where CNV301 is silent, L % C == 0 where TF runs a grouped conv.
Stride, dilation and padding are 1, 1 and VALID on both sides: the probe isolates layout.
"""

from __future__ import annotations

from typing import Optional, Tuple

from ...infer import SCRAMBLED_NCL, SCRAMBLED_NLC
from ...spec import NCL, NLC, ConvSpec, Site, TensorFact
from ..plan import TO_NLC, TORCH_TO_KIO, length, planner, port_call, size
from ..spec import ConvCall, ProbeSpec, Side

_BATCH = 2


def _torch(c: int, o: int, k: int) -> ConvCall:
    return ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, padding=(0, 0))


def _channels_last(c: int, o: int, k: int) -> ConvCall:
    """The TF op as the source of a port into torch (the reverse direction)."""
    return ConvCall("tensorflow", "tensorflow.nn.conv1d", c, o, k, padding="VALID",
                    data_layout="NLC", kernel_layout="KIO")


def _sizes(spec: ConvSpec, channels: Optional[int],
           steps: Optional[int]) -> Tuple[int, int, int, int]:
    """(C, O, K, L): the user's where known, else pairwise distinct (catalog 4.3)."""
    c = size(channels, 3)
    o = size(spec.out_channels, 5 if c != 5 else 6)
    k = size(spec.kernel_size, 4)
    if k > 16:
        k = 4
    default_length = length(c, o, k, 1)
    ell = size(steps, default_length)
    if ell < k:
        ell = default_length
    return c, o, k, ell


def _port(spec: ConvSpec, c: int, o: int, k: int) -> Optional[ConvCall]:
    framework = spec.framework
    if framework == "jax":  # lax with NWC dimension numbers
        return port_call("jax", c, o, k, 1, 1, 1)
    return port_call(framework, c, o, k, 1, 1, 1)


def _nlc_op_probe(rule: str, spec: ConvSpec, fact: TensorFact, c_axis: int,
                  port_ops: Tuple, c_hint: Optional[int] = None) -> Optional[ProbeSpec]:
    """A torch source; the channels-last port fed ``port_ops`` of the (N, C, L) data."""
    channels = fact.dim(c_axis) if c_hint is None else c_hint
    c, o, k, ell = _sizes(spec, channels, fact.dim(3 - c_axis))
    call = _port(spec, c, o, k)
    if call is None:
        return None
    ops = tuple(_resolve(op, c, ell) for op in port_ops)
    port = Side(call, kernel_ops=TORCH_TO_KIO, input_ops=ops)
    fix = Side(call, kernel_ops=TORCH_TO_KIO, input_ops=TO_NLC)
    return ProbeSpec(rule, Side(_torch(c, o, k)), port, fix, lengths=(ell,), batch=_BATCH,
                     notes=("stride 1, dilation 1, VALID on both sides: the probe isolates "
                            "the data layout",))


def _torch_op_probe(rule: str, spec: ConvSpec, fact: TensorFact, c_axis: int,
                    port_ops: Tuple) -> Optional[ProbeSpec]:
    """A channels-last TF source; the torch port fed ``port_ops`` of the (N, L, C) data."""
    c, o, k, ell = _sizes(spec, fact.dim(c_axis), fact.dim(3 - c_axis))
    ops = tuple(_resolve(op, c, ell) for op in port_ops)
    port = Side(_torch(c, o, k), kernel_ops=TORCH_TO_KIO, input_ops=ops)
    fix = Side(_torch(c, o, k), kernel_ops=TORCH_TO_KIO, input_ops=TO_NLC)
    return ProbeSpec(rule, Side(_channels_last(c, o, k)), port, fix, lengths=(ell,),
                     batch=_BATCH)


def _resolve(op, c: int, ell: int):
    """Reshape targets are written symbolically: ("reshape", "NLC") -> (N, L, C)."""
    if op[0] == "reshape" and isinstance(op[1], str):
        sizes = {"N": _BATCH, "C": c, "L": ell}
        return ("reshape", tuple(sizes[a] for a in op[1]))
    return op


@planner("CNV301")
def plan_channels_first_into_channels_last(site: Site) -> Optional[ProbeSpec]:
    if not isinstance(site, Site) or site.spec.input is None:
        return None
    spec, fact = site.spec, site.spec.input
    if spec.data_layout == NLC:
        return _nlc_op_probe("CNV301", spec, fact, 1, ())
    if spec.framework == "torch":
        return _torch_op_probe("CNV301", spec, fact, 2, ())
    return None


@planner("CNV302")
def plan_reshape_not_transpose(site: Site) -> Optional[ProbeSpec]:
    if not isinstance(site, Site) or site.spec.input is None:
        return None
    spec, fact = site.spec, site.spec.input
    if fact.axes == SCRAMBLED_NCL and spec.data_layout == NLC:
        # the (N, L, C)-shaped reshape of (N, C, L) data: C is its last dim now
        return _nlc_op_probe("CNV302", spec, fact, 2, (("reshape", "NLC"),))
    if fact.axes == SCRAMBLED_NLC and spec.framework == "torch":
        return _torch_op_probe("CNV302", spec, fact, 1, (("reshape", "NCL"),))
    return None


def _lax_kernel_sizes(weight: Optional[TensorFact]) -> Tuple[Optional[int], Optional[int]]:
    """(O, K) of the kernel as the user laid it out."""
    if weight is None or weight.rank != 3:
        return None, None
    if weight.axes == "KIO":
        return weight.dim(2), weight.dim(0)
    return weight.dim(0), weight.dim(2)


@planner("CNV303")
def plan_lax_default_layout(site: Site) -> Optional[ProbeSpec]:
    if not isinstance(site, Site) or site.spec.input is None:
        return None
    from ...rules.layout import _lax_evidence  # the rule's own reading of the evidence

    spec, fact = site.spec, site.spec.input
    data_nlc, kernel_kio = (reason is not None for reason in _lax_evidence(spec, site))
    if not (data_nlc or kernel_kio):
        return None
    o, k = _lax_kernel_sizes(spec.weight)
    c_axis = 2 if data_nlc else 1
    c = size(fact.dim(c_axis), 3)
    o = size(o, 5 if c != 5 else 6)
    k = size(k, 4) if size(k, 4) <= 16 else 4
    ell = size(fact.dim(3 - c_axis), length(c, o, k, 1))
    api = "jax.lax.conv_general_dilated"
    input_ops = TO_NLC if data_nlc else ()
    kernel_ops = TORCH_TO_KIO if kernel_kio else ()
    # As written: lax reads NCW/OIW whatever it is given, so the output is NCW-shaped.
    port = Side(ConvCall("jax", api, c, o, k, padding="VALID", data_layout=NCL,
                         kernel_layout="OIK"), kernel_ops=kernel_ops, input_ops=input_ops)
    lhs = "NWC" if data_nlc else "NCW"
    numbers = (lhs, "WIO" if kernel_kio else "OIW", lhs)
    fix = Side(ConvCall("jax", api, c, o, k, padding="VALID", data_layout=NLC if data_nlc else NCL,
                        kernel_layout="KIO" if kernel_kio else "OIK", dimension_numbers=numbers),
               kernel_ops=kernel_ops, input_ops=input_ops)
    return ProbeSpec("CNV303", Side(_torch(c, o, k)), port, fix, lengths=(ell,), batch=_BATCH)


@planner("CNV304")
def plan_global_data_format(site: Site) -> Optional[ProbeSpec]:
    if not isinstance(site, Site) or site.spec.kind != "conv":
        return None
    spec, fact = site.spec, site.spec.input
    if fact is not None and fact.axes == NCL:
        return None  # torch-layout data into a channels_first layer: that is consistent
    c = size(fact.dim(2) if fact is not None and fact.rank == 3 else None, 8)
    o = size(spec.out_channels, 5)
    k = size(spec.kernel_size, 3)
    if k > c:
        return None
    ell = size(fact.dim(1) if fact is not None and fact.rank == 3 else None, 2 * c)
    if ell == c:
        ell = 2 * c
    # The layer builds its kernel for the (N, L, C) input's dim 1: (K, L, O) (catalog L06).
    repeats = -(-ell // c)
    wide = TORCH_TO_KIO + (("tile", (1, repeats, 1)), ("slice", (1, 0, ell, 1)))
    port = Side(ConvCall("keras", "keras.layers.Conv1D", ell, o, k, padding="valid",
                         data_layout=NCL, kernel_layout="KIO"),
                kernel_ops=wide, input_ops=TO_NLC)
    fix = Side(ConvCall("keras", "keras.layers.Conv1D", c, o, k, padding="valid",
                        data_layout=NLC, kernel_layout="KIO"),
               kernel_ops=TORCH_TO_KIO, input_ops=TO_NLC)
    return ProbeSpec("CNV304", Side(_torch(c, o, k)), port, fix, lengths=(ell,), batch=_BATCH,
                     notes=("port: Conv1D made channels_first by the global image_data_format",))


@planner("CNV305")
def plan_unbatched_input(site: Site) -> Optional[ProbeSpec]:
    if not isinstance(site, Site) or site.spec.input is None or site.spec.input.rank != 2:
        return None
    spec, fact = site.spec, site.spec.input
    channels = fact.dim(1)
    if spec.weight is not None and spec.weight.rank == 3 and spec.kernel_layout == "KIO":
        channels = spec.weight.dim(1) or channels
    c, o, k, ell = _sizes(spec, channels, fact.dim(0))
    call = _port(spec, c, o, k)
    if call is None:
        return None
    if spec.api in ("tensorflow.nn.conv1d", "tensorflow.nn.convolution"):
        call = ConvCall("tensorflow", spec.api, c, o, k, padding="VALID", data_layout=NLC,
                        kernel_layout="KIO")
    # Batch 1: the port gets that one (L, C) sample, the fix keeps its batch axis.
    port = Side(call, kernel_ops=TORCH_TO_KIO, input_ops=TO_NLC + (("reshape", (ell, c)),))
    fix = Side(call, kernel_ops=TORCH_TO_KIO, input_ops=TO_NLC)
    return ProbeSpec("CNV305", Side(_torch(c, o, k)), port, fix, lengths=(ell,), batch=1,
                     notes=("the port runs in a worker process: TF may abort it (A07)",))
