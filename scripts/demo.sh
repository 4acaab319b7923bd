#!/usr/bin/env bash
# Installs convlint with its probe frameworks and checks the shipped examples.
# Exits 1, as convlint does whenever it reports findings (the examples have some).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/convlint check examples/
