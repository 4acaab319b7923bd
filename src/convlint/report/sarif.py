"""SARIF 2.1.0, as GitHub code scanning takes it (``github/codeql-action/upload-sarif``).

One run. ``tool.driver.rules`` lists every registered code, found or not, so a result's
``ruleIndex`` does not depend on what else was found. Locations are relative to
``%SRCROOT%`` (the directory convlint ran in, normally the repository root): code
scanning matches alerts across runs by rule, path and fingerprint, so paths must not carry
the checkout's absolute location. ``originalUriBaseIds`` is left out for the same reason:
it would put this machine's paths into the uploaded file.

The location and fingerprint helpers here are shared with the GitLab reporter.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence
from urllib.parse import quote

from .. import __version__
from ..findings import ERROR, INFO, WARNING, Finding
from ..rules import all_codes

SCHEMA_URI = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
              "sarif-schema-2.1.0.json")
# The README's repository URL (still the placeholder the pre-commit section uses).
INFORMATION_URI = "https://github.com/your-org/convlint"
SRCROOT = "%SRCROOT%"
LEVELS = {ERROR: "error", WARNING: "warning", INFO: "note"}
# Versioned key: if the fingerprint recipe ever changes, a new key stops code scanning
# from comparing old and new values as if they were computed the same way.
FINGERPRINT_KEY = "convlintFingerprint/v1"

_DIGITS = re.compile(r"\d+")


def relative_path(path: str, root: Optional[str] = None) -> Optional[str]:
    """``path`` relative to ``root`` (default: the working directory), with POSIX
    separators; None when it lies outside ``root``."""
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root or os.getcwd()))
    except ValueError:  # Windows: another drive
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return Path(rel).as_posix()


def fingerprints(findings: Sequence[Finding]) -> List[str]:
    """One stable, unique id per finding (same order as ``findings``).

    sha256 of the code, the repository-relative path and the message with every number
    masked. Lines and columns are left out, and so are the numbers in the message (they
    include the line of the related site): an edit higher up in a file shifts line numbers
    without changing the hazard, and code scanning or GitLab's merge request widget would
    otherwise report the finding as fixed and a new one as introduced. Masking also means
    changing a value (``groups=2`` to ``groups=4``) keeps the alert, which is what a
    reviewer expects of "the same bug". Two findings that still collide (same code, file
    and message shape) get an occurrence number, counted in position order, so ids stay
    unique within a run and stable while the file's findings keep their order.
    """
    out: List[str] = [""] * len(findings)
    seen: Counter = Counter()
    for i in sorted(range(len(findings)), key=lambda i: findings[i].sort_key):
        f = findings[i]
        key = "\0".join((f.code, relative_path(f.path) or Path(f.path).as_posix(),
                         _DIGITS.sub("0", f.message)))
        seen[key] += 1
        out[i] = hashlib.sha256(f"{key}\0{seen[key]}".encode("utf-8")).hexdigest()
    return out


def render(findings: Sequence[Finding], files_checked: int) -> str:
    rules = [_rule(code, name, severity, default, summary)
             for code, name, severity, default, _pair, summary in all_codes()]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_result(f, index.get(f.code), fp) for f, fp in zip(findings, fingerprints(findings))]
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "convlint", "version": __version__,
                                "semanticVersion": __version__,
                                "informationUri": INFORMATION_URI, "rules": rules}},
            # Columns are libcst's character offsets, not SARIF's default UTF-16 units.
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"filesChecked": files_checked},
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(code: str, name: str, severity: str, default: bool, summary: str) -> dict:
    doc = _rule_doc(code)
    rule = {
        "id": code,
        "name": name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": (doc and _section(doc, "What it does")) or summary},
        "help": {"text": doc or summary},
        "defaultConfiguration": {"level": LEVELS[severity], "enabled": default},
    }
    if doc:
        rule["help"]["markdown"] = doc
    return rule


def _rule_doc(code: str) -> Optional[str]:
    from ..cli import rule_doc_path  # imported here: cli imports this package at load time

    path = rule_doc_path(code)
    return path.read_text(encoding="utf-8") if path is not None else None


def _section(markdown: str, title: str) -> Optional[str]:
    """The body of ``## title`` as one line of text (fullDescription is plain text)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    if match is None:
        return None
    return " ".join(match.group(1).split()) or None


def _artifact(path: str) -> Dict[str, str]:
    rel = relative_path(path)
    if rel is None:  # outside the run's root: only an absolute file URI can name it
        return {"uri": Path(os.path.abspath(path)).as_uri()}
    return {"uri": quote(rel), "uriBaseId": SRCROOT}


def _region(line: int, column: int, end_line: int, end_column: int) -> dict:
    # Finding columns are 1-based with an exclusive end, exactly SARIF's convention.
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _location(path: str, region: dict) -> dict:
    return {"physicalLocation": {"artifactLocation": _artifact(path), "region": region}}


def _result(f: Finding, rule_index: Optional[int], fingerprint: str) -> dict:
    result: dict = {"ruleId": f.code}
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    result.update({
        "level": LEVELS[f.severity],
        # A notebook finding's line counts within its cell; the message says which.
        "message": {"text": f.message if f.cell is None else f"cell {f.cell}: {f.message}"},
        "locations": [_location(f.path, _region(f.line, f.column, f.end_line, f.end_column))],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    })
    if f.related:
        result["relatedLocations"] = [
            {"id": i, **_location(r.path, {"startLine": r.line, "startColumn": r.column}),
             "message": {"text": r.message}}
            for i, r in enumerate(f.related, start=1)
        ]
    # A notebook's edits count lines within a cell, which SARIF regions cannot express.
    if f.fix is not None and f.fix.edits and f.cell is None:
        # Every edit of a fix is in the finding's own file (the port being corrected).
        result["fixes"] = [{
            "description": {"text": f.fix.description},
            "artifactChanges": [{
                "artifactLocation": _artifact(f.path),
                "replacements": [
                    {"deletedRegion": _region(e.line, e.column, e.end_line, e.end_column),
                     "insertedContent": {"text": e.replacement}}
                    for e in f.fix.edits
                ],
            }],
        }]
    if f.probe is not None:
        result["properties"] = {"probe": f.to_json()["probe"]}
    return result
