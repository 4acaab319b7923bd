"""The rule registry. Each rule is data (code, name, severity, default) plus one function.

A *site rule* looks at one convolution; a *pair rule* at a source conv and its port
(see convlint.pairing). Both return :class:`Hit` objects; the registry turns them into
findings with the rule's code, name and severity. Rules never import a front end, a
reporter or the probe stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ..findings import ERROR, INFO, WARNING, Finding, Fix, Related  # noqa: F401 (re-exported)
from ..pairing import Pair
from ..spec import Site


@dataclass(frozen=True)
class Hit:
    """What a rule found, before the registry stamps code, name and severity on it."""

    site: Site
    message: str
    related: Tuple[Related, ...] = ()
    fix: Optional[Fix] = None
    severity: Optional[str] = None  # overrides the rule's default (e.g. weak pairing)
    pair: Optional[Pair] = None


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    default_enabled: bool
    needs_pair: bool
    summary: str
    check: Callable[..., Iterable[Hit]] = field(compare=False, repr=False)


REGISTRY: Dict[str, Rule] = {}

# Codes the engine itself reports (no check function of their own).
DIAGNOSTICS = {
    "CNV900": ("parse-error", ERROR, "the file could not be parsed; one diagnostic, no traceback"),
    "CNV901": ("probe-failed", WARNING, "a probe crashed, timed out or could not be built"),
}


def site_rule(code: str, name: str, severity: str, summary: str, default: bool = True):
    return _register(code, name, severity, summary, default, needs_pair=False)


def pair_rule(code: str, name: str, severity: str, summary: str, default: bool = True):
    return _register(code, name, severity, summary, default, needs_pair=True)


def _register(code, name, severity, summary, default, needs_pair):
    def decorate(func):
        rule = Rule(code, name, severity, default, needs_pair, summary, func)
        existing = REGISTRY.get(code)
        # One code may have a site part and a pair part (CNV501: a call alone, or a
        # port that copies its source's positionals); the second is keyed apart.
        key = code if existing is None or existing.needs_pair == needs_pair else f"{code}:pair"
        REGISTRY[key] = rule
        return func

    return decorate


# Site-level checks of codes declared as pair rules (e.g. CNV402: 'causal' on a layer
# that rejects it needs no source). Run with the site rules, under the pair rule's code.
SITE_CHECKS: Dict[str, Callable[[Site], Iterable[Hit]]] = {}


def also_site_check(code: str):
    def decorate(func):
        SITE_CHECKS[code] = func
        return func

    return decorate


def all_codes() -> List[Tuple[str, str, str, bool, bool, str]]:
    """(code, name, severity, default_enabled, needs_pair, summary), sorted by code."""
    rows = [(r.code, r.name, r.severity, r.default_enabled, r.needs_pair, r.summary)
            for key, r in REGISTRY.items() if key == r.code]
    rows += [(code, name, sev, True, False, summary)
             for code, (name, sev, summary) in DIAGNOSTICS.items()]
    return sorted(rows)


def to_finding(rule_code: str, hit: Hit) -> Finding:
    name, severity = _name_and_severity(rule_code)
    severity = hit.severity or severity
    span = hit.site.span
    return Finding(
        code=rule_code, name=name, severity=severity, path=hit.site.path,
        line=span.line, column=span.column + 1, end_line=span.end_line,
        end_column=span.end_column + 1, message=hit.message, related=hit.related,
        fix=hit.fix, evidence=(hit.pair,) if hit.pair else (hit.site,),
    )


def _name_and_severity(code: str) -> Tuple[str, str]:
    if code in REGISTRY:
        return REGISTRY[code].name, REGISTRY[code].severity
    name, severity, _ = DIAGNOSTICS[code]
    return name, severity


def run_site_rules(sites: Sequence[Site], enabled: Callable[[str], bool]) -> List[Finding]:
    out: List[Finding] = []
    for rule in REGISTRY.values():
        if rule.needs_pair or not enabled(rule.code):
            continue
        for site in sites:
            out.extend(to_finding(rule.code, hit) for hit in rule.check(site))
    for code, check in SITE_CHECKS.items():
        if enabled(code):
            for site in sites:
                out.extend(to_finding(code, hit) for hit in check(site))
    return out


def run_pair_rules(pairs: Sequence[Pair], enabled: Callable[[str], bool]) -> List[Finding]:
    out: List[Finding] = []
    for rule in REGISTRY.values():
        if not rule.needs_pair or not enabled(rule.code):
            continue
        for pair in pairs:
            for hit in rule.check(pair):
                if pair.weak and (hit.severity or rule.severity) == ERROR:
                    hit = replace(hit, severity=WARNING,
                                  message=hit.message + " (paired by source order only)")
                out.append(to_finding(rule.code, replace(hit, pair=pair)))
    return out


def related_site(site: Site, message: str) -> Related:
    return Related(site.path, site.span.line, site.span.column + 1, message)
