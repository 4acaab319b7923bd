"""Split a file list across CI jobs (``--shard K/N``) and merge the shards' SARIF logs.

Each file goes to shard ``sha256(group key) mod N``: stable across machines, Python
versions and runs (``hash()`` is salted per process). The group key keeps files that
pair with each other in the same shard, because pairing only sees the files of one run:

* ``modeling_tf_bert.py``, ``modeling_flax_bert.py`` -> ``modeling_bert.py``
* ``block_tf.py``, ``block_keras.py`` -> ``block_torch.py`` / ``block_pt.py`` / ``block.py``
* ``tf/block.py``, ``jax/block.py`` -> ``torch/block.py``

so the key is the directory (its parent for a framework-named directory) plus the
stem with its framework marker removed: exactly the sibling conventions of
:func:`convlint.pairing.sibling_sources`. Pairs inside one file never split. Explicit
``port-map`` entries between files of unrelated names are linked too when the paths
given match the files as passed on the command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import PurePath
from typing import Dict, Iterable, List, Sequence, Tuple

_MARKERS = ("tf", "tensorflow", "keras", "jax", "flax", "torch", "pt", "pytorch")
_FRAMEWORK_DIRS = frozenset(_MARKERS)
_INFIX = re.compile(r"^(.*?)_(?:tf|flax|jax|keras)_(.+)$")
_SUFFIX = re.compile(r"^(.+)_(?:" + "|".join(_MARKERS) + r")$")


def parse_spec(text: str) -> Tuple[int, int]:
    """"K/N" (1 <= K <= N) -> (K, N); ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"expected K/N (e.g. 1/4), got {text!r}")
    k, n = int(match.group(1)), int(match.group(2))
    if not 1 <= k <= n:
        raise ValueError(f"shard {k}/{n}: K must be between 1 and N")
    return k, n


def group_key(path: str) -> str:
    """Files that may pair share a key; see the module docstring."""
    pure = PurePath(os.path.normpath(path).replace(os.sep, "/"))
    directory, stem = pure.parent.as_posix(), pure.stem
    match = _INFIX.match(stem)
    if match:
        stem = f"{match.group(1)}_{match.group(2)}"
    match = _SUFFIX.match(stem)
    if match:
        stem = match.group(1)
    parent = PurePath(directory)
    if parent.name in _FRAMEWORK_DIRS:
        directory = parent.parent.as_posix() + "/<framework>"
    return f"{directory}/{stem}"


def shard_of(key: str, count: int) -> int:
    """1-based shard of a group key."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select(paths: Sequence[str], k: int, n: int,
           links: Iterable[Tuple[str, str]] = ()) -> List[str]:
    """The paths of shard ``k`` of ``n``, in their original order."""
    return [p for p, s in zip(paths, assign(paths, n, links)) if s == k]


def assign(paths: Sequence[str], n: int, links: Iterable[Tuple[str, str]] = ()) -> List[int]:
    keys = [group_key(p) for p in paths]
    # Union-find over group keys for explicit links (port-map entries).
    parent: Dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    by_norm = {os.path.normpath(p): key for p, key in zip(paths, keys)}
    for a, b in links:
        ka, kb = by_norm.get(os.path.normpath(a)), by_norm.get(os.path.normpath(b))
        if ka is not None and kb is not None:
            ra, rb = find(ka), find(kb)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)  # the smaller key names the group: stable
    return [shard_of(find(key), n) for key in keys]


# --- SARIF merge --------------------------------------------------------------------------

def merge_sarif(logs: Sequence[dict]) -> dict:
    """One SARIF log with one run holding every shard's results.

    The rules table is the union (by id, first log's order first) and every result's
    ``ruleIndex`` is recomputed against it; results are sorted by location so the
    merge does not depend on the order of the inputs; ``filesChecked`` adds up.
    """
    if not logs:
        raise ValueError("no SARIF logs to merge")
    runs = [run for log in logs for run in log.get("runs", [])]
    if not runs:
        raise ValueError("the SARIF logs hold no run")
    first = runs[0]
    driver = dict(first["tool"]["driver"])
    rules: List[dict] = []
    index: Dict[str, int] = {}
    for run in runs:
        for rule in run["tool"]["driver"].get("rules", []):
            if rule["id"] not in index:
                index[rule["id"]] = len(rules)
                rules.append(rule)
    driver["rules"] = rules
    results: List[dict] = []
    files = 0
    for run in runs:
        files += int(run.get("properties", {}).get("filesChecked", 0))
        for result in run.get("results", []):
            result = dict(result)
            if result.get("ruleId") in index:
                result["ruleIndex"] = index[result["ruleId"]]
            results.append(result)
    results.sort(key=_result_order)
    run = {key: value for key, value in first.items() if key not in ("tool", "results", "properties")}
    merged_run = {"tool": {"driver": driver}, **run, "results": results,
                  "properties": {**first.get("properties", {}), "filesChecked": files}}
    return {key: value for key, value in logs[0].items() if key != "runs"} | {"runs": [merged_run]}


def _result_order(result: dict) -> tuple:
    try:
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        region = location.get("region", {})
        where = (uri, region.get("startLine", 0), region.get("startColumn", 0))
    except (KeyError, IndexError, TypeError):
        where = ("", 0, 0)
    return where + (result.get("ruleId", ""), json.dumps(result, sort_keys=True))
