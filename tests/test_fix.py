"""--fix / --diff: every fixture's fix clears its finding; writes are safe and idempotent."""

import hashlib
import os
import shutil
from pathlib import Path

import libcst
import pytest

from conftest import EXAMPLES, FIXTURES
from convlint import cli, engine, fix
from convlint.config import Config
from convlint.findings import Edit, Finding, Fix

ALL_RULES = Config(select=("CNV",), probe=False)


def _invalid_cases():
    """Every invalid fixture (file or multi-file directory) of every rule directory, so
    rules added later are covered without touching this test."""
    for rule_dir in sorted(p for p in FIXTURES.glob("CNV*") if p.is_dir()):
        for entry in sorted(rule_dir.iterdir()):
            if entry.name.startswith("valid") or not (entry.suffix == ".py" or entry.is_dir()):
                continue
            yield pytest.param(entry, id=f"{rule_dir.name}/{entry.name}")


def _files(case: Path):
    return sorted(case.rglob("*.py")) if case.is_dir() else [case]


def _copy(case: Path, tmp_path: Path):
    target = tmp_path / case.name
    if case.is_dir():
        shutil.copytree(case, target)
    else:
        shutil.copy(case, target)
    return [str(p) for p in _files(target)]


@pytest.mark.parametrize("case", list(_invalid_cases()))
def test_fix_leaves_a_parsable_file_that_is_clean_for_the_fixed_code(case, tmp_path):
    before = engine.check_files([str(p) for p in _files(case)], ALL_RULES).findings
    # A finding is keyed by file name, line and code: fixes here never add lines, and a
    # finding whose fix is advice only (no edits) may rightly remain.
    fixed = {(Path(f.path).name, f.line, f.code) for f in before if f.fix is not None
             and f.fix.edits}
    if not fixed:
        pytest.skip("no finding of this fixture carries fix edits")
    files = _copy(case, tmp_path)
    outcome = fix.run(lambda: engine.check_files(files, ALL_RULES).findings, probes=False)
    assert outcome.changed_paths and all(r.error is None for r in outcome.results)
    for path in files:
        libcst.parse_module(Path(path).read_text(encoding="utf-8"))
    after = engine.check_files(files, ALL_RULES).findings
    assert not [f for f in after if (Path(f.path).name, f.line, f.code) in fixed], after
    assert not [f for f in after if f.code == "CNV900"]
    again = fix.run(lambda: engine.check_files(files, ALL_RULES).findings, probes=False)
    assert again.changed_paths == ()  # idempotent


def test_at_least_one_fixture_exercises_fixes():
    cases = [c.values[0] for c in _invalid_cases()]
    with_edits = [c for c in cases
                  if any(f.fix and f.fix.edits for f in
                         engine.check_files([str(p) for p in _files(c)], ALL_RULES).findings)]
    assert len(with_edits) >= 3


# --- the seed through the CLI ------------------------------------------------------------

