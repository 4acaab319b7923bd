"""The pre-commit hook, run through real pre-commit (try-repo against this checkout)."""

import os
import shutil
import subprocess
import sys

from conftest import EXAMPLES, FIXTURES, ROOT


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"})


def _try_repo(project):
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "convlint",
                           "--all-files", "--color=never"], cwd=project, capture_output=True,
                          text=True, timeout=900)


def test_hook_fails_on_the_seed_and_passes_on_a_correct_port(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    _git("init", "-q", cwd=project)
    for name in ("seed_torch.py", "seed_tf.py"):
        shutil.copy(EXAMPLES / name, project / name)
    _git("add", ".", cwd=project)

    failing = _try_repo(project)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "seed_tf.py:24:7: CNV101 [error] groups dropped" in failing.stdout

    (project / "seed_tf.py").unlink()
    shutil.copy(FIXTURES / "CNV101" / "valid_grouped_tf_filter.py", project / "port.py")
    _git("add", "-A", ".", cwd=project)
    passing = _try_repo(project)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
