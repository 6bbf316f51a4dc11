"""PyTorch's pooling signatures: a port from ``torch.nn.functional`` changes
imports and nothing else.

The functions take channels-first input, batched ``(N, C, *spatial)`` or
unbatched ``(C, *spatial)``, PyTorch's defaults (``stride`` = ``kernel_size``)
and its index format (the flat row-major index of the selected element within
its spatial plane). Values, indices and gradients equal PyTorch's, ties
included (the first maximum in row-major window order); the selection rules
are :func:`jaxpool.max_pool`'s.

Arguments take PyTorch's forms: an int or one entry per spatial axis, a
one-element sequence for every axis, and ``stride`` of ``None``, ``()`` or
``[]`` for the kernel size. What PyTorch refuses these refuse too (padding
over half the kernel, an empty channel or spatial axis), with a ValueError
or TypeError that names the argument and the fix.

Where these differ from PyTorch (docs/pytorch.md has them all):

* With several NaN in a window, ``max_pool*d`` and ``adaptive_max_pool*d``
  select the first (the core's rule), PyTorch the last; ``fractional_max_pool*d``
  follows PyTorch.
* ``max_unpool*d`` with overlapping windows keeps the largest of the values
  landing on one element (PyTorch writes an arbitrary one; for a max pool's
  values they are equal); its gradient is PyTorch's, every value receiving
  the gradient at its index.
* ``fractional_max_pool*d`` takes ``key=``, a ``jax.random`` key, where
  ``_random_samples`` is not given (JAX has no global random state).
* Integer ``avg_pool*d`` inputs of every width average as PyTorch's int64
  does (truncating, in the input's dtype): without ``jax_enable_x64`` an
  int64 array is int32. A one-element sequence also serves ``lp_pool*d``,
  ``max_unpool*d`` and ``fractional_max_pool*d`` (PyTorch's raise).

``max_unpool*d`` needs the indices of a ``max_pool*d`` with the same
``kernel_size``, ``stride`` and ``padding`` and no dilation, as a decoder pairs
them: the route is built from that pooling's windows, not from a scatter.
``ceil_mode`` follows from the sizes (PyTorch's output-size arithmetic).
Indices outside their window raise ValueError where they are concrete (under
``jit``, inside ``jax.experimental.checkify.checkify`` only); PyTorch places
any index.
"""

from __future__ import annotations

import contextlib
import functools
import math
import operator
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxpool._adaptive import adaptive_max_pool_with_argmax as _adaptive_with_argmax
from jaxpool._adaptive import adaptive_switches_to_indices as _adaptive_indices
from jaxpool._family import _average
from jaxpool._family import _average_dtype
from jaxpool._family import _zero_padded_geometry
from jaxpool._family import adaptive_avg_pool as _adaptive_avg_pool
from jaxpool._family import avg_pool as _core_avg_pool
from jaxpool._family import check_average_flags as _check_average_flags
from jaxpool._family import lp_pool as _core_lp_pool
from jaxpool._fractional import fractional_max_pool as _fractional_max_pool
from jaxpool._geometry import _is_int
from jaxpool._geometry import _output_size as _pooled_length
from jaxpool._geometry import adaptive_geometry as _adaptive_geometry
from jaxpool._pooling import as_array
from jaxpool._pooling import max_pool_with_argmax as _max_pool_with_argmax
from jaxpool._unpool import geometry_for as _unpool_geometry
from jaxpool._unpool import indices_to_switches as _indices_to_switches
from jaxpool._unpool import switches_to_indices as _switches_to_indices
from jaxpool._unpool import unpool_checked as _unpool_checked

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
    """PyTorch's int-or-ints argument as ``d`` ints: an int, or a sequence of
    ``d`` ints or of one, which PyTorch's kernels repeat for every axis."""
    if _is_int(value):
        values = (operator.index(value),) * d
    elif (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) in (1, d)
        and all(_is_int(v) for v in value)
    ):
        values = tuple(operator.index(v) for v in value)
        values = values * d if len(values) == 1 else values
    else:
        axes = ", ".join(_SPATIAL_NAMES[d])
        counts = "one int" if d == 1 else f"a sequence of 1 or {d} ints (one per axis {axes})"
        raise TypeError(f"{name} must be an int or {counts}; got {name}={value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{name} entries must be at least {minimum}; got {name}={value!r}")
    return values


def _is_empty_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 0


