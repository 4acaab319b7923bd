"""Bad input through the real CLI: one diagnostic per bad file, never a traceback.

Every bad file below mentions a conv API, so the prefilter does not skip it and it
reaches the parser. Files that are unusual but valid (BOM, CRLF, tabs, empty, 1,000-deep
nesting) must be analyzed as usual. Exit status 2 is for usage errors only.
"""

import json
import os
import time

import pytest

from conftest import EXAMPLES, run_convlint
from convlint import engine
from convlint.config import Config

SEED = (EXAMPLES / "seed.py").read_bytes()
SEED_LINE, SEED_COLUMN = 42, 7  # the CNV101 on tf.nn.conv1d in examples/seed.py
CONV = b"from torch.nn.functional import conv1d\n"
MB = 1024 * 1024


def _check(*paths, probe=False):
    result = run_convlint("check", *([] if probe else ["--no-probe"]), "--format", "json",
                          *map(str, paths))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), (result.returncode, result.stderr)
    return result.returncode, json.loads(result.stdout)


def _only_cnv900(findings, path):
    ours = [f for f in findings if f["path"] == str(path)]
    assert [f["code"] for f in ours] == ["CNV900"], ours
    return ours[0]


# --- malformed files: exactly one CNV900 each ---------------------------------------------

SYNTAX_ERROR = CONV + b"\n\ndef broken(x:\n    return conv1d(x)\n"
DEEP = 10_000  # past parse.MAX_DEPTH: reported, not parsed (LibCST would take minutes)

BAD_FILES = {
    "syntax_error.py": (SYNTAX_ERROR, 4),  # the line Python's parser names
    "undecodable.py": (CONV + b"name = '\xff\xfe\xfa'\n", 2),  # the bad byte's line
    "bad_coding_cookie.py": (b"# -*- coding: no-such-codec -*-\n" + CONV, 1),
    "nul_bytes.py": (CONV + b"x = 1\n\x00\x00\n", 3),
    "binary.py": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) + b"conv1d", 3),
    "binary_no_nul.py": (b"\xde\xad\xbe\xef conv1d \xff" * 100, 1),
    "deep_nesting.py": (CONV + b"x = " + b"1 + " * DEEP + b"1\ny = conv1d(x, x)\n", 2),
    "huge.py": (None, 1),  # 10 MB, built in the fixture
}


