"""`# noqa` and `# convlint: ignore[...]`, in the CLI and flake8, and unused suppressions."""

import shutil
import subprocess
import sys

from conftest import EXAMPLES
from convlint import cli
from convlint.findings import Finding
from convlint.suppress import filter_suppressed, find_suppressions

MULTILINE_CALL = 'res = tf.nn.conv1d(\n    padded,\n    weight,{comment}\n    1,\n    "VALID",\n)'


def _seed(tmp_path, comment="", extra=()):
    for name in ("seed_torch.py", "seed_tf.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    port = tmp_path / "seed_tf.py"
    text = port.read_text().replace('res = tf.nn.conv1d(padded, weight, 1, "VALID")',
                                    MULTILINE_CALL.format(comment=comment))
    for old, new in extra:
        text = text.replace(old, new)
    port.write_text(text)
    return port


def _check(monkeypatch, capsys, cwd, *args):
    monkeypatch.chdir(cwd)
    code = cli.main(["check", "--no-probe", *args, "."])
    return (code, *capsys.readouterr())


def test_ignore_on_an_inner_line_of_a_multiline_call(tmp_path, monkeypatch, capsys):
    _seed(tmp_path)
    code, out, _ = _check(monkeypatch, capsys, tmp_path)
    assert code == 1 and "seed_tf.py:24:7: CNV101" in out
    _seed(tmp_path, "  # convlint: ignore[CNV101]")
    code, out, _ = _check(monkeypatch, capsys, tmp_path)
    assert code == 0, out
    _seed(tmp_path, "  # convlint: ignore")  # bare: every code
    assert _check(monkeypatch, capsys, tmp_path)[0] == 0
    _seed(tmp_path, "  # convlint: ignore[CNV4]")  # another family: no effect
    assert _check(monkeypatch, capsys, tmp_path)[0] == 1


def test_noqa_only_on_the_reported_line(tmp_path, monkeypatch, capsys):
    _seed(tmp_path, "  # noqa: CNV101")  # line 26, the finding is reported on 24
    assert _check(monkeypatch, capsys, tmp_path)[0] == 1
    _seed(tmp_path, extra=[("res = tf.nn.conv1d(\n", "res = tf.nn.conv1d(  # noqa: CNV101\n")])
    assert _check(monkeypatch, capsys, tmp_path)[0] == 0
    # A code of another family is not a blanket noqa (flake8 >= 6 grammar).
    _seed(tmp_path, extra=[("res = tf.nn.conv1d(\n", "res = tf.nn.conv1d(  # noqa: CNV102\n")])
    assert _check(monkeypatch, capsys, tmp_path)[0] == 1


def test_unused_suppressions_are_reported_behind_the_flag(tmp_path, monkeypatch, capsys):
    _seed(tmp_path, "  # convlint: ignore[CNV101, CNV102]", extra=[
        ("kernel_size = 3\n", "kernel_size = 3  # convlint: ignore\n"),
        ("print(res)", "print(res)  # noqa: CNV101, E501"),
        ("print(batch_size", "# noqa: E501\nprint(batch_size"),
    ])
    code, out, err = _check(monkeypatch, capsys, tmp_path)
    assert code == 0 and err == ""
    code, out, err = _check(monkeypatch, capsys, tmp_path, "--report-unused-suppressions")
    assert code == 1, out
    assert err.splitlines() == [
        "./seed_tf.py:15:18: unused-suppression: `# convlint: ignore` suppresses nothing",
        "./seed_tf.py:27:14: unused-suppression: `# convlint: ignore[CNV101, CNV102]`: "
        "CNV102 suppresses nothing",
        "./seed_tf.py:34:13: unused-suppression: `# noqa: CNV101, E501`: CNV101 suppresses "
        "nothing",
    ]
    assert _check(monkeypatch, capsys, tmp_path, "--report-unused-suppressions",
                  "--exit-zero")[0] == 0


def test_comment_text_inside_strings_is_not_a_suppression():
    source = 's = "# convlint: ignore"\nt = 1  # convlint: ignore[CNV101]\n'
    found = find_suppressions("a.py", source)
    assert [(s.line, s.kind, s.codes) for s in found] == [(2, "ignore", ("CNV101",))]
    finding = Finding("CNV101", "groups-dropped", "error", "a.py", 1, 1, 2, 5, "m")
    kept, unused = filter_suppressed([finding], {"a.py": source})
    assert kept == [] and unused == []


def test_flake8_honors_both_spellings(tmp_path):
    def flake8():
        return subprocess.run([sys.executable, "-m", "flake8", "--select=CNV", str(tmp_path)],
                              capture_output=True, text=True, timeout=300)

    _seed(tmp_path)
    assert flake8().returncode == 1
    _seed(tmp_path, "  # convlint: ignore[CNV101]")
    result = flake8()
    assert result.returncode == 0, result.stdout + result.stderr
