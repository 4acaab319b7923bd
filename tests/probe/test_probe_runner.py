"""Runtime probes against the real frameworks: one worker per family for the module."""

import subprocess
import sys

import pytest

from convlint.probe.runner import ProbeRunner
from convlint.probe.spec import ConvCall, ProbeSpec, Side

from probe_specs import TO_NLC, TORCH_TO_TF, nlc, seed_spec, torch_conv, torch_vs_torch

DENSE_TF = "tensorflow", "tensorflow.nn.conv1d"


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
    port = nlc("keras", "keras.layers.Conv1D", 4, 6, 3, groups=2, bias=True)
    result = runner.probe(ProbeSpec("CNV101", source, port, lengths=(9, 16)))
    assert result.status == "not-reproduced", result.detail
    assert result.max_abs_diff <= 1e-4


def test_weight_reshape_instead_of_permute_is_confirmed(runner):
    port = nlc(*DENSE_TF, 3, 5, 4, padding="VALID", kernel_ops=(("reshape", (4, 3, 5)),))
    result = runner.probe(ProbeSpec("CNV202", torch_conv(3, 5, 4), port))
    assert result.status == "confirmed", result.detail
    assert result.max_abs_diff > 1 and result.detail.startswith("values differ")


def test_int_padding_vs_same_at_stride_2_depends_on_length(runner):
    source = torch_conv(3, 5, 3, stride=2, padding=(1, 1))
    port = nlc("keras", "keras.layers.Conv1D", 3, 5, 3, stride=2, padding="same")
    result = runner.probe(ProbeSpec("CNV401", source, port, lengths=(8, 9)))
    assert result.status == "confirmed", result.detail
    assert result.detail.startswith("padding") and "L=8" in result.detail
    assert "agree at L=9" in result.detail


def test_padding_mode_dropped_differs_only_at_the_edges(runner):
    source = torch_conv(3, 5, 5, padding=(2, 2), padding_mode="reflect")
    port = nlc("keras", "keras.layers.Conv1D", 3, 5, 5, padding="same")
    result = runner.probe(ProbeSpec("CNV404", source, port, lengths=(16,)))
    assert result.status == "confirmed", result.detail
    assert result.detail.startswith("padding: differences only at the edges")


def test_dropped_bias_is_named(runner):
    port = nlc(*DENSE_TF, 3, 5, 4, padding="VALID")
    result = runner.probe(ProbeSpec("CNV502", torch_conv(3, 5, 4, bias=True), port))
    assert result.status == "confirmed" and result.detail.startswith("bias"), result.detail


def test_lax_default_dimension_numbers_on_nlc_data(runner):
    port = nlc("jax", "jax.lax.conv_general_dilated", 3, 5, 4, padding="VALID")
    fix = nlc("jax", "jax.lax.conv_general_dilated", 3, 5, 4, padding="VALID",
              dimension_numbers=("NWC", "WIO", "NWC"))
    result = runner.probe(ProbeSpec("CNV303", torch_conv(3, 5, 4), port, fix))
    assert result.status == "confirmed", result.detail
    assert result.detail.startswith("port crashes where the source runs")
    assert "feature_group_count" in result.detail
    assert result.fix_max_abs_diff <= 1e-4


def test_flax_default_same_is_a_shape_mismatch(runner):
    port = nlc("flax", "flax.linen.Conv", 3, 5, 4, padding="SAME", bias=True)
    fix = nlc("flax", "flax.linen.Conv", 3, 5, 4, padding="VALID", bias=True)
    spec = ProbeSpec("CNV405", torch_conv(3, 5, 4, bias=True), port, fix, lengths=(12,))
    result = runner.probe(spec)
    assert result.status == "confirmed"
    assert result.detail.startswith("shape (2,5,9) vs (2,5,12)"), result.detail
    assert result.fix_max_abs_diff <= 1e-4


def test_tf_native_abort_of_the_port_is_its_crash_and_the_run_continues(runner):
    # Catalog A07: unbatched (L, C) input to tf.nn.conv1d kills the process (SIGABRT,
    # "Check failed"); the source ran, so the port crashed: confirmed, not failed.
    unbatched = TO_NLC + (("slice", (0, 0, 1, 1)), ("reshape", (9, 3)))
    port = nlc(*DENSE_TF, 3, 5, 4, padding="VALID", input_ops=unbatched)
    after = nlc(*DENSE_TF, 3, 5, 4, padding="VALID")
    aborted, later = runner.run([
        ProbeSpec("CNV305", torch_conv(3, 5, 4), port),
        ProbeSpec("CNV305", torch_conv(3, 5, 4), after),
    ])
    assert aborted.status == "confirmed", aborted.detail
    assert "process aborted" in aborted.detail and "Check failed" in aborted.detail
    assert later.status == "not-reproduced", later.detail


