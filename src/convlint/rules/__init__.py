"""Stage 4: rules. Each rule is data (code, name, severity, default) plus one function.

A *site rule* looks at one convolution; a *pair rule* at a source conv and its port
(see convlint.pairing). The rule modules below register themselves on import.
"""

from . import api, groups, layout, padding, weights  # noqa: F401  (registers their rules)
from .registry import (REGISTRY, Hit, Rule, all_codes, run_pair_rules, run_site_rules,
                       to_finding)

__all__ = ["REGISTRY", "Hit", "Rule", "all_codes", "run_pair_rules", "run_site_rules",
           "to_finding"]
