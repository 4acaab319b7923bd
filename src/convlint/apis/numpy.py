"""1-D signal-processing convolutions used as numeric references (catalog A06).

``np.convolve``/``jnp.convolve``/``scipy.signal.convolve`` compute a true convolution
(the taps are reversed); deep-learning "convolutions" are cross-correlations, which
``np.correlate`` computes. Single channel, no layout: data and kernel layouts stay unknown.
"""

from . import REQUIRED, ApiSpec

# No padding, groups or layout roles on purpose: these sites pair with torch convs (for
# CNV503) and every other pair rule must find nothing it knows how to compare. The
# "groups" role names a parameter these functions do not have, so groups stays unknown
# instead of defaulting to 1 (which CNV101 would read as a dense port).
_ROLES = {"input": "a", "weight": "v", "groups": "<none>"}
_SCIPY_ROLES = {"input": "in1", "weight": "in2", "groups": "<none>"}


def _numpy(name: str, mode: str, aliases=(), keyword_only=()) -> ApiSpec:
    return ApiSpec(name=name, framework="numpy", kind="conv", form="functional",
                   positional=("a", "v", "mode"), keyword_only=keyword_only,
                   defaults={"a": REQUIRED, "v": REQUIRED, "mode": mode}, roles=_ROLES,
                   aliases=aliases)


def _scipy(name: str, third: str) -> ApiSpec:
    return ApiSpec(name=name, framework="numpy", kind="conv", form="functional",
                   positional=("in1", "in2", "mode", third),
                   defaults={"in1": REQUIRED, "in2": REQUIRED, "mode": "full"},
                   roles=_SCIPY_ROLES)


_JNP_KW = ("precision", "preferred_element_type")

APIS = (
    _numpy("numpy.convolve", "full", aliases=("numpy.core.numeric.convolve",)),
    _numpy("numpy.correlate", "valid", aliases=("numpy.core.numeric.correlate",)),
    _numpy("jax.numpy.convolve", "full", keyword_only=_JNP_KW),
    _numpy("jax.numpy.correlate", "valid", keyword_only=_JNP_KW),
    _scipy("scipy.signal.convolve", "method"),
    _scipy("scipy.signal.correlate", "method"),
    _scipy("scipy.signal.fftconvolve", "axes"),
    _scipy("scipy.signal.oaconvolve", "axes"),
)

# The ones that reverse the taps: a port of a DL conv through them needs a flip.
TRUE_CONVOLUTIONS = frozenset({"numpy.convolve", "jax.numpy.convolve", "scipy.signal.convolve",
                               "scipy.signal.fftconvolve", "scipy.signal.oaconvolve"})
