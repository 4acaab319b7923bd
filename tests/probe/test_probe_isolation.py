"""Probe isolation (issue 7 item 3): what a misbehaving worker, framework or probe costs.

Each test starts its own runner (the fault hooks are read by the worker at start-up) on
the cheapest worker, torch. The faults are injected with the worker's TEST-ONLY hooks.
"""

import os
import time
from pathlib import Path

import numpy as np
import pytest

from convlint.probe.compare import compare
from convlint.probe.runner import LengthOutcome, ProbeRunner, verdict
from convlint.probe.spec import ConvCall, ProbeSpec, Side

from probe_specs import torch_conv, torch_vs_torch


def _run(monkeypatch, fault, specs, **runner_args):
    monkeypatch.setenv("CONVLINT_PROBE_TEST_FAULT", fault)
    with ProbeRunner(cache=False, **runner_args) as runner:
        results = runner.run(specs)
        return results, runner.workers_started


def test_aborted_worker_fails_its_probe_and_is_restarted(monkeypatch):
    (aborted, later), started = _run(
        monkeypatch, "CNV-ABORT=abort", [torch_vs_torch("CNV-ABORT"), torch_vs_torch()])
    assert aborted.status == "failed" and "SIGABRT" in aborted.detail, aborted.detail
    assert later.status == "not-reproduced", later.detail
    assert started == 2


def test_a_bare_abort_of_the_port_is_not_mistaken_for_its_crash(monkeypatch):
    # Only a framework's "Check failed" abort (catalog A07) confirms; an abort without it
    # (a C++ std::terminate, an assertion in the runtime) says nothing about the port.
    layer = Side(ConvCall("torch", "torch.nn.Conv1d", 3, 5, 4, padding=(0, 0)))
    (result,), _ = _run(monkeypatch, "torch.nn.Conv1d=abort",
                        [ProbeSpec("X", torch_conv(3, 5, 4), layer)])
    assert result.status == "failed" and "port at L=9" in result.detail, result.detail


def test_killed_worker_fails_its_probe(monkeypatch):
    (killed, later), _ = _run(
        monkeypatch, "CNV-KILL=kill", [torch_vs_torch("CNV-KILL"), torch_vs_torch()])
    assert killed.status == "failed" and "SIGKILL" in killed.detail, killed.detail
    assert later.status == "not-reproduced"


def test_memory_limit_fails_the_probe_not_the_port(monkeypatch):
    # torch uses ~175 MB of data segment after import; 600 MB leaves room for it only.
    (result, later), _ = _run(monkeypatch, "CNV-ALLOC=alloc:1024",
                              [torch_vs_torch("CNV-ALLOC"), torch_vs_torch()], memory_mb=600)
    assert result.status == "failed" and "out of memory" in result.detail, result.detail
    assert later.status == "not-reproduced"


def test_cpu_limit_stops_a_spinning_worker(monkeypatch):
    started = time.monotonic()
    (result, later), _ = _run(monkeypatch, "CNV-SPIN=spin:60",
                              [torch_vs_torch("CNV-SPIN"), torch_vs_torch()], cpu_seconds=1)
    assert result.status == "failed" and "SIGXCPU" in result.detail, result.detail
    assert "CPU time limit" in result.detail
    assert later.status == "not-reproduced"
    assert time.monotonic() - started < 40


def test_inferred_huge_sizes_never_allocate():
    giant = Side(ConvCall("torch", "torch.nn.functional.conv1d", 10**9, 10**9, 3,
                          padding=(0, 0)))
    tiled = Side(torch_conv(3, 5, 4).call, kernel_ops=(("tile", (1, 10**9, 1)),))
    with ProbeRunner(cache=False) as runner:
        (huge,) = runner.run([ProbeSpec("X", giant, giant)])
        assert runner.workers_started == 0
        (grown,) = runner.run([ProbeSpec("X", torch_conv(3, 5, 4), tiled)])
    assert huge.status == "skipped" and "MiB" in huge.detail, huge.detail
    assert grown.status == "skipped" and "MiB" in grown.detail, grown.detail


