"""Weight-transfer rules: CNV201 kernel-not-converted, CNV202 kernel-reshaped,
CNV203 kernel-wrong-permutation, CNV204 transposed-kernel-layout, CNV205
depthwise-kernel-order (catalog W01, T01, T03, T04, D01) and CNV104 group-block-order (G05).

The CNV2xx rules judge a *weight flow* pair: a torch conv's weight reaches the port's
kernel slot (a kernel argument, ``set_weights``, ``kernel.assign``, a flax params dict)
through a chain of view operations. The chain is replayed on the indices of the source
weight, with the user's sizes where known, and compared with the one correct conversion;
this is what makes ``transpose(0, 2)``, numpy ``.T`` and a reshape that only moves a
size-1 axis (catalog F5) correct, and an m-major depthwise reshape harmless when M == 1.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Iterator, List, Optional, Sequence, Tuple

from ..findings import Edit, Fix
from ..pairing import CHECKPOINT_API, FLOW, Pair, loaded_weight
from ..spec import CONV_TRANSPOSE, DEPTHWISE, SEPARABLE, ConvSpec, Site, TensorFact
from .chainfix import rewrite
from .groups import short_api
from .registry import ERROR, Hit, pair_rule, related_site, site_rule

# One view operation on a tensor, as the probe vocabulary spells it (probe/spec.py):
# ("permute", axes), ("reshape", shape), ("flip", axis).
ViewOp = Tuple[object, ...]

# Replaying a chain materializes the index tensor; beyond this many elements the
# sizes are replaced by small stand-ins (only when the chain has no reshape).
_MAX_ELEMENTS = 50_000
_STAND_INS = (7, 5, 3, 11, 13)


# --- the view chain ----------------------------------------------------------------------

_CALL = re.compile(r"^(\.?[A-Za-z_]+)\((.*)\)$")


def _ints(text: str) -> Optional[Tuple[int, ...]]:
    text = text.replace("(", "").replace(")", "").replace("[", "").replace("]", "")
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        return None


def chain_ops(views: Sequence[str], rank: int) -> Optional[List[ViewOp]]:
    """The recorded view texts of infer.py as probe view ops, or None if one is unknown."""
    ops: List[ViewOp] = []
    for view in views:
        if view in (".T", "transpose()"):
            ops.append(("permute", tuple(reversed(range(rank)))))
            continue
        if view == ".mT":
            if rank < 2:
                return None
            ops.append(("permute", tuple(range(rank - 2)) + (rank - 1, rank - 2)))
            continue
        match = _CALL.match(view)
        if match is None:
            return None
        name, args = match.group(1), _ints(match.group(2))
        if args is None:
            return None
        if name == "permute" or (name == "transpose" and len(args) == rank and len(args) != 2):
            if sorted(a % rank for a in args) != list(range(rank)):
                return None
            ops.append(("permute", tuple(a % rank for a in args)))
        elif name == "transpose" and len(args) == 2:
            perm = list(range(rank))
            a, b = args[0] % rank, args[1] % rank
            perm[a], perm[b] = perm[b], perm[a]
            ops.append(("permute", tuple(perm)))
        elif name == "moveaxis" and len(args) == 2:
            src, dst = args[0] % rank, args[1] % rank
            order = [i for i in range(rank) if i != src]
            order.insert(dst, src)
            ops.append(("permute", tuple(order)))
        elif name == "flip":
            for axis in args or tuple(range(rank)):
                ops.append(("flip", axis % rank))
        elif name in ("reshape", "view"):
            if not args:
                return None
            ops.append(("reshape", args))
            rank = len(args)
        elif name == "unsqueeze" and len(args) == 1:
            ops.append(("unsqueeze", args[0]))
            rank += 1
        else:
            return None
    return ops


@dataclass(frozen=True)
class _Indices:
    """A tensor of source element indices (row-major), to replay view ops exactly."""

    shape: Tuple[int, ...]
    data: Tuple[int, ...]

    @staticmethod
    def of(shape: Sequence[int]) -> "_Indices":
        return _Indices(tuple(shape), tuple(range(math.prod(shape))))

    def _strides(self) -> List[int]:
        strides, step = [], 1
        for dim in reversed(self.shape):
            strides.append(step)
            step *= dim
        return list(reversed(strides))

    def _gather(self, shape: Sequence[int], index_of) -> "_Indices":
        out = []
        for flat in range(math.prod(shape)):
            position, rest = [], flat
            for dim in reversed(shape):
                position.append(rest % dim)
                rest //= dim
            out.append(self.data[index_of(tuple(reversed(position)))])
        return _Indices(tuple(shape), tuple(out))

    def apply(self, op: ViewOp) -> Optional["_Indices"]:
        name = op[0]
        strides = self._strides()
        if name == "permute":
            axes = op[1]
            if len(axes) != len(self.shape):  # type: ignore[arg-type]
                return None
            shape = [self.shape[a] for a in axes]  # type: ignore[union-attr]
            return self._gather(shape, lambda p: sum(
                p[i] * strides[a] for i, a in enumerate(axes)))  # type: ignore[arg-type]
        if name == "flip":
            axis = op[1]
            if not 0 <= axis < len(self.shape):  # type: ignore[operator]
                return None
            return self._gather(self.shape, lambda p: sum(
                (self.shape[i] - 1 - v if i == axis else v) * strides[i] for i, v in enumerate(p)))
        if name == "reshape":
            dims = list(op[1])  # type: ignore[call-overload]
            total = len(self.data)
            if dims.count(-1) == 1:
                known = math.prod(d for d in dims if d != -1)
                if not known or total % known:
                    return None
                dims[dims.index(-1)] = total // known
            if any(d < 0 for d in dims) or math.prod(dims) != total:
                return None
            return _Indices(tuple(dims), self.data)
        if name == "unsqueeze":
            shape = list(self.shape)
            position = op[1] if op[1] >= 0 else len(shape) + 1 + op[1]  # type: ignore[operator]
            shape.insert(position, 1)
            return _Indices(tuple(shape), self.data)
        return None


def replay(shape: Sequence[int], ops: Sequence[ViewOp]) -> Optional[_Indices]:
    current: Optional[_Indices] = _Indices.of(shape)
    for op in ops:
        current = current.apply(op) if current is not None else None
    return current


def _only_moves_unit_axes(before: Sequence[int], after: Sequence[int]) -> bool:
    return [d for d in before if d != 1] == [d for d in after if d != 1]


# --- what the port expects ---------------------------------------------------------------

@dataclass(frozen=True)
class Expectation:
    """The conversion a sink needs from the source weight, and its shape."""

    ops: Tuple[ViewOp, ...]
    text: str  # the correct chain, as the user would write it on a torch tensor
    depthwise: bool = False


def _perm_text(perm: Sequence[int]) -> str:
    return f".permute({', '.join(str(p) for p in perm)})"


def source_shape(source: ConvSpec) -> Optional[Tuple[Optional[int], ...]]:
    """The torch weight's shape: (O, I/g, K), or (I, O/g, K) for ConvTranspose."""
    g = source.groups if source.groups else None
    i, o, k = source.in_channels, source.out_channels, source.kernel_size
    if source.kernel_layout == "IOK":
        return (i, _div(o, g), k)
    if source.kernel_layout == "OIK":
        return (o, _div(i, g), k)
    return None


