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

A conv request may add ``"dtype": "float64"`` (the runner's float64 re-check: inputs
are cast, Keras layers are built with a float64 policy, JAX runs with x64 enabled) and
``"cpu_seconds"``: the CPU time the request may use before the kernel stops the worker
with SIGXCPU. The reply then carries the output's dtype, so that a backend that quietly
computed in float32 is not mistaken for a float64 result. A request that runs out of
memory replies ``{"failed": ...}``: a resource limit is not the port's crash.

Environment (set by the runner): CONVLINT_PROBE_MEMORY_MB caps the worker's data
segment. TEST-ONLY hooks, to exercise the runner's isolation: with
CONVLINT_PROBE_TEST_SLEEP="TARGET=SECONDS" the worker sleeps SECONDS before each conv
request whose rule or api is TARGET; with CONVLINT_PROBE_TEST_FAULT="TARGET=ACTION" it
does ACTION instead: "abort" (SIGABRT, like TF's native check failures), "kill"
(SIGKILL, like the OOM killer), "alloc:MB" (allocate MB megabytes) or "spin:SECONDS"
(burn CPU).

Run by the runner as ``python -c BOOTSTRAP PACKAGE_DIR FAMILY`` from an empty directory,
without PYTHONPATH: only the convlint package itself is added to the import system, so
nothing of the linted project (a local ``torch.py``) can shadow a framework.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import os
import re
import resource
import signal
import sys
import time
from typing import Callable, Dict, Optional

import numpy as np

from convlint.probe.spec import ConvCall

# TensorFlow with TF_ENABLE_ONEDNN_OPTS=0 (set by the runner when it starts the worker):
# catalog G02/L03 crash only there, so such probes need a TF process of their own.
ONEDNN_OFF = "tensorflow-onednn-off"

FAMILIES = {
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "keras"),
    "jax": ("jax", "flax"),
    "numpy": ("numpy",),
    ONEDNN_OFF: (ONEDNN_OFF,),
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
    ONEDNN_OFF: ("tensorflow",),
}

# The worker script, importing convlint from an explicit package directory (argv[1])
# without putting that directory's parent (maybe a site-packages holding frameworks of
# another interpreter) or the working directory on sys.path.
BOOTSTRAP = (
    "import sys, importlib.util as u\n"
    "if sys.path and sys.path[0] in ('', '.'): del sys.path[0]\n"
    "d = sys.argv.pop(1)\n"
    "s = u.spec_from_file_location('convlint', d + '/__init__.py', "
    "submodule_search_locations=[d])\n"
    "m = sys.modules['convlint'] = u.module_from_spec(s)\n"
    "s.loader.exec_module(m)\n"
    "from convlint.probe.worker import main\n"
    "sys.exit(main(sys.argv))\n"
)

# Failures that are the worker running out of a resource, not the port's own crash.
_RESOURCE_ERRORS = re.compile(
    r"MemoryError|can't allocate memory|out of memory|ResourceExhausted|bad_alloc|"
    r"Cannot allocate memory", re.IGNORECASE)

Array = np.ndarray
ConvFn = Callable[[ConvCall, Array, Array, Optional[Array]], object]


# ---------------------------------------------------------------- encoding


def encode(array: Array) -> str:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode(text: str) -> Array:
    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


_GRAPH_NOISE = ("Graph execution error", "Detected at node", 'File "')


def error_text(exc: BaseException) -> str:
    """``Type: first line``, without TF's ``{{function_node ...}}`` op-trace prefix."""
    message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", str(exc)).strip()
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    # tf.function errors open with "Graph execution error:" and the Python stack of the
    # failing node; the op's own message follows it.
    informative = [line for line in lines if not line.startswith(_GRAPH_NOISE)]
    first = (informative or lines or [""])[0]
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
    y = np.asarray(y)
    # float64 stays float64 (the re-check); anything else (bfloat16...) compares as float32.
    return y if y.dtype in (np.float32, np.float64) else y.astype(np.float32)


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


def _torch_nn_conv1d(call, x, w, b):
    """``nn.Conv1d`` as constructed: it checks divisibility by groups itself (catalog G06)."""
    import torch

    padding = call.padding
    if _explicit(call):
        if padding[0] != padding[1]:
            raise ValueError("probe: nn.Conv1d has no asymmetric padding")
        padding = padding[0]
    layer = torch.nn.Conv1d(
        call.in_channels, call.out_channels, call.kernel_size, stride=call.stride,
        padding=padding, dilation=call.dilation, groups=call.groups, bias=call.bias,
        padding_mode=call.padding_mode, dtype=torch.from_numpy(x).dtype,
    )
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        if b is not None:
            layer.bias.copy_(torch.from_numpy(b))
        return layer(torch.from_numpy(x))


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