# ------------------------------------------------------------------ other interpreters


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """A real interpreter without torch: a venv holding only numpy (linked in)."""
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    (site,) = home.glob("lib/python*/site-packages")
    numpy_dir = Path(np.__file__).parent
    for name in ("numpy", "numpy.libs"):
        if (numpy_dir.parent / name).exists():
            (site / name).symlink_to(numpy_dir.parent / name)
    return home / "bin" / "python", site


def test_missing_framework_is_skipped(bare_python, monkeypatch):
    python, site = bare_python
    monkeypatch.setenv("CONVLINT_PROBE_PYTHON", str(python))
    with ProbeRunner(cache=False) as runner:
        (result,) = runner.run([torch_vs_torch()])
    assert result.status == "skipped", result.detail
    assert "No module named 'torch'" in result.detail


def test_broken_framework_install_is_skipped(bare_python, tmp_path):
    python, site = bare_python
    broken = site / "torch"
    broken.mkdir(exist_ok=True)
    (broken / "__init__.py").write_text("raise OSError('libtorch_cpu.so: cannot open')\n")
    try:
        with ProbeRunner(cache=False, python=str(python)) as runner:
            (result,) = runner.run([torch_vs_torch()])
    finally:
        (broken / "__init__.py").unlink()
        broken.rmdir()
    assert result.status == "skipped" and "libtorch_cpu.so" in result.detail, result.detail


def test_the_linted_project_never_shadows_a_framework(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "torch.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nraise ImportError('the user torch.py')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    with ProbeRunner(cache=False) as runner:
        (result,) = runner.run([torch_vs_torch()])
    assert result.status == "not-reproduced", result.detail
    assert not marker.exists()


# ------------------------------------------------------------------ float64 re-check


def _outcome(diff32, diff64):
    ref = np.random.default_rng(0).standard_normal((2, 3, 9))
    bump = np.zeros_like(ref)
    bump[0, 0, 4] = 1.0
    return LengthOutcome(9, compare(ref, ref + diff32 * bump, length=9, edge=1), None, None,
                         compare(ref, ref + diff64 * bump, length=9, edge=1))


def test_float64_decides_near_the_tolerance():
    rounding = verdict([_outcome(5e-4, 1e-15)])
    assert rounding.status == "not-reproduced", rounding.detail
    assert "float64 re-check" in rounding.detail and "round-off" in rounding.detail
    hidden = verdict([_outcome(5e-5, 5e-3)])
    assert hidden.status == "confirmed" and "float64 re-check" in hidden.detail
    clear = verdict([_outcome(2.0, 2.0)])
    assert clear.status == "confirmed" and "decides" not in clear.detail


def test_float64_unavailable_keeps_the_float32_verdict():
    ref = np.ones((2, 3, 9))
    outcome = LengthOutcome(9, compare(ref, ref + 1, length=9, edge=1), None, None,
                            "keras.layers.Conv1D computed in float32")
    result = verdict([outcome])
    assert result.status == "confirmed"
    assert result.detail.endswith("float64 re-check unavailable: keras.layers.Conv1D computed "
                                  "in float32")


# ------------------------------------------------------------------ bugs never end a run


def test_an_internal_error_fails_one_probe_only():
    bad = ProbeSpec("X", torch_conv(3, 5, 4), torch_conv(3, 5, 4), lengths=(None,))
    with ProbeRunner(cache=False) as runner:
        (result,) = runner.run([bad])
    assert result.status == "failed" and "internal probe error" in result.detail


def test_a_planner_bug_keeps_the_finding_and_adds_cnv901(monkeypatch):
    from convlint.config import Config
    from convlint.findings import Finding
    from convlint.probe import plan, stage

    def broken(finding):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(plan, "plan", broken)
    finding = Finding("CNV101", "groups-dropped", "error", "x.py", 3, 1, 3, 9, "groups dropped",
                      evidence=(object(),))
    out = stage.probe_findings([finding], Config(select=("CNV",)))
    assert [f.code for f in out] == ["CNV101", "CNV901"]
    assert out[0].probe.status == "failed" and "ZeroDivisionError" in out[0].probe.detail
