"""[tool.convlint] in pyproject.toml: discovery, validation and precedence over the CLI."""

import shutil

import pytest

from conftest import EXAMPLES
from convlint import cli
from convlint.config import Config, path_matches
from convlint.config_file import ConfigError, FileSettings, find_config, load, merge


def _project(root, toml=None, git=True):
    root.mkdir(parents=True, exist_ok=True)
    if git:
        (root / ".git").mkdir()
    for name in ("seed_torch.py", "seed_tf.py"):
        shutil.copy(EXAMPLES / name, root / name)
    if toml is not None:
        (root / "pyproject.toml").write_text(toml)
    return root


def _check(monkeypatch, capsys, cwd, *args):
    monkeypatch.chdir(cwd)
    code = cli.main(["check", "--no-probe", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_discovered_from_a_subdirectory(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path / "p", '[tool.convlint]\nignore = ["CNV101"]\n')
    (root / "sub").mkdir()
    code, out, _ = _check(monkeypatch, capsys, root / "sub", "..")
    assert code == 0 and "All clear: 2 files checked." in out
    assert find_config(str(root / "sub")) == str(root / "pyproject.toml")


def test_discovery_skips_a_pyproject_without_the_table_and_stops_at_git(tmp_path):
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "pyproject.toml").write_text('[tool.convlint]\nignore = ["CNV1"]\n')
    repo = _project(outer / "repo", "[project]\nname = 'x'\n")
    assert find_config(str(repo)) is None  # .git bounds the search
    (repo / ".git").rmdir()
    assert find_config(str(repo)) == str(outer / "pyproject.toml")


def test_command_line_wins(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path / "p", '[tool.convlint]\nignore = ["CNV101"]\n')
    code, out, _ = _check(monkeypatch, capsys, root, "--select", "CNV101", ".")
    assert code == 1 and "seed_tf.py:24:7: CNV101" in out
    code, out, _ = _check(monkeypatch, capsys, root, "--isolated", ".")
    assert code == 1
    # extend-select and ignore add to the file's lists
    root2 = _project(tmp_path / "q", '[tool.convlint]\nextend-select = ["CNV103"]\n')
    code, _, _ = _check(monkeypatch, capsys, root2, "--ignore", "CNV101", ".")
    assert code == 0


def test_explicit_config_path(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path / "p")
    (tmp_path / "other.toml").write_text('[tool.convlint]\nselect = ["CNV102"]\n')
    code, out, _ = _check(monkeypatch, capsys, root, "--config", str(tmp_path / "other.toml"), ".")
    assert code == 0, out


@pytest.mark.parametrize("toml, needle", [
    ('[tool.convlint]\nselct = ["CNV101"]\n', "unknown key 'selct'"),
    ('[tool.convlint]\nselect = ["CNV999"]\n', "unknown rule code or prefix 'CNV999'"),
    ('[tool.convlint]\nselect = "CNV101"\n', "expected a list of rule codes"),
    ('[tool.convlint]\nprobe = "yes"\n', "expected true or false"),
    ('[tool.convlint]\nprobe-timeout = -1\n', "positive number of seconds"),
    ('[tool.convlint]\nreference = "mxnet"\n', "expected one of torch"),
    ('[tool.convlint]\nport-map = {"a.py" = "b.py::f"}\n', "is not of the form"),
    ('[tool.convlint\n', "not valid TOML"),
])
def test_bad_configuration_is_a_usage_error(tmp_path, monkeypatch, capsys, toml, needle):
    root = _project(tmp_path / "p", toml)
    code, out, err = _check(monkeypatch, capsys, root, ".")
    assert code == 2 and needle in err and "Traceback" not in err, err


def test_every_key_reaches_the_config(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[tool.convlint]\n'
        'select = ["CNV1"]\nextend-select = ["CNV103"]\nignore = ["CNV102"]\n'
        'exclude = ["legacy", "gen_*.py"]\nprobe = false\nprobe-timeout = 12\n'
        'reference = "tensorflow"\nshow-unconfirmed = true\n'
        '[tool.convlint.per-file-ignores]\n"tests/*" = ["CNV101"]\n'
        '[tool.convlint.port-map]\n"tf/model.py::TFBlock" = "torch/model.py::Block"\n')
    config = merge(load(str(path)))
    assert config == Config(
        select=("CNV1",), extend_select=("CNV103",), ignore=("CNV102",), reference="tensorflow",
        probe=False, show_unconfirmed=True,
        port_map=(("tf/model.py::TFBlock", "torch/model.py::Block"),),
        per_file_ignores=(("tests/*", ("CNV101",)),), exclude=("legacy", "gen_*.py"),
        probe_timeout=12.0, project_root=str(tmp_path))
    assert merge(load(str(path)), probe=True, reference="jax").probe is True
    assert config.enabled_at("CNV101", str(tmp_path / "src" / "a.py"))
    assert not config.enabled_at("CNV101", str(tmp_path / "tests" / "a.py"))
    assert config.excluded(str(tmp_path / "pkg" / "legacy" / "a.py"))
    assert config.excluded(str(tmp_path / "gen_conv.py"))
    assert not config.excluded(str(tmp_path / "pkg" / "a.py"))


def test_per_file_ignores_and_exclude_through_the_cli(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path / "p",
                    '[tool.convlint]\n[tool.convlint.per-file-ignores]\n"seed_tf.py" = ["CNV1"]\n')
    code, out, _ = _check(monkeypatch, capsys, root, ".")
    assert code == 0, out
    root = _project(tmp_path / "q", '[tool.convlint]\nexclude = ["seed_tf.py"]\n')
    code, out, _ = _check(monkeypatch, capsys, root, ".")
    assert code == 0 and "1 file checked" in out


def test_globs():
    assert path_matches("a/b/c.py", "a/b")
    assert path_matches("a/b/c.py", "b")
    assert path_matches("a/b/c.py", "a/*/c.py")
    assert not path_matches("a/b/c.py", "c")
    assert path_matches("a/b/c.py", "./a/")


def test_missing_table_in_explicit_pyproject(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[project]\nname='x'\n")
    with pytest.raises(ConfigError, match="no \\[tool.convlint\\] table"):
        load(str(path))
    assert merge(FileSettings()) == Config()
