"""Linted code is read, never imported or executed; probes are numbers; no network.

Every trap below writes a marker file when Python imports or runs it. The CLI (probes
on, cache off so the workers really start) and flake8 with ``--convlint-probe`` lint
them; no marker may appear. An audit hook in the CLI and in every probe worker records
any network call and any execution of code compiled from the linted directory.
"""

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT

SEED = (EXAMPLES / "seed.py").read_text()
FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "flax", "numpy")

# Runs the real entry point with an audit hook: what the linter (or a probe worker it
# starts) connects to and which code objects from TRAP_DIR it executes go to GUARD_LOG.
GUARD = textwrap.dedent('''
    import os, runpy, sys
    TRAP, LOG = os.environ["TRAP_DIR"], os.environ["GUARD_LOG"]

    def hook(event, args):
        if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo"):
            address = args[1] if len(args) > 1 else args
            # AF_UNIX paths and loopback are not the network (importing tensorflow binds
            # ('::1', 0) to probe for IPv6); anything else is.
            local = isinstance(address, (str, bytes)) or (
                isinstance(address, tuple) and address[0] in ("::1", "127.0.0.1", "localhost"))
            if event == "socket.getaddrinfo" or not local:
                note(f"{event} {address!r}")
                raise OSError("network blocked by the convlint security test")
        elif event == "exec":
            filename = getattr(args[0], "co_filename", "")
            if filename.startswith(TRAP):
                note(f"exec {filename}")
        elif event == "import" and args[1] and str(args[1]).startswith(TRAP):
            note(f"import {args[1]}")

    def note(text):
        with open(LOG, "a") as log:
            log.write(f"{os.getpid()} {text}\\n")

    sys.addaudithook(hook)
    if sys.argv[1] == "-c":  # a probe worker: guard -c CODE ARGS..., as `python -c` runs it
        code, sys.argv = sys.argv[2], ["-c"] + sys.argv[3:]
        sys.path[0] = ""
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
    else:  # guard -m MODULE ARGS...
        module, sys.argv = sys.argv[2], [sys.argv[2]] + sys.argv[3:]
        sys.path[0] = os.getcwd()  # as `python -m` does, instead of this file's directory
        runpy.run_module(module, run_name="__main__", alter_sys=True)
''')


def _marker_code(markers: Path, name: str) -> str:
    return f"import pathlib\npathlib.Path({str(markers / name)!r}).write_text('executed')\n"


@pytest.fixture
def trap(tmp_path):
    """A linted directory full of code that leaves a marker when it runs."""
    markers = tmp_path / "markers"
    markers.mkdir()
    lint = tmp_path / "project"
    lint.mkdir()
    # a real finding (CNV101) whose probe runs, in a file that marks when imported
    (lint / "port_trap.py").write_text(_marker_code(markers, "port_trap") + SEED)
    for name in ("__init__", "conftest", "setup", "__main__", "sitecustomize", "usercustomize"):
        (lint / f"{name}.py").write_text(_marker_code(markers, name)
                                         + "import torch.nn.functional as F\nF.conv1d\n")
    (lint / "trap.pth").write_text(
        f"import pathlib; pathlib.Path({str(markers / 'pth')!r}).write_text('executed')\n")
    # modules named like the frameworks the probe workers import
    for name in FRAMEWORKS:
        (lint / f"{name}.py").write_text(_marker_code(markers, name) + "conv1d = None\n")
    return lint, markers


def _env(tmp_path, **extra):
    env = dict(os.environ)
    env.update(CONVLINT_CACHE_DIR=str(tmp_path / "cache"), **extra)  # fresh: probes run
    return env


def _assert_nothing_ran(markers: Path, log: Path = None):
    assert sorted(p.name for p in markers.iterdir()) == []
    if log is not None and log.exists():
        pytest.fail("audit log:\n" + log.read_text())


def _probed(stdout: str, path_suffix: str):
    findings = json.loads(stdout)
    ours = [f for f in findings if f["path"].endswith(path_suffix) and f["code"] == "CNV101"]
    assert ours, findings
    return ours[0].get("probe") or {}


