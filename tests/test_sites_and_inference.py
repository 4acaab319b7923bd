"""Site finding through aliases, look-alikes, and what inference knows about each site."""

import textwrap

import pytest

from convlint.infer import infer_sites
from convlint.parse import parse_text
from convlint.sites import find_sites


def sites_of(source):
    parsed = parse_text("case.py", textwrap.dedent(source))
    return infer_sites(parsed, find_sites(parsed))


def only(source, framework=None):
    (site,) = [s for s in sites_of(source) if framework in (None, s.spec.framework)]
    return site.spec


@pytest.mark.parametrize("source, api", [
    ("import torch.nn.functional as F\nF.conv1d(x, w)", "torch.nn.functional.conv1d"),
    ("import torch\ntorch.conv1d(x, w)", "torch.nn.functional.conv1d"),
    ("from torch.nn import functional\nfunctional.conv_transpose1d(x, w)", "torch.nn.functional.conv_transpose1d"),
    ("from torch import nn\nnn.Conv1d(1, 2, 3)", "torch.nn.Conv1d"),
    ("import torch.nn as tnn\ntnn.ConvTranspose1d(1, 2, 3)", "torch.nn.ConvTranspose1d"),
    ("from tensorflow import nn as tfnn\ntfnn.conv1d(x, w, 1, 'SAME')", "tensorflow.nn.conv1d"),
    ("import tensorflow as tf\ntf.nn.convolution(x, w)", "tensorflow.nn.convolution"),
    ("import tensorflow as tf\ntf.nn.conv1d_transpose(x, w, s, 2)", "tensorflow.nn.conv1d_transpose"),
    ("import tensorflow as tf\ntf.keras.layers.Conv1D(4, 3)", "keras.layers.Conv1D"),
    ("from tensorflow.keras import layers\nlayers.DepthwiseConv1D(3)", "keras.layers.DepthwiseConv1D"),
    ("from keras import layers as L\nL.SeparableConv1D(4, 3)", "keras.layers.SeparableConv1D"),
    ("import keras\nkeras.layers.Conv1DTranspose(4, 3)", "keras.layers.Conv1DTranspose"),
    ("from keras import ops\nops.conv(x, k)", "keras.ops.conv"),
    ("from ...modeling_tf_utils import keras\nkeras.layers.Conv1D(4, 3)", "keras.layers.Conv1D"),
    ("try:\n    import tf_keras as keras\nexcept ImportError:\n    import keras\nkeras.layers.Conv1D(4, 3)", "keras.layers.Conv1D"),
    ("from jax import lax\nlax.conv_general_dilated(x, w, (1,), 'VALID')", "jax.lax.conv_general_dilated"),
    ("import jax\njax.lax.conv_with_general_padding(x, w, (1,), [(0, 0)], None, None)", "jax.lax.conv_with_general_padding"),
    ("from jax.lax import conv_transpose\nconv_transpose(x, w, (1,), 'VALID')", "jax.lax.conv_transpose"),
    ("from flax import linen as nn\nnn.Conv(4, (3,))", "flax.linen.Conv"),
    ("import flax.linen as nn\nnn.ConvTranspose(4, 3)", "flax.linen.ConvTranspose"),
    ("from flax import nnx\nnnx.Conv(2, 4, 3, rngs=r)", "flax.nnx.Conv"),
    ("import torch.nn.functional as F\nconv = F.conv1d\nconv(x, w)", "torch.nn.functional.conv1d"),
])
def test_every_api_is_found_through_its_aliases(source, api):
    assert only(source).api == api


@pytest.mark.parametrize("source", [
    "from .pytorch_utils import Conv1D\nConv1D(8, 4)",  # transformers' linear layer
    "def conv1d(x, w, groups=1):\n    return x\nconv1d(x, w, groups=2)",
    "s = 'F.conv1d(x, w, groups=2)'",
    "import torch.nn.functional as F\ndef f(F):\n    return F.conv1d(x, w)",  # parameter shadows
    "if backend == 'torch':\n    from torch import nn\nelse:\n    from flax import linen as nn\nnn.Conv(4, 3)",
    "from flax import linen as nn\nnn.Conv(4, (3, 3))",  # 2-D
    "from jax import lax\nlax.conv_general_dilated(x, w, (1, 1), 'VALID')",  # 2-D
    "import keras\nkeras.layers.Conv2D(4, 3)",
    "import torch\ntorch.nn.Linear(4, 3)",
])
def test_look_alikes_are_not_sites(source):
    assert sites_of(source) == []


def test_layer_call_is_reported_once():
    assert len(sites_of("import keras\ny = keras.layers.Conv1D(32, 3)(inputs)")) == 1


