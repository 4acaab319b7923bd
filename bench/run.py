#!/usr/bin/env python3
"""Benchmark convlint against flake8(-bugbear), TorchFix, ruff and grep on one tree.

    python bench/run.py                      # downloads transformers 4.46.3 (pip download)
    python bench/run.py --tree /path/to/transformers --reps 3
    python bench/run.py --tree ... --scale   # cost vs tree size (1/4, 1/2, 1, 2 copies)

Every tool runs in the same process loop, alternating (the order rotates each
repetition), so a machine shared with other work slows all of them alike; the report
gives medians and ratios, which is what the targets in docs/performance.md are about.
Peak memory is each run's maximum resident set (os.wait4: the largest single process,
workers included).

The comparison tools are installed into bench/.venv (pinned, gitignored), never into
the environment convlint runs from. convlint itself runs from this checkout's src/ with
the interpreter running this script (which must have libcst and platformdirs), so
pass the project's venv python: ``.venv/bin/python bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = ROOT / "src"
VENV = HERE / ".venv"
DATA = HERE / ".data"
TOOLS = ["flake8==7.5.0", "flake8-bugbear==26.10.27", "TorchFix==0.7.0", "ruff==0.17.6",
         "platformdirs"]
TRANSFORMERS = "transformers==4.46.3"
PREFILTER_GREP = ("conv1d|Conv1d|Conv1D|conv_transpose|ConvTranspose|Convolution1D|conv_general"
                  "|conv_with_general|\\.convolution|Conv|depthwise_conv|separable_conv")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- setup -----------------------------------------------------------------------------------

def ensure_venv() -> Optional[Path]:
    """bench/.venv with the comparison tools; None when pip cannot install them."""
    bin_dir = VENV / "bin"
    if all((bin_dir / tool).exists() for tool in ("flake8", "ruff", "torchfix")):
        return bin_dir
    log(f"creating {VENV} and installing {' '.join(TOOLS)}")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    result = subprocess.run([str(bin_dir / "pip"), "install", "-q", *TOOLS])
    if result.returncode != 0:
        log("pip could not install the comparison tools (no network or no index?): "
            "only convlint and grep are measured")
        return None
    return bin_dir


def ensure_tree(tree: Optional[str]) -> Path:
    if tree:
        return Path(tree).resolve()
    target = DATA / "transformers-4.46.3"
    if not (target / "transformers").is_dir():
        DATA.mkdir(exist_ok=True)
        log(f"pip download --no-deps {TRANSFORMERS}")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(DATA),
                        TRANSFORMERS], check=True)
        wheel = next(DATA.glob("transformers-4.46.3-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            members = [m for m in archive.namelist() if m.startswith("transformers/")]
            archive.extractall(target, members)
    return target / "transformers"


def python_files(tree: Path) -> List[Path]:
    return sorted(p for p in tree.rglob("*.py") if p.is_file())


# --- running ---------------------------------------------------------------------------------

def run_once(argv: Sequence[str], env: Dict[str, str], cwd: Path) -> Tuple[float, float, float]:
    """(wall seconds, peak RSS MB, CPU seconds) of one run, output discarded.

    CPU is user + system of the process and every worker it waited for: on a machine
    shared with other work it moves far less than wall time does."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        process = subprocess.Popen(list(argv), stdout=null, stderr=subprocess.PIPE, env=env,
                                   cwd=str(cwd))
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    err = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if process.returncode not in (0, 1):
        log(f"  ! {' '.join(argv[:4])}... exited {process.returncode}: {err[-400:]}")
    return wall, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime


