"""The flake8 plugin, run through real flake8 in a subprocess."""

import os
import shutil
import subprocess
import sys

from conftest import EXAMPLES, FIXTURES, ROOT


def flake8(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_flake8_reports_the_seed_like_the_cli():
    result = flake8("--select=CNV", "examples/")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert any(l.startswith("examples/seed_tf.py:24:7: CNV101 groups dropped") for l in lines), lines
    assert any(l.startswith("examples/seed.py:42:7: CNV101 groups dropped") for l in lines), lines
    cli = subprocess.run([sys.executable, "-m", "convlint", "check", "--no-probe", "examples/"],
                         cwd=ROOT, capture_output=True, text=True)
    cli_positions = sorted(l.split(" ")[0] + l.split(" ")[1] for l in cli.stdout.splitlines()
                           if ": CNV" in l)
    flake8_positions = sorted(l.split(" ")[0] + l.split(" ")[1] for l in lines)
    assert cli_positions == flake8_positions


def test_noqa_silences_flake8(tmp_path):
    for name in ("seed_torch.py", "seed_tf.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    assert flake8("--select=CNV", str(tmp_path)).returncode == 1
    port = tmp_path / "seed_tf.py"
    port.write_text(port.read_text().replace('"VALID")\n', '"VALID")  # noqa: CNV101\n', 1))
    result = flake8("--select=CNV", str(tmp_path))
    assert result.returncode == 0, result.stdout


def test_default_off_rules_stay_off_in_flake8():
    info = str(FIXTURES / "CNV103" / "tf_filter_in_dim_divides.py")
    assert ": CNV103 " not in flake8(info).stdout  # flake8's default selection
    assert ":6:5: CNV103 TF infers a grouped conv" in flake8("--extend-select=CNV103", info).stdout


def test_libcst_failure_is_cnv900_and_does_not_abort_flake8(tmp_path):
    shutil.copy(FIXTURES / "CNV102" / "torch_in_channels_not_divisible.py", tmp_path / "a.py")
    # Valid Python that LibCST's parser rejects (thousands of implicitly joined strings).
    strings = "".join('    "abc"\n' for _ in range(6000))
    (tmp_path / "b.py").write_text(f"import torch\nx = (\n{strings})\ny = torch.conv1d\n")
    result = flake8("--select=CNV", str(tmp_path))
    assert "Traceback" not in result.stderr
    assert "a.py:4:9: CNV102" in result.stdout
    assert "b.py:" in result.stdout and "CNV900 LibCST cannot parse this file" in result.stdout


def _seed_project(tmp_path, flake8_config):
    for name in ("seed_torch.py", "seed_tf.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    (tmp_path / ".flake8").write_text(flake8_config)
    return tmp_path


def test_flake8_config_file_selects_ignores_and_sets_convlint_options(tmp_path):
    project = _seed_project(tmp_path, "[flake8]\nselect = CNV\n")
    result = flake8(".", cwd=project)
    assert result.returncode == 1 and "./seed_tf.py:24:7: CNV101 groups dropped" in result.stdout
    # flake8's own per-file-ignores and noqa apply to convlint's codes.
    project = _seed_project(tmp_path, "[flake8]\nselect = CNV\nper-file-ignores =\n"
                                      "    seed_tf.py: CNV101\n")
    assert flake8(".", cwd=project).returncode == 0
    # The plugin's options are read from the config file the flake8 way.
    project = _seed_project(tmp_path, "[flake8]\nselect = CNV\nconvlint-reference = tensorflow\n")
    assert flake8(".", cwd=project).returncode == 0  # torch is now the port: no CNV101
    bad = flake8("--convlint-reference=mxnet", ".", cwd=project)
    assert bad.returncode != 0 and "invalid choice: 'mxnet'" in bad.stderr
    project = _seed_project(tmp_path, "[flake8]\nselect = CNV\n")
    port = project / "seed_tf.py"
    port.write_text(port.read_text().replace('"VALID")\n', '"VALID")  # noqa:CNV101\n', 1))
    assert flake8(".", cwd=project).returncode == 0
    port.write_text(port.read_text().replace("# noqa:CNV101", "# noqa: CNV102"))
    assert flake8(".", cwd=project).returncode == 1  # another code does not silence it


def _imports_libcst(result) -> bool:
    return any(line.split("|")[-1].strip() == "libcst" for line in result.stderr.splitlines())


def test_plugin_records_spare_the_next_run_and_follow_edits(tmp_path):
    (tmp_path / "p").mkdir()
    project = _seed_project(tmp_path / "p", "[flake8]\nselect = CNV\n")
    env = {**os.environ, "CONVLINT_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPROFILEIMPORTTIME": "1"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "flake8", "-j1", *args, "."], cwd=project,
                              capture_output=True, text=True, timeout=600, env=env)

    cold = run()
    assert "./seed_tf.py:24:7: CNV101 groups dropped" in cold.stdout and _imports_libcst(cold)
    records = list((tmp_path / "cache" / "records").rglob("*.pickle"))
    assert len(records) == 2  # the port and its torch sibling, each analyzed once
    warm = run()
    assert warm.stdout == cold.stdout and not _imports_libcst(warm)
    # An edit is a new content hash: analyzed again, and the finding follows the edit.
    port = project / "seed_tf.py"
    port.write_text("\n" + port.read_text())
    edited = run()
    assert "./seed_tf.py:25:7: CNV101 groups dropped" in edited.stdout and _imports_libcst(edited)
    # --convlint-no-cache neither reads nor writes records.
    shutil.rmtree(tmp_path / "cache")
    uncached = run("--convlint-no-cache")
    assert uncached.stdout == edited.stdout and not (tmp_path / "cache").exists()


def test_record_store_survives_torn_records_and_unwritable_dirs(tmp_path):
    from convlint.config import Config
    from convlint.filecache import RecordStore

    store = RecordStore(Config(), directory=tmp_path / "c", build="b")
    assert store.get("a.py", "d") == (False, None)
    store.put("a.py", "d", "record")
    assert store.get("a.py", "d") == (True, "record")
    assert store.get("a.py", "other") == (False, None)
    store._path("a.py", "d").write_bytes(b"\x80torn")
    assert store.get("a.py", "d") == (False, None)
    blocked = tmp_path / "file"
    blocked.write_text("")
    RecordStore(Config(), directory=blocked, build="b").put("a.py", "d", "record")  # no raise
    # Records unused for a month go; a hit keeps a record young.
    import time

    store.put("a.py", "d", "record")
    store.put("b.py", "d", "record")
    old = time.time() - 40 * 86400
    for name in ("a.py", "b.py"):
        os.utime(store._path(name, "d"), (old, old))
    assert store.get("a.py", "d") == (True, "record")
    assert store.prune() == 1
    assert store.get("a.py", "d") == (True, "record") and store.get("b.py", "d") == (False, None)
