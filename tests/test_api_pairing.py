"""Pairing evidence beyond names: port-of markers, the port-map, conv subclasses and
user classes built from convs; and what CallFacts record for the API rules."""

import os
import textwrap
from pathlib import Path

import pytest

from convlint import engine
from convlint.config import Config
from convlint.infer import infer_sites
from convlint.pairing import EXPLICIT, INSTANCE, pair_across
from convlint.parse import parse_text
from convlint.sites import find_sites

TRANSFORMERS = Path("/work/data/transformers-4.46.3/transformers/models")


def sites_of(source):
    parsed = parse_text("case.py", textwrap.dedent(source))
    return infer_sites(parsed, find_sites(parsed))


def write(tmp_path, files):
    paths = []
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        paths.append(str(path))
    return paths


def pairs_of(paths, config=Config(select=("CNV",), probe=False)):
    report = engine.check_files(sorted(paths), config)
    return [(os.path.basename(p.source.path), p.source.span.line,
             os.path.basename(p.port.path), p.port.span.line, p.evidence) for p in report.pairs]


SOURCE = """\
from torch import nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 5, 4)
"""
PORT = """\
import keras


class Stem(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv1D(5, 4, use_bias=False)
"""


def test_port_map_pairs_what_names_do_not(tmp_path):
    paths = write(tmp_path, {"ref/model.py": SOURCE, "port/stem.py": PORT})
    assert pairs_of(paths) == []
    mapped = Config(select=("CNV",), probe=False,
                    port_map=(("port/stem.py::Stem", "ref/model.py::Encoder"),))
    assert pairs_of(paths, mapped) == [("model.py", 7, "stem.py", 7, EXPLICIT)]
    report = engine.check_files(sorted(paths), mapped)
    assert [f.code for f in report.findings] == ["CNV502"]


def test_marker_on_the_call_line(tmp_path):
    marker = "use_bias=False)  # convlint: port-of ref/model.py::Encoder"
    port = PORT.replace("use_bias=False)", marker)
    paths = write(tmp_path, {"ref/model.py": SOURCE, "port/stem.py": port})
    assert pairs_of(paths) == [("model.py", 7, "stem.py", 7, EXPLICIT)]


def test_marker_naming_a_missing_source_pairs_nothing(tmp_path):
    port = "# convlint: port-of nowhere.py::Encoder\n" + PORT
    paths = write(tmp_path, {"ref/model.py": SOURCE, "port/stem.py": port})
    assert pairs_of(paths) == []


def test_keras_conv_subclass_super_init_is_a_site_paired_where_instantiated(tmp_path):
    torch_src = """\
    from torch import nn


    class PosConvEmbedding(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.conv = nn.Conv1d(8, 8, 5, padding=2, groups=4)
    """
    tf_src = """\
    import keras


    class TFWeightNormConv1D(keras.layers.Conv1D):
        def __init__(self, filters, kernel_size, groups, **kwargs):
            super().__init__(filters=filters, kernel_size=kernel_size, groups=groups, **kwargs)


    class TFPosConvEmbedding(keras.layers.Layer):
        def __init__(self, config):
            super().__init__()
            self.conv = TFWeightNormConv1D(filters=8, kernel_size=5, groups=4)
    """
    paths = write(tmp_path, {"modeling_x.py": torch_src, "modeling_tf_x.py": tf_src})
    assert pairs_of(paths) == [("modeling_x.py", 7, "modeling_tf_x.py", 6, INSTANCE)]


def test_call_facts_record_slots_unknown_keywords_and_bias_use():
    sites = sites_of("""\
        import tensorflow as tf
        import keras

        def f(x, k, b):
            y = tf.nn.conv1d(x, k, 1, "VALID")
            z = tf.nn.conv1d(x, k, 1, "VALID")
            return tf.nn.bias_add(y, b), tf.nn.relu(z)

        layer = keras.layers.Conv1D(4, 3, dilation=2)
    """)
    first, second, layer = sites
    assert first.call.positional == ("input", "filters", "stride", "padding")
    assert (first.call.result_biased, second.call.result_biased) == (True, False)
    assert layer.call.unknown == ("dilation",)
    assert layer.call.value("filters") == 4


def test_numpy_reference_does_not_take_the_source_from_the_port():
    source = """\
        import numpy as np
        import keras
        from torch import nn

        def smooth_torch():
            return nn.Conv1d(1, 1, 3)

        def smooth_np(x, k):
            return np.convolve(x, k, "valid")

        def smooth_keras():
            return keras.layers.Conv1D(1, 3)
    """
    parsed = parse_text("case.py", textwrap.dedent(source))
    sites = infer_sites(parsed, find_sites(parsed))
    pairs = pair_across({"case.py": sites}, lambda s: s.spec.framework == "torch",
                        lambda s: s.spec.framework != "torch")
    assert sorted(p.port.spec.api for p in pairs) == ["keras.layers.Conv1D", "numpy.convolve"]


@pytest.mark.skipif(not TRANSFORMERS.is_dir(), reason="transformers source tree not present")
def test_transformers_torch_tf_pairs():
    models = ["wav2vec2", "hubert", "whisper", "convbert", "sew", "sew_d", "speech_to_text"]
    files = engine.collect_files([str(TRANSFORMERS / m) for m in models])[0]
    report = engine.check_files(files, Config(probe=False))
    found = [(os.path.relpath(p.source.path, TRANSFORMERS), ".".join(p.source.scope),
              os.path.relpath(p.port.path, TRANSFORMERS), ".".join(p.port.scope))
             for p in report.pairs if p.port.spec.framework == "keras"]
    assert ("wav2vec2/modeling_wav2vec2.py", "Wav2Vec2PositionalConvEmbedding.__init__",
            "wav2vec2/modeling_tf_wav2vec2.py", "TFWav2Vec2WeightNormConv1D.__init__") in found
    assert ("hubert/modeling_hubert.py", "HubertPositionalConvEmbedding.__init__",
            "hubert/modeling_tf_hubert.py", "TFHubertWeightNormConv1D.__init__") in found
    assert ("convbert/modeling_convbert.py", "SeparableConv1D.__init__",
            "convbert/modeling_tf_convbert.py", "TFConvBertSelfAttention.__init__") in found
    assert ("speech_to_text/modeling_speech_to_text.py", "Conv1dSubsampler.__init__",
            "speech_to_text/modeling_tf_speech_to_text.py", "TFConv1dSubsampler.__init__") in found
    assert sum(1 for f in found if f[0].startswith("whisper/")) == 2
    assert sum(1 for f in found if f[0].startswith("wav2vec2/")) == 4
    assert sum(1 for f in found if f[0].startswith("hubert/")) == 4
    assert report.findings == ()


def test_marker_before_decorators_applies_to_the_function():
    sites = sites_of("""\
        import tensorflow as tf
        import functools

        # convlint: port-of ref.py::smooth
        @functools.lru_cache
        @tf.function
        def blur(x, k):
            return tf.nn.conv1d(x, k, 1, "VALID")

        def other(x, k):
            return tf.nn.conv1d(x, k, 1, "VALID")
    """)
    assert [s.call.port_of for s in sites] == ["ref.py::smooth", None]
