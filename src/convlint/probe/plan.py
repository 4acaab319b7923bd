"""Findings -> probe specifications, from the inferred numbers alone.

A planner per rule turns the finding's evidence (a Pair of sites, or one Site, with
their ConvSpecs) into a ProbeSpec: the source conv, the port as written and the
suggested fix, with sizes taken from the user's code where known (that is where silent
cases live: C == O, O == K) and chosen otherwise, pairwise distinct and consistent with
the groups (catalog 4.3). Planners live in ``convlint.probe.plans``, one module per rule
family, and register themselves with :func:`planner`.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple, Union

from ..findings import Finding
from ..pairing import Pair
from ..spec import ConvSpec
from ..spec import Site
from .spec import ConvCall, ProbeSpec

# Probes never allocate more than a few MB, whatever the code says (a channel count
# of 10**9 in the source is a fact about the source, not a size to allocate).
MAX_DIM = 256
TO_NLC = (("permute", (0, 2, 1)),)
TORCH_TO_KIO = (("permute", (2, 1, 0)),)

_PORT_APIS = {
    "tensorflow": "tensorflow.nn.conv1d",
    "keras": "keras.layers.Conv1D",
    "jax": "jax.lax.conv_general_dilated",
    "flax": "flax.linen.Conv",
}


def size(value: Optional[int], default: int) -> int:
    if value is None or value < 1 or value > MAX_DIM:
        return default
    return value


def grouped_sizes(source: ConvSpec, groups: int) -> Tuple[int, int, int]:
    """(C, O, K): the user's where known, else distinct values divisible by groups."""
    c = size(source.in_channels, groups * 2 if groups * 2 <= MAX_DIM else groups)
    o = size(source.out_channels, groups * 3 if groups * 3 <= MAX_DIM else groups)
    k = size(source.kernel_size, 4)
    if c % groups or o % groups:
        c, o = groups * 2, groups * 3
    return c, o, k


def length(c: int, o: int, k: int, dilation: int) -> int:
    length = max(9, dilation * (k - 1) + 2)
    while length in (c, o, k):
        length += 1
    return length


def port_call(framework: str, c: int, o: int, k: int, groups: int, stride: int,
               dilation: int) -> Optional[ConvCall]:
    api = _PORT_APIS.get(framework)
    if api is None:
        return None
    padding = "valid" if framework == "keras" else "VALID"
    dimension_numbers = ("NWC", "WIO", "NWC") if framework == "jax" else None
    return ConvCall(framework, api, c, o, k, stride=stride, dilation=dilation, groups=groups,
                    padding=padding, data_layout="NLC", kernel_layout="KIO",
                    dimension_numbers=dimension_numbers)


Evidence = Union[Pair, Site]
Planner = Callable[[Evidence], Optional[ProbeSpec]]
_PLANNERS: Dict[str, Planner] = {}


def planner(code: str) -> Callable[[Planner], Planner]:
    """Register the probe planner of one rule code."""

    def decorate(func: Planner) -> Planner:
        _PLANNERS[code] = func
        return func

    return decorate


def has_recipe(code: str) -> bool:
    return code in _PLANNERS


def plan(finding: Finding) -> Optional[ProbeSpec]:
    planner_ = _PLANNERS.get(finding.code)
    if planner_ is None or not finding.evidence:
        return None
    return planner_(finding.evidence[0])


from . import plans  # noqa: E402,F401  (registers the planners; they import the helpers above)
