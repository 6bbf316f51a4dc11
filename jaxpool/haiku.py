"""Drop-in replacements for ``haiku.max_pool``, ``haiku.MaxPool``,
``haiku.avg_pool`` and ``haiku.AvgPool``.

Same signatures and the same meaning of every argument as Haiku's, so
replacing ``hk.max_pool`` by ``jaxpool.haiku.max_pool`` (or ``hk.MaxPool``
by ``jaxpool.haiku.MaxPool``, and the averages likewise) changes no value or
dtype, and no gradient beyond float rounding where windows overlap, except
in these places (each checked against Haiku by tests/test_haiku.py, with the
cases of Haiku's own pool_test.py):

* NaN and ``-inf``: the values agree; the gradient goes to a window's first
  NaN, and never to ``"SAME"`` padding while the window holds an input
  element, even one of ``-inf``. Haiku's (XLA's select-and-scatter) may give
  a NaN window's gradient to a number (``[NaN, 1]``: to the 1), and a window
  of padding and ``-inf`` its gradient to the padding, where it is lost.
  Ties go to the first maximum in both.
* Averages: integer sums do not wrap (Haiku's int8 ``[100, 100]`` averages
  to ``-28.0``, here to ``100.0``), and 16-bit floats are summed in float32
  and rounded once (Haiku sums in 16 bits: float16 ``[2048, 1, 1, 1]``
  averages to 512 there, 513 here). Bool inputs, which Haiku's average
  refuses, count as 0 and 1.
* ``"VALID"`` windows longer than the input: Haiku returns an empty array,
  these raise ``ValueError``.

Import it by name (``import jaxpool.haiku``); ``import jaxpool`` does not
import Haiku.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from jaxpool import _layers
from jaxpool import avg_pool as _avg_pool
from jaxpool import max_pool as _max_pool

hk = _layers.import_framework("haiku", "jaxpool.haiku", "Haiku", "haiku")

__all__ = ["AvgPool", "MaxPool", "avg_pool", "max_pool"]

_PADDINGS = ("SAME", "VALID")


def _check(window_shape: Any, strides: Any, padding: Any) -> None:
    if padding not in _PADDINGS:
        raise ValueError(f"padding must be 'SAME' or 'VALID' (as in Haiku); got {padding!r}")
    for name, size in (("window_shape", window_shape), ("strides", strides)):
        entries = (size,) if isinstance(size, numbers.Integral) else size
        if (
            isinstance(size, bool)
            or not isinstance(entries, Sequence)
            or not all(isinstance(e, numbers.Integral) and not isinstance(e, bool) for e in entries)
        ):
            raise TypeError(f"{name} must be an int or a sequence of ints; got {size!r}")
        if any(e <= 0 for e in entries):
            raise ValueError(f"{name} entries must be positive; got {size!r}")


def _full_rank(size: Any, ndim: int, channel_axis: int | None, name: str) -> tuple[int, ...]:
    """Haiku's reading of a window or stride as one entry per input axis.

    An int applies to every axis but the first (taken as the batch) and the
    channel axis; a shorter sequence applies to the trailing axes; a full
    one is taken as it is.
    """
    if isinstance(size, numbers.Integral):
        # Haiku tests ``channel_axis`` for truth, so 0 and None exclude no axis.
        if channel_axis and not 0 <= abs(channel_axis) < ndim:
            raise ValueError(f"channel_axis={channel_axis} is out of range for {ndim} axes")
        channel = channel_axis % ndim if channel_axis else None
        return (1, *(1 if axis == channel else int(size) for axis in range(1, ndim)))
    if len(size) > ndim:
        raise ValueError(f"{name}={tuple(size)!r} has more entries than the input has axes: {ndim}")
    return (1,) * (ndim - len(size)) + tuple(int(entry) for entry in size)


def max_pool(
    value: jax.typing.ArrayLike,
    window_shape: int | Sequence[int],
    strides: int | Sequence[int],
    padding: str,
    channel_axis: int | None = -1,
) -> jax.Array:
    """Max pooling with Haiku's arguments and jaxpool's gradient.

    As ``haiku.max_pool``: ``window_shape`` and ``strides`` are an int (every
    axis but the first and ``channel_axis``), a sequence shorter than the
    input's rank (the trailing axes; the leading ones are not pooled) or one
    entry per axis; ``padding`` is ``"SAME"`` or ``"VALID"``; padded
    positions hold ``-inf``. The selection rules are
    :func:`jaxpool.max_pool`'s.

    Args:
      value: array to pool.
      window_shape: window size: an int or a sequence of ints, as above.
      strides: step between windows: an int or a sequence of ints, as above.
      padding: ``"SAME"`` or ``"VALID"``.
      channel_axis: the axis an int ``window_shape`` or ``strides`` skips.

    Returns:
      The pooled array, of the input's rank.

    Examples:
      >>> import jax.numpy as jnp, jaxpool.haiku
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> jaxpool.haiku.max_pool(x, window_shape=2, strides=2, padding="VALID")[..., 0]
      Array([[[ 5.,  7.],
              [13., 15.]]], dtype=float32)
    """
    return _haiku_pool(_max_pool, value, window_shape, strides, padding, channel_axis)


def _haiku_pool(
    pool: Any,
    value: Any,
    window_shape: Any,
    strides: Any,
    padding: str,
    channel_axis: int | None,
    **keywords: Any,
) -> jax.Array:
    """``pool`` (a jaxpool function) over the axes Haiku's arguments pool."""
    _check(window_shape, strides, padding)
    value = jnp.asarray(value)
    windows = _full_rank(window_shape, value.ndim, channel_axis, "window_shape")
    steps = _full_rank(strides, value.ndim, channel_axis, "strides")
    pooled = [axis for axis in range(value.ndim) if windows[axis] != 1 or steps[axis] != 1]
    if not pooled:
        return value
    # jaxpool pools consecutive axes that end at the last axis or just before
    # it; the window and stride are 1 on the axes added to make them so.
    last = pooled[-1] if pooled[-1] == value.ndim - 1 else value.ndim - 2
    axes = range(pooled[0], last + 1)
    return pool(
        value,
        tuple(windows[axis] for axis in axes),
        tuple(steps[axis] for axis in axes),
        padding,
        channel_axis=None if last == value.ndim - 1 else -1,
        **keywords,
    )