def _div(a: Optional[int], b: Optional[int]) -> Optional[int]:
    if a is None or b is None or b <= 0 or a % b:
        return None
    return a // b


def is_depthwise_source(source: ConvSpec) -> bool:
    return (source.kernel_layout == "OIK" and source.groups is not None and source.groups > 1
            and source.groups == source.in_channels)


def expectation(source: ConvSpec, port: ConvSpec, transpose_kernel: Optional[bool] = None
                ) -> Optional[Expectation]:
    """What the port's kernel slot needs, or None when convlint cannot tell."""
    layout = port.kernel_layout
    src = source.kernel_layout
    if src not in ("OIK", "IOK") or layout is None:
        return None
    if layout == "KCM":
        if src != "OIK" or not is_depthwise_source(source):
            return None
        c, o, k = source.in_channels, source.out_channels, source.kernel_size
        m = _div(o, c)
        if c is None or m is None or k is None:
            return None
        return Expectation((("permute", (2, 1, 0)), ("reshape", (k, c, m))),
                           f".permute(2, 1, 0).reshape({k}, {c}, {m})", depthwise=True)
    if len(layout) != 3 or set(layout) != {"O", "I", "K"}:
        return None
    flip = False
    if port.kind == CONV_TRANSPOSE:
        if src != "IOK":
            return None
        if port.framework in ("jax", "flax"):
            swap = port.transpose_kernel if transpose_kernel is None else transpose_kernel
            if swap is None:
                return None
            if swap:  # lax swaps I and O and flips K itself
                layout = layout.translate(str.maketrans("IO", "OI"))
            else:
                flip = True
    elif src != "OIK":
        return None
    perm = tuple(src.index(axis) for axis in layout)
    ops: Tuple[ViewOp, ...] = () if perm == (0, 1, 2) else (("permute", perm),)
    text = "" if not ops else _perm_text(perm)
    if flip:
        ops += (("flip", layout.index("K")),)
        text += f".flip({layout.index('K')})"
    return Expectation(ops, text or "no reorder")


