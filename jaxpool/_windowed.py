"""Values and switches from one variadic ``lax.reduce_window``: the strategy
for overlapping windows on a GPU.

Every input element carries a small integer *key* alongside its value, and
the reduction keeps the better of two (value, key) pairs: the larger value
with NaN above every number, and between equal values the one that comes
first in its window. An element's key is its row-major spatial index,
weighted per axis as a window's positions are (``window[a+1:]``'s product
for axis ``a``), modulo a power of two ``M >= 2K - 1`` for ``K`` window
positions. Within any one window the keys are then the window origin's code
plus ``0 .. K-1``, so two keys of one window differ by less than ``M / 2``
cyclically, which orders them, and the winner's key minus the origin's code
is its switch. Keys fit an int8 for windows of up to 64 positions.

A ``reduce_window`` reads its operands once however many windows share an
element, where a strided slice per window position reads the input ``K /
prod(strides)`` times over; that is the gain on overlapping windows (the
GPU compiler's own byte counts are in benchmarks/results/accel/). The
selection is exact: the values are the input at the switches bit for bit
(16-bit floats are reduced as their bit patterns, ordered inside the
comparator, so that no float32 copy is made).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxpool import _native
from jaxpool import _order
from jaxpool import _positions
from jaxpool._geometry import PoolGeometry

# Keys are int8: windows of up to this many positions (M <= 128).
MAX_POSITIONS = 64
# The key of padding, and of a reduction's start: below every element's key.
_PADDING_KEY = -1


def applies(geometry: PoolGeometry) -> bool:
    """Whether this strategy can pool ``geometry``: keys fit an int8, and
    the windows are undilated (a dilated window's positions are not
    consecutive codes)."""
    return geometry.num_window_positions <= MAX_POSITIONS and all(
        dilation == 1 for dilation in geometry.window_dilation
    )


def _modulus(geometry: PoolGeometry) -> int:
    positions = geometry.num_window_positions
    return 1 << (2 * positions - 2).bit_length() if positions > 1 else 1


def _weights(geometry: PoolGeometry) -> list[int]:
    """Per spatial axis, how far one step along it moves a window position."""
    window = geometry.window_shape
    return [math.prod(window[a + 1 :]) for a in range(len(window))]


def _codes(shape: tuple[int, ...], geometry: PoolGeometry, steps: list[int], shift: int):
    """``sum_a (steps[a] * index_a) - shift`` over the spatial axes of an
    array of ``shape``, as int32."""
    code = jnp.full(shape, -shift, jnp.int32)
    for axis, step in zip(geometry.spatial_axes, steps):
        code = code + lax.broadcasted_iota(jnp.int32, shape, axis) * step
    return code


def _element_keys(shape: tuple[int, ...], geometry: PoolGeometry, low: list[int]) -> jax.Array:
    """The key of every element of an array of ``shape`` whose first
    element along each spatial axis sits at input index ``-low``."""
    weights = _weights(geometry)
    shift = sum(pad * weight for pad, weight in zip(low, weights))
    code = _codes(shape, geometry, weights, shift)
    return (code & (_modulus(geometry) - 1)).astype(jnp.int8)


def _origin_codes(geometry: PoolGeometry) -> jax.Array:
    """Per output, the code of its window's first position."""
    weights = _weights(geometry)
    low = [pad for pad, _ in geometry.extent_padding]
    shift = sum(pad * weight for pad, weight in zip(low, weights))
    steps = [stride * weight for stride, weight in zip(geometry.strides, weights)]
    return _codes(geometry.output_shape, geometry, steps, shift)


def _ranking(dtype: np.dtype, as_bits: bool):
    """``(operand dtype, rank, init)``: what the reduction reduces, a map
    from it to something ``>`` and ``==`` order with the rules (NaN above
    every number, ``-0 == +0``), and the lowest value as an operand."""
    if as_bits and jnp.issubdtype(dtype, jnp.floating) and jnp.finfo(dtype).bits == 16:
        bits = np.dtype(np.int16)
        infinity = int(np.asarray(np.inf, dtype).view(np.int16))
        lowest = np.asarray(-np.inf, dtype).view(np.int16)
        # Sign and magnitude to two's complement order: -0 becomes -1.
        lowest_order = int(lowest) ^ 0x7FFF

        def rank(pattern):
            pattern = pattern.astype(jnp.int32)
            order = jnp.where(pattern >= 0, pattern, pattern ^ 0x7FFF)
            nan = (order > infinity) | (order < lowest_order)
            return jnp.where(nan, 0x8000, jnp.where(order == -1, 0, order))

        return bits, rank, lowest
    if dtype == np.bool_:
        # False, True as 0, 1: an init of 0 ties with False and loses on keys.
        return np.dtype(np.int8), None, np.asarray(0, np.int8)
    return np.dtype(dtype), None, _order.lowest(dtype)


