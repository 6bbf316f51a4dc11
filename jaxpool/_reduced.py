"""The reduced strategy: windows that are blocks of the input, selected by
one reduction over the block axes.

Where every window is a block (stride equal to the window, or one window
along the axis) of real elements, one reshape splits each spatial axis into
(window index, position in window), and a variadic ``lax.reduce`` over the
position axes keeps the better (value, position) pair: the larger value, NaN
above every number, and between equal values (or NaNs) the one first in its
window. That order is a total one, so the reducer is commutative and
associative, as a reduction that XLA splits and reorders needs. It reads
the input once, however large the window (a global max is one pass), where
the axis-by-axis selection makes a pass per halving.

The pick is one compare of the switches against the block positions and a
sum over the position axes; its transpose, the route, is one broadcast
select and a reshape that reads the switches and the cotangent once and
writes the input's gradient once.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxpool import _order
from jaxpool._geometry import PoolGeometry
from jaxpool._sharding import split_spatial


def applies(geometry: PoolGeometry) -> bool:
    """Whether every window is a block of real elements: along each spatial
    axis the windows are contiguous (no dilation) and either abut (stride
    equal to the window) or are one, and no padding reaches them (trailing
    elements no window covers may be left out)."""
    return geometry.needs_no_padding and all(
        dilation == 1 and (stride == window or size == 1)
        for window, stride, dilation, size in zip(
            geometry.window_shape,
            geometry.strides,
            geometry.window_dilation,
            geometry.output_spatial_shape,
        )
    )


def _position_axes(geometry: PoolGeometry) -> tuple[int, ...]:
    """The axes of :func:`_blocks`'s result that index a position in a window."""
    return tuple(axis + k + 1 for k, axis in enumerate(geometry.spatial_axes))


def _blocks(array: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """``array`` cut to the windows' extent, each spatial axis split into
    (window index, position in window)."""
    extent = list(array.shape)
    splits = {}
    for axis, window, size in zip(
        geometry.spatial_axes, geometry.window_shape, geometry.output_spatial_shape
    ):
        extent[axis] = window * size
        splits[axis] = (size, window)
    trimmed = lax.slice(array, [0] * array.ndim, extent)
    shape: list[int] = []
    for axis, length in enumerate(extent):
        shape.extend(splits.get(axis, (length,)))
    return split_spatial(trimmed, tuple(shape), geometry)


def _positions(geometry: PoolGeometry, blocks_ndim: int, dtype: np.dtype) -> jax.Array:
    """The row-major window position of each block element, broadcastable to
    the blocks (ones along every other axis), from iotas rather than a
    constant, which ``jax.checkpoint`` would save as a residual."""
    shape = [1] * blocks_ndim
    for axis, window in zip(_position_axes(geometry), geometry.window_shape):
        shape[axis] = window
    positions = jnp.zeros(shape, dtype)
    for axis, window in zip(_position_axes(geometry), geometry.window_shape):
        positions = positions * jnp.asarray(window, dtype) + lax.broadcasted_iota(
            dtype, shape, axis
        )
    return positions


def _better(first: tuple[jax.Array, jax.Array], second: tuple[jax.Array, jax.Array]):
    """The better of two (value, position) pairs in the rules' total order."""
    (value, position), (other, other_position) = first, second
    if jnp.issubdtype(value.dtype, jnp.floating):
        # NaNs are equal to each other here: between two, the first wins.
        level = (value == other) | ((value != value) & (other != other))
    else:
        level = value == other
    take_other = _order.is_better(other, value) | (level & (other_position < position))
    return (
        lax.select(take_other, other, value),
        lax.select(take_other, other_position, position),
    )


def max_and_switches(inputs: jax.Array, geometry: PoolGeometry) -> tuple[jax.Array, jax.Array]:
    """The windowed max of ``inputs`` (already in the pooled order) and the
    row-major window position of the first maximum (the first NaN, where a
    window holds one), by one variadic reduction over the position axes."""
    blocks = _blocks(inputs, geometry)
    dtype = geometry.switch_dtype
    # Grown from the blocks, to carry their sharding (as the reduction's
    # operands must, and its outputs then do).
    positions = jnp.zeros_like(blocks, dtype=dtype) + _positions(geometry, blocks.ndim, dtype)
    # The init loses to every element: the least value, which an element
    # can only tie, with the greatest position, so that the element, whose
    # position is lower, wins the tie (or, at the dtype's greatest position,
    # is the same pair).
    init = (_order.lowest(inputs.dtype), np.asarray(np.iinfo(dtype).max, dtype))
    values, switches = lax.reduce(
        (blocks, positions), init, lambda a, b: _better(a, b), _position_axes(geometry)
    )
    return values, switches


def pick_at_switches(tangent: jax.Array, switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The tangent at each output's switch: the block elements whose position
    is the switch, summed over the position axes (one term is not zero)."""
    blocks = _blocks(tangent, geometry)
    axes = _position_axes(geometry)
    positions = _positions(geometry, blocks.ndim, switches.dtype)
    selected = lax.expand_dims(switches, axes) == positions
    return jnp.where(selected, blocks, jnp.zeros((), tangent.dtype)).sum(axes)
