"""numpy-only parts: view ops, data generation and difference patterns (no workers)."""

import numpy as np
import pytest

from convlint.probe import data
from convlint.probe.compare import compare
from convlint.probe.spec import ConvCall, ProbeSpec

from probe_specs import seed_spec, torch_conv


def test_kernel_shapes_follow_the_layouts():
    base = dict(in_channels=4, out_channels=6, kernel_size=3, groups=2)
    shapes = {
        layout: data.kernel_shape(ConvCall("x", "x", kernel_layout=layout, **base))
        for layout in ("OIK", "IOK", "KIO", "KOI")
    }
    assert shapes == {"OIK": (6, 2, 3), "IOK": (4, 3, 3), "KIO": (3, 2, 6), "KOI": (3, 3, 4)}
    depthwise = ConvCall("keras", "x", 4, 8, 3, kernel_layout="KCM", depth_multiplier=2)
    assert data.kernel_shape(depthwise) == (3, 4, 2)


def test_source_tensors_are_deterministic_and_weights_ignore_length():
    spec = seed_spec(4)
    a, b = data.source_tensors(spec, 9), data.source_tensors(spec, 9)
    assert np.array_equal(a.x, b.x) and a.x.shape == (2, 2, 9) and a.x.dtype == np.float32
    assert a.weight.shape == (4, 1, 3) and a.bias.shape == (4,)
    other = data.source_tensors(spec, 10)
    assert np.array_equal(a.weight, other.weight) and other.x.shape == (2, 2, 10)


def test_view_ops():
    w = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    assert data.apply_ops(w, [("permute", (2, 1, 0))]).shape == (3, 4, 2)
    assert data.apply_ops(w, [("reshape", (3, 4, 2))]).shape == (3, 4, 2)
    assert np.array_equal(data.apply_ops(w, [("flip", 0)]), w[::-1])
    assert data.apply_ops(w, [("tile", (1, 2, 1))]).shape == (2, 8, 3)
    assert np.array_equal(data.apply_ops(w, [("slice", (1, 1, None, 2))]), w[:, 1::2])
    assert not data.apply_ops(w, [("zero",)]).any()
    grouped = np.ones((3, 2, 4), np.float32)  # K=3, I/g=2, O=4, groups=2
    dense = data.apply_ops(grouped, [("block_diag", 2)])
    assert dense[0].tolist() == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]
    interleaved = data.apply_ops(grouped, [("interleave_diag", 2)])
    assert interleaved[0].tolist() == [[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1]]
    with pytest.raises(ValueError):
        data.apply_ops(w, [("reshape", (5, 5))])


def test_oversized_probe_is_refused():
    spec = ProbeSpec("X", torch_conv(512, 512, 7), torch_conv(512, 512, 7), lengths=(16000,))
    with pytest.raises(data.ProbeTooLarge):
        data.check_size(spec)


def _pattern(ref, out, **kw):
    return compare(ref, out, length=9, edge=2, **kw).pattern


def test_difference_patterns():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((2, 3, 12))
    assert _pattern(ref, ref + np.array([1.0, -2.0, 0.5])[:, None]).startswith("bias")
    assert _pattern(ref, ref[:, [2, 0, 1]]).startswith("layout")
    assert _pattern(ref, 2 * ref, groups_hint=2).startswith("groups")
    edged = ref.copy()
    edged[..., 0] += 1
    edged[..., -2:] -= 1
    assert _pattern(ref, edged).startswith("padding: differences only at the edges")
    shifted = np.concatenate([np.zeros((2, 3, 1)), ref[..., :-1]], axis=-1)
    assert _pattern(ref, shifted).startswith("padding: port output is the source's delayed by 1")
    assert _pattern(ref, rng.standard_normal(ref.shape)) == "values differ"
    assert _pattern(ref, ref[..., :-1]) == "shape (2,3,12) vs (2,3,11)"
    assert not compare(ref, ref + 1e-6, length=9, edge=2).differs


def test_layout_and_groups_patterns_with_random_data():
    rng = np.random.default_rng(1)
    ref = rng.standard_normal((2, 3, 12))
    swapped = compare(ref, np.swapaxes(ref, -1, -2), length=12, edge=2)
    assert swapped.max_abs_diff is None
    assert swapped.pattern == ("shape (2,3,12) vs (2,12,3) (layout: the source's output with "
                               "channel and length axes swapped)")
    square = rng.standard_normal((2, 5, 5))
    assert _pattern(square, np.swapaxes(square, -1, -2)).startswith("layout: port output is")
    dense = ref + rng.standard_normal(ref.shape)  # other groups' channels mixed in
    assert _pattern(ref, dense, groups_hint=2).startswith("groups: every output channel")
    assert _pattern(ref, dense) == "values differ"
    half = ref.copy()
    half[:, 0] += 1  # one channel off: not the groups pattern
    assert not _pattern(ref, half, groups_hint=2).startswith("groups")