def _pooling(
    kernel_size: Any, stride: Any, padding: Any, dilation: Any, d: int
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...], tuple[int, ...]]:
    """PyTorch's pooling arguments as jaxpool's: ``stride=None``, ``()`` or
    ``[]`` is the kernel size, padding is symmetric."""
    window = _ints("kernel_size", kernel_size, d, 1)
    strides = (
        window if stride is None or _is_empty_sequence(stride) else _ints("stride", stride, d, 1)
    )
    pads = _ints("padding", padding, d, 0)
    return window, strides, tuple((p, p) for p in pads), _ints("dilation", dilation, d, 1)


def _at_most_half(name: str, padding: Any, window: tuple[int, ...], pads: Any) -> None:
    """PyTorch's limit: padding at most half the kernel size on every axis."""
    for (pad, _), k in zip(pads, window):
        if pad > k // 2:
            raise ValueError(
                f"{name}: padding={padding!r} is more than half of kernel_size={window} "
                f"(at most {tuple(k // 2 for k in window)}), which PyTorch refuses. Pad the "
                "input first (jnp.pad), or call the core jaxpool function (channel_axis=1), "
                "which takes any padding"
            )


def _nonempty(name: str, input: jax.Array, d: int, *, first_axis_may_be_empty: bool) -> None:
    """PyTorch's rule on empty inputs: only the batch axis (or, with
    ``first_axis_may_be_empty``, the first axis whatever it is) may have size 0."""
    batched = input.ndim == d + 2
    skip = 1 if batched or first_axis_may_be_empty else 0
    if 0 in input.shape[skip:]:
        allowed = "the first axis" if first_axis_may_be_empty else "the batch axis N"
        raise ValueError(
            f"{name} has nothing to pool in the input of shape {input.shape}: only "
            f"{allowed} may have size 0 ({_layout(d)})"
        )


