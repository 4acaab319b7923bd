"""Fuzz convlint: generated programs (hypothesmith) and mutated fixtures.

Every input must end in findings or a CNV900 diagnostic, never in an exception, a hang
or a probe plan that allocates more than ``MAX_DIM`` per dimension. Each input goes
through the engine (``analyze_bytes`` + pairing), every report format, the probe
planner (plans only; nothing is run) and, for a sample, the CLI and the flake8 plugin.

    PYTHONPATH=src python scripts/fuzz.py --programs 10000 --mutations 10000

prints the counts (programs generated, mutations tried, tracebacks, hangs, slowest
input, time) and exits 1 if any input raised or hung; the failing inputs are written
to ``--out``. ``tests/test_fuzz.py`` runs the same checks on a bounded sample.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from convlint import cli, engine  # noqa: E402
from convlint.config import Config  # noqa: E402
from convlint.report import FORMATTERS  # noqa: E402
from convlint.rules import all_codes  # noqa: E402

ALL = Config(select=("CNV",), probe=False)
KNOWN_CODES = frozenset(code for code, *_ in all_codes())

HEADER = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
          "import tensorflow as tf\nimport jax\nfrom flax import linen\n")

# Conv calls whose arguments the fuzzer fills with generated or hostile expressions.
TEMPLATES = (
    "y = F.conv1d({0}, {1}, groups={2})",
    "layer = nn.Conv1d({0}, {1}, {2}, groups={0})",
    "layer = nn.ConvTranspose1d({0}, {1}, {2}, output_padding={1}, dilation={2})",
    "layer = tf.keras.layers.Conv1D({0}, {1}, groups={2}, padding={1})",
    "y = tf.nn.conv1d({0}, {1}, {2}, 'SAME', dilations={0})",
    "y = jax.lax.conv_general_dilated({0}, {1}, ({2},), 'SAME', feature_group_count={0})",
    "layer = linen.Conv({0}, ({1},), feature_group_count={2}, padding={0})",
    "w = torch.ones({0}, {1}, {2})\ny = F.conv1d(torch.ones(1, {0}, {2}), w, groups={1})",
)

# Values that stress the inference arithmetic: zero, negative, huge, non-int, and
# expressions whose naive evaluation would hang or exhaust memory.
HOSTILE = (
    "0", "-1", "-7", "1", "2", "3", "10**9", "10**100", "2**10**9", "10**10**10", "2**63",
    "-(2**64)", "(2**64)**64", "9" * 400, "1e308", "-1e308", "1e400", "float('inf')",
    "0.5", "True", "None", "'same'", "'valid'", "'causal'", "'SAME'", "''",
    "'x' * 10**9", "(1,) * 10**9", "(3,) * 64 * 64", "()", "[]", "(0,)", "[-1]",
    "x // 0", "1 / 0", "1 % 0", "0 ** -1", "-1 ** 0.5", "((((1))))", "b'\\x00'", "...",
    "lambda: 0", "[1] * 10**9", "x", "x.shape[1]", "x.shape[-5]", "w.shape[0] // 0",
    "len(x)", "max(())", "min(0, -1)", "int(1e400)", "abs(-10**9)", "tuple(x)",
    "x.reshape(-1, 0)", "x.reshape(0, -1)", "x.permute(5, 5, 5)", "x.view(-1, -1)",
    "torch.ones(10**9, 10**9, 10**9)", "torch.zeros(0, 0, 0)", "torch.ones(-1, 2, 3)",
    "torch.randn(*s)", "*args", "**kw",
)

# Whole statements that blow up values step by step (each line is cheap, the chain is not).
BLOWUPS = (
    "n = 2**64\n" + "n = n ** 64\n" * 8,
    "n = 10**9\n" + "n = n * n\n" * 40,
    "t = (1,) * 64\n" + "t = t * 64\n" * 8,
    "t = (1, 2)\n" + "t = t + t\n" * 40,
    "s = 'ab'\n" + "s = s + s\n" * 40,
    "n = 3\n" + "n *= n\n" * 40,
    "n = 2\n" + "n **= 64\n" * 8,
    "x = torch.ones(2, 3, 4)\n" + "x = x.reshape(-1, 2, 2)\nx = x.permute(2, 1, 0)\n" * 200,
)

_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")
_STRING = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")


def seed_files() -> List[Path]:
    files = sorted((ROOT / "tests" / "fixtures").glob("**/*.py"))
    files += sorted((ROOT / "examples").glob("*.py"))
    return files


# --- mutations -------------------------------------------------------------------------

def _lines(data: bytes) -> List[bytes]:
    return data.splitlines(keepends=True) or [b""]


def delete_line(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"".join(lines)


def duplicate_line(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return b"".join(lines)


def swap_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def insert_bytes(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    if rng.random() < 0.3:
        junk = rng.choice([b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\r", b"\t", b"\\",
                           b"(", b")", b"[", b":", b"\n    ", b"\x0c", b"\xe2\x80\xa8"])
    return data[:at] + junk + data[at:]


def _replace_match(data: bytes, pattern: "re.Pattern[str]", rng: random.Random,
                   make: Callable[[random.Random], str]) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    matches = list(pattern.finditer(text))
    if not matches:
        return insert_bytes(data, rng)
    m = rng.choice(matches)
    text = text[: m.start()] + make(rng) + text[m.end():]
    return text.encode("utf-8", "surrogateescape")


def replace_number(data: bytes, rng: random.Random) -> bytes:
    return _replace_match(data, _NUMBER, rng, lambda r: r.choice(HOSTILE))


def replace_string(data: bytes, rng: random.Random) -> bytes:
    return _replace_match(data, _STRING, rng, lambda r: r.choice(HOSTILE))


def replace_name(data: bytes, rng: random.Random) -> bytes:
    names = ("x", "w", "F", "nn", "tf", "torch", "groups", "in_channels", "self", "None",
             "conv1d", "Conv1d", "jax", "lax", "linen", "padding", "kernel_size")
    return _replace_match(data, _NAME, rng,
                          lambda r: r.choice(names) if r.random() < 0.7 else r.choice(HOSTILE))


def insert_blowup(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines) + 1)
    # at the indentation of the next line, so the result still parses more often
    indent = b""
    if i < len(lines):
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip(b" \t"))]
    block = rng.choice(BLOWUPS).encode()
    block = b"".join(indent + line for line in block.splitlines(keepends=True))
    if lines and not lines[-1].endswith(b"\n"):
        lines[-1] += b"\n"
    lines.insert(i, block)
    return b"".join(lines)


MUTATORS = (delete_line, duplicate_line, swap_lines, truncate, insert_bytes, replace_number,
            replace_number, replace_string, replace_name, insert_blowup)


def mutations(seeds: List[bytes], rng: random.Random) -> Iterator[Tuple[str, bytes]]:
    """An endless stream of (description, mutated source): 1-4 stacked mutations."""
    while True:
        data = rng.choice(seeds)
        applied = []
        for _ in range(rng.choice((1, 1, 1, 2, 3, 4))):
            mutate = rng.choice(MUTATORS)
            data = mutate(data, rng)
            applied.append(mutate.__name__)
        yield "+".join(applied), data


# --- generated programs ----------------------------------------------------------------

def program_from_parts(program: str, template: str, args: Tuple[str, str, str]) -> str:
    """A generated program followed by a conv call fed with generated expressions."""
    return HEADER + program.rstrip("\n") + "\n" + template.format(*args) + "\n"


def program_strategy():
    """Hypothesis strategy of (generated program + conv call) sources."""
    import hypothesmith
    from hypothesis import strategies as st

    # Grammar-generated expressions cost ~40 ms each and from_node programs ~150 ms:
    # they get a quarter and a fifth of the draws so that 10,000 programs take minutes.
    expression = st.one_of(
        st.sampled_from(HOSTILE), st.sampled_from(HOSTILE),
        st.integers(-10, 300).map(str),
        hypothesmith.from_grammar(start="eval_input").map(lambda s: s.strip() or "0")
        .filter(lambda s: "\n" not in s),
    )
    program = st.one_of(*[hypothesmith.from_grammar()] * 4, hypothesmith.from_node())
    return st.builds(program_from_parts, program, st.sampled_from(TEMPLATES),
                     st.tuples(expression, expression, expression))


# --- the oracle ------------------------------------------------------------------------

class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    def on_alarm(signum, frame):
        raise Hang(f"no result within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_source(data: bytes, path: str = "fuzzed.py") -> Tuple[List[str], int]:
    """Run one input through every stage that sees user code: (codes found, sites).

    Raises whatever the product raises: the caller decides what counts as a failure.
    """
    from convlint.probe import plan

    analysis = engine.analyze_bytes(path, data, ALL)
    paired, _ = engine.pair_findings([analysis], ALL)
    findings = list(analysis.findings) + paired
    for finding in findings:
        assert finding.code in KNOWN_CODES, finding.code
        assert finding.line >= 1 and finding.column >= 1, finding
        assert not finding.message.startswith(engine.INTERNAL_ERROR), finding.message
        if finding.code == "CNV900":
            continue
        spec = plan.plan(finding)  # plans only: nothing is executed
        if spec is not None:
            for side in (spec.source, spec.port, spec.fix):
                call = getattr(side, "call", None)
                for dim in ("in_channels", "out_channels", "kernel_size", "groups"):
                    value = getattr(call, dim, None)
                    assert value is None or value <= plan.MAX_DIM, (finding.code, dim, value)
    for render in FORMATTERS.values():
        render(findings, 1)
    if analysis.sites:
        check_positions(analysis.source)
    return [f.code for f in findings], len(analysis.sites)


def check_positions(text: str) -> None:
    """Each unit convlint.positions generates on its own has LibCST's own ranges."""
    import ast

    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from convlint.positions import LazyPositions

    module = cst.parse_module(text)
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lazy = LazyPositions(module, ast.parse(text), text)
    for index in range(len(lazy.units)):
        lazy._statement(index)  # False (fall back to the whole module) is allowed
    for node, found in lazy.computed.items():
        assert reference[node] == found, (type(node).__name__, found, reference[node])