def avg_pool(
    value: jax.typing.ArrayLike,
    window_shape: int | Sequence[int],
    strides: int | Sequence[int],
    padding: str,
    channel_axis: int | None = -1,
) -> jax.Array:
    """Average pooling with Haiku's arguments and divisor.

    As ``haiku.avg_pool``: the arguments are read as :func:`max_pool` reads
    them, and each window's sum is divided by the number of input elements
    in it: with ``"VALID"`` that is the window size, with ``"SAME"`` the
    padding is not counted (Haiku's ``"SAME"`` divisor, which is
    ``count_include_pad=False`` in :func:`jaxpool.avg_pool`). Integer and
    16-bit sums are taken wider than Haiku's (the module docstring).

    Args:
      value: floating-point array to pool.
      window_shape: window size: an int or a sequence of ints, as Haiku's.
      strides: step between windows: an int or a sequence of ints.
      padding: ``"SAME"`` or ``"VALID"``.
      channel_axis: the axis an int ``window_shape`` or ``strides`` skips.

    Returns:
      The averaged array, of the input's rank.

    Examples:
      >>> import jax.numpy as jnp, jaxpool.haiku
      >>> x = jnp.arange(9.0).reshape(1, 3, 3, 1)
      >>> jaxpool.haiku.avg_pool(x, window_shape=2, strides=2, padding="SAME")[..., 0]
      Array([[[2. , 3.5],
              [6.5, 8. ]]], dtype=float32)
    """
    return _haiku_pool(
        _avg_pool, value, window_shape, strides, padding, channel_axis, count_include_pad=False
    )


class MaxPool(hk.Module):
    """Max pooling as a Haiku module: :func:`max_pool` with fixed settings.

    The arguments are those of ``haiku.MaxPool`` and mean the same; they are
    checked here (``padding`` is ``"SAME"`` or ``"VALID"``, sizes are
    positive ints), the rank-dependent reading happens at the call.
    """

    def __init__(
        self,
        window_shape: int | Sequence[int],
        strides: int | Sequence[int],
        padding: str,
        channel_axis: int | None = -1,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        _check(window_shape, strides, padding)
        self.window_shape = window_shape
        self.strides = strides
        self.padding = padding
        self.channel_axis = channel_axis

    def __call__(self, value: jax.typing.ArrayLike) -> jax.Array:
        return max_pool(value, self.window_shape, self.strides, self.padding, self.channel_axis)


class AvgPool(MaxPool):
    """Average pooling as a Haiku module: :func:`avg_pool` with fixed
    settings, the arguments of ``haiku.AvgPool``."""

    def __call__(self, value: jax.typing.ArrayLike) -> jax.Array:
        return avg_pool(value, self.window_shape, self.strides, self.padding, self.channel_axis)
