"""Run probe specs in framework worker processes and turn their outputs into verdicts.

Each framework family (torch; tensorflow+keras; jax+flax; numpy) gets at most one live
worker process per runner, started on first use; the frameworks themselves are only
ever imported there (catalog A07: TF can abort the whole process, so it must not be
ours). A worker that times out or dies costs its probe a ``failed`` verdict and is
replaced by a fresh one when the next probe needs it.

Verdicts (shared/hazards.md): ``confirmed`` when the port's output differs beyond
tolerance, has another shape, or the port raises where the source runs;
``not-reproduced`` when it agrees at every probed length; ``failed`` when the source
raises, a worker dies or a probe times out; ``skipped`` when a framework cannot be
imported or the probe is too large. POSIX only (select on pipes, resource limits).

A port that kills its worker with a framework's native check failure (catalog A07:
TF's "Check failed", SIGABRT) while the source ran is the port crashing: ``confirmed``,
"process aborted" in the detail. Any other death (SIGKILL from the OOM killer, SIGXCPU
from the CPU limit, a bare abort) says nothing about the port: ``failed``.

Numeric verdicts are re-checked in float64 where the backends compute in it (torch,
tf.nn, Keras, JAX with x64, Flax): float64 takes round-off out of the measurement, so
its comparison against the same tolerance decides, and the detail records it.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from convlint.findings import ProbeResult
from convlint.probe import data
from convlint.probe.cache import CACHEABLE, VerdictCache, cache_key
from convlint.probe.compare import Comparison, compare
from convlint.probe.spec import ConvCall, ProbeSpec, Side
from convlint.probe.worker import APIS, BOOTSTRAP, FAMILY_OF, ONEDNN_OFF, decode, encode

DEFAULT_TIMEOUT = 60.0  # seconds for one probe: every length and side, imports excluded
LOAD_TIMEOUT = 300.0  # importing TF from a cold disk cache can take a minute
# The worker's data segment (RLIMIT_DATA). Measured after import and a probe: torch
# 175 MB, TF+Keras 300 MB, JAX+Flax 190 MB; probe tensors are capped at a few MB, so
# this only stops runaway allocations. CONVLINT_PROBE_MEMORY_MB overrides it.
DEFAULT_MEMORY_MB = 2048
# CPU seconds a request may use beyond its wall-clock budget (RLIMIT_CPU in the worker;
# it backs up the wall timeout should a framework spin many threads).
CPU_SLACK = 5.0

# The convlint package the workers import (explicitly: see worker.BOOTSTRAP).
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Variables that would put the linted project's directories on the worker's sys.path.
_DROPPED_ENV = ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONSAFEPATH")

Progress = Callable[[int, int, ProbeResult], None]

# "F0000 00:00:1795960240.775890    9053 tensor_format.h:428] " before a native abort's text.
_GLOG_PREFIX = r"^[FEWI]\d{4} [\d:.]+\s+\d+ \S+\] "


class WorkerLost(Exception):
    """The worker died; its process is gone.

    ``native_abort``: it died of SIGABRT after a framework's fatal check ("Check
    failed"), i.e. a deterministic rejection of the call's arguments (catalog A07).
    """

    def __init__(self, text: str = "", native_abort: bool = False) -> None:
        super().__init__(text)
        self.native_abort = native_abort


class WorkerTimeout(WorkerLost):
    """The worker did not answer in time and was killed."""


class Unavailable(Exception):
    """A framework cannot be imported by the worker."""


class ProbeFailed(Exception):
    """The probe itself could not produce a verdict (source crash, dead worker...)."""


@dataclass(frozen=True)
class Crash:
    text: str  # "Type: first line" from the worker


@dataclass(frozen=True)
class LengthOutcome:
    """What one input length showed: a comparison, or the port's crash."""

    length: int
    comparison: Optional[Comparison]
    port_crash: Optional[str]
    fix: Union[Comparison, Crash, None]
    # The float64 re-check: its comparison, or why there is none ("" when not attempted).
    float64: Union[Comparison, str] = ""

    @property
    def decisive(self) -> Optional[Comparison]:
        """The comparison the verdict uses: float64 when it ran, else float32."""
        return self.float64 if isinstance(self.float64, Comparison) else self.comparison