def _max_pool(d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    name = f"max_pool{d}d"
    input, channel_axis = _channel_axis(name, input, d)
    _nonempty(name, input, d, first_axis_may_be_empty=False)
    window, strides, pads, dilation = _pooling(kernel_size, stride, padding, dilation, d)
    _at_most_half(name, padding, window, pads)
    settings = dict(window_dilation=dilation, ceil_mode=bool(ceil_mode), channel_axis=channel_axis)
    with _layout_errors(name, input, d):
        values, switches = _max_pool_with_argmax(input, window, strides, pads, **settings)
    if not return_indices:
        return values
    return values, _switches_to_indices(switches, input.shape, window, strides, pads, **settings)


def _unpool_ceil_mode(name, d, spatial, size, window, strides, pads, output_size) -> bool:
    """The ``ceil_mode`` of the max pool that pools ``size`` to ``spatial``,
    from PyTorch's output-size arithmetic; the error naming the fix where
    neither mode does."""
    floor, ceil = (
        tuple(
            _pooled_length(length, k, s, 1, p, p, mode)
            for length, k, s, (p, _) in zip(size, window, strides, pads)
        )
        for mode in (False, True)
    )
    if floor == spatial:
        return False
    if ceil == spatial:
        return True
    settings = f"kernel_size={window}, stride={strides}, padding={tuple(p for p, _ in pads)}"
    fits = []
    for n, k, s, (p, _) in zip(spatial, window, strides, pads):
        default = (n - 1) * s - 2 * p + k
        fits.append(
            [
                length
                for length in range(max(default - s + 1, 1), default + s)
                if n
                in (
                    _pooled_length(length, k, s, 1, p, p, False),
                    _pooled_length(length, k, s, 1, p, p, True),
                )
            ]
        )
    ranges = ", ".join(f"{f[0]}..{f[-1]}" if f else "none" for f in fits)
    raise ValueError(
        f"{name}: output_size={output_size!r} does not fit the input of spatial shape "
        f"{spatial}: max_pool{d}d with {settings} pools spatial size {size} to {floor} "
        f"(or {ceil} with ceil_mode=True), and pools to {spatial} only sizes in {ranges} "
        "per axis. Pass as output_size the spatial size of the input that max_pool"
        f"{d}d pooled, with the kernel_size, stride and padding of that max_pool{d}d"
    )


def _indices_fit(name, d, indices, size, default) -> None:
    """Refuses concrete indices past the output's spatial plane, naming
    ``output_size`` as the fix."""
    if isinstance(indices, jax.core.Tracer) or indices.size == 0:
        return
    largest = int(np.max(np.asarray(indices)))
    plane = math.prod(size)
    if largest < plane:
        return
    if default:
        raise ValueError(
            f"{name}: indices up to {largest} do not fit the default output size {size} "
            f"({plane} elements per plane), computed from kernel_size, stride and padding "
            "as (L - 1) * stride - 2 * padding + kernel_size: the input that max_pool"
            f"{d}d pooled was larger (odd-sized, or pooled with ceil_mode=True), or pooled "
            "with another kernel_size, stride or padding. Pass output_size=, the spatial size "
            f"of that input (e.g. output_size=x.shape[-{d}:]), and that max_pool{d}d's "
            "kernel_size, stride and padding"
        )
    raise ValueError(
        f"{name}: indices up to {largest} do not fit output_size={size} ({plane} elements "
        f"per plane); pass as output_size the spatial size of the input that max_pool{d}d "
        "pooled"
    )


def _max_unpool(d, input, indices, kernel_size, stride, padding, output_size):
    name = f"max_unpool{d}d"
    input, channel_axis = _channel_axis(name, input, d)
    indices = as_array("indices", indices)
    if indices.shape != input.shape:
        raise ValueError(
            f"{name}: indices has shape {indices.shape} but input has shape {input.shape}; "
            f"pass the indices that max_pool{d}d(..., return_indices=True) returned with "
            "these values"
        )
    window, strides, pads, _ = _pooling(kernel_size, stride, padding, 1, d)
    spatial = input.shape[-d:]
    if output_size is None:
        # PyTorch's default: the smallest input that pools to this size.
        size = tuple(
            (n - 1) * s - 2 * p + k for n, s, (p, _), k in zip(spatial, strides, pads, window)
        )
    else:
        requested = tuple(output_size) if isinstance(output_size, Sequence) else output_size
        if isinstance(requested, tuple) and len(requested) in (d + 1, d + 2):
            requested = requested[-d:]
        if not isinstance(requested, tuple) or len(requested) != d:
            raise TypeError(
                f"{name}: output_size must be {d} ints (the spatial size of the pooled "
                f"input), or its whole shape; got output_size={output_size!r}"
            )
        size = _ints("output_size", requested, d, 1)
    ceil_mode = _unpool_ceil_mode(name, d, spatial, size, window, strides, pads, output_size)
    _indices_fit(name, d, indices, size, output_size is None)
    input_shape = (*input.shape[:-d], *size)
    pooling = (input_shape, window, strides, pads, ceil_mode, channel_axis)
    switches = _indices_to_switches(
        indices, input_shape, window, strides, pads, ceil_mode=ceil_mode, channel_axis=channel_axis
    )
    return _unpool_as_pytorch(input, switches, pooling)


def _unpool_with(values, switches, pooling, combine):
    # The switches come from _indices_to_switches, which checked them.
    input_shape, window, strides, pads, ceil_mode, channel_axis = pooling
    geometry = _unpool_geometry(
        "input", values, input_shape, window, strides, pads, None, ceil_mode, channel_axis
    )
    return _unpool_checked(values, switches, geometry, combine)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _unpool_as_pytorch(values, switches, pooling):
    """PyTorch's ``max_unpool``: where overlapping windows put several values
    on one element, one of them (the largest: for a max pool's values they
    are equal); and PyTorch's derivative, which gives every value the
    gradient at its index (the transpose of the sum route), as its gather
    does, rather than to the one value kept."""
    return _unpool_with(values, switches, pooling, "max")


@_unpool_as_pytorch.defjvp
def _unpool_as_pytorch_jvp(pooling, primals, tangents):
    values, switches = primals
    tangent, _ = tangents
    output = _unpool_as_pytorch(values, switches, pooling)
    if tangent.dtype == jax.dtypes.float0:
        return output, np.zeros(output.shape, jax.dtypes.float0)
    return output, _unpool_with(tangent, switches, pooling, "sum")


def _output_size(name: str, output_size: Any, d: int) -> tuple[Any, ...]:
    """PyTorch's adaptive ``output_size``: an int (or None) for every axis,
    or one each."""
    if output_size is None or _is_int(output_size):
        sizes = (output_size,) * d
    elif isinstance(output_size, Sequence) and not isinstance(output_size, str):
        sizes = tuple(output_size)
    else:
        sizes = ()
    if len(sizes) != d or not all(size is None or _is_int(size) for size in sizes):
        raise TypeError(
            f"{name}: output_size must be an int, None (keep the axis) or {d} of them "
            f"(one per axis {', '.join(_SPATIAL_NAMES[d])}); got output_size={output_size!r}"
        )
    if any(size is not None and size < 0 for size in sizes):
        raise ValueError(
            f"{name}: output_size entries must be at least 0; got output_size={output_size!r}"
        )
    return sizes


def _empty_output(input: jax.Array, sizes: tuple[Any, ...]) -> tuple[int, ...] | None:
    """The output shape where an ``output_size`` entry is 0 (PyTorch returns
    an empty array there), else None."""
    if 0 not in sizes:
        return None
    d = len(sizes)
    spatial = tuple(n if size is None else size for n, size in zip(input.shape[-d:], sizes))
    return (*input.shape[:-d], *spatial)


def _avg_pool(d, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor):
    name = f"avg_pool{d}d"
    input, channel_axis = _channel_axis(name, input, d)
    _nonempty(name, input, d, first_axis_may_be_empty=False)
    window, strides, pads, _ = _pooling(kernel_size, stride, padding, 1, d)
    _at_most_half(name, padding, window, pads)
    settings = dict(ceil_mode=bool(ceil_mode), channel_axis=channel_axis)
    with _layout_errors(name, input, d):
        if not jnp.issubdtype(input.dtype, jnp.integer):
            return _core_avg_pool(
                input,
                window,
                strides,
                pads,
                count_include_pad=count_include_pad,
                divisor_override=divisor,
                **settings,
            )
        # PyTorch's integer average: the exact sum divided rounding toward
        # zero, in the input's dtype.
        _check_average_flags(count_include_pad, divisor)
        geometry = _zero_padded_geometry(input, window, strides, pads, None, **settings)
        override = None if divisor is None else operator.index(divisor)
        return _average(input, geometry, bool(count_include_pad), override, True)


def _lp_pool(d, input, norm_type, kernel_size, stride, ceil_mode):
    name = f"lp_pool{d}d"
    input, channel_axis = _channel_axis(name, input, d)
    _nonempty(name, input, d, first_axis_may_be_empty=False)
    window, strides, _, _ = _pooling(kernel_size, stride, 0, 1, d)
    with _layout_errors(name, input, d):
        return _core_lp_pool(
            input, norm_type, window, strides, ceil_mode=bool(ceil_mode), channel_axis=channel_axis
        )


def _adaptive_avg(d, input, output_size):
    name = f"adaptive_avg_pool{d}d"
    input, channel_axis = _channel_axis(name, input, d)
    sizes = _output_size(name, output_size, d)
    empty = _empty_output(input, sizes)
    if empty is not None:
        return jnp.zeros(empty, _average_dtype(input.dtype))
    return _adaptive_avg_pool(input, sizes, channel_axis=channel_axis)


def _adaptive_max_pool(d, input, output_size, return_indices):
    name = f"adaptive_max_pool{d}d"
    input, channel_axis = _channel_axis(name, input, d)
    _nonempty(name, input, d, first_axis_may_be_empty=True)
    sizes = _output_size(name, output_size, d)
    empty = _empty_output(input, sizes)
    if empty is not None:
        values = jnp.zeros(empty, input.dtype)
        indices = jnp.zeros(empty, jax.dtypes.canonicalize_dtype(np.int64))
        return (values, indices) if return_indices else values
    values, switches = _adaptive_with_argmax(input, sizes, channel_axis=channel_axis)
    if not return_indices:
        return values
    geometry = _adaptive_geometry(input.shape, sizes, channel_axis=channel_axis)
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
    (int32, int64 under ``jax_enable_x64``). Ties go to the first element in
    window order, as in PyTorch; with several NaN in a window the first NaN is
    selected (:func:`jaxpool.max_pool`'s rule), where PyTorch selects the
    last.

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
    defaults to PyTorch's ``(L - 1) * stride - 2 * padding + kernel_size``,
    the smallest input that pools to ``L``: an odd-sized input, or one pooled
    with ``ceil_mode``, needs its size passed. Where several values land on
    one element the largest is kept; the gradient is PyTorch's (each value
    receives the gradient at its index).

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
    ``None`` to keep the axis; 0 gives an empty output, as in PyTorch. With
    several NaN in a window the first is selected (PyTorch the last).

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
    positions past it do not; without, only input elements count. Integer
    inputs average as PyTorch's: the exact sum divided rounding toward zero,
    in the input's dtype.

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
    ``(C, H, W)``; ``divisor_override`` (a non-zero int, negative ones
    included as PyTorch takes them) divides every window's sum; see
    :func:`avg_pool1d`."""
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
    _nonempty(name, input, d, first_axis_may_be_empty=True)
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
