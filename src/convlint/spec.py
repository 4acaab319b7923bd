"""The framework-neutral description of one 1-D convolution call site.

Every later stage (rules, pairing, probes, reports) reads these objects and never
cares which framework a site came from.

Unknown values: a field is ``None`` when the value is not a compile-time fact of the
linted code. Rules must treat ``None`` as "cannot tell" and stay silent, never guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

# Axis labels used for kernel and data layouts. A layout is a string of labels,
# one per axis: torch forward weight is "OIK", TF/Keras/Flax kernel is "KIO",
# torch transposed weight is "IOK", Keras/TF transposed kernel is "KOI",
# Keras depthwise kernel is "KCM", torch data is "NCL", TF default data is "NLC".
NCL = "NCL"
NLC = "NLC"

FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "flax")

# What a convolution computes, independent of spelling.
CONV = "conv"
CONV_TRANSPOSE = "conv_transpose"
DEPTHWISE = "depthwise"
SEPARABLE = "separable"


@dataclass(frozen=True)
class Span:
    """A source range: lines 1-based, columns 0-based (libcst's convention)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Padding:
    """Padding as a mode or as explicit (left, right) amounts on the length axis.

    ``mode`` is one of "valid", "same", "same_lower", "causal", "circular",
    "explicit", or ``None`` when unknown. For "explicit", ``left``/``right`` hold the
    amounts (``None`` where not constant). For "valid" both are 0.
    """

    mode: Optional[str]
    left: Optional[int] = None
    right: Optional[int] = None

    @staticmethod
    def explicit(left: Optional[int], right: Optional[int]) -> "Padding":
        if left == 0 and right == 0:
            return Padding("valid", 0, 0)
        return Padding("explicit", left, right)

    def describe(self) -> str:
        if self.mode is None:
            return "unknown"
        if self.mode == "explicit":
            return f"({_fmt(self.left)}, {_fmt(self.right)})"
        return self.mode


UNKNOWN_PADDING = Padding(None)


@dataclass(frozen=True)
class PadFact:
    """An explicit pad applied to a tensor (F.pad, tf.pad, np.pad, a pad layer).

    ``axis`` counts from the end (-1 is the last axis) so it holds for any rank.
    ``mode`` uses torch's names: "constant", "reflect", "replicate", "circular", plus
    "symmetric" (TF/numpy only). Amounts are ``None`` when not constant.
    """

    axis: int
    left: Optional[int]
    right: Optional[int]
    mode: str = "constant"


@dataclass(frozen=True)
class Crop:
    """A slice of a conv's output on one axis (counted from the end): ``y[..., start:stop]``."""

    axis: int
    start: Optional[int]
    stop: Optional[int]
    step: Optional[int] = None  # ``y[:, ::2]``: a stride-1 conv subsampled (catalog P05 fix)


def _fmt(v: object) -> str:
    return "?" if v is None else str(v)


@dataclass(frozen=True)
class ChainStep:
    """One step of a method chain after its base: ``.permute(2, 0, 1)``, ``.numpy()``.

    ``text`` is the source appended to the receiver ("" for a function-style view such
    as ``np.moveaxis(x, 0, -1)``, which wraps it); ``view`` says whether the step is
    one of the tensor's recorded views; ``kind`` is what the value is after the step
    ("torch", "numpy" or None), which decides the idiom of a replacement.
    """

    text: str
    view: bool
    kind: Optional[str]


@dataclass(frozen=True)
class ViewChain:
    """The one expression that produced a tensor value, as base + steps (fix edits).

    ``span`` covers the whole expression, so replacing it with ``base`` + rewritten
    steps keeps everything around it. ``prior`` is the chain a plain name was
    assigned from, when the name is the whole expression here.
    """

    span: Span
    base: str
    kind: Optional[str]
    steps: Tuple[ChainStep, ...] = ()
    prior: Optional["ViewChain"] = None

    @property
    def end_kind(self) -> Optional[str]:
        return self.steps[-1].kind if self.steps else self.kind

    @property
    def view_count(self) -> int:
        return sum(1 for s in self.steps if s.view)


@dataclass(frozen=True)
class TensorFact:
    """What is statically known about a tensor expression.

    ``shape`` is ``None`` when even the rank is unknown; individual dims may be
    ``None``. ``axes`` labels each axis ("O", "I", "K", "N", "C", "L", ...) when the
    axis order is known, or is ``None`` after an order-destroying view (reshape).
    ``origin`` names where the values come from ("torch.ones", "site:12:4.weight").
    ``views`` is the chain of view operations applied since the origin, in order,
    as text such as "permute(2, 1, 0)" or "reshape(3, 2, 2)".
    """

    framework: Optional[str]
    shape: Optional[Tuple[Optional[int], ...]]
    axes: Optional[str] = None
    origin: str = ""
    views: Tuple[str, ...] = ()
    # Where each dimension was written, for constructor-made tensors (fix edits).
    dim_spans: Optional[Tuple[Optional[Span], ...]] = None
    # Explicit pads applied since the origin, in order (catalog P03, P07, P10).
    pads: Tuple[PadFact, ...] = ()
    # The expression that produced this value, for fix edits that rewrite its views.
    chain: Optional[ViewChain] = field(default=None, compare=False)

    @property
    def rank(self) -> Optional[int]:
        return None if self.shape is None else len(self.shape)

    def dim(self, index: int) -> Optional[int]:
        if self.shape is None or not -len(self.shape) <= index < len(self.shape):
            return None
        return self.shape[index]


@dataclass(frozen=True)
class ConvSpec:
    """One convolution as the code states it, in framework-neutral terms."""

    framework: str
    api: str  # canonical qualified name, e.g. "torch.nn.functional.conv1d"
    kind: str  # CONV, CONV_TRANSPOSE, DEPTHWISE, SEPARABLE
    form: str  # "functional" or "layer"
    in_channels: Optional[int] = None
    out_channels: Optional[int] = None
    kernel_size: Optional[int] = None
    stride: Optional[int] = None
    dilation: Optional[int] = None
    groups: Optional[int] = None
    groups_explicit: bool = False  # the code names a groups argument itself
    padding: Padding = UNKNOWN_PADDING
    padding_mode: Optional[str] = None
    output_padding: Optional[int] = None
    bias: Optional[bool] = None
    data_layout: Optional[str] = None  # NCL or NLC
    kernel_layout: Optional[str] = None  # e.g. "OIK", "KIO"
    weight: Optional[TensorFact] = None  # functional forms: the kernel argument
    input: Optional[TensorFact] = None  # layers: the tensor they are applied to
    padding_explicit: bool = False  # the code names a padding argument itself
    input_dilation: Optional[int] = None  # lax lhs_dilation / flax input_dilation (A05)
    # lax.conv_transpose without use_consistent_padding, flax ConvTranspose: an explicit
    # [(l, r)] pads the dilated input, i.e. torch padding K'-1-l (catalog T08).
    transpose_pads_dilated_input: bool = False
    output_crop: Optional[Crop] = None  # a slice of the output, e.g. the causal chomp
    # lax/flax conv_transpose: the kernel is flipped and its I/O swapped (catalog T03/T04).
    transpose_kernel: Optional[bool] = None
    depth_multiplier: Optional[int] = None  # Keras depthwise/separable layers
    # Keras layers without data_format whose layout a set_image_data_format call in the
    # file decided (catalog L06): where that call is.
    data_format_from: Optional[Span] = None


@dataclass(frozen=True)
class CallFacts:
    """How a call was spelled, for rules about the spelling itself (CNV501, CNV504)
    and for pairing hints that only the call's context holds.

    ``positional`` names the parameters bound positionally, in order; ``unknown``
    the keywords the API does not accept; ``values`` the constant value of every
    argument that has one, and ``texts`` every argument's source text, both as
    (parameter, value) pairs. ``result_biased`` says whether a functional call's
    result gets a bias added (``+ b``, ``bias_add``): None when its use is not seen.
    ``flipped`` lists parameters whose argument reverses taps (``[::-1]``, ``flip``).
    ``used_in`` holds the scopes that instantiate the site's enclosing class (a user
    class such as convbert's ``SeparableConv1D`` built from two convs).
    ``port_of`` is the target of a ``# convlint: port-of path::name`` marker on the
    call or on an enclosing def/class.
    """

    positional: Tuple[str, ...] = ()
    extra_positional: int = 0
    unknown: Tuple[str, ...] = ()
    values: Tuple[Tuple[str, object], ...] = ()
    texts: Tuple[Tuple[str, str], ...] = ()
    result_biased: Optional[bool] = None
    flipped: Tuple[str, ...] = ()
    used_in: Tuple[Tuple[str, ...], ...] = ()
    port_of: Optional[str] = None
    super_init: bool = False  # the site is ``super().__init__`` of a conv subclass
    star_args: bool = False  # *args or **kwargs may carry any parameter
    # The file multiplies matrices somewhere (`@`, matmul, einsum, dot): a separable
    # port's depthwise bias may be folded into the pointwise bias there (catalog D02).
    file_has_matmul: bool = False

    def value(self, parameter: str, default: object = None) -> object:
        return dict(self.values).get(parameter, default)

    def text(self, parameter: str) -> Optional[str]:
        return dict(self.texts).get(parameter)


@dataclass(frozen=True)
class Site:
    """A convolution call found in a file, with its description."""

    path: str
    span: Span
    spec: ConvSpec
    scope: Tuple[str, ...] = ()  # enclosing class/function names, outermost first
    order: int = 0  # index of the site in its file, in source order
    names: Tuple[str, ...] = field(default=())  # identifiers its arguments mention
    # Where a new keyword argument would go: just after the last argument (line, column
    # 0-based), or None for a call without arguments (insert before the closing paren).
    args_end: Optional[Tuple[int, int]] = None
    # Where each bound argument is written (parameter name, span), for fix edits.
    arg_spans: Tuple[Tuple[str, Span], ...] = ()
    call: CallFacts = field(default=CallFacts(), compare=False)
    # The input argument, when it is an atom (name, attribute, call, subscript) that a
    # method or an index can be appended to (fix edits); for layers, at the first call.
    input_span: Optional[Span] = None
    # Layers: the call that applies the layer to spec.input (e.g. ``conv(x)``).
    call_span: Optional[Span] = None

    @property
    def label(self) -> str:
        return f"{self.path}:{self.span.line}"

    @property
    def scope_name(self) -> str:
        return ".".join(self.scope) if self.scope else "<module>"