# Every API of ConvCall's docstring against a torch source, as (source, port, expected).
T_SOURCE = Side(ConvCall("torch", "torch.nn.functional.conv_transpose1d", 3, 5, 4, stride=2,
                         padding=(0, 0), kernel_layout="IOK", bias=True))
DEPTHWISE = torch_conv(3, 6, 3, groups=3, padding=(1, 1), bias=True)
TO_KCM = TORCH_TO_TF + (("reshape", (3, 3, 2)),)  # (C*M, 1, K) -> (K, C, M), catalog D01
NWC = ("NWC", "WIO", "NWC")
API_CASES = {
    "tf.nn.convolution": (torch_conv(3, 6, 4, bias=True), nlc(
        "tensorflow", "tensorflow.nn.convolution", 3, 6, 4, padding="VALID", bias=True),
        "not-reproduced"),
    "tf.nn.conv1d NCW": (torch_conv(3, 6, 4), Side(ConvCall(
        *DENSE_TF, 3, 6, 4, kernel_layout="KIO"), kernel_ops=TORCH_TO_TF), "not-reproduced"),
    "tf.nn.conv1d explicit pair raises": (torch_conv(3, 6, 4, padding=(2, 1)), nlc(
        *DENSE_TF, 3, 6, 4, padding=(2, 1)), "confirmed"),
    "lax explicit pair": (torch_conv(3, 6, 4, padding=(2, 1)), nlc(
        "jax", "jax.lax.conv_general_dilated", 3, 6, 4, padding=(2, 1),
        dimension_numbers=NWC), "not-reproduced"),
    "lax SAME_LOWER": (torch_conv(3, 6, 4, padding="same"), nlc(
        "jax", "jax.lax.conv_general_dilated", 3, 6, 4, padding="SAME_LOWER",
        dimension_numbers=NWC), "confirmed"),
    "keras causal": (Side(torch_conv(3, 6, 3, dilation=2).call, pre_pad=(4, 0, "constant")), nlc(
        "keras", "keras.layers.Conv1D", 3, 6, 3, dilation=2, padding="causal"),
        "not-reproduced"),
    "keras reflect pre_pad": (torch_conv(3, 6, 5, padding=(2, 2), padding_mode="reflect"), nlc(
        "keras", "keras.layers.Conv1D", 3, 6, 5, padding="valid", pre_pad=(2, 2, "reflect")),
        "not-reproduced"),
    "keras.ops.conv": (torch_conv(3, 6, 4, bias=True), nlc(
        "keras", "keras.ops.conv", 3, 6, 4, padding="valid", bias=True), "not-reproduced"),
    "keras DepthwiseConv1D": (DEPTHWISE, nlc(
        "keras", "keras.layers.DepthwiseConv1D", 3, 6, 3, padding="same", bias=True,
        kernel_layout="KCM", depth_multiplier=2, kernel_ops=TO_KCM), "not-reproduced"),
    "keras SeparableConv1D": (DEPTHWISE, nlc(
        "keras", "keras.layers.SeparableConv1D", 3, 6, 3, padding="same", bias=True,
        kernel_layout="KCM", depth_multiplier=2, kernel_ops=TO_KCM), "not-reproduced"),
    "tf.nn.conv1d_transpose": (T_SOURCE, nlc(
        "tensorflow", "tensorflow.nn.conv1d_transpose", 3, 5, 4, stride=2, padding="VALID",
        bias=True, kernel_layout="KOI"), "not-reproduced"),
    "keras Conv1DTranspose": (T_SOURCE, nlc(
        "keras", "keras.layers.Conv1DTranspose", 3, 5, 4, stride=2, padding="valid",
        bias=True, kernel_layout="KOI"), "not-reproduced"),
    "lax.conv_transpose transpose_kernel": (T_SOURCE, nlc(
        "jax", "jax.lax.conv_transpose", 3, 5, 4, stride=2, padding="VALID", bias=True,
        kernel_layout="KOI", dimension_numbers=NWC, transpose_kernel=True), "not-reproduced"),
    "flax ConvTranspose without flip": (T_SOURCE, nlc(
        "flax", "flax.linen.ConvTranspose", 3, 5, 4, stride=2, padding="VALID", bias=True,
        kernel_ops=(("permute", (2, 0, 1)),)), "confirmed"),
    "flax ConvTranspose flipped": (T_SOURCE, nlc(
        "flax", "flax.linen.ConvTranspose", 3, 5, 4, stride=2, padding="VALID", bias=True,
        kernel_ops=(("permute", (2, 0, 1)), ("flip", 0))), "not-reproduced"),
    "flax groups": (torch_conv(4, 6, 3, groups=2), nlc(
        "flax", "flax.linen.Conv", 4, 6, 3, padding="VALID", groups=2), "not-reproduced"),
    "interleaved block diagonal": (torch_conv(4, 6, 3, groups=2), nlc(
        *DENSE_TF, 4, 6, 3, padding="VALID", groups=2,
        kernel_ops=TORCH_TO_TF + (("interleave_diag", 2),)), "confirmed"),
    "numpy.convolve unflipped": (torch_conv(1, 1, 3), Side(ConvCall(
        "numpy", "numpy.convolve", 1, 1, 3, padding="valid")), "confirmed"),
    "numpy.correlate": (torch_conv(1, 1, 3), Side(ConvCall(
        "numpy", "numpy.correlate", 1, 1, 3, padding="valid")), "not-reproduced"),
}


