"""Probe worker: executes convolution calls for one framework family in its own process.

    python -m convlint.probe.worker FRAMEWORK   (torch, tensorflow, keras, jax, flax, numpy)

One worker serves a framework's whole family: the tensorflow worker also runs "keras"
calls and the jax worker "flax" calls, so they share their expensive imports.
Frameworks are imported lazily, on a "load" request, and only here: the linter process
never imports them.

Protocol, one JSON object per line on stdin, one reply line per request on stdout:

    {"op": "load", "framework": "keras"}
        -> {"ok": true, "version": "3.15.1"} | {"unavailable": "ModuleNotFoundError: ..."}
    {"op": "conv", "rule": "CNV101", "call": {ConvCall fields}, "x": NPY, "weight": NPY,
     "bias": NPY or null}
        -> {"ok": true, "y": NPY} | {"error": "Type: first line of the message"}

NPY is the base64 text of ``np.save`` bytes. The call's output is returned exactly in
its own data layout (after ``output_crop``); the runner normalizes layouts.

How ConvCall fields reach each API: every value is given to the API the way its users
write it, so that wrong spellings fail with the API's own error (a lower-case "same" to
tf.nn, "SAME" to torch, an explicit pair to tf.nn.conv1d). An explicit (left, right)
pair becomes the API's explicit form where it has one (lax/flax [(l, r)], torch's
symmetric int, TF's per-axis list); torch has no asymmetric form, so torch code pads
with F.pad before a padding-0 conv (conv) or crops the output (transposed conv). Fields
an API has no parameter for are ignored: tf.nn infers groups from the filter shape.

pre_pad and the view operations are applied by the runner with numpy before a request.

Environment (set by the runner): CONVLINT_PROBE_MEMORY_MB caps the worker's data
segment. CONVLINT_PROBE_TEST_SLEEP="RULE=SECONDS" is a TEST-ONLY hook: the worker
sleeps SECONDS before each conv request whose rule is RULE, to exercise timeouts.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import os
import re
import resource
import sys
import time
from typing import Callable, Dict, Optional

import numpy as np

from convlint.probe.spec import ConvCall

FAMILIES = {
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "keras"),
    "jax": ("jax", "flax"),
    "numpy": ("numpy",),
}
FAMILY_OF = {fw: family for family, fws in FAMILIES.items() for fw in fws}

# What "load" imports per framework; the first module's __version__ is reported.
_IMPORTS = {
    "torch": ("torch", "torch.nn.functional"),
    "tensorflow": ("tensorflow",),
    "keras": ("keras", "tensorflow"),
    "jax": ("jax", "jax.numpy"),
    "flax": ("flax", "flax.linen", "jax.numpy"),
    "numpy": ("numpy",),
}

Array = np.ndarray
ConvFn = Callable[[ConvCall, Array, Array, Optional[Array]], object]


# ---------------------------------------------------------------- encoding


def encode(array: Array) -> str:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode(text: str) -> Array:
    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


def error_text(exc: BaseException) -> str:
    """``Type: first line``, without TF's ``{{function_node ...}}`` op-trace prefix."""
    message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", str(exc)).strip()
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first[:300]}"


def call_from_json(data: dict) -> ConvCall:
    pairs = ("padding", "dimension_numbers", "output_crop", "verbatim")
    fixed = {k: tuple(v) if k in pairs and isinstance(v, list) else v for k, v in data.items()}
    return ConvCall(**fixed)


# ---------------------------------------------------------------- layout helpers


def _length_axis(call: ConvCall, ndim: int) -> int:
    # Counted from the end so unbatched (rank-2) arrays work as well.
    return ndim - 1 if call.data_layout == "NCL" else ndim - 2


def _channel_axis(call: ConvCall, ndim: int) -> int:
    return ndim - 2 if call.data_layout == "NCL" else ndim - 1


def _add_bias(call: ConvCall, y, bias: Optional[Array]):
    if bias is None:
        return y
    shape = [1] * y.ndim
    shape[_channel_axis(call, y.ndim)] = -1
    return y + bias.reshape(shape)


