"""Whole-run cache: replay the output of an unchanged ``convlint check`` without
importing the linter.

A warm run with the per-file cache still pays for interpreter start-up plus importing
the rules, the report formats and argparse (~60 ms of a 120 ms run on transformers):
that is the floor of any run that builds a report. This module imports only what the
interpreter has already loaded, so :func:`replay` can answer before any of that.

A record is keyed by everything the output depends on besides the files: the command
line, the working directory, the ``CONVLINT_*`` environment, the interpreter and the
build of convlint (size and mtime of each of its modules). It stores what the run
depended on (every directory walked, every file checked, every configuration file
looked at or for, each with its stat signature: size, mtime, ctime, inode; a missing
one as None) and the bytes it wrote. A replay re-stats them all; any difference (a new
file changes its directory's mtime; an edit changes ctime even when mtime is kept) is
a miss, and the run proceeds as usual.

Only runs whose output is a pure function of those inputs are recorded: ``check``
without ``--fix``/``--diff``, ending with exit 0 or 1, and with no probe run (probe
results depend on the installed frameworks; they have a cache of their own).
"""

from __future__ import annotations

import os
import sys
import zlib
from typing import IO, Callable, List, Optional, Sequence, Tuple

FORMAT = 1
KEEP = 64  # records kept; the oldest go first
# A file changed this recently may change again within the same timestamp tick (coarse
# clocks, 2 s on FAT) without changing its signature: such a run is not recorded
# (git's "racily clean" entries, handled the same way).
RACY_NS = 1_000_000_000

StatSig = Optional[Tuple[int, int, int, int]]
Deps = List[Tuple[str, StatSig]]
# The signature of a dependency of which only existence matters: the `.git` that stops
# config discovery (git touches that directory on every add or commit).
EXISTS = (-1, -1, -1, -1)


def presence(path: str) -> StatSig:
    return EXISTS if os.path.lexists(path) else None


def stat_signature(path: str) -> StatSig:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def cache_directory() -> str:
    """Where every convlint cache lives (per-file, whole-run, flake8 records, probes)."""
    override = os.environ.get("CONVLINT_CACHE_DIR")
    if override:
        return override
    try:
        import platformdirs
    except ImportError:  # a missing dependency must not fail a lint run
        return os.path.join(os.environ.get("XDG_CACHE_HOME")
                            or os.path.join(os.path.expanduser("~"), ".cache"), "convlint")
    return platformdirs.user_cache_dir("convlint")


def write_atomically(target: str, write: Callable[[IO[bytes]], None]) -> bool:
    """Write ``target`` (every convlint cache does it this way) through a temporary file
    in its directory and ``os.replace``: concurrent readers see the old file or the new
    one, never half of one. False, with nothing left behind, when it cannot be written:
    a read-only or full cache directory must never fail a lint run."""
    import tempfile  # only a run that writes a cache needs it (it pulls shutil, lzma...)

    directory = os.path.dirname(target)
    try:
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    except OSError:
        return False
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, target)
    except Exception:  # noqa: BLE001 - a full disk or an unpicklable record: no cache entry
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return False
    return True


def build_fingerprint() -> str:
    """Version plus the size/mtime of every module, so a dev checkout invalidates."""
    from . import __version__

    package = os.path.dirname(os.path.abspath(__file__))
    parts = [__version__]
    for directory, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                st = os.stat(path)
                parts.append(f"{os.path.relpath(path, package)}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts)


def run_key(argv: Sequence[str]) -> str:
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("CONVLINT_"))
    return repr((FORMAT, list(argv), os.getcwd(), env, sys.executable, sys.version,
                 build_fingerprint()))


def _record_path(key: str) -> str:
    name = f"{zlib.crc32(key.encode('utf-8', 'surrogatepass')):08x}.pickle"
    return os.path.join(cache_directory(), "runs", name)


def _eligible(argv: Sequence[str]) -> bool:
    return bool(argv) and argv[0] == "check" and not {"--fix", "--diff", "-h", "--help"} & set(argv)


def replay(argv: Sequence[str]) -> Optional[int]:
    """Write the recorded output of this exact run and return its exit status, or None."""
    if not _eligible(argv):
        return None
    try:
        key = run_key(argv)
        import pickle

        with open(_record_path(key), "rb") as handle:
            record = pickle.load(handle)
        stored_key, deps, out, err, status = record
    except Exception:  # noqa: BLE001 - no record, a torn one, an unreadable directory
        return None
    if stored_key != key:
        return None  # another run with the same crc32
    for path, sig in deps:
        if (presence(path) if sig == EXISTS else stat_signature(path)) != sig:
            return None
    sys.stdout.write(out)
    sys.stdout.flush()
    if err:
        sys.stderr.write(err)
    return status


def config_dependencies(start: Optional[str] = None) -> Deps:
    """What config_file.find_config looks at: each pyproject.toml and .git on the way up
    (a pyproject.toml that appears, changes or goes away changes the configuration; of
    .git only its existence matters)."""
    deps: Deps = []
    directory = os.path.abspath(start or os.getcwd())
    while True:
        pyproject, git = os.path.join(directory, "pyproject.toml"), os.path.join(directory, ".git")
        deps.append((pyproject, stat_signature(pyproject)))
        deps.append((git, presence(git)))
        parent = os.path.dirname(directory)
        if os.path.exists(git) or parent == directory:
            return deps
        directory = parent


def settled(deps: Deps, when_ns: int) -> bool:
    """No dependency changed within RACY_NS of ``when_ns`` (when they were stat'ed)."""
    limit = when_ns - RACY_NS
    return all(sig is None or (sig[1] < limit and sig[2] < limit) for _, sig in deps)


def store(argv: Sequence[str], deps: Deps, out: str, err: str, status: int,
          when_ns: int) -> None:
    """Record a finished run whose dependencies were stat'ed at ``when_ns``; never fails
    the run."""
    if not _eligible(argv) or status not in (0, 1) or not settled(deps, when_ns):
        return
    import pickle

    key = run_key(argv)
    target = _record_path(key)
    record = (key, deps, out, err, status)
    if write_atomically(target, lambda stream: pickle.dump(record, stream, pickle.HIGHEST_PROTOCOL)):
        _prune(os.path.dirname(target))


def _prune(directory: str) -> None:
    try:
        entries = [e for e in os.scandir(directory) if e.name.endswith(".pickle")]
        if len(entries) <= KEEP:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in entries[:len(entries) - KEEP]:
            os.unlink(entry.path)
    except OSError:
        pass
