"""The whole-run cache: an unchanged `convlint check` is replayed, anything else runs."""

import os
import shutil
import subprocess
import sys
import time

import pytest

from convlint.runcache import RACY_NS

from conftest import EXAMPLES


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)  # stops config discovery here
    (root / "pkg").mkdir()
    for name in ("seed_torch.py", "seed_tf.py"):
        shutil.copy(EXAMPLES / name, root / "pkg" / name)
    settle()
    return root


def settle():
    """Let the files age past the racy window, so the next run may be recorded."""
    time.sleep(RACY_NS / 1e9 + 0.1)


def run(project, *args, cache, env=None):
    environment = {**os.environ, "CONVLINT_CACHE_DIR": str(cache), "PYTHONPROFILEIMPORTTIME": "1",
                   **(env or {})}
    result = subprocess.run([sys.executable, "-m", "convlint", "check", "--no-probe", *args],
                            cwd=project, capture_output=True, text=True, timeout=600,
                            env=environment)
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    result.replayed = "convlint.cli" not in imported
    result.stderr = "\n".join(l for l in result.stderr.splitlines() if not l.startswith("import time:"))
    return result


def test_unchanged_run_is_replayed_byte_for_byte(project, tmp_path):
    cache = tmp_path / "cache"
    first = run(project, "pkg", cache=cache)
    assert first.returncode == 1 and "CNV101" in first.stdout and not first.replayed
    again = run(project, "pkg", cache=cache)
    assert again.replayed
    assert (again.stdout, again.stderr, again.returncode) == (first.stdout, first.stderr, 1)
    # Another format, another command line: a record of its own.
    sarif = run(project, "pkg", "--format", "sarif", cache=cache)
    assert not sarif.replayed and sarif.stdout.startswith("{")
    assert run(project, "pkg", "--format", "sarif", cache=cache).replayed


def test_every_input_change_is_a_miss(project, tmp_path):
    cache = tmp_path / "cache"
    baseline = run(project, "pkg", cache=cache).stdout
    assert run(project, "pkg", cache=cache).replayed

    # An edit that keeps size and mtime still changes ctime.
    port = project / "pkg" / "seed_tf.py"
    stat = port.stat()
    text = port.read_text()
    port.write_text(text.replace("VALID", "SAME "))
    os.utime(port, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    edited = run(project, "pkg", cache=cache)
    assert not edited.replayed and edited.stdout != baseline
    # Right after an edit nothing is recorded (the next edit could share its timestamp).
    assert not run(project, "pkg", cache=cache).replayed
    settle()
    run(project, "pkg", cache=cache)
    assert run(project, "pkg", cache=cache).replayed

    # A new file in a walked directory (here a nested one).
    (project / "pkg" / "sub").mkdir()
    settle()
    assert not run(project, "pkg", cache=cache).replayed
    assert run(project, "pkg", cache=cache).replayed
    shutil.copy(EXAMPLES / "seed_tf.py", project / "pkg" / "sub" / "more_tf.py")
    added = run(project, "pkg", cache=cache)
    assert not added.replayed and "in 3 files checked" in added.stdout

    # git writing into .git (every add or commit) is not a change; .git vanishing is.
    settle()
    run(project, "pkg", cache=cache)
    (project / ".git" / "index").write_text("x")
    assert run(project, "pkg", cache=cache).replayed
    shutil.rmtree(project / ".git")
    assert not run(project, "pkg", cache=cache).replayed
    (project / ".git").mkdir()
    settle()
    run(project, "pkg", cache=cache)

    # A configuration file that appears; the environment convlint reads.
    (project / "pyproject.toml").write_text('[tool.convlint]\nignore = ["CNV"]\n')
    settle()
    configured = run(project, "pkg", cache=cache)
    assert not configured.replayed and configured.returncode == 0
    assert run(project, "pkg", cache=cache).replayed
    assert not run(project, "pkg", cache=cache, env={"CONVLINT_MAX_BYTES": "100"}).replayed


def test_what_is_never_recorded(project, tmp_path):
    cache = tmp_path / "cache"
    for args in (["--diff"], ["--no-cache"]):
        run(project, "pkg", *args, cache=cache)
        assert not run(project, "pkg", *args, cache=cache).replayed, args
    missing = run(project, "nowhere", cache=cache)
    assert missing.returncode == 2
    assert not run(project, "nowhere", cache=cache).replayed
    # A torn record is a miss, not an error.
    run(project, "pkg", cache=cache)
    for record in (cache / "runs").glob("*.pickle"):
        record.write_bytes(b"\x80torn")
    torn = run(project, "pkg", cache=cache)
    assert not torn.replayed and torn.returncode == 1 and "Traceback" not in torn.stderr


def test_probed_findings_are_not_replayed(project, tmp_path, monkeypatch):
    from convlint import cli, runcache

    stored = []
    monkeypatch.setattr(runcache, "store", lambda *a: stored.append(a))
    monkeypatch.setenv("CONVLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(project)
    # Probes on, with findings: the verdicts depend on the installed frameworks.
    monkeypatch.setattr(cli, "_probe_stage", lambda config: (lambda findings: findings))
    assert cli.main(["check", "--probe", "pkg"]) == 1
    assert stored == []
    assert cli.main(["check", "--no-probe", "pkg"]) == 1
    assert len(stored) == 1 and stored[0][-2] == 1


def test_clean_removes_every_cache(project, tmp_path):
    cache = tmp_path / "cache"
    run(project, "pkg", cache=cache)
    assert (cache / "runs").is_dir() and (cache / "files").is_dir()
    env = {**os.environ, "CONVLINT_CACHE_DIR": str(cache)}
    result = subprocess.run([sys.executable, "-m", "convlint", "clean"], capture_output=True,
                            text=True, timeout=60, env=env)
    assert result.returncode == 0 and f"removed {cache}" in result.stderr
    assert not cache.exists()
    assert not run(project, "pkg", cache=cache).replayed
