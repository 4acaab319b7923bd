"""The JSON contract of shared/hazards.md: one array, empty when clean."""

from __future__ import annotations

import json
from typing import Sequence

from ..findings import Finding


def render(findings: Sequence[Finding], files_checked: int) -> str:
    return json.dumps([f.to_json() for f in findings], indent=2, ensure_ascii=False) + "\n"
