"""Reference max pooling, written from the definitions, not from jaxpool.

* :func:`reduce_window_pool`: ``lax.reduce_window`` on the explicitly padded
  input (its gradient is JAX's select-and-scatter).
* :func:`brute_force_pool`: a NumPy loop over output positions that applies
  the selection rules of the README one window at a time, and the gradient
  that routes each output cotangent to its switch.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import re

import jax
import jax.ad_checkpoint
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxpool import _compat


def enable_x64(enabled=True):
    """``jax.enable_x64`` (jax 0.8), or ``jax.experimental.enable_x64`` before it."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(enabled)
    from jax.experimental import enable_x64 as experimental_enable_x64

    return experimental_enable_x64(enabled)


def example_inputs(shape, dtype="float32", kind="random", seed=0):
    """Test inputs. ``"random"``: distinct values (no ties); ``"ties"``: few
    distinct values with many zeros, as after a ReLU."""
    rng = np.random.default_rng(seed)
    if kind == "ties":
        values = np.maximum(rng.integers(-2, 3, size=shape), 0)
    else:
        values = rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 3.0
    return jnp.asarray(values, dtype)


def scatter_ops(jitted, *args):
    """Scatter operations in the lowered StableHLO and the compiled HLO."""
    lowered = jitted.lower(*args)
    return re.findall(r"stablehlo\.(?:select_and_)?scatter\b", lowered.as_text()) + re.findall(
        r"= \S+ (?:select-and-)?scatter\(", lowered.compile().as_text()
    )


# JAX before 0.6 keeps, besides a custom_vjp's residuals, the values of the
# custom_vjp calls made inside a jitted function (the pooled values, which the
# backward does not read), and lists them among the saved residuals.
JAX_KEEPS_NESTED_CUSTOM_VJP_VALUES = _compat.JAX_VERSION < (0, 6, 0)


