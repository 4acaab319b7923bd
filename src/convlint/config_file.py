"""``[tool.convlint]`` in ``pyproject.toml``: discovery, validation, and merging with the CLI.

Discovery starts in the working directory and walks up to the first ``pyproject.toml``
that has a ``[tool.convlint]`` table; it stops at a repository root (a directory holding
``.git``) so a checkout never picks up settings from whatever lies above it. ``--config``
names the file instead. Paths in the table (globs, port-map entries) are relative to the
directory of the file that holds it (``Config.project_root``).

Unknown keys and wrongly typed values are errors (exit status 2): a misspelt
``per-file-ignore`` silently doing nothing is worse than a failing hook.

Precedence, lowest first: defaults, the file, the command line. A command-line
``--select`` replaces the file's whole selection (its select, extend-select and ignore),
as a later ``select`` does in ruff; ``--extend-select`` and ``--ignore`` add to it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .config import Config, known_prefix

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "flax")


class ConfigError(Exception):
    """A configuration file that cannot be used; the CLI exits with status 2."""


@dataclass(frozen=True)
class FileSettings:
    """What one ``[tool.convlint]`` table says; None = not set there."""

    path: Optional[str] = None
    select: Optional[Tuple[str, ...]] = None
    extend_select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    exclude: Tuple[str, ...] = ()
    port_map: Tuple[Tuple[str, str], ...] = ()
    probe: Optional[bool] = None
    probe_timeout: Optional[float] = None
    reference: Optional[str] = None
    show_unconfirmed: Optional[bool] = None

    @property
    def root(self) -> Optional[str]:
        return os.path.dirname(os.path.abspath(self.path)) if self.path else None


def find_config(start: Optional[str] = None) -> Optional[str]:
    """The nearest ``pyproject.toml`` with ``[tool.convlint]`` at or above ``start``."""
    directory = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate) and _has_table(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if os.path.exists(os.path.join(directory, ".git")) or parent == directory:
            return None
        directory = parent


def _has_table(path: str) -> bool:
    try:
        return "convlint" in _read_toml(path).get("tool", {})
    except ConfigError:
        # A broken pyproject.toml that may not even be ours: only an error when it is
        # the one we would use, so look for the table's header in the text instead.
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return "[tool.convlint" in handle.read()
        except OSError:
            return False


def _read_toml(path: str) -> Dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def load(path: str) -> FileSettings:
    """Read and validate the ``[tool.convlint]`` table of ``path``."""
    table = _read_toml(path).get("tool", {}).get("convlint")
    if table is None:
        if os.path.basename(path) == "pyproject.toml":
            raise ConfigError(f"{path} has no [tool.convlint] table")
        table = _read_toml(path)  # a dedicated convlint.toml: the keys at top level
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.convlint] must be a table")
    return parse_table(table, path)


def parse_table(table: Dict[str, Any], path: str) -> FileSettings:
    where = f"{path} [tool.convlint]"
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(repr(k) for k in unknown)}; known keys: "
                          f"{', '.join(sorted(_KEYS))}")
    values: Dict[str, Any] = {"path": path}
    for key, raw in table.items():
        values[_KEYS[key]] = _CHECKS[key](raw, f"{where} {key}")
    return FileSettings(**values)


def _codes(raw: Any, where: str) -> Tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise ConfigError(f"{where}: expected a list of rule codes, got {raw!r}")
    codes = tuple(c.strip().upper() for c in raw if c.strip())
    for code in codes:
        if not known_prefix(code):
            raise ConfigError(f"{where}: unknown rule code or prefix {code!r} "
                              f"(see `convlint rules`)")
    return codes


def _globs(raw: Any, where: str) -> Tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(g, str) for g in raw):
        raise ConfigError(f"{where}: expected a list of glob patterns, got {raw!r}")
    return tuple(raw)


def _per_file(raw: Any, where: str) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of glob = [codes], got {raw!r}")
    return tuple((glob, _codes(codes, f"{where} {glob!r}")) for glob, codes in raw.items())


def _port_map(raw: Any, where: str) -> Tuple[Tuple[str, str], ...]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of \"port.py::Name\" = "
                          f"\"source.py::Name\", got {raw!r}")
    out: List[Tuple[str, str]] = []
    for port, source in raw.items():
        for text in (port, source):
            if not isinstance(text, str) or "::" not in text:
                raise ConfigError(f"{where}: {text!r} is not of the form \"path::name\"")
        out.append((port, source))
    return tuple(out)


def _bool(raw: Any, where: str) -> bool:
    if not isinstance(raw, bool):
        raise ConfigError(f"{where}: expected true or false, got {raw!r}")
    return raw


def _seconds(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
        raise ConfigError(f"{where}: expected a positive number of seconds, got {raw!r}")
    return float(raw)


def _framework(raw: Any, where: str) -> str:
    if raw not in FRAMEWORKS:
        raise ConfigError(f"{where}: expected one of {', '.join(FRAMEWORKS)}, got {raw!r}")
    return raw


# TOML key -> FileSettings field, and the check that turns the raw value into it.
_KEYS = {
    "select": "select", "extend-select": "extend_select", "ignore": "ignore",
    "per-file-ignores": "per_file_ignores", "exclude": "exclude", "port-map": "port_map",
    "probe": "probe", "probe-timeout": "probe_timeout", "reference": "reference",
    "show-unconfirmed": "show_unconfirmed",
}
_CHECKS = {
    "select": _codes, "extend-select": _codes, "ignore": _codes,
    "per-file-ignores": _per_file, "exclude": _globs, "port-map": _port_map,
    "probe": _bool, "probe-timeout": _seconds, "reference": _framework,
    "show-unconfirmed": _bool,
}


def settings_for(config_path: Optional[str], isolated: bool = False,
                 start: Optional[str] = None) -> FileSettings:
    """The settings a run uses: ``--config``, else discovery, else none."""
    if isolated:
        return FileSettings()
    if config_path is not None:
        return load(config_path)
    found = find_config(start)
    return load(found) if found else FileSettings()


def merge(file: FileSettings, *, select: Sequence[str] = (), extend_select: Sequence[str] = (),
          ignore: Sequence[str] = (), probe: Optional[bool] = None,
          probe_timeout: Optional[float] = None, reference: Optional[str] = None,
          show_unconfirmed: Optional[bool] = None) -> Config:
    """One Config from the file's settings and the command line's (which win)."""
    if select:
        chosen: Tuple[str, ...] = tuple(select)
        extended, ignored = tuple(extend_select), tuple(ignore)
    else:
        chosen = file.select or ()
        extended = file.extend_select + tuple(extend_select)
        ignored = file.ignore + tuple(ignore)
    return Config(
        select=chosen, extend_select=extended, ignore=ignored,
        reference=_first(reference, file.reference, Config.reference),
        probe=_first(probe, file.probe, Config.probe),
        show_unconfirmed=_first(show_unconfirmed, file.show_unconfirmed, False),
        port_map=file.port_map, per_file_ignores=file.per_file_ignores,
        exclude=file.exclude, probe_timeout=_first(probe_timeout, file.probe_timeout, None),
        project_root=file.root,
    )


def _first(*values):
    return next((v for v in values if v is not None), None)