class Bench:
    def __init__(self, tree: Path, bin_dir: Optional[Path], work: Path, jobs: int) -> None:
        self.tree = tree
        self.bin = bin_dir
        self.work = work
        self.jobs = jobs
        # A snapshot of src/: a benchmark runs for an hour, and editing the checkout
        # meanwhile must change neither the code measured nor its cache keys.
        self.src = work / "src"
        shutil.copytree(SRC, self.src, ignore=shutil.ignore_patterns("__pycache__"))
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = str(self.src)
        self.env.pop("PYTHONSTARTUP", None)
        # An installed convlint has its bytecode compiled, like the tools in bench/.venv.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.warm_cache = work / "cache-warm"
        self._cold = 0
        self.plain_cfg = work / "flake8-plain.cfg"
        self.plain_cfg.write_text("[flake8]\n")
        self.cnv_cfg = work / "flake8-cnv.cfg"
        self.cnv_cfg.write_text(
            "[flake8]\n\n[flake8:local-plugins]\nextension =\n"
            "    CNV = convlint.flake8_plugin:ConvlintChecker\n"
            f"paths = {self.src}\n")

    def convlint(self, *extra: str) -> List[str]:
        return [sys.executable, "-m", "convlint", "check", "--no-probe", "--exit-zero",
                "--format", "json", *extra, str(self.tree)]

    def commands(self) -> Dict[str, Tuple[List[str], Callable[[], Dict[str, str]]]]:
        def cold_env() -> Dict[str, str]:
            self._cold += 1
            return {**self.env, "CONVLINT_CACHE_DIR": str(self.work / f"cache-cold-{self._cold}")}

        def warm_env() -> Dict[str, str]:
            return {**self.env, "CONVLINT_CACHE_DIR": str(self.warm_cache)}

        def file_cache_env() -> Dict[str, str]:
            # The per-file cache without the whole-run record: what a run pays when one
            # file changed (minus analyzing that file).
            shutil.rmtree(self.warm_cache / "runs", ignore_errors=True)
            return warm_env()

        def plugin_env() -> Dict[str, str]:
            # Cold: the plugin keeps per-file records; every measured run starts without.
            self._cold += 1
            return {**self.env, "CONVLINT_CACHE_DIR": str(self.work / f"cache-plugin-{self._cold}")}

        def plain() -> Dict[str, str]:
            return self.env

        jobs = str(self.jobs)
        cmds: Dict[str, Tuple[List[str], Callable[[], Dict[str, str]]]] = {
            "convlint cold": (self.convlint("-j", jobs), cold_env),
            "convlint warm": (self.convlint("-j", jobs), warm_env),
            "convlint warm (file cache only)": (self.convlint("-j", jobs), file_cache_env),
            "grep -r": (["grep", "-rlE", "--include=*.py", PREFILTER_GREP, str(self.tree)], plain),
        }
        if self.bin is not None:
            flake8 = str(self.bin / "flake8")
            cmds.update({
                "flake8 --select=CNV (plugin)": (
                    [flake8, "--config", str(self.cnv_cfg), "--select=CNV", "-j", jobs,
                     str(self.tree)], plugin_env),
                "flake8 --select=CNV (no plugin)": (
                    [flake8, "--config", str(self.plain_cfg), "--select=CNV", "-j", jobs,
                     str(self.tree)], plain),
                "flake8 --select=B (bugbear)": (
                    [flake8, "--config", str(self.plain_cfg), "--select=B", "-j", jobs,
                     str(self.tree)], plain),
                "torchfix": ([str(self.bin / "torchfix"), "-j", jobs, str(self.tree)], plain),
                "ruff check": ([str(self.bin / "ruff"), "check", "--isolated", "--no-cache",
                                "--exit-zero", "-q", str(self.tree)], plain),
            })
        return cmds

    def prime(self) -> None:
        shutil.rmtree(self.warm_cache, ignore_errors=True)
        env = {**self.env, "CONVLINT_CACHE_DIR": str(self.warm_cache)}
        run_once(self.convlint("-j", str(self.jobs)), env, ROOT)
        # The whole-run record is kept only for files older than runcache.RACY_NS; a
        # tree copied just now (--sample, --scale) gets it from a run after that.
        time.sleep(1.2)
        run_once(self.convlint("-j", str(self.jobs)), env, ROOT)


Run = Tuple[float, float, float]  # wall s, peak RSS MB, CPU s


