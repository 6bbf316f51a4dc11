"""jaxpool's max pooling as a ``flax.linen`` Module.

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

__all__ = ["MaxPool"]


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
      window_shape, strides, padding, window_dilation, ceil_mode,
        channel_axis, pad_value, autodiff: as the arguments of
        :func:`jaxpool.max_pool`, with its defaults (``strides=None`` and
        ``channel_axis=-1``, NHWC, are Flax's).
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
