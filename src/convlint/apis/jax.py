"""jax.lax convolution APIs (catalog 2.1). All are N-D; without dimension_numbers they
mean NCW/OIW, i.e. torch layout (catalog L05)."""

from . import REQUIRED, ApiSpec

_ROLES = {
    "input": "lhs",
    "weight": "rhs",
    "padding": "padding",
    "dilation": "rhs_dilation",
    "input_dilation": "lhs_dilation",
}

APIS = (
    ApiSpec(
        name="jax.lax.conv_general_dilated",
        framework="jax",
        kind="conv",
        form="functional",
        positional=("lhs", "rhs", "window_strides", "padding", "lhs_dilation", "rhs_dilation",
                    "dimension_numbers", "feature_group_count", "batch_group_count",
                    "precision", "preferred_element_type", "out_sharding"),
        defaults={"lhs": REQUIRED, "rhs": REQUIRED, "window_strides": REQUIRED,
                  "padding": REQUIRED, "lhs_dilation": None, "rhs_dilation": None,
                  "dimension_numbers": None, "feature_group_count": 1,
                  "batch_group_count": 1},
        roles={**_ROLES, "stride": "window_strides", "groups": "feature_group_count",
               "dimension_numbers": "dimension_numbers"},
        data_layout="NCL",
        kernel_layout="OIK",
        rank=None,
    ),
    # Fixed NCW/OIW; the 5th positional is lhs_dilation, input dilation (catalog A05).
    ApiSpec(
        name="jax.lax.conv_with_general_padding",
        framework="jax",
        kind="conv",
        form="functional",
        positional=("lhs", "rhs", "window_strides", "padding", "lhs_dilation", "rhs_dilation",
                    "precision", "preferred_element_type"),
        defaults={"lhs": REQUIRED, "rhs": REQUIRED, "window_strides": REQUIRED,
                  "padding": REQUIRED, "lhs_dilation": REQUIRED, "rhs_dilation": REQUIRED},
        roles={**_ROLES, "stride": "window_strides"},
        data_layout="NCL",
        kernel_layout="OIK",
        rank=None,
    ),
    ApiSpec(
        name="jax.lax.conv",
        framework="jax",
        kind="conv",
        form="functional",
        positional=("lhs", "rhs", "window_strides", "padding", "precision",
                    "preferred_element_type"),
        defaults={"lhs": REQUIRED, "rhs": REQUIRED, "window_strides": REQUIRED,
                  "padding": REQUIRED},
        roles={"input": "lhs", "weight": "rhs", "padding": "padding", "stride": "window_strides"},
        data_layout="NCL",
        kernel_layout="OIK",
        rank=None,
    ),
    # transpose_kernel=False does not flip or swap the kernel (catalog T03).
    ApiSpec(
        name="jax.lax.conv_transpose",
        framework="jax",
        kind="conv_transpose",
        form="functional",
        positional=("lhs", "rhs", "strides", "padding", "rhs_dilation", "dimension_numbers",
                    "transpose_kernel", "precision", "preferred_element_type",
                    "use_consistent_padding"),
        defaults={"lhs": REQUIRED, "rhs": REQUIRED, "strides": REQUIRED, "padding": REQUIRED,
                  "rhs_dilation": None, "dimension_numbers": None, "transpose_kernel": False,
                  "use_consistent_padding": False},
        roles={"input": "lhs", "weight": "rhs", "padding": "padding", "stride": "strides",
               "dilation": "rhs_dilation", "dimension_numbers": "dimension_numbers",
               "transpose_kernel": "transpose_kernel"},
        # Unlike conv_general_dilated, dimension_numbers=None means ('NHC', 'HIO', 'NHC')
        # here: channels-last (measured, jax 0.10).
        data_layout="NLC",
        kernel_layout="KIO",
        rank=None,
    ),
)
