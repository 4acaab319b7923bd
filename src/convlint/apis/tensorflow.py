"""tf.nn 1-D convolution APIs (catalog 2.1). No groups argument: TF infers groups
from the filter's in-dim (catalog G02). Default data layout NWC."""

from . import REQUIRED, ApiSpec

_ROLES = {
    "input": "input",
    "weight": "filters",
    "padding": "padding",
    "data_format": "data_format",
    "dilation": "dilations",
}

APIS = (
    # stride and padding are required (catalog A02); keyword is `stride`, singular.
    ApiSpec(
        name="tensorflow.nn.conv1d",
        framework="tensorflow",
        kind="conv",
        form="functional",
        positional=("input", "filters", "stride", "padding", "data_format", "dilations", "name"),
        defaults={"input": REQUIRED, "filters": REQUIRED, "stride": REQUIRED,
                  "padding": REQUIRED, "data_format": "NWC", "dilations": None},
        roles={**_ROLES, "stride": "stride"},
        kernel_layout="KIO",
    ),
    ApiSpec(
        name="tensorflow.nn.convolution",
        framework="tensorflow",
        kind="conv",
        form="functional",
        positional=("input", "filters", "strides", "padding", "data_format", "dilations", "name"),
        defaults={"input": REQUIRED, "filters": REQUIRED, "strides": None, "padding": "VALID",
                  "data_format": None, "dilations": None},
        roles={**_ROLES, "stride": "strides"},
        kernel_layout="KIO",
        rank=None,
    ),
    # Default padding is 'SAME' here, unlike every other tf.nn conv (catalog 4.1).
    ApiSpec(
        name="tensorflow.nn.conv1d_transpose",
        framework="tensorflow",
        kind="conv_transpose",
        form="functional",
        positional=("input", "filters", "output_shape", "strides", "padding", "data_format",
                    "dilations", "name"),
        defaults={"input": REQUIRED, "filters": REQUIRED, "output_shape": REQUIRED,
                  "strides": REQUIRED, "padding": "SAME", "data_format": "NWC",
                  "dilations": None},
        roles={**_ROLES, "stride": "strides"},
        kernel_layout="KOI",
    ),
)
