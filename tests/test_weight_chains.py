"""The weight-flow judgment on its own: which view chains equal the one correct conversion.

Table-driven over (source conv, port conv, recorded views) -> code or None (correct),
with the coincidence sizes of catalog W01/T01/D01 where silence lives.
"""

import pytest

from convlint.rules.weights import judge
from convlint.spec import ConvSpec, TensorFact


def torch_conv(i, o, k, groups=1, transposed=False):
    return ConvSpec("torch", "torch.nn.ConvTranspose1d" if transposed else "torch.nn.Conv1d",
                    "conv_transpose" if transposed else "conv", "layer", in_channels=i,
                    out_channels=o, kernel_size=k, groups=groups,
                    kernel_layout="IOK" if transposed else "OIK")


def port(api, kind, layout, framework="keras", transpose_kernel=None):
    return ConvSpec(framework, api, kind, "layer", kernel_layout=layout,
                    transpose_kernel=transpose_kernel)


KERAS = port("keras.layers.Conv1D", "conv", "KIO")
LAX_OIW = port("jax.lax.conv_general_dilated", "conv", "OIK", "jax")
KERAS_T = port("keras.layers.Conv1DTranspose", "conv_transpose", "KOI")
FLAX_T = port("flax.linen.ConvTranspose", "conv_transpose", "KIO", "flax", False)
FLAX_T_TK = port("flax.linen.ConvTranspose", "conv_transpose", "KIO", "flax", True)
DEPTHWISE = port("keras.layers.DepthwiseConv1D", "depthwise", "KCM")

CASES = [
    # forward conv, I=3, O=5, K=4 (distinct) and the coincidences
    (torch_conv(3, 5, 4), KERAS, ("permute(2, 1, 0)",), None),
    (torch_conv(3, 5, 4), KERAS, ("transpose(0, 2)",), None),
    (torch_conv(3, 5, 4), KERAS, (".T",), None),
    (torch_conv(3, 5, 4), KERAS, ("transpose()",), None),
    (torch_conv(3, 5, 4), KERAS, ("flip(0)", "permute(2, 1, 0)", "flip(2)"), None),
    (torch_conv(3, 5, 4), KERAS, (), "CNV201"),
    (torch_conv(2, 3, 3), KERAS, (), "CNV201"),  # O == K: silent
    (torch_conv(3, 5, 4), KERAS, ("reshape(4, 3, 5)",), "CNV202"),
    (torch_conv(3, 5, 4), KERAS, ("permute(2, 0, 1)",), "CNV203"),
    (torch_conv(3, 3, 3), KERAS, (".mT",), "CNV203"),
    (torch_conv(3, 3, 3), KERAS, ("moveaxis(0, -1)",), "CNV203"),
    (torch_conv(3, 5, 4), KERAS, ("permute(2, 1, 0)", "flip(0)"), "CNV203"),
    (torch_conv(3, 5, 4), LAX_OIW, (), None),
    # A (K, I, O) kernel into lax's default OIW: the missing dimension_numbers is the
    # mistake, reported once by CNV303, not as a wrong permutation.
    (torch_conv(3, 5, 4), LAX_OIW, ("permute(2, 1, 0)",), None),
    (torch_conv(3, 5, 4), LAX_OIW, ("permute(2, 0, 1)",), "CNV203"),
    # a reshape that only moves a size-1 axis keeps the order (catalog F5)
    (torch_conv(1, 4, 3), KERAS, ("reshape(4, 3)", ".T", "reshape(3, 1, 4)"), None),
    # unknown sizes: stand-ins for permutations
    (torch_conv(None, None, None), KERAS, ("permute(2, 1, 0)",), None),
    (torch_conv(None, None, None), KERAS, ("permute(2, 0, 1)",), "CNV203"),
    (torch_conv(None, None, None), KERAS, ("view(3, 4, 5)",), "CNV202"),
    # transposed conv
    (torch_conv(3, 5, 4, transposed=True), KERAS_T, ("permute(2, 1, 0)",), None),
    (torch_conv(4, 4, 3, transposed=True), KERAS_T, ("permute(2, 0, 1)",), "CNV204"),
    (torch_conv(3, 5, 4, transposed=True), FLAX_T, ("permute(2, 0, 1)", "flip(0)"), None),
    (torch_conv(3, 5, 4, transposed=True), FLAX_T, ("permute(2, 0, 1)",), "CNV204"),
    (torch_conv(3, 5, 4, transposed=True), FLAX_T_TK, ("permute(2, 1, 0)",), None),
    # depthwise C=4, M=3, K=3 (and M=1)
    (torch_conv(4, 12, 3, groups=4), DEPTHWISE, ("permute(2, 1, 0)", "reshape(3, 4, 3)"), None),
    (torch_conv(4, 12, 3, groups=4), DEPTHWISE, ("reshape(4, 3, 3)", "permute(2, 0, 1)"), None),
    (torch_conv(4, 12, 3, groups=4), DEPTHWISE, ("reshape(3, 4, 3)",), "CNV205"),
    (torch_conv(4, 12, 3, groups=4), DEPTHWISE,
     ("permute(2, 1, 0)", "reshape(3, 3, 4)", "transpose(0, 2, 1)"), "CNV205"),
    (torch_conv(4, 4, 3, groups=4), DEPTHWISE,
     ("permute(2, 1, 0)", "reshape(3, 1, 4)", "transpose(0, 2, 1)"), None),
    # views convlint cannot replay: silent
    (torch_conv(3, 5, 4), KERAS, ("[...]",), None),
    (torch_conv(3, 5, 4), KERAS, ("permute(?, 1, 0)",), None),
]


@pytest.mark.parametrize("source, sink, views, code", CASES)
def test_judge(source, sink, views, code):
    weight = TensorFact("torch", None, None, "x.py:1.weight", views)
    verdict = judge(source, sink, weight)
    assert (verdict.code if verdict else None) == code
