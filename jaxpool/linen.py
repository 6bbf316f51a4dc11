"""jaxpool's pooling as ``flax.linen`` Modules: max, min, average, adaptive
and unpooling.

With Flax's arguments (``window_shape``, ``strides``, ``padding`` and
``count_include_pad``), :class:`MaxPool`, :class:`AvgPool` and
:class:`MinPool` give what ``flax.linen.max_pool``, ``flax.linen.avg_pool``
and ``flax.nnx.min_pool`` give, values and dtype bit for bit and gradients
to float rounding where windows overlap, except in these places (each
checked against Flax by tests/test_linen.py, with the cases of Flax's own
``PoolTest``):

* NaN and infinities: the values agree; the gradient goes to a window's
  first NaN, and never to padding while the window holds an input element,
  even one of ``-inf`` (``+inf`` for min pooling). Flax's (XLA's
  select-and-scatter) may give a NaN window's gradient to a number (``[NaN,
  1]``: to the 1), and a window of padding and ``-inf`` its gradient to the
  padding, where it is lost. Ties go to the first in both.
* Averages: integer sums do not wrap (Flax's int8 ``[100, 100]`` averages
  to ``-28.0``, here to ``100.0``), and 16-bit floats are summed in float32
  and rounded once (Flax sums in 16 bits: float16 ``[2048, 1, 1, 1]``
  averages to 512 there, 513 here). With ``count_include_pad=False`` Flax
  returns float32 for 16-bit inputs (its divisor is float32), these layers
  the input's dtype, and a window wholly in padding gives 0 here and ``0 /
  0``, NaN, in Flax. Bool inputs, which Flax's average refuses, count as 0
  and 1.
* Padding Flax passes on to ``lax.reduce_window`` and these layers refuse
  with a ``ValueError``: negative padding (Flax crops the input),
  ``"SAME_LOWER"`` and windows longer than the padded input (Flax returns
  an empty array).

Import it by name (``import jaxpool.linen``); ``import jaxpool`` does not
import Flax.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax

from jaxpool import _layers

nn = _layers.import_framework("flax.linen", "jaxpool.linen", "Flax", "flax")

__all__ = [
    "AdaptiveAvgPool",
    "AdaptiveMaxPool",
    "AvgPool",
    "MaxPool",
    "MaxUnpool",
    "MinPool",
]


class MaxPool(nn.Module):
    """Max pooling whose gradient goes to the switch of each window.

    A ``flax.linen.Module`` with no parameters or state: calling it is one
    call of :func:`jaxpool.max_pool` (or :func:`jaxpool.max_pool_with_argmax`
    with ``return_switches=True``) with these settings, so the selection
    rules (ties to the first position, NaN wins, ``-inf`` padding never
    selected while the window holds a real element, overlapping gradients
    summed) are those of the function. The settings are checked when the
    Module is built: bad ones raise ``TypeError`` or ``ValueError`` naming the
    value.

    Attributes:
      window_shape, strides, padding, window_dilation, ceil_mode, channel_axis, pad_value, autodiff:
        as the arguments of :func:`jaxpool.max_pool`, with its defaults
        (``strides=None`` and ``channel_axis=-1``, NHWC, are Flax's).
      return_switches: if true, the call returns ``(values, switches)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import jaxpool.linen
      >>> pool = jaxpool.linen.MaxPool((2, 2), strides=(2, 2))
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> pool.apply({}, x)[..., 0]
      Array([[[ 5.,  7.],
              [13., 15.]]], dtype=float32)
    """

    window_shape: Sequence[int]
    strides: int | Sequence[int] | None = None
    padding: Any = "VALID"
    window_dilation: int | Sequence[int] | None = None
    ceil_mode: bool = False
    channel_axis: int | None = -1
    pad_value: float = -math.inf
    autodiff: str = "vjp"
    return_switches: bool = False

    def __post_init__(self) -> None:
        for name in ("window_shape", "strides", "padding", "window_dilation"):
            # Frozen dataclass: settings become tuples before Flax sees them.
            object.__setattr__(self, name, _layers.frozen(getattr(self, name)))
        _layers.check_settings(self)
        super().__post_init__()

    def __call__(self, inputs: jax.typing.ArrayLike) -> Any:
        """Pools ``inputs``: the values, or ``(values, switches)``."""
        return _layers.pool(self, inputs)


class MinPool(MaxPool):
    """Min pooling whose gradient goes to the switch of each window.

    :class:`MaxPool` with :func:`jaxpool.min_pool`'s rules (ties to the
    first position, NaN wins, ``+inf`` padding never selected while the
    window holds a real element); ``pad_value`` defaults to ``+inf``. Its
    values equal ``flax.nnx.min_pool``'s (which is
    ``flax.linen.pooling.min_pool``; ``flax.linen`` does not export it) but
    where the module docstring says.

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.linen
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> jaxpool.linen.MinPool((2, 2), strides=(2, 2)).apply({}, x)[..., 0]
      Array([[[ 0.,  2.],
              [ 8., 10.]]], dtype=float32)
    """

    pad_value: float = math.inf

    def __call__(self, inputs: jax.typing.ArrayLike) -> Any:
        """Pools ``inputs``: the values, or ``(values, switches)``."""
        return _layers.pool(self, inputs, minimum=True)


class AvgPool(nn.Module):
    """Average pooling with PyTorch's divisor rules and ``ceil_mode``.

    A ``flax.linen.Module`` with no parameters: calling it is one call of
    :func:`jaxpool.avg_pool` with these settings. With the defaults
    (``count_include_pad=True``, no ``ceil_mode``) it equals
    ``flax.linen.avg_pool``; ``count_include_pad=False`` divides by the
    input elements of each window, as Flax's does; but for integer, 16-bit
    and wholly padded windows (the module docstring). Settings are checked
    when the Module is built.

    Attributes:
      window_shape, strides, padding, window_dilation, ceil_mode,
        count_include_pad, divisor_override, channel_axis: as the arguments
        of :func:`jaxpool.avg_pool` (``channel_axis=-1``: NHWC).

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.linen
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> jaxpool.linen.AvgPool((2, 2), strides=(2, 2)).apply({}, x)[..., 0]
      Array([[[ 2.5,  4.5],
              [10.5, 12.5]]], dtype=float32)
    """

    window_shape: Sequence[int]
    strides: int | Sequence[int] | None = None
    padding: Any = "VALID"
    window_dilation: int | Sequence[int] | None = None
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: int | None = None
    channel_axis: int | None = -1

    def __post_init__(self) -> None:
        for name in ("window_shape", "strides", "padding", "window_dilation"):
            object.__setattr__(self, name, _layers.frozen(getattr(self, name)))
        _layers.check_average_settings(self)
        super().__post_init__()

    def __call__(self, inputs: jax.typing.ArrayLike) -> jax.Array:
        """Averages ``inputs``."""
        return _layers.average(self, inputs)


class AdaptiveAvgPool(nn.Module):
    """Average pooling into a fixed output shape, with PyTorch's adaptive
    windows: one call of :func:`jaxpool.adaptive_avg_pool`. ``(1, 1)`` is
    global average pooling.

    Attributes:
      output_shape, channel_axis: as the arguments of
        :func:`jaxpool.adaptive_avg_pool` (``channel_axis=-1``: NHWC).

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.linen
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> jaxpool.linen.AdaptiveAvgPool((1, 1)).apply({}, x)[..., 0]
      Array([[[7.5]]], dtype=float32)
    """

    output_shape: Sequence[int | None]
    channel_axis: int | None = -1

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_shape", _layers.frozen(self.output_shape))
        _layers.check_adaptive_average_settings(self)
        super().__post_init__()

    def __call__(self, inputs: jax.typing.ArrayLike) -> jax.Array:
        """Averages ``inputs``."""
        return _layers.adaptive_average(self, inputs)


class AdaptiveMaxPool(nn.Module):
    """Max pooling into a fixed output shape, with PyTorch's adaptive windows.

    A ``flax.linen.Module`` with no parameters: calling it is one call of
    :func:`jaxpool.adaptive_max_pool` (or
    :func:`jaxpool.adaptive_max_pool_with_argmax` with
    ``return_switches=True``), whose windows and rules it has. ``output_shape``
    ``(1, 1)`` is global max pooling; ``None`` keeps an axis.

    Attributes:
      output_shape, channel_axis, autodiff: as the arguments of
        :func:`jaxpool.adaptive_max_pool` (``channel_axis=-1``: NHWC).
      return_switches: if true, the call returns ``(values, switches)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.linen
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> jaxpool.linen.AdaptiveMaxPool((1, 1)).apply({}, x)[..., 0]
      Array([[[15.]]], dtype=float32)
    """

    output_shape: Sequence[int | None]
    channel_axis: int | None = -1
    autodiff: str = "vjp"
    return_switches: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_shape", _layers.frozen(self.output_shape))
        _layers.check_adaptive_settings(self)
        super().__post_init__()

    def __call__(self, inputs: jax.typing.ArrayLike) -> Any:
        """Pools ``inputs``: the values, or ``(values, switches)``."""
        return _layers.adaptive_pool(self, inputs)


class MaxUnpool(nn.Module):
    """Places pooled values back where their switches say: a SegNet-style
    decoder's upsampling.

    A ``flax.linen.Module`` with no parameters: calling it is one call of
    :func:`jaxpool.max_unpool` with these settings, which must be those of the
    :class:`MaxPool` (``return_switches=True``) that produced the switches.

    Attributes:
      window_shape, strides, padding, window_dilation, ceil_mode, channel_axis, combine:
        as the arguments of :func:`jaxpool.max_unpool`.

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.linen
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> values, switches = jaxpool.linen.MaxPool(
      ...     (2, 2), (2, 2), return_switches=True).apply({}, x)
      >>> jaxpool.linen.MaxUnpool((2, 2), (2, 2)).apply({}, values, switches, x.shape)[0, ..., 0]
      Array([[ 0.,  0.,  0.,  0.],
             [ 0.,  5.,  0.,  7.],
             [ 0.,  0.,  0.,  0.],
             [ 0., 13.,  0., 15.]], dtype=float32)
    """

    window_shape: Sequence[int]
    strides: int | Sequence[int] | None = None
    padding: Any = "VALID"
    window_dilation: int | Sequence[int] | None = None
    ceil_mode: bool = False
    channel_axis: int | None = -1
    combine: str = "sum"

    def __post_init__(self) -> None:
        for name in ("window_shape", "strides", "padding", "window_dilation"):
            object.__setattr__(self, name, _layers.frozen(getattr(self, name)))
        _layers.check_unpool_settings(self)
        super().__post_init__()

    def __call__(
        self, values: jax.typing.ArrayLike, switches: jax.typing.ArrayLike, input_shape: Any
    ) -> jax.Array:
        """Unpools ``values`` into an array of ``input_shape``."""
        return _layers.unpool(self, values, switches, input_shape)