@pytest.mark.parametrize("case", API_CASES)
def test_api_coverage(runner, case):
    source, port, expected = API_CASES[case]
    result = runner.probe(ProbeSpec("API", source, port, lengths=(9, 16)))
    assert result.status == expected, result.detail


def test_timeout_kills_the_worker_and_the_next_probe_runs(monkeypatch):
    monkeypatch.setenv("CONVLINT_PROBE_TEST_SLEEP", "TEST-SLEEP=60")
    with ProbeRunner(cache=False, timeout=2) as runner:
        slow, fast = runner.run([torch_vs_torch("TEST-SLEEP"), torch_vs_torch()])
        assert runner.workers_started == 2
    assert slow.status == "failed" and slow.detail.startswith("timeout"), slow.detail
    assert fast.status == "not-reproduced", fast.detail


def test_unknown_framework_is_skipped():
    mxnet = Side(ConvCall("mxnet", "mxnet.nd.Convolution", 3, 5, 4))
    with ProbeRunner(cache=False) as runner:
        (unknown,) = runner.run([ProbeSpec("X", mxnet, mxnet)])
        assert runner.workers_started == 0
    assert unknown.status == "skipped" and "mxnet" in unknown.detail


def test_unusable_worker_python_is_skipped(monkeypatch):
    monkeypatch.setenv("CONVLINT_PROBE_PYTHON", "/nonexistent/python")
    with ProbeRunner(cache=False) as runner:
        (result,) = runner.run([torch_vs_torch()])
    assert result.status == "skipped" and "/nonexistent/python" in result.detail


def test_missing_fix_framework_keeps_the_probe(runner):
    mxnet_fix = Side(ConvCall("mxnet", "torch.nn.functional.conv1d", 3, 5, 4, padding=(0, 0)))
    spec = ProbeSpec("X", torch_conv(3, 5, 4), torch_conv(3, 5, 4, stride=2), mxnet_fix)
    result = runner.probe(spec)
    assert result.status == "confirmed" and result.fix_max_abs_diff is None
    assert result.detail.endswith("fix not probed: no probe worker for framework 'mxnet'")


def test_oversized_probe_is_skipped_without_a_worker():
    big = ProbeSpec("X", torch_conv(512, 512, 7), torch_conv(512, 512, 7), lengths=(16000,))
    with ProbeRunner(cache=False) as runner:
        (result,) = runner.run([big])
        assert result.status == "skipped" and "MiB" in result.detail
        assert runner.workers_started == 0


def test_frameworks_are_never_imported_by_the_linter_process():
    code = (
        "import sys\n"
        "from convlint.probe.runner import run_probes\n"
        "from convlint.probe.spec import ConvCall, ProbeSpec, Side\n"
        "side = Side(ConvCall('numpy', 'numpy.correlate', 1, 1, 3, padding='valid'))\n"
        "(result,) = run_probes([ProbeSpec('X', side, side)], cache=False)\n"
        "assert result.status == 'not-reproduced', result\n"
        "print(sorted({'torch', 'tensorflow', 'keras', 'jax', 'flax'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
