"""Padding arithmetic against the measured grid (catalog 3.4, results/padding_grid_compact.md)."""

import pytest

from convlint import padding as pad
from convlint.spec import ConvSpec, Crop, PadFact, Padding, TensorFact


def conv(framework="keras", padding=Padding("same"), k=3, s=1, d=1, layout="NLC", **kw):
    return ConvSpec(framework, f"{framework}.conv", "conv", "layer", kernel_size=k, stride=s,
                    dilation=d, padding=padding, data_layout=layout, **kw)


# (K, s, d, L) -> TF SAME pads (left, right), rows of the measured grid.
GRID = [((2, 1, 1, 8), (0, 1)), ((2, 2, 1, 9), (0, 1)), ((2, 2, 2, 8), (0, 1)),
        ((3, 2, 1, 8), (0, 1)), ((3, 2, 2, 8), (1, 2)), ((4, 1, 1, 8), (1, 2)),
        ((4, 2, 2, 8), (2, 3)), ((5, 2, 1, 8), (1, 2)), ((5, 2, 2, 8), (3, 4)),
        ((5, 2, 2, 9), (4, 4)), ((2, 2, 1, 8), (0, 0))]


@pytest.mark.parametrize("config,expected", GRID)
def test_same_split_matches_tf(config, expected):
    k, s, d, length = config
    eff = pad.effective(conv(k=k, s=s, d=d), length)
    assert (eff.left, eff.right) == expected


def test_same_lower_puts_the_odd_pad_left():
    eff = pad.effective(conv("jax", Padding("same_lower"), k=4), 9)
    assert (eff.left, eff.right) == (2, 1)


def test_torch_same_crashes_at_stride_2():
    assert pad.effective(conv("torch", k=3, s=2, layout="NCL"), 8) is None


# torch p = d(K-1)//2 vs SAME: grid verdicts (silent shift / shape / equal).
@pytest.mark.parametrize("k,s,d,length,differs", [
    (3, 2, 1, 8, True), (3, 2, 1, 9, False), (2, 1, 1, 8, True), (4, 2, 1, 8, False),
    (4, 2, 1, 9, True), (5, 1, 2, 9, False), (2, 2, 2, 8, True), (2, 2, 2, 9, False)])
def test_int_padding_vs_same(k, s, d, length, differs):
    p = d * (k - 1) // 2
    source = conv("torch", Padding.explicit(p, p), k, s, d, "NCL")
    verdict = pad.compare(source, conv(k=k, s=s, d=d), [length])
    assert bool(verdict.differs_at) == differs


def test_parity_dependence_is_reported_as_sometimes():
    source = conv("torch", Padding.explicit(1, 1), 3, 2, 1, "NCL")
    verdict = pad.compare(source, conv(k=3, s=2), pad.lengths_to_try(None, 2))
    assert verdict.sometimes


def test_causal_forms_agree():
    reach = 2 * (3 - 1)
    pre = TensorFact(None, None, pads=(PadFact(-1, reach, 0),))
    pad_left = conv("torch", Padding("valid", 0, 0), 3, 1, 2, "NCL", input=pre)
    chomp = conv("torch", Padding.explicit(reach, reach), 3, 1, 2, "NCL",
                 output_crop=Crop(-1, None, -reach))
    keras_causal = conv(padding=Padding("causal"), k=3, d=2)
    for a in (pad_left, chomp):
        assert not pad.compare(a, keras_causal, [20]).differs_at
    assert pad.compare(conv("torch", Padding.explicit(reach, reach), 3, 1, 2, "NCL"),
                       keras_causal, [20]).differs_at


def test_pad_on_channel_axis_is_not_length_padding():
    pre = TensorFact(None, None, pads=(PadFact(-1, 2, 0),))  # NLC: -1 is channels
    assert pad.effective(conv(padding=Padding("valid", 0, 0), input=pre), 9).left == 0


def test_transposed_windows():
    torch_up = ConvSpec("torch", "t", "conv_transpose", "layer", kernel_size=3, stride=2,
                        dilation=1, padding=Padding.explicit(1, 1), output_padding=1)
    keras_same = ConvSpec("keras", "k", "conv_transpose", "layer", kernel_size=3, stride=2,
                          dilation=1, padding=Padding("same"))
    assert pad.transposed_window(torch_up, 7) == (1, 14)
    assert pad.transposed_window(keras_same, 7) == (0, 14)  # catalog T02: 8.63 silent
    keras_op0 = ConvSpec("keras", "k", "conv_transpose", "layer", kernel_size=5, stride=2,
                         dilation=1, padding=Padding("same"), output_padding=0)
    torch_p2 = ConvSpec("torch", "t", "conv_transpose", "layer", kernel_size=5, stride=2,
                        dilation=1, padding=Padding.explicit(2, 2), output_padding=0)
    assert pad.transposed_window(keras_op0, 7) == pad.transposed_window(torch_p2, 7) == (2, 13)


SNIPPET = b'''
import keras
import tensorflow as tf
import torch.nn as nn
import torch.nn.functional as F

K = 3


def causal_torch(x, w):
    return F.conv1d(F.pad(x, (K - 1, 0)), w)


class Enc(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 5, 3, padding=2)

    def forward(self, x):
        return self.conv(x)[:, :, :-2]


class TFEnc(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.pad = keras.layers.ZeroPadding1D((2, 0))
        self.conv = keras.layers.Conv1D(5, 3)

    def call(self, x):
        x = tf.transpose(x, perm=(0, 2, 1))
        x = tf.pad(x, [[0, 0], [1, 1], [0, 0]], mode="SYMMETRIC")
        return self.conv(self.pad(x))
'''


def test_inference_records_pads_layer_inputs_and_crops():
    from convlint.config import Config
    from convlint.engine import analyze_bytes

    sites = {s.span.line: s.spec for s in analyze_bytes("t.py", SNIPPET, Config()).sites}
    assert sites[11].input.pads == (PadFact(-1, 2, 0, "constant"),)
    assert sites[17].output_crop == Crop(-1, None, -2)
    assert pad.effective(sites[17], 9) == pad.Effective(2, 0, "constant")
    assert sites[27].input.pads == (PadFact(-2, 1, 1, "symmetric"), PadFact(-2, 2, 0, "constant"))
    assert pad.effective(sites[27], 9) == pad.Effective(3, 1, "mixed")


def test_fix_edits_produce_valid_python():
    import ast
    from pathlib import Path

    from convlint import engine
    from convlint.config import Config

    fixtures = sorted(Path(__file__).parent.joinpath("fixtures").glob("CNV40*/*.py"))
    report = engine.check_files([str(p) for p in fixtures], Config(select=("CNV",), probe=False))
    edited = 0
    for finding in report.findings:
        if finding.fix is None or not finding.fix.edits:
            continue
        lines = Path(finding.path).read_text().splitlines()
        for e in sorted(finding.fix.edits, key=lambda e: (e.line, e.column), reverse=True):
            assert e.line == e.end_line
            text = lines[e.line - 1]
            lines[e.line - 1] = text[:e.column - 1] + e.replacement + text[e.end_column - 1:]
        ast.parse("\n".join(lines))
        edited += 1
    assert edited >= 8
