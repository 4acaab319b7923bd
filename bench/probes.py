"""Benchmark the probe stage on every invalid fixture (a script, not a test).

    PYTHONPATH=src python bench/probes.py [--fixtures tests/fixtures] [--repeat 1]

1. cold: a fresh runner and an empty cache directory: worker start-up, framework
   imports and every probe;
2. hot: the same runner again with the cache off: the cost per probe after imports;
3. warm: a new runner on the cache written by (1): a rerun of an unchanged project.

Prints per-framework import times (worker start-up included) and the verdicts.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

from convlint import engine
from convlint.config import Config
from convlint.probe import plan
from convlint.probe.runner import ProbeRunner

ALL_RULES = Config(select=("CNV",), probe=True)


def invalid_cases(root: Path):
    for rule_dir in sorted(root.glob("CNV*")):
        for entry in sorted(rule_dir.iterdir()):
            if entry.name.startswith("valid") or not (entry.suffix == ".py" or entry.is_dir()):
                continue
            yield sorted(str(p) for p in entry.rglob("*.py")) if entry.is_dir() else [str(entry)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default=str(Path(__file__).parents[1] / "tests" / "fixtures"))
    parser.add_argument("--repeat", type=int, default=1, help="hot passes to average")
    args = parser.parse_args()

    started = time.perf_counter()
    cases = list(invalid_cases(Path(args.fixtures)))
    findings = [f for files in cases for f in engine.check_files(files, ALL_RULES).findings]
    specs, unplanned = [], collections.Counter()
    for finding in findings:
        spec = None if finding.code.startswith("CNV9") else plan.plan(finding)
        if spec is None:
            unplanned[finding.code] += 1
        else:
            specs.append(spec)
    analysis = time.perf_counter() - started
    print(f"{len(cases)} invalid fixture cases, {len(findings)} findings, {len(specs)} probes "
          f"(no probe: {dict(unplanned) or 'none'}); analysis {analysis:.2f} s")

    with tempfile.TemporaryDirectory(prefix="convlint-bench-") as cache_dir:
        with ProbeRunner(cache_dir=Path(cache_dir)) as runner:
            t0 = time.perf_counter()
            cold = runner.run(specs)
            cold_s = time.perf_counter() - t0
            imports = dict(runner.load_seconds)
            workers = runner.workers_started
            runner._cache = None  # same live workers, cache off: probes only
            t0 = time.perf_counter()
            for _ in range(args.repeat):
                hot = runner.run(specs)
            hot_s = (time.perf_counter() - t0) / args.repeat
        with ProbeRunner(cache_dir=Path(cache_dir)) as again:
            t0 = time.perf_counter()
            warm = again.run(specs)
            warm_s = time.perf_counter() - t0
            warm_workers = again.workers_started

    print(f"cold  (empty cache): {cold_s:7.2f} s for {len(specs)} probes, "
          f"{workers} worker processes started")
    print("      framework import (worker start-up included): "
          + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(imports.items())))
    per_probe = hot_s / max(len(specs), 1)
    print(f"hot   (imports done, cache off): {hot_s:7.2f} s, {per_probe * 1000:.0f} ms per probe")
    print(f"warm  (from the cache): {warm_s:7.3f} s, {warm_workers} workers started")
    statuses = collections.Counter(r.status for r in cold)
    print(f"verdicts: {dict(statuses)}")
    for spec, result in zip(specs, cold):
        if result.status != "confirmed":
            print(f"  {spec.rule}: {result.status}: {result.detail}")
    agree = [r.status for r in cold] == [r.status for r in hot] == [r.status for r in warm]
    print(f"cold, hot and warm verdicts agree: {agree}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