# --- the verdict -------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    code: str
    chain: str  # the user's chain, as text
    expected: Expectation
    result_shape: Optional[Tuple[int, ...]]
    expected_shape: Optional[Tuple[int, ...]]
    sizes_known: bool
    ops: Tuple[ViewOp, ...]

    @property
    def silent(self) -> Optional[bool]:
        """True when the wrong kernel has the expected shape (nothing crashes)."""
        if not self.sizes_known or self.result_shape is None:
            return None
        return self.result_shape == self.expected_shape


def flow_weight(pair: Pair) -> Optional[TensorFact]:
    if pair.evidence != FLOW:
        return None
    weight = pair.port.spec.weight
    source = pair.source
    if weight is None:
        return None
    if from_checkpoint(pair):
        return weight if loaded_weight(pair.port) else None
    if not weight.origin.startswith(f"{source.path}:{source.span.line}.weight"):
        return None
    return weight


def from_checkpoint(pair: Pair) -> bool:
    return pair.source.spec.api == CHECKPOINT_API


def judge(source: ConvSpec, port: ConvSpec, weight: TensorFact) -> Optional[Verdict]:
    """The rule code a flowed weight breaks, or None when it is correct or unknowable."""
    expected = expectation(source, port)
    if expected is None:
        return None
    ops = chain_ops(weight.views, 3)
    if ops is None:
        return None
    shape = source_shape(source)
    if shape is None:
        return None
    has_reshape = any(op[0] in ("reshape", "unsqueeze") for op in ops) or expected.depthwise
    known = all(d is not None for d in shape)
    if known and math.prod(shape) > _MAX_ELEMENTS:  # type: ignore[arg-type]
        known = False
    if not known:
        if has_reshape:
            return _structural(ops, expected, shape, weight)
        concrete = _stand_ins(shape)
    else:
        concrete = tuple(shape)  # type: ignore[arg-type]
    got = replay(concrete, ops)
    want = replay(concrete, expected.ops)
    if want is None:
        return None
    if got is not None and got == want:
        return None
    if got is not None and _lax_default_layout_instead(source, port, concrete, got):
        return None
    code = _classify(ops, expected, port, concrete)
    if known:
        return Verdict(code, _chain_text(weight.views), expected,
                       got.shape if got is not None else None, want.shape, True, tuple(ops))
    # Too large to replay at the user's sizes, or partly unknown: shapes alone.
    real = _shape_after(shape, ops), _shape_after(shape, expected.ops)
    sizes_known = None not in real
    return Verdict(code, _chain_text(weight.views), expected, real[0], real[1], sizes_known,
                   tuple(ops))


_LAX_DEFAULT_NCW = ("jax.lax.conv_general_dilated", "jax.lax.conv_with_general_padding")


