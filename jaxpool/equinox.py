"""Drop-in replacements for Equinox's ``MaxPool1d``, ``MaxPool2d``,
``MaxPool3d``, the general ``Pool`` with ``lax.max``, ``AvgPool1d/2d/3d``
and (with PyTorch's windows) ``AdaptiveMaxPool``/``AdaptiveAvgPool``.

Same signatures, the same unbatched channels-first layout ``(channels,
*spatial)`` and the same ``use_ceil`` rule as Equinox, so swapping
``eqx.nn.MaxPool2d`` for ``jaxpool.equinox.MaxPool2d`` changes no value or
dtype, and no gradient beyond float rounding where windows overlap, except
in these places (each checked against Equinox by tests/test_equinox.py, with
the cases of Equinox's own pooling tests):

* NaN and ``-inf``: the values agree; the gradient goes to a window's
  first NaN, and never to padding while the window holds an input element,
  even one of ``-inf``. Equinox's (XLA's select-and-scatter) may give a NaN
  window's gradient to a number (``[NaN, 1]``: to the 1), and a window of
  padding and ``-inf`` its gradient to the padding, where it is lost. Ties
  go to the first maximum in both.
* Averages: integer sums do not wrap (Equinox's int8 ``[100, 100]``
  averages to ``-28.0``, here to ``100.0``), and 16-bit floats are summed in
  float32 and rounded once (Equinox sums in 16 bits: float16 ``[2048, 1, 1,
  1]`` averages to 512 there, 513 here). Bool inputs, which Equinox's
  averages refuse, count as 0 and 1.
* The adaptive layers take PyTorch's windows, which differ from Equinox's
  wherever the target does not divide the input (see
  :class:`AdaptiveMaxPool`), and their max's gradient goes to the first of
  tied maxima, or the first NaN, where Equinox's (``jnp.max``'s) splits it
  between tied maxima and sends none of it to a NaN (zeros jitted, NaN
  eagerly).
* Settings Equinox reads and these layers refuse, with a ``ValueError``:
  negative padding (Equinox's forward pass crops the input), windows longer
  than the padded input (Equinox returns an empty array) and padding larger
  than the window (Equinox raises ``RuntimeError``).

Two settings Equinox lacks: ``window_dilation`` and ``return_switches``.
Import it by name (``import jaxpool.equinox``); ``import jaxpool`` does not
import Equinox.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Sequence
from typing import Any
from typing import ClassVar

import jax
import numpy as np

from jaxpool import _layers
from jaxpool import adaptive_avg_pool
from jaxpool import adaptive_max_pool_with_argmax
from jaxpool import avg_pool
from jaxpool import max_pool_with_argmax
from jaxpool import max_unpool
from jaxpool._geometry import adaptive_geometry
from jaxpool._geometry import pool_geometry

eqx = _layers.import_framework("equinox", "jaxpool.equinox", "Equinox", "equinox")

__all__ = [
    "AdaptiveAvgPool",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AvgPool",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "MaxPool",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MaxUnpool",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
]


def _check_unbatched(x: Any, num_spatial_dims: int) -> None:
    """Equinox layers take one example: ``(channels, *spatial)``. A batch
    (one more leading axis) is told to use ``jax.vmap``."""
    if np.ndim(x) == num_spatial_dims + 1:
        return
    dims = ", ".join(f"dim_{i}" for i in range(1, num_spatial_dims + 1))
    message = f"input must have shape (channels, {dims}); got shape {np.shape(x)}"
    if np.ndim(x) == num_spatial_dims + 2:
        message += (
            ". Equinox layers take one unbatched example; for a batch, map the layer "
            "over it: jax.vmap(layer)(x)"
        )
    raise ValueError(message)


class _SlidingWindows(eqx.Module):
    """Equinox's window settings, checked and spelt out per axis, and its
    ``use_ceil`` padding rule: what :class:`MaxPool` and :class:`AvgPool`
    share."""

    num_spatial_dims: int = eqx.field(static=True)
    kernel_size: tuple[int, ...] = eqx.field(static=True)
    stride: tuple[int, ...] = eqx.field(static=True)
    padding: tuple[tuple[int, int], ...] = eqx.field(static=True)
    use_ceil: bool = eqx.field(static=True)
    window_dilation: tuple[int, ...] = eqx.field(static=True)

    def __init__(
        self,
        num_spatial_dims: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | Sequence[tuple[int, int]] = 0,
        use_ceil: bool = False,
        window_dilation: int | Sequence[int] = 1,
    ) -> None:
        if not isinstance(num_spatial_dims, numbers.Integral) or num_spatial_dims < 1:
            raise ValueError(f"num_spatial_dims must be a positive int; got {num_spatial_dims!r}")
        kernel_size = _layers.frozen(kernel_size)
        if isinstance(kernel_size, numbers.Integral) and not isinstance(kernel_size, bool):
            kernel_size = (kernel_size,) * num_spatial_dims
        if isinstance(kernel_size, tuple) and len(kernel_size) != num_spatial_dims:
            raise ValueError(
                f"kernel_size must be an int or {num_spatial_dims} ints; got {kernel_size!r}"
            )
        if not isinstance(use_ceil, (bool, np.bool_)):
            raise TypeError(f"use_ceil must be a bool; got {use_ceil!r}")
        # The core checks the settings and spells them out per axis.
        geometry = pool_geometry(
            _layers.example_shape(kernel_size, _layers.frozen(window_dilation), 0),
            np.float32,
            kernel_size,
            _layers.frozen(stride),
            _layers.frozen(padding),
            window_dilation=_layers.frozen(window_dilation),
            channel_axis=0,
        )
        self.num_spatial_dims = int(num_spatial_dims)
        self.kernel_size = geometry.window_shape
        self.stride = geometry.strides
        self.window_dilation = geometry.window_dilation
        self.padding = geometry.padding
        self.use_ceil = bool(use_ceil)
        self._check_padding(self.padding)

    def _spans(self) -> tuple[int, ...]:
        return tuple(
            dilation * (window - 1) + 1
            for window, dilation in zip(self.kernel_size, self.window_dilation)
        )

    def _check_padding(self, padding: tuple[tuple[int, int], ...]) -> None:
        for (low, high), span in zip(padding, self._spans()):
            if max(low, high) > span:
                raise ValueError(
                    f"padding {(low, high)} is larger than the window ({span}); "
                    "Equinox refuses it too"
                )

    def _ceil_padding(self, spatial_shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
        """Equinox's ``use_ceil``: ``stride`` more high padding on every axis
        whose windows do not end exactly at the end of the padded input."""
        padding = []
        for length, (low, high), span, stride in zip(
            spatial_shape, self.padding, self._spans(), self.stride
        ):
            fits = (length + low + high - span) % stride == 0
            padding.append((low, high) if fits else (low, high + stride))
        return tuple(padding)

    def _call_padding(self, x: Any) -> tuple[tuple[int, int], ...]:
        """The padding for ``x`` (checked to be one unbatched example)."""
        _check_unbatched(x, self.num_spatial_dims)
        if not self.use_ceil:
            return self.padding
        padding = self._ceil_padding(np.shape(x)[1:])
        self._check_padding(padding)
        return padding


class MaxPool(_SlidingWindows):
    """Max pooling over ``num_spatial_dims`` axes of an unbatched input.

    The input is ``(channels, dim_1, ..., dim_N)``, as in Equinox; use
    ``jax.vmap`` for a batch. The selection rules are those of
    :func:`jaxpool.max_pool`: ties go to the first position in row-major
    window order, NaN wins, padding (``-inf``) is never selected while the
    window holds a real element, and overlapping windows add their gradients
    (where Equinox's gradient differs: the module docstring).

    ``use_ceil`` follows Equinox's rule, not PyTorch's ``ceil_mode``: on an
    axis whose windows do not end exactly at the end of the padded input, the
    high padding grows by ``stride`` (PyTorch adds one window if it starts
    before the high padding), and, as in Equinox, padding larger than the
    window is refused, also when ``use_ceil`` made it so. With padding within
    PyTorch's limit (half the window), the settings Equinox accepts give
    PyTorch's number of windows; where it refuses them,
    ``jaxpool.max_pool(..., ceil_mode=True)`` gives PyTorch's answer.

    Args:
      num_spatial_dims: the number ``N`` of pooled axes.
      kernel_size: window size, an int or ``N`` ints.
      stride: step between windows, an int or ``N`` ints.
      padding: an int, ``N`` ints (the same low and high) or ``N``
        ``(low, high)`` pairs.
      use_ceil: one more window where the windows do not fit exactly.
      window_dilation: spacing of window elements, an int or ``N`` ints
        (``use_ceil`` and the padding limit then use the dilated window).
      return_switches: if true, the call returns ``(values, switches)``, the
        switches being each max's row-major offset within its window.
      autodiff: ``"vjp"`` (reverse mode) or ``"jvp"`` (forward mode too).

    Raises:
      TypeError, ValueError: a bad setting, naming the value.
    """

    return_switches: bool = eqx.field(static=True)
    autodiff: str = eqx.field(static=True)

    def __init__(
        self,
        num_spatial_dims: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | Sequence[tuple[int, int]] = 0,
        use_ceil: bool = False,
        *,
        window_dilation: int | Sequence[int] = 1,
        return_switches: bool = False,
        autodiff: str = "vjp",
    ) -> None:
        _layers.check_flags(autodiff, return_switches)
        super().__init__(num_spatial_dims, kernel_size, stride, padding, use_ceil, window_dilation)
        self.return_switches = bool(return_switches)
        self.autodiff = autodiff

    def __call__(self, x: jax.Array, *, key: Any = None) -> Any:
        """Pools ``x`` of shape ``(channels, dim_1, ..., dim_N)``.

        Args:
          x: the unbatched input.
          key: ignored, as in Equinox.

        Returns:
          ``(channels, new_dim_1, ..., new_dim_N)``, or ``(values, switches)``
          of that shape with ``return_switches=True``.
        """
        del key
        values, switches = max_pool_with_argmax(
            x,
            self.kernel_size,
            self.stride,
            self._call_padding(x),
            window_dilation=self.window_dilation,
            channel_axis=0,
            autodiff=self.autodiff,
        )
        return (values, switches) if self.return_switches else values


def _fixed_dims(base: type) -> type:
    """``base`` with the number of spatial axes set by the subclass (its
    ``spatial_dims``): the arguments are ``base``'s after
    ``num_spatial_dims``."""

    class FixedDims(base):
        spatial_dims: ClassVar[int]

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(self.spatial_dims, *args, **kwargs)

    # Shown by help() and inspect.signature: base's, without num_spatial_dims.
    signature = inspect.signature(base.__init__)
    FixedDims.__init__.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for name, p in signature.parameters.items() if name != "num_spatial_dims"]
    )
    FixedDims.__name__ = FixedDims.__qualname__ = f"_FixedDims{base.__name__}"
    return FixedDims


_FixedDims = _fixed_dims(MaxPool)


class MaxPool1d(_FixedDims):
    """:class:`MaxPool` over one spatial axis: input ``(channels, dim)``."""

    spatial_dims = 1


class MaxPool2d(_FixedDims):
    """:class:`MaxPool` over two spatial axes: input ``(channels, dim_1, dim_2)``.

    Examples:
      >>> import jax.numpy as jnp, jaxpool.equinox
      >>> pool = jaxpool.equinox.MaxPool2d(2, stride=2)
      >>> pool(jnp.arange(16.0).reshape(1, 4, 4))
      Array([[[ 5.,  7.],
              [13., 15.]]], dtype=float32)
    """

    spatial_dims = 2


class MaxPool3d(_FixedDims):
    """:class:`MaxPool` over three spatial axes: input ``(channels, d1, d2, d3)``."""

    spatial_dims = 3


class AvgPool(_SlidingWindows):
    """Average pooling over ``num_spatial_dims`` axes of an unbatched input,
    with Equinox's conventions: equal to ``eqx.nn.AvgPool1d/2d/3d``, but for
    int8 and int16 sums (which wrap in Equinox and not here) and 16-bit
    floats (summed in float32 here, in 16 bits in Equinox).

    The input is ``(channels, dim_1, ..., dim_N)``; use ``jax.vmap`` for a
    batch. As in Equinox, every window's sum is divided by the full window
    size ``prod(kernel_size)``: padded positions count, including the extra
    high padding of ``use_ceil`` (Equinox's rule above, in
    :class:`MaxPool`). PyTorch's ``ceil_mode`` differs: its extra window is
    divided by the positions in the input and its padding only; use
    :func:`jaxpool.avg_pool` (``ceil_mode=True``) or
    :func:`jaxpool.functional.avg_pool2d` for PyTorch's divisor. The
    gradient is the transpose of the window sum (no residual, no scatter).

    Args:
      num_spatial_dims: the number ``N`` of pooled axes.
      kernel_size: window size, an int or ``N`` ints.
      stride: step between windows, an int or ``N`` ints.
      padding: an int, ``N`` ints or ``N`` ``(low, high)`` pairs; at most
        the window, as Equinox requires.
      use_ceil: Equinox's ``use_ceil``.

    Raises:
      TypeError, ValueError: a bad setting, naming the value.
    """

    def __init__(
        self,
        num_spatial_dims: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | Sequence[tuple[int, int]] = 0,
        use_ceil: bool = False,
    ) -> None:
        super().__init__(num_spatial_dims, kernel_size, stride, padding, use_ceil)

    def __call__(self, x: jax.Array, *, key: Any = None) -> jax.Array:
        """Averages ``x`` of shape ``(channels, dim_1, ..., dim_N)``;
        ``key`` is ignored, as in Equinox."""
        del key
        padding = self._call_padding(x)
        # The padding is explicit (use_ceil's included), so every window
        # position lies in the input or the padding: the divisor is the
        # full window, Equinox's.
        return avg_pool(
            x,
            self.kernel_size,
            self.stride,
            padding,
            divisor_override=math.prod(self.kernel_size),
            channel_axis=0,
        )


_FixedDimsAvg = _fixed_dims(AvgPool)


class AvgPool1d(_FixedDimsAvg):
    """:class:`AvgPool` over one spatial axis: input ``(channels, dim)``."""

    spatial_dims = 1


class AvgPool2d(_FixedDimsAvg):
    """:class:`AvgPool` over two spatial axes: input ``(channels, dim_1, dim_2)``.

    Examples:
      >>> import jax.numpy as jnp, jaxpool.equinox
      >>> jaxpool.equinox.AvgPool2d(2, stride=2)(jnp.arange(16.0).reshape(1, 4, 4))
      Array([[[ 2.5,  4.5],
              [10.5, 12.5]]], dtype=float32)
    """

    spatial_dims = 2


class AvgPool3d(_FixedDimsAvg):
    """:class:`AvgPool` over three spatial axes: input ``(channels, d1, d2, d3)``."""

    spatial_dims = 3


class _TargetShape(eqx.Module):
    """An adaptive layer's ``target_shape``, checked, and its input check."""

    target_shape: tuple[int | None, ...] = eqx.field(static=True)

    def __init__(self, target_shape: int | Sequence[int | None], num_spatial_dims: int) -> None:
        if not isinstance(num_spatial_dims, numbers.Integral) or num_spatial_dims < 1:
            raise ValueError(f"num_spatial_dims must be a positive int; got {num_spatial_dims!r}")
        target_shape = _layers.frozen(target_shape)
        if isinstance(target_shape, numbers.Integral) and not isinstance(target_shape, bool):
            target_shape = (target_shape,) * num_spatial_dims
        if not isinstance(target_shape, tuple) or len(target_shape) != num_spatial_dims:
            raise ValueError(
                f"target_shape must be an int or {num_spatial_dims} entries; got {target_shape!r}"
            )
        adaptive_geometry((1,) * (num_spatial_dims + 1), target_shape, channel_axis=0)
        self.target_shape = target_shape


class AdaptiveMaxPool(_TargetShape):
    """Adaptive max pooling of an unbatched ``(channels, *spatial)`` input
    to ``target_shape``, with PyTorch's windows.

    Window ``i`` of an axis of length ``L`` pooled to ``n`` covers
    ``floor(i * L / n) <= j < ceil((i + 1) * L / n)``, as in
    ``torch.nn.AdaptiveMaxPool2d``: windows may overlap. Equinox's own
    ``eqx.nn.AdaptiveMaxPool2d`` chooses other windows: disjoint ones, the
    first ``L % n`` of ``L // n + 1`` elements and the rest of ``L // n``, so
    the two differ wherever ``n`` does not divide ``L`` (they agree where it
    does, and for global pooling). Equinox also refuses ``n > L``; here it is
    allowed, as in PyTorch. The rules are those of
    :func:`jaxpool.adaptive_max_pool` (ties to the first element in row-major
    order, NaN wins, overlapping gradients add): where Equinox's windows are
    these, its gradient splits between tied maxima and sends none to a NaN,
    where this one goes to the first. Use ``jax.vmap`` for a batch.

    Args:
      target_shape: an int (every spatial axis) or one entry per spatial axis;
        ``None`` keeps an axis.
      num_spatial_dims: the number of pooled axes.
      return_switches: if true, the call returns ``(values, switches)``.
      autodiff: ``"vjp"`` (reverse mode) or ``"jvp"`` (forward mode too).
    """

    return_switches: bool = eqx.field(static=True)
    autodiff: str = eqx.field(static=True)

    def __init__(
        self,
        target_shape: int | Sequence[int | None],
        num_spatial_dims: int,
        *,
        return_switches: bool = False,
        autodiff: str = "vjp",
    ) -> None:
        super().__init__(target_shape, num_spatial_dims)
        _layers.check_flags(autodiff, return_switches)
        self.return_switches = bool(return_switches)
        self.autodiff = autodiff

    def __call__(self, x: jax.Array, *, key: Any = None) -> Any:
        """Pools ``x`` of shape ``(channels, *spatial)`` to ``(channels,
        *target_shape)``; ``key`` is ignored, as in Equinox."""
        del key
        _check_unbatched(x, len(self.target_shape))
        values, switches = adaptive_max_pool_with_argmax(
            x, self.target_shape, channel_axis=0, autodiff=self.autodiff
        )
        return (values, switches) if self.return_switches else values


class AdaptiveMaxPool1d(AdaptiveMaxPool):
    """:class:`AdaptiveMaxPool` over one spatial axis: input ``(channels, dim)``."""

    def __init__(self, target_shape: int | Sequence[int | None], **kwargs: Any) -> None:
        super().__init__(target_shape, 1, **kwargs)


class AdaptiveMaxPool2d(AdaptiveMaxPool):
    """:class:`AdaptiveMaxPool` over two spatial axes.

    Examples:
      >>> import jax.numpy as jnp, jaxpool.equinox
      >>> jaxpool.equinox.AdaptiveMaxPool2d(1)(jnp.arange(16.0).reshape(1, 4, 4))
      Array([[[15.]]], dtype=float32)
    """

    def __init__(self, target_shape: int | Sequence[int | None], **kwargs: Any) -> None:
        super().__init__(target_shape, 2, **kwargs)


class AdaptiveMaxPool3d(AdaptiveMaxPool):
    """:class:`AdaptiveMaxPool` over three spatial axes."""

    def __init__(self, target_shape: int | Sequence[int | None], **kwargs: Any) -> None:
        super().__init__(target_shape, 3, **kwargs)


class AdaptiveAvgPool(_TargetShape):
    """Adaptive average pooling of an unbatched ``(channels, *spatial)``
    input to ``target_shape``, with PyTorch's windows.

    One call of :func:`jaxpool.adaptive_avg_pool`: window ``i`` of an axis of
    length ``L`` pooled to ``n`` covers ``floor(i * L / n) <= j < ceil((i +
    1) * L / n)`` and is divided by its size, as ``torch.nn.AdaptiveAvgPool2d``.
    Equinox's own ``eqx.nn.AdaptiveAvgPool2d`` takes disjoint windows (the
    first ``L % n`` of ``L // n + 1`` elements, the rest of ``L // n``), so
    the two agree where ``n`` divides ``L`` and for global pooling, and
    differ otherwise; Equinox refuses ``n > L``, allowed here. Use
    ``jax.vmap`` for a batch.

    Args:
      target_shape: an int (every spatial axis) or one entry per spatial
        axis; ``None`` keeps an axis.
      num_spatial_dims: the number of pooled axes.
    """

    def __call__(self, x: jax.Array, *, key: Any = None) -> jax.Array:
        """Averages ``x`` of shape ``(channels, *spatial)`` to ``(channels,
        *target_shape)``; ``key`` is ignored, as in Equinox."""
        del key
        _check_unbatched(x, len(self.target_shape))
        return adaptive_avg_pool(x, self.target_shape, channel_axis=0)


class AdaptiveAvgPool1d(AdaptiveAvgPool):
    """:class:`AdaptiveAvgPool` over one spatial axis: input ``(channels, dim)``."""

    def __init__(self, target_shape: int | Sequence[int | None]) -> None:
        super().__init__(target_shape, 1)


class AdaptiveAvgPool2d(AdaptiveAvgPool):
    """:class:`AdaptiveAvgPool` over two spatial axes.

    Examples:
      >>> import jax.numpy as jnp, jaxpool.equinox
      >>> jaxpool.equinox.AdaptiveAvgPool2d(1)(jnp.arange(16.0).reshape(1, 4, 4))
      Array([[[7.5]]], dtype=float32)
    """

    def __init__(self, target_shape: int | Sequence[int | None]) -> None:
        super().__init__(target_shape, 2)


class AdaptiveAvgPool3d(AdaptiveAvgPool):
    """:class:`AdaptiveAvgPool` over three spatial axes."""

    def __init__(self, target_shape: int | Sequence[int | None]) -> None:
        super().__init__(target_shape, 3)


class MaxUnpool(eqx.Module):
    """Places pooled values of an unbatched ``(channels, *spatial)`` input back
    where the switches of a :class:`MaxPool` (``return_switches=True``) with
    the same settings say; zeros elsewhere. One call of
    :func:`jaxpool.max_unpool`; use ``jax.vmap`` for a batch.

    Args:
      num_spatial_dims, kernel_size, stride, padding, window_dilation: as for
        :class:`MaxPool` (whose ``use_ceil`` padding, if used, must be passed
        as ``padding``).
      combine: ``"sum"`` (default, the route of the gradient) or ``"max"``
        where overlapping windows put several values on one element.
    """

    num_spatial_dims: int = eqx.field(static=True)
    kernel_size: tuple[int, ...] = eqx.field(static=True)
    stride: tuple[int, ...] = eqx.field(static=True)
    padding: tuple[tuple[int, int], ...] = eqx.field(static=True)
    window_dilation: tuple[int, ...] = eqx.field(static=True)
    combine: str = eqx.field(static=True)

    def __init__(
        self,
        num_spatial_dims: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | Sequence[tuple[int, int]] = 0,
        *,
        window_dilation: int | Sequence[int] = 1,
        combine: str = "sum",
    ) -> None:
        pool = MaxPool(
            num_spatial_dims, kernel_size, stride, padding, window_dilation=window_dilation
        )
        if combine not in ("sum", "max"):
            raise ValueError(f"combine must be 'sum' or 'max'; got {combine!r}")
        self.num_spatial_dims = pool.num_spatial_dims
        self.kernel_size = pool.kernel_size
        self.stride = pool.stride
        self.padding = pool.padding
        self.window_dilation = pool.window_dilation
        self.combine = combine

    def __call__(
        self, x: jax.Array, switches: jax.Array, output_shape: Sequence[int], *, key: Any = None
    ) -> jax.Array:
        """Unpools ``x`` into ``(channels, *output_shape)``; ``output_shape``
        is the pooled input's spatial shape (or its whole shape)."""
        del key
        output_shape = tuple(output_shape)[-self.num_spatial_dims :]
        return max_unpool(
            x,
            switches,
            (*np.shape(x)[:1], *output_shape),
            self.kernel_size,
            self.stride,
            self.padding,
            window_dilation=self.window_dilation,
            channel_axis=0,
            combine=self.combine,
        )


class MaxUnpool2d(MaxUnpool):
    """:class:`MaxUnpool` over two spatial axes.

    Examples:
      >>> import jax.numpy as jnp, jaxpool.equinox
      >>> x = jnp.arange(16.0).reshape(1, 4, 4)
      >>> values, switches = jaxpool.equinox.MaxPool2d(2, 2, return_switches=True)(x)
      >>> jaxpool.equinox.MaxUnpool2d(2, 2)(values, switches, x.shape)
      Array([[[ 0.,  0.,  0.,  0.],
              [ 0.,  5.,  0.,  7.],
              [ 0.,  0.,  0.,  0.],
              [ 0., 13.,  0., 15.]]], dtype=float32)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(2, *args, **kwargs)


class MaxUnpool1d(MaxUnpool):
    """:class:`MaxUnpool` over one spatial axis."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(1, *args, **kwargs)


class MaxUnpool3d(MaxUnpool):
    """:class:`MaxUnpool` over three spatial axes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(3, *args, **kwargs)
