"""Stage 6: reporters. Each turns the findings of a run into text for one consumer.

A reporter is a function ``(findings, files_checked) -> str`` registered by name in
:data:`FORMATTERS`; ``convlint check --format NAME`` picks one.
"""

from __future__ import annotations

from typing import Callable, Dict, Sequence

from ..findings import Finding
from . import github as github_report
from . import gitlab as gitlab_report
from . import json as json_report
from . import sarif as sarif_report
from . import text as text_report

Formatter = Callable[[Sequence[Finding], int], str]

FORMATTERS: Dict[str, Formatter] = {
    "text": text_report.render,
    "json": json_report.render,
    "github": github_report.render,
    "sarif": sarif_report.render,
    "gitlab": gitlab_report.render,
}