def _lax_default_layout_instead(source: ConvSpec, port: ConvSpec, shape: Sequence[int],
                                got: "_Indices") -> bool:
    """A correct (K, I, O) kernel given to lax without dimension_numbers: the missing
    dimension_numbers is the one mistake, and CNV303 reports it with its fix."""
    if port.api not in _LAX_DEFAULT_NCW or port.kernel_layout != "OIK":
        return False
    expected = expectation(source, replace(port, kernel_layout="KIO"))
    want = replay(shape, expected.ops) if expected is not None else None
    return want is not None and got == want


def _shape_after(shape: Sequence[Optional[int]], ops: Sequence[ViewOp]
                 ) -> Optional[Tuple[int, ...]]:
    """The result shape of ``ops`` on ``shape`` when every size is known (permutes only)."""
    if any(d is None for d in shape) or any(op[0] != "permute" and op[0] != "flip" for op in ops):
        return None
    current = tuple(shape)
    for op in ops:
        if op[0] == "permute":
            current = tuple(current[a] for a in op[1])  # type: ignore[union-attr]
    return current  # type: ignore[return-value]


def _stand_ins(shape: Sequence[Optional[int]]) -> Tuple[int, ...]:
    used = {d for d in shape if d is not None}
    spare = iter(s for s in _STAND_INS if s not in used)
    return tuple(d if d is not None and d <= 64 else next(spare) for d in shape)


def _classify(ops: Sequence[ViewOp], expected: Expectation, port: ConvSpec,
              shape: Sequence[int]) -> str:
    if expected.depthwise:
        return "CNV205"
    if _scrambling_reshape(ops, shape):
        return "CNV202"
    if port.kind == CONV_TRANSPOSE:
        return "CNV204"
    if not any(op[0] in ("permute", "flip") for op in ops):
        return "CNV201"
    return "CNV203"


def _scrambling_reshape(ops: Sequence[ViewOp], shape: Sequence[int]) -> bool:
    current: Optional[_Indices] = _Indices.of(shape)
    for op in ops:
        if current is None:
            return any(o[0] == "reshape" for o in ops)
        after = current.apply(op)
        if op[0] == "reshape" and after is not None \
                and not _only_moves_unit_axes(current.shape, after.shape):
            return True
        current = after
    return False


def _structural(ops: Sequence[ViewOp], expected: Expectation, shape: Sequence[Optional[int]],
                weight: TensorFact) -> Optional[Verdict]:
    """No replay (unknown or large sizes) and a reshape: only a reshape straight from the
    source is certain, unless the known sizes show it just moves a size-1 axis."""
    if not ops or ops[0][0] != "reshape":
        return None
    dims = ops[0][1]
    if None not in shape and -1 not in dims and _only_moves_unit_axes(shape, dims):  # type: ignore
        return None
    if None not in shape and tuple(dims) == tuple(shape):  # type: ignore[arg-type]
        return None
    code = "CNV205" if expected.depthwise else "CNV202"
    return Verdict(code, _chain_text(weight.views), expected, None, None, False, tuple(ops))


def _chain_text(views: Sequence[str]) -> str:
    if not views:
        return "no reorder"
    return "".join(v if v.startswith(".") else f".{v}" for v in views)


# --- messages and fixes ------------------------------------------------------------------

def _shape_text(shape: Optional[Tuple[int, ...]]) -> str:
    return "?" if shape is None else "(" + ", ".join(str(d) for d in shape) + ")"


def _consequence(verdict: Verdict, source: ConvSpec, port: ConvSpec) -> str:
    silent = verdict.silent
    if silent is None:
        return ""
    if silent:
        return (f"; SILENT here: the result has the expected shape "
                f"{_shape_text(verdict.expected_shape)}{_coincidence(verdict, source)}, "
                f"so it runs with wrong values")
    return (f"; the result {_shape_text(verdict.result_shape)} is not the expected "
            f"{_shape_text(verdict.expected_shape)}, so it crashes or changes the output shape")


