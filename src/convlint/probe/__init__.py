"""Stage 5: runtime probes. Findings become plain-number specifications that worker
subprocesses run in each framework; the linted code is never imported or executed."""
