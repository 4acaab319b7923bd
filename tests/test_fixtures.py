"""Table-driven rule tests: every fixture states its expected findings inline.

A line ending in ``# expect: CNV101`` (or several codes, comma-separated) must get
exactly those findings; every other line must get none. A directory is one case whose
files are checked together (cross-file pairing); a file is a case of its own.
"""

import re
from pathlib import Path

import pytest

from convlint import engine
from convlint.config import Config

FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")
ALL_RULES = Config(select=("CNV",), probe=False)


def _cases():
    for rule_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for entry in sorted(rule_dir.iterdir()):
            if entry.suffix == ".py" or entry.is_dir():
                yield pytest.param(entry, id=f"{rule_dir.name}/{entry.name}")


def _expected(files):
    out = set()
    for path in files:
        for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                for code in match.group(1).split(","):
                    out.add((str(path), number, code.strip()))
    return out


@pytest.mark.parametrize("case", list(_cases()))
def test_fixture(case: Path):
    files = sorted(str(p) for p in case.rglob("*.py")) if case.is_dir() else [str(case)]
    report = engine.check_files(files, ALL_RULES)
    found = {(f.path, f.line, f.code) for f in report.findings}
    assert found == _expected(files)


def test_every_rule_directory_has_valid_and_invalid_cases():
    for rule_dir in (p for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith("CNV")):
        names = [p.name for p in rule_dir.iterdir()]
        assert any(n.startswith("valid") for n in names), rule_dir
        assert any(not n.startswith("valid") for n in names), rule_dir
