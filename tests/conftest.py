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


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory):
    """Runs under test (CLI and flake8 subprocesses inherit this) never touch the user's
    cache, nor see records from a run of another checkout."""
    import os

    if "CONVLINT_CACHE_DIR" not in os.environ:
        os.environ["CONVLINT_CACHE_DIR"] = str(tmp_path_factory.mktemp("convlint-cache"))
    yield
