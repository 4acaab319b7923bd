"""Runs the stages for a set of files: parse -> sites -> infer -> rules -> (probe) -> findings.

The CLI and the flake8 plugin are thin front ends over :func:`analyze_bytes` and
:func:`check_files`. Every file is parsed once; a file that cannot be read or parsed
yields one CNV900 finding and never hides the findings of the others.
"""

from __future__ import annotations

import gc
import os
import stat
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from . import rules
from .config import Config
from .findings import Finding
from .pairing import Pair, pair_across
from .spec import Site
from .suppress import UnusedSuppression, filter_suppressed
from . import notebook

if TYPE_CHECKING:
    from .parse import ParseFailure

EXCLUDED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".env", "env", "__pycache__",
    "build", "dist", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    "site-packages", ".eggs", ".ipynb_checkpoints",
})


@dataclass(frozen=True)
class FileAnalysis:
    path: str
    source: str
    sites: Tuple[Site, ...] = ()
    findings: Tuple[Finding, ...] = ()  # site rules and CNV900; pair rules come later
    # The file's suppression comments when already found (convlint.parallel), else None.
    suppressions: Optional[Tuple[object, ...]] = None


@dataclass(frozen=True)
class Report:
    findings: Tuple[Finding, ...]
    files_checked: int
    pairs: Tuple[Pair, ...] = field(default=(), compare=False)
    # Suppression comments that matched no finding (--report-unused-suppressions).
    unused_suppressions: Tuple[UnusedSuppression, ...] = field(default=(), compare=False)


def parse_failure_finding(failure: "ParseFailure") -> Finding:
    return Finding(
        code="CNV900", name="parse-error", severity="error", path=failure.path,
        line=max(failure.line, 1), column=failure.column + 1, end_line=max(failure.line, 1),
        end_column=failure.column + 1, message=failure.message,
    )


# The fuzzer (scripts/fuzz.py) counts a CNV900 with this message as a crash.
INTERNAL_ERROR = "internal error in convlint (please report it with this file)"


@contextmanager
def _fewer_collections() -> Iterator[None]:
    # A LibCST tree is ~10^5 objects, none of them cyclic garbage until the file is done:
    # the default gen-0 threshold (700) makes the cycle collector rescan them thousands
    # of times. 13% of a cold run on transformers; restored after, for flake8's sake.
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 50_000), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def analyze_bytes(path: str, data: bytes, config: Config) -> FileAnalysis:
    """Parse, find, infer and run the site rules of one file. Never raises."""
    from .quickscan import might_contain_conv  # (convlint.parse imports LibCST)

    if not might_contain_conv(data):
        return FileAnalysis(path, "")
    with _fewer_collections():
        return _analyze_bytes(path, data, config)


def _analyze_bytes(path: str, data: bytes, config: Config) -> FileAnalysis:
    # Imported here so that a run served from the file cache never loads LibCST.
    from .infer import infer_sites
    from .parse import ParseFailure, ensure_recursion_headroom, parse_bytes
    from .quickscan import may_have_sites
    from .sites import find_sites

    ensure_recursion_headroom()
    parsed = parse_bytes(path, data, gate=may_have_sites)
    if parsed is None:
        return FileAnalysis(path, "")  # no name in it can resolve to a convolution API
    if isinstance(parsed, ParseFailure):
        return FileAnalysis(path, "", findings=(parse_failure_finding(parsed),))
    try:
        sites = infer_sites(parsed, find_sites(parsed))
        findings = rules.run_site_rules(sites, config.enabled)
    except RecursionError:
        failure = ParseFailure(path, "code nested too deeply to analyze")
        return FileAnalysis(path, parsed.source, findings=(parse_failure_finding(failure),))
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not hide the other files
        failure = ParseFailure(path, f"{INTERNAL_ERROR}: {type(exc).__name__}: {exc}")
        return FileAnalysis(path, parsed.source, findings=(parse_failure_finding(failure),))
    return FileAnalysis(path, parsed.source, tuple(sites), tuple(findings))


class NotRegularFile(OSError):
    pass


