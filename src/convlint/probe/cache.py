"""Verdict cache: one small JSON file per probe, keyed by the spec and the environment.

The key covers everything a verdict depends on: the spec's content, the installed
versions of the frameworks it runs (read with importlib.metadata, so nothing is
imported), the worker's python, oneDNN's switch (catalog G02/L03 change with it) and
this module's format. Files are written atomically (a temporary file in the same
directory, then os.replace), so concurrent linters never see a half-written entry; an
entry that fails to parse is treated as absent.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, fields
from importlib import metadata
from pathlib import Path
from typing import Dict, Iterable, Optional

from convlint.findings import ProbeResult
from convlint.probe.spec import ProbeSpec

# Bump when the runner's behaviour changes so that old verdicts are not reused.
CACHE_FORMAT = 2  # 2: float64 re-check, native aborts of the port confirm

# Only measured verdicts are stored: "failed" (timeouts, dead workers) and "skipped"
# (missing frameworks) depend on the moment and must be retried next run.
CACHEABLE = ("confirmed", "not-reproduced")

_DISTRIBUTIONS = {
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "keras": ("keras", "tensorflow", "tensorflow-cpu"),
    "jax": ("jax", "jaxlib"),
    "flax": ("flax", "jax", "jaxlib"),
    "numpy": (),
    "tensorflow-onednn-off": ("tensorflow", "tensorflow-cpu"),
}


def default_directory() -> Path:
    from ..runcache import cache_directory

    return Path(cache_directory())


def framework_versions(frameworks: Iterable[str]) -> Dict[str, str]:
    names = {"numpy"}  # the probe data itself
    for framework in frameworks:
        names.update(_DISTRIBUTIONS.get(framework, (framework,)))
    return {name: _version(name) for name in sorted(names)}


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def cache_key(spec: ProbeSpec, python: str) -> str:
    sides = [s for s in (spec.source, spec.port, spec.fix) if s is not None]
    environment = {
        "format": CACHE_FORMAT,
        "python": python,
        "versions": framework_versions(side.call.framework for side in sides),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", ""),
    }
    text = spec.key() + "\n" + json.dumps(environment, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VerdictCache:
    def __init__(self, directory: Optional[Path] = None) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()

    def _path(self, key: str) -> Path:
        return self.directory / "probes" / f"{key}.json"

    def get(self, key: str) -> Optional[ProbeResult]:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            result = ProbeResult(**{f.name: data[f.name] for f in fields(ProbeResult)})
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return result if _well_formed(result) else None

    def put(self, key: str, result: ProbeResult) -> None:
        from ..runcache import write_atomically

        text = json.dumps(asdict(result)).encode("utf-8")
        write_atomically(str(self._path(key)), lambda stream: stream.write(text))


def _well_formed(result: ProbeResult) -> bool:
    numbers = (result.max_abs_diff, result.rel_diff, result.fix_max_abs_diff)
    return (
        result.status in CACHEABLE
        and isinstance(result.detail, str)
        and all(n is None or isinstance(n, (int, float)) for n in numbers)
    )
