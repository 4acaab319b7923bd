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
NAMES = "matching enclosing names"
SHARED = "same scope and shared constant names"
ORDER = "source order only"
_STRONG = (FLOW, NAMES, SHARED)


@dataclass(frozen=True)
class Pair:
    source: Site
    port: Site
    evidence: str

    @property
    def weak(self) -> bool:
        return self.evidence not in _STRONG


_FRAMEWORK_WORDS = ("pytorch", "torch", "pt", "tensorflow", "tf", "keras", "jax", "flax",
                    "nnx", "linen", "np", "numpy")
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
    # 2. Same normalized scope, matched in order.
    by_scope: Dict[Tuple[str, ...], List[Site]] = {}
    for source in sources:
        by_scope.setdefault(scope_key(source.scope), []).append(source)
    port_groups: Dict[Tuple[str, ...], List[Site]] = {}
    for port in ports:
        if id(port) not in used:
            port_groups.setdefault(scope_key(port.scope), []).append(port)
    for key, group in port_groups.items():
        candidates = by_scope.get(key, [])
        pending = list(candidates)
        for port in group:
            match = next((s for s in pending if _compatible(s, port)), None)
            if match is None:
                continue
            pending.remove(match)
            if key and any(part for part in key):
                evidence = NAMES
            else:
                evidence = SHARED if set(match.names) & set(port.names) else ORDER
            pairs.append(Pair(match, port, evidence))
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


def pair_across(files: Dict[str, Sequence[Site]], is_source, is_port) -> List[Pair]:
    """Pairs within each file, then between a port file and its source sibling."""
    pairs: List[Pair] = []
    paired_ports: set = set()
    for path, sites in files.items():
        found = pair_sites([s for s in sites if is_source(s)], [s for s in sites if is_port(s)])
        pairs.extend(found)
        paired_ports.update(id(p.port) for p in found)
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
