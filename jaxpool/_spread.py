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
    wide = geometry.sum_dtype(dtype)
    extents = [
        dilation * (window - 1) + 1
        for window, dilation in zip(geometry.window_shape, geometry.window_dilation)
    ]
    config = geometry.full_rank(
        [
            (extent - 1 - low, length + low - (size - 1) * stride - 1, stride - 1)
            for extent, stride, (low, _), size, length in zip(
                extents,
                geometry.strides,
                geometry.extent_padding,
                geometry.output_spatial_shape,
                geometry.spatial_shape,
            )
        ],
        (0, 0, 0),
    )
    # Spread in the cotangent's own dtype (the TPU writes the spread array
    # out), widened slice by slice inside the loop that sums them.
    spread = lax.pad(cotangent, jnp.zeros((), dtype), config)
    spread_switches = lax.pad(switches, jnp.asarray(-1, switches.dtype), config)
    routed = None
    for position, offsets in enumerate(geometry.window_offsets()):
        start = geometry.full_rank([e - 1 - offset for e, offset in zip(extents, offsets)], 0)
        limit = [first + length for first, length in zip(start, geometry.input_shape)]
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
    wide = geometry.sum_dtype(dtype)
    wide_cotangent = cotangent.astype(wide)
    zero = jnp.zeros((), wide)
    routed = None
    for position, offsets in enumerate(geometry.window_offsets()):
        config = geometry.full_rank(
            [
                (offset - low, length - (offset - low) - (size - 1) * stride - 1, stride - 1)
                for offset, stride, (low, _), size, length in zip(
                    offsets,
                    geometry.strides,
                    geometry.extent_padding,
                    geometry.output_spatial_shape,
                    geometry.spatial_shape,
                )
            ],
            (0, 0, 0),
        )
        kept = jnp.where(switches == position, wide_cotangent, zero)
        term = lax.pad(kept, zero, config)
        routed = term if routed is None else routed + term
    return routed.astype(dtype)