def test_cli_with_probes_never_imports_or_executes_linted_code(trap, tmp_path):
    lint, markers = trap
    guard, log = tmp_path / "guard.py", tmp_path / "guard.log"
    guard.write_text(GUARD)
    # every probe worker starts through the guard as well
    worker_python = tmp_path / "guarded-python"
    worker_python.write_text(f"#!/bin/sh\nexec {sys.executable} {guard} \"$@\"\n")
    worker_python.chmod(0o755)
    env = _env(tmp_path, TRAP_DIR=str(lint), GUARD_LOG=str(log),
               CONVLINT_PROBE_PYTHON=str(worker_python))
    result = subprocess.run([sys.executable, str(guard), "-m", "convlint", "check",
                             "--format", "json", str(lint)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    probe = _probed(result.stdout, "port_trap.py")
    assert probe.get("status") == "confirmed", probe  # the workers really ran
    _assert_nothing_ran(markers, log)


def test_probe_workers_ignore_framework_lookalikes_on_pythonpath(trap, tmp_path):
    """CI often sets PYTHONPATH=$PWD: a local torch.py must not shadow the real torch."""
    lint, markers = trap
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    for name in FRAMEWORKS:
        if name != "numpy":  # the linter itself imports numpy for probes, as any tool would
            (shadow / f"{name}.py").write_text(_marker_code(markers, f"shadow_{name}"))
    (shadow / "port_trap.py").write_text(SEED)
    pythonpath = os.pathsep.join([str(ROOT / "src"), str(shadow),
                                  os.environ.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-m", "convlint", "check", "--format", "json",
                             str(shadow)], cwd=ROOT, env=_env(tmp_path, PYTHONPATH=pythonpath),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stderr
    assert _probed(result.stdout, "port_trap.py").get("status") == "confirmed"
    _assert_nothing_ran(markers)


def test_flake8_plugin_with_probes_never_executes_linted_code(trap, tmp_path):
    lint, markers = trap
    result = subprocess.run([sys.executable, "-m", "flake8", "--select=CNV", "--convlint-probe",
                             str(lint)], cwd=ROOT, env=_env(tmp_path),
                            capture_output=True, text=True, timeout=600)
    assert "port_trap.py" in result.stdout and "CNV101" in result.stdout, result.stderr
    assert "Traceback" not in result.stderr
    _assert_nothing_ran(markers)


def test_console_script_run_inside_the_linted_directory(trap, tmp_path):
    """`convlint` (not `python -m`, which puts the cwd first on sys.path) from the project."""
    lint, markers = trap
    script = Path(sys.executable).with_name("convlint")
    if not script.exists():
        pytest.skip("no convlint console script next to the interpreter")
    result = subprocess.run([str(script), "check", "--no-probe", "."], cwd=lint,
                            env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert result.returncode == 1 and "CNV101" in result.stdout, result.stderr
    _assert_nothing_ran(markers)


# --- probes are built from numbers ---------------------------------------------------------

PROBE_DIR = ROOT / "src" / "convlint" / "probe"
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "runpy"}


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if isinstance(func, ast.Attribute) and getattr(func.value, "id", None) == "re":
                continue  # re.compile builds a pattern, not code
            yield name, node


@pytest.mark.parametrize("path", sorted(PROBE_DIR.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PROBE_DIR)))
def test_probe_code_never_evaluates_or_imports_text(path):
    for name, node in _calls(path):
        assert name not in FORBIDDEN_CALLS, f"{path}:{node.lineno}: {name}()"
        if name == "import_module":  # only the fixed framework table of the worker
            arg = node.args[0]
            assert isinstance(arg, (ast.Name, ast.Constant)) and path.name == "worker.py", \
                f"{path}:{node.lineno}"
        if name == "load" and getattr(node.func, "value", None) is not None:
            # np.load of what crosses the pipe: arrays only, never pickles
            assert any(k.arg == "allow_pickle" and getattr(k.value, "value", None) is False
                       for k in node.keywords), f"{path}:{node.lineno}"


def test_probe_specs_hold_only_numbers_and_names():
    """Every field of a planned probe is an int, a str, a bool, None or a tuple of them."""
    from convlint import engine
    from convlint.config import Config
    from convlint.probe import plan

    analysis = engine.analyze_bytes("seed.py", SEED.encode(), Config())
    paired, _ = engine.pair_findings([analysis], Config())
    specs = [plan.plan(f) for f in paired]
    assert specs and all(specs)

    def plain(value):
        if isinstance(value, (tuple, list)):
            return all(plain(v) for v in value)
        if isinstance(value, dict):
            return all(plain(k) and plain(v) for k, v in value.items())
        return value is None or isinstance(value, (int, float, str, bool))

    from dataclasses import asdict

    for spec in specs:
        assert plain(asdict(spec)), spec
        worker_request = json.loads(json.dumps(asdict(spec)))  # what crosses the pipe
        assert "import" not in json.dumps(worker_request)


def test_the_worker_is_started_with_a_fixed_bootstrap_and_no_user_path(monkeypatch, tmp_path):
    """The worker's command line, working directory and PYTHONPATH name nothing of the
    linted project, even when the user's shell points PYTHONPATH at it."""
    from convlint.probe import runner, worker

    seen = {}

    def fake_popen(args, **kwargs):
        seen.update(args=args, **kwargs)
        raise OSError("not started: the test only looks at the command")

    monkeypatch.setattr(runner.subprocess, "Popen", fake_popen)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OSError):
        runner.Worker("torch", sys.executable, 512)
    assert seen["args"][1:3] == ["-c", worker.BOOTSTRAP]
    assert Path(seen["args"][3]) == Path(worker.__file__).resolve().parent.parent
    assert seen["cwd"] != str(tmp_path) and "convlint-probe-" in seen["cwd"]
    assert seen["env"]["PYTHONPATH"] == ""
