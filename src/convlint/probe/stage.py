"""The probe stage between rules and report: plan, run, attach verdicts.

A finding whose probe agrees with the source (``not-reproduced``) is dropped unless the
user asks for unconfirmed findings; a probe that crashed or timed out keeps its finding
(the static evidence stands) and adds a CNV901 diagnostic beside it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import List, Sequence

from ..config import Config
from ..findings import Finding, ProbeResult
from . import plan


def _progress(done: int, total: int, result: ProbeResult) -> None:
    sys.stderr.write(f"\rconvlint: probed {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _timeout() -> float:
    """Seconds one probe may take (imports excluded); CONVLINT_PROBE_TIMEOUT overrides."""
    from .runner import DEFAULT_TIMEOUT

    try:
        return float(os.environ.get("CONVLINT_PROBE_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def probe_findings(findings: Sequence[Finding], config: Config) -> List[Finding]:
    specs, targets, failed = [], [], []
    out: List[Finding] = []
    for finding in findings:
        if finding.code.startswith("CNV9"):
            out.append(finding)
            continue
        try:
            spec = plan.plan(finding)
        except Exception as exc:  # noqa: BLE001 - a planner bug must not cost the finding
            failed.append((finding, ProbeResult(
                "failed", None, f"the probe could not be built: {type(exc).__name__}: {exc}")))
            continue
        if spec is None:
            reason = ("shapes or sizes unknown" if plan.has_recipe(finding.code)
                      else f"no probe recipe for {finding.code} yet")
            out.append(finding.with_probe(ProbeResult("skipped", None, reason)))
            continue
        specs.append(spec)
        targets.append(finding)
    results = []
    if specs:
        from .runner import run_probes  # numpy is only needed once something is probed

        show = _progress if len(specs) >= 5 and sys.stderr.isatty() else None
        results = run_probes(specs, progress=show, timeout=_timeout())
    for finding, result in list(zip(targets, results)) + failed:
        if result.status == "not-reproduced" and not config.show_unconfirmed:
            continue
        out.append(finding.with_probe(result))
        if result.status == "failed" and config.enabled("CNV901"):
            out.append(replace(
                finding, code="CNV901", name="probe-failed", severity="warning",
                message=f"probe for {finding.code} failed: {result.detail}; the static "
                        f"finding stands", fix=None, probe=None))
    return out