def test_positional_arguments_use_the_right_table():
    spec = only("from torch import nn\nnn.ConvTranspose1d(4, 8, 3, 1, 0, 0, 2)")
    assert (spec.in_channels, spec.out_channels, spec.kernel_size, spec.groups) == (4, 8, 3, 2)
    spec = only("from torch import nn\nnn.Conv1d(4, 8, 3, 1, 0, 2)")
    assert (spec.dilation, spec.groups) == (2, 1)
    spec = only("import keras\nkeras.layers.Conv1D(4, 6, 3)")
    assert (spec.out_channels, spec.kernel_size, spec.stride) == (4, 6, 3)


def test_defaults_fill_absent_arguments():
    spec = only("from torch import nn\nnn.Conv1d(4, 8, 3)")
    assert (spec.bias, spec.padding.mode, spec.padding_mode, spec.data_layout) == (True, "valid", "zeros", "NCL")
    spec = only("from flax import linen as nn\nnn.Conv(8, 3)")
    assert (spec.padding.mode, spec.data_layout, spec.kernel_layout) == ("same", "NLC", "KIO")
    spec = only("from jax import lax\nlax.conv_general_dilated(x, w, (1,), 'VALID')")
    assert spec.data_layout == "NCL"  # no dimension_numbers means torch layout (catalog L05)


def test_constants_flow_through_arithmetic_unpacking_and_scopes():
    spec = only("""
        from torch import nn
        BASE = 4
        in_ch, mult = BASE * 2, 3

        class Block(nn.Module):
            groups = 2

            def __init__(self, kernel=5, stride=1):
                super().__init__()
                self.width = in_ch * mult // 2
                self.conv = nn.Conv1d(in_ch, self.width, kernel, stride=stride + 1,
                                      padding=(kernel - 1) // 2, groups=self.groups)
    """)
    assert (spec.in_channels, spec.out_channels, spec.kernel_size) == (8, 12, 5)
    assert (spec.stride, spec.groups, spec.padding.left, spec.padding.right) == (2, 2, 2, 2)


def test_self_attributes_from_init_reach_forward():
    spec = only("""
        import torch.nn.functional as F
        import torch

        class Smooth(torch.nn.Module):
            def __init__(self):
                self.groups = 4
                self.weight = torch.randn(8, 2, 3)

            def forward(self, x):
                return F.conv1d(x, self.weight, groups=self.groups)
    """)
    assert (spec.groups, spec.in_channels, spec.out_channels, spec.kernel_size) == (4, 8, 8, 3)


def test_branches_merge_to_unknown():
    spec = only("""
        from torch import nn
        if flag:
            g = 2
        else:
            g = 4
        nn.Conv1d(8, 8, 3, groups=g)
    """)
    assert spec.groups is None


def test_layer_weight_shape_and_view_chain():
    spec = only("""
        import tensorflow as tf
        from torch import nn
        conv = nn.Conv1d(6, 8, 3, groups=2)
        kernel = conv.weight.detach().permute(2, 1, 0).numpy()
        tf.nn.conv1d(tf.random.normal([2, 16, 6]), kernel, 1, "VALID")
    """, "tensorflow")
    assert spec.weight.shape == (3, 3, 8) and spec.weight.axes == "KIO"
    assert spec.weight.views == ("permute(2, 1, 0)",)
    assert spec.groups == 2 and spec.in_channels == 6


@pytest.mark.parametrize("chain, shape, axes", [
    ("w.permute(2, 1, 0)", (3, 4, 5), "KIO"),
    ("w.transpose(0, 2)", (3, 4, 5), "KIO"),
    ("w.T", (3, 4, 5), "KIO"),
    ("w.mT", (5, 3, 4), "OKI"),
    ("w.permute(2, 0, 1)", (3, 5, 4), "KOI"),
    ("w.reshape(3, 4, 5)", (3, 4, 5), "???"),
    ("w.view(-1, 4, 3)", (5, 4, 3), "OIK"),
])
def test_view_ops_track_shape_and_axis_order(chain, shape, axes):
    spec = only(f"""
        import tensorflow as tf
        from torch import nn
        w = nn.Conv1d(4, 5, 3).weight
        tf.nn.conv1d(x, {chain}, 1, "VALID")
    """, "tensorflow")
    assert spec.weight.shape == shape
    assert spec.weight.axes == axes


def test_nested_literal_and_shape_unpacking():
    spec = only("""
        import torch
        import torch.nn.functional as F
        x = torch.tensor([[[1., 2., 3., 4.]] * 1] * 2)
        x = torch.Tensor([[[1, 1], [2, 2], [3, 3]]])
        n, c, length = x.size()
        F.conv1d(x.view(-1, c, length), torch.ones(6, 1, 3), groups=c)
    """)
    assert spec.input.shape == (1, 3, 2)
    assert (spec.in_channels, spec.groups, spec.out_channels) == (3, 3, 6)