def check_cli(data: bytes, directory: str) -> int:
    """The CLI and the flake8 plugin on one file; returns the CLI's exit status."""
    from convlint.flake8_plugin import ConvlintChecker

    path = os.path.join(directory, "fuzzed.py")
    with open(path, "wb") as handle:
        handle.write(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["check", "--no-probe", "--format", "json", path])
    assert status in (0, 1), (status, err.getvalue())
    assert "Traceback" not in err.getvalue()
    try:
        lines = data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        lines = None  # flake8 reports undecodable files itself (E902) and never calls us
    if lines is not None:
        list(ConvlintChecker(None, path, lines).run())
    return status


@dataclass
class Stats:
    programs: int = 0
    mutations: int = 0
    analyzed: int = 0  # inputs past the prefilter that produced sites or CNV900
    with_sites: int = 0  # inputs in which convlint found at least one conv call
    cnv900: int = 0
    findings: int = 0
    tracebacks: int = 0
    hangs: int = 0
    slowest: Tuple[float, str] = (0.0, "")
    failures: List[Tuple[str, bytes, str]] = field(default_factory=list)


def run_one(stats: Stats, label: str, data: bytes, directory: Optional[str],
            limit: float) -> None:
    done = stats.programs + stats.mutations
    if done % 1000 == 0:
        print(f"... {done} inputs, {stats.tracebacks} tracebacks, {stats.hangs} hangs",
              file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        with time_limit(limit):
            codes, sites = check_source(data)
            if directory is not None:
                check_cli(data, directory)
    except Hang as exc:
        stats.hangs += 1
        stats.failures.append((label, data, str(exc)))
        return
    except Exception:  # noqa: BLE001 - counting them is the point
        stats.tracebacks += 1
        stats.failures.append((label, data, traceback.format_exc()))
        return
    finally:
        elapsed = time.perf_counter() - start
        if elapsed > stats.slowest[0]:
            stats.slowest = (elapsed, f"{label} ({len(data)} bytes)")
    stats.cnv900 += "CNV900" in codes
    stats.findings += sum(c != "CNV900" for c in codes)
    stats.analyzed += bool(codes)
    stats.with_sites += sites > 0


def fuzz_programs(stats: Stats, count: int, directory: Optional[str], cli_every: int,
                  limit: float, seed: int) -> None:
    from hypothesis import HealthCheck, given, seed as hseed, settings

    @hseed(seed)
    @settings(max_examples=count, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(program_strategy())
    def one(source: str) -> None:
        stats.programs += 1
        data = source.encode("utf-8", "surrogatepass")
        use_cli = directory if stats.programs % cli_every == 0 else None
        run_one(stats, f"program #{stats.programs}", data, use_cli, limit)

    one()


def fuzz_mutations(stats: Stats, count: int, directory: Optional[str], cli_every: int,
                   limit: float, seed: int) -> None:
    rng = random.Random(seed)
    seeds = [p.read_bytes() for p in seed_files()]
    stream = mutations(seeds, rng)
    for _ in range(count):
        label, data = next(stream)
        stats.mutations += 1
        use_cli = directory if stats.mutations % cli_every == 0 else None
        run_one(stats, f"mutation #{stats.mutations} {label}", data, use_cli, limit)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=10000)
    parser.add_argument("--mutations", type=int, default=10000)
    parser.add_argument("--cli-every", type=int, default=10,
                        help="also run the CLI and flake8 plugin on every Nth input")
    parser.add_argument("--limit", type=float, default=20.0, help="seconds per input")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="fuzz-failures", help="where failing inputs go")
    args = parser.parse_args(argv)

    import warnings

    warnings.simplefilter("ignore")  # hypothesmith's own compile() checks warn a lot
    # The CLI and plugin runs write caches: keep thousands of fuzzed records out of the
    # user's cache directory.
    cache = tempfile.TemporaryDirectory(prefix="convlint-fuzz-cache-")
    os.environ.setdefault("CONVLINT_CACHE_DIR", cache.name)
    stats = Stats()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        if args.mutations:
            fuzz_mutations(stats, args.mutations, directory, args.cli_every, args.limit,
                           args.seed)
        mutation_time = time.perf_counter() - start
        if args.programs:
            fuzz_programs(stats, args.programs, directory, args.cli_every, args.limit,
                          args.seed)
    total = time.perf_counter() - start
    print(f"programs generated: {stats.programs}")
    print(f"mutations tried:    {stats.mutations}")
    print(f"inputs with findings or CNV900: {stats.analyzed} "
          f"(CNV900 on {stats.cnv900}; {stats.findings} findings in all)")
    print(f"inputs with conv sites analyzed: {stats.with_sites}")
    print(f"tracebacks: {stats.tracebacks}")
    print(f"hangs (> {args.limit:g} s): {stats.hangs}")
    print(f"slowest input: {stats.slowest[0]:.2f} s, {stats.slowest[1]}")
    print(f"time: {total:.0f} s (mutations {mutation_time:.0f} s, "
          f"programs {total - mutation_time:.0f} s)")
    if stats.failures:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for i, (label, data, error) in enumerate(stats.failures):
            (out / f"failure_{i:03d}.py").write_bytes(data)
            (out / f"failure_{i:03d}.txt").write_text(f"{label}\n{error}")
        print(f"failing inputs written to {out}/")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
