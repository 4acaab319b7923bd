"""Runtime probes against the real frameworks: one worker per family for the module."""

import pytest

from convlint.probe.runner import ProbeRunner
from convlint.probe.spec import ConvCall, ProbeSpec, Side

from specs import TO_NLC, TORCH_TO_TF, nlc_side, seed_spec, torch_conv, torch_vs_torch


@pytest.fixture(scope="module")
def runner():
    with ProbeRunner(cache=False) as shared:
        yield shared


@pytest.mark.parametrize("out_channels", [2, 4])
def test_originating_seed_is_confirmed_and_fixed(runner, out_channels):
    result = runner.probe(seed_spec(out_channels))
    assert result.status == "confirmed", result.detail
    assert result.max_abs_diff >= 1
    assert result.fix_max_abs_diff is not None and result.fix_max_abs_diff <= 1e-4


def test_correct_keras_grouped_port_is_not_reproduced(runner):
    source = torch_conv(4, 6, 3, groups=2, bias=True)
    port = nlc_side("keras", "keras.layers.Conv1D", 4, 6, 3, groups=2, bias=True)
    result = runner.probe(ProbeSpec("CNV101", source, port, lengths=(9, 16)))
    assert result.status == "not-reproduced", result.detail
    assert result.max_abs_diff <= 1e-4


def test_weight_reshape_instead_of_permute_is_confirmed(runner):
    port = nlc_side("tensorflow", "tensorflow.nn.conv1d", 3, 5, 4, padding="VALID",
                    kernel_ops=(("reshape", (4, 3, 5)),))
    result = runner.probe(ProbeSpec("CNV202", torch_conv(3, 5, 4), port))
    assert result.status == "confirmed", result.detail
    assert result.max_abs_diff > 1 and result.detail.startswith("values differ")


def test_int_padding_vs_same_at_stride_2_depends_on_length(runner):
    source = torch_conv(3, 5, 3, stride=2, padding=(1, 1))
    port = nlc_side("keras", "keras.layers.Conv1D", 3, 5, 3, stride=2, padding="same")
    result = runner.probe(ProbeSpec("CNV401", source, port, lengths=(8, 9)))
    assert result.status == "confirmed", result.detail
    assert result.detail.startswith("padding") and "L=8" in result.detail
    assert "agree at L=9" in result.detail


def test_padding_mode_dropped_differs_only_at_the_edges(runner):
    source = torch_conv(3, 5, 5, padding=(2, 2), padding_mode="reflect")
    port = nlc_side("keras", "keras.layers.Conv1D", 3, 5, 5, padding="same")
    result = runner.probe(ProbeSpec("CNV404", source, port, lengths=(16,)))
    assert result.status == "confirmed", result.detail
    assert result.detail.startswith("padding: differences only at the edges")


def test_dropped_bias_is_named(runner):
    source = torch_conv(3, 5, 4, bias=True)
    port = nlc_side("tensorflow", "tensorflow.nn.conv1d", 3, 5, 4, padding="VALID")
    result = runner.probe(ProbeSpec("CNV502", source, port))
    assert result.status == "confirmed" and result.detail.startswith("bias"), result.detail


def test_lax_default_dimension_numbers_on_nlc_data(runner):
    port = nlc_side("jax", "jax.lax.conv_general_dilated", 3, 5, 4, padding="VALID")
    result = runner.probe(ProbeSpec("CNV303", torch_conv(3, 5, 4), port))
    assert result.status == "confirmed", result.detail
    assert "port crashes where the source runs" in result.detail
    assert "feature_group_count" in result.detail
    fixed = nlc_side("jax", "jax.lax.conv_general_dilated", 3, 5, 4, padding="VALID",
                     dimension_numbers=("NWC", "WIO", "NWC"))
    assert runner.probe(ProbeSpec("CNV303", torch_conv(3, 5, 4), fixed)).status == "not-reproduced"