class Worker:
    """One worker process for a framework family."""

    def __init__(self, family: str, python: str, memory_mb: int) -> None:
        self.family = family
        self.loaded: set = set()
        self._stderr = tempfile.TemporaryFile()
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        if os.environ.get("CONVLINT_PROBE_PYTHONPATH"):
            # An explicit opt-in for frameworks installed outside the interpreter's paths.
            env["PYTHONPATH"] = os.environ["CONVLINT_PROBE_PYTHONPATH"]
        if family == ONEDNN_OFF:
            env["TF_ENABLE_ONEDNN_OPTS"] = "0"
        env.update(
            TF_CPP_MIN_LOG_LEVEL="3",
            KERAS_BACKEND="tensorflow",
            CONVLINT_PROBE_MEMORY_MB=str(memory_mb),
            # Probe tensors are tiny: one thread is fastest (measured on 2 cores: a torch
            # probe took 16 ms median with its default pool, 1.2 ms single-threaded) and
            # keeps the workers from claiming every core of the user's machine.
            OMP_NUM_THREADS="1",
            TF_NUM_INTRAOP_THREADS="1",
            TF_NUM_INTEROP_THREADS="1",
        )
        # An empty private working directory and no PYTHONPATH: the linted project's own
        # files (a local "torch.py") can never shadow a framework in the worker.
        self._directory = tempfile.mkdtemp(prefix="convlint-probe-")
        try:
            self._process = subprocess.Popen(
                [python, "-c", BOOTSTRAP, str(_PACKAGE_DIR), family],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                cwd=self._directory, env=env,
            )
        except OSError:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._stderr.close()
            raise
        self._pending = b""

    def request(self, message: dict, timeout: float,
                cpu_seconds: Optional[float] = None) -> dict:
        # The worker's CPU limit for this request: by default its wall budget plus slack.
        budget = timeout + CPU_SLACK if cpu_seconds is None else cpu_seconds
        message = {**message, "cpu_seconds": budget}
        try:
            self._process.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            self._process.stdin.flush()
        except BrokenPipeError:
            raise self._death() from None
        line = self._read_line(timeout)
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            self.close()
            raise WorkerLost(f"worker sent an unreadable reply: {line[:100]!r}")
        return reply

    def _read_line(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        fd = self._process.stdout.fileno()
        chunks = [self._pending]
        while b"\n" not in chunks[-1]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise WorkerTimeout()
            if not select.select([fd], [], [], remaining)[0]:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise self._death()
            chunks.append(chunk)
        line, _, self._pending = b"".join(chunks).partition(b"\n")
        return line

    def _death(self) -> str:
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # closed its stdout but lingers
            pass
        last = self._stderr_line()
        self.close()
        code = self._process.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        if code == -signal.SIGXCPU:
            how += ": CPU time limit exceeded"
        elif code == -signal.SIGKILL:
            how += ": killed, e.g. by the out-of-memory killer"
        native = code == -signal.SIGABRT and "Check failed" in last
        return WorkerLost(f"worker died ({how})" + (f": {last}" if last else ""), native)

    def _stderr_line(self) -> str:
        # The informative line of a native abort (TF's "F0000 ... Check failed") sits
        # above its stack dump; a Python failure ends with the exception line.
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, self._stderr.tell() - 16384))
        lines = [ln.strip() for ln in self._stderr.read().decode("utf-8", "replace").splitlines()]
        lines = [ln for ln in lines if ln and not ln.startswith(("@", "***"))]
        fatal = [ln for ln in lines if "Check failed" in ln or ln.startswith("F0")]
        last = (fatal or lines or [""])[-1]
        return re.sub(_GLOG_PREFIX, "", last)[:300]

    def close(self) -> None:
        # Workers hold no state worth a clean exit, and interpreter shutdown with
        # torch or TF loaded takes over a second: kill ours by its pid.
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout, self._stderr):
            try:
                stream.close()
            except OSError:  # unflushed bytes to a dead worker
                pass
        shutil.rmtree(self._directory, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return self._process.poll() is None


class ProbeRunner:
    """Runs probes, reusing one worker per framework family until closed.

    ``workers_started`` counts processes started (restarts included) and
    ``load_seconds`` records each framework's first import time, cold start included.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        load_timeout: float = LOAD_TIMEOUT,
        python: Optional[str] = None,
        memory_mb: int = DEFAULT_MEMORY_MB,
        cpu_seconds: Optional[float] = None,
        cache: bool = True,
        cache_dir: Optional[Path] = None,
    ) -> None:
        self.timeout = timeout
        self.load_timeout = load_timeout
        self.python = python or os.environ.get("CONVLINT_PROBE_PYTHON") or sys.executable
        self.memory_mb = _env_int("CONVLINT_PROBE_MEMORY_MB", memory_mb)
        self.cpu_seconds = cpu_seconds  # per conv request; None: its wall budget + slack
        self.workers_started = 0
        self.load_seconds: Dict[str, float] = {}
        self._cache = VerdictCache(cache_dir) if cache else None
        self._workers: Dict[str, Worker] = {}
        self._unavailable: Dict[str, str] = {}

    def __enter__(self) -> "ProbeRunner":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers.values():
            worker.close()
        self._workers.clear()

    def run(self, specs: Sequence[ProbeSpec],
            progress: Optional[Progress] = None) -> List[ProbeResult]:
        results = []
        for index, spec in enumerate(specs):
            try:
                results.append(self._cached_probe(spec))
            except Exception as exc:  # noqa: BLE001 - one bad probe must not end the run
                results.append(ProbeResult(
                    "failed", None, f"internal probe error: {type(exc).__name__}: {exc}"))
            if progress is not None:
                progress(index + 1, len(specs), results[-1])
        return results

    def _cached_probe(self, spec: ProbeSpec) -> ProbeResult:
        if self._cache is None:
            return self.probe(spec)
        key = cache_key(spec, self.python)
        result = self._cache.get(key)
        if result is None:
            result = self.probe(spec)
            if result.status in CACHEABLE:
                self._cache.put(key, result)
        return result

    # ------------------------------------------------------------ one probe

    def probe(self, spec: ProbeSpec) -> ProbeResult:
        """Run one spec, ignoring the cache."""
        if not spec.lengths:
            return ProbeResult("failed", None, "the probe has no input lengths")
        try:
            data.check_size(spec)
            for side in _sides(spec):
                _check_api(side.call)
            for side in (spec.source, spec.port):
                self._ready(side.call.framework)
        except (data.ProbeTooLarge, Unavailable) as exc:
            return ProbeResult("skipped", None, str(exc))
        except ValueError as exc:
            return ProbeResult("failed", None, f"could not build the probe: {exc}")
        spec, fix_note = self._without_unavailable_fix(spec)
        deadline = time.monotonic() + self.timeout
        try:
            outcomes = [self._probe_length(spec, length, deadline) for length in spec.lengths]
        except data.ProbeTooLarge as exc:
            return ProbeResult("skipped", None, str(exc))
        except ProbeFailed as exc:
            return ProbeResult("failed", None, str(exc))
        result = verdict(outcomes)
        return replace(result, detail=result.detail + fix_note)

    def _without_unavailable_fix(self, spec: ProbeSpec):
        # A fix in a framework that is not installed must not cost the finding its probe.
        if spec.fix is None:
            return spec, ""
        try:
            self._ready(spec.fix.call.framework)
        except Unavailable as exc:
            return replace(spec, fix=None), f"; fix not probed: {exc}"
        return spec, ""

    def _probe_length(self, spec: ProbeSpec, length: int, deadline: float) -> LengthOutcome:
        source = data.source_tensors(spec, length)
        ref = self._call(spec, spec.source, source, deadline, "source", length)
        if isinstance(ref, Crash):
            raise ProbeFailed(f"source crashed at L={length}: {ref.text}")
        edge = _edge(spec)
        port = self._call(spec, spec.port, source, deadline, "port", length)
        fix = None
        if spec.fix is not None:
            fixed = self._call(spec, spec.fix, source, deadline, "fix", length)
            fix = fixed if isinstance(fixed, Crash) else compare(
                ref, fixed, length=length, edge=edge)
        if isinstance(port, Crash):
            return LengthOutcome(length, None, port.text, fix)
        comparison = compare(ref, port, length=length, edge=edge, groups_hint=spec.groups_hint)
        float64: Union[Comparison, str] = ""
        if comparison.max_abs_diff is not None:
            float64 = self._float64(spec, source, deadline, length, edge)
        return LengthOutcome(length, comparison, None, fix, float64)

    def _float64(self, spec: ProbeSpec, source: data.SourceTensors, deadline: float,
                 length: int, edge: int) -> Union[Comparison, str]:
        """Source and port again in float64: their comparison, or why there is none."""
        outputs = []
        for side, role in ((spec.source, "source"), (spec.port, "port")):
            try:
                out = self._call(spec, side, source, deadline, role, length, "float64")
            except ProbeFailed as exc:
                if time.monotonic() >= deadline:
                    raise
                return f"{exc}"
            if isinstance(out, Crash):
                return f"the {role} raises in float64: {out.text}"
            if out.dtype != np.float64:
                return f"{side.call.api} computed in {out.dtype}"
            outputs.append(out)
        return compare(outputs[0], outputs[1], length=length, edge=edge,
                       groups_hint=spec.groups_hint)

    def _call(self, spec: ProbeSpec, side: Side, source: data.SourceTensors, deadline: float,
              role: str, length: int, dtype: str = "float32"):
        """The side's output normalized to channels-first, or its Crash."""
        what = f"{role} at L={length}" + (" in float64" if dtype == "float64" else "")
        try:
            arrays = data.side_arrays(side, source)
        except data.ProbeTooLarge:
            raise
        except ValueError as exc:
            raise ProbeFailed(f"could not build the {role} tensors: {exc}") from None
        worker = self._ready(side.call.framework)
        message = {
            "op": "conv",
            "rule": spec.rule,
            "call": _call_json(side.call),
            "x": encode(arrays.x),
            "weight": encode(arrays.weight),
            "bias": None if arrays.bias is None else encode(arrays.bias),
            "dtype": dtype,
        }
        try:
            reply = worker.request(message, max(deadline - time.monotonic(), 0.0),
                                   self.cpu_seconds)
        except WorkerTimeout:
            self._workers.pop(worker.family, None)
            raise ProbeFailed(
                f"timeout: the probe exceeded {self.timeout:g} s in the {what} "
                f"({side.call.api}); worker killed"
            ) from None
        except WorkerLost as exc:
            self._workers.pop(worker.family, None)
            if exc.native_abort and role != "source":
                # Catalog A07: the framework's own check kills the process for these
                # arguments; for the port (or the fix) that is its crash, not ours.
                return Crash(f"process aborted: {exc}")
            raise ProbeFailed(f"{what} ({side.call.api}): {exc}") from None
        if "failed" in reply:
            raise ProbeFailed(f"{what} ({side.call.api}): {reply['failed']}")
        if "error" in reply:
            return Crash(reply["error"])
        return _channels_first(side.call, decode(reply["y"]))

    def _ready(self, framework: str) -> Worker:
        """A live worker that has imported ``framework``; raises Unavailable."""
        if framework in self._unavailable:
            raise Unavailable(self._unavailable[framework])
        family = FAMILY_OF.get(framework)
        if family is None:
            return self._give_up(framework, f"no probe worker for framework {framework!r}")
        worker = self._workers.get(family)
        if worker is None or not worker.alive:
            try:
                worker = self._workers[family] = Worker(family, self.python, self.memory_mb)
            except OSError as exc:
                return self._give_up(framework, f"cannot start a probe worker: {exc}")
            self.workers_started += 1
        if framework not in worker.loaded:
            started = time.monotonic()
            try:
                reply = worker.request({"op": "load", "framework": framework}, self.load_timeout)
            except WorkerTimeout:
                self._workers.pop(family, None)
                return self._give_up(
                    framework, f"importing {framework} took over {self.load_timeout:g} s")
            except WorkerLost as exc:
                self._workers.pop(family, None)
                return self._give_up(
                    framework, f"{framework} worker failed while importing: {exc}")
            if "unavailable" in reply:
                return self._give_up(
                    framework, f"{framework} is not importable: {reply['unavailable']}")
            worker.loaded.add(framework)
            self.load_seconds.setdefault(framework, time.monotonic() - started)
        return worker

    def _give_up(self, framework: str, reason: str):
        self._unavailable[framework] = reason
        raise Unavailable(reason)


def run_probes(
    specs: Sequence[ProbeSpec],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Optional[Progress] = None,
    cache: bool = True,
) -> List[ProbeResult]:
    """Probe every spec (workers started lazily, closed on return); one result each."""
    with ProbeRunner(timeout=timeout, cache=cache) as runner:
        return runner.run(specs, progress)


# ---------------------------------------------------------------- helpers


def _sides(spec: ProbeSpec) -> List[Side]:
    return [side for side in (spec.source, spec.port, spec.fix) if side is not None]


def _check_api(call: ConvCall) -> None:
    if call.api not in APIS:
        raise Unavailable(f"the probe runner has no implementation of {call.api}")
    api_family = FAMILY_OF[call.api.split(".")[0]]
    framework = "tensorflow" if call.framework == ONEDNN_OFF else call.framework
    if FAMILY_OF.get(framework, api_family) != api_family:
        raise ValueError(f"{call.api} is not a {call.framework} api")


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _call_json(call: ConvCall) -> dict:
    return {name: getattr(call, name) for name in call.__dataclass_fields__}


def _channels_first(call: ConvCall, y: np.ndarray) -> np.ndarray:
    return np.swapaxes(y, -1, -2) if call.data_layout == "NLC" and y.ndim >= 2 else y


def _edge(spec: ProbeSpec) -> int:
    """How many output positions at each end padding choices can reach."""
    call = spec.source.call
    pads = [max(side.pre_pad[:2]) for side in _sides(spec) if side.pre_pad]
    return max([1, call.dilation * (call.kernel_size - 1)] + pads)


def verdict(outcomes: Sequence[LengthOutcome]) -> ProbeResult:
    fix_diff, fix_note = _fix_summary(outcomes)
    crashes = [o for o in outcomes if o.port_crash is not None]
    if crashes:
        first = crashes[0]
        detail = f"port crashes where the source runs (L={first.length}): {first.port_crash}"
        return ProbeResult("confirmed", None, detail + fix_note, None, fix_diff)
    comparisons = [o.comparison for o in outcomes]
    numeric = [c for c in comparisons if c.max_abs_diff is not None]
    worst_numeric = max(numeric, key=lambda c: c.max_abs_diff, default=None)
    max_diff = None if worst_numeric is None else worst_numeric.max_abs_diff
    rel = None if worst_numeric is None else worst_numeric.rel_diff
    decisive = [o.decisive for o in outcomes]
    differing = [c for c in decisive if c.differs]
    note = _float64_note(outcomes) + fix_note
    if not differing:
        lengths = ", ".join(str(c.length) for c in comparisons)
        detail = f"max|diff| {max_diff:.3g} within tolerance at L={lengths}"
        if any(c.differs for c in comparisons):
            detail = f"agrees within tolerance in float64 at L={lengths}"
        return ProbeResult("not-reproduced", max_diff, detail + note, rel, fix_diff)
    # A shape mismatch is the most telling; otherwise the largest difference.
    worst = next((c for c in differing if c.max_abs_diff is None), None) or max(
        differing, key=lambda c: c.max_abs_diff)
    detail = _length_dependence(worst, decisive)
    if worst.max_abs_diff is not None:
        detail += f" (max|diff| {worst.max_abs_diff:.3g}, tolerance {worst.tolerance:.3g})"
    return ProbeResult("confirmed", max_diff, detail + note, rel, fix_diff)


def _float64_note(outcomes: Sequence[LengthOutcome]) -> str:
    """What the float64 re-check found, and whether it overruled float32."""
    checked = [o for o in outcomes if isinstance(o.float64, Comparison)]
    missing = next((o.float64 for o in outcomes if isinstance(o.float64, str) and o.float64), "")
    if not checked:
        return f"; float64 re-check unavailable: {missing}" if missing else ""
    worst = max(checked, key=lambda o: o.float64.max_abs_diff)
    note = f"; float64 re-check max|diff| {worst.float64.max_abs_diff:.3g}"
    overruled = [o for o in checked if o.float64.differs != o.comparison.differs]
    if overruled:
        o = overruled[0]
        side = "above" if o.comparison.differs else "within"
        note += (f" decides: float32 max|diff| {o.comparison.max_abs_diff:.3g} was {side} "
                 f"tolerance {o.comparison.tolerance:.3g} at L={o.length} (round-off)")
    if missing:
        note += f" (unavailable at some lengths: {missing})"
    return note


def _length_dependence(worst: Comparison, comparisons: Sequence[Comparison]) -> str:
    agreeing = [str(c.length) for c in comparisons if not c.differs]
    if not agreeing:
        return f"{worst.pattern} at L={worst.length}"
    # Catalog P01: when only some input lengths differ, the cause is how padding or
    # stride aligns with L (e.g. TF 'SAME' at stride 2 pads by the parity of L).
    pattern = worst.pattern
    if pattern == "values differ":
        pattern = "padding: values differ"
    return (f"{pattern} at L={worst.length} but agree at L={', '.join(agreeing)} "
            f"(depends on the input length)")


def _fix_summary(outcomes: Sequence[LengthOutcome]):
    """fix_max_abs_diff over all lengths (None unless the fix ran with the right shape)."""
    fixes = [o.fix for o in outcomes if o.fix is not None]
    if not fixes:
        return None, ""
    crash = next((f for f in fixes if isinstance(f, Crash)), None)
    if crash is not None:
        return None, f"; the fix crashes: {crash.text}"
    bad_shape = next((f for f in fixes if f.max_abs_diff is None), None)
    if bad_shape is not None:
        return None, f"; the fix has another shape: {bad_shape.pattern}"
    worst = max(fixes, key=lambda f: f.max_abs_diff)
    note = f"; the fix differs too ({worst.pattern})" if worst.differs else ""
    return worst.max_abs_diff, note
