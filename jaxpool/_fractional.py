"""Fractional max pooling (Graham, 2014) with PyTorch's pseudo-random windows.

Along a spatial axis of length ``L`` pooled to ``n`` outputs by windows of
``k``, window ``i`` starts at PyTorch's ``int((i + u) * alpha) - int(u *
alpha)`` with ``alpha = (L - k) / (n - 1)`` computed in the input's float
type (each step rounded to it, as PyTorch's 16-bit arithmetic rounds) and the
last window at ``L - k``; ``u`` is one sample in ``[0, 1)`` per
plane and axis. The starts depend on the samples, which are runtime values,
so the windows are read with gathers; the backward routes each cotangent to
its switch with gathers, compares and selects (each input position lies in at
most ``k`` consecutive windows), without a scatter, saving only the starts
and the per-axis switches.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["fractional_max_pool"]


def window_starts(samples: jax.Array, length: int, size: int, window: int) -> jax.Array:
    """PyTorch's ``generate_intervals<scalar_t>``: ``(..., size)`` int32
    starts from ``(...)`` samples, computed in the samples' float type as
    PyTorch computes them in the input's: for 16-bit floats each operation's
    result is rounded to 16 bits (c10's ``Half`` and ``BFloat16`` operators
    compute in float32 and round), so the grid is the one PyTorch draws."""
    dtype = np.dtype(samples.dtype)
    last = jnp.full((*samples.shape, 1), length - window, jnp.int32)
    if size == 1:
        return last
    compute = np.dtype(jnp.promote_types(dtype, np.float32))
    info = jnp.finfo(dtype)

    def rounded(value):
        # An explicit rounding op, which XLA keeps (a cast pair it may fold away).
        return value if dtype == compute else lax.reduce_precision(value, info.nexp, info.nmant)

    alpha = np.asarray(np.asarray(length - window, dtype) / np.asarray(size - 1, dtype), compute)
    # The window index as the dtype holds it (c10 converts it before adding).
    index = np.arange(size - 1).astype(dtype).astype(compute).reshape((1,) * samples.ndim + (-1,))
    sample = samples.astype(compute)
    starts = rounded(rounded(index + sample[..., None]) * alpha).astype(jnp.int32)
    starts = starts - rounded(sample * alpha).astype(jnp.int32)[..., None]
    return jnp.concatenate([starts, last], axis=-1)


def _along(starts: jax.Array, shape: tuple[int, ...], axis: int) -> jax.Array:
    """``(N, C, n)`` starts broadcast to ``shape``, whose ``axis`` has ``n``."""
    view = [1] * len(shape)
    view[0], view[1], view[axis] = shape[0], shape[1], shape[axis]
    return jnp.broadcast_to(starts.reshape(view), shape)


def _pool_axis(x: jax.Array, starts: jax.Array, window: int, axis: int):
    """Max along ``axis`` over windows ``[start, start + window)``: PyTorch's
    rule, a later element wins if larger or NaN (first maximum, last NaN).
    Returns the values and each window's offset of the selected element."""
    shape = list(x.shape)
    shape[axis] = starts.shape[-1]
    index = _along(starts, tuple(shape), axis)
    best = offset = None
    for q in range(window):
        candidate = jnp.take_along_axis(x, index + q, axis=axis)
        if best is None:
            best, offset = candidate, jnp.zeros(candidate.shape, jnp.int32)
            continue
        take = (candidate > best) | jnp.isnan(candidate)
        best = jnp.where(take, candidate, best)
        offset = jnp.where(take, q, offset)
    return best, offset


def _route_axis(
    g: jax.Array, starts: jax.Array, offset: jax.Array, window: int, length: int, axis: int
) -> jax.Array:
    """The transpose of :func:`_pool_axis`'s pick: the cotangent of each
    window added at its selected position. Starts strictly increase, so the
    windows holding position ``p`` are the (at most ``window``) consecutive
    ones from the first whose end passes ``p``."""
    size = starts.shape[-1]
    selected = _along(starts, g.shape, axis) + offset
    positions = jnp.arange(length, dtype=jnp.int32)
    # Per plane, the number of windows ending at or before each position.
    first = jax.vmap(
        lambda ends: jnp.searchsorted(ends, positions, side="right").astype(jnp.int32)
    )(starts.reshape(-1, size) + window).reshape(*starts.shape[:-1], length)
    shape = list(g.shape)
    shape[axis] = length
    first = _along(first, tuple(shape), axis)
    where = lax.broadcasted_iota(jnp.int32, tuple(shape), axis % len(shape))
    total = jnp.zeros(shape, g.dtype)
    for t in range(window):
        j = first + t
        valid = j < size
        j = jnp.minimum(j, size - 1)
        hit = valid & (jnp.take_along_axis(selected, j, axis=axis) == where)
        total = total + jnp.where(hit, jnp.take_along_axis(g, j, axis=axis), 0)
    return total