def _explicit(call: ConvCall) -> bool:
    return not isinstance(call.padding, str)


def _crop(call: ConvCall, y: Array) -> Array:
    if call.output_crop is None:
        return y
    index = [slice(None)] * y.ndim
    index[_length_axis(call, y.ndim)] = slice(*call.output_crop)
    return y[tuple(index)]


def _to_numpy(y) -> Array:
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    return np.asarray(y, dtype=np.float32)


# ---------------------------------------------------------------- torch


def _torch_conv1d(call, x, w, b):
    import torch
    import torch.nn.functional as F

    xt = torch.from_numpy(x)
    padding = call.padding
    if call.padding_mode != "zeros" and (_explicit(call) or padding in ("same", "valid")):
        # nn.Conv1d pads with F.pad(mode=padding_mode) and then convolves with padding 0.
        xt = F.pad(xt, _torch_pad_pair(call), mode=call.padding_mode)
        padding = 0
    elif _explicit(call):
        left, right = padding
        if left != right:
            xt, padding = F.pad(xt, (left, right)), 0
        else:
            padding = left
    return F.conv1d(
        xt, torch.from_numpy(w), None if b is None else torch.from_numpy(b),
        stride=call.stride, padding=padding, dilation=call.dilation, groups=call.groups,
    )


