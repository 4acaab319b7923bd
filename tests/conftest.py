import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = ROOT / "examples"


def run_convlint(*args, cwd=ROOT, **kwargs):
    """Run the installed CLI in a subprocess, as users do."""
    return subprocess.run([sys.executable, "-m", "convlint", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture
def convlint_cli():
    return run_convlint
