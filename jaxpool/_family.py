"""The rest of the pooling family: average, min, power-average (Lp) and
adaptive average pooling, with PyTorch's rules.

Geometry (padding, output sizes, ``ceil_mode``, the divisor of every window)
comes from :mod:`jaxpool._geometry`. Averages are ``lax.reduce_window`` sums
divided by a static NumPy divisor: the map is linear, so its gradient needs
no residual. For windows of up to 12 positions the sum's tangent is written
as one strided slice per window position, whose transpose (pads and adds) is
the gradient: 1.7x to 5.5x faster on CPU than XLA's transpose of
``reduce_window`` (benchmarks/results/cpu/family.md). Neither has a scatter.
Min pooling is max pooling of the order-reversed input.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxpool import _strategy
from jaxpool._adaptive import _interleave
from jaxpool._geometry import AdaptiveGeometry
from jaxpool._geometry import Padding
from jaxpool._geometry import PerAxis
from jaxpool._geometry import PoolGeometry
from jaxpool._geometry import WindowShape
from jaxpool._geometry import _is_int
from jaxpool._geometry import adaptive_geometry
from jaxpool._geometry import pool_geometry
from jaxpool._pooling import as_array
from jaxpool._pooling import max_pool_with_argmax
from jaxpool._pooling import pool_with_switches
from jaxpool._pooling import prepare

__all__ = [
    "adaptive_avg_pool",
    "avg_pool",
    "lp_pool",
    "min_pool",
    "min_pool_with_argmin",
]

ArrayLike = jax.typing.ArrayLike


def _float_inputs(name: str, inputs: Any) -> jax.Array:
    """``inputs`` as a floating-point array, or the error naming the fix."""
    inputs = as_array("inputs", inputs)
    if not jnp.issubdtype(inputs.dtype, jnp.floating):
        raise TypeError(
            f"{name} takes floating-point inputs; got dtype {inputs.dtype}. Cast first, "
            "e.g. inputs.astype(jnp.float32)"
        )
    return inputs


def _averaged_inputs(name: str, inputs: Any) -> jax.Array:
    """``inputs`` as an array an average can take: floats, integers and bool
    (averaged as numbers, as ``flax.linen.avg_pool``, ``hk.avg_pool`` and
    ``eqx.nn.AvgPool2d`` average them), never complex."""
    inputs = as_array("inputs", inputs)
    if jnp.issubdtype(inputs.dtype, jnp.complexfloating):
        raise TypeError(f"{name} takes real inputs (float, integer or bool); got {inputs.dtype}")
    return inputs


def _accumulator(dtype: np.dtype) -> np.dtype:
    """What a window sum of ``dtype`` is taken in: float32 for 16-bit floats
    (as PyTorch on CPU); for integers and bool the widest integer of their
    signedness (int64 and uint64 under ``jax_enable_x64``, else 32 bits), so
    that an int8 window's sum does not wrap as the frameworks' own does;
    otherwise ``dtype``."""
    dtype = np.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.floating):
        return np.dtype(np.float32) if dtype.itemsize < 4 else dtype
    widest = np.uint64 if jnp.issubdtype(dtype, jnp.unsignedinteger) else np.int64
    return np.dtype(jax.dtypes.canonicalize_dtype(widest))


def _average_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype of an average of ``dtype``: the input's for floats, JAX's
    default float for integers and bool (float32, or float64 under
    ``jax_enable_x64``), as ``jnp.mean`` gives."""
    if jnp.issubdtype(dtype, jnp.floating):
        return np.dtype(dtype)
    return np.dtype(jax.dtypes.canonicalize_dtype(np.float64))


def check_average_flags(count_include_pad: Any, divisor_override: Any) -> None:
    """Raises the error that ``avg_pool`` gives for these two settings."""
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(
            f"count_include_pad must be a bool; got {count_include_pad!r}. Pass True to "
            "divide by the window including padding (PyTorch's default) or False to divide "
            "by the number of input elements in the window"
        )
    if divisor_override is None:
        return
    if not _is_int(divisor_override):
        raise TypeError(
            f"divisor_override must be a non-zero int or None; got {divisor_override!r}"
        )
    if divisor_override == 0:
        raise ValueError(
            "divisor_override must be a non-zero int or None; got divisor_override=0. Leave "
            "it None to divide by the window's size"
        )


