"""Analyze many files: the per-file cache first, then worker processes for the rest.

Results come back in the order of the input paths whatever the number of workers, so
``-j1`` and ``-jN`` print the same report. ``-j1`` (or a handful of files to analyze)
runs in this process. LibCST is imported only where a file is really analyzed: a warm
run whose files all hit the cache never loads it.
"""

from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

from .filecache import FileCache, StatSig, content_hash
from .runcache import stat_signature

# Below this many files to analyze, starting workers costs more than it saves.
MIN_PARALLEL = 8
CHUNK = 8  # files per task: small, because a few huge model files dominate the cost

_HIT = "hit"  # a worker found the content unchanged (only the stat signature moved)


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def _empty(path: str):
    global _FileAnalysis
    if _FileAnalysis is None:
        from .engine import FileAnalysis as _FileAnalysis
    return _FileAnalysis(path, "")


_FileAnalysis = None


def _record(analysis) -> object:
    """What the cache keeps: None for the (vast) majority of files with nothing in them."""
    if not analysis.sites and not analysis.findings:
        return None
    return analysis


def _with_suppressions(analysis):
    """Find the file's suppression comments once, here, so the cache keeps them too."""
    if analysis.suppressions is not None or not analysis.source:
        return analysis
    from dataclasses import replace

    from .suppress import find_suppressions

    return replace(analysis, suppressions=tuple(find_suppressions(analysis.path, analysis.source)))


def _analyze_one(path: str, known_hash: Optional[str], config) -> Tuple[Optional[StatSig], Optional[str], object]:
    from . import engine

    sig = stat_signature(path)  # before reading: a write racing us leaves a stale sig, not a stale record
    try:
        data = engine.read_regular_file(path)
    except OSError:
        return None, None, engine.read_and_analyze(path, config)  # reports the CNV900
    digest = content_hash(data)
    if known_hash is not None and digest == known_hash:
        return sig, digest, _HIT
    return sig, digest, _with_suppressions(engine.analyze_data(path, data, config))


def _analyze_chunk(items: Sequence[Tuple[int, str, Optional[str]]], config) -> list:
    return [(index,) + _analyze_one(path, known, config) for index, path, known in items]


def analyze_all(paths: Sequence[str], config, jobs: Optional[int] = None,
                cache: Optional[FileCache] = None) -> list:
    """One FileAnalysis per path, in the order of ``paths``."""
    results: List[object] = [None] * len(paths)
    todo: List[Tuple[int, str, Optional[str]]] = []
    cached: dict = {}
    for index, path in enumerate(paths):
        if cache is None:
            todo.append((index, path, None))
            continue
        sig = stat_signature(path)
        by_stat, known, record = cache.lookup(path, sig)
        if by_stat:
            results[index] = record if record is not None else _empty(path)
            cache.hits += 1
        else:
            todo.append((index, path, known))
            if known is not None:
                cached[index] = record
    jobs = default_jobs() if not jobs or jobs < 1 else jobs
    if jobs == 1 or len(todo) < MIN_PARALLEL:
        done = _analyze_chunk(todo, config)
    else:
        from concurrent.futures import ProcessPoolExecutor  # not needed by a warm run

        done = []
        chunks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
            for part in pool.map(_analyze_chunk, chunks, [config] * len(chunks)):
                done.extend(part)
    for index, sig, digest, analysis in done:
        path = paths[index]
        if isinstance(analysis, str):  # _HIT
            record = cached.get(index)
            analysis = record if record is not None else _empty(path)
            if cache is not None:
                cache.hits += 1
        elif cache is not None:
            cache.misses += 1
        results[index] = analysis
        if cache is not None:
            cache.store(path, sig, digest, _record(analysis))
    if cache is not None:
        cache.save(keep=set(paths))
    return results
