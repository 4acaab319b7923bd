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


def _try_hook(project, hook):
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook,
                           "--all-files", "--color=never"], cwd=project, capture_output=True,
                          text=True, timeout=900)


def test_fix_hook_rewrites_the_seed_filter_and_a_second_run_is_clean(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    _git("init", "-q", cwd=project)
    for name in ("seed_torch.py", "seed_tf.py"):
        shutil.copy(EXAMPLES / name, project / name)
    _git("add", ".", cwd=project)
    before = (project / "seed_tf.py").read_text()
    assert "tf.ones([kernel_size, in_channels, out_channels])" in before

    fixing = _try_hook(project, "convlint-fix")
    # pre-commit fails a hook that modified files, even when nothing is left to report.
    assert fixing.returncode == 1, fixing.stdout + fixing.stderr
    assert "files were modified by this hook" in fixing.stdout
    after = (project / "seed_tf.py").read_text()
    assert "tf.ones([kernel_size, 1, out_channels])" in after
    assert after.replace("[kernel_size, 1, out_channels]",
                         "[kernel_size, in_channels, out_channels]") == before
    assert (project / "seed_torch.py").read_text() == (EXAMPLES / "seed_torch.py").read_text()

    _git("add", ".", cwd=project)
    for hook in ("convlint-fix", "convlint"):
        again = _try_hook(project, hook)
        assert again.returncode == 0, hook + again.stdout + again.stderr
        assert "Passed" in again.stdout
    assert (project / "seed_tf.py").read_text() == after