def measure(bench: Bench, names: Sequence[str], reps: int) -> Dict[str, List[Run]]:
    cmds = bench.commands()
    names = [n for n in names if n in cmds]
    results: Dict[str, List[Run]] = {n: [] for n in names}
    bench.prime()
    for rep in range(reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            argv, env = cmds[name]
            wall, rss, cpu = run_once(argv, env(), ROOT)
            results[name].append((wall, rss, cpu))
            log(f"  rep {rep + 1}/{reps} {name:<34} {wall:8.2f} s {cpu:8.2f} cpu-s {rss:8.1f} MB")
    return results


def table(results: Dict[str, List[Run]]) -> str:
    med = {n: statistics.median(r[0] for r in runs) for n, runs in results.items() if runs}
    cpu = {n: statistics.median(r[2] for r in runs) for n, runs in results.items() if runs}
    lines = ["| tool | median wall s | runs wall (s) | median CPU s (undercounts pools) | peak RSS MB |",
             "|---|---:|---|---:|---:|"]
    for name, runs in results.items():
        walls = ", ".join(f"{r[0]:.2f}" for r in runs)
        lines.append(f"| {name} | {med[name]:.2f} | {walls} | {cpu[name]:.2f} | "
                     f"{max(r[1] for r in runs):.0f} |")
    lines.append("")
    # Ratios use wall time: the CPU column (wait4's rusage) misses part of what worker
    # pools spend (a 4-task ProcessPoolExecutor burning ~2.9 CPU-s reported 1.2 here).
    lines.append("| ratio (wall) | value | target |")
    lines.append("|---|---:|---:|")

    def ratio(label: str, a: str, b: str, target: str, minus_one: bool = False) -> None:
        if a in med and b in med and med[b] > 0:
            value = med[a] / med[b]
            shown = f"{value - 1:+.1%}" if minus_one else f"{value:.2f}"
            lines.append(f"| {label} | {shown} | {target} |")

    ratio("convlint cold / flake8 --select=B", "convlint cold", "flake8 --select=B (bugbear)", "<= 1.0")
    ratio("convlint cold / TorchFix", "convlint cold", "torchfix", "<= 0.25")
    ratio("convlint warm / grep -r", "convlint warm", "grep -r", "<= 3")
    ratio("convlint warm (file cache only) / grep -r", "convlint warm (file cache only)",
          "grep -r", "(info)")
    ratio("flake8 plugin overhead", "flake8 --select=CNV (plugin)",
          "flake8 --select=CNV (no plugin)", "<= 10%", minus_one=True)
    ratio("convlint cold / ruff", "convlint cold", "ruff check", "(info)")
    if results.get("convlint cold"):
        lines.append(f"| convlint peak RSS (largest process) | "
                     f"{max(r[1] for r in results['convlint cold']):.0f} MB | <= 500 MB |")
    return "\n".join(lines)


def sample_tree(tree: Path, step: int, root: Path) -> Path:
    """Every ``step``-th file of ``tree`` in path order, copied with its relative path."""
    for path in python_files(tree)[::step]:
        target = root / path.relative_to(tree)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return root


def scale_trees(tree: Path, work: Path) -> Dict[str, Path]:
    """1/4, 1/2 (every 4th/2nd file in path order), the tree, and two copies of it."""
    out: Dict[str, Path] = {}
    for label, step in (("1/4", 4), ("1/2", 2)):
        root = work / f"scale-{step}"
        out[label] = sample_tree(tree, step, root) if not root.exists() else root
    out["1"] = tree
    double = work / "scale-x2"
    if not double.exists():
        for copy in ("a", "b"):
            shutil.copytree(tree, double / copy)
    out["2"] = double
    return out


def measure_scale(bench: Bench, reps: int) -> str:
    trees = scale_trees(bench.tree, bench.work)
    sizes = {label: sum(p.read_bytes().count(b"\n") for p in python_files(root))
             for label, root in trees.items()}
    walls: Dict[str, List[float]] = {label: [] for label in trees}
    cpus: Dict[str, List[float]] = {label: [] for label in trees}
    for rep in range(reps):
        for label, root in trees.items():
            argv = [sys.executable, "-m", "convlint", "check", "--no-probe", "--exit-zero",
                    "--no-cache", "--format", "json", "-j", str(bench.jobs), str(root)]
            wall, _, cpu = run_once(argv, bench.env, ROOT)
            walls[label].append(wall)
            cpus[label].append(cpu)
            log(f"  scale rep {rep + 1}/{reps} {label:>4}: {wall:.2f} s {cpu:.2f} cpu-s")
    base, base_cpu = statistics.median(walls["1"]), statistics.median(cpus["1"])
    lines = ["| tree | lines | median wall s | wall s per 100k lines | wall vs 1x | "
             "median CPU s | CPU vs 1x |", "|---|---:|---:|---:|---:|---:|---:|"]
    for label in trees:
        m, c = statistics.median(walls[label]), statistics.median(cpus[label])
        lines.append(f"| {label} | {sizes[label]} | {m:.2f} | {m / sizes[label] * 1e5:.2f} | "
                     f"{m / base:.2f} | {c:.2f} | {c / base_cpu:.2f} |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", help="tree to lint (default: download transformers 4.46.3)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="workers for every tool that has them (default: all cores)")
    parser.add_argument("--only", default="", help="comma-separated tool names (substrings)")
    parser.add_argument("--scale", action="store_true", help="also measure cost vs tree size")
    parser.add_argument("--scale-reps", type=int, default=1)
    parser.add_argument("--sample", type=int, default=1, metavar="K",
                        help="lint every K-th file of the tree only (for a loaded machine: "
                             "flake8 over all of transformers takes minutes per run)")
    parser.add_argument("--json", help="write raw timings here")
    args = parser.parse_args(argv)

    bin_dir = ensure_venv()
    tree = ensure_tree(args.tree)
    # Now, with the snapshot of src/ (Bench), not at the end: the checkout may change.
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="convlint-bench-") as tmp:
        if args.sample > 1:
            tree = sample_tree(tree, args.sample, Path(tmp) / f"sample-{args.sample}")
        files = python_files(tree)
        lines = sum(p.read_bytes().count(b"\n") for p in files)
        log(f"tree {tree}: {len(files)} files, {lines} lines; {args.jobs} jobs")
        bench = Bench(tree, bin_dir, Path(tmp), args.jobs)
        names = list(bench.commands())
        if args.only:
            wanted = [w.strip() for w in args.only.split(",") if w.strip()]
            names = [n for n in names if any(w in n for w in wanted)]
        results = measure(bench, names, args.reps)
        print(f"convlint {commit or '(no git)'}; ", end="")
        print(f"tree: {tree}{f' (every {args.sample}th file of {args.tree or TRANSFORMERS})' if args.sample > 1 else ''} ({len(files)} files, {lines} lines), {args.reps} alternating "
              f"repetitions, -j {args.jobs}, {os.cpu_count()} cores\n")
        print(table(results))
        if args.scale:
            print()
            print(measure_scale(bench, args.scale_reps))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