def _coincidence(verdict: Verdict, source: ConvSpec) -> str:
    i, o, k = source.in_channels, source.out_channels, source.kernel_size
    g = source.groups or 1
    if i is not None and o is not None and k is not None and i // g == o == k:
        return f" because I == O == K == {k}"
    if verdict.code == "CNV201" and o is not None and o == k:
        return f" because O == K == {o}"
    if verdict.code in ("CNV202", "CNV203", "CNV204") and i is not None and i == o:
        return f" because I == O == {i}"
    return ""


def _transpose_kernel_fix(pair: Pair, verdict: Verdict) -> Optional[Fix]:
    """lax/flax conv_transpose: adding transpose_kernel=True makes this very chain right."""
    port = pair.port
    spec = port.spec
    if spec.kind != CONV_TRANSPOSE or spec.framework not in ("jax", "flax") \
            or spec.transpose_kernel is not False:
        return None
    swapped = expectation(pair.source.spec, spec, transpose_kernel=True)
    shape = source_shape(pair.source.spec)
    if swapped is None or shape is None:
        return None
    concrete = _stand_ins(shape)
    if replay(concrete, verdict.ops) != replay(concrete, swapped.ops):
        return None
    description = "pass transpose_kernel=True (lax then flips K and swaps I/O itself)"
    if port.args_end is None:
        return Fix(description)
    line, column = port.args_end
    return Fix(description, (Edit(line, column + 1, line, column + 1, ", transpose_kernel=True"),))


def _fix(pair: Pair, verdict: Verdict) -> Fix:
    flag = _transpose_kernel_fix(pair, verdict)
    if flag is not None:
        return flag
    expected = verdict.expected
    weight = pair.port.spec.weight
    edit = rewrite(weight, expected.ops) if weight is not None else None
    edits = (edit,) if edit is not None else ()
    if expected.text == "no reorder":
        return Fix("pass the torch weight without any reorder", edits)
    description = f"convert with `w{expected.text}`"
    if expected.text == ".permute(2, 1, 0)":
        description += " (numpy: `np.transpose(w, (2, 1, 0))` or `w.T`)"
    port = pair.port.spec
    if port.kind == CONV_TRANSPOSE and port.framework in ("jax", "flax") \
            and port.transpose_kernel is False:
        swapped = expectation(pair.source.spec, port, transpose_kernel=True)
        if swapped is not None:
            description += f", or transpose_kernel=True with `w{swapped.text}`"
    return Fix(description, edits)


_WHAT = {
    "CNV201": "torch weight reaches the kernel slot with no axis reorder",
    "CNV202": "kernel converted with a reshape/view, which scrambles the values",
    "CNV203": "kernel converted with the wrong permutation",
    "CNV204": "transposed-conv kernel in the wrong layout",
    "CNV205": "depthwise kernel in the wrong order",
}
_LAYOUT_WORDS = {
    "OIK": "(O, I/g, K)", "IOK": "(I, O/g, K)", "KIO": "(K, I/g, O)", "KOI": "(K, O, I)",
    "KCM": "(K, C, M)",
}


def _message(pair: Pair, verdict: Verdict, fix: Fix) -> str:
    source, port = pair.source.spec, pair.port.spec
    src_layout = "(C*M, 1, K)" if verdict.expected.depthwise else _LAYOUT_WORDS.get(
        source.kernel_layout or "", source.kernel_layout)
    dst_layout = _LAYOUT_WORDS.get(port.kernel_layout or "", port.kernel_layout)
    needs = verdict.expected.text
    if port.kind == CONV_TRANSPOSE and port.framework in ("jax", "flax"):
        dst_layout = f"{dst_layout}, transpose_kernel={port.transpose_kernel}"
    where = (f"torch weight {src_layout} from {port.weight.origin if port.weight else '?'}"
             if from_checkpoint(pair) else
             f"{short_api(source)} weight {src_layout} at {pair.source.label}")
    return (f"{_WHAT[verdict.code]}: {where} -> {short_api(port)} kernel {dst_layout} via "
            f"`w{verdict.chain if verdict.chain != 'no reorder' else ''}`"
            f"{' (no reorder)' if verdict.chain == 'no reorder' else ''}; needs "
            f"`w{needs if needs != 'no reorder' else ''}`"
            f"{_consequence(verdict, source, port)}. Fix: {fix.description}")