def saved_residual_lines(function, *args):
    """What ``jax.ad_checkpoint.print_saved_residuals`` prints, one line a
    residual."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        jax.ad_checkpoint.print_saved_residuals(function, *args)
    return printed.getvalue().strip().splitlines()


def spatial_axes(ndim, d, channel_axis):
    """The pooled axes, from the layout rules of the README."""
    if channel_axis is not None and channel_axis % ndim == ndim - 1:
        return list(range(ndim - 1 - d, ndim - 1))
    return list(range(ndim - d, ndim))


def padding_pairs(padding, spatial_shape, window_shape, strides, dilation):
    """Explicit (low, high) pairs; "SAME" as ``lax.padtype_to_pads`` on the
    dilated window."""
    d = len(window_shape)
    if isinstance(padding, str):
        dilated = [r * (w - 1) + 1 for w, r in zip(window_shape, dilation)]
        return [tuple(p) for p in lax.padtype_to_pads(spatial_shape, dilated, strides, padding)]
    if isinstance(padding, int):
        return [(padding, padding)] * d
    return [(p, p) if isinstance(p, int) else tuple(p) for p in padding]


def output_size(length, window, stride, dilation, low, high, ceil_mode):
    """PyTorch's formula (``torch.nn.MaxPool2d`` docs), with its rule that a
    last window starting in the right padding is dropped."""
    numerator = length + low + high - dilation * (window - 1) - 1
    if ceil_mode:
        size = math.ceil(numerator / stride) + 1
        if (size - 1) * stride >= length + low:
            size -= 1
        return size
    return numerator // stride + 1


def _settings(x, window_shape, strides, padding, dilation, ceil_mode, channel_axis):
    d = len(window_shape)
    strides = [1] * d if strides is None else list(strides)
    dilation = [1] * d if dilation is None else list(dilation)
    axes = spatial_axes(x.ndim, d, channel_axis)
    spatial_shape = [x.shape[a] for a in axes]
    pairs = padding_pairs(padding, spatial_shape, window_shape, strides, dilation)
    sizes = [
        output_size(n, w, s, r, lo, hi, ceil_mode)
        for n, w, s, r, (lo, hi) in zip(spatial_shape, window_shape, strides, dilation, pairs)
    ]
    return strides, dilation, axes, pairs, sizes


def reduce_window_pool(
    x,
    window_shape,
    strides=None,
    padding="VALID",
    *,
    ceil_mode=False,
    channel_axis=-1,
    pad_value=-np.inf,
):
    """``lax.reduce_window`` max over ``x`` padded with ``pad_value`` (ceil
    mode's extra window padded the same way)."""
    strides, _, axes, pairs, sizes = _settings(
        x, window_shape, strides, padding, None, ceil_mode, channel_axis
    )
    config = [(0, 0, 0)] * x.ndim
    dims = [1] * x.ndim
    steps = [1] * x.ndim
    for axis, w, s, (lo, _), size in zip(axes, window_shape, strides, pairs, sizes):
        covered = (size - 1) * s + w
        config[axis] = (lo, covered - x.shape[axis] - lo, 0)
        dims[axis], steps[axis] = w, s
    padded = lax.pad(x, jnp.asarray(pad_value, x.dtype), config)
    return lax.reduce_window(padded, -jnp.inf, lax.max, dims, steps, "VALID")


def brute_force_pool(
    x,
    window_shape,
    strides=None,
    padding="VALID",
    *,
    window_dilation=None,
    ceil_mode=False,
    channel_axis=-1,
    pad_value=-np.inf,
    cotangent=None,
):
    """Values, switches and (given ``cotangent``) the input gradient, one
    window at a time from the selection rules:

    1. ties go to the first position in row-major window order;
    2. NaN beats every number (first NaN);
    3. with ``pad_value=-inf`` padded positions are chosen only when the
       window holds no real element; other pad values compete as numbers;
    4. a window wholly in padding sends its gradient nowhere;
    5. overlapping contributions add.
    """
    x = np.asarray(x)
    strides, dilation, axes, pairs, sizes = _settings(
        x, window_shape, strides, padding, window_dilation, ceil_mode, channel_axis
    )
    d = len(window_shape)
    moved = np.moveaxis(x, axes, list(range(x.ndim - d, x.ndim)))
    rows = moved.reshape(-1, *moved.shape[-d:]).astype(np.float64)
    num_rows = rows.shape[0]
    values = np.empty((num_rows, *sizes))
    switches = np.empty((num_rows, *sizes), dtype=np.int64)
    gradient = np.zeros_like(rows)
    if cotangent is not None:
        cotangent_rows = np.moveaxis(
            np.asarray(cotangent, np.float64), axes, list(range(x.ndim - d, x.ndim))
        ).reshape(num_rows, *sizes)
    positions = list(itertools.product(*(range(w) for w in window_shape)))
    for out in itertools.product(*(range(n) for n in sizes)):
        sources, real = [], []
        for position in positions:
            index = tuple(
                o * s + p * r - lo
                for o, s, p, r, (lo, _) in zip(out, strides, position, dilation, pairs)
            )
            sources.append(index)
            real.append(all(0 <= i < n for i, n in zip(index, rows.shape[1:])))
        real = np.array(real)
        candidates = np.full((num_rows, len(positions)), float(pad_value))
        for k, index in enumerate(sources):
            if real[k]:
                candidates[:, k] = rows[(slice(None), *index)]
        if pad_value == -np.inf and real.any():
            eligible = np.broadcast_to(real, candidates.shape)
        else:
            eligible = np.ones(candidates.shape, bool)
        is_nan = np.isnan(candidates) & eligible
        numbers = np.where(eligible & ~is_nan, candidates, -np.inf)
        best = numbers.max(axis=1, keepdims=True)
        first_max = np.argmax(eligible & ~is_nan & (numbers == best), axis=1)
        switch = np.where(is_nan.any(axis=1), np.argmax(is_nan, axis=1), first_max)
        values[(slice(None), *out)] = candidates[np.arange(num_rows), switch]
        switches[(slice(None), *out)] = switch
        if cotangent is not None:
            for row in range(num_rows):
                k = switch[row]
                if real[k]:
                    gradient[(row, *sources[k])] += cotangent_rows[(row, *out)]

    def restore(array):
        shaped = array.reshape(*moved.shape[:-d], *array.shape[1:])
        return np.moveaxis(shaped, list(range(x.ndim - d, x.ndim)), axes)

    result = (restore(values), restore(switches))
    if cotangent is not None:
        result += (restore(gradient),)
    return result