def _tf_function_conv1d_bias_add(call, x, w, b):
    """``tf.nn.conv1d`` + ``tf.nn.bias_add`` inside ``tf.function``: the graph rewrite
    fuses them, and without oneDNN the fused kernel rejects grouped filters (catalog G02)."""
    import tensorflow as tf

    bias = b if b is not None else np.zeros((call.out_channels,), x.dtype)

    @tf.function
    def run(a):
        y = tf.nn.conv1d(a, w, stride=call.stride, padding=_tf_padding(call),
                         data_format=_tf_format(call), dilations=call.dilation)
        return tf.nn.bias_add(y, bias, data_format="N...C" if call.data_layout == "NLC"
                              else "NC...")

    return run(tf.constant(x))


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
    "torch.nn.Conv1d": _torch_nn_conv1d,
    "tensorflow.nn.conv1d": _tf_conv1d,
    "tensorflow.nn.convolution": _tf_convolution,
    "tensorflow.nn.conv1d_transpose": _tf_conv1d_transpose,
    "tensorflow.function.conv1d_bias_add": _tf_function_conv1d_bias_add,
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
    if framework in ("jax", "flax"):
        # float64 re-checks need x64; float32 arrays stay float32 with it enabled.
        importlib.import_module("jax").config.update("jax_enable_x64", True)
    return {"ok": True, "version": getattr(modules[0], "__version__", "")}


def run_conv(request: dict) -> dict:
    try:
        _test_hooks(request)  # inside: a test allocation fails like the framework's own
        call = call_from_json(request["call"])
        dtype = np.float64 if request.get("dtype") == "float64" else np.float32
        x, w = decode(request["x"]).astype(dtype), decode(request["weight"]).astype(dtype)
        bias = None if request.get("bias") is None else decode(request["bias"]).astype(dtype)
        run = _verbatim if call.verbatim is not None else APIS[call.api]
        with _keras_dtype(call, dtype):
            y = _to_numpy(run(call, x, w, bias))
        return {"ok": True, "y": encode(_crop(call, y)), "dtype": str(y.dtype)}
    except Exception as exc:  # noqa: BLE001 - the user's port crashing is a result
        text = error_text(exc)
        if isinstance(exc, MemoryError) or _RESOURCE_ERRORS.search(text):
            return {"failed": f"out of memory in the probe worker: {text}"}
        return {"error": text}


@contextlib.contextmanager
def _keras_dtype(call: ConvCall, dtype):
    """Keras layers built inside take float64 variables for a float64 request."""
    if call.framework != "keras" or dtype != np.float64:
        yield
        return
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float64")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _test_hooks(request: dict) -> None:
    """TEST-ONLY fault injection (module docstring); inert unless the variables are set."""
    targets = (request.get("rule", ""), request.get("call", {}).get("api", ""))
    hook = os.environ.get("CONVLINT_PROBE_TEST_SLEEP", "")
    target, _, seconds = hook.partition("=")
    if hook and target in targets:
        time.sleep(float(seconds))
    fault = os.environ.get("CONVLINT_PROBE_TEST_FAULT", "")
    target, _, action = fault.partition("=")
    if not fault or target not in targets:
        return
    name, _, argument = action.partition(":")
    if name == "abort":
        os.abort()
    elif name == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif name == "alloc":
        bytearray(int(argument) << 20)
    elif name == "spin":
        until = time.process_time() + float(argument)
        while time.process_time() < until:
            pass


def handle(request: dict, family: str) -> dict:
    framework = request.get("framework") or request["call"]["framework"]
    if FAMILY_OF.get(framework) != family:
        return {"unavailable": f"{framework!r} is not served by the {family} worker"}
    _limit_cpu(request.get("cpu_seconds"))
    if request["op"] == "load":
        return load(framework)
    return run_conv(request)


def _limit_memory() -> None:
    # RLIMIT_DATA, not RLIMIT_AS: TF and JAX map ~1.5 GB of address space they never
    # touch, and an address-space limit of 1 GiB makes both abort at import (measured).
    # Measured data segments after import and a probe: torch 175 MB, TF+Keras 300 MB,
    # JAX+Flax 190 MB.
    megabytes = int(os.environ.get("CONVLINT_PROBE_MEMORY_MB", "0"))
    if megabytes > 0:
        limit = megabytes << 20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    # A native abort (catalog A07) must not leave a core file behind.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _limit_cpu(seconds) -> None:
    """Let this request use ``seconds`` more CPU time; past it the kernel sends SIGXCPU.

    Only the soft limit moves (the hard one stays, so later requests can raise it again).
    """
    if not seconds:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + float(seconds)) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


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
