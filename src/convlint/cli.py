"""Command-line front end: ``convlint check``, ``convlint rules``, ``convlint rule CODE``.

Exit status: 0 no findings (or nothing to check), 1 findings, 2 usage or internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence

from . import __version__, config_file, engine
from .config import Config, known_prefix
from .config_file import FRAMEWORKS, ConfigError
from .report import FORMATTERS
from .report.text import position
from .rules import all_codes

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _codes(value: str) -> List[str]:
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convlint",
        description="Find 1-D convolution porting hazards between PyTorch, TensorFlow/Keras "
                    "and JAX/Flax.")
    parser.add_argument("--version", action="version", version=f"convlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="lint files and directories")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help=".py files or directories (searched recursively)")
    check.add_argument("--format", choices=sorted(FORMATTERS), default="text")
    check.add_argument("--select", type=_codes, default=[],
                       help="comma-separated codes or prefixes to enable (replaces defaults)")
    check.add_argument("--extend-select", type=_codes, default=[],
                       help="codes or prefixes to enable on top of the defaults")
    check.add_argument("--ignore", type=_codes, default=[],
                       help="comma-separated codes or prefixes to disable")
    check.add_argument("--no-probe", action="store_true",
                       help="do not run frameworks to confirm findings")
    check.add_argument("--show-unconfirmed", action="store_true",
                       help="keep findings whose probe did not reproduce a difference")
    check.add_argument("--exit-zero", action="store_true",
                       help="exit 0 even when there are findings")
    _add_integration_options(check)
    add_performance_options(check)

    merge = sub.add_parser("merge-sarif", help="merge the SARIF logs of --shard runs into one")
    merge.add_argument("logs", nargs="+", metavar="SARIF")

    sub.add_parser("clean", help="delete the result caches (per-file, whole-run, flake8 "
                                 "records and probe verdicts)")
    sub.add_parser("rules", help="list every rule code")
    rule = sub.add_parser("rule", help="show the documentation of one rule")
    rule.add_argument("code")
    return parser


def _add_integration_options(check: argparse.ArgumentParser) -> None:
    check.add_argument("--config", metavar="PATH",
                       help="read [tool.convlint] from this file instead of discovering "
                            "pyproject.toml from the current directory upward")
    check.add_argument("--isolated", action="store_true",
                       help="ignore every configuration file")
    check.add_argument("--probe", action="store_true",
                       help="run probes even if the configuration turns them off")
    check.add_argument("--probe-timeout", type=float, metavar="SECONDS",
                       help="seconds one probe may take (imports excluded)")
    check.add_argument("--reference", choices=FRAMEWORKS,
                       help="the framework ported from (default: torch)")
    check.add_argument("--fix", action="store_true",
                       help="apply the fixes of mechanical findings in place (with probes "
                            "on, only fixes whose probe matched the source)")
    check.add_argument("--diff", action="store_true",
                       help="print the fixes as a unified diff instead of writing them; "
                            "exit 1 if there is any")
    check.add_argument("--report-unused-suppressions", action="store_true",
                       help="list `# noqa: CNV...` and `# convlint: ignore` comments that "
                            "suppressed nothing (on stderr; exit 1 if any)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(raw)
    args.raw_argv = raw
    try:
        if args.command == "check":
            return _check(args, parser)
        if args.command == "merge-sarif":
            return _merge_sarif(args.logs)
        if args.command == "clean":
            return _clean()
        if args.command == "rules":
            return _rules()
        if args.command == "rule":
            return _rule(args.code)
        parser.print_help()
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN


def _check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    for selector in args.select + args.extend_select + args.ignore:
        if not known_prefix(selector):
            parser.error(f"unknown rule code or prefix: {selector!r} (see `convlint rules`)")
    walked: List[str] = []
    files, missing = engine.collect_files(args.paths, walked)
    if missing:
        parser.error("no such file or directory: " + ", ".join(missing))
    try:
        config = _config(args)
    except ConfigError as exc:
        print(f"convlint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    files = [f for f in files if not config.excluded(f)]
    files = shard_files(args, files, config, parser)
    if args.fix or args.diff:
        return _fix(args, files, config)
    # Taken before reading the files: an edit racing this run makes the record stale.
    started = time.time_ns()
    deps = _run_dependencies(args, walked, files)
    report = engine.check_files(files, config, probe=_probe_stage(config),
                                analyze=analyzer(args, config))
    out = FORMATTERS[args.format](report.findings, report.files_checked)
    sys.stdout.write(out)
    err = _unused_text(report) if args.report_unused_suppressions else ""
    sys.stderr.write(err)
    status = EXIT_FINDINGS if (report.findings or err) and not args.exit_zero else EXIT_CLEAN
    if not getattr(args, "no_cache", False) and not (config.probe and report.findings):
        # A probe's verdict depends on the installed frameworks: such runs are not replayed.
        from . import runcache

        runcache.store(getattr(args, "raw_argv", ()), deps, out, err, status, started)
    return status


def _run_dependencies(args: argparse.Namespace, walked: List[str], files: List[str]):
    from . import runcache

    if args.isolated:
        deps = []
    elif args.config is not None:
        deps = [(args.config, runcache.stat_signature(args.config))]
    else:
        deps = runcache.config_dependencies()
    return deps + [(path, runcache.stat_signature(path)) for path in walked + files]


def _config(args: argparse.Namespace) -> Config:
    """[tool.convlint] (see convlint.config_file) under the command line's options."""
    settings = config_file.settings_for(args.config, isolated=args.isolated)
    probe = True if args.probe else (False if args.no_probe else None)
    config = config_file.merge(
        settings, select=args.select, extend_select=args.extend_select, ignore=args.ignore,
        probe=probe, probe_timeout=args.probe_timeout, reference=args.reference,
        show_unconfirmed=True if args.show_unconfirmed else None)
    if config.probe_timeout is not None and (args.probe_timeout is not None
                                             or "CONVLINT_PROBE_TIMEOUT" not in os.environ):
        # The probe stage and its workers read the timeout from the environment.
        os.environ["CONVLINT_PROBE_TIMEOUT"] = f"{config.probe_timeout:g}"
    return config


