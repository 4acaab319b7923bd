"""Probe specifications: plain numbers and names, never user code.

A probe runs a *source* convolution on random data, the *port* as the user wrote it
(its kernel and input derived from the source's by the recorded view operations), and
optionally the suggested *fix*, then compares the outputs after normalizing layouts.

Everything here is JSON-serializable plain data (ints, strings, tuples) so that a
probe can be cached by its content and shipped to a worker subprocess.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Optional, Tuple, Union

# A view operation applied with numpy to an array, in order:
#   ("permute", (2, 1, 0))        np.transpose(a, axes)
#   ("reshape", (3, 2, 2))        a.reshape(shape) (C order, like torch .view/.reshape)
#   ("flip", 0)                   np.flip(a, axis)
#   ("tile", (1, 2, 1))           np.tile(a, reps)        e.g. grouped taps tiled over the in-dim
#   ("block_diag", groups)        grouped kernel (K, I/g, O) -> dense block-diagonal (K, I, O)
#   ("interleave_diag", groups)   same, but channel c goes to group c % g (catalog G05, wrong)
#   ("slice", (axis, start, stop, step))
#   ("zero",)                     replace by zeros (a bias left at its zero init)
ViewOp = Tuple[Union[str, int, Tuple[int, ...]], ...]


@dataclass(frozen=True)
class ConvCall:
    """One convolution exactly as one framework will execute it.

    ``api`` selects the code path in the worker: one of
      torch:      "torch.nn.functional.conv1d", "torch.nn.functional.conv_transpose1d"
      tensorflow: "tensorflow.nn.conv1d", "tensorflow.nn.convolution",
                  "tensorflow.nn.conv1d_transpose"
      keras:      "keras.layers.Conv1D", "keras.layers.DepthwiseConv1D",
                  "keras.layers.Conv1DTranspose", "keras.layers.SeparableConv1D",
                  "keras.ops.conv"
      jax:        "jax.lax.conv_general_dilated", "jax.lax.conv_transpose"
      flax:       "flax.linen.Conv", "flax.linen.ConvTranspose"
      numpy:      "numpy.convolve", "numpy.correlate" (single channel reference)

    ``padding`` is a mode string exactly as the API is given it ("VALID", "SAME",
    "same", "causal", "SAME_LOWER", "CAUSAL", ...) or an explicit (left, right) pair.
    ``data_layout`` is "NCL" or "NLC": the layout the call's input and output have.
    ``kernel_layout`` is the axis labels of the kernel the call receives ("OIK" torch,
    "KIO" TF/Keras/Flax/lax WIO, "IOK" torch transposed, "KOI" TF/Keras transposed,
    "KCM" Keras depthwise). For lax, ``dimension_numbers`` is passed through as given
    (None means lax's default NCH/OIH/NCH).
    """

    framework: str
    api: str
    in_channels: int
    out_channels: int
    kernel_size: int
    stride: int = 1
    dilation: int = 1
    groups: int = 1
    padding: Union[str, Tuple[int, int]] = "VALID"
    padding_mode: str = "zeros"
    output_padding: Optional[int] = None
    bias: bool = False
    data_layout: str = "NCL"
    kernel_layout: str = "OIK"
    dimension_numbers: Optional[Tuple[str, str, str]] = None
    transpose_kernel: bool = False
    lhs_dilation: int = 1
    depth_multiplier: int = 1
    # Slice applied to the call's output on the length axis (start, stop), e.g. the
    # chomp after symmetric causal padding; None keeps everything.
    output_crop: Optional[Tuple[int, Optional[int]]] = None
    # The user's own spelling, for probing a call that may be rejected (CNV501, CNV504):
    # (parameter, value) pairs, positional ones first with parameter "" in their order.
    # When set, the worker calls the API with exactly these arguments after the input
    # and kernel (functional) or constructs the layer from them; "<bias>" stands for the
    # bias tensor. The other fields then only describe sizes and layouts.
    verbatim: Optional[Tuple[Tuple[str, object], ...]] = None  # () = no arguments


@dataclass(frozen=True)
class Side:
    """A conv call plus how its inputs derive from the source's random tensors."""

    call: ConvCall
    kernel_ops: Tuple[ViewOp, ...] = ()  # applied to the source weight (source layout)
    input_ops: Tuple[ViewOp, ...] = ()  # applied to the source input (source layout)
    bias_ops: Tuple[ViewOp, ...] = ()  # applied to the source bias
    # Explicit padding applied to the (already transformed) input before the call:
    # (left, right, mode) on the length axis, mode as numpy's np.pad names
    # ("constant", "reflect", "edge", "wrap", "symmetric").
    pre_pad: Optional[Tuple[int, int, str]] = None


@dataclass(frozen=True)
class ProbeSpec:
    """The source, the port as written, and the suggested fix (optional)."""

    rule: str  # the finding's code, for reports and the cache key
    source: Side
    port: Side
    fix: Optional[Side] = None
    lengths: Tuple[int, ...] = (9,)  # input lengths L to try; each is probed
    batch: int = 2
    seed: int = 0
    # Number of groups the comparison should mention when it recognizes the pattern
    # "port / source ratio == groups" (catalog G01); purely descriptive.
    groups_hint: Optional[int] = None
    notes: Tuple[str, ...] = field(default=())

    def key(self) -> str:
        """Stable content key (for the cache)."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
