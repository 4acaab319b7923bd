"""Issue 3 acceptance: every Appendix A wrong port is reported with its code, every Appendix A
correct port is silent, with ALL rules on at once (each family was built separately).

One row per Appendix A id of reference/conv1d-hazards-catalog.md. Each row is a small program in
the catalog's common setup (x a torch NCW tensor, ``xn = x.permute(0, 2, 1).numpy()``,
``w = conv.weight.detach()``, ``kn = w.permute(2, 1, 0).numpy()``) holding the torch side and
the port, paired the way real code is (matching enclosing names, ``*_torch``/``*_tf``
functions, or a weight flowing into the port). The wrong program marks the port line with
``# expect: CNVxxx``; it must get exactly those findings and nothing on any other line. The
correct program is the same with the catalog's correct port and must get no finding at all.

Rows that are not lint rules: L03 (an environment hazard: NCW on a CPU build without oneDNN; the
call is correct code) and DT01 (float64 input; not a conv-port hazard convlint models). G02 is the
info rule CNV103, which ``select=("CNV",)`` enables.
"""

import re
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from convlint import engine
from convlint.config import Config

EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")
ALL_RULES = Config(select=("CNV",), probe=False)
# P01' ports a TF reference to torch: the reference framework is TF for that row.
REFERENCE = {"P01'": "keras"}

SETUP = """\
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
"""


def row(rid, code, wrong, correct, marks=()):
    """One table row; ``marks`` (an xfail for a known gap) apply to the wrong port's test."""
    return pytest.param(rid, code, textwrap.dedent(wrong), textwrap.dedent(correct), id=rid,
                        marks=marks)


def _unmarked(rows):
    return [pytest.param(*p.values, id=p.id) for p in rows]


