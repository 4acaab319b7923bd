"""The command-line contract: output formats, exit codes, selection, rule docs."""

import json
import shutil

import jsonschema
import pytest

from conftest import EXAMPLES, FIXTURES, ROOT, run_convlint

SCHEMA_CANDIDATES = [ROOT.parent / "shared" / "schemas" / "findings.schema.json",
                     ROOT / "tests" / "findings.schema.json"]


def _schema():
    for path in SCHEMA_CANDIDATES:
        if path.is_file():
            return json.loads(path.read_text())
    pytest.fail("findings.schema.json not found")


def test_examples_report_the_seed_on_the_tf_line_and_exit_1():
    result = run_convlint("check", "--no-probe", "examples/")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert any(l.startswith("examples/seed_tf.py:24:7: CNV101 [error] groups dropped") for l in lines)
    assert any(l.startswith("examples/seed.py:42:7: CNV101 [error]") for l in lines)
    assert "related: examples/seed_torch.py:20:10: source: F.conv1d, groups=2" in result.stdout


def test_json_follows_the_contract():
    result = run_convlint("check", "--no-probe", "--format", "json", "examples/")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    jsonschema.validate(data, _schema())
    split = [f for f in data if f["path"] == "examples/seed_tf.py"]
    assert len(split) == 1
    finding = split[0]
    assert (finding["code"], finding["name"], finding["severity"]) == ("CNV101", "groups-dropped", "error")
    assert (finding["line"], finding["column"]) == (24, 7)
    assert finding["related"][0]["path"] == "examples/seed_torch.py"
    assert finding["related"][0]["line"] == 20
    edit = finding["fix"]["edits"][0]
    source_line = (EXAMPLES / "seed_tf.py").read_text().splitlines()[edit["line"] - 1]
    assert source_line[edit["column"] - 1:edit["end_column"] - 1] == "in_channels"
    assert edit["replacement"] == "1"


def test_clean_input_exits_0_with_an_empty_json_array():
    result = run_convlint("check", "--no-probe", "--format", "json",
                          str(FIXTURES / "CNV101" / "valid_keras_groups.py"))
    assert result.returncode == 0
    assert json.loads(result.stdout) == []


def test_no_paths_is_clean_not_an_error():
    result = run_convlint("check", "--no-probe")
    assert result.returncode == 0
    assert "0 files checked" in result.stdout


@pytest.mark.parametrize("args", [["check", "no/such/path.py"], ["check", "--select", "XYZ1", "examples"],
                                  ["check", "--format", "nope", "examples"], ["frobnicate"], []])
def test_usage_errors_exit_2(args):
    result = run_convlint(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_ignore_and_select():
    ignored = run_convlint("check", "--no-probe", "--ignore", "CNV1", "examples/")
    assert ignored.returncode == 0
    selected = run_convlint("check", "--no-probe", "--select", "CNV103", "examples/")
    assert selected.returncode == 0
    info = FIXTURES / "CNV103" / "tf_filter_in_dim_divides.py"
    assert run_convlint("check", "--no-probe", str(info)).returncode == 0  # off by default
    opted_in = run_convlint("check", "--no-probe", "--extend-select", "CNV103", str(info))
    assert opted_in.returncode == 1 and "CNV103" in opted_in.stdout


def test_noqa_silences_the_cli(tmp_path):
    for name in ("seed_torch.py", "seed_tf.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    port = tmp_path / "seed_tf.py"
    port.write_text(port.read_text().replace('"VALID")\n', '"VALID")  # noqa: CNV101\n', 1))
    assert run_convlint("check", "--no-probe", str(tmp_path)).returncode == 0


def test_rules_lists_every_code_with_severity_and_default():
    result = run_convlint("rules")
    assert result.returncode == 0
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert rows["CNV101"][1:4] == ["groups-dropped", "error", "on"]
    assert rows["CNV103"][1:4] == ["tf-implicit-groups", "info", "off"]
    assert "CNV900" in rows


def test_rule_prints_its_documentation():
    result = run_convlint("rule", "cnv101")
    assert result.returncode == 0
    assert result.stdout.startswith("# CNV101 groups-dropped")
    assert run_convlint("rule", "CNV999").returncode == 2


def test_version():
    result = run_convlint("--version")
    assert result.returncode == 0 and result.stdout.startswith("convlint ")


def test_syntax_error_is_one_diagnostic_and_others_still_reported(tmp_path):
    shutil.copy(FIXTURES / "CNV900" / "syntax_error.py", tmp_path / "broken.py")
    shutil.copy(FIXTURES / "CNV102" / "torch_in_channels_not_divisible.py", tmp_path / "bad.py")
    result = run_convlint("check", "--no-probe", "--format", "json", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    codes = sorted(f["code"] for f in json.loads(result.stdout))
    assert codes == ["CNV102", "CNV900"]


def test_shipped_schema_copy_matches_the_contract():
    shared, shipped = SCHEMA_CANDIDATES
    if not shared.is_file():
        pytest.skip("shared/ is not beside this checkout (only on the team's machines)")
    assert json.loads(shared.read_text()) == json.loads(shipped.read_text())
