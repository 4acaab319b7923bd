"""Small ProbeSpec builders shared by the probe tests (catalog 4.3 sizes)."""

from convlint.probe.spec import ConvCall, ProbeSpec, Side

TO_NLC = (("permute", (0, 2, 1)),)
TORCH_TO_TF = (("permute", (2, 1, 0)),)


def torch_conv(c, o, k, **kw):
    kw.setdefault("padding", (0, 0))  # torch's default padding=0 ("VALID" is not torch)
    return Side(ConvCall("torch", "torch.nn.functional.conv1d", c, o, k, **kw))


def nlc(framework, api, c, o, k, *, kernel_layout="KIO", kernel_ops=TORCH_TO_TF,
        input_ops=TO_NLC, pre_pad=None, **kw):
    """A channels-last port side; by default fed the torch input as (N, L, C)."""
    call = ConvCall(framework, api, c, o, k, data_layout="NLC", kernel_layout=kernel_layout, **kw)
    return Side(call, kernel_ops=kernel_ops, input_ops=input_ops, pre_pad=pre_pad)


def seed_spec(out_channels, lengths=(9,)):
    """The originating question: depthwise causal torch conv, dense TF port (catalog §1)."""
    c, k, causal = 2, 3, (2, 0, "constant")
    source = Side(torch_conv(c, out_channels, k, groups=2).call, pre_pad=causal)
    port = nlc("tensorflow", "tensorflow.nn.conv1d", c, out_channels, k,
               kernel_ops=TORCH_TO_TF + (("tile", (1, 2, 1)),), pre_pad=causal)
    # TF infers groups = C / filter in-dim, so the grouped filter is the fix (catalog G02).
    fix = nlc("tensorflow", "tensorflow.nn.conv1d", c, out_channels, k, pre_pad=causal)
    return ProbeSpec("CNV101", source, port, fix, lengths=lengths, groups_hint=2)


def torch_vs_torch(rule="CNV000", **kw):
    """A trivially correct pair on the cheapest worker."""
    return ProbeSpec(rule, torch_conv(3, 5, 4), torch_conv(3, 5, 4), **kw)
