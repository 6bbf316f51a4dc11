"""Adaptive max pooling: PyTorch's windows, as a few regular poolings."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxpool import _strategy
from jaxpool._geometry import AdaptiveAxis
from jaxpool._geometry import AdaptiveGeometry
from jaxpool._geometry import AdaptiveGroup
from jaxpool._geometry import adaptive_geometry
from jaxpool._geometry import pool_geometry
from jaxpool._pooling import forward_mode_hint
from jaxpool._pooling import max_pool_with_argmax
from jaxpool._pooling import real_array

__all__ = ["adaptive_max_pool", "adaptive_max_pool_with_argmax"]

ArrayLike = jax.typing.ArrayLike


def _interleave(parts: list[jax.Array], adaptive: AdaptiveAxis) -> jax.Array:
    """The groups' outputs merged along the axis: group ``r``'s window ``m`` is
    window ``r + m * period``, so a stack after the axis and a reshape
    interleave them."""
    if len(parts) == 1:
        return parts[0]
    shape = list(parts[0].shape)
    shape[adaptive.axis] = adaptive.size
    return jnp.stack(parts, axis=adaptive.axis + 1).reshape(shape)


def _flatten(array: jax.Array, group: AdaptiveGroup, axis: int) -> jax.Array:
    """The group's slice of ``array`` as ``(before, axis, after)``: a 1-D
    pooling with the channel axis last."""
    part = lax.slice_in_dim(array, group.start, group.stop, 1, axis)
    shape = part.shape
    return part.reshape(math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :]))


def _pool_axis(
    array: jax.Array, adaptive: AdaptiveAxis, autodiff: str
) -> tuple[jax.Array, jax.Array, Callable[[jax.Array], jax.Array]]:
    """Adaptive pooling along one axis, as one regular 1-D pooling per group.

    Returns the values, the offset of each selected element within its window
    and a function that picks an integer array (shaped as ``array``) at the
    selected elements.
    """
    axis = adaptive.axis
    values, offsets, pickers = [], [], []
    for group in adaptive.groups():
        flat = _flatten(array, group, axis)
        shape = (*array.shape[:axis], group.count, *array.shape[axis + 1 :])
        group_values, switches = max_pool_with_argmax(
            flat, (group.window,), (group.stride,), autodiff=autodiff
        )
        values.append(group_values.reshape(shape))
        offsets.append(switches.astype(np.int32).reshape(shape))
        geometry = pool_geometry(flat.shape, np.float32, (group.window,), (group.stride,))
        pickers.append((group, switches, geometry, shape))

    def pick(integers: jax.Array) -> jax.Array:
        # Small integers are exact in float32, which the core's pick takes.
        parts = [
            _strategy.pick_at_switches(
                _flatten(integers, group, axis).astype(np.float32), switches, geometry
            )
            .reshape(shape)
            .astype(np.int32)
            for group, switches, geometry, shape in pickers
        ]
        return _interleave(parts, adaptive)

    return _interleave(values, adaptive), _interleave(offsets, adaptive), pick


@functools.partial(jax.jit, static_argnums=(1, 2))
def _pool(
    inputs: jax.Array, geometry: AdaptiveGeometry, autodiff: str
) -> tuple[jax.Array, jax.Array]:
    """One axis after another, from the last: the first maximum in row-major
    order is the first row's first maximum among the rows' first maxima (see
    ``_separable``), and the selected rows pick the inner axes' offsets."""
    values, offsets = inputs, []
    for adaptive in reversed(geometry.axes):
        values, axis_offsets, pick = _pool_axis(values, adaptive, autodiff)
        offsets = [axis_offsets, *(pick(inner) for inner in offsets)]
    switches = jnp.zeros(values.shape, np.int32)
    for offset, window in zip(offsets, geometry.max_window_shape):
        switches = switches * window + offset
    return values, switches.astype(geometry.switch_dtype)


def _prepare(inputs: Any, output_shape: Any, channel_axis: Any) -> tuple[jax.Array, Any]:
    inputs = real_array("inputs", inputs)
    return inputs, adaptive_geometry(inputs.shape, output_shape, channel_axis=channel_axis)


