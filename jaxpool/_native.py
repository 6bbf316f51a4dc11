"""XLA's own windowed reduction, ``lax.reduce_window``, for values alone.

A values-only call has no switches to select, and ``reduce_window`` is what
the GPU and TPU compilers emit best: one pass over the input. Its reducer is
not ``lax.max`` but a select that keeps NaN: XLA recognises ``lax.max`` and
rewrites the reduction, and XLA:CPU's rewritten max reductions drop NaN (in
disjoint 2x2 windows already; measured in tests/test_nan.py). A select is
not rewritten, so every backend computes the same values, the rules'.
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax

from jaxpool import _order
from jaxpool._geometry import PoolGeometry


def larger_or_nan(a: jax.Array, b: jax.Array) -> jax.Array:
    """The max of ``a`` and ``b``, NaN if either is NaN."""
    return lax.select((a != a) | (a > b), a, b)


def smaller_or_nan(a: jax.Array, b: jax.Array) -> jax.Array:
    """The min of ``a`` and ``b``, NaN if either is NaN."""
    return lax.select((a != a) | (a < b), a, b)


def values(inputs: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The windowed max of ``inputs`` (min, with ``reverse_order``) by one
    ``lax.reduce_window`` over the input as it is: min pooling reduces with
    :func:`smaller_or_nan` rather than reversing the input and the result
    (two more passes where the compiler does not fuse them into the
    reduction: compiled for an H100 and a TPU v5e, benchmarks/NOTES.md)."""
    if not geometry.reverse_order:
        return max_values(inputs, geometry)
    # In the input's own order the least of the pooled order is the greatest.
    pad_scalar = _order.reverse_order(_order.pad_scalar(inputs, geometry))
    init = np.asarray(_order.reverse_order(_order.lowest(inputs.dtype)))
    return _reduce(inputs, pad_scalar, init, smaller_or_nan, geometry)


def max_values(inputs: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The windowed max of ``inputs`` (already in the pooled order) by one
    ``lax.reduce_window``.

    Its init value is the dtype's least, which no window can beat (see
    :func:`with_padding`).
    """
    pad_scalar = _order.pad_scalar(inputs, geometry)
    return _reduce(inputs, pad_scalar, _order.lowest(inputs.dtype), larger_or_nan, geometry)


def _reduce(inputs, pad_scalar, init, reducer, geometry: PoolGeometry) -> jax.Array:
    operand, padding = with_padding(inputs, pad_scalar, geometry)
    full = geometry.full_rank
    return lax.reduce_window(
        operand,
        init,
        reducer,
        full(geometry.window_shape, 1),
        full(geometry.strides, 1),
        padding,
        window_dilation=full(geometry.window_dilation, 1),
    )


def with_padding(
    operand: jax.Array, pad_scalar: jax.Array, geometry: PoolGeometry
) -> tuple[jax.Array, tuple[tuple[int, int], ...]]:
    """``operand`` and the ``reduce_window`` padding that make its windows
    exactly ``geometry``'s: padding that loses to every element is left to
    the reduction's init; competing padding (``pad_scalar``, a
    ``pad_value`` above the least) is written in, since ``reduce_window``
    would also fold its init into windows that hold no padding at all."""
    if geometry.pad_is_lowest:
        return operand, geometry.reduce_window_padding()
    operand = lax.pad(operand, pad_scalar, geometry.extent_pad_config())
    return operand, ((0, 0),) * operand.ndim