def _to_operand(array: jax.Array, operand_dtype: np.dtype) -> jax.Array:
    if array.dtype == operand_dtype:
        return array
    if array.dtype == np.bool_:
        return array.astype(operand_dtype)
    return lax.bitcast_convert_type(array, operand_dtype)


def _better(rank, candidate, best):
    """``(candidate beats best, candidate equals best)``."""
    if rank is not None:
        candidate, best = rank(candidate), rank(best)
        return candidate > best, candidate == best
    if not jnp.issubdtype(candidate.dtype, jnp.floating):
        return candidate > best, candidate == best
    candidate_nan, best_nan = candidate != candidate, best != best
    larger = (candidate_nan & ~best_nan) | (candidate > best)
    return larger, (candidate_nan & best_nan) | (candidate == best)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def max_and_keys(
    inputs: jax.Array, geometry: PoolGeometry, as_bits: bool = True
) -> tuple[jax.Array, jax.Array]:
    """The windowed max of ``inputs`` (already in the pooled order) and the
    winners' keys (the padding key where a window holds padding alone).

    Differentiable to any order: the values' tangent is the input tangent at
    the switches (JAX has no derivative for a variadic ``reduce_window``, and
    a backend's plan must differentiate wherever another's does, since
    ``lax.platform_dependent`` keeps every branch until lowering).

    ``as_bits`` reduces 16-bit floats as their bit patterns, ordered inside
    the comparator: XLA:GPU would otherwise widen the values it writes to
    float32. A TPU compares 16-bit floats natively.
    """
    return _max_and_keys(inputs, geometry, as_bits)


@max_and_keys.defjvp
def _max_and_keys_jvp(geometry, as_bits, primals, tangents):
    (inputs,), (tangent,) = primals, tangents
    values, keys = max_and_keys(inputs, geometry, as_bits)
    switches = switches_from_keys(keys, geometry)
    values_tangent = _positions.pick_at_switches(tangent, switches, geometry)
    return (values, keys), (values_tangent, jnp.zeros_like(keys, dtype=jax.dtypes.float0))


def _max_and_keys(
    inputs: jax.Array, geometry: PoolGeometry, as_bits: bool
) -> tuple[jax.Array, jax.Array]:
    modulus = _modulus(geometry)
    operand_dtype, rank, init = _ranking(inputs.dtype, as_bits)
    operand = _to_operand(inputs, operand_dtype)
    scalar = _to_operand(_order.pad_scalar(inputs, geometry), operand_dtype)
    operand, padding = _native.with_padding(operand, scalar, geometry)
    # The operand starts at input index 0, or at -low where competing
    # padding was written in, which then has keys like real elements.
    low = [0 if geometry.pad_is_lowest else pad for pad, _ in geometry.extent_padding]
    keys = _element_keys(operand.shape, geometry, low)

    def keep(best, candidate):
        (best_value, best_key), (value, key) = best, candidate
        larger, equal = _better(rank, value, best_value)
        ahead = (best_key.astype(jnp.int32) - key.astype(jnp.int32)) & (modulus - 1)
        earlier = (key != _PADDING_KEY) & (
            (best_key == _PADDING_KEY) | ((ahead >= 1) & (ahead < modulus // 2))
        )
        take = larger | (equal & earlier)
        return lax.select(take, value, best_value), lax.select(take, key, best_key)

    values, keys = lax.reduce_window(
        (operand, keys),
        (init, np.asarray(_PADDING_KEY, np.int8)),
        keep,
        geometry.full_rank(geometry.window_shape, 1),
        geometry.full_rank(geometry.strides, 1),
        padding,
    )
    if inputs.dtype == np.bool_:
        values = values.astype(np.bool_)
    elif values.dtype != inputs.dtype:
        values = lax.bitcast_convert_type(values, inputs.dtype)
    return values, keys


def positions_from_keys(keys: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The switches of the winners whose keys :func:`max_and_keys` gave, as
    int32, except in windows wholly in padding, where any position is
    padding: what a route may read (as few ops as possible, so that a GPU
    fuses them into the route's loop)."""
    return (keys.astype(jnp.int32) - _origin_codes(geometry)) & (_modulus(geometry) - 1)


def switches_from_keys(keys: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The switches of the winners whose keys :func:`max_and_keys` gave."""
    # A window wholly in padding keeps the first position.
    switches = jnp.where(keys == _PADDING_KEY, 0, positions_from_keys(keys, geometry))
    return switches.astype(geometry.switch_dtype)
