"""flake8 front end: the same findings as the CLI, under the CNV prefix.

flake8 reads and decodes the file; we analyze it with the shared engine.
flake8 shows ``column + 1`` for what a tree plugin yields, so we yield 0-based columns
(TorchFix yields 1-based ones and is off by one). Cross-file pairs: a port file finds
its source sibling by naming convention.

flake8 runs the plugin per file in several processes and never says when a run ends,
so each analysis (a file's own or a sibling's) is kept twice: in this process, keyed by
path and content, and as one record file in the cache directory
(:class:`convlint.filecache.RecordStore`), which the other processes and later runs
read. A file and its sibling are then analyzed once per run, not once per process, and
an unchanged file is not analyzed again (``--convlint-no-cache`` turns the records off).
"""

from __future__ import annotations

import ast
import os
from collections import OrderedDict
from typing import Iterator, Optional, Tuple

from . import __version__, engine
from .config import Config
from .filecache import RecordStore, content_hash
from .pairing import sibling_sources
from .config_file import FRAMEWORKS
from .quickscan import may_have_sites, prefilter_text
from .rules import all_codes
from .suppress import find_suppressions

_ALL = Config(select=("CNV",))
_PREFILTER_TEXT = prefilter_text()


_MEMO: "OrderedDict[Tuple[str, str, int], engine.FileAnalysis]" = OrderedDict()
_MEMO_SIZE = 256


def _store(config: Config) -> Optional[RecordStore]:
    checker = ConvlintChecker
    if not checker.use_cache:
        return None
    if checker.store is None:
        checker.store = RecordStore(config)
    return checker.store


def _analysis(path: str, data: bytes, config: Config) -> engine.FileAnalysis:
    """``engine.analyze_data``, at most once per (path, content) and process, and read
    back from another process's or an earlier run's record when there is one."""
    from .parallel import _record

    digest = content_hash(data)
    key = (path, digest, id(config))
    found = _MEMO.get(key)
    if found is not None:
        _MEMO.move_to_end(key)
        return found
    store = _store(config)
    hit, record = store.get(path, digest) if store is not None else (False, None)
    if hit:
        analysis = record if record is not None else engine.FileAnalysis(path, "")
    else:
        analysis = engine.analyze_data(path, data, config)
        if store is not None:
            store.put(path, digest, _record(analysis))
    _MEMO[key] = analysis
    if len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return analysis


def _read(path: str) -> Optional[bytes]:
    try:
        return engine.read_regular_file(path)
    except OSError:
        return None


def _own_bytes(path: str, text: str) -> bytes:
    """The file's bytes as on disk when they decode to what flake8 read (so a coding
    cookie keeps its meaning, and the sibling lookups of other files share the
    analysis); else flake8's text as UTF-8 (stdin, or a file changed meanwhile)."""
    from .quickscan import decode

    data = _read(path) if path not in ("stdin", "-") else None
    if data is not None:
        try:
            if decode(data) == text:
                return data
        except (UnicodeDecodeError, SyntaxError, LookupError):
            pass
    return text.encode("utf-8", "surrogatepass")


def _siblings(filename: str, config: Config) -> Iterator[engine.FileAnalysis]:
    for candidate in sibling_sources(filename):
        data = _read(candidate)
        if data is not None:
            yield _analysis(candidate, data, config)


class ConvlintChecker:
    name = "convlint"
    version = __version__
    probe = False
    use_cache = True
    config = _ALL
    store: Optional[RecordStore] = None  # for ``config``, made on first use

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
        option_manager.add_option(
            "--convlint-no-cache", action="store_true", default=False, parse_from_config=True,
            help="convlint: neither read nor write the per-file result records")
        default_off = [code for code, _, _, default, _, _ in all_codes() if not default]
        option_manager.extend_default_ignore(default_off)

    @classmethod
    def parse_options(cls, options) -> None:
        # flake8's own --select/--ignore/--per-file-ignores choose the codes; convlint
        # computes every code and lets flake8 filter, so both agree on noqa and selection.
        cls.probe = bool(getattr(options, "convlint_probe", False))
        cls.use_cache = not getattr(options, "convlint_no_cache", False)
        cls.store = None  # keyed by the config set below
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
        config = self.config
        analysis = _analysis(self.filename, _own_bytes(self.filename, text), config)
        findings = list(analysis.findings)
        if analysis.sites and self.filename not in ("stdin", "-"):
            related = [analysis] + list(_siblings(self.filename, config))
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
