"""Flax linen and nnx convolution layers (catalog 2.1, F01). N-D: the rank comes from
kernel_size (an int or a 1-tuple means 1-D). Default padding is 'SAME' (catalog P06);
data is channels-last; kernels are (K, I/g, O), transposed kernels (K, I, O) unflipped."""

from . import REQUIRED, ApiSpec

_LINEN_ROLES = {
    "out_channels": "features",
    "kernel_size": "kernel_size",
    "stride": "strides",
    "padding": "padding",
    "dilation": "kernel_dilation",
    "input_dilation": "input_dilation",
    "groups": "feature_group_count",
    "bias": "use_bias",
}
_NNX_ROLES = {**_LINEN_ROLES, "in_channels": "in_features", "out_channels": "out_features"}
_COMMON_DEFAULTS = {"strides": 1, "padding": "SAME", "input_dilation": 1, "kernel_dilation": 1,
                    "feature_group_count": 1, "use_bias": True}
_KW = ("mask", "dtype", "param_dtype", "precision", "kernel_init", "bias_init",
       "promote_dtype", "preferred_element_type", "name", "parent", "rngs",
       "conv_general_dilated", "conv_general_dilated_cls", "kernel_metadata", "bias_metadata")

APIS = (
    ApiSpec(
        name="flax.linen.Conv",
        aliases=("flax.linen.linear.Conv",),
        framework="flax",
        kind="conv",
        form="layer",
        positional=("features", "kernel_size", "strides", "padding", "input_dilation",
                    "kernel_dilation", "feature_group_count", "use_bias"),
        keyword_only=_KW,
        defaults={"features": REQUIRED, "kernel_size": REQUIRED, **_COMMON_DEFAULTS},
        roles=_LINEN_ROLES,
        data_layout="NLC",
        kernel_layout="KIO",
        rank=None,
    ),
    ApiSpec(
        name="flax.linen.ConvTranspose",
        aliases=("flax.linen.linear.ConvTranspose",),
        framework="flax",
        kind="conv_transpose",
        form="layer",
        positional=("features", "kernel_size", "strides", "padding", "kernel_dilation",
                    "use_bias"),
        keyword_only=_KW + ("transpose_kernel",),
        defaults={"features": REQUIRED, "kernel_size": REQUIRED, "strides": None,
                  "padding": "SAME", "kernel_dilation": None, "use_bias": True,
                  "transpose_kernel": False},
        roles={**_LINEN_ROLES, "transpose_kernel": "transpose_kernel"},
        data_layout="NLC",
        kernel_layout="KIO",
        rank=None,
    ),
    # Keyword-only after strides.
    ApiSpec(
        name="flax.nnx.Conv",
        aliases=("flax.nnx.nn.linear.Conv",),
        framework="flax",
        kind="conv",
        form="layer",
        positional=("in_features", "out_features", "kernel_size", "strides"),
        keyword_only=("padding", "input_dilation", "kernel_dilation", "feature_group_count",
                      "use_bias") + _KW,
        defaults={"in_features": REQUIRED, "out_features": REQUIRED, "kernel_size": REQUIRED,
                  **_COMMON_DEFAULTS},
        roles=_NNX_ROLES,
        data_layout="NLC",
        kernel_layout="KIO",
        rank=None,
    ),
    ApiSpec(
        name="flax.nnx.ConvTranspose",
        aliases=("flax.nnx.nn.linear.ConvTranspose",),
        framework="flax",
        kind="conv_transpose",
        form="layer",
        positional=("in_features", "out_features", "kernel_size", "strides"),
        keyword_only=("padding", "kernel_dilation", "use_bias", "transpose_kernel") + _KW,
        defaults={"in_features": REQUIRED, "out_features": REQUIRED, "kernel_size": REQUIRED,
                  "strides": None, "padding": "SAME", "kernel_dilation": None,
                  "use_bias": True, "transpose_kernel": False},
        roles={**_NNX_ROLES, "transpose_kernel": "transpose_kernel"},
        data_layout="NLC",
        kernel_layout="KIO",
        rank=None,
    ),
)