ROWS = [
    row("G01", "CNV101", """\
        import tensorflow as tf
        C, O, K = 4, 8, 3


        def smooth_torch(x):
            return F.conv1d(x, torch.ones(O, 1, K), groups=C)


        def smooth_tf(xn):
            return tf.nn.conv1d(xn, tf.ones([K, C, O]), 1, "VALID")  # expect: CNV101
        """, """\
        import keras
        C, O, K = 4, 8, 3


        def smooth_torch(x):
            return F.conv1d(x, torch.ones(O, 1, K), groups=C)


        def smooth_tf(xn):
            layer = keras.layers.Conv1D(O, K, groups=C, use_bias=False)
            return layer(xn)
        """),
    # The catalog's measured G01 origin: the grouped kernel tiled over the in-dim (13.7).
    row("G01-repeat", "CNV101", """\
        import tensorflow as tf

        conv = nn.Conv1d(8, 8, 3, groups=4, bias=False)
        x = torch.randn(2, 8, 16)
        y = conv(x)
        xn = x.permute(0, 2, 1).numpy()
        kn = conv.weight.detach().permute(2, 1, 0).numpy()
        dense = np.repeat(kn, 4, axis=1)
        yn = tf.nn.conv1d(xn, dense, 1, "VALID")  # expect: CNV101
        """, """\
        import keras

        conv = nn.Conv1d(8, 8, 3, groups=4, bias=False)
        x = torch.randn(2, 8, 16)
        y = conv(x)
        xn = x.permute(0, 2, 1).numpy()
        kn = conv.weight.detach().permute(2, 1, 0).numpy()
        layer = keras.layers.Conv1D(8, 3, groups=4, use_bias=False)
        layer.build((None, None, 8))
        layer.set_weights([kn])
        yn = layer(xn)
        """),
    row("G02", "CNV103", """\
        import tensorflow as tf

        conv = nn.Conv1d(8, 8, 3, groups=4)
        x = torch.randn(2, 8, 16)
        y = F.conv1d(x, conv.weight, conv.bias, groups=4)
        w = conv.weight.detach()
        b = conv.bias.detach().numpy()
        xn = x.permute(0, 2, 1).numpy()
        kn = w.permute(2, 1, 0).numpy()
        yn = tf.nn.bias_add(tf.nn.conv1d(xn, kn, 1, "VALID"), b)  # expect: CNV103
        """, """\
        import keras

        conv = nn.Conv1d(8, 8, 3, groups=4)
        x = torch.randn(2, 8, 16)
        y = F.conv1d(x, conv.weight, conv.bias, groups=4)
        w = conv.weight.detach()
        b = conv.bias.detach().numpy()
        xn = x.permute(0, 2, 1).numpy()
        kn = w.permute(2, 1, 0).numpy()
        layer = keras.layers.Conv1D(8, 3, groups=4)
        layer.build((None, None, 8))
        layer.set_weights([kn, b])
        yn = layer(xn)
        """),
    row("G05", "CNV104", """\
        import tensorflow as tf
        C, O, K, g = 8, 6, 3, 2


        class Mixer(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(C, O, K, groups=g, bias=False)


        def mixer_tf(xn, kn):
            filt = np.zeros((K, C, O), np.float32)
            for gi in range(g):
                blk = slice(gi * O // g, (gi + 1) * O // g)
                filt[:, gi::g, blk] = kn[..., blk]
            return tf.nn.conv1d(xn, filt, 1, "VALID")  # expect: CNV104
        """, """\
        import tensorflow as tf
        C, O, K, g = 8, 6, 3, 2


        class Mixer(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(C, O, K, groups=g, bias=False)


        def mixer_tf(xn, kn):
            filt = np.zeros((K, C, O), np.float32)
            for gi in range(g):
                blk = slice(gi * O // g, (gi + 1) * O // g)
                filt[:, gi * C // g:(gi + 1) * C // g, blk] = kn[..., blk]
            return tf.nn.conv1d(xn, filt, 1, "VALID")
        """),
    row("W01-reshape", "CNV202", """\
        import keras
        I, O, K = 3, 5, 4
        conv = nn.Conv1d(I, O, K)
        w = conv.weight.detach()
        b = conv.bias.detach().numpy()
        layer = keras.layers.Conv1D(O, K)  # expect: CNV202
        layer.build((None, None, I))
        layer.set_weights([w.reshape(K, I, O).numpy(), b])
        """, """\
        import keras
        I, O, K = 3, 5, 4
        conv = nn.Conv1d(I, O, K)
        w = conv.weight.detach()
        b = conv.bias.detach().numpy()
        layer = keras.layers.Conv1D(O, K)
        layer.build((None, None, I))
        layer.set_weights([w.permute(2, 1, 0).numpy(), b])
        """),
    row("W01-permute", "CNV203", """\
        import keras
        I, O, K = 4, 4, 3
        conv = nn.Conv1d(I, O, K)
        w = conv.weight.detach()
        b = conv.bias.detach().numpy()
        layer = keras.layers.Conv1D(O, K)  # expect: CNV203
        layer.build((None, None, I))
        layer.set_weights([w.permute(2, 0, 1).numpy(), b])
        """, """\
        import keras
        I, O, K = 4, 4, 3
        conv = nn.Conv1d(I, O, K)
        w = conv.weight.detach()
        b = conv.bias.detach().numpy()
        layer = keras.layers.Conv1D(O, K)
        layer.build((None, None, I))
        layer.set_weights([w.permute(2, 1, 0).numpy(), b])
        """),
    row("D01", "CNV205", """\
        import keras
        C, M, K = 4, 3, 3
        conv = nn.Conv1d(C, C * M, K, groups=C, bias=False)
        w = conv.weight.detach()
        layer = keras.layers.DepthwiseConv1D(K, depth_multiplier=M, use_bias=False)  # expect: CNV205
        layer.build((None, None, C))
        layer.set_weights([w.reshape(K, C, M).numpy()])
        """, """\
        import keras
        C, M, K = 4, 3, 3
        conv = nn.Conv1d(C, C * M, K, groups=C, bias=False)
        w = conv.weight.detach()
        layer = keras.layers.DepthwiseConv1D(K, depth_multiplier=M, use_bias=False)
        layer.build((None, None, C))
        layer.set_weights([w.permute(2, 1, 0).reshape(K, C, M).numpy()])
        """),
    # D01 with the weights loaded by a function taking both models: the parameters' classes
    # are unknown (no call-site or annotation typing), so the weight flow is not seen.
    row("D01-load-function", "CNV205", """\
        import keras


        class Mixer(nn.Module):
            def __init__(self):
                super().__init__()
                self.dw = nn.Conv1d(4, 12, 3, groups=4, bias=False)


        class TFMixer(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.dw = keras.layers.DepthwiseConv1D(3, depth_multiplier=3, use_bias=False)  # expect: CNV205


        def load(tf_model, torch_model):
            tf_model.dw.set_weights([torch_model.dw.weight.detach().reshape(3, 4, 3).numpy()])
        """, """\
        import keras


        class Mixer(nn.Module):
            def __init__(self):
                super().__init__()
                self.dw = nn.Conv1d(4, 12, 3, groups=4, bias=False)


        class TFMixer(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.dw = keras.layers.DepthwiseConv1D(3, depth_multiplier=3, use_bias=False)


        def load(tf_model, torch_model):
            tf_model.dw.set_weights([torch_model.dw.weight.detach().permute(2, 1, 0).reshape(3, 4, 3).numpy()])
        """, marks=pytest.mark.xfail(strict=True, reason=(
            "weight flow through attributes of function parameters (tf_model.dw.set_weights("
            "[torch_model.dw.weight...])) is not tracked: infer has no instance/parameter typing"))),
    row("D02", "CNV502", """\
        import keras


        class SepConv(nn.Module):
            def __init__(self):
                super().__init__()
                self.depthwise = nn.Conv1d(6, 6, 5, groups=6)
                self.pointwise = nn.Conv1d(6, 8, 1)


        class TFSepConv(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.SeparableConv1D(8, 5)  # expect: CNV502

            def load(self, model):
                self.conv.build((None, None, 6))
                dk = model.depthwise.weight.detach().permute(2, 1, 0).numpy()
                pk = model.pointwise.weight.detach().permute(2, 1, 0).numpy()
                b_pw = model.pointwise.bias.detach().numpy()
                self.conv.set_weights([dk, pk, b_pw])
        """, """\
        import keras


        class SepConv(nn.Module):
            def __init__(self):
                super().__init__()
                self.depthwise = nn.Conv1d(6, 6, 5, groups=6)
                self.pointwise = nn.Conv1d(6, 8, 1)


        class TFSepConv(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.SeparableConv1D(8, 5)

            def load(self, model):
                self.conv.build((None, None, 6))
                dk = model.depthwise.weight.detach().permute(2, 1, 0).numpy()
                pk = model.pointwise.weight.detach().permute(2, 1, 0).numpy()
                w_pw = model.pointwise.weight.detach().numpy()
                b_dw = model.depthwise.bias.detach().numpy()
                b_pw = model.pointwise.bias.detach().numpy()
                self.conv.set_weights([dk, pk, b_pw + w_pw[:, :, 0] @ b_dw])
        """),
    row("L01", "CNV301", """\
        import tensorflow as tf

        conv = nn.Conv1d(4, 6, 3, bias=False)
        x = torch.randn(2, 4, 16)
        w = conv.weight.detach()
        kn = w.permute(2, 1, 0).numpy()
        y = F.conv1d(x, w)
        yn = tf.nn.conv1d(x.numpy(), kn, 1, "VALID")  # expect: CNV301
        """, """\
        import tensorflow as tf

        conv = nn.Conv1d(4, 6, 3, bias=False)
        x = torch.randn(2, 4, 16)
        w = conv.weight.detach()
        kn = w.permute(2, 1, 0).numpy()
        y = F.conv1d(x, w)
        xn = x.permute(0, 2, 1).numpy()
        yn = tf.transpose(tf.nn.conv1d(xn, kn, 1, "VALID"), (0, 2, 1))
        """),
    # L01 through a Keras layer that got the converted kernel (its input channels are known).
    row("L01-keras-layer", "CNV301", """\
        import keras

        conv = nn.Conv1d(4, 6, 3)
        x = torch.randn(2, 4, 16)
        layer = keras.layers.Conv1D(6, 3)
        layer.build((None, None, 4))
        layer.set_weights([conv.weight.detach().permute(2, 1, 0).numpy(), conv.bias.detach().numpy()])
        y = layer(x.numpy())  # expect: CNV301
        """, """\
        import keras

        conv = nn.Conv1d(4, 6, 3)
        x = torch.randn(2, 4, 16)
        layer = keras.layers.Conv1D(6, 3)
        layer.build((None, None, 4))
        layer.set_weights([conv.weight.detach().permute(2, 1, 0).numpy(), conv.bias.detach().numpy()])
        y = layer(x.permute(0, 2, 1).numpy())
        """),
    row("L02", "CNV302", """\
        import tensorflow as tf

        N, C, L = 2, 4, 16
        conv = nn.Conv1d(C, 6, 3, bias=False)
        x = torch.randn(N, C, L)
        w = conv.weight.detach()
        kn = w.permute(2, 1, 0).numpy()
        y = F.conv1d(x, w)
        yn = tf.nn.conv1d(x.numpy().reshape(N, L, C), kn, 1, "VALID")  # expect: CNV302
        """, """\
        import tensorflow as tf

        N, C, L = 2, 4, 16
        conv = nn.Conv1d(C, 6, 3, bias=False)
        x = torch.randn(N, C, L)
        w = conv.weight.detach()
        kn = w.permute(2, 1, 0).numpy()
        y = F.conv1d(x, w)
        yn = tf.nn.conv1d(np.transpose(x.numpy(), (0, 2, 1)), kn, 1, "VALID")
        """),
    # L03 is an environment hazard (NCW on a CPU build without oneDNN): the call is correct
    # code, no rule exists, and both programs must stay silent.
    row("L03", "not a lint rule (ENV)", """\
        import tensorflow as tf

        conv = nn.Conv1d(4, 6, 3, bias=False)
        x = torch.randn(2, 4, 16)
        w = conv.weight.detach()
        kn = w.permute(2, 1, 0).numpy()
        y = F.conv1d(x, w)
        yn = tf.nn.conv1d(x.numpy(), kn, 1, "VALID", data_format="NCW")
        """, """\
        import tensorflow as tf

        conv = nn.Conv1d(4, 6, 3, bias=False)
        x = torch.randn(2, 4, 16)
        w = conv.weight.detach()
        kn = w.permute(2, 1, 0).numpy()
        y = F.conv1d(x, w)
        yn = tf.nn.conv1d(x.permute(0, 2, 1).numpy(), kn, 1, "VALID")
        """),
    row("L05", "CNV303", """\
        from jax import lax

        conv = nn.Conv1d(4, 6, 3, bias=False)
        x = torch.randn(2, 4, 16)
        w = conv.weight.detach()
        y = F.conv1d(x, w)
        xn = x.permute(0, 2, 1).numpy()
        kn = w.permute(2, 1, 0).numpy()
        yn = lax.conv_general_dilated(xn, kn, (1,), "VALID")  # expect: CNV303
        """, """\
        from jax import lax

        conv = nn.Conv1d(4, 6, 3, bias=False)
        x = torch.randn(2, 4, 16)
        w = conv.weight.detach()
        y = F.conv1d(x, w)
        xn = x.permute(0, 2, 1).numpy()
        kn = w.permute(2, 1, 0).numpy()
        yn = lax.conv_general_dilated(xn, kn, (1,), "VALID", dimension_numbers=("NWC", "WIO", "NWC"))
        """),
    row("L06", "CNV304", """\
        import keras


        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(8, 5, 3)


        keras.config.set_image_data_format("channels_first")


        class TFHead(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(5, 3)  # expect: CNV304

            def call(self, xn):
                return self.conv(xn)
        """, """\
        import keras


        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(8, 5, 3)


        keras.config.set_image_data_format("channels_first")


        class TFHead(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(5, 3, data_format="channels_last")

            def call(self, xn):
                return self.conv(xn)
        """),
    row("P01", "CNV401", """\
        import keras


        class Down(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, stride=2, padding=1)


        class TFDown(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, 3, strides=2, padding="same")  # expect: CNV401
        """, """\
        import keras


        class Down(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, stride=2, padding=1)


        class TFDown(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.pad = keras.layers.ZeroPadding1D((1, 1))
                self.conv = keras.layers.Conv1D(6, 3, strides=2, padding="valid")

            def call(self, xn):
                return self.conv(self.pad(xn))
        """),
    row("P01'", "CNV401", """\
        import keras


        class TFDown(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, 3, strides=2, padding="same")


        class Down(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, stride=2, padding=1)  # expect: CNV401
        """, """\
        import keras


        class TFDown(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, 3, strides=2, padding="same")


        class Down(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, stride=2, padding=0)

            def forward(self, x):
                L = x.shape[-1]
                T = max((-(-L // 2) - 1) * 2 + 3 - L, 0)
                return self.conv(F.pad(x, (T // 2, T - T // 2)))
        """),
    row("P02", "CNV403", """\
        class Down(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, stride=2, padding="same")  # expect: CNV403
        """, """\
        class Down(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, stride=2)

            def forward(self, x):
                L = x.shape[-1]
                T = max((-(-L // 2) - 1) * 2 + 3 - L, 0)
                return self.conv(F.pad(x, (T // 2, T - T // 2)))
        """),
    row("P04", "CNV401", """\
        from jax import lax


        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 4, padding="same", bias=False)


        def block_jax(xn, kn):
            return lax.conv_general_dilated(xn, kn, (1,), "SAME_LOWER", dimension_numbers=("NWC", "WIO", "NWC"))  # expect: CNV401
        """, """\
        from jax import lax


        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 4, padding="same", bias=False)


        def block_jax(xn, kn):
            return lax.conv_general_dilated(xn, kn, (1,), "SAME", dimension_numbers=("NWC", "WIO", "NWC"))
        """),
    row("P05", "CNV406", """\
        import keras


        class Dilated(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, stride=2, dilation=2)


        class TFDilated(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, 3, strides=2, dilation_rate=2)  # expect: CNV406
        """, """\
        import tensorflow as tf


        class Dilated(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, stride=2, dilation=2)


        class TFDilated:
            def __init__(self, kn, b):
                self.kn, self.b = kn, b

            def __call__(self, xn):
                return tf.nn.bias_add(tf.nn.conv1d(xn, self.kn, 2, "VALID", dilations=2), self.b)
        """),
    # The catalog's other correct port: a stride-1 dilated conv, then every 2nd output.
    row("P05-subsample", "CNV406", """\
        import keras


        class Dilated(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, stride=2, dilation=2)


        class TFDilated(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, 3, strides=2, dilation_rate=2)  # expect: CNV406

            def call(self, xn):
                return self.conv(xn)
        """, """\
        import keras


        class Dilated(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, stride=2, dilation=2)


        class TFDilated(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, 3, dilation_rate=2)

            def call(self, xn):
                return self.conv(xn)[:, ::2]
        """),
    row("P06", "CNV405", """\
        import flax.linen as fnn


        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3)


        class FlaxStem(fnn.Module):
            @fnn.compact
            def __call__(self, xn):
                return fnn.Conv(6, 3)(xn)  # expect: CNV405
        """, """\
        import flax.linen as fnn


        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3)


        class FlaxStem(fnn.Module):
            @fnn.compact
            def __call__(self, xn):
                return fnn.Conv(6, 3, padding="VALID")(xn)
        """),
    row("P07", "CNV402", """\
        import keras
        K = 3


        class CausalConv(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, K, bias=False)

            def forward(self, x):
                return self.conv(F.pad(x, (K - 1, 0)))


        class TFCausalConv(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, K, padding="same", use_bias=False)  # expect: CNV402
        """, """\
        import keras
        K = 3


        class CausalConv(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, K, bias=False)

            def forward(self, x):
                return self.conv(F.pad(x, (K - 1, 0)))


        class TFCausalConv(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, K, padding="causal", use_bias=False)
        """),
    # The catalog's functional spelling: the module's conv only holds the weight.
    row("P07-functional", "CNV402", """\
        import keras
        K = 3


        class CausalConv(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, K, bias=False)

            def forward(self, x):
                return F.conv1d(F.pad(x, (K - 1, 0)), self.conv.weight)


        class TFCausalConv(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, K, padding="same", use_bias=False)  # expect: CNV402
        """, """\
        import keras
        K = 3


        class CausalConv(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, K, bias=False)

            def forward(self, x):
                return F.conv1d(F.pad(x, (K - 1, 0)), self.conv.weight)


        class TFCausalConv(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, K, padding="causal", use_bias=False)
        """),
    row("P08", "CNV404", """\
        import keras


        class Smooth(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 5, padding=2, padding_mode="reflect")


        class TFSmooth(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, 5, padding="same")  # expect: CNV404
        """, """\
        import keras
        import tensorflow as tf


        class Smooth(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 5, padding=2, padding_mode="reflect")


        class TFSmooth(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, 5, padding="valid")

            def call(self, xn):
                return self.conv(tf.pad(xn, [[0, 0], [2, 2], [0, 0]], "REFLECT"))
        """),
    row("P09", "CNV404", """\
        import tensorflow as tf


        def smooth_torch(x, w):
            return F.conv1d(F.pad(x, (2, 2), mode="replicate"), w)


        def smooth_tf(xn, kn):
            xp = tf.pad(xn, [[0, 0], [2, 2], [0, 0]], mode="SYMMETRIC")
            return tf.nn.conv1d(xp, kn, 1, "VALID")  # expect: CNV404
        """, """\
        import tensorflow as tf


        def smooth_torch(x, w):
            return F.conv1d(F.pad(x, (2, 2), mode="replicate"), w)


        def smooth_tf(xn, kn):
            xp = np.pad(xn, [[0, 0], [2, 2], [0, 0]], mode="edge")
            return tf.nn.conv1d(xp, kn, 1, "VALID")
        """),
    # P10 is CNV401 or CNV402 in hazards.md: with both weights parameters K is unknown, so
    # whether the source pad is causal (K-1 on the left) cannot be told; CNV401 reports the
    # swapped side (the fixture CNV402/pad_on_wrong_side.py with K known gets CNV402).
    row("P10", "CNV401", """\
        import tensorflow as tf
        K = 3


        def causal_torch(x, w):
            return F.conv1d(F.pad(x, (K - 1, 0)), w)


        def causal_tf(xn, kn):
            xp = tf.pad(xn, [[0, 0], [0, K - 1], [0, 0]])
            return tf.nn.conv1d(xp, kn, 1, "VALID")  # expect: CNV401
        """, """\
        import tensorflow as tf
        K = 3


        def causal_torch(x, w):
            return F.conv1d(F.pad(x, (K - 1, 0)), w)


        def causal_tf(xn, kn):
            xp = tf.pad(xn, [[0, 0], [K - 1, 0], [0, 0]])
            return tf.nn.conv1d(xp, kn, 1, "VALID")
        """),
    row("T01", "CNV204", """\
        import tensorflow as tf
        I, O, K = 3, 5, 4
        up = nn.ConvTranspose1d(I, O, K, bias=False)
        w = up.weight.detach()
        x = torch.randn(2, I, 16)
        xn = x.permute(0, 2, 1).numpy()
        yn = tf.nn.conv1d_transpose(xn, w.permute(2, 0, 1).numpy(), (2, 19, O), 1, "VALID")  # expect: CNV204
        """, """\
        import tensorflow as tf
        I, O, K = 3, 5, 4
        up = nn.ConvTranspose1d(I, O, K, bias=False)
        w = up.weight.detach()
        x = torch.randn(2, I, 16)
        xn = x.permute(0, 2, 1).numpy()
        yn = tf.nn.conv1d_transpose(xn, w.permute(2, 1, 0).numpy(), (2, 19, O), 1, "VALID")
        """),
    row("T02", "CNV408", """\
        import keras


        class Up(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1)


        class TFUp(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1DTranspose(6, 3, strides=2, padding="same")  # expect: CNV408
        """, """\
        import keras


        class Up(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1)


        class TFUp(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1DTranspose(6, 3, strides=2, padding="valid")

            def call(self, xn):
                L = xn.shape[1]
                return self.conv(xn)[:, 1:2 * L + 1]
        """),
    row("T03", "CNV204", """\
        from jax import lax
        I, O, K, s = 3, 5, 4, 2
        up = nn.ConvTranspose1d(I, O, K, stride=s, bias=False)
        w = up.weight.detach()
        x = torch.randn(2, I, 16)
        xn = x.permute(0, 2, 1).numpy()
        kt = w.permute(2, 1, 0).numpy()
        yn = lax.conv_transpose(xn, kt, (s,), "VALID", dimension_numbers=("NWC", "WOI", "NWC"))  # expect: CNV204
        """, """\
        from jax import lax
        I, O, K, s = 3, 5, 4, 2
        up = nn.ConvTranspose1d(I, O, K, stride=s, bias=False)
        w = up.weight.detach()
        x = torch.randn(2, I, 16)
        xn = x.permute(0, 2, 1).numpy()
        kt = w.permute(2, 1, 0).numpy()
        yn = lax.conv_transpose(xn, kt, (s,), "VALID", dimension_numbers=("NWC", "WIO", "NWC"), transpose_kernel=True)
        """),
    row("T04", "CNV204", """\
        import flax.linen as fnn
        import jax.numpy as jnp
        I, O, K, s = 3, 5, 4, 2
        up = nn.ConvTranspose1d(I, O, K, stride=s, bias=False)
        model = fnn.ConvTranspose(O, (K,), strides=(s,), padding="VALID", use_bias=False)  # expect: CNV204


        def run(xn):
            kernel = jnp.asarray(up.weight.detach().permute(2, 0, 1).numpy())
            return model.apply({"params": {"kernel": kernel}}, xn)
        """, """\
        import flax.linen as fnn
        import jax.numpy as jnp
        I, O, K, s = 3, 5, 4, 2
        up = nn.ConvTranspose1d(I, O, K, stride=s, bias=False)
        model = fnn.ConvTranspose(O, (K,), strides=(s,), padding="VALID", use_bias=False)


        def run(xn):
            kernel = jnp.asarray(up.weight.detach().permute(2, 0, 1).flip(0).numpy())
            return model.apply({"params": {"kernel": kernel}}, xn)
        """),
    row("T05", "CNV501", """\
        def dilate_torch(x, w):
            return F.conv1d(x, w, None, 1, 0, 2)


        def dilate_port(x, w):
            return F.conv_transpose1d(x, w, None, 1, 0, 2)  # expect: CNV501
        """, """\
        def dilate_torch(x, w):
            return F.conv1d(x, w, None, 1, 0, 2)


        def dilate_port(x, w):
            return F.conv_transpose1d(x, w, dilation=2)
        """),
    row("T07", "CNV408", """\
        import keras


        class Up(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.ConvTranspose1d(4, 6, 4, 2, padding=1)


        class TFUp(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1DTranspose(6, 4, strides=2, padding="same", output_padding=0)  # expect: CNV408
        """, """\
        import keras


        class Up(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.ConvTranspose1d(4, 6, 4, 2, padding=1)


        class TFUp(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1DTranspose(6, 4, strides=2, padding="same", output_padding=None)
        """),
    row("T08", "CNV408", """\
        from jax import lax


        def up_torch():
            return nn.ConvTranspose1d(4, 6, 4, 2, padding=1, bias=False)


        def up_jax(xn, kt):
            return lax.conv_transpose(xn, kt, (2,), [(1, 1)], dimension_numbers=("NWC", "WIO", "NWC"), transpose_kernel=True)  # expect: CNV408
        """, """\
        from jax import lax


        def up_torch():
            return nn.ConvTranspose1d(4, 6, 4, 2, padding=1, bias=False)


        def up_jax(xn, kt):
            return lax.conv_transpose(xn, kt, (2,), [(2, 2)], dimension_numbers=("NWC", "WIO", "NWC"), transpose_kernel=True)
        """),
    row("B01", "CNV502", """\
        import tensorflow as tf

        conv = nn.Conv1d(4, 6, 3)
        x = torch.randn(2, 4, 16)
        y = conv(x)
        w = conv.weight.detach()
        b = conv.bias.detach().numpy()
        xn = x.permute(0, 2, 1).numpy()
        kn = w.permute(2, 1, 0).numpy()
        yn = tf.nn.conv1d(xn, kn, 1, "VALID")  # expect: CNV502
        """, """\
        import tensorflow as tf

        conv = nn.Conv1d(4, 6, 3)
        x = torch.randn(2, 4, 16)
        y = conv(x)
        w = conv.weight.detach()
        b = conv.bias.detach().numpy()
        xn = x.permute(0, 2, 1).numpy()
        kn = w.permute(2, 1, 0).numpy()
        yn = tf.nn.bias_add(tf.nn.conv1d(xn, kn, 1, "VALID"), b)
        """),
    # DT01 (float64 numpy data into a float32 torch conv) is a dtype crash, not a port hazard:
    # no rule; both programs stay silent.
    row("DT01", "not a lint rule", """\
        conv = nn.Conv1d(4, 6, 3, bias=False)
        w = conv.weight.detach()
        y = F.conv1d(torch.from_numpy(np.random.randn(2, 4, 16)), w)
        """, """\
        conv = nn.Conv1d(4, 6, 3, bias=False)
        w = conv.weight.detach()
        y = F.conv1d(torch.from_numpy(np.random.randn(2, 4, 16).astype(np.float32)), w)
        """),
    row("A01", "CNV501", """\
        import keras


        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3)


        class TFStem(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(4, 6, 3)  # expect: CNV501
        """, """\
        import keras


        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3)


        class TFStem(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, 3)
        """),
    row("A04-keras", "CNV504", """\
        import keras


        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, padding=1)


        class TFStem(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = keras.layers.Conv1D(6, 3, padding=1)  # expect: CNV504
        """, """\
        import keras


        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, padding=1)


        class TFStem(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.pad = keras.layers.ZeroPadding1D(1)
                self.conv = keras.layers.Conv1D(6, 3, padding="valid")

            def call(self, xn):
                return self.conv(self.pad(xn))
        """),
    row("A04-tf", "CNV504", """\
        import tensorflow as tf


        def stem_torch(x, w):
            return F.conv1d(x, w, padding=1)


        def stem_tf(xn, k):
            return tf.nn.conv1d(xn, k, 1, 1)  # expect: CNV504
        """, """\
        import tensorflow as tf


        def stem_torch(x, w):
            return F.conv1d(x, w, padding=1)


        def stem_tf(xn, k):
            return tf.nn.conv1d(xn, k, 1, "SAME")
        """),
    row("A05", "CNV407", """\
        from jax import lax


        class Dilated(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, dilation=2, bias=False)


        def dilated_jax(xn, kn):
            return lax.conv_general_dilated(xn, kn, (1,), [(0, 0)], lhs_dilation=(2,), dimension_numbers=("NWC", "WIO", "NWC"))  # expect: CNV407


        def dilated_torch(x, w):
            return F.conv1d(x, w, dilation=2)
        """, """\
        from jax import lax


        class Dilated(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 6, 3, dilation=2, bias=False)


        def dilated_jax(xn, kn):
            return lax.conv_general_dilated(xn, kn, (1,), [(0, 0)], rhs_dilation=(2,), dimension_numbers=("NWC", "WIO", "NWC"))


        def dilated_torch(x, w):
            return F.conv1d(x, w, dilation=2)
        """),
    row("A06", "CNV503", """\
        def smooth_torch(x1, k1):
            return F.conv1d(x1.view(1, 1, -1), k1.view(1, 1, -1)).flatten()


        def smooth_np(x, k):
            return np.convolve(x, k, "valid")  # expect: CNV503
        """, """\
        def smooth_torch(x1, k1):
            return F.conv1d(x1.view(1, 1, -1), k1.view(1, 1, -1)).flatten()


        def smooth_np(x, k):
            return np.correlate(x, k, "valid")
        """),
    row("A07", "CNV305", """\
        import tensorflow as tf

        conv = nn.Conv1d(4, 6, 3, bias=False)
        x = torch.randn(2, 4, 16)
        w = conv.weight.detach()
        y = F.conv1d(x[0], w)
        xn = x.permute(0, 2, 1).numpy()
        kn = w.permute(2, 1, 0).numpy()
        yn = tf.nn.conv1d(xn[0], kn, 1, "VALID")  # expect: CNV305
        """, """\
        import tensorflow as tf

        conv = nn.Conv1d(4, 6, 3, bias=False)
        x = torch.randn(2, 4, 16)
        w = conv.weight.detach()
        y = F.conv1d(x[0], w)
        xn = x.permute(0, 2, 1).numpy()
        kn = w.permute(2, 1, 0).numpy()
        yn = tf.nn.conv1d(xn[:1], kn, 1, "VALID")[0]
        """),
]


