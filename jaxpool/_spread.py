"""Routes that spread the cotangent and the switches to the input's shape
first, then compare them with the window positions: the TPU's routes, and
(:func:`route_summed`) the GPU's where its selection is windowed.

On a TPU a strided slice along the second-minor axis is an op of its own
that writes a copy, and an interior ``lax.pad`` read at several offsets is
charged once per offset; a transposed pick is made of both (the compiler's
byte counts are in benchmarks/results/accel/). These routes read each spread
array at unit stride, which the TPU fuses:

- :func:`route_dilated`, for overlapping windows of a few positions: one
  ``lax.pad`` with interior padding spreads each array to the input's
  stride, and the route is the sum over window positions of unit-stride
  slices of it, each kept where its switch names that position.

Both run on every backend; tests/test_strategies.py checks them on the CPU.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
from jax import lax

from jaxpool._geometry import PoolGeometry


def route_dilated(cotangent: jax.Array, switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The route of any windows by spreading once (see the module doc).

    Window ``i`` reads input element ``u = i * stride + p * dilation - low``
    at position ``p``: so position ``p``'s contributions are the spread
    cotangent shifted by ``p * dilation - low``, a unit-stride slice.
    """
    dtype = cotangent.dtype
    # Overlapping contributions of 16-bit cotangents add in float32.
    wide = jnp.float32 if geometry.windows_overlap and jnp.finfo(dtype).bits < 32 else dtype
    config = [(0, 0, 0)] * cotangent.ndim
    extents = []
    for axis, window, stride, dilation, (low, _), size, length in zip(
        geometry.spatial_axes,
        geometry.window_shape,
        geometry.strides,
        geometry.window_dilation,
        geometry.extent_padding,
        geometry.output_spatial_shape,
        geometry.spatial_shape,
    ):
        extent = dilation * (window - 1) + 1
        extents.append(extent)
        config[axis] = (extent - 1 - low, length + low - (size - 1) * stride - 1, stride - 1)
    # Spread in the cotangent's own dtype (the TPU writes the spread array
    # out), widened slice by slice inside the loop that sums them.
    spread = lax.pad(cotangent, jnp.zeros((), dtype), config)
    spread_switches = lax.pad(switches, jnp.asarray(-1, switches.dtype), config)
    routed = None
    for position, index in enumerate(itertools.product(*map(range, geometry.window_shape))):
        start = [0] * cotangent.ndim
        limit = list(geometry.input_shape)
        for axis, extent, offset, dilation in zip(
            geometry.spatial_axes, extents, index, geometry.window_dilation
        ):
            start[axis] = extent - 1 - offset * dilation
            limit[axis] = start[axis] + geometry.input_shape[axis]
        picked = lax.slice(spread_switches, start, limit) == position
        term = jnp.where(picked, lax.slice(spread, start, limit).astype(wide), jnp.zeros((), wide))
        routed = term if routed is None else routed + term
    return routed.astype(dtype)


def route_summed(cotangent: jax.Array, switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The route as a sum over window positions of the cotangent, kept where
    its switch names that position, padded (with interior padding for
    strides) to where the position's elements lie: a GPU fuses the sum
    into one loop that reads the cotangent and the switches once."""
    dtype = cotangent.dtype
    wide = jnp.float32 if geometry.windows_overlap and jnp.finfo(dtype).bits < 32 else dtype
    wide_cotangent = cotangent.astype(wide)
    zero = jnp.zeros((), wide)
    routed = None
    for position, offsets in enumerate(geometry.window_offsets()):
        config = [(0, 0, 0)] * cotangent.ndim
        for axis, offset, stride, (low, _), size, length in zip(
            geometry.spatial_axes,
            offsets,
            geometry.strides,
            geometry.extent_padding,
            geometry.output_spatial_shape,
            geometry.spatial_shape,
        ):
            before = offset - low
            config[axis] = (before, length - before - (size - 1) * stride - 1, stride - 1)
        kept = jnp.where(switches == position, wide_cotangent, zero)
        term = lax.pad(kept, zero, config)
        routed = term if routed is None else routed + term
    return routed.astype(dtype)
