"""Weight flow through instances of the file's classes and typed function parameters."""

import textwrap

import pytest

from convlint.infer import infer_sites
from convlint.parse import parse_text
from convlint.sites import find_sites

MODELS = """\
import keras
import torch.nn as nn


class TorchNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 5, 4)


class OtherNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 5, 2)


class TFNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv1D(5, 4)


def load(tf_model, torch_model):
    tf_model.conv.set_weights([torch_model.conv.weight.detach().numpy()])
"""


def keras_weight(tail):
    parsed = parse_text("case.py", MODELS + textwrap.dedent(tail))
    (port,) = [s for s in infer_sites(parsed, find_sites(parsed)) if s.spec.framework == "keras"]
    return port.spec.weight


@pytest.mark.parametrize("tail", [
    "load(TFNet(), TorchNet())",
    "net, tfnet = TorchNet(), TFNet()\nload(tfnet, net)",
    "def main():\n    load(torch_model=TorchNet(), tf_model=TFNet())",
    "def a():\n    load(TFNet(), TorchNet())\n\n\ndef b():\n    load(TFNet(), TorchNet())",
    "net = TorchNet()\ntfnet = TFNet()\ntfnet.conv.set_weights([net.conv.weight.numpy()])",
    "def f():\n    tfnet.conv.kernel.assign(net.conv.weight.numpy())\n\n\n"
    "net = TorchNet()\ntfnet = TFNet()",
    "def g(tf_model: TFNet, torch_model: TorchNet):\n"
    "    tf_model.conv.set_weights([torch_model.conv.weight.numpy()])",
], ids=["call", "names", "keywords-in-function", "two-agreeing-calls", "module-level",
        "globals-in-function", "annotations"])
def test_the_torch_weight_reaches_the_keras_layer(tail):
    weight = keras_weight(tail)
    assert weight is not None and weight.origin == "case.py:8.weight"
    assert weight.shape == (5, 3, 4)


@pytest.mark.parametrize("tail", [
    "",  # never called
    "load(TFNet(), TorchNet())\nload(TFNet(), OtherNet())",  # two classes
    "load(TFNet(), TorchNet())\ncallbacks = [load]",  # also referenced other than by a call
    "args = (TFNet(), TorchNet())\nload(*args)",
    "net = TorchNet() if flag else OtherNet()\nload(TFNet(), net)",
], ids=["uncalled", "two-classes", "callback", "star-args", "either-class"])
def test_parameters_stay_unknown_unless_every_call_agrees(tail):
    assert keras_weight(tail) is None


def test_self_instantiation_and_recursion_terminate():
    source = """\
        import torch.nn as nn


        class Tree(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(3, 5, 4)
                self.child = Tree()


        def walk(node):
            walk(node.child)


        walk(Tree())
        """
    parsed = parse_text("case.py", textwrap.dedent(source))
    (site,) = infer_sites(parsed, find_sites(parsed))
    assert site.spec.out_channels == 5
