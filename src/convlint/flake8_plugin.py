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
from .quickscan import may_have_sites, prefilter_text
from .rules import all_codes

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
        default_off = [code for code, _, _, default, _, _ in all_codes() if not default]
        option_manager.extend_default_ignore(default_off)

    @classmethod
    def parse_options(cls, options) -> None:
        cls.probe = bool(getattr(options, "convlint_probe", False))

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        # Nearly every file stops at one of the two cheap tests below, before LibCST is
        # even imported: the plugin's cost on a tree is then a regex over its text.
        text = "".join(self.lines)
        if _PREFILTER_TEXT.search(text) is None:
            return
        if isinstance(self.tree, ast.AST) and not may_have_sites(self.tree):
            return
        data = text.encode("utf-8", "surrogatepass")
        analysis = engine.analyze_bytes(self.filename, data, _ALL)
        findings = list(analysis.findings)
        if analysis.sites and self.filename not in ("stdin", "-"):
            related = [analysis] + list(_siblings(self.filename))
            paired, _ = engine.pair_findings(related, _ALL)
            findings += [f for f in paired if f.path == self.filename]
        if self.probe and findings:
            from .probe import stage

            findings = stage.probe_findings(findings, Config(select=("CNV",)))
        for finding in sorted(findings, key=lambda f: f.sort_key):
            yield (finding.line, finding.column - 1, f"{finding.code} {finding.message}",
                   type(self))