def _weight_rule(code: str):
    def check(pair: Pair) -> Iterator[Hit]:
        weight = flow_weight(pair)
        if weight is None:
            return
        verdict = judge(pair.source.spec, pair.port.spec, weight)
        if verdict is None or verdict.code != code:
            return
        fix = _fix(pair, verdict)
        related = () if from_checkpoint(pair) else (related_site(
            pair.source, f"source: {short_api(pair.source.spec)}, weight "
                         f"{_LAYOUT_WORDS.get(pair.source.spec.kernel_layout or '', '?')}"),)
        yield Hit(pair.port, _message(pair, verdict, fix), related, fix)

    check.__name__ = f"check_{code}"
    return check


pair_rule("CNV201", "kernel-not-converted", ERROR,
          "a torch conv weight reaches a (K, I/g, O) kernel slot (or back) with no axis reorder"
          )(_weight_rule("CNV201"))
pair_rule("CNV202", "kernel-reshaped", ERROR,
          "reshape/view used where a permutation is needed: shapes fit, values scrambled"
          )(_weight_rule("CNV202"))
pair_rule("CNV203", "kernel-wrong-permutation", ERROR,
          "a permutation other than (2, 1, 0) (permute(2, 0, 1), .mT, moveaxis, a flip)"
          )(_weight_rule("CNV203"))
pair_rule("CNV204", "transposed-kernel-layout", ERROR,
          "ConvTranspose weight is (I, O/g, K); lax/flax conv_transpose without "
          "transpose_kernel=True or a flip")(_weight_rule("CNV204"))
pair_rule("CNV205", "depthwise-kernel-order", ERROR,
          "depthwise (C*M, 1, K) into Keras DepthwiseConv1D (K, C, M) with the wrong order"
          )(_weight_rule("CNV205"))


# --- CNV104: group blocks interleaved ----------------------------------------------------

_SETITEM = re.compile(r"^setitem\((\d+)::(\d+|\?)\)$")


def interleaved_write(site: Site) -> Optional[Tuple[int, Optional[int]]]:
    """(axis, step) of a strided/modulo element write on a channel axis of the kernel."""
    spec = site.spec
    weight = spec.weight
    layout = spec.kernel_layout
    if weight is None or "setitem" not in weight.views or layout is None or len(layout) != 3:
        return None
    if spec.kind in (DEPTHWISE, SEPARABLE) or spec.framework == "torch":
        return None  # torch is the reference side: its own filters are not ports
    for view in weight.views:
        match = _SETITEM.match(view)
        if match is None:
            continue
        axis = int(match.group(1))
        if axis < len(layout) and layout[axis] in "IO":  # a strided K axis is a dilation
            step = None if match.group(2) == "?" else int(match.group(2))
            if step is None or step > 1:
                return axis, step
    return None


@site_rule("CNV104", "group-block-order", ERROR,
           "a dense filter assembled from group blocks with interleaved (::g) indexing")
def group_block_order(site: Site) -> Iterator[Hit]:
    found = interleaved_write(site)
    if found is None:
        return
    axis, step = found
    layout = site.spec.kernel_layout or "???"
    word = "input" if layout[axis] == "I" else "output"
    g = step if step is not None else "g"
    yield Hit(site, f"group blocks interleaved: the dense filter of this {short_api(site.spec)} "
                    f"is filled with a stride-{g} or `% {g}` index on axis {axis} ({word} "
                    f"channels), which puts channel c in group c % {g}; every framework's "
                    f"group i is the contiguous block [i*C/{g}, (i+1)*C/{g}). Fix: "
                    f"`filt[:, i*C//{g}:(i+1)*C//{g}, i*O//{g}:(i+1)*O//{g}] = "
                    f"kernel[..., i*O//{g}:(i+1)*O//{g}]`",
              fix=Fix(f"fill contiguous blocks: filt[:, i*C//{g}:(i+1)*C//{g}, "
                      f"i*O//{g}:(i+1)*O//{g}] = kernel[..., i*O//{g}:(i+1)*O//{g}]"))
