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
from jax import lax

from jaxpool import _order
from jaxpool._geometry import PoolGeometry


def larger_or_nan(a: jax.Array, b: jax.Array) -> jax.Array:
    """The max of ``a`` and ``b``, NaN if either is NaN."""
    return lax.select((a != a) | (a > b), a, b)


def max_values(inputs: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The windowed max of ``inputs`` (already in the pooled order) by one
    ``lax.reduce_window``.

    Its init value is the dtype's least, which no window can beat; padding
    that competes (a ``pad_value`` above it) is written into the input
    first, since ``reduce_window`` would also fold its init into windows
    that hold no padding at all.
    """
    init = _order.lowest(inputs.dtype)
    dims = [1] * inputs.ndim
    steps = [1] * inputs.ndim
    dilation = [1] * inputs.ndim
    for axis, window, stride, step in zip(
        geometry.spatial_axes, geometry.window_shape, geometry.strides, geometry.window_dilation
    ):
        dims[axis], steps[axis], dilation[axis] = window, stride, step
    if geometry.pad_is_lowest:
        padding = geometry.reduce_window_padding()
    else:
        scalar = _order.pad_scalar(inputs, geometry)
        inputs = lax.pad(inputs, scalar, geometry.extent_pad_config())
        padding = ((0, 0),) * inputs.ndim
    return lax.reduce_window(
        inputs,
        init,
        larger_or_nan,
        tuple(dims),
        tuple(steps),
        padding,
        window_dilation=tuple(dilation),
    )
