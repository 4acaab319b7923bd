"""Per-file result cache: what analyzing one file produced, keyed by its content.

A record holds a file's sites (pairing runs across files, so a warm run needs them, not
only the findings), its site-rule findings before suppression, and its source when it
has any of those (``# noqa`` comments are read from it). The cache is private to this
version of convlint, so records are pickled.

One index file per (convlint build, configuration): ``<cache dir>/files/<key>.pickle``
maps a path to ``(stat signature, sha256 of the content, record)``. A file whose stat
signature (size, mtime_ns, ctime_ns, inode) is unchanged is a hit without being read;
otherwise it is read and hashed, and its content hash decides. The build key hashes
the version *and* the size and mtime of every module of the package, so an edited
checkout never reuses stale records. The index is written atomically (temporary file
+ os.replace); concurrent runs at worst lose each other's new records, never see a
torn file, and an unreadable index counts as empty.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import random
import time
from dataclasses import fields
from pathlib import Path
from typing import Dict, Optional, Tuple

from . import runcache

FORMAT = 1
# Indexes bigger than this forget the paths the current run did not look at.
MAX_ENTRIES = 200_000

StatSig = Tuple[int, int, int, int]
Entry = Tuple[StatSig, str, object]  # (stat signature, content sha256, record)

# Config fields that do not change what analyzing one file produces.
# (exclude and per-file-ignores are applied outside the per-file analysis too, but
# keeping them in the key costs only misses.)
_NOT_PER_FILE = frozenset({"probe", "show_unconfirmed", "probe_timeout"})


def default_directory() -> Path:
    return Path(runcache.cache_directory())


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_fingerprint() -> str:
    """Version plus the size/mtime of every module, so a dev checkout invalidates."""
    return f"{FORMAT}\n{runcache.build_fingerprint()}"


def config_fingerprint(config: object) -> str:
    return repr([(f.name, getattr(config, f.name)) for f in fields(config)  # type: ignore[arg-type]
                 if f.name not in _NOT_PER_FILE])


def cache_key(config: object, build: Optional[str] = None) -> str:
    """What a per-file result depends on besides the file: the build and the config."""
    text = (build if build is not None else build_fingerprint()) + "\n" + config_fingerprint(config)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _dump(value: object):
    return lambda stream: pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)


class FileCache:
    def __init__(self, config: object, directory: Optional[Path] = None,
                 build: Optional[str] = None) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        self.key = cache_key(config, build)
        self.path = self.directory / "files" / f"{self.key}.pickle"
        self.entries: Dict[str, Entry] = {}
        self.dirty = False
        self.hits = 0
        self.misses = 0
        self._load()

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                data = pickle.load(handle)
        except Exception:  # noqa: BLE001 - missing, torn or foreign: start empty
            return
        if isinstance(data, dict):
            self.entries = data

    def lookup(self, path: str, sig: Optional[StatSig]) -> Tuple[bool, Optional[str], object]:
        """(hit by stat, cached content hash or None, record)."""
        entry = self.entries.get(path)
        if entry is None:
            return False, None, None
        return (sig is not None and entry[0] == sig), entry[1], entry[2]

    def store(self, path: str, sig: Optional[StatSig], digest: Optional[str], record: object) -> None:
        if sig is None or digest is None:
            return  # unreadable: nothing stable to key on
        old = self.entries.get(path)
        if old is None or old[0] != sig or old[1] != digest:
            self.entries[path] = (sig, digest, record)
            self.dirty = True

    def save(self, keep: Optional[set] = None) -> None:
        if not self.dirty:
            return
        entries = self.entries
        if keep is not None and len(entries) > MAX_ENTRIES:
            entries = {p: e for p, e in entries.items() if p in keep}
        runcache.write_atomically(str(self.path), _dump(entries))
        self.dirty = False


class RecordStore:
    """One file per analyzed file, named by a hash of its path and content:
    ``<cache dir>/records/<key>/<hash>.pickle``, ``key`` as for :class:`FileCache`.

    For front ends that have no end of run at which to write an index: flake8 calls the
    plugin once per file, in several processes at once. Records are written atomically
    and only read back when their name (path + content) matches, so concurrent processes
    share work without locks; an unreadable record is a miss. Every edit of a file
    adds a record, so records unused for MAX_AGE_DAYS go (checked on about one write in
    PRUNE_EVERY; a hit refreshes a record's mtime at most daily).
    """

    MAX_AGE_DAYS = 30
    PRUNE_EVERY = 64

    def __init__(self, config: object, directory: Optional[Path] = None,
                 build: Optional[str] = None) -> None:
        root = Path(directory) if directory is not None else default_directory()
        self.directory = root / "records" / cache_key(config, build)

    def _path(self, path: str, digest: str) -> Path:
        name = hashlib.sha256(f"{os.path.abspath(path)}\0{digest}".encode("utf-8", "surrogatepass"))
        return self.directory / f"{name.hexdigest()[:40]}.pickle"

    def get(self, path: str, digest: str) -> Tuple[bool, object]:
        """(found, record); a record is what ``parallel._record`` keeps (None: nothing)."""
        location = self._path(path, digest)
        try:
            with open(location, "rb") as handle:
                stored_path, record = pickle.load(handle)
                if time.time() - os.fstat(handle.fileno()).st_mtime > 86400:
                    os.utime(location)  # still in use: not for pruning
        except Exception:  # noqa: BLE001 - missing, torn or foreign: a miss
            return False, None
        return stored_path == path, record

    def put(self, path: str, digest: str, record: object) -> None:
        written = runcache.write_atomically(str(self._path(path, digest)), _dump((path, record)))
        if written and random.randrange(self.PRUNE_EVERY) == 0:
            self.prune()

    def prune(self, now: Optional[float] = None) -> int:
        """Delete records unused for MAX_AGE_DAYS; how many went."""
        limit = (time.time() if now is None else now) - self.MAX_AGE_DAYS * 86400
        removed = 0
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return 0
        for entry in entries:
            try:
                if entry.name.endswith(".pickle") and entry.stat().st_mtime < limit:
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue
        return removed
