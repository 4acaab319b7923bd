"""flake8 front end: the same findings as the CLI, under the CNV prefix.

flake8 reads and decodes the file; we analyze its lines once with the shared engine.
flake8 shows ``column + 1`` for what a tree plugin yields, so we yield 0-based columns
(TorchFix yields 1-based ones and is off by one). Cross-file pairs: a port file finds
its source sibling by naming convention and analyzes it once per process.
"""

from __future__ import annotations

import ast
import functools
import os
from typing import Iterator, Tuple

from . import __version__, engine
from .config import Config
from .pairing import sibling_sources
from .config_file import FRAMEWORKS
from .quickscan import may_have_sites, prefilter_text
from .rules import all_codes
from .suppress import find_suppressions

_ALL = Config(select=("CNV",))
_PREFILTER_TEXT = prefilter_text()


@functools.lru_cache(maxsize=256)
def _analyze_sibling(path: str, mtime_ns: int, size: int) -> engine.FileAnalysis:
    return engine.read_and_analyze(path, _ALL)


def _siblings(filename: str) -> Iterator[engine.FileAnalysis]:
    for candidate in sibling_sources(filename):
        try:
            stat = os.stat(candidate)
        except OSError:
            continue
        yield _analyze_sibling(candidate, stat.st_mtime_ns, stat.st_size)


class ConvlintChecker:
    name = "convlint"
    version = __version__
    probe = False
    config = _ALL

    def __init__(self, tree: object, filename: str, lines: list) -> None:
        # `tree` is flake8's ast (built for pyflakes anyway): it feeds the quick scan that
        # spares LibCST every file without a convolution API in it.
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, option_manager) -> None:
        option_manager.add_option(
            "--convlint-probe", action="store_true", default=False, parse_from_config=True,
            help="convlint: run the frameworks to confirm findings (slow; off by default)")
        option_manager.add_option(
            "--convlint-reference", default="torch", parse_from_config=True,
            choices=list(FRAMEWORKS),
            help="convlint: the framework ported from (default: %(default)s)")
        option_manager.add_option(
            "--convlint-probe-timeout", type=float, default=None, parse_from_config=True,
            help="convlint: seconds one probe may take (imports excluded)")
        default_off = [code for code, _, _, default, _, _ in all_codes() if not default]
        option_manager.extend_default_ignore(default_off)

    @classmethod
    def parse_options(cls, options) -> None:
        # flake8's own --select/--ignore/--per-file-ignores choose the codes; convlint
        # computes every code and lets flake8 filter, so both agree on noqa and selection.
        cls.probe = bool(getattr(options, "convlint_probe", False))
        reference = getattr(options, "convlint_reference", None) or "torch"
        timeout = getattr(options, "convlint_probe_timeout", None)
        cls.config = Config(select=("CNV",), reference=reference, probe=cls.probe,
                            probe_timeout=timeout)
        if timeout is not None:
            os.environ["CONVLINT_PROBE_TIMEOUT"] = f"{timeout:g}"

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        # Nearly every file stops at one of the two cheap tests below, before LibCST
        # parses it: the plugin's cost there is a regex search and an ast.walk.
        text = "".join(self.lines)
        if _PREFILTER_TEXT.search(text) is None:
            return
        if isinstance(self.tree, ast.AST) and not may_have_sites(self.tree):
            return
        data = text.encode("utf-8", "surrogatepass")
        config = self.config
        analysis = engine.analyze_bytes(self.filename, data, config)
        findings = list(analysis.findings)
        if analysis.sites and self.filename not in ("stdin", "-"):
            related = [analysis] + list(_siblings(self.filename))
            paired, _ = engine.pair_findings(related, config)
            findings += [f for f in paired if f.path == self.filename]
        # flake8 applies `# noqa` itself; `# convlint: ignore` may sit on any line of the span.
        ignores = [s for s in find_suppressions(self.filename, analysis.source)
                   if s.kind == "ignore"]
        findings = [f for f in findings if not any(s.covers(f) for s in ignores)]
        if self.probe and findings:
            from .probe import stage

            findings = stage.probe_findings(findings, config)
        for finding in sorted(findings, key=lambda f: f.sort_key):
            yield (finding.line, finding.column - 1, f"{finding.code} {finding.message}",
                   type(self))
