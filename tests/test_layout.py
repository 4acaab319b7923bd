"""Data-layout inference (catalog L01, L02, L05, L06, A07) and the layout probe planners."""

import textwrap
from pathlib import Path

import pytest

from convlint import engine
from convlint.config import Config
from convlint.infer import SCRAMBLED_NCL, infer_sites, input_data_layout
from convlint.parse import parse_text
from convlint.probe import plan
from convlint.sites import find_sites

FIXTURES = Path(__file__).parent / "fixtures"
HEAD = """\
import keras
import numpy as np
import tensorflow as tf
import torch
import torch.nn as nn
"""


def sites_of(source):
    parsed = parse_text("case.py", HEAD + textwrap.dedent(source))
    return infer_sites(parsed, find_sites(parsed))


def last(source):
    return sites_of(source)[-1]


@pytest.mark.parametrize("expression, axes", [
    ("x", "NCL"),
    ("x.numpy()", "NCL"),
    ("np.asarray(x.detach())", "NCL"),
    ("tf.convert_to_tensor(x.numpy())", "NCL"),
    ("x.permute(0, 2, 1).numpy()", "NLC"),
    ("x.transpose(1, 2)", "NLC"),
    ("x.numpy().transpose(0, 2, 1)", "NLC"),
    ("np.transpose(x.numpy(), (0, 2, 1))", "NLC"),
    ("tf.transpose(x, [0, 2, 1])", "NLC"),
    ("x.numpy().reshape(2, 9, 4)", SCRAMBLED_NCL),
    ("x.reshape(1, 2, 4, 9)", "1NCL"),  # a size-1 axis keeps the order
])
def test_a_torch_conv_input_is_channels_first_from_there_on(expression, axes):
    site = last(f"""
        conv = nn.Conv1d(4, 6, 3)
        x = torch.randn(2, 4, 9)
        y = conv(x)
        tf.nn.conv1d({expression}, tf.ones([3, 4, 6]), 1, "VALID")
    """)
    assert site.spec.input.axes == axes


def test_the_layout_is_not_known_before_the_torch_use_nor_after_one_branch():
    before, _, after_branch = sites_of("""
        x = torch.randn(2, 4, 9)
        a = tf.nn.conv1d(x.numpy(), tf.ones([3, 2, 6]), 1, "VALID")
        if flag:
            nn.functional.conv1d(x, torch.ones(6, 4, 3))
        b = tf.nn.conv1d(x.numpy(), tf.ones([3, 2, 6]), 1, "VALID")
    """)
    assert before.spec.input.axes is None
    assert after_branch.spec.input.axes is None
    assert after_branch.spec.input.shape == (2, 4, 9)  # the branch merge keeps the shape


def test_conv_outputs_have_their_op_layout_and_length():
    site = last("""
        x = torch.randn(2, 4, 12)
        hidden = keras.layers.Conv1D(6, 3)(x.permute(0, 2, 1).numpy())
        nn.Conv1d(6, 5, 3)(torch.from_numpy(hidden.numpy()))
    """)
    assert (site.spec.input.shape, site.spec.input.axes) == ((2, 10, 6), "NLC")


def test_a_layer_records_its_first_application():
    site = sites_of("""
        class Block(nn.Module):
            def __init__(self):
                self.conv = nn.Conv1d(4, 6, 3)

            def forward(self, x):
                h = torch.randn(2, 4, 9)
                return self.conv(h)
    """)[0]
    assert site.spec.input.shape == (2, 4, 9)
    assert site.call_span.line == 13 and site.input_span.line == 13


@pytest.mark.parametrize("call, layout, flagged", [
    ('keras.config.set_image_data_format("channels_first")', "NCL", True),
    ('keras.backend.set_image_data_format("channels_last")', "NLC", False),
    ("keras.backend.set_image_data_format(fmt)", None, False),
    ("", "NLC", False),
])
def test_keras_global_data_format(call, layout, flagged):
    site = last(f"""
        {call}
        keras.layers.Conv1D(5, 3)
    """)
    assert site.spec.data_layout == layout
    assert (site.spec.data_format_from is not None) == bool(call)
    explicit = last(f"""
        {call}
        keras.layers.Conv1D(5, 3, data_format="channels_last")
    """)
    assert explicit.spec.data_layout == "NLC" and explicit.spec.data_format_from is None


@pytest.mark.parametrize("data, expected", [
    ("torch.randn(2, 4, 16)", "NCL"),  # dim 1 is the filter's in-dim
    ("np.random.randn(2, 4, 16)", "NCL"),
    ("tf.random.normal([2, 4, 16])", None),  # TF data: a legitimate grouped conv (G02)
    ("torch.randn(2, 16, 4)", None),
    ("torch.randn(2, 4, 4)", None),  # C == L: only the flow can tell
])
def test_the_shape_rule_into_a_channels_last_op(data, expected):
    site = last(f'tf.nn.conv1d({data}, tf.ones([3, 4, 8]), 1, "VALID")')
    assert input_data_layout(site.spec)[0] == expected


def _fixture_findings(code):
    files = sorted(str(p) for p in (FIXTURES / code).glob("*.py"))
    report = engine.check_files(files, Config(select=("CNV",), probe=False))
    return [f for f in report.findings if f.code == code]


@pytest.mark.parametrize("code", ["CNV301", "CNV302", "CNV303", "CNV304", "CNV305"])
def test_every_layout_fixture_finding_has_a_probe_with_a_fix(code):
    findings = _fixture_findings(code)
    assert findings
    for finding in findings:
        spec = plan.plan(finding)
        assert spec is not None and spec.fix is not None, (finding.path, finding.line)