def program(body):
    return SETUP + "\n" + body


def findings(tmp_path, name, text, rid=""):
    path = tmp_path / name
    path.write_text(text)
    config = replace(ALL_RULES, reference=REFERENCE.get(rid, ALL_RULES.reference))
    report = engine.check_files([str(path)], config)
    return sorted((f.line, f.code) for f in report.findings)


def expected(text):
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            out += [(number, code.strip()) for code in match.group(1).split(",")]
    return sorted(out)


@pytest.mark.parametrize("rid, code, wrong, correct", ROWS)
def test_wrong_port_is_reported_with_its_code(tmp_path, rid, code, wrong, correct):
    text = program(wrong)
    assert findings(tmp_path, "wrong.py", text, rid) == expected(text)
    if code.startswith("CNV"):
        assert [c for _, c in expected(text)] == [code]


@pytest.mark.parametrize("rid, code, wrong, correct", _unmarked(ROWS))
def test_correct_port_is_silent(tmp_path, rid, code, wrong, correct):
    assert findings(tmp_path, "correct.py", program(correct), rid) == []


def test_every_appendix_a_row_is_covered():
    catalog = Path("/work/shared/reference/conv1d-hazards-catalog.md")
    if not catalog.exists():
        pytest.skip("catalog not available")
    text = catalog.read_text().split("## Appendix A", 1)[1].split("\n---", 1)[0]
    ids = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")}
    ids -= {"id"}
    covered = {p.values[0].split("-")[0] for p in ROWS}
    assert ids <= covered


MEASUREMENT_SCRIPT = """\
import keras
import torch
import torch.nn.functional as F

O, K = 6, 3
x = torch.randn(2, 4, 16)
ref = F.conv1d(x, torch.randn(O, 4, K))
ref2 = F.conv1d(x, torch.randn(O, 4, K), stride=2)
a = keras.layers.Conv1D(O, K, dilation_rate=2)
b = keras.layers.Conv1D(O, K)
c = keras.layers.Conv1D(O, K, strides=3)
"""


def test_measurement_script_pairs_are_weak(tmp_path):
    """A script measuring many variants in one module scope (the catalog's probes): with
    several sources and a different number of ports, order is a guess, so shared constant
    names do not make the pairs strong and nothing is an error."""
    path = tmp_path / "probe_script.py"
    path.write_text(MEASUREMENT_SCRIPT)
    report = engine.check_files([str(path)], ALL_RULES)
    assert report.pairs and all(p.weak for p in report.pairs)
    assert all(f.severity != "error" for f in report.findings)