def adaptive_max_pool_with_argmax(
    inputs: ArrayLike,
    output_shape: Any,
    *,
    channel_axis: int | None = -1,
    autodiff: str = "vjp",
) -> tuple[jax.Array, jax.Array]:
    """Adaptive max pooling that also returns the switches.

    Arguments and rules are those of :func:`adaptive_max_pool`.

    Returns:
      ``(values, switches)``. ``switches`` has the shape of ``values``; each
      entry is the row-major offset of the selected element within its
      window, counted over the largest window per spatial axis: with ``q_k``
      the offset from window ``i_k``'s start ``floor(i_k * L_k / n_k)`` along
      spatial axis ``k`` and ``K_k = max_i(ceil((i + 1) * L_k / n_k) -
      floor(i * L_k / n_k))``, the switch is ``sum_k q_k * prod(K[k + 1:])``.
      Its dtype is the smallest signed integer holding ``prod(K) - 1``.

    Examples:
      >>> import jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[1., 5., 2., 4., 3.]])
      >>> values, switches = jaxpool.adaptive_max_pool_with_argmax(x, (2,), channel_axis=None)
      >>> values
      Array([[5., 4.]], dtype=float32)
      >>> switches
      Array([[1, 1]], dtype=int8)
    """
    inputs, geometry = _prepare(inputs, output_shape, channel_axis)
    if not isinstance(autodiff, str) or autodiff not in ("vjp", "jvp"):
        raise ValueError(f"autodiff must be 'vjp' or 'jvp'; got {autodiff!r}")
    with forward_mode_hint(autodiff):
        return _pool(inputs, geometry, autodiff)


def adaptive_max_pool(
    inputs: ArrayLike,
    output_shape: Any,
    *,
    channel_axis: int | None = -1,
    autodiff: str = "vjp",
) -> jax.Array:
    """Max pooling into a fixed output shape, with PyTorch's adaptive windows.

    Along a spatial axis of length ``L`` pooled to ``n`` outputs, window ``i``
    covers the input positions ``floor(i * L / n) <= j < ceil((i + 1) * L / n)``,
    as in ``torch.nn.functional.adaptive_max_pool{1,2,3}d``: windows may
    overlap and differ in size by one. An entry of 1 is global max pooling
    over the axis; ``None`` keeps the axis (windows of one element).

    The pooling runs one spatial axis after another. Along an axis, the
    windows ``n / gcd(L, n)`` apart have the same size and lie ``L / gcd(L,
    n)`` apart, so the axis is pooled by that many regular 1-D poolings
    through :func:`jaxpool.max_pool_with_argmax` (one, when ``n`` divides
    ``L``), whose outputs are interleaved by a stack and a reshape. The
    program grows with the sum of those numbers over the axes, never with the
    window size, and the gradient is the core's scatter-free route.

    The selection rules are :func:`jaxpool.max_pool`'s: ties go to the first
    element in row-major window order (as PyTorch's), NaN beats every number
    and the first NaN is selected (PyTorch selects the last NaN of a window),
    and where windows overlap an input's gradient is the sum over the outputs
    that selected it. There is no padding.

    Args:
      inputs: array with ``d = len(output_shape)`` spatial axes, laid out as
        ``channel_axis`` says; float, integer or bool.
      output_shape: number of windows per spatial axis: ``d`` positive ints or
        ``None`` (keep the axis). Larger than the input is allowed, as in
        PyTorch (windows then repeat elements); PyTorch's empty outputs (0) are
        refused.
      channel_axis: as for :func:`jaxpool.max_pool`: ``-1`` (NHWC), an axis
        before the last ``d`` (``1`` for NCHW), or ``None``.
      autodiff: ``"vjp"`` or ``"jvp"``, as for :func:`jaxpool.max_pool`.

    Returns:
      The pooled array, whose spatial axes have the sizes of ``output_shape``.

    Raises:
      TypeError: non-array or complex ``inputs``; an ``output_shape`` that is
        not a sequence of ints or None.
      ValueError: ``output_shape`` entries ``<= 0``; an input empty along a
        spatial axis; a bad ``channel_axis`` or ``autodiff``.

    Examples:
      >>> import jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[1., 5., 2., 4., 3.]])
      >>> jaxpool.adaptive_max_pool(x, (3,), channel_axis=None)
      Array([[5., 5., 4.]], dtype=float32)
    """
    return adaptive_max_pool_with_argmax(
        inputs, output_shape, channel_axis=channel_axis, autodiff=autodiff
    )[0]


def adaptive_switches_to_indices(switches: jax.Array, geometry: AdaptiveGeometry) -> jax.Array:
    """PyTorch's indices (row-major in the spatial plane) of adaptive
    switches: int32, int64 under ``jax_enable_x64``."""
    dtype = jax.dtypes.canonicalize_dtype(np.int64)
    switches = switches.astype(dtype)
    index = jnp.zeros((), dtype)
    inner = math.prod(geometry.max_window_shape)
    for adaptive, window in zip(geometry.axes, geometry.max_window_shape):
        inner //= window
        shape = [1] * geometry.ndim
        shape[adaptive.axis] = adaptive.size
        start = jnp.asarray(adaptive.starts().reshape(shape), dtype)
        index = index * adaptive.length + start + switches // inner % window
    return index