def _torch_pad_pair(call: ConvCall):
    if _explicit(call):
        return tuple(call.padding)
    if call.padding == "valid":
        return (0, 0)
    total = call.dilation * (call.kernel_size - 1)  # "same": nn.Conv1d puts the odd one right
    return (total // 2, total - total // 2)


def _torch_conv_transpose1d(call, x, w, b):
    import torch
    import torch.nn.functional as F

    if call.padding_mode != "zeros":
        raise ValueError('Only "zeros" padding mode is supported for ConvTranspose1d')
    padding, crop = call.padding, (0, 0)
    if _explicit(call):
        left, right = call.padding
        padding, crop = (left, (0, 0)) if left == right else (0, (left, right))
    y = F.conv_transpose1d(
        torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
        stride=call.stride, padding=padding, output_padding=call.output_padding or 0,
        groups=call.groups, dilation=call.dilation,
    )
    return y[..., crop[0]: y.shape[-1] - crop[1]]


# ---------------------------------------------------------------- tensorflow


def _tf_padding(call: ConvCall):
    if not _explicit(call):
        return call.padding
    pair = list(call.padding)
    return [[0, 0], pair, [0, 0]] if call.data_layout == "NLC" else [[0, 0], [0, 0], pair]


def _tf_format(call: ConvCall) -> str:
    return "NWC" if call.data_layout == "NLC" else "NCW"


def _tf_bias(call, y, b):
    import tensorflow as tf

    if b is None:
        return y
    return tf.nn.bias_add(y, b, data_format="N...C" if call.data_layout == "NLC" else "NC...")


def _tf_conv1d(call, x, w, b):
    import tensorflow as tf

    y = tf.nn.conv1d(x, w, stride=call.stride, padding=_tf_padding(call),
                     data_format=_tf_format(call), dilations=call.dilation)
    return _tf_bias(call, y, b)


def _tf_convolution(call, x, w, b):
    import tensorflow as tf

    y = tf.nn.convolution(x, w, strides=call.stride, padding=_tf_padding(call),
                          data_format=_tf_format(call), dilations=call.dilation)
    return _tf_bias(call, y, b)


def _tf_conv1d_transpose(call, x, w, b):
    import tensorflow as tf

    length = _transposed_length(call, x.shape[_length_axis(call, x.ndim)])
    batch = x.shape[0]
    shape = [batch, length, call.out_channels] if call.data_layout == "NLC" else [
        batch, call.out_channels, length]
    y = tf.nn.conv1d_transpose(x, w, shape, strides=call.stride, padding=_tf_padding(call),
                               data_format=_tf_format(call), dilations=call.dilation)
    return _tf_bias(call, y, b)


def _transposed_length(call: ConvCall, length: int) -> int:
    """The output length a TF user passes as output_shape (Keras' own formula)."""
    kernel = call.dilation * (call.kernel_size - 1) + 1
    s = call.stride
    if _explicit(call):
        return (length - 1) * s + kernel - sum(call.padding) + (call.output_padding or 0)
    same = call.padding.lower() == "same"
    if call.output_padding is None:
        return length * s if same else length * s + max(kernel - s, 0)
    pad = kernel // 2 if same else 0
    return (length - 1) * s + kernel - 2 * pad + call.output_padding


# ---------------------------------------------------------------- keras


def _keras_format(call: ConvCall) -> str:
    return "channels_last" if call.data_layout == "NLC" else "channels_first"


def _keras_padding(call: ConvCall):
    return call.padding if isinstance(call.padding, str) else tuple(call.padding)


def _keras_run(layer, x, weights):
    layer.build(x.shape)
    layer.set_weights(weights)
    return layer(x)


def _with_bias(w, b):
    return [w] if b is None else [w, b]


def _keras_conv1d(call, x, w, b):
    import keras

    layer = keras.layers.Conv1D(
        call.out_channels, call.kernel_size, strides=call.stride, padding=_keras_padding(call),
        data_format=_keras_format(call), dilation_rate=call.dilation, groups=call.groups,
        use_bias=call.bias,
    )
    return _keras_run(layer, x, _with_bias(w, b))


def _keras_depthwise(call, x, w, b):
    import keras

    layer = keras.layers.DepthwiseConv1D(
        call.kernel_size, strides=call.stride, padding=_keras_padding(call),
        depth_multiplier=call.depth_multiplier, data_format=_keras_format(call),
        dilation_rate=call.dilation, use_bias=call.bias,
    )
    return _keras_run(layer, x, _with_bias(w, b))


def _keras_conv1d_transpose(call, x, w, b):
    import keras

    layer = keras.layers.Conv1DTranspose(
        call.out_channels, call.kernel_size, strides=call.stride, padding=_keras_padding(call),
        output_padding=call.output_padding, data_format=_keras_format(call),
        dilation_rate=call.dilation, use_bias=call.bias,
    )
    return _keras_run(layer, x, _with_bias(w, b))


def _keras_separable(call, x, w, b):
    """SeparableConv1D probed as its depthwise stage: the pointwise kernel is identity.

    A probe carries one source weight, so a separable port can only be compared with a
    single depthwise source conv; this needs out_channels == in_channels * multiplier.
    """
    import keras

    mid = call.in_channels * call.depth_multiplier
    if call.out_channels != mid:
        raise ValueError(
            f"probe: SeparableConv1D is probed with an identity pointwise kernel, which "
            f"needs out_channels == in_channels * depth_multiplier ({call.out_channels} != {mid})"
        )
    layer = keras.layers.SeparableConv1D(
        call.out_channels, call.kernel_size, strides=call.stride, padding=_keras_padding(call),
        data_format=_keras_format(call), dilation_rate=call.dilation,
        depth_multiplier=call.depth_multiplier, use_bias=call.bias,
    )
    pointwise = np.eye(mid, dtype=np.float32)[None]
    return _keras_run(layer, x, [w, pointwise] + ([] if b is None else [b]))


def _keras_ops_conv(call, x, w, b):
    import keras

    y = keras.ops.conv(x, w, strides=call.stride, padding=_keras_padding(call),
                       data_format=_keras_format(call), dilation_rate=call.dilation)
    return _add_bias(call, _to_numpy(y), b)


# ---------------------------------------------------------------- jax / flax


def _lax_padding(call: ConvCall):
    return call.padding if isinstance(call.padding, str) else [tuple(call.padding)]


def _lax_conv_general_dilated(call, x, w, b):
    import jax

    y = jax.lax.conv_general_dilated(
        x, w, (call.stride,), _lax_padding(call),
        lhs_dilation=None if call.lhs_dilation == 1 else (call.lhs_dilation,),
        rhs_dilation=(call.dilation,), dimension_numbers=call.dimension_numbers,
        feature_group_count=call.groups,
    )
    return _add_bias(call, _to_numpy(y), b)


def _lax_conv_transpose(call, x, w, b):
    import jax

    y = jax.lax.conv_transpose(
        x, w, (call.stride,), _lax_padding(call), rhs_dilation=(call.dilation,),
        dimension_numbers=call.dimension_numbers, transpose_kernel=call.transpose_kernel,
    )
    return _add_bias(call, _to_numpy(y), b)


def _flax_params(w, b):
    return {"params": {"kernel": w} if b is None else {"kernel": w, "bias": b}}


def _flax_conv(call, x, w, b):
    from flax import linen

    layer = linen.Conv(
        call.out_channels, (call.kernel_size,), strides=(call.stride,),
        padding=_lax_padding(call), input_dilation=(call.lhs_dilation,),
        kernel_dilation=(call.dilation,), feature_group_count=call.groups, use_bias=call.bias,
    )
    return layer.apply(_flax_params(w, b), x)


def _flax_conv_transpose(call, x, w, b):
    from flax import linen

    layer = linen.ConvTranspose(
        call.out_channels, (call.kernel_size,), strides=(call.stride,),
        padding=_lax_padding(call), kernel_dilation=(call.dilation,), use_bias=call.bias,
        transpose_kernel=call.transpose_kernel,
    )
    return layer.apply(_flax_params(w, b), x)


# ---------------------------------------------------------------- numpy


def _numpy_reference(function_name: str) -> ConvFn:
    def run(call, x, w, b):
        if call.in_channels != 1 or call.out_channels != 1:
            raise ValueError(f"probe: numpy.{function_name} is a single-channel reference")
        mode = call.padding
        if _explicit(call):
            widths = [(0, 0)] * x.ndim
            widths[_length_axis(call, x.ndim)] = tuple(call.padding)
            x, mode = np.pad(x, widths), "valid"
        function = getattr(np, function_name)
        channels_first = np.moveaxis(x, _channel_axis(call, x.ndim), -2)
        rows = channels_first.reshape(-1, channels_first.shape[-1])
        y = np.stack([function(row, w.reshape(-1), mode)[:: call.stride] for row in rows])
        y = y.reshape(channels_first.shape[:-1] + y.shape[-1:])
        return np.moveaxis(y, -2, _channel_axis(call, x.ndim)) + (0 if b is None else b[0])

    return run


APIS: Dict[str, ConvFn] = {
    "torch.nn.functional.conv1d": _torch_conv1d,
    "torch.nn.functional.conv_transpose1d": _torch_conv_transpose1d,
    "tensorflow.nn.conv1d": _tf_conv1d,
    "tensorflow.nn.convolution": _tf_convolution,
    "tensorflow.nn.conv1d_transpose": _tf_conv1d_transpose,
    "keras.layers.Conv1D": _keras_conv1d,
    "keras.layers.DepthwiseConv1D": _keras_depthwise,
    "keras.layers.Conv1DTranspose": _keras_conv1d_transpose,
    "keras.layers.SeparableConv1D": _keras_separable,
    "keras.ops.conv": _keras_ops_conv,
    "jax.lax.conv_general_dilated": _lax_conv_general_dilated,
    "jax.lax.conv_transpose": _lax_conv_transpose,
    "flax.linen.Conv": _flax_conv,
    "flax.linen.ConvTranspose": _flax_conv_transpose,
    "numpy.convolve": _numpy_reference("convolve"),
    "numpy.correlate": _numpy_reference("correlate"),
}


# ---------------------------------------------------------------- verbatim calls


def _resolve(qualified: str):
    """The API object named ``qualified``, importing the longest importable prefix."""
    parts = qualified.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(f"cannot import {qualified}")


def _verbatim(call, x, w, b):
    """Call the API with the user's own arguments so that a rejected spelling fails with
    the API's own error; a layer is built, given the probe's kernel (and bias when it
    has one) and applied."""
    target = _resolve(call.api)
    framework = call.api.split(".")[0]
    tensor = _framework_tensor(framework)
    args = [tensor(b) if v == "<bias>" else v for k, v in call.verbatim if not k]
    kwargs = {k: tensor(b) if v == "<bias>" else v for k, v in call.verbatim if k}
    if not isinstance(target, type):
        return target(tensor(x), tensor(w), *args, **kwargs)
    layer = target(*args, **kwargs)
    if framework == "torch":
        import torch

        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w))
            if getattr(layer, "bias", None) is not None:
                bias = torch.zeros_like(layer.bias) if b is None else torch.from_numpy(b)
                layer.bias.copy_(bias)
        return layer(torch.from_numpy(x))
    if framework == "flax":
        use_bias = getattr(layer, "use_bias", True)
        bias = b if b is not None else np.zeros(w.shape[-1], np.float32)
        return layer.apply(_flax_params(w, bias if use_bias else None), x)
    use_bias = getattr(layer, "use_bias", False)
    bias = b if b is not None else np.zeros(w.shape[-1], np.float32)
    return _keras_run(layer, x, [w, bias] if use_bias else [w])