def _forward(x, samples, windows, sizes):
    """Values, per-axis starts and per-axis offsets; the last spatial axis
    pooled first."""
    d = len(windows)
    starts, offsets = [None] * d, [None] * d
    values = x
    for k in reversed(range(d)):
        axis = x.ndim - d + k
        # PyTorch: the last spatial axis takes sample 0 in 2-D (W, then H) and
        # sample k in 3-D (T, H, W).
        sample = samples[..., d - 1 - k] if d == 2 else samples[..., k]
        starts[k] = window_starts(sample, x.shape[axis], sizes[k], windows[k])
        values, offsets[k] = _pool_axis(values, starts[k], windows[k], axis)
    return values, tuple(starts), tuple(offsets)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _pool(x, samples, windows, sizes):
    """Values and PyTorch's flat indices. The indices come out of the
    custom_vjp, so no JAX differentiates their integer arithmetic (jax before
    0.5 gives integer outputs float0 tangents that cannot be added)."""
    values, starts, offsets = _forward(x, samples, windows, sizes)
    return values, _indices(starts, offsets, x.shape[2:], sizes, x.shape[:2])


def _pool_fwd(x, samples, windows, sizes):
    values, starts, offsets = _forward(x, samples, windows, sizes)
    index = _indices(starts, offsets, x.shape[2:], sizes, x.shape[:2])
    small = tuple(offset.astype(np.int8 if max(windows) <= 127 else np.int32) for offset in offsets)
    return (values, index), (starts, small, x.shape, samples)


def _pool_bwd(windows, sizes, residuals, cotangents):
    starts, offsets, shape, samples = residuals
    g = cotangents[0]
    d = len(windows)
    # Undo the passes in reverse: the first spatial axis was pooled last.
    for k in range(d):
        axis = len(shape) - d + k
        g = _route_axis(g, starts[k], offsets[k].astype(jnp.int32), windows[k], shape[axis], axis)
    return g, jnp.zeros_like(samples)


_pool.defvjp(_pool_fwd, _pool_bwd)


def _indices(starts, offsets, spatial_shape, output_shape, batch_shape):
    """PyTorch's flat indices, from the per-axis starts and offsets: the
    offsets of axis ``k`` were taken with the outer axes at full size, so
    they are read at the outer axes' selected positions (flattened)."""
    out_view = (*batch_shape, *output_shape)
    index = None
    for k, length in enumerate(spatial_shape):
        offset = offsets[k]
        if index is not None:
            flat = offset.reshape(*batch_shape, -1, *output_shape[k:])
            pick = index.reshape(*batch_shape, -1, *output_shape[k:])
            offset = jnp.take_along_axis(flat, pick, axis=2).reshape(out_view)
        position = _along(starts[k], out_view, 2 + k) + offset
        index = position if index is None else index * length + position
    return index


# Jitted, so that an eager call compiles once per geometry; inside jit it inlines.
@functools.partial(jax.jit, static_argnums=(1, 2))
def fractional_max_pool(x, windows, sizes, samples):
    """``x``: ``(N, C, *spatial)``; samples ``(N, C, d)`` in ``x``'s dtype.
    Returns values and PyTorch's indices (int32; int64 under
    ``jax_enable_x64``); empty ones where ``N`` or ``C`` is 0."""
    dtype = jax.dtypes.canonicalize_dtype(np.int64)
    if x.size == 0:
        shape = (*x.shape[:2], *sizes)
        return jnp.zeros(shape, x.dtype), jnp.zeros(shape, dtype)
    values, index = _pool(x, samples, tuple(windows), tuple(sizes))
    return values, index.astype(dtype)