def _unused_text(report: engine.Report) -> str:
    lines = []
    for item in report.unused_suppressions:
        where = position(item.path, item.line, item.column, item.cell)
        lines.append(f"{where}: {item.name}: {item.message}\n")
    return "".join(lines)


def _print_unused(report: engine.Report) -> int:
    sys.stderr.write(_unused_text(report))
    return len(report.unused_suppressions)


def _fix(args: argparse.Namespace, files: List[str], config: Config) -> int:
    from . import fix

    probe = _probe_stage(config)
    last: List[engine.Report] = []

    def check():
        last.append(engine.check_files(files, config, probe=probe))
        return last[-1].findings

    outcome = fix.run(check, probes=config.probe, write=not args.diff, paths=files)
    for result in outcome.results:
        if result.error:
            print(f"convlint: not fixed: {result.path}: {result.error}", file=sys.stderr)
    if args.diff:
        sys.stdout.write("".join(outcome.diffs))
        n = sum(len(r.applied) for r in outcome.results if r.changed)
        print(f"convlint: {n} fix{'es' if n != 1 else ''} would be applied to "
              f"{len(outcome.diffs)} file{'s' if len(outcome.diffs) != 1 else ''}",
              file=sys.stderr)
        return EXIT_FINDINGS if outcome.diffs and not args.exit_zero else EXIT_CLEAN
    report = last[-1]
    sys.stdout.write(FORMATTERS[args.format](outcome.findings, report.files_checked))
    changed = outcome.changed_paths
    print(f"convlint: fixed {outcome.fixed_count} finding{'s' if outcome.fixed_count != 1 else ''}"
          f" in {len(changed)} file{'s' if len(changed) != 1 else ''}", file=sys.stderr)
    unused = _print_unused(report) if args.report_unused_suppressions else 0
    if (outcome.findings or unused) and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def add_performance_options(check: argparse.ArgumentParser) -> None:
    check.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                       help="worker processes (default: all cores; 1: no workers)")
    check.add_argument("--no-cache", action="store_true",
                       help="neither read nor write the per-file result cache")
    check.add_argument("--shard", default=None, metavar="K/N",
                       help="check only shard K of N (files grouped so pairs stay together)")


def shard_files(args: argparse.Namespace, files: List[str], config: Config,
                parser: argparse.ArgumentParser) -> List[str]:
    if getattr(args, "shard", None) is None:
        return files
    from . import shard

    try:
        k, n = shard.parse_spec(args.shard)
    except ValueError as exc:
        parser.error(f"--shard: {exc}")
    links = [(port.split("::")[0], source.split("::")[0])
             for port, source in getattr(config, "port_map", ())]
    return shard.select(files, k, n, links)


def analyzer(args: argparse.Namespace, config: Config):
    from . import parallel
    from .filecache import FileCache

    cache = None if getattr(args, "no_cache", False) else FileCache(config)
    jobs = getattr(args, "jobs", 0)
    return lambda paths: parallel.analyze_all(paths, config, jobs=jobs, cache=cache)


def _merge_sarif(paths: Sequence[str]) -> int:
    import json

    from .shard import merge_sarif

    logs = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                logs.append(json.load(handle))
        except (OSError, ValueError) as exc:
            print(f"convlint: cannot read SARIF log {path}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    try:
        merged = merge_sarif(logs)
    except (ValueError, KeyError, TypeError) as exc:
        print(f"convlint: cannot merge: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    return EXIT_CLEAN


def _probe_stage(config: Config):
    if not config.probe:
        return None
    from .probe import stage

    return lambda findings: stage.probe_findings(findings, config)


def _clean() -> int:
    import shutil

    from .runcache import cache_directory

    directory = cache_directory()
    if os.path.isdir(directory):
        shutil.rmtree(directory, ignore_errors=True)
    if os.path.exists(directory):
        print(f"convlint: could not remove {directory}", file=sys.stderr)
        return EXIT_USAGE
    print(f"convlint: removed {directory}", file=sys.stderr)
    return EXIT_CLEAN


def _rules() -> int:
    rows = all_codes()
    width = max(len(name) for _, name, *_ in rows)
    print(f"{'code':<7} {'name':<{width}} {'severity':<8} {'default':<7} pair  summary")
    for code, name, severity, default, pair, summary in rows:
        print(f"{code:<7} {name:<{width}} {severity:<8} {'on' if default else 'off':<7} "
              f"{'yes ' if pair else 'no  '}  {summary}")
    return EXIT_CLEAN


def rule_doc_path(code: str) -> Optional[Path]:
    here = Path(__file__).resolve().parent
    for folder in (here / "rule_docs", here.parent.parent / "docs" / "rules"):
        candidate = folder / f"{code}.md"
        if candidate.is_file():
            return candidate
    return None


def _rule(code: str) -> int:
    code = code.upper()
    if code not in {c for c, *_ in all_codes()}:
        print(f"convlint: unknown rule code {code!r} (see `convlint rules`)", file=sys.stderr)
        return EXIT_USAGE
    path = rule_doc_path(code)
    if path is None:
        print(f"convlint: no documentation installed for {code}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return EXIT_CLEAN
