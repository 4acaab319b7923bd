"""The ``convlint`` command: replay an unchanged run from the run cache, else run it.

Kept apart from convlint.cli so that a replayed run never imports the linter (see
convlint.runcache)."""

from __future__ import annotations

import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from .runcache import replay

    try:
        status = replay(args)
    except BrokenPipeError:
        return 0
    if status is not None:
        return status
    from .cli import main as run

    return run(args)
