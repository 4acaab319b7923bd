"""Fix edits that rewrite a weight's or a data tensor's view chain (CNV201-205, CNV302):
exact, local, in the value's own idiom, and absent when the chain is not one expression."""

import textwrap

from convlint import engine
from convlint.config import Config

ALL_RULES = Config(select=("CNV",), probe=False)

HEADER = """\
import numpy as np
import tensorflow as tf
import torch.nn as nn

conv = nn.Conv1d(3, 5, 4, bias=False)
"""


def _edits(tmp_path, body, code):
    path = tmp_path / "port.py"
    path.write_text(HEADER + textwrap.dedent(body))
    findings = [f for f in engine.check_files([str(path)], ALL_RULES).findings if f.code == code]
    assert findings, engine.check_files([str(path)], ALL_RULES).findings
    lines = path.read_text().splitlines()
    # (the replaced text, its replacement); columns are 1-based, the end exclusive
    return [(lines[e.line - 1][e.column - 1:e.end_column - 1], e.replacement)
            for f in findings for e in (f.fix.edits if f.fix else ()) if e.line == e.end_line]


def test_torch_chain_gets_permute_before_numpy(tmp_path):
    edits = _edits(tmp_path, """
        def port(x):
            return tf.nn.conv1d(x, conv.weight.detach().permute(2, 0, 1).numpy(), 1, "VALID")
    """, "CNV203")
    assert edits == [("conv.weight.detach().permute(2, 0, 1).numpy()",
                      "conv.weight.detach().permute(2, 1, 0).numpy()")]


def test_ndarray_chain_gets_transpose(tmp_path):
    edits = _edits(tmp_path, """
        def port(x):
            return tf.nn.conv1d(x, conv.weight.detach().numpy().reshape(4, 3, 5), 1, "VALID")
    """, "CNV202")
    assert edits == [("conv.weight.detach().numpy().reshape(4, 3, 5)",
                      "conv.weight.detach().numpy().transpose(2, 1, 0)")]


def test_function_style_view_is_unwrapped(tmp_path):
    edits = _edits(tmp_path, """
        def port(x):
            k = np.transpose(conv.weight.detach().numpy(), (2, 0, 1))
            return tf.nn.conv1d(x, k, 1, "VALID")
    """, "CNV203")
    assert edits == [("np.transpose(conv.weight.detach().numpy(), (2, 0, 1))",
                      "conv.weight.detach().numpy().transpose(2, 1, 0)")]


def test_views_split_over_statements_give_no_edit(tmp_path):
    edits = _edits(tmp_path, """
        w = conv.weight.detach().permute(2, 1, 0)

        def port(x):
            return tf.nn.conv1d(x, w.flip(0).numpy(), 1, "VALID")
    """, "CNV203")
    assert edits == []


def test_a_tf_value_gets_no_edit(tmp_path):
    edits = _edits(tmp_path, """
        def port(x):
            return tf.nn.conv1d(x, tf.constant(conv.weight.detach().numpy()), 1, "VALID")
    """, "CNV201")
    # the edit stays inside the conversion's argument, a numpy value
    assert edits == [("conv.weight.detach().numpy()",
                      "conv.weight.detach().permute(2, 1, 0).numpy()")]
    edits = _edits(tmp_path, """
        def port(x):
            k = tf.reshape(tf.constant(conv.weight.detach().numpy()), (4, 3, 5))
            return tf.nn.conv1d(x, k, 1, "VALID")
    """, "CNV202")
    assert edits == []


def test_stored_ndarray_keeps_its_kind(tmp_path):
    edits = _edits(tmp_path, """
        weights = (conv.weight.detach().numpy(),)

        def port(x):
            return tf.nn.conv1d(x, weights[0], 1, "VALID")
    """, "CNV201")
    assert [e[1] for e in edits] == ["weights[0].transpose(2, 1, 0)"]


def test_parenthesized_receiver_gives_no_edit(tmp_path):
    edits = _edits(tmp_path, """
        def port(x):
            return tf.nn.conv1d(x, (conv.weight.detach()).numpy(), 1, "VALID")
    """, "CNV201")
    assert edits == []


def test_branches_with_two_assignments_give_no_edit(tmp_path):
    edits = _edits(tmp_path, """
        import sys
        if sys.argv:
            w = conv.weight.detach().permute(2, 0, 1)
        else:
            w = conv.weight.detach().permute(2, 0, 1)

        def port(x):
            return tf.nn.conv1d(x, w.numpy(), 1, "VALID")
    """, "CNV203")
    assert edits == []