# Layers only the user's own spelling reaches (verbatim calls, CNV501/CNV504).
APIS.update({"torch.nn.Conv1d": _verbatim, "torch.nn.ConvTranspose1d": _verbatim})


def _framework_tensor(framework: str):
    if framework == "torch":
        import torch

        return lambda a: None if a is None else torch.from_numpy(a)
    return lambda a: a


# ---------------------------------------------------------------- requests


def load(framework: str) -> dict:
    try:
        modules = [importlib.import_module(name) for name in _IMPORTS[framework]]
    except Exception as exc:  # noqa: BLE001 - any import failure means "unavailable"
        return {"unavailable": error_text(exc)}
    return {"ok": True, "version": getattr(modules[0], "__version__", "")}


def run_conv(request: dict) -> dict:
    _test_sleep(request.get("rule", ""))
    try:
        call = call_from_json(request["call"])
        bias = None if request.get("bias") is None else decode(request["bias"])
        run = _verbatim if call.verbatim is not None else APIS[call.api]
        y = run(call, decode(request["x"]), decode(request["weight"]), bias)
        return {"ok": True, "y": encode(_crop(call, _to_numpy(y)))}
    except Exception as exc:  # noqa: BLE001 - the user's port crashing is a result
        return {"error": error_text(exc)}


