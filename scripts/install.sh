#!/usr/bin/env bash
# Creates .venv with convlint, its probe frameworks (CPU builds) and the test tools.
# torch is pinned and installed first: 2.13.0 is the CPU build this machine kind keeps
# on disk; an unpinned torch would pull a multi-GB CUDA build through the extra.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[probe,test]"