def _seed(tmp_path):
    for name in ("seed_torch.py", "seed_tf.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path / "seed_tf.py"


def test_cli_diff_then_fix_then_clean(tmp_path, monkeypatch, capsys):
    port = _seed(tmp_path)
    original = port.read_bytes()
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--no-probe", "--diff", "."]) == 1
    out, err = capsys.readouterr()
    assert "-weight = tf.ones([kernel_size, in_channels, out_channels])" in out
    assert "+weight = tf.ones([kernel_size, 1, out_channels])" in out
    assert port.read_bytes() == original  # --diff writes nothing
    assert cli.main(["check", "--no-probe", "--fix", "."]) == 0
    out, err = capsys.readouterr()
    assert "All clear" in out and "fixed 1 finding in 1 file" in err
    assert b"tf.ones([kernel_size, 1, out_channels])" in port.read_bytes()
    fixed = port.read_bytes()
    assert cli.main(["check", "--no-probe", "--fix", "."]) == 0
    assert port.read_bytes() == fixed
    assert cli.main(["check", "--no-probe", "--diff", "."]) == 0


# --- safety ------------------------------------------------------------------------------

def _finding(path, line, column, end_column, replacement, code="CNV101"):
    return Finding(code, "groups-dropped", "error", str(path), line, column, line, end_column,
                   "m", fix=Fix("d", (Edit(line, column, line, end_column, replacement),)))


def _fix_once(path, finding, **kwargs):
    calls = []

    def check():
        calls.append(1)
        return [finding] if len(calls) == 1 else []

    return fix.run(check, probes=False, **kwargs)


def test_crlf_and_bom_are_kept(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"\xef\xbb\xbfimport torch\r\nx = torch.ones(2, 3)\r\n")
    outcome = _fix_once(path, _finding(path, 2, 16, 17, "(\n1)"))
    assert outcome.changed_paths == (str(path),)
    assert path.read_bytes() == b"\xef\xbb\xbfimport torch\r\nx = torch.ones((\r\n1), 3)\r\n"


def test_declared_encoding_is_kept(tmp_path):
    path = tmp_path / "a.py"
    source = "# -*- coding: latin-1 -*-\nimport torch  # r\xe9f\xe9rence\nx = 2\n"
    path.write_bytes(source.encode("latin-1"))
    _fix_once(path, _finding(path, 3, 5, 6, "1"))
    assert path.read_bytes() == source.replace("x = 2", "x = 1").encode("latin-1")
    outcome = _fix_once(path, _finding(path, 3, 5, 6, "'\u20ac'"))  # no euro in latin-1
    assert path.read_bytes() == source.replace("x = 2", "x = 1").encode("latin-1")
    assert "not representable" in outcome.results[0].error


def test_unparsable_result_is_not_written(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("import torch\nx = torch.ones(2, 3)\n")
    before = path.read_bytes()
    outcome = _fix_once(path, _finding(path, 2, 16, 17, "(("))
    assert path.read_bytes() == before and "would not parse" in outcome.results[0].error
    # LibCST accepts a repeated keyword; the compiler does not.
    path.write_text("import torch\nx = torch.ones(2, groups=2)\n")
    before = path.read_bytes()
    outcome = _fix_once(path, _finding(path, 2, 27, 27, ", groups=2"))
    assert path.read_bytes() == before and "would not compile" in outcome.results[0].error


def test_file_changed_meanwhile_is_not_written(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_text("x = 2\n")
    real = fix.fix_file

    def fix_then_edit(*args):
        result = real(*args)
        path.write_text("x = 2  # edited by someone else\n")
        return result

    monkeypatch.setattr(fix, "fix_file", fix_then_edit)
    outcome = _fix_once(path, _finding(path, 1, 5, 6, "1"))
    assert path.read_text() == "x = 2  # edited by someone else\n"
    assert "changed while convlint was fixing it" in outcome.results[0].error


def test_file_changed_between_check_and_fix_is_not_written(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("x = 2\n")

    def check_then_someone_edits():
        findings = [_finding(path, 1, 5, 6, "1")]
        path.write_text("y = 0; x = 2\n")  # the edit's columns now point elsewhere
        return findings

    outcome = fix.run(check_then_someone_edits, probes=False, paths=[str(path)])
    assert path.read_text() == "y = 0; x = 2\n"
    assert "changed while convlint was fixing it" in outcome.results[0].error


def test_interrupted_write_leaves_the_original(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_text("x = 2\n")
    os.chmod(path, 0o640)

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _fix_once(path, _finding(path, 1, 5, 6, "1"))
    assert path.read_text() == "x = 2\n"
    assert os.listdir(tmp_path) == ["a.py"]  # the temporary file is gone too
    monkeypatch.undo()
    _fix_once(path, _finding(path, 1, 5, 6, "1"))
    assert path.read_text() == "x = 1\n" and (os.stat(path).st_mode & 0o777) == 0o640


def test_overlapping_fixes_take_two_passes(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("value = 1\n")

    def check():
        text = path.read_text()
        found = []
        if "value_a" not in text:
            found.append(_finding(path, 1, 1, 6, "value_a", code="CNV101"))
        if "alu" in text:
            start = text.index("alu") + 1
            found.append(_finding(path, 1, start, start + 3, "ALU", code="CNV102"))
        return found

    outcome = fix.run(check, probes=False)
    assert path.read_text() == "vALUe_a = 1\n" and outcome.passes == 2


def test_a_fix_that_does_not_clear_its_finding_is_applied_once(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("f(x)\n")
    stuck = _finding(path, 1, 4, 4, ", groups=2")
    outcome = fix.run(lambda: [stuck], probes=False)
    assert path.read_text() == "f(x, groups=2)\n" and outcome.passes == 1


def test_with_probes_only_agreeing_fixes_apply():
    from dataclasses import replace

    from convlint.findings import ProbeResult

    base = _finding("a.py", 1, 1, 2, "1")
    agree = replace(base, probe=ProbeResult("confirmed", 6.0, "", 1.0, 0.0))
    disagree = replace(base, probe=ProbeResult("confirmed", 6.0, "", 1.0, 2.5))
    skipped = replace(base, probe=ProbeResult("skipped", None, "no recipe"))
    assert fix.fixable(agree, probes=True) and not fix.fixable(disagree, probes=True)
    assert not fix.fixable(skipped, probes=True) and fix.fixable(skipped, probes=False)
    assert not fix.fixable(replace(base, path="nb.ipynb"), probes=False)


def test_with_probes_a_disagreeing_fix_is_not_applied(tmp_path, monkeypatch, capsys):
    from dataclasses import replace

    from convlint.findings import ProbeResult

    port = _seed(tmp_path)
    original = port.read_bytes()
    verdict = ProbeResult("confirmed", 4.0, "differs", 1.0, 3.0)  # the fix still differs

    def fake_stage(config):
        return lambda findings: [replace(f, probe=verdict) for f in findings]

    monkeypatch.setattr(cli, "_probe_stage", fake_stage)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--fix", "."]) == 1
    assert port.read_bytes() == original
    assert "fixed 0 findings" in capsys.readouterr().err


def test_with_real_probes_the_seed_fix_is_confirmed_and_applied(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    port = _seed(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--format", "json", "."]) == 1
    (finding,) = __import__("json").loads(capsys.readouterr().out)
    assert finding["probe"]["status"] == "confirmed"
    assert finding["probe"]["fix_max_abs_diff"] <= 1e-4 * max(
        1.0, finding["probe"]["max_abs_diff"] / finding["probe"]["rel_diff"])
    assert cli.main(["check", "--fix", "."]) == 0
    assert "tf.ones([kernel_size, 1, out_channels])" in port.read_text()
