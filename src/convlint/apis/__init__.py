"""Framework API knowledge as data: one table per framework, read by generic code.

A new convolution API is a new row (an :class:`ApiSpec`), never a branch in a visitor.
Signatures, positional order and defaults follow catalog section 2.1 (measured with
``inspect.signature``; see shared/reference/results/signatures.txt).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Tuple

REQUIRED = object()  # marks a parameter with no default


@dataclass(frozen=True)
class ApiSpec:
    """One convolution API.

    ``positional`` is the order in which arguments may be passed positionally;
    ``keyword_only`` lists the parameters that can only be named. ``defaults`` gives the
    value of every absent parameter the rules care about. ``roles`` maps neutral
    concepts ("input", "weight", "in_channels", "groups", ...) to this API's parameter
    name. ``rank`` is 1 for 1-D-only APIs and None for N-D APIs (flax ``Conv``,
    ``lax.conv_general_dilated``) whose dimensionality is read from the arguments.
    """

    name: str
    framework: str
    kind: str  # spec.CONV, CONV_TRANSPOSE, DEPTHWISE, SEPARABLE
    form: str  # "functional" (computes now) or "layer" (constructs a layer)
    positional: Tuple[str, ...]
    keyword_only: Tuple[str, ...] = ()
    defaults: Mapping[str, object] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)
    data_layout: Optional[str] = None  # default layout; None when a parameter decides
    kernel_layout: Optional[str] = None
    rank: Optional[int] = 1
    aliases: Tuple[str, ...] = ()
    accepts_var_kwargs: bool = False  # Keras layers accept **kwargs and reject unknown ones

    @property
    def parameters(self) -> Tuple[str, ...]:
        return self.positional + self.keyword_only


def _index(*tables: Tuple[ApiSpec, ...]) -> Dict[str, ApiSpec]:
    out: Dict[str, ApiSpec] = {}
    for table in tables:
        for api in table:
            for name in (api.name,) + api.aliases:
                out[name] = api
    return out


def _load() -> Dict[str, ApiSpec]:
    from . import flax, jax, keras, numpy, tensorflow, torch

    return _index(torch.APIS, tensorflow.APIS, keras.APIS, jax.APIS, flax.APIS, numpy.APIS)


APIS_BY_NAME: Dict[str, ApiSpec] = _load()

# Module prefixes that are the same objects under another name. ``tf.keras`` is Keras 3
# in TF 2.16+ (catalog 4.1); ``tf_keras`` is the Keras 2 package with the same layer API.
_PREFIX_ALIASES = (
    ("tensorflow.python.keras.", "keras."),
    ("tensorflow.keras.", "keras."),
    ("tensorflow.compat.v2.", "tensorflow."),
    ("tf_keras.", "keras."),
    ("keras.api.", "keras."),
    ("keras.src.", "keras."),
)


def canonical(qualified_name: str) -> str:
    dotted = qualified_name + "."  # so a bare root ("tf_keras") maps like its members
    for prefix, target in _PREFIX_ALIASES:
        if dotted.startswith(prefix):
            return (target + dotted[len(prefix):])[:-1]
    return qualified_name


def lookup(qualified_name: str) -> Optional[ApiSpec]:
    return APIS_BY_NAME.get(canonical(qualified_name))


# Root modules whose import makes a file worth parsing at all (prefilter vocabulary).
FRAMEWORK_ROOTS = ("torch", "tensorflow", "keras", "tf_keras", "jax", "flax")
