"""Fuzzing, bounded: generated programs and mutated fixtures end in findings or CNV900.

The long run is ``scripts/fuzz.py`` (10,000 programs + 10,000 mutations); this file runs
the same oracle on a sample small enough for every test run (< 20 s), plus one
regression test per crash or hang the long run found.
"""

import importlib.util
import random
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, run_convlint
from convlint import engine
from convlint.config import Config
from convlint.infer import MAX_INT_BITS, MAX_SEQUENCE
from convlint.parse import MAX_DEPTH, ensure_recursion_headroom

_spec = importlib.util.spec_from_file_location("convlint_fuzz", ROOT / "scripts" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["convlint_fuzz"] = fuzz  # dataclasses look their module up there
_spec.loader.exec_module(fuzz)

ensure_recursion_headroom()  # set once here, not inside a test (hypothesis warns)
SEEDS = [p.read_bytes() for p in fuzz.seed_files()]
BOUNDED = settings(database=None, deadline=None, derandomize=True,
                   suppress_health_check=list(HealthCheck))
PER_INPUT = 10.0  # seconds; the slowest input of the long run took ~2 s


def _oracle(data: bytes, tmp_path=None) -> None:
    """Never raises, never hangs; findings are known codes; the CLI exits 0 or 1."""
    with fuzz.time_limit(PER_INPUT):
        fuzz.check_source(data)
        if tmp_path is not None:
            assert fuzz.check_cli(data, str(tmp_path)) in (0, 1)


@settings(BOUNDED, max_examples=40)
@given(source=fuzz.program_strategy())
def test_generated_programs_never_crash_the_engine(source):
    _oracle(source.encode("utf-8", "surrogatepass"))


@settings(BOUNDED, max_examples=8)
@given(source=fuzz.program_strategy())
def test_generated_programs_never_crash_the_cli_or_flake8_plugin(source, tmp_path_factory):
    _oracle(source.encode("utf-8", "surrogatepass"), tmp_path_factory.mktemp("cli"))


@settings(BOUNDED, max_examples=100)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_fixtures_never_crash(seed):
    label, data = next(fuzz.mutations(SEEDS, random.Random(seed)))
    _oracle(data)


@pytest.mark.parametrize("mutate", fuzz.MUTATORS, ids=lambda m: m.__name__)
def test_each_mutator_on_every_seed(mutate):
    rng = random.Random(0)
    for data in SEEDS[::3]:
        _oracle(mutate(data, rng))


# --- regressions found by scripts/fuzz.py -------------------------------------------------

HEADER = fuzz.HEADER.encode()


@pytest.mark.parametrize("blowup", fuzz.BLOWUPS, ids=lambda b: b.split("\n")[1][:16])
def test_value_blowups_are_cut_off_not_computed(blowup):
    # `n = n * n` forty times doubles the digits per line (2**40 bits); `t = t * 64`
    # eight times builds 64**9 elements. Both hung or raised MemoryError before the caps.
    source = HEADER + blowup.encode() + b"y = F.conv1d(x, w, groups=n)\nz = nn.Conv1d(n, t, s)\n"
    start = time.perf_counter()
    _oracle(source)
    assert time.perf_counter() - start < 5


def test_caps_keep_ordinary_arithmetic():
    from convlint.infer import UNKNOWN, _binary

    assert _binary("Power", 2, 64) == 2**64
    assert _binary("Multiply", 10**9, 10**9) == 10**18
    assert _binary("Multiply", (1, 2), 3) == (1, 2) * 3
    assert _binary("Power", 2**64, 64) is UNKNOWN  # 4,160 bits
    assert MAX_INT_BITS >= 256 and _binary("Multiply", 2**4000, 2**4000) is UNKNOWN
    assert _binary("Multiply", (1,), MAX_SEQUENCE + 1) is UNKNOWN
    assert _binary("Power", 1, 10**9) is UNKNOWN  # exponents past 64 stay unknown


@pytest.mark.parametrize("chain", [b"1 + " * 10_000 + b"1", b"f" + b"()" * 10_000,
                                   b"a" + b".b" * 10_000, b"a" + b"[0]" * 10_000,
                                   b"(a and " * 100 + b"b" + b" and c" * 9_900 + b")" * 100])
def test_deep_chains_get_cnv900_instead_of_a_segfault_or_a_hang(chain):
    # LibCST took > 100 s on a 10,000-long `f()()()...` and overflowed the C stack
    # (segfault) on `1 + 1 + ...`; the depth check reports them before LibCST sees them.
    source = b"import torch.nn.functional as F\nx = " + chain + b"\ny = F.conv1d(x, x)\n"
    start = time.perf_counter()
    analysis = engine.analyze_bytes("deep.py", source, Config(select=("CNV",)))
    assert time.perf_counter() - start < 5
    assert [(f.code, f.line) for f in analysis.findings] == [("CNV900", 2)]
    assert f"over the limit of {MAX_DEPTH}" in analysis.findings[0].message


def test_syntax_warnings_of_linted_code_are_not_printed(tmp_path):
    # compile() warned "'str' object is not callable" on stderr for the user's code.
    path = tmp_path / "warns.py"
    path.write_text("import torch.nn.functional as F\nx = 'a'()\ny = F.conv1d(x, x)\n")
    result = run_convlint("check", "--no-probe", str(path))
    assert result.returncode in (0, 1) and result.stderr == ""


def test_syntax_warnings_under_w_error_do_not_become_cnv900(tmp_path):
    path = tmp_path / "warns.py"
    path.write_text("import torch.nn.functional as F\nx = 'a'()\ny = F.conv1d(x, x)\n")
    result = subprocess.run([sys.executable, "-W", "error", "-m", "convlint", "check",
                             "--no-probe", str(path)], capture_output=True, text=True)
    assert "CNV900" not in result.stdout and "Traceback" not in result.stderr


def test_huge_channel_counts_plan_probes_within_max_dim():
    from convlint.probe import plan

    source = (b"import tensorflow as tf\nimport torch.nn.functional as F\n"
              b"w = torch.ones(10**9, 1, 3)\ny = F.conv1d(x, w, groups=10**9)\n"
              b"z = tf.nn.conv1d(x, tf.ones([3, 10**9, 10**9]), 1, 'VALID')\n")
    analysis = engine.analyze_bytes("huge.py", source, Config(select=("CNV",)))
    paired, _ = engine.pair_findings([analysis], Config(select=("CNV",)))
    for finding in list(analysis.findings) + paired:
        spec = plan.plan(finding)
        if spec is not None:
            for side in (spec.source, spec.port, spec.fix):
                if side is not None:
                    call = side.call
                    assert max(call.in_channels, call.out_channels, call.kernel_size,
                               call.groups) <= plan.MAX_DIM


def test_an_internal_error_is_one_cnv900_not_a_lost_run(tmp_path, monkeypatch):
    # Defence in depth: a bug in a rule or in inference costs one file, not the run.
    def broken(*args, **kwargs):
        raise KeyError("bug")

    from convlint import infer

    monkeypatch.setattr(infer, "infer_sites", broken)  # engine imports it lazily
    analysis = engine.analyze_bytes("x.py", (ROOT / "examples" / "seed.py").read_bytes(),
                                    Config())
    assert [f.code for f in analysis.findings] == ["CNV900"]
    assert analysis.findings[0].message.startswith(engine.INTERNAL_ERROR)


@pytest.mark.parametrize("call", [
    b"y = tf.nn.conv1d(0, torch.ones(-1, 2, 3), 0, 'SAME', dilations=0)",
    b"y = tf.nn.conv1d(x, w, -2, 'SAME')",
    b"layer = tf.keras.layers.Conv1D(8, 3, strides=0, padding='causal', dilation_rate=2)",
    b"layer = nn.Conv1d(4, 8, 3, stride=0, padding='same')",
])
def test_zero_or_negative_strides_are_unknown_not_a_zero_division(call):
    # Session 3's long run: a stride of 0 reached `(L - 1) % stride` in the SAME
    # padding arithmetic (an internal-error CNV900 instead of a result).
    analysis = engine.analyze_bytes("stride.py", HEADER + call + b"\n", Config(select=("CNV",)))
    assert not any(f.message.startswith(engine.INTERNAL_ERROR) for f in analysis.findings)
    _oracle(HEADER + call + b"\n")
