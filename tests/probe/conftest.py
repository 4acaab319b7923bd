"""Probe tests run the real frameworks (torch, tensorflow, keras, jax, flax) in worker
processes; nothing is mocked. The src/ layout is put on sys.path here because the
project has no packaging metadata yet."""

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))