def _test_sleep(rule: str) -> None:
    hook = os.environ.get("CONVLINT_PROBE_TEST_SLEEP", "")
    target, _, seconds = hook.partition("=")
    if hook and rule == target:
        time.sleep(float(seconds))


def handle(request: dict, family: str) -> dict:
    framework = request.get("framework") or request["call"]["framework"]
    if FAMILY_OF.get(framework) != family:
        return {"unavailable": f"{framework!r} is not served by the {family} worker"}
    if request["op"] == "load":
        return load(framework)
    return run_conv(request)


def _limit_memory() -> None:
    # RLIMIT_DATA, not RLIMIT_AS: TF and JAX map ~1.5 GB of address space they never
    # touch, and an address-space limit of 1 GiB makes both abort at import (measured).
    megabytes = int(os.environ.get("CONVLINT_PROBE_MEMORY_MB", "0"))
    if megabytes > 0:
        limit = megabytes << 20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _private_stdout():
    # Libraries print to fd 1 (TF's C++ logging, keras progress bars); keep the protocol
    # on a private duplicate and send everything else written to stdout to stderr.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return replies


def main(argv) -> int:
    if len(argv) != 2 or argv[1] not in FAMILY_OF:
        print(f"usage: python -m convlint.probe.worker {{{'|'.join(FAMILY_OF)}}}", file=sys.stderr)
        return 2
    family = FAMILY_OF[argv[1]]
    _limit_memory()
    replies = _private_stdout()
    for line in sys.stdin:
        reply = handle(json.loads(line), family)
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
