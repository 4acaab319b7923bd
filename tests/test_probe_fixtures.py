"""Every finding on an invalid fixture is confirmed by its probe; valid fixtures stay silent.

A line ``# expect: CODE`` must get a finding whose ``probe.status`` is ``confirmed``,
unless the line also says ``probe-skip`` (sizes unknown on purpose). Each case is
analyzed on its own (as in test_fixtures.py), and then all findings are probed in ONE
``run_probes`` call, so the workers and their imports are paid once for the suite.
"""

import re
from pathlib import Path

import pytest

from convlint import engine
from convlint.config import Config
from convlint.probe import stage

FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")
ALL_RULES = Config(select=("CNV",), probe=True, show_unconfirmed=True)


def _cases():
    for rule_dir in sorted(FIXTURES.glob("CNV*")):
        if rule_dir.name.startswith("CNV9"):
            continue  # parse errors and probe failures are not probed
        for entry in sorted(rule_dir.iterdir()):
            if entry.suffix == ".py" or entry.is_dir():
                yield entry


def _files(case: Path):
    return sorted(str(p) for p in case.rglob("*.py")) if case.is_dir() else [str(case)]


def _expected_lines(files):
    """(path, line) -> (codes, probe-skip?) for every ``# expect:`` line."""
    out = {}
    for path in files:
        for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                codes = {c.strip() for c in match.group(1).split(",") if c.strip()}
                out[(path, number)] = (codes, "probe-skip" in line)
    return out


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """(case, files, findings after probing) for every fixture case, probed in one batch."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONVLINT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        return _probe_all()


def _probe_all():
    collected = []
    for case in _cases():
        files = _files(case)
        report = engine.check_files(files, ALL_RULES)
        collected.append((case, files, list(report.findings)))
    everything = [f for _, _, findings in collected for f in findings]
    probed_all = stage.probe_findings(everything, ALL_RULES)
    by_case = []
    for case, files, _ in collected:
        mine = [f for f in probed_all if f.path in files]
        by_case.append((case, files, mine))
    return by_case


def test_every_expected_finding_is_confirmed(probed):
    problems = []
    for case, files, findings in probed:
        for (path, line), (codes, skip) in _expected_lines(files).items():
            if skip:
                continue
            for code in codes:
                hits = [f for f in findings if (f.path, f.line, f.code) == (path, line, code)]
                if not hits:
                    problems.append(f"{path}:{line} {code}: no finding")
                for f in hits:
                    if f.probe is None or f.probe.status != "confirmed":
                        status = f.probe and (f.probe.status, f.probe.detail)
                        problems.append(f"{path}:{line} {code}: probe {status}")
    assert not problems, "\n".join(problems)


def test_valid_fixtures_produce_no_finding(probed):
    noisy = [f"{f.path}:{f.line} {f.code} {f.probe and f.probe.status}"
             for case, files, findings in probed if case.name.startswith("valid")
             for f in findings]
    assert not noisy, "\n".join(noisy)


def test_no_probe_fails(probed):
    failed = [f"{f.path}:{f.line} {f.code}: {f.message}" for _, _, findings in probed
              for f in findings if f.code == "CNV901"]
    assert not failed, "\n".join(failed)