def test_flax_default_same_is_a_shape_mismatch(runner):
    port = nlc_side("flax", "flax.linen.Conv", 3, 5, 4, padding="SAME", bias=True)
    fix = nlc_side("flax", "flax.linen.Conv", 3, 5, 4, padding="VALID", bias=True)
    spec = ProbeSpec("CNV405", torch_conv(3, 5, 4, bias=True), port, fix, lengths=(12,))
    result = runner.probe(spec)
    assert result.status == "confirmed"
    assert result.detail.startswith("shape (2,5,9) vs (2,5,12)"), result.detail
    assert result.fix_max_abs_diff <= 1e-4


def test_tf_abort_costs_one_probe_and_the_run_continues(runner):
    unbatched = TO_NLC + (("slice", (0, 0, 1, 1)), ("reshape", (9, 3)))
    port = nlc_side("tensorflow", "tensorflow.nn.conv1d", 3, 5, 4, padding="VALID",
                    input_ops=unbatched)
    after = nlc_side("tensorflow", "tensorflow.nn.conv1d", 3, 5, 4, padding="VALID")
    aborted, later = runner.run([
        ProbeSpec("CNV305", torch_conv(3, 5, 4), port),
        ProbeSpec("CNV305", torch_conv(3, 5, 4), after),
    ])
    assert aborted.status == "failed" and "SIGABRT" in aborted.detail, aborted.detail
    assert later.status == "not-reproduced", later.detail


def test_transposed_convs_agree_with_torch(runner):
    source = Side(ConvCall("torch", "torch.nn.functional.conv_transpose1d", 3, 5, 4, stride=2,
                           padding=(1, 1), kernel_layout="IOK"))
    keras_port = Side(ConvCall("keras", "keras.layers.Conv1DTranspose", 3, 5, 4, stride=2,
                               padding="same", data_layout="NLC", kernel_layout="KOI"),
                      kernel_ops=TORCH_TO_TF, input_ops=TO_NLC)
    flax_no_flip = Side(ConvCall("flax", "flax.linen.ConvTranspose", 3, 5, 4, stride=2,
                                 padding="SAME", data_layout="NLC", kernel_layout="KIO"),
                        kernel_ops=(("permute", (2, 0, 1)),), input_ops=TO_NLC)
    results = runner.run([ProbeSpec("CNV408", source, keras_port, lengths=(7,)),
                          ProbeSpec("CNV204", source, flax_no_flip, lengths=(7,))])
    assert [r.status for r in results] == ["not-reproduced", "confirmed"], results


def test_timeout_kills_the_worker_and_the_next_probe_runs(monkeypatch):
    monkeypatch.setenv("CONVLINT_PROBE_TEST_SLEEP", "TEST-SLEEP=60")
    with ProbeRunner(cache=False, timeout=2) as runner:
        slow, fast = runner.run([torch_vs_torch("TEST-SLEEP"), torch_vs_torch()])
        assert runner.workers_started == 2
    assert slow.status == "failed" and slow.detail.startswith("timeout"), slow.detail
    assert fast.status == "not-reproduced", fast.detail


def test_missing_framework_is_skipped(monkeypatch, tmp_path):
    # A package that fails to import shadows the real torch in the worker.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('simulated: no torch')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    mxnet = Side(ConvCall("mxnet", "mxnet.nd.Convolution", 3, 5, 4))
    unknown = ProbeSpec("X", mxnet, mxnet)
    with ProbeRunner(cache=False) as runner:
        missing, unserved = runner.run([torch_vs_torch(), unknown])
    assert missing.status == "skipped" and "simulated: no torch" in missing.detail
    assert unserved.status == "skipped" and "mxnet" in unserved.detail


def test_oversized_probe_is_skipped_without_a_worker():
    big = ProbeSpec("X", torch_conv(512, 512, 7), torch_conv(512, 512, 7), lengths=(16000,))
    with ProbeRunner(cache=False) as runner:
        (result,) = runner.run([big])
        assert result.status == "skipped" and "MiB" in result.detail
        assert runner.workers_started == 0
