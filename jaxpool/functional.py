"""PyTorch's pooling signatures: a port from ``torch.nn.functional`` changes
imports and nothing else.

The functions take channels-first input, batched ``(N, C, *spatial)`` or
unbatched ``(C, *spatial)``, PyTorch's defaults (``stride`` = ``kernel_size``)
and its index format (the flat row-major index of the selected element within
its spatial plane). Values, indices and gradients equal PyTorch's, ties
included (the first maximum in row-major window order); the selection rules
are :func:`jaxpool.max_pool`'s.

Where these accept what PyTorch refuses:

* ``padding`` over half the kernel: windows lying wholly in padding output
  ``-inf`` with index ``-1`` and send no gradient.
* ``max_unpool*d`` with overlapping windows: where several values land on one
  element the largest is kept (PyTorch keeps an arbitrary one).
* ``avg_pool*d`` with padding over half the kernel: without
  ``count_include_pad`` a window lying wholly in padding averages to 0.
* ``fractional_max_pool*d`` takes ``key=``, a ``jax.random`` key, where
  ``_random_samples`` is not given (JAX has no global random state).
* ``adaptive_max_pool*d`` with several NaN in a window selects the first
  (PyTorch the last); ``output_size`` of 0 is refused (PyTorch returns an empty
  array).

``max_unpool*d`` needs the indices of a ``max_pool*d`` with the same
``kernel_size``, ``stride`` and ``padding`` and no dilation (``ceil_mode`` is
inferred from the sizes), as a decoder pairs them: the route is built from
that pooling's windows, not from a scatter. Indices outside their window give
unspecified results; PyTorch places any index.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from jaxpool._adaptive import adaptive_max_pool_with_argmax as _adaptive_with_argmax
from jaxpool._adaptive import adaptive_switches_to_indices as _adaptive_indices
from jaxpool._family import adaptive_avg_pool as _adaptive_avg_pool
from jaxpool._family import avg_pool as _core_avg_pool
from jaxpool._family import lp_pool as _core_lp_pool
from jaxpool._fractional import fractional_max_pool as _fractional_max_pool
from jaxpool._geometry import _is_int
from jaxpool._geometry import adaptive_geometry as _adaptive_geometry
from jaxpool._pooling import as_array
from jaxpool._pooling import max_pool_with_argmax as _max_pool_with_argmax
from jaxpool._unpool import indices_to_switches as _indices_to_switches
from jaxpool._unpool import max_unpool as _unpool
from jaxpool._unpool import switches_to_indices as _switches_to_indices

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]

ArrayLike = jax.typing.ArrayLike


_SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _layout(d: int) -> str:
    """The layouts PyTorch's ``d``-D pooling takes, as ``(N, C, H, W) or (C, H, W)``."""
    spatial = ", ".join(_SPATIAL_NAMES[d])
    return f"(N, C, {spatial}) or (C, {spatial})"


def _channel_axis(name: str, input: Any, d: int) -> tuple[jax.Array, int]:
    """``input`` as an array, and its channel axis: 0 unbatched, 1 batched."""
    input = as_array("input", input)
    if input.ndim not in (d + 1, d + 2):
        raise ValueError(
            f"{name} expects channels-first input {_layout(d)}, so {d + 2} or {d + 1} axes; "
            f"got shape {input.shape}"
        )
    return input, input.ndim - d - 1


@contextlib.contextmanager
def _layout_errors(name: str, input: jax.Array, d: int) -> Iterator[None]:
    """Says the expected layout where the windows do not fit the input: the
    usual cause is channels-last data, whose channels read as a spatial axis."""
    try:
        yield
    except ValueError as error:
        if "output would be empty" not in str(error):
            raise
        spatial = ", ".join(
            f"{axis}={size}" for axis, size in zip(_SPATIAL_NAMES[d], input.shape[-d:])
        )
        raise ValueError(
            f"{name} expects channels-first input {_layout(d)}; the input of shape "
            f"{input.shape} reads as {spatial}, too small for the windows. Channels-last "
            "(N, H, W, C) data must be moved first (jnp.moveaxis(x, -1, 1)), or pooled with "
            f"the channels-last jaxpool functions. ({error})"
        ) from None


