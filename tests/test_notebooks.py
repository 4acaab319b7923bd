"""Notebooks: code cells analyzed as one module, findings at (cell, line in cell)."""

import json
import shutil
from pathlib import Path

import jsonschema

from conftest import ROOT
from convlint import engine
from convlint.config import Config
from convlint.notebook import to_source

NOTEBOOKS = ROOT / "tests" / "notebooks"
PORT = "tests/notebooks/grouped_port.ipynb"


def _json(convlint_cli, *paths):
    result = convlint_cli("check", "--no-probe", "--format", "json", *paths)
    assert "Traceback" not in result.stderr, result.stderr
    return result, json.loads(result.stdout)


def test_finding_points_at_the_cell_and_the_line_in_it(convlint_cli):
    result, findings = _json(convlint_cli, PORT)
    assert result.returncode == 1
    (finding,) = findings
    # Cell 6 (markdown cells count, as Jupyter numbers them), line 5 of that cell.
    assert (finding["code"], finding["cell"], finding["line"], finding["column"]) == (
        "CNV101", 6, 5, 6)
    assert finding["related"][0] | {"message": ""} == {
        "path": PORT, "cell": 3, "line": 4, "column": 5, "message": ""}
    assert f"{PORT}:cell 3:4 is grouped" in finding["message"]
    # The fix's edit is in cell coordinates too: cell 6, line 2, the filter's in-dim.
    assert finding["fix"]["edits"] == [{"line": 2, "column": 31, "end_line": 2, "end_column": 32,
                                        "replacement": "2", "cell": 6}]
    schema = json.loads((ROOT / "tests" / "findings.schema.json").read_text())
    jsonschema.validate(findings, schema)
    cell = json.loads(Path(ROOT / PORT).read_text())["cells"][5]
    assert "".join(cell["source"]).splitlines()[4][5:].startswith("tf.nn.conv1d(")


def test_text_format_is_ruffs(convlint_cli):
    result = convlint_cli("check", "--no-probe", PORT)
    assert f"{PORT}:cell 6:5:6: CNV101 " in result.stdout
    assert f"related: {PORT}:cell 3:4:5: source" in result.stdout


def test_broken_notebook_is_one_cnv900_and_others_still_checked(convlint_cli):
    result, findings = _json(convlint_cli, "tests/notebooks/")
    assert result.returncode == 1
    assert [(f["path"], f["code"]) for f in findings] == [
        ("tests/notebooks/broken.ipynb", "CNV900"), (PORT, "CNV101")]
    assert "not valid JSON" in findings[0]["message"]


def test_syntax_error_in_a_cell_is_reported_in_that_cell(tmp_path):
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": "import torch\n"},
        {"cell_type": "code", "metadata": {}, "outputs": [],
         "source": ["x = 1\n", "y = torch.nn.Conv1d(2, 4, 3\n"]}]}
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(notebook))
    report = engine.check_files([str(path)], Config(probe=False))
    (finding,) = report.findings
    assert (finding.code, finding.cell) == ("CNV900", 2)


def test_magics_become_pass_and_cell_magics_blank_the_cell():
    data = (NOTEBOOKS / "grouped_port.ipynb").read_bytes()
    source = to_source(data)
    compile(source, "nb", "exec")
    assert "%" not in source and "!pip" not in source and "echo" not in source
    assert "    pass\n" in source  # `%time` inside a loop keeps the block valid


def test_suppression_inside_a_cell(tmp_path):
    text = (NOTEBOOKS / "grouped_port.ipynb").read_text()
    notebook = json.loads(text)
    source = notebook["cells"][5]["source"]
    source[4] = source[4] + "  # convlint: ignore[CNV101]"
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook))
    assert engine.check_files([str(path)], Config(probe=False)).findings == ()


def test_directories_include_notebooks(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("{}")
    files, missing = engine.collect_files([str(tmp_path)])
    assert files == [str(tmp_path / "a.ipynb")] and not missing


def test_fix_rewrites_only_the_cell_line_and_is_idempotent(tmp_path, convlint_cli):
    path = tmp_path / "nb.ipynb"
    shutil.copy(NOTEBOOKS / "grouped_port.ipynb", path)
    before = path.read_text()
    result = convlint_cli("check", "--no-probe", "--fix", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    after = path.read_text()
    assert after == before.replace('"kernel = tf.random.normal([3, 4, 6])\\n"',
                                   '"kernel = tf.random.normal([3, 2, 6])\\n"')
    assert after != before
    again = convlint_cli("check", "--no-probe", "--fix", str(path))
    assert again.returncode == 0 and path.read_text() == after
    assert "All clear" in again.stdout


def test_notebook_whose_layout_cannot_be_reproduced_is_not_rewritten(tmp_path, convlint_cli):
    path = tmp_path / "nb.ipynb"
    document = json.loads((NOTEBOOKS / "grouped_port.ipynb").read_text())
    path.write_text(json.dumps(document, separators=(",", ":")))
    before = path.read_bytes()
    result = convlint_cli("check", "--no-probe", "--fix", str(path))
    assert result.returncode == 1 and path.read_bytes() == before
    assert "JSON layout cannot be reproduced" in result.stderr


def test_ci_formats_name_the_cell(monkeypatch):
    from test_reports import _parse_github, _validate_sarif

    from convlint.report import github, gitlab, sarif

    monkeypatch.chdir(ROOT)
    report = engine.check_files([PORT], Config(probe=False))
    log = json.loads(sarif.render(report.findings, 1))
    _validate_sarif(log)
    (result,) = log["runs"][0]["results"]
    assert result["message"]["text"].startswith("cell 6: groups dropped")
    assert "fixes" not in result  # cell-relative edits are not SARIF regions
    annotations, rest = _parse_github(github.render(report.findings, 1))
    assert annotations[0][1]["title"] == "CNV101 groups-dropped (cell 6)"
    assert rest[0].startswith(f"{PORT}:cell 6:5:6: CNV101")
    (issue,) = json.loads(gitlab.render(report.findings, 1))
    assert issue["description"].startswith("CNV101: cell 6: groups dropped")


def test_a_modulo_continuation_line_is_not_taken_for_a_magic():
    cell = {"cell_type": "code", "metadata": {}, "outputs": [],
            "source": ["y = (7\n", "     % 3)\n", "z = (1\n", "     != 2)\n"]}
    source = to_source(json.dumps({"cells": [cell], "nbformat": 4}).encode())
    assert "% 3)" in source and "!= 2)" in source
    compile(source, "nb", "exec")
