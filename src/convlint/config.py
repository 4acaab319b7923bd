"""Which rules run: selection by code or prefix, the ruff way.

``select`` replaces the default set; ``extend_select`` adds to it; ``ignore`` removes,
unless a select entry is more specific (``--select CNV101 --ignore CNV1`` keeps CNV101).
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Optional, Tuple

from .rules import all_codes

REFERENCE_FRAMEWORK = "torch"


@dataclass(frozen=True)
class Config:
    select: Tuple[str, ...] = ()
    extend_select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    reference: str = REFERENCE_FRAMEWORK
    probe: bool = True
    show_unconfirmed: bool = False
    # Explicit pairing, from [tool.convlint] port-map: (port "path::name", source
    # "path::name") entries, paths relative to the project root; see convlint.pairing.
    port_map: Tuple[Tuple[str, str], ...] = ()
    # From [tool.convlint] (see convlint.config_file): (glob, codes) pairs and globs,
    # matched against paths relative to project_root (the config file's directory).
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    exclude: Tuple[str, ...] = ()
    probe_timeout: Optional[float] = None
    project_root: Optional[str] = None

    def enabled_at(self, code: str, path: str) -> bool:
        """``enabled`` plus the per-file ignores that match ``path``."""
        if not self.enabled(code):
            return False
        if not self.per_file_ignores:
            return True
        rel = project_relative(path, self.project_root)
        return not any(code.startswith(c) for pattern, codes in self.per_file_ignores
                       if path_matches(rel, pattern) for c in codes)

    def excluded(self, path: str) -> bool:
        if not self.exclude:
            return False  # the common case, and relpath per file costs a warm run 30%
        rel = project_relative(path, self.project_root)
        return any(path_matches(rel, pattern) for pattern in self.exclude)

    def enabled(self, code: str) -> bool:
        selectors = self.select + self.extend_select
        chosen = [s for s in selectors if code.startswith(s)]
        if self.select:
            on = bool(chosen)
        else:
            on = _DEFAULTS.get(code, False) or bool(chosen)
        if not on:
            return False
        best_select = max((len(s) for s in chosen), default=-1)
        best_ignore = max((len(s) for s in self.ignore if code.startswith(s)), default=-1)
        return best_ignore < 0 or best_select > best_ignore


_DEFAULTS = {code: default for code, _, _, default, _, _ in all_codes()}


def known_prefix(selector: str) -> bool:
    return any(code.startswith(selector) for code in _DEFAULTS)


def project_relative(path: str, root: Optional[str]) -> str:
    """POSIX path of ``path`` relative to ``root`` (or the working directory)."""
    base = os.path.abspath(root or os.getcwd())
    try:
        rel = os.path.relpath(os.path.abspath(path), base)
    except ValueError:  # another drive on Windows
        rel = os.path.abspath(path)
    return PurePosixPath(*rel.split(os.sep)).as_posix()


def path_matches(rel: str, pattern: str) -> bool:
    """ruff-like globs: a pattern matches the path, one of its parent directories, or
    (without a ``/``) any single component, so ``legacy`` and ``gen_*.py`` work anywhere."""
    pattern = pattern.strip().rstrip("/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if not pattern:
        return False
    parts = rel.split("/")
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in parts)
    return any(fnmatch.fnmatchcase("/".join(parts[:i]), pattern)
               for i in range(1, len(parts) + 1))
