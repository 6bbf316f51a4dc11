"""jaxpool's pooling as ``flax.nnx`` Modules: max, min, average, adaptive
and unpooling.

The layers make the calls :mod:`jaxpool.linen`'s make, and ``flax.nnx``'s
pooling functions are ``flax.linen``'s: with Flax's arguments,
:class:`MaxPool`, :class:`AvgPool` and :class:`MinPool` give what
``flax.nnx.max_pool``, ``avg_pool`` and ``min_pool`` give except where
:mod:`jaxpool.linen`'s docstring says (NaN and infinities in the gradient,
integer and 16-bit averages, wholly padded windows, and negative,
``"SAME_LOWER"`` or over-long padding, refused here), each checked against
``flax.nnx`` by tests/test_nnx.py with the cases of Flax's own pooling tests.

Import it by name (``import jaxpool.nnx``); ``import jaxpool`` does not
import Flax.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax

from jaxpool import _layers

nnx = _layers.import_framework("flax.nnx", "jaxpool.nnx", "Flax", "flax")

__all__ = [
    "AdaptiveAvgPool",
    "AdaptiveMaxPool",
    "AvgPool",
    "MaxPool",
    "MaxUnpool",
    "MinPool",
]


class MaxPool(nnx.Module):
    """Max pooling whose gradient goes to the switch of each window.

    A ``flax.nnx.Module`` with no parameters or state (every setting is a
    static attribute): calling it is one call of :func:`jaxpool.max_pool`
    (or :func:`jaxpool.max_pool_with_argmax` with ``return_switches=True``),
    so the selection rules (ties to the first position, NaN wins, ``-inf``
    padding never selected while the window holds a real element,
    overlapping gradients summed) are those of the function. The settings
    are checked here: bad ones raise ``TypeError`` or ``ValueError`` naming
    the value.

    The arguments are :func:`jaxpool.max_pool`'s, with its defaults, and
    ``return_switches``: if true, the call returns ``(values, switches)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.nnx
      >>> pool = jaxpool.nnx.MaxPool((2, 2), strides=(2, 2))
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> pool(x)[..., 0]
      Array([[[ 5.,  7.],
              [13., 15.]]], dtype=float32)
    """

    def __init__(
        self,
        window_shape: Sequence[int],
        strides: int | Sequence[int] | None = None,
        padding: Any = "VALID",
        *,
        window_dilation: int | Sequence[int] | None = None,
        ceil_mode: bool = False,
        channel_axis: int | None = -1,
        pad_value: float = -math.inf,
        autodiff: str = "vjp",
        return_switches: bool = False,
    ) -> None:
        window_shape, strides, padding, window_dilation = map(
            _layers.frozen, (window_shape, strides, padding, window_dilation)
        )
        self.window_shape = window_shape
        self.strides = strides
        self.padding = padding
        self.window_dilation = window_dilation
        self.ceil_mode = ceil_mode
        self.channel_axis = channel_axis
        self.pad_value = pad_value
        self.autodiff = autodiff
        self.return_switches = return_switches
        _layers.check_settings(self)

    def __call__(self, inputs: jax.typing.ArrayLike) -> Any:
        """Pools ``inputs``: the values, or ``(values, switches)``."""
        return _layers.pool(self, inputs)


class MinPool(MaxPool):
    """Min pooling whose gradient goes to the switch of each window.

    :class:`MaxPool` with :func:`jaxpool.min_pool`'s rules (ties to the
    first position, NaN wins, ``+inf`` padding never selected while the
    window holds a real element); ``pad_value`` defaults to ``+inf``, as
    ``flax.nnx.min_pool`` pads, whose values it gives but where the module
    docstring says.

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.nnx
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> jaxpool.nnx.MinPool((2, 2), strides=(2, 2))(x)[..., 0]
      Array([[[ 0.,  2.],
              [ 8., 10.]]], dtype=float32)
    """

    def __init__(
        self,
        window_shape: Sequence[int],
        strides: int | Sequence[int] | None = None,
        padding: Any = "VALID",
        *,
        pad_value: float = math.inf,
        **settings: Any,
    ) -> None:
        super().__init__(window_shape, strides, padding, pad_value=pad_value, **settings)

    def __call__(self, inputs: jax.typing.ArrayLike) -> Any:
        """Pools ``inputs``: the values, or ``(values, switches)``."""
        return _layers.pool(self, inputs, minimum=True)


class AvgPool(nnx.Module):
    """Average pooling with PyTorch's divisor rules and ``ceil_mode``: one
    call of :func:`jaxpool.avg_pool`, whose arguments (and defaults) these
    are. With the defaults it equals ``flax.nnx.avg_pool``;
    ``count_include_pad=False`` divides by the input elements of each
    window, as Flax's does; but for integer, 16-bit and wholly padded
    windows (the module docstring).

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.nnx
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> jaxpool.nnx.AvgPool((2, 2), strides=(2, 2))(x)[..., 0]
      Array([[[ 2.5,  4.5],
              [10.5, 12.5]]], dtype=float32)
    """

    def __init__(
        self,
        window_shape: Sequence[int],
        strides: int | Sequence[int] | None = None,
        padding: Any = "VALID",
        *,
        window_dilation: int | Sequence[int] | None = None,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
        channel_axis: int | None = -1,
    ) -> None:
        window_shape, strides, padding, window_dilation = map(
            _layers.frozen, (window_shape, strides, padding, window_dilation)
        )
        self.window_shape = window_shape
        self.strides = strides
        self.padding = padding
        self.window_dilation = window_dilation
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override
        self.channel_axis = channel_axis
        _layers.check_average_settings(self)

    def __call__(self, inputs: jax.typing.ArrayLike) -> jax.Array:
        """Averages ``inputs``."""
        return _layers.average(self, inputs)


class AdaptiveAvgPool(nnx.Module):
    """Average pooling into a fixed output shape, with PyTorch's adaptive
    windows: one call of :func:`jaxpool.adaptive_avg_pool`, whose arguments
    these are. ``(1, 1)`` is global average pooling.

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.nnx
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> jaxpool.nnx.AdaptiveAvgPool((1, 1))(x)[..., 0]
      Array([[[7.5]]], dtype=float32)
    """

    def __init__(self, output_shape: Sequence[int | None], *, channel_axis: int | None = -1):
        self.output_shape = _layers.frozen(output_shape)
        self.channel_axis = channel_axis
        _layers.check_adaptive_average_settings(self)

    def __call__(self, inputs: jax.typing.ArrayLike) -> jax.Array:
        """Averages ``inputs``."""
        return _layers.adaptive_average(self, inputs)


class AdaptiveMaxPool(nnx.Module):
    """Max pooling into a fixed output shape, with PyTorch's adaptive windows.

    A ``flax.nnx.Module`` with no parameters or state: calling it is one call
    of :func:`jaxpool.adaptive_max_pool` (or
    :func:`jaxpool.adaptive_max_pool_with_argmax` with
    ``return_switches=True``), whose windows and rules it has. The arguments
    are that function's; ``(1, 1)`` is global max pooling.

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.nnx
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> jaxpool.nnx.AdaptiveMaxPool((1, 1))(x)[..., 0]
      Array([[[15.]]], dtype=float32)
    """

    def __init__(
        self,
        output_shape: Sequence[int | None],
        *,
        channel_axis: int | None = -1,
        autodiff: str = "vjp",
        return_switches: bool = False,
    ) -> None:
        self.output_shape = _layers.frozen(output_shape)
        self.channel_axis = channel_axis
        self.autodiff = autodiff
        self.return_switches = return_switches
        _layers.check_adaptive_settings(self)

    def __call__(self, inputs: jax.typing.ArrayLike) -> Any:
        """Pools ``inputs``: the values, or ``(values, switches)``."""
        return _layers.adaptive_pool(self, inputs)


class MaxUnpool(nnx.Module):
    """Places pooled values back where their switches say: a SegNet-style
    decoder's upsampling, one call of :func:`jaxpool.max_unpool`.

    The arguments are :func:`jaxpool.max_unpool`'s settings, which must be
    those of the :class:`MaxPool` (``return_switches=True``) that produced the
    switches.

    Examples:
      >>> import jax.numpy as jnp
      >>> import jaxpool.nnx
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> values, switches = jaxpool.nnx.MaxPool((2, 2), (2, 2), return_switches=True)(x)
      >>> jaxpool.nnx.MaxUnpool((2, 2), (2, 2))(values, switches, x.shape)[0, ..., 0]
      Array([[ 0.,  0.,  0.,  0.],
             [ 0.,  5.,  0.,  7.],
             [ 0.,  0.,  0.,  0.],
             [ 0., 13.,  0., 15.]], dtype=float32)
    """

    def __init__(
        self,
        window_shape: Sequence[int],
        strides: int | Sequence[int] | None = None,
        padding: Any = "VALID",
        *,
        window_dilation: int | Sequence[int] | None = None,
        ceil_mode: bool = False,
        channel_axis: int | None = -1,
        combine: str = "sum",
    ) -> None:
        window_shape, strides, padding, window_dilation = map(
            _layers.frozen, (window_shape, strides, padding, window_dilation)
        )
        self.window_shape = window_shape
        self.strides = strides
        self.padding = padding
        self.window_dilation = window_dilation
        self.ceil_mode = ceil_mode
        self.channel_axis = channel_axis
        self.combine = combine
        _layers.check_unpool_settings(self)

    def __call__(
        self, values: jax.typing.ArrayLike, switches: jax.typing.ArrayLike, input_shape: Any
    ) -> jax.Array:
        """Unpools ``values`` into an array of ``input_shape``."""
        return _layers.unpool(self, values, switches, input_shape)