def _zero_padded_geometry(
    inputs: jax.Array,
    window_shape: WindowShape,
    strides: PerAxis,
    padding: Padding,
    window_dilation: Any,
    ceil_mode: Any,
    channel_axis: Any,
) -> PoolGeometry:
    """The geometry of a window sum over zero padding."""
    return pool_geometry(
        inputs.shape,
        inputs.dtype,
        window_shape,
        strides,
        padding,
        window_dilation=window_dilation,
        ceil_mode=ceil_mode,
        channel_axis=channel_axis,
        pad_value=0.0,
    )


def _reduce_window_sum(inputs: jax.Array, geometry: PoolGeometry) -> jax.Array:
    full = geometry.full_rank
    return lax.reduce_window(
        inputs,
        np.zeros((), inputs.dtype),
        lax.add,
        full(geometry.window_shape, 1),
        full(geometry.strides, 1),
        geometry.reduce_window_padding(),
        window_dilation=full(geometry.window_dilation, 1),
    )


def _sum_of_slices(inputs: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The window sums as the sum, over window positions, of one strided
    slice of the padded input each; JAX transposes it into pads and adds."""
    padded = lax.pad(inputs, np.zeros((), inputs.dtype), geometry.extent_pad_config())
    total = None
    for offsets in geometry.window_offsets():
        piece = lax.slice(padded, *geometry.position_slice(offsets))
        total = piece if total is None else total + piece
    return total


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _window_sum(inputs: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """``reduce_window`` sums, whose tangent (and so, transposed, whose
    gradient) is the sum of slices.

    Measured on the op suite's shapes (benchmarks/results/cpu/family.md):
    the transpose of the slices is 1.7x to 5.5x faster than XLA's transpose of
    ``reduce_window`` (interior padding and another ``reduce_window``),
    while ``reduce_window``'s forward is as fast or faster where the input
    must be padded (3x3/2 SAME: 5.7 ms against 17.9 ms).
    """
    return _reduce_window_sum(inputs, geometry)


@_window_sum.defjvp
def _window_sum_jvp(geometry, primals, tangents):
    (inputs,), (tangent,) = primals, tangents
    return _reduce_window_sum(inputs, geometry), _sum_of_slices(tangent, geometry)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _average(
    inputs: jax.Array,
    geometry: PoolGeometry,
    count_include_pad: bool,
    divisor_override: int | None,
    truncate: bool = False,
) -> jax.Array:
    """Window sums over the divisor. Integer and bool inputs are summed
    exactly and divided in JAX's default float, or with ``truncate`` by
    integer division rounding toward zero, in the input's dtype (PyTorch's
    integer average)."""
    dtype, accumulator = inputs.dtype, _accumulator(inputs.dtype)
    wide = inputs.astype(accumulator)
    divisor = geometry.average_divisor(count_include_pad, divisor_override)
    if not jnp.issubdtype(dtype, jnp.floating):
        # No tangent to route: one reduce_window.
        sums = _reduce_window_sum(wide, geometry)
        if truncate:
            divisor = jnp.broadcast_to(divisor.astype(accumulator), sums.shape)
            return lax.div(sums, divisor).astype(dtype)
        average = _average_dtype(dtype)
        return sums.astype(average) / jnp.asarray(divisor, average)
    if _strategy.strategy(geometry) == "positions":
        # Few window positions: the slices' transpose is the fast gradient.
        sums = _window_sum(wide, geometry)
    else:
        # Large windows: the program stays one reduce_window, and so does
        # its transpose.
        sums = _reduce_window_sum(wide, geometry)
    return (sums / divisor.astype(accumulator)).astype(dtype)


def avg_pool(
    inputs: ArrayLike,
    window_shape: WindowShape,
    strides: PerAxis = None,
    padding: Padding = "VALID",
    *,
    window_dilation: PerAxis = None,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    channel_axis: int | None = -1,
) -> jax.Array:
    """Average pooling with PyTorch's divisor rules.

    Each output is the sum of its window's input elements (padding adds
    zero) divided by a divisor fixed by the geometry:

    * ``divisor_override`` where it is given;
    * else, with ``count_include_pad=True`` (default), the number of window
      positions in the input or in the padding asked for. A ``ceil_mode``
      window's positions past the high padding are not counted (PyTorch's
      rule), so for ``"VALID"`` and ``"SAME"`` padding without ``ceil_mode``
      it is ``prod(window_shape)``, as in ``flax.linen.avg_pool``;
    * else (``count_include_pad=False``) the number of input elements in the
      window, as Flax's ``count_include_pad=False`` and Haiku's ``"SAME"``
      padding. A window lying wholly in padding (possible with padding over
      half the window, which PyTorch refuses) then outputs 0.

    NaN and infinities propagate through the sum as in any sum. 16-bit
    floats are summed and divided in float32 and rounded once. Integer and
    bool inputs are summed in int32 (int64 under ``jax_enable_x64``;
    unsigned likewise), exactly unless a sum leaves that range, and
    averaged in JAX's default float, float32 or float64, as
    ``flax.linen.avg_pool``, ``hk.avg_pool`` and ``eqx.nn.AvgPool2d``
    average them (whose int8 and int16 sums wrap where these do not); they
    have no gradient. The gradient
    sends each input element the sum of ``cotangent / divisor`` over the
    windows holding it: linear, in both autodiff modes (``jax.grad`` and
    ``jax.jvp``), saving nothing from the input for the backward pass, and
    free of scatter. For windows of up to 12 positions it is computed as the
    transpose of one strided slice per window position (pads and adds),
    several times faster on CPU than the transpose of ``reduce_window``.

    Args:
      inputs: real array (float, integer or bool) with ``d =
        len(window_shape)`` spatial axes, laid out as ``channel_axis`` says.
      window_shape: window size per spatial axis, ``d`` ints.
      strides: an int or ``d`` ints; ``None`` means 1 (Flax's default).
      padding: ``"VALID"``, ``"SAME"``, an int or ``d`` ints (symmetric, as
        PyTorch's), or ``d`` ``(low, high)`` pairs; padded positions hold 0.
      window_dilation: an int or ``d`` ints; ``None`` means 1.
      ceil_mode: PyTorch's: one more window where one starts inside the
        input or the low padding.
      count_include_pad: whether padded positions count in the divisor.
      divisor_override: a non-zero int dividing every window's sum (negative
        ones as PyTorch takes them).
      channel_axis: as for :func:`jaxpool.max_pool`: ``-1`` (NHWC), an axis
        before the last ``d`` (``1`` for NCHW), or ``None``.

    Returns:
      The averaged array, of the input's dtype (JAX's default float for
      integer and bool inputs).

    Raises:
      TypeError: complex or non-array ``inputs``; ``count_include_pad`` not a
        bool; ``divisor_override`` not an int; an argument of the wrong type.
      ValueError: ``divisor_override == 0``; and what :func:`jaxpool.max_pool`
        refuses (bad window, stride, padding or ``channel_axis``, an empty
        output).

    Examples:
      >>> import jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[1., 2., 3., 4., 5.]])
      >>> jaxpool.avg_pool(x, (2,), strides=2, channel_axis=None)
      Array([[1.5, 3.5]], dtype=float32)
      >>> jaxpool.avg_pool(x, (2,), strides=2, ceil_mode=True, channel_axis=None)
      Array([[1.5, 3.5, 5. ]], dtype=float32)
      >>> jaxpool.avg_pool(x, (3,), strides=2, padding=1, channel_axis=None)
      Array([[1., 3., 3.]], dtype=float32)
      >>> jaxpool.avg_pool(x, (3,), strides=2, padding=1, count_include_pad=False,
      ...                  channel_axis=None)
      Array([[1.5, 3. , 4.5]], dtype=float32)
    """
    inputs = _averaged_inputs("avg_pool", inputs)
    check_average_flags(count_include_pad, divisor_override)
    geometry = _zero_padded_geometry(
        inputs, window_shape, strides, padding, window_dilation, ceil_mode, channel_axis
    )
    override = None if divisor_override is None else operator.index(divisor_override)
    return _average(inputs, geometry, bool(count_include_pad), override)


def min_pool_with_argmin(
    inputs: ArrayLike,
    window_shape: WindowShape,
    strides: PerAxis = None,
    padding: Padding = "VALID",
    *,
    window_dilation: PerAxis = None,
    ceil_mode: bool = False,
    channel_axis: int | None = -1,
    pad_value: float = math.inf,
    autodiff: str = "vjp",
) -> tuple[jax.Array, jax.Array]:
    """Min pooling that also returns the switches: where each min came from.

    Arguments and rules are those of :func:`min_pool`; the switches are
    :func:`jaxpool.max_pool_with_argmax`'s (row-major offsets within the
    window, padded positions counted, the smallest signed integer dtype).

    Examples:
      >>> import jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[3., 1., 4., 1.], [5., 9., 2., 6.]])
      >>> values, switches = jaxpool.min_pool_with_argmin(
      ...     x, (2, 2), strides=(2, 2), channel_axis=None)
      >>> values
      Array([[1., 1.]], dtype=float32)
      >>> switches
      Array([[1, 1]], dtype=int8)
    """
    inputs, geometry = prepare(
        inputs,
        window_shape,
        strides,
        padding,
        window_dilation=window_dilation,
        ceil_mode=ceil_mode,
        channel_axis=channel_axis,
        pad_value=pad_value,
        reverse_order=True,
    )
    return pool_with_switches(inputs, geometry, autodiff)


def min_pool(
    inputs: ArrayLike,
    window_shape: WindowShape,
    strides: PerAxis = None,
    padding: Padding = "VALID",
    *,
    window_dilation: PerAxis = None,
    ceil_mode: bool = False,
    channel_axis: int | None = -1,
    pad_value: float = math.inf,
    autodiff: str = "vjp",
) -> jax.Array:
    """Min pooling whose gradient goes to the switch of each window.

    :func:`jaxpool.max_pool`'s rules, mirrored:

    1. Ties go to the first position in row-major window order.
    2. NaN counts as smaller than every number: the value is NaN and the
       switch is the first NaN.
    3. With ``pad_value=+inf`` (default) a padded position is never selected
       while the window holds a real element, even if every real element is
       ``+inf``. Any other ``pad_value`` competes like a real element.
    4. A window lying wholly in padding outputs ``pad_value`` (the dtype's
       maximum for integers with ``+inf``) and sends its gradient nowhere.
    5. Where windows overlap, an input's gradient is the sum over the
       outputs that selected it.

    It is max pooling of the order-reversed input, which is exact: ``-x``
    for floats, bitwise not ``~x`` for integers (which reverses the order of
    signed and unsigned integers alike without overflow, where ``-x`` would
    overflow at the minimum), logical not for bool. So its gradient is as
    fast as max pooling's and saves one byte per output. (For floats the
    gradient's zeros come out as ``-0.0``, the negation of max pooling's,
    which compares equal to ``0.0``.) The forward alone costs more than max
    pooling's: XLA on CPU writes the reversed input out as a copy first
    (docs/pooling-family.md has the figures).

    Args:
      inputs, window_shape, strides, padding, window_dilation, ceil_mode, channel_axis, autodiff:
        as for :func:`jaxpool.max_pool`.
      pad_value: value of padded positions; ``+inf`` (default) is never
        selected (rule 3). For integers other values must be representable.

    Returns:
      The pooled array.

    Raises:
      TypeError, ValueError: as :func:`jaxpool.max_pool`; ``pad_value=-inf``
        for integer inputs.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[3., 1., 2., 2.]])
      >>> jaxpool.min_pool(x, (2,), strides=1, channel_axis=None)
      Array([[1., 1., 2.]], dtype=float32)
      >>> jax.grad(lambda x: jaxpool.min_pool(x, (2,), strides=1, channel_axis=None).sum())(x)
      Array([[0., 2., 1., 0.]], dtype=float32)
      >>> jaxpool.min_pool(jnp.array([[-128, 5, 7]], jnp.int8), (2,), channel_axis=None)
      Array([[-128,    5]], dtype=int8)
    """
    inputs, geometry = prepare(
        inputs,
        window_shape,
        strides,
        padding,
        window_dilation=window_dilation,
        ceil_mode=ceil_mode,
        channel_axis=channel_axis,
        pad_value=pad_value,
        reverse_order=True,
    )
    # As max_pool: with the switches dropped, a backend may take the values
    # by one reduce_window (of a min) where no derivative is taken.
    return pool_with_switches(inputs, geometry, autodiff, with_switches=False)[0]


def _check_norm_type(norm_type: Any) -> float:
    if isinstance(norm_type, (bool, np.bool_)) or not isinstance(norm_type, numbers.Real):
        raise TypeError(f"norm_type must be a positive real number; got {norm_type!r}")
    p = float(norm_type)
    if math.isnan(p) or (p <= 0 and p != -math.inf):
        raise ValueError(
            "norm_type must be positive (or +-inf, as PyTorch takes); got "
            f"norm_type={norm_type!r}. p = 1 sums the window, p = 2 is its Euclidean norm"
        )
    return p


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _root(total: jax.Array, p: float) -> jax.Array:
    return jnp.where(total == 0, jnp.zeros((), total.dtype), total ** (1.0 / p))


@_root.defjvp
def _root_jvp(p, primals, tangents):
    # PyTorch's sign(f) * relu(|f|) before the root makes the gradient zero
    # where the window's sum of powers is zero (where the root's own
    # derivative is infinite).
    (total,), (tangent,) = primals, tangents
    value = _root(total, p)
    safe = jnp.where(total == 0, jnp.ones((), total.dtype), total)
    slope = jnp.where(total == 0, jnp.zeros((), total.dtype), safe ** (1.0 / p - 1.0) / p)
    return value, slope * tangent


def lp_pool(
    inputs: ArrayLike,
    norm_type: float,
    window_shape: WindowShape,
    strides: PerAxis = None,
    *,
    ceil_mode: bool = False,
    channel_axis: int | None = -1,
) -> jax.Array:
    """Power-average pooling, PyTorch's ``lp_pool``: ``(sum x**p)**(1/p)``.

    The formula is PyTorch's, step by step: ``f = avg_pool(x**p)`` (no
    padding, ``count_include_pad=True``), then ``(sign(f) * relu(|f|) *
    prod(window_shape)) ** (1/p)``. So:

    * a full window gives ``(sum over the window of x**p) ** (1/p)``; a
      ``ceil_mode`` window cut short by the end of the input gives its
      average scaled by the full window size (PyTorch's arithmetic, not the
      sum of its elements);
    * where the sum of powers is zero the output is 0 and so is the gradient
      (the root's derivative would be infinite there);
    * ``x**p`` is JAX's power: a negative ``x`` with a non-integer ``p``
      gives NaN, as in PyTorch; a negative sum (odd ``p``) does too;
    * ``norm_type=inf`` is max pooling of ``|x|`` and ``-inf`` min pooling
      of ``|x|``, as in PyTorch, with :func:`jaxpool.max_pool`'s switch-based
      gradient.

    Args:
      inputs: floating-point array with ``d = len(window_shape)`` spatial
        axes, laid out as ``channel_axis`` says.
      norm_type: ``p``, a positive number, or ``+-inf``.
      window_shape: window size per spatial axis, ``d`` ints.
      strides: an int or ``d`` ints; ``None`` means 1.
      ceil_mode: PyTorch's: one more window where one starts inside the
        input.
      channel_axis: as for :func:`jaxpool.max_pool`.

    Returns:
      The pooled array, of the input's dtype.

    Raises:
      TypeError: non-float ``inputs``; ``norm_type`` not a real number.
      ValueError: ``norm_type <= 0`` (other than ``-inf``) or NaN; and what
        :func:`avg_pool` refuses.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[3., 4., 0., 0.]])
      >>> jaxpool.lp_pool(x, 2, (2,), strides=2, channel_axis=None)
      Array([[5., 0.]], dtype=float32)
      >>> jax.grad(lambda x: jaxpool.lp_pool(x, 2, (2,), 2, channel_axis=None).sum())(x)
      Array([[0.6, 0.8, 0. , 0. ]], dtype=float32)
    """
    p = _check_norm_type(norm_type)
    inputs = _float_inputs("lp_pool", inputs)
    strides = window_shape if strides is None else strides
    if math.isinf(p):
        pool = max_pool_with_argmax if p > 0 else min_pool_with_argmin
        settings = dict(ceil_mode=ceil_mode, channel_axis=channel_axis)
        return pool(jnp.abs(inputs), window_shape, strides, **settings)[0]
    geometry = _zero_padded_geometry(
        inputs, window_shape, strides, "VALID", None, ceil_mode, channel_axis
    )
    powered = jnp.power(inputs, int(p) if p.is_integer() else p)
    mean = _average(powered, geometry, True, None)
    return _root(mean * geometry.num_window_positions, p)


@functools.partial(jax.jit, static_argnums=1)
def _adaptive_average(inputs: jax.Array, geometry: AdaptiveGeometry) -> jax.Array:
    """Window sums one axis after another (each axis as ``period`` regular
    poolings, as in adaptive max pooling), then one division by the window
    sizes, as PyTorch divides once."""
    sums = inputs.astype(_accumulator(inputs.dtype))
    average = _average_dtype(inputs.dtype)
    if geometry.windows_are_disjoint_blocks:
        # Every axis tiled (global pooling included): one reshape and one
        # reduction over all window axes, which XLA fuses (one pass).
        sums = sums.reshape(geometry.blocks_shape).sum(axis=geometry.block_window_axes())
        return _divided(sums, geometry.window_sizes(), average)
    for adaptive in reversed(geometry.axes):
        axis, parts = adaptive.axis, []
        for group in adaptive.groups():
            part = lax.slice_in_dim(sums, group.start, group.stop, 1, axis)
            if group.stride == group.window or group.count == 1:
                # Disjoint windows, global pooling included: one reshape and a sum.
                shape = (*part.shape[:axis], group.count, group.window, *part.shape[axis + 1 :])
                parts.append(part.reshape(shape).sum(axis=axis + 1))
            else:
                window = [1] * part.ndim
                strides = [1] * part.ndim
                window[axis], strides[axis] = group.window, group.stride
                zero = np.zeros((), part.dtype)
                parts.append(lax.reduce_window(part, zero, lax.add, window, strides, "VALID"))
        sums = _interleave(parts, adaptive)
    return _divided(sums, geometry.window_sizes(), average)


def _divided(sums: jax.Array, divisor: np.ndarray, dtype: np.dtype) -> jax.Array:
    """``sums / divisor`` in ``dtype``: float sums are divided in their own
    (wider) dtype and rounded once; integer sums are converted first."""
    if jnp.issubdtype(sums.dtype, jnp.floating):
        return (sums / divisor.astype(sums.dtype)).astype(dtype)
    return sums.astype(dtype) / divisor.astype(dtype)


def adaptive_avg_pool(
    inputs: ArrayLike,
    output_shape: Any,
    *,
    channel_axis: int | None = -1,
) -> jax.Array:
    r"""Average pooling into a fixed output shape, with PyTorch's adaptive
    windows.

    Along a spatial axis of length ``L`` pooled to ``n`` outputs, window
    ``i`` covers :math:`\lfloor iL/n \rfloor \le j < \lceil (i + 1)L/n
    \rceil` (the windows of :func:`jaxpool.adaptive_max_pool` and
    ``torch.nn.functional.adaptive_avg_pool{1,2,3}d``); each output is the
    window's sum divided by its number of elements. ``(1, 1)`` is global
    average pooling; ``None`` keeps an axis.

    Each axis is summed as ``n / gcd(L, n)`` regular poolings (one reshape
    and a sum where the windows are disjoint, global ones included), so the
    program and its compile time do not grow with the window: a global
    average of 224x224 is one reduction. 16-bit floats are summed in
    float32; integer and bool inputs are summed exactly and averaged in
    JAX's default float, as ``jnp.mean`` and ``eqx.nn.AdaptiveAvgPool2d``
    average them. The gradient is the transpose (each element receives
    ``cotangent / window size`` from every window holding it), with no
    residual and no scatter.

    Args:
      inputs: real array (float, integer or bool) with ``d =
        len(output_shape)`` spatial axes, laid out as ``channel_axis`` says.
      output_shape: ``d`` positive ints or ``None`` (keep the axis);
        larger than the input is allowed, as in PyTorch.
      channel_axis: as for :func:`jaxpool.max_pool`.

    Returns:
      The pooled array, whose spatial axes have the sizes of ``output_shape``.

    Raises:
      TypeError: complex or non-array ``inputs``; a bad ``output_shape`` type.
      ValueError: ``output_shape`` entries ``<= 0``; a bad ``channel_axis``.

    Examples:
      >>> import jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[1., 5., 2., 4., 3.]])
      >>> jaxpool.adaptive_avg_pool(x, (2,), channel_axis=None)
      Array([[2.6666667, 3.       ]], dtype=float32)
      >>> jaxpool.adaptive_avg_pool(jnp.ones((2, 224, 224, 8)), (1, 1)).shape
      (2, 1, 1, 8)
    """
    inputs = _averaged_inputs("adaptive_avg_pool", inputs)
    geometry = adaptive_geometry(inputs.shape, output_shape, channel_axis=channel_axis)
    return _adaptive_average(inputs, geometry)
