"""The probe stage end to end: the CLI confirms the seed by running torch and TF."""

import json
from pathlib import Path

from conftest import run_convlint


def test_seed_is_confirmed_and_the_fix_agrees(tmp_path):
    env_cache = {"CONVLINT_CACHE_DIR": str(tmp_path / "cache")}
    import os

    result = run_convlint("check", "--format", "json", "examples/seed_torch.py", "examples/seed_tf.py",
                          env={**os.environ, **env_cache})
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)
    probe = finding["probe"]
    assert probe["status"] == "confirmed", probe
    assert probe["max_abs_diff"] >= 1.0
    assert probe["fix_max_abs_diff"] is not None and probe["fix_max_abs_diff"] <= 1e-4


def test_text_output_shows_the_verdict_and_no_probe_disables_it(tmp_path):
    import os

    env = {**os.environ, "CONVLINT_CACHE_DIR": str(tmp_path / "cache")}
    probed = run_convlint("check", "examples/seed_tf.py", "examples/seed_torch.py", env=env)
    assert "probe: confirmed max|diff|=" in probed.stdout
    plain = run_convlint("check", "--no-probe", "examples/seed_tf.py", "examples/seed_torch.py", env=env)
    assert "probe:" not in plain.stdout and plain.returncode == 1


def test_a_probe_that_times_out_keeps_the_finding_and_adds_cnv901(tmp_path):
    import os

    env = {**os.environ, "CONVLINT_CACHE_DIR": str(tmp_path / "cache"),
           "CONVLINT_PROBE_TIMEOUT": "3", "CONVLINT_PROBE_TEST_SLEEP": "CNV101=30"}
    result = run_convlint("check", "--format", "json", "examples/seed_tf.py", "examples/seed_torch.py",
                          env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    by_code = {f["code"]: f for f in json.loads(result.stdout)}
    assert by_code["CNV101"]["probe"]["status"] == "failed"
    assert "timeout" in by_code["CNV101"]["probe"]["detail"].lower()
    assert by_code["CNV901"]["severity"] == "warning"
    assert by_code["CNV901"]["line"] == by_code["CNV101"]["line"]


def _fault_run(tmp_path, **env):
    import os

    env = {**os.environ, "CONVLINT_CACHE_DIR": str(tmp_path / "cache"), **env}
    result = run_convlint("check", "--format", "json", "tests/fixtures/CNV101", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    return {(Path(f["path"]).name, f["code"]): f for f in json.loads(result.stdout)}


def test_a_worker_abort_costs_one_probe_and_cnv901_while_the_others_survive(tmp_path):
    # The flax port aborts its (jax) worker; the keras probe and the lax probe, which
    # needs a restarted jax worker, still confirm their findings.
    found = _fault_run(tmp_path, CONVLINT_PROBE_TEST_FAULT="flax.linen.Conv=abort")
    flax = found[("flax_without_feature_group_count.py", "CNV101")]
    assert flax["probe"]["status"] == "failed" and "SIGABRT" in flax["probe"]["detail"]
    cnv901 = found[("flax_without_feature_group_count.py", "CNV901")]
    assert cnv901["line"] == flax["line"] and cnv901["severity"] == "warning"
    for name in ("keras_layer_without_groups.py", "lax_without_feature_group_count.py"):
        assert found[(name, "CNV101")]["probe"]["status"] == "confirmed", found[(name, "CNV101")]
        assert (name, "CNV901") not in found


def test_a_timeout_costs_one_probe_and_cnv901_while_the_others_survive(tmp_path):
    found = _fault_run(tmp_path, CONVLINT_PROBE_TIMEOUT="3",
                       CONVLINT_PROBE_TEST_SLEEP="keras.layers.Conv1D=30")
    keras = found[("keras_layer_without_groups.py", "CNV101")]
    assert keras["probe"]["status"] == "failed" and "timeout" in keras["probe"]["detail"]
    assert ("keras_layer_without_groups.py", "CNV901") in found
    for name in ("flax_without_feature_group_count.py", "lax_without_feature_group_count.py"):
        assert found[(name, "CNV101")]["probe"]["status"] == "confirmed", found[(name, "CNV101")]
        assert (name, "CNV901") not in found


def test_progress_is_shown_on_a_terminal_for_many_probes(monkeypatch):
    import io
    import sys

    from convlint.config import Config
    from convlint.findings import Finding, ProbeResult
    from convlint.probe import plan, runner, stage

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    def fake_run(specs, progress=None, **kwargs):
        results = [ProbeResult("confirmed", 1.0, "values differ")] * len(specs)
        for index, result in enumerate(results):
            if progress is not None:
                progress(index + 1, len(specs), result)
        return results

    monkeypatch.setattr(plan, "plan", lambda finding: object())
    monkeypatch.setattr(runner, "run_probes", fake_run)
    findings = [Finding("CNV101", "groups-dropped", "error", "x.py", n, 1, n, 2, "m",
                        evidence=(object(),)) for n in range(1, 7)]
    for count, shown in ((6, True), (4, False)):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        stage.probe_findings(findings[:count], Config(select=("CNV",)))
        assert ("probed 6/6" in terminal.getvalue()) is shown, terminal.getvalue()
