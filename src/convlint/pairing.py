"""Match a source convolution (torch by default) with its port in another framework.

Evidence, strongest first (shared/hazards.md "Pairing"): weight-transfer flow, an
explicit ``# convlint: port-of`` marker or mapping, matching enclosing names in one file
(``smooth_torch``/``smooth_tf``, ``Foo``/``TFFoo``), sibling files by convention
(``modeling_x.py``/``modeling_tf_x.py``, ``x_torch.py``/``x_tf.py``, ``torch/``/``tf/``).
Weak evidence (order alone, no shared names) never yields an error-severity finding.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from .spec import CONV, CONV_TRANSPOSE, ConvSpec, Site

FLOW = "weight flow"
EXPLICIT = "port-of marker or port-map"
NAMES = "matching enclosing names"
INSTANCE = "matching names where the enclosing class is instantiated"
SHARED = "same scope and shared constant names"
ORDER = "source order only"
_STRONG = (FLOW, EXPLICIT, NAMES, INSTANCE, SHARED)
# Frameworks whose calls are numeric references rather than ports (np.convolve):
# they pair with a source without taking it from the real port.
REFERENCE_FRAMEWORKS = ("numpy",)


@dataclass(frozen=True)
class Pair:
    source: Site
    port: Site
    evidence: str

    @property
    def weak(self) -> bool:
        return self.evidence not in _STRONG


_FRAMEWORK_WORDS = ("pytorch", "torch", "pt", "tensorflow", "tf", "keras", "jax", "flax",
                    "nnx", "linen", "np", "numpy", "jnp", "scipy")
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|$|\d|_)|[A-Z]?[a-z]+|\d+")


# Methods whose name differs between frameworks for the same role: a layer built in
# torch's __init__ may be built in Keras' build or flax's compact __call__.
_LAYER_METHODS = {"__init__", "forward", "call", "__call__", "build", "setup"}


def scope_key(scope: Sequence[str]) -> Tuple[str, ...]:
    """Enclosing names with framework markers removed: TFFoo -> foo, smooth_tf -> smooth."""
    names = list(scope)
    if len(names) > 1 and names[-1] in _LAYER_METHODS:
        names.pop()
    return tuple(_normalize(name) for name in names)


def _normalize(name: str) -> str:
    words = [w.lower() for w in _WORD.findall(name)]
    kept = [w for w in words if w not in _FRAMEWORK_WORDS]
    return "_".join(kept) or name.lower()


def _compatible(a: Site, b: Site) -> bool:
    return (a.spec.kind == CONV_TRANSPOSE) == (b.spec.kind == CONV_TRANSPOSE)


def pair_sites(sources: Sequence[Site], ports: Sequence[Site]) -> List[Pair]:
    """Pair sites of one file, or of two sibling files, in order within matching scopes."""
    pairs: List[Pair] = []
    used: set = set()
    # 1. Weight flow: the port's kernel comes from a source layer's weight.
    for port in ports:
        origin = port.spec.weight.origin if port.spec.weight is not None else ""
        for source in sources:
            if origin.startswith(f"{source.path}:{source.span.line}.") and _compatible(source, port):
                pairs.append(Pair(source, port, FLOW))
                used.add(id(port))
                break
    # 2. Same normalized scope, matched in order. A torch layer whose weight only feeds a
    # functional conv of the source (``F.conv1d(F.pad(x, ...), self.conv.weight)``) is a
    # weight container: the functional call is the conv to pair.
    by_scope: Dict[Tuple[str, ...], List[Site]] = {}
    for source in sources:
        if _feeds_another_source(source, sources):
            continue
        by_scope.setdefault(scope_key(source.scope), []).append(source)
    port_groups: Dict[Tuple[str, ...], List[Site]] = {}
    for port in ports:
        if id(port) not in used:
            port_groups.setdefault(scope_key(port.scope), []).append(port)
    unmatched: List[Site] = []
    taken: set = set()
    for key, group in port_groups.items():
        candidates = by_scope.get(key, [])
        pending = list(candidates)
        # Several sources and a different number of ports in one unnamed scope (a script
        # measuring many variants): matching them in order is a guess, whatever names they share.
        ambiguous = len(candidates) > 1 and len(candidates) != len(group)
        for port in group:
            match = next((s for s in pending if _compatible(s, port)), None)
            if match is None:
                unmatched.append(port)
                continue
            pending.remove(match)
            taken.add(id(match))
            if key and any(part for part in key):
                evidence = NAMES
            else:
                shared = set(match.names) & set(port.names)
                # Any DL conv is a cross-correlation: a numeric reference (np.convolve)
                # does not need its exact source.
                guess = ambiguous and port.spec.framework not in REFERENCE_FRAMEWORKS
                evidence = SHARED if shared and not guess else ORDER
            pairs.append(Pair(match, port, evidence))
    pairs.extend(_pair_through_instances(sources, unmatched, taken))
    return pairs


def _feeds_another_source(site: Site, sources: Sequence[Site]) -> bool:
    label = f"{site.path}:{site.span.line}."
    return any(other is not site and other.spec.weight is not None and
               other.spec.weight.origin.startswith(label) for other in sources)


def _instance_keys(site: Site) -> List[Tuple[str, ...]]:
    """Scope keys of the places that instantiate the site's class, when that is named
    (a conv subclass built in TFFooEmbedding.__init__, convbert's SeparableConv1D)."""
    return [k for k in (scope_key(s) for s in site.call.used_in) if any(k)]


def _pair_through_instances(sources: Sequence[Site], ports: Sequence[Site],
                            taken: set) -> List[Pair]:
    """A port left unmatched may live in (or be) a class that is instantiated in a scope
    whose name matches its source's scope or the source class' instantiating scope."""
    pairs: List[Pair] = []
    for port in ports:
        port_keys = {scope_key(port.scope), *_instance_keys(port)}
        for source in sources:
            if id(source) in taken or not _compatible(source, port):
                continue
            source_keys = {scope_key(source.scope), *_instance_keys(source)}
            if port_keys & source_keys - {()}:
                taken.add(id(source))
                pairs.append(Pair(source, port, INSTANCE))
                break
    return pairs


# --- explicit pairing: port-of markers and the port-map ----------------------------------

def _path_matches(path: str, wanted: str, base_dir: str = "") -> bool:
    """``wanted`` is relative to ``base_dir`` (a marker's own directory) when that file
    exists among the checked ones, else to the project root: any checked path that
    ends with it."""
    path = os.path.normpath(path)
    if base_dir and path == os.path.normpath(os.path.join(base_dir, wanted)):
        return True
    wanted = os.path.normpath(wanted)
    return path == wanted or path.endswith(os.sep + wanted)


def _in_named_scope(site: Site, name: str) -> bool:
    """``Foo``, ``Foo.__init__`` or ``smooth`` names a scope enclosing the site."""
    if not name:
        return True
    parts = tuple(name.split("."))
    scopes = (site.scope,) + site.call.used_in
    return any(scope[i:i + len(parts)] == parts
               for scope in scopes for i in range(len(scope) - len(parts) + 1))


def _split_target(target: str) -> Tuple[str, str]:
    path, _, name = target.partition("::")
    return path, name


def _sources_named(target: str, base_path: str, files: Dict[str, Sequence[Site]],
                   is_source) -> List[Site]:
    path, name = _split_target(target)
    base_dir = os.path.dirname(base_path)
    exact = [p for p in files if path and os.path.normpath(p) == os.path.normpath(
        os.path.join(base_dir, path))]
    chosen = exact or [p for p in files if (_path_matches(p, path) if path else p == base_path)]
    return [s for p in chosen for s in files[p] if is_source(s) and _in_named_scope(s, name)]


def pair_explicit(files: Dict[str, Sequence[Site]], is_source, is_port,
                  port_map: Sequence[Tuple[str, str]] = ()) -> List[Pair]:
    """Ports that carry a ``# convlint: port-of`` marker or match a port-map entry, paired
    in source order with the convs of the named source function or class."""
    groups: Dict[Tuple[str, str], List[Site]] = {}
    targets: Dict[Tuple[str, str], List[Site]] = {}
    for path, sites in files.items():
        for port in sites:
            if not is_port(port) or port.spec.framework in REFERENCE_FRAMEWORKS:
                continue
            target = port.call.port_of
            if target is not None:
                key = (path, target)
                if key not in targets:
                    targets[key] = _sources_named(target, path, files, is_source)
                groups.setdefault(key, []).append(port)
                continue
            for port_spec, source_spec in port_map:
                port_path, port_name = _split_target(port_spec)
                if _path_matches(path, port_path) and _in_named_scope(port, port_name):
                    key = ("", source_spec)
                    if key not in targets:
                        targets[key] = _sources_named(source_spec, "", files, is_source)
                    groups.setdefault(key, []).append(port)
                    break
    pairs: List[Pair] = []
    for key, ports in groups.items():
        pending = list(targets.get(key, ()))
        for port in ports:
            match = next((s for s in pending if _compatible(s, port)), None)
            if match is not None:
                pending.remove(match)
                pairs.append(Pair(match, port, EXPLICIT))
    return pairs


# --- sibling files by convention ------------------------------------------------------------

_SUFFIXES = ("torch", "pt", "pytorch")
_PORT_SUFFIXES = ("tf", "keras", "jax", "flax", "tensorflow")
_DIRS = {"torch": ("tf", "tensorflow", "keras", "jax", "flax"), "pytorch": ("tf", "tensorflow", "keras", "jax", "flax")}


def sibling_sources(path: str) -> List[str]:
    """Candidate paths of the source file that ``path`` (a port) was ported from."""
    directory, base = os.path.split(path)
    stem, ext = os.path.splitext(base)
    out: List[str] = []
    # modeling_tf_x.py / modeling_flax_x.py -> modeling_x.py
    match = re.match(r"^(.*?)_(tf|flax|jax|keras)_(.+)$", stem)
    if match:
        out.append(os.path.join(directory, f"{match.group(1)}_{match.group(3)}{ext}"))
    # x_tf.py -> x_torch.py / x_pt.py / x.py
    match = re.match(r"^(.+)_(" + "|".join(_PORT_SUFFIXES) + r")$", stem)
    if match:
        for suffix in _SUFFIXES:
            out.append(os.path.join(directory, f"{match.group(1)}_{suffix}{ext}"))
    # tf/x.py -> torch/x.py
    parent, leaf = os.path.split(directory)
    if leaf in _PORT_SUFFIXES or leaf == "tensorflow":
        for name in ("torch", "pytorch", "pt"):
            out.append(os.path.join(parent, name, base))
    return out


def pair_across(files: Dict[str, Sequence[Site]], is_source, is_port,
                port_map: Sequence[Tuple[str, str]] = ()) -> List[Pair]:
    """Pairs within each file, then between a port file and its source sibling.

    Explicit pairs (markers, port-map) come first, except for ports whose kernel flows
    from a source (the strongest evidence); numeric references (np.convolve) pair
    last and never take a source away from a port."""
    any_port = is_port

    def references(site: Site) -> bool:
        return any_port(site) and site.spec.framework in REFERENCE_FRAMEWORKS

    def real_port(site: Site) -> bool:
        return any_port(site) and site.spec.framework not in REFERENCE_FRAMEWORKS

    pairs: List[Pair] = [p for p in pair_explicit(files, is_source, any_port, port_map)
                         if not _has_flow(p.port, files, is_source)]
    paired_ports: set = {id(p.port) for p in pairs}
    for path, sites in files.items():
        found = pair_sites([s for s in sites if is_source(s)],
                           [s for s in sites if real_port(s) and id(s) not in paired_ports])
        pairs.extend(found)
        paired_ports.update(id(p.port) for p in found)
    for path, sites in files.items():
        sources = [s for s in sites if is_source(s)]
        for reference in (s for s in sites if references(s) and id(s) not in paired_ports):
            found = pair_sites(sources, [reference])
            pairs.extend(found)
            paired_ports.update(id(p.port) for p in found)
    is_port = real_port
    # Weights read from a checkpoint flow from a torch conv that is not in the code.
    for sites in files.values():
        pairs.extend(Pair(loaded_source(s), s, FLOW) for s in sites
                     if is_port(s) and loaded_weight(s))
    normalized = {os.path.normpath(p): p for p in files}
    for path, sites in files.items():
        ports = [s for s in sites if is_port(s) and id(s) not in paired_ports]
        if not ports:
            continue
        for candidate in sibling_sources(path):
            source_path = normalized.get(os.path.normpath(candidate))
            if source_path is None or source_path == path:
                continue
            sources = [s for s in files[source_path] if is_source(s)]
            found = pair_sites(sources, ports)
            pairs.extend(found)
            paired_ports.update(id(p.port) for p in found)
            ports = [s for s in ports if id(s) not in paired_ports]
            if not ports:
                break
    return pairs


def _has_flow(port: Site, files: Dict[str, Sequence[Site]], is_source) -> bool:
    origin = port.spec.weight.origin if port.spec.weight is not None else ""
    return bool(origin) and any(origin.startswith(f"{s.path}:{s.span.line}.")
                                for sites in files.values() for s in sites if is_source(s))


# --- weights read from a checkpoint -----------------------------------------------------------

CHECKPOINT_ORIGINS = ("torch.load[", "state_dict[")
CHECKPOINT_API = "torch.load"


def loaded_weight(port: Site) -> bool:
    weight = port.spec.weight
    return weight is not None and weight.origin.startswith(CHECKPOINT_ORIGINS)


def loaded_source(port: Site) -> Site:
    """The torch conv a checkpoint weight came from: only its layout is known (sizes None).

    It stands at the port's own location, since the conv itself is not in the code.
    """
    transposed = port.spec.kind == CONV_TRANSPOSE
    spec = ConvSpec(framework="torch", api=CHECKPOINT_API,
                    kind=CONV_TRANSPOSE if transposed else CONV, form="functional",
                    kernel_layout="IOK" if transposed else "OIK")
    return Site(port.path, port.span, spec, port.scope, port.order)
