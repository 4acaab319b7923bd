"""Which rules run: selection by code or prefix, the ruff way.

``select`` replaces the default set; ``extend_select`` adds to it; ``ignore`` removes,
unless a select entry is more specific (``--select CNV101 --ignore CNV1`` keeps CNV101).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

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