def _huge(with_conv: bool) -> bytes:
    row = b"    0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,\n"
    data = b"TABLE = [\n" + row * (10 * MB // len(row)) + b"]\n"
    return data + (SEED if with_conv else b"")


@pytest.fixture
def bad_dir(tmp_path):
    """Every bad input in one directory, next to the seed example."""
    for name, (data, _) in BAD_FILES.items():
        (tmp_path / name).write_bytes(_huge(True) if data is None else data)
    (tmp_path / "seed.py").write_bytes(SEED)
    (tmp_path / "loop_a.py").symlink_to("loop_b.py")
    (tmp_path / "loop_b.py").symlink_to("loop_a.py")
    (tmp_path / "dangling.py").symlink_to("no_such_target.py")
    (tmp_path / "package.py").mkdir()  # a directory named like a file: walked, not read
    (tmp_path / "package.py" / "inner.py").write_bytes(SEED)
    os.mkfifo(tmp_path / "fifo.py")  # skipped by the walk: opening it would block
    (tmp_path / "broken.ipynb").write_text('{"cells": [ {"source": "import torch')
    return tmp_path


def test_every_bad_input_in_one_directory_one_diagnostic_each_and_no_traceback(bad_dir):
    """The acceptance test of issue 7 item 2."""
    start = time.perf_counter()
    status, findings = _check(bad_dir, probe=True)  # as users run it: probes on
    elapsed = time.perf_counter() - start
    assert status == 1
    for name, (_, line) in BAD_FILES.items():
        assert _only_cnv900(findings, bad_dir / name)["line"] == line, name
    for name in ("loop_a.py", "loop_b.py", "dangling.py"):
        _only_cnv900(findings, bad_dir / name)
    _only_cnv900(findings, bad_dir / "broken.ipynb")
    assert not [f for f in findings if f["path"] == str(bad_dir / "fifo.py")]
    # One bad file never hides the findings of the others.
    for seed in (bad_dir / "seed.py", bad_dir / "package.py" / "inner.py"):
        assert any(f["path"] == str(seed) and f["code"] == "CNV101"
                   and (f["line"], f["column"]) == (SEED_LINE, SEED_COLUMN) for f in findings)
    cnv900 = [f for f in findings if f["code"] == "CNV900"]
    assert len(cnv900) == len(BAD_FILES) + 3 + 1  # + the notebook
    assert elapsed < 120, elapsed


def test_syntax_error_reports_the_parsers_line_and_message(tmp_path):
    path = tmp_path / "syntax_error.py"
    path.write_bytes(SYNTAX_ERROR)
    status, findings = _check(path)
    finding = _only_cnv900(findings, path)
    assert status == 1
    assert finding["line"] == 4 and finding["message"].startswith("syntax error: ")


@pytest.mark.parametrize("name", ["undecodable.py", "bad_coding_cookie.py", "nul_bytes.py",
                                  "binary.py", "binary_no_nul.py"])
def test_undecodable_nul_and_binary_files_get_one_cnv900(tmp_path, name):
    data, line = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    status, findings = _check(path)
    assert status == 1 and _only_cnv900(findings, path)["line"] == line


def test_a_binary_file_without_conv_text_is_skipped_by_the_prefilter(tmp_path):
    path = tmp_path / "blob.py"
    path.write_bytes(bytes(range(256)) * 64)
    assert _check(path) == (0, [])


# --- unusual but valid files: analyzed as usual ---------------------------------------------

def _seed_variant(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    status, findings = _check(path)
    assert status == 1
    return [(f["code"], f["line"], f["column"]) for f in findings]


def test_a_bom_is_skipped_and_columns_stay_right(tmp_path):
    assert _seed_variant(tmp_path, "bom.py", b"\xef\xbb\xbf" + SEED) == [
        ("CNV101", SEED_LINE, SEED_COLUMN)]


def test_crlf_line_endings_keep_lines_and_columns(tmp_path):
    assert _seed_variant(tmp_path, "crlf.py", SEED.replace(b"\n", b"\r\n")) == [
        ("CNV101", SEED_LINE, SEED_COLUMN)]


def test_a_latin1_coding_cookie_is_honoured(tmp_path):
    data = b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + SEED
    assert _seed_variant(tmp_path, "latin1.py", data) == [("CNV101", SEED_LINE + 2, SEED_COLUMN)]


def test_tab_indentation(tmp_path):
    # The whole seed inside a function indented with one tab: still found, one line down.
    body = b"".join(b"\t" + line if line.strip() else line
                    for line in SEED.splitlines(keepends=True))
    found = _seed_variant(tmp_path, "tabs.py", b"def port():\n" + body)
    assert [(code, line) for code, line, _ in found] == [("CNV101", SEED_LINE + 1)]


def test_an_empty_file_is_clean(tmp_path):
    (tmp_path / "empty.py").write_bytes(b"")
    assert _check(tmp_path / "empty.py") == (0, [])


def test_1000_deep_nesting_is_analyzed(tmp_path):
    depth = 1000
    source = (CONV + b"groups = " + b"-" * depth + b"2\n"  # unary chain
              + b"k = " + b"1 + " * depth + b"2\n"  # left-deep binary chain
              + b"w = x" + b".T" * depth + b"\n"  # attribute chain
              + b"y = conv1d(x, w, groups=groups, padding=k)\n")
    path = tmp_path / "deep.py"
    path.write_bytes(source)
    start = time.perf_counter()
    status, findings = _check(path)
    assert time.perf_counter() - start < 30
    assert not [f for f in findings if f["code"] == "CNV900"], findings


def test_deeper_nesting_gets_cnv900_on_its_line_quickly(tmp_path):
    data, line = BAD_FILES["deep_nesting.py"]
    path = tmp_path / "deep.py"
    path.write_bytes(data)
    start = time.perf_counter()
    status, findings = _check(path)
    assert time.perf_counter() - start < 30
    finding = _only_cnv900(findings, path)
    assert finding["line"] == line and "nested" in finding["message"]


# --- size -----------------------------------------------------------------------------------

def test_a_10_mb_file_without_conv_is_skipped_quickly(tmp_path):
    path = tmp_path / "huge.py"
    path.write_bytes(_huge(False))
    start = time.perf_counter()
    assert _check(path) == (0, [])
    assert time.perf_counter() - start < 30


def test_a_10_mb_file_with_conv_gets_cnv900_quickly(tmp_path):
    path = tmp_path / "huge.py"
    path.write_bytes(_huge(True))
    start = time.perf_counter()
    status, findings = _check(path)
    assert time.perf_counter() - start < 30
    assert "over the 1.0 MB limit" in _only_cnv900(findings, path)["message"]


# --- the file system ----------------------------------------------------------------------

def test_a_symlink_loop_named_on_the_command_line(tmp_path):
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")
    status, findings = _check(tmp_path / "a.py")
    assert "cannot read file" in _only_cnv900(findings, tmp_path / "a.py")["message"]


def test_a_directory_named_like_a_file_is_walked(tmp_path):
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "seed.py").write_bytes(SEED)
    status, findings = _check(tmp_path / "x.py")
    assert [(f["code"], f["line"]) for f in findings] == [("CNV101", SEED_LINE)]


def test_a_fifo_named_on_the_command_line_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    status, findings = _check(tmp_path / "pipe.py")  # would block forever if opened
    assert "not a regular file" in _only_cnv900(findings, tmp_path / "pipe.py")["message"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_an_unreadable_file(tmp_path):
    path = tmp_path / "secret.py"
    path.write_bytes(SEED)
    path.chmod(0)
    try:
        status, findings = _check(path)
    finally:
        path.chmod(0o644)
    assert "Permission denied" in _only_cnv900(findings, path)["message"]


def test_an_unreadable_file_in_process(tmp_path, monkeypatch):
    """The same path as chmod 000, also when the suite runs as root."""
    path = tmp_path / "secret.py"
    path.write_bytes(SEED)
    real_open = open

    def deny(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    analysis = engine.read_and_analyze(str(path), Config())
    assert [(f.code, f.message) for f in analysis.findings] == [
        ("CNV900", "cannot read file: Permission denied")]


def test_a_notebook_with_broken_json(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [ {"cell_type": "code", "source": "import torch')
    (tmp_path / "seed.py").write_bytes(SEED)
    status, findings = _check(tmp_path)
    assert status == 1
    _only_cnv900(findings, path)
    assert any(f["code"] == "CNV101" for f in findings)


# --- exit status --------------------------------------------------------------------------

def test_bad_input_never_exits_2_but_a_missing_path_does(bad_dir):
    assert run_convlint("check", "--no-probe", str(bad_dir)).returncode == 1
    assert run_convlint("check", "--no-probe", "--exit-zero", str(bad_dir)).returncode == 0
    missing = run_convlint("check", "--no-probe", str(bad_dir / "nope.py"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_flake8_over_the_bad_inputs_reports_and_never_crashes(bad_dir):
    import subprocess
    import sys

    (bad_dir / "huge.py").unlink()  # pycodestyle itself takes minutes on 10 MB
    (bad_dir / "fifo.py").unlink()  # flake8 would open it and wait forever
    # flake8's own ast.parse raises RecursionError on 10,000-deep code before any plugin
    # runs (flake8 7, not ours to catch); 1,000-deep is fine.
    (bad_dir / "deep_nesting.py").write_bytes(
        CONV + b"x = " + b"1 + " * 1000 + b"1\ny = conv1d(x, x)\n")
    result = subprocess.run([sys.executable, "-m", "flake8", "--select=CNV,E902,E999",
                             str(bad_dir)], capture_output=True, text=True, timeout=600)
    assert "Traceback" not in result.stderr and "Exception" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert f"{bad_dir / 'seed.py'}:{SEED_LINE}:{SEED_COLUMN}: CNV101" in result.stdout
    for name in ("syntax_error.py", "nul_bytes.py", "binary.py", "loop_a.py", "dangling.py"):
        assert str(bad_dir / name) in result.stdout, name  # E999/E902 from flake8 or CNV900
