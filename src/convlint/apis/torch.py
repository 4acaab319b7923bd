"""PyTorch 1-D convolution APIs (catalog 2.1). Data layout is always (N, C, L)."""

from . import REQUIRED, ApiSpec

_FUNCTIONAL_ROLES = {
    "input": "input",
    "weight": "weight",
    "bias": "bias",
    "stride": "stride",
    "padding": "padding",
    "dilation": "dilation",
    "groups": "groups",
}
_LAYER_ROLES = {
    "in_channels": "in_channels",
    "out_channels": "out_channels",
    "kernel_size": "kernel_size",
    "stride": "stride",
    "padding": "padding",
    "dilation": "dilation",
    "groups": "groups",
    "bias": "bias",
    "padding_mode": "padding_mode",
}

APIS = (
    ApiSpec(
        name="torch.nn.functional.conv1d",
        aliases=("torch.conv1d",),
        framework="torch",
        kind="conv",
        form="functional",
        positional=("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
        defaults={"input": REQUIRED, "weight": REQUIRED, "bias": None, "stride": 1,
                  "padding": 0, "dilation": 1, "groups": 1},
        roles=_FUNCTIONAL_ROLES,
        data_layout="NCL",
        kernel_layout="OIK",
    ),
    # The 6th positional is output_padding, not dilation (catalog T05).
    ApiSpec(
        name="torch.nn.functional.conv_transpose1d",
        aliases=("torch.conv_transpose1d",),
        framework="torch",
        kind="conv_transpose",
        form="functional",
        positional=("input", "weight", "bias", "stride", "padding", "output_padding",
                    "groups", "dilation"),
        defaults={"input": REQUIRED, "weight": REQUIRED, "bias": None, "stride": 1,
                  "padding": 0, "output_padding": 0, "groups": 1, "dilation": 1},
        roles={**_FUNCTIONAL_ROLES, "output_padding": "output_padding"},
        data_layout="NCL",
        kernel_layout="IOK",
    ),
    ApiSpec(
        name="torch.nn.Conv1d",
        aliases=("torch.nn.modules.conv.Conv1d", "torch.nn.modules.Conv1d"),
        framework="torch",
        kind="conv",
        form="layer",
        positional=("in_channels", "out_channels", "kernel_size", "stride", "padding",
                    "dilation", "groups", "bias", "padding_mode", "device", "dtype"),
        defaults={"in_channels": REQUIRED, "out_channels": REQUIRED, "kernel_size": REQUIRED,
                  "stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True,
                  "padding_mode": "zeros"},
        roles=_LAYER_ROLES,
        data_layout="NCL",
        kernel_layout="OIK",
    ),
    # groups is the 7th positional and dilation the 9th (catalog T05).
    ApiSpec(
        name="torch.nn.ConvTranspose1d",
        aliases=("torch.nn.modules.conv.ConvTranspose1d", "torch.nn.modules.ConvTranspose1d"),
        framework="torch",
        kind="conv_transpose",
        form="layer",
        positional=("in_channels", "out_channels", "kernel_size", "stride", "padding",
                    "output_padding", "groups", "bias", "dilation", "padding_mode",
                    "device", "dtype"),
        defaults={"in_channels": REQUIRED, "out_channels": REQUIRED, "kernel_size": REQUIRED,
                  "stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "bias": True,
                  "dilation": 1, "padding_mode": "zeros"},
        roles={**_LAYER_ROLES, "output_padding": "output_padding"},
        data_layout="NCL",
        kernel_layout="IOK",
    ),
)
