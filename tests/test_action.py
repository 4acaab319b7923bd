"""action.yml: a composite action whose check step is run here with bash, as the runner would."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def _step(name):
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name or s.get("id") == name)


def test_action_is_composite_and_installs_from_its_checkout():
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["runs"]["steps"][0]["uses"].startswith("actions/setup-python@")
    install = _step("Install convlint")
    assert install["env"]["CONVLINT_SOURCE"] == "${{ github.action_path }}"
    assert '"$CONVLINT_SOURCE[probe]"' in install["run"] and "--index-url" in install["run"]
    assert set(ACTION["inputs"]) >= {"paths", "probe", "args", "python-version"}
    # Inputs reach scripts through env only: no ${{ inputs.* }} inside run text.
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", "")


def test_check_step_annotates_and_reports_the_exit_code(tmp_path):
    check = _step("check")
    output = tmp_path / "github_output"
    bindir = str(Path(sys.executable).parent)  # the `convlint` console script
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ["PATH"],
           "GITHUB_OUTPUT": str(output), "CONVLINT_PATHS": "examples/seed_torch.py examples/seed_tf.py",
           "CONVLINT_ARGS": "", "CONVLINT_FORMAT": "github", "CONVLINT_PROBE": "false",
           "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(["bash", "-e", "-c", check["run"]], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert re.search(r"^::error file=examples/seed_tf.py,line=24,col=7,.*title=CNV101 "
                     r"groups-dropped::", result.stdout, re.M)
    assert output.read_text() == "exit-code=1\n"