def read_regular_file(path: str) -> bytes:
    """The file's bytes; OSError if unreadable, NotRegularFile for a FIFO, a device or a
    socket named *.py (reading one would block or never end)."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise NotRegularFile(path)
    with open(path, "rb") as handle:
        return handle.read()


def read_and_analyze(path: str, config: Config) -> FileAnalysis:
    from .parse import ParseFailure

    try:
        data = read_regular_file(path)
    except NotRegularFile:
        failure = ParseFailure(path, "not a regular file; not analyzed")
        return FileAnalysis(path, "", findings=(parse_failure_finding(failure),))
    except OSError as exc:
        failure = ParseFailure(path, f"cannot read file: {exc.strerror or exc}")
        return FileAnalysis(path, "", findings=(parse_failure_finding(failure),))
    return analyze_data(path, data, config)


def analyze_data(path: str, data: bytes, config: Config) -> FileAnalysis:
    """The bytes of a .py file or a notebook (by its path), analyzed."""
    from .parse import ParseFailure

    if notebook.is_notebook(path):
        source = notebook.read_source(data)
        if isinstance(source, notebook.NotebookError):
            failure = ParseFailure(path, str(source), source.line)
            return FileAnalysis(path, "", findings=(parse_failure_finding(failure),))
        analysis = analyze_bytes(path, source.encode("utf-8"), config)
        # A CNV900 in a cell still needs the cell markers to be located.
        return analysis if analysis.source else replace(analysis, source=source)
    return analyze_bytes(path, data, config)


def pair_findings(analyses: Iterable[FileAnalysis], config: Config) -> Tuple[List[Finding], List[Pair]]:
    files: Dict[str, Sequence[Site]] = {a.path: a.sites for a in analyses if a.sites}
    pairs = pair_across(files, lambda s: s.spec.framework == config.reference,
                        lambda s: s.spec.framework != config.reference, config.port_map)
    return rules.run_pair_rules(pairs, config.enabled), pairs


def check_files(paths: Sequence[str], config: Config,
                probe: Optional[Callable[[List[Finding]], List[Finding]]] = None,
                analyze: Optional[Callable[[Sequence[str]], List[FileAnalysis]]] = None) -> Report:
    """``analyze`` replaces the serial per-file loop (see convlint.parallel)."""
    if analyze is not None:
        analyses = analyze(paths)
    else:
        analyses = [read_and_analyze(path, config) for path in paths]
    pair_found, pairs = pair_findings(analyses, config)
    findings = [f for a in analyses for f in a.findings] + pair_found
    sources = {a.path: a.source for a in analyses}
    known = {a.path: a.suppressions for a in analyses if a.suppressions is not None}
    findings, unused = filter_suppressed(findings, sources, known)
    findings = [f for f in findings if config.enabled_at(f.code, f.path)]
    if probe is not None:
        findings = probe(findings)
    findings.sort(key=lambda f: f.sort_key)
    findings = notebook.map_findings(findings, sources)
    unused = notebook.map_unused(unused, sources)
    return Report(tuple(findings), len(paths), tuple(pairs), tuple(unused))


def collect_files(paths: Sequence[str], walked: Optional[List[str]] = None
                  ) -> Tuple[List[str], List[str]]:
    """Expand directories to their .py and .ipynb files (sorted); returns (files, missing
    paths). ``walked`` receives every directory listed (the run cache watches them)."""
    files: List[str] = []
    missing: List[str] = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(_walk(path, walked))
        elif os.path.exists(path) or os.path.islink(path):
            files.append(path)
        else:
            missing.append(path)
    seen = set()
    unique = [f for f in files if not (f in seen or seen.add(f))]
    return unique, missing


def _walk(root: str, walked: Optional[List[str]] = None) -> List[str]:
    out: List[str] = []
    for directory, dirs, names in os.walk(root, followlinks=False):
        if walked is not None:
            walked.append(directory)
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS and not d.endswith(".egg-info"))
        out.extend(os.path.join(directory, n) for n in sorted(names)
                   if n.endswith((".py", notebook.SUFFIX)) and _lintable(os.path.join(directory, n)))
    return out


def _lintable(path: str) -> bool:
    # A dangling or looping symlink is listed so that it gets a CNV900 instead of
    # vanishing silently; FIFOs, sockets and devices are skipped.
    return os.path.isfile(path) or (os.path.islink(path) and not os.path.exists(path))
