"""Verdict cache: reuse without workers, atomic writes, corrupt entries ignored."""

import subprocess
import sys
from pathlib import Path

import convlint.probe
from convlint.probe.cache import VerdictCache
from convlint.probe.runner import ProbeRunner, run_probes
from convlint.probe.spec import ProbeSpec, Side

from probe_specs import torch_conv, torch_vs_torch


def _specs():
    flipped = Side(torch_conv(3, 5, 4).call, kernel_ops=(("flip", 2),))
    return [torch_vs_torch(), ProbeSpec("CNV203", torch_conv(3, 5, 4), flipped)]


def test_second_run_reuses_verdicts_without_starting_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLINT_CACHE_DIR", str(tmp_path))
    first = run_probes(_specs())
    assert [r.status for r in first] == ["not-reproduced", "confirmed"]
    assert len(list((tmp_path / "probes").glob("*.json"))) == 2
    with ProbeRunner(cache_dir=tmp_path) as runner:
        assert runner.run(_specs()) == first
        assert runner.workers_started == 0


def test_corrupt_entry_is_ignored_and_rewritten(tmp_path):
    with ProbeRunner(cache_dir=tmp_path) as runner:
        (expected,) = runner.run(_specs()[:1])
    (entry,) = (tmp_path / "probes").glob("*.json")
    entry.write_text('{"status": "confirmed", "max_abs')
    with ProbeRunner(cache_dir=tmp_path) as runner:
        assert runner.run(_specs()[:1]) == [expected]
        assert runner.workers_started == 1
    assert VerdictCache(tmp_path).get(entry.stem) == expected


WRITER = """
import sys
sys.path.insert(0, {src!r})
from convlint.findings import ProbeResult
from convlint.probe.cache import VerdictCache
cache = VerdictCache(sys.argv[1])
for i in range(300):
    cache.put("same-key", ProbeResult("confirmed", float(i), sys.argv[2] * 20000))
"""


def test_concurrent_writers_never_expose_a_torn_entry(tmp_path):
    code = WRITER.format(src=str(Path(convlint.probe.__file__).parents[2]))
    writers = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), name]) for name in "ab"]
    cache = VerdictCache(tmp_path)
    reads = []
    while any(w.poll() is None for w in writers):
        reads.append(cache.get("same-key"))
    reads.append(cache.get("same-key"))
    assert [w.returncode for w in writers] == [0, 0]
    # Absent before the first write; from then on always complete (never truncated).
    written = reads[next((i for i, r in enumerate(reads) if r is not None), len(reads)):]
    complete = ("a" * 20000, "b" * 20000)
    assert len(reads) > 10 and all(r is not None and r.detail in complete for r in written)
    assert reads[-1].max_abs_diff == 299.0
    assert [p.name for p in (tmp_path / "probes").iterdir()] == ["same-key.json"]


def test_key_covers_the_spec_and_the_framework_versions(monkeypatch):
    from convlint.probe import cache

    spec = torch_vs_torch()
    key = cache.cache_key(spec, "/usr/bin/python3")
    assert cache.cache_key(torch_vs_torch(seed=1), "/usr/bin/python3") != key
    assert cache.cache_key(spec, "/other/python") != key
    monkeypatch.setattr(cache, "_version", lambda name: "9.9" if name == "torch" else "1.0")
    assert cache.cache_key(spec, "/usr/bin/python3") != key