def _ints(name: str, value: Any, d: int, minimum: int) -> tuple[int, ...]:
    if _is_int(value):
        values = (operator.index(value),) * d
    elif isinstance(value, Sequence) and all(_is_int(v) for v in value) and len(value) == d:
        values = tuple(operator.index(v) for v in value)
    else:
        raise TypeError(f"{name} must be an int or {d} ints; got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{name} entries must be at least {minimum}; got {value!r}")
    return values


def _pooling(
    kernel_size: Any, stride: Any, padding: Any, dilation: Any, d: int
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...], tuple[int, ...]]:
    """PyTorch's pooling arguments as jaxpool's: ``stride=None`` (or ``[]``)
    is the kernel size, padding is symmetric."""
    window = _ints("kernel_size", kernel_size, d, 1)
    strides = window if stride is None or stride == [] else _ints("stride", stride, d, 1)
    pads = _ints("padding", padding, d, 0)
    return window, strides, tuple((p, p) for p in pads), _ints("dilation", dilation, d, 1)


def _max_pool(d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    input, channel_axis = _channel_axis(f"max_pool{d}d", input, d)
    window, strides, pads, dilation = _pooling(kernel_size, stride, padding, dilation, d)
    settings = dict(window_dilation=dilation, ceil_mode=bool(ceil_mode), channel_axis=channel_axis)
    with _layout_errors(f"max_pool{d}d", input, d):
        values, switches = _max_pool_with_argmax(input, window, strides, pads, **settings)
    if not return_indices:
        return values
    return values, _switches_to_indices(switches, input.shape, window, strides, pads, **settings)


def _max_unpool(d, input, indices, kernel_size, stride, padding, output_size):
    input, channel_axis = _channel_axis(f"max_unpool{d}d", input, d)
    window, strides, pads, _ = _pooling(kernel_size, stride, padding, 1, d)
    spatial = input.shape[-d:]
    if output_size is None:
        # PyTorch's default: the smallest input that pools to this size.
        size = tuple(
            (n - 1) * s - 2 * p + k for n, s, (p, _), k in zip(spatial, strides, pads, window)
        )
    else:
        output_size = tuple(output_size)
        if len(output_size) == d + 2 or len(output_size) == d + 1:
            output_size = output_size[-d:]
        size = _ints("output_size", output_size, d, 1)
    input_shape = (*input.shape[:-d], *size)
    settings = dict(channel_axis=channel_axis, ceil_mode=False)
    try:
        switches = _indices_to_switches(indices, input_shape, window, strides, pads, **settings)
    except ValueError:
        # The pooling had ceil_mode=True where floor mode counts fewer windows.
        settings["ceil_mode"] = True
        try:
            switches = _indices_to_switches(indices, input_shape, window, strides, pads, **settings)
        except ValueError:
            settings["ceil_mode"] = False
            _indices_to_switches(indices, input_shape, window, strides, pads, **settings)
            raise
    return _unpool(input, switches, input_shape, window, strides, pads, **settings, combine="max")


def _output_size(output_size: Any, d: int) -> tuple[Any, ...]:
    """PyTorch's ``output_size``: an int (or None) for every axis, or one each."""
    if output_size is None or _is_int(output_size):
        return (output_size,) * d
    return tuple(output_size)


def _avg_pool(d, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor):
    input, channel_axis = _channel_axis(f"avg_pool{d}d", input, d)
    window, strides, pads, _ = _pooling(kernel_size, stride, padding, 1, d)
    with _layout_errors(f"avg_pool{d}d", input, d):
        return _core_avg_pool(
            input,
            window,
            strides,
            pads,
            ceil_mode=bool(ceil_mode),
            count_include_pad=count_include_pad,
            divisor_override=divisor,
            channel_axis=channel_axis,
        )


def _lp_pool(d, input, norm_type, kernel_size, stride, ceil_mode):
    input, channel_axis = _channel_axis(f"lp_pool{d}d", input, d)
    window, strides, _, _ = _pooling(kernel_size, stride, 0, 1, d)
    with _layout_errors(f"lp_pool{d}d", input, d):
        return _core_lp_pool(
            input, norm_type, window, strides, ceil_mode=bool(ceil_mode), channel_axis=channel_axis
        )


def _adaptive_avg(d, input, output_size):
    input, channel_axis = _channel_axis(f"adaptive_avg_pool{d}d", input, d)
    return _adaptive_avg_pool(input, _output_size(output_size, d), channel_axis=channel_axis)


def _adaptive_max_pool(d, input, output_size, return_indices):
    input, channel_axis = _channel_axis(f"adaptive_max_pool{d}d", input, d)
    output_size = _output_size(output_size, d)
    values, switches = _adaptive_with_argmax(input, output_size, channel_axis=channel_axis)
    if not return_indices:
        return values
    geometry = _adaptive_geometry(input.shape, output_size, channel_axis=channel_axis)
    return values, _adaptive_indices(switches, geometry)


def max_pool1d(
    input: ArrayLike,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """``torch.nn.functional.max_pool1d``: input ``(N, C, L)`` or ``(C, L)``.

    Returns the pooled values, and with ``return_indices`` PyTorch's indices
    (int32, int64 under ``jax_enable_x64``).

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxpool import functional as F
      >>> F.max_pool1d(jnp.array([[1., 3., 2., 5.]]), 2, return_indices=True)
      (Array([[3., 5.]], dtype=float32), Array([[1, 3]], dtype=int32))
    """
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(
    input: ArrayLike,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """``torch.nn.functional.max_pool2d``: input ``(N, C, H, W)`` or
    ``(C, H, W)``; see :func:`max_pool1d`."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(
    input: ArrayLike,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """``torch.nn.functional.max_pool3d``: input ``(N, C, D, H, W)`` or
    ``(C, D, H, W)``; see :func:`max_pool1d`."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_unpool1d(
    input: ArrayLike,
    indices: ArrayLike,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Sequence[int] | None = None,
) -> jax.Array:
    """``torch.nn.functional.max_unpool1d``: each value of ``input`` at the
    element its index names, zeros elsewhere.

    ``output_size`` (spatial, or with the leading axes as PyTorch allows)
    defaults to PyTorch's ``(L - 1) * stride - 2 * padding + kernel_size``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxpool import functional as F
      >>> values, indices = F.max_pool1d(jnp.array([[1., 3., 2., 5.]]), 2, return_indices=True)
      >>> F.max_unpool1d(values, indices, 2)
      Array([[0., 3., 0., 5.]], dtype=float32)
    """
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(
    input: ArrayLike,
    indices: ArrayLike,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Sequence[int] | None = None,
) -> jax.Array:
    """``torch.nn.functional.max_unpool2d``; see :func:`max_unpool1d`."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(
    input: ArrayLike,
    indices: ArrayLike,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Sequence[int] | None = None,
) -> jax.Array:
    """``torch.nn.functional.max_unpool3d``; see :func:`max_unpool1d`."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


def adaptive_max_pool1d(
    input: ArrayLike, output_size: Any, return_indices: bool = False
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """``torch.nn.functional.adaptive_max_pool1d``: PyTorch's adaptive windows
    (see :func:`jaxpool.adaptive_max_pool`); ``output_size`` an int, or
    ``None`` to keep the axis.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxpool import functional as F
      >>> F.adaptive_max_pool1d(jnp.array([[1., 5., 2., 4., 3.]]), 3, return_indices=True)
      (Array([[5., 5., 4.]], dtype=float32), Array([[1, 1, 3]], dtype=int32))
    """
    return _adaptive_max_pool(1, input, output_size, return_indices)


def adaptive_max_pool2d(
    input: ArrayLike, output_size: Any, return_indices: bool = False
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """``torch.nn.functional.adaptive_max_pool2d``; ``output_size`` an int or
    two entries, each an int or ``None``; see :func:`adaptive_max_pool1d`."""
    return _adaptive_max_pool(2, input, output_size, return_indices)


def adaptive_max_pool3d(
    input: ArrayLike, output_size: Any, return_indices: bool = False
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """``torch.nn.functional.adaptive_max_pool3d``; ``output_size`` an int or
    three entries, each an int or ``None``; see :func:`adaptive_max_pool1d`."""
    return _adaptive_max_pool(3, input, output_size, return_indices)


def avg_pool1d(
    input: ArrayLike,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> jax.Array:
    """``torch.nn.functional.avg_pool1d``: input ``(N, C, L)`` or ``(C, L)``.

    PyTorch's divisor rules (see :func:`jaxpool.avg_pool`): with
    ``count_include_pad`` the padding counts but a ``ceil_mode`` window's
    positions past it do not; without, only input elements count. Padding
    over half the kernel, which PyTorch refuses, is accepted (a window wholly
    in padding averages to 0 without ``count_include_pad``).

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxpool import functional as F
      >>> F.avg_pool1d(jnp.array([[1., 2., 3., 4., 5.]]), 2, ceil_mode=True)
      Array([[1.5, 3.5, 5. ]], dtype=float32)
    """
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(
    input: ArrayLike,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> jax.Array:
    """``torch.nn.functional.avg_pool2d``: input ``(N, C, H, W)`` or
    ``(C, H, W)``; ``divisor_override`` (a positive int) divides every
    window's sum; see :func:`avg_pool1d`."""
    return _avg_pool(
        2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def avg_pool3d(
    input: ArrayLike,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> jax.Array:
    """``torch.nn.functional.avg_pool3d``: input ``(N, C, D, H, W)`` or
    ``(C, D, H, W)``; see :func:`avg_pool2d`."""
    return _avg_pool(
        3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def adaptive_avg_pool1d(input: ArrayLike, output_size: Any) -> jax.Array:
    """``torch.nn.functional.adaptive_avg_pool1d``: PyTorch's adaptive
    windows (see :func:`jaxpool.adaptive_avg_pool`); ``output_size`` an int,
    or ``None`` to keep the axis.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxpool import functional as F
      >>> F.adaptive_avg_pool1d(jnp.array([[1., 5., 2., 4., 3.]]), 3)
      Array([[3.       , 3.6666667, 3.5      ]], dtype=float32)
    """
    return _adaptive_avg(1, input, output_size)


def adaptive_avg_pool2d(input: ArrayLike, output_size: Any) -> jax.Array:
    """``torch.nn.functional.adaptive_avg_pool2d``: ``output_size`` an int or
    two entries, each an int or ``None``; ``1`` is global average pooling (a
    ResNet's head); see :func:`adaptive_avg_pool1d`."""
    return _adaptive_avg(2, input, output_size)


def adaptive_avg_pool3d(input: ArrayLike, output_size: Any) -> jax.Array:
    """``torch.nn.functional.adaptive_avg_pool3d``; see
    :func:`adaptive_avg_pool2d`."""
    return _adaptive_avg(3, input, output_size)


def lp_pool1d(
    input: ArrayLike,
    norm_type: float,
    kernel_size: Any,
    stride: Any = None,
    ceil_mode: bool = False,
) -> jax.Array:
    """``torch.nn.functional.lp_pool1d``: ``(sum x**p)**(1/p)`` over each
    window, PyTorch's formula step by step (see :func:`jaxpool.lp_pool`:
    zero gradient where the sum of powers is zero; ``inf`` is max pooling of
    ``|x|``).

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxpool import functional as F
      >>> F.lp_pool1d(jnp.array([[3., 4., 6., 8.]]), 2, 2)
      Array([[ 5., 10.]], dtype=float32)
    """
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(
    input: ArrayLike,
    norm_type: float,
    kernel_size: Any,
    stride: Any = None,
    ceil_mode: bool = False,
) -> jax.Array:
    """``torch.nn.functional.lp_pool2d``; see :func:`lp_pool1d`."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(
    input: ArrayLike,
    norm_type: float,
    kernel_size: Any,
    stride: Any = None,
    ceil_mode: bool = False,
) -> jax.Array:
    """``torch.nn.functional.lp_pool3d``; see :func:`lp_pool1d`."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


def _fractional(d, input, kernel_size, output_size, output_ratio, return_indices, samples, key):
    name = f"fractional_max_pool{d}d"
    input, channel_axis = _channel_axis(name, input, d)
    if not jnp.issubdtype(input.dtype, jnp.floating):
        raise TypeError(f"{name} takes floating-point input; got dtype {input.dtype}")
    window = _ints("kernel_size", kernel_size, d, 1)
    spatial = input.shape[-d:]
    if output_size is None:
        if output_ratio is None:
            raise ValueError(f"{name} needs output_size or output_ratio; got neither")
        ratios = (output_ratio,) * d if not isinstance(output_ratio, Sequence) else output_ratio
        if len(ratios) != d or not all(0 < float(r) < 1 for r in ratios):
            raise ValueError(
                f"output_ratio must be a number or {d} numbers in (0, 1); got "
                f"output_ratio={output_ratio!r}"
            )
        output_size = tuple(int(n * float(r)) for n, r in zip(spatial, ratios))
    sizes = _ints("output_size", output_size, d, 1)
    for length, size, k in zip(spatial, sizes, window):
        if size + k - 1 > length:
            raise ValueError(
                f"{name}: output_size {sizes} with kernel_size {window} needs input of at "
                f"least output_size + kernel_size - 1 along each axis; got spatial shape {spatial}"
            )
    batched = input if channel_axis == 1 else input[None]
    shape = (batched.shape[0], batched.shape[1], d)
    if samples is None:
        if key is None:
            raise ValueError(
                f"{name} draws its windows at random: pass key=jax.random.key(...) (JAX has no "
                "global random state), or PyTorch's _random_samples"
            )
        samples = jax.random.uniform(key, shape, input.dtype)
    samples = as_array("_random_samples", samples)
    if samples.shape != shape:
        raise ValueError(f"_random_samples must have shape {shape}; got {samples.shape}")
    if samples.dtype != input.dtype:
        # PyTorch's rule: the windows are computed in the input's dtype.
        raise TypeError(
            f"_random_samples must have the input's dtype {input.dtype}, as PyTorch "
            f"requires; got {samples.dtype}. Cast it: _random_samples.astype(input.dtype)"
        )
    values, indices = _fractional_max_pool(batched, window, sizes, samples)
    if channel_axis == 0:
        values, indices = values[0], indices[0]
    return (values, indices) if return_indices else values


def fractional_max_pool2d(
    input: ArrayLike,
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: jax.typing.ArrayLike | None = None,
    *,
    key: jax.Array | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """``torch.nn.functional.fractional_max_pool2d``: max pooling over
    pseudo-random windows of ``kernel_size``, to ``output_size`` or
    ``int(size * output_ratio)`` per axis.

    Along an axis of length ``L`` pooled to ``n``, window ``i`` starts at
    ``int((i + u) * alpha) - int(u * alpha)`` with ``alpha = (L - k) / (n -
    1)`` (the last at ``L - k``), ``u`` one sample in ``[0, 1)`` per plane
    and axis, as PyTorch computes it: in the input's dtype, each step of a
    16-bit one rounded to 16 bits. Given the same ``_random_samples`` (shape
    ``(N, C, 2)``, ``N = 1`` for unbatched input, in the input's dtype;
    sample 0 for the width, 1 for the height) values and indices equal
    PyTorch's; otherwise pass ``key``, a ``jax.random`` key (JAX has no
    global random state). An empty batch (``N = 0``) gives empty outputs.
    Ties go to the first element in row-major window order, NaN to the last
    NaN (PyTorch's rule here). The gradient goes to the selected element,
    routed with gathers and selects (no scatter).

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxpool import functional as F
      >>> x = jnp.arange(25.0).reshape(1, 5, 5)
      >>> F.fractional_max_pool2d(x, 2, output_size=3,
      ...                         _random_samples=jnp.full((1, 1, 2), 0.5))
      Array([[[ 6.,  8.,  9.],
              [16., 18., 19.],
              [21., 23., 24.]]], dtype=float32)
    """
    return _fractional(
        2, input, kernel_size, output_size, output_ratio, return_indices, _random_samples, key
    )


def fractional_max_pool3d(
    input: ArrayLike,
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: jax.typing.ArrayLike | None = None,
    *,
    key: jax.Array | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """``torch.nn.functional.fractional_max_pool3d``: see
    :func:`fractional_max_pool2d`; ``_random_samples`` has shape ``(N, C,
    3)`` (samples 0, 1, 2 for depth, height, width)."""
    return _fractional(
        3, input, kernel_size, output_size, output_ratio, return_indices, _random_samples, key
    )
