"""Unpooling by switches, and conversion between switches and PyTorch's indices."""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.experimental import checkify

from jaxpool import _order
from jaxpool import _positions
from jaxpool import _separable
from jaxpool import _strategy
from jaxpool._geometry import Padding
from jaxpool._geometry import PerAxis
from jaxpool._geometry import PoolGeometry
from jaxpool._geometry import WindowShape
from jaxpool._geometry import pool_geometry
from jaxpool._pooling import as_array
from jaxpool._pooling import real_array

__all__ = [
    "geometry_for",
    "indices_to_switches",
    "max_unpool",
    "switches_to_indices",
    "unpool_checked",
]

ArrayLike = jax.typing.ArrayLike


def _input_shape(input_shape: Any) -> tuple[int, ...]:
    if isinstance(input_shape, np.ndarray) and input_shape.ndim == 1:
        input_shape = input_shape.tolist()
    if (
        not isinstance(input_shape, Sequence)
        or isinstance(input_shape, str)
        or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in input_shape)
    ):
        raise TypeError(f"input_shape must be a sequence of ints; got {input_shape!r}")
    shape = tuple(operator.index(v) for v in input_shape)
    if any(v < 0 for v in shape):
        raise ValueError(f"input_shape entries must be non-negative; got {input_shape!r}")
    return shape


def geometry_for(
    name: str,
    outputs: jax.Array,
    input_shape: Any,
    window_shape: WindowShape,
    strides: PerAxis,
    padding: Padding,
    window_dilation: Any,
    ceil_mode: bool,
    channel_axis: Any,
) -> PoolGeometry:
    """The geometry of the pooling of ``input_shape`` whose output ``outputs``
    (named ``name``) must be."""
    shape = _input_shape(input_shape)
    if len(shape) != outputs.ndim:
        raise ValueError(
            f"input_shape={shape} has {len(shape)} axes but {name} has {outputs.ndim} "
            f"(shape {outputs.shape}); they must have the same rank"
        )
    settings = dict(
        window_shape=window_shape,
        strides=strides,
        padding=padding,
        window_dilation=window_dilation,
        ceil_mode=ceil_mode,
        channel_axis=channel_axis,
    )
    dtype = outputs.dtype if outputs.dtype != np.bool_ else np.int8
    geometry = pool_geometry(shape, dtype, **settings)
    if geometry.output_shape != outputs.shape:
        described = (
            f"window_shape={geometry.window_shape}, strides={geometry.strides}, "
            f"padding={geometry.padding}, window_dilation={geometry.window_dilation}, "
            f"ceil_mode={bool(ceil_mode)}"
        )
        raise ValueError(
            f"{name} has shape {outputs.shape}, but max pooling an input of shape "
            f"input_shape={shape} with {described} gives {geometry.output_shape}. Pass the "
            "settings of the max pool that made the switches, and the shape of its input as "
            f"input_shape{_likely_fix(outputs.shape, shape, settings)}"
        )
    return geometry


def _likely_fix(wanted: tuple[int, ...], shape: tuple[int, ...], settings: dict[str, Any]) -> str:
    """The one setting that, changed, would make the pooling of ``shape``
    give ``wanted`` (as a clause to end a message), or ``""``."""
    ceil_mode, strides = settings["ceil_mode"], settings["strides"]
    candidates = {"ceil_mode": not bool(ceil_mode)}
    if strides is None:
        # strides=None is 1 here; PyTorch's default is the window.
        candidates["strides"] = tuple(settings["window_shape"])
    for setting, value in candidates.items():
        # Valid settings stay valid: ceil_mode only adds windows, and windows
        # that fit at stride 1 fit at any stride.
        changed = pool_geometry(shape, np.float32, **{**settings, setting: value})
        if changed.output_shape == wanted:
            return f" ({setting}={value!r} would give {wanted})"
    return ""


def _integers(name: str, array: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    if not jnp.issubdtype(array.dtype, jnp.integer):
        raise TypeError(f"{name} must have an integer dtype; got {array.dtype}")
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}; it must have the shape {shape}")
    return array


def _integer_geometry(
    name: str, array: Any, input_shape: Any, pooling: tuple[Any, ...]
) -> tuple[jax.Array, PoolGeometry]:
    """``array`` (switches or indices, named ``name``) checked to be integers
    shaped as the pooling of ``input_shape`` outputs, and that pooling."""
    array = as_array(name, array)
    geometry = geometry_for(name, array, input_shape, *pooling)
    return _integers(name, array, array.shape), geometry


def _require(name: str, array: jax.Array, valid: jax.Array, outside: str, why: str) -> None:
    """Refuses the entries of ``array`` (named ``name``) where ``valid`` is
    false, saying they lie ``outside`` and ``why`` that matters: a
    ValueError naming them where they are concrete; under a trace, a
    :func:`jax.experimental.checkify.debug_check`, which only
    ``checkify.checkify`` turns into an error (elsewhere it does nothing)."""
    if isinstance(valid, jax.core.Tracer):
        first_bad = array.ravel()[jnp.argmin(valid.ravel())]
        message = f"{name} has entries outside {outside}, the first {{}}: {why}"
        checkify.debug_check(jnp.all(valid), message, first_bad)
        return
    bad = ~np.asarray(valid)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} has {int(bad.sum())} of {bad.size} entries outside {outside}, the first "
            f"{np.asarray(array)[where]} at position {where}: {why}"
        )


def _require_switches(name: str, switches: jax.Array, geometry: PoolGeometry) -> None:
    positions = geometry.num_window_positions
    # Concrete switches are checked on the host, so that an eager call stays
    # one jitted computation.
    checked = switches if isinstance(switches, jax.core.Tracer) else np.asarray(switches)
    _require(
        name,
        checked,
        (checked >= 0) & (checked < positions),
        f"[0, {positions})",
        "switches are row-major offsets within the window, as max_pool_with_argmax returns "
        "them. PyTorch's return_indices (flat indices into the input's spatial plane) must "
        "first go through jaxpool.indices_to_switches",
    )


def _index_dtype() -> np.dtype:
    """int64 under ``jax_enable_x64``, else int32."""
    return np.dtype(jax.dtypes.canonicalize_dtype(np.int64))


def _iota(geometry: PoolGeometry, k: int, dtype: Any) -> jax.Array:
    """Window index along spatial axis ``k``, broadcastable to the output."""
    shape = [1] * geometry.ndim
    shape[geometry.spatial_axes[k]] = geometry.output_spatial_shape[k]
    return lax.broadcasted_iota(dtype, shape, geometry.spatial_axes[k])


def _along_output(per_window: np.ndarray, geometry: PoolGeometry, k: int) -> np.ndarray:
    """A per-window static array along spatial axis ``k``, shaped to
    broadcast against the output."""
    shape = [1] * geometry.ndim
    shape[geometry.spatial_axes[k]] = per_window.shape[0]
    return per_window.reshape(shape)


def _route_largest_by_position(
    values: jax.Array, switches: jax.Array, geometry: PoolGeometry
) -> jax.Array:
    """Each value at the input its switch names, the largest where several
    land, zero where none does.

    Every window position lands in one stride phase of the input, as a
    unit-stride shift of the output-shaped array (the inverse of how the pick
    gathers it); :func:`~jaxpool._positions.merge_stride_phases` then interleaves the phases, as
    the transpose of the pick does. Strided ``lax.pad`` per position costs
    index arithmetic per element that XLA:CPU does not vectorise (4x to 11x
    slower, measured in benchmarks/NOTES.md).
    """
    zero = jnp.zeros((), values.dtype)
    empty = (
        jnp.zeros(_positions.phase_shape(geometry), values.dtype),
        jnp.zeros(_positions.phase_shape(geometry), bool),
    )
    phases: dict[tuple[int, ...], tuple[jax.Array, jax.Array]] = {}
    for position, offsets in enumerate(geometry.window_offsets()):
        phase = _positions.phase_slice(geometry, offsets)[0]
        config = _positions.phase_spread_config(geometry, offsets)
        hit = switches == position
        spread = lax.pad(jnp.where(hit, values, zero), zero, config)
        spread_hit = lax.pad(hit, False, config)
        routed, landed = phases.get(phase, empty)
        better = spread_hit & (~landed | _order.is_better(spread, routed))
        phases[phase] = (jnp.where(better, spread, routed), landed | spread_hit)
    return _positions.merge_stride_phases(
        {key: routed for key, (routed, _) in phases.items()}, geometry
    )


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _route_sum(values: jax.Array, switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """:func:`~jaxpool._strategy.route_to_switches`, whose derivatives save only the switches."""
    return _strategy.route_to_switches(values, switches, geometry)


@_route_sum.defjvp
def _route_sum_jvp(geometry, primals, tangents):
    values, switches = primals
    values_tangent, _ = tangents
    # Linear: the tangent takes the same route. Rematerialised, so that reverse
    # mode saves the switches alone, not the route's masks.
    route = jax.checkpoint(
        functools.partial(_strategy.route_to_switches, geometry=geometry), prevent_cse=False
    )
    return route(values, switches), route(values_tangent, switches)


def _route_largest(values: jax.Array, switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    if _strategy.strategy(geometry) == "separable":
        return _separable.route_largest(values, switches, geometry)
    return _route_largest_by_position(values, switches, geometry)


# Jitted, as the pooling functions are: a call outside jit compiles once per
# geometry instead of dispatching every pad and select one by one.
_ROUTES = {
    "sum": jax.jit(_route_sum, static_argnums=2),
    "max": jax.jit(_route_largest, static_argnums=2),
}


def max_unpool(
    values: ArrayLike,
    switches: ArrayLike,
    input_shape: Sequence[int],
    window_shape: WindowShape,
    strides: PerAxis = None,
    padding: Padding = "VALID",
    *,
    window_dilation: PerAxis = None,
    ceil_mode: bool = False,
    channel_axis: int | None = -1,
    combine: str = "sum",
) -> jax.Array:
    """Places each value at the input position its switch names.

    The inverse of pooling that SegNet-style decoders use: an array of
    ``input_shape`` holding zeros, with each of ``values`` at the element of
    the window that its switch selects. The pooling arguments are those of
    :func:`jaxpool.max_pool` that produced ``switches``; what lands on padding
    is dropped.

    Rules where windows overlap and several values land on one element:

    * ``combine="sum"`` (default) adds them. This is the very route that
      ``max_pool``'s backward sends cotangents along (one implementation
      serves both), so ``max_unpool(g, switches, ...)`` equals the VJP of
      ``max_pool`` at ``g``; linear, differentiable in ``values``,
      deterministic and scatter-free. Overlapping contributions of 16-bit
      values are added in float32. Integer and bool values need disjoint
      windows (or ``combine="max"``).
    * ``combine="max"`` keeps the largest of them (NaN counts as larger than
      every number), zeros where none lands; deterministic and scatter-free.
      For unpooling pooled values every candidate is the same element's value,
      so this equals PyTorch's result (which writes an arbitrary one of them).

    Both equal ``torch.nn.functional.max_unpool{1,2,3}d`` for disjoint
    windows; with overlap PyTorch writes one of the values (the last on CPU,
    an arbitrary one on GPU) rather than their sum.

    Windows of more than a dozen positions are routed one spatial axis after
    another. Where such windows overlap, the route is exact for switches that a
    max pool can produce (from :func:`jaxpool.max_pool_with_argmax`, or from
    PyTorch's indices of a max pool through :func:`indices_to_switches`): every
    output that selects a given row of a column of windows selects the same
    element in it. For other switches each row takes the position named by the
    largest of the disagreeing per-axis positions, so values may land elsewhere
    than their switch names; use smaller windows (position by position, exact
    for any switches) for such switches.

    Args:
      values: pooled array, shaped as ``max_pool``'s output.
      switches: integer array of ``values``' shape with entries in
        ``[0, prod(window_shape))``, as ``max_pool_with_argmax`` returns.
        Entries outside raise ``ValueError`` where the switches are
        concrete. Under ``jax.jit`` they cannot be inspected: their values
        are dropped, unless the call runs under
        ``jax.experimental.checkify.checkify``, which turns them into an
        error.
      input_shape: shape of the pooled input, the shape of the result.
      window_shape, strides, padding, window_dilation, ceil_mode, channel_axis: as for
        :func:`jaxpool.max_pool`.
      combine: ``"sum"`` or ``"max"``, the rule above.

    Returns:
      An array of ``input_shape`` and ``values``' dtype.

    Raises:
      TypeError: non-array ``values`` or ``switches``, non-integer
        ``switches``, complex ``values``, a bad ``input_shape`` type.
      ValueError: ``switches`` of another shape than ``values``; concrete
        ``switches`` outside ``[0, prod(window_shape))`` (such as PyTorch's
        indices, which :func:`indices_to_switches` converts); an
        ``input_shape`` whose pooling does not give ``values``' shape; a bad
        ``combine``; the pooling arguments' errors.

    Examples:
      >>> import jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[3., 1., 4., 1.], [5., 9., 2., 6.]])
      >>> values, switches = jaxpool.max_pool_with_argmax(
      ...     x, (2, 2), strides=(2, 2), channel_axis=None)
      >>> jaxpool.max_unpool(values, switches, x.shape, (2, 2), (2, 2), channel_axis=None)
      Array([[0., 0., 0., 0.],
             [0., 9., 0., 6.]], dtype=float32)
    """
    values = real_array("values", values)
    switches = as_array("switches", switches)
    if combine not in ("sum", "max"):
        raise ValueError(f"combine must be 'sum' or 'max'; got {combine!r}")
    geometry = geometry_for(
        "values",
        values,
        input_shape,
        window_shape,
        strides,
        padding,
        window_dilation,
        ceil_mode,
        channel_axis,
    )
    switches = _integers("switches", switches, values.shape)
    _require_switches("switches", switches, geometry)
    return unpool_checked(values, switches, geometry, combine)


def unpool_checked(
    values: jax.Array, switches: jax.Array, geometry: PoolGeometry, combine: str
) -> jax.Array:
    """:func:`max_unpool` of switches already checked against ``geometry``
    (``jaxpool.functional``'s, converted from checked indices): no check runs
    inside its ``custom_jvp``, which JAX before 0.5 refuses under
    ``jax_enable_checks``."""
    switches = switches.astype(geometry.switch_dtype)
    if combine == "sum" and not jnp.issubdtype(values.dtype, jnp.floating):
        if geometry.windows_overlap:
            raise TypeError(
                f"combine='sum' adds overlapping windows' values, which needs float values; "
                f"got dtype {values.dtype}. Pass combine='max' or float values"
            )
        # Disjoint windows: at most one value lands on each element, so the
        # sum is the largest.
        combine = "max"
    return _ROUTES[combine](values, switches, geometry)


def switches_to_indices(
    switches: ArrayLike,
    input_shape: Sequence[int],
    window_shape: WindowShape,
    strides: PerAxis = None,
    padding: Padding = "VALID",
    *,
    window_dilation: PerAxis = None,
    ceil_mode: bool = False,
    channel_axis: int | None = -1,
) -> jax.Array:
    """PyTorch's ``return_indices`` format from switches.

    The index of a switch is the row-major position of the element it selects
    within its unpadded spatial plane (``h * W + w`` in 2-D), as
    ``torch.nn.functional.max_pool{1,2,3}d(..., return_indices=True)`` returns
    it, and ``-1`` where the switch lies in padding (which ``max_pool`` selects
    only where a window holds no real element, or with a finite
    ``pad_value``). :func:`indices_to_switches` is the inverse.

    Args:
      switches: integer array shaped as the pooled output, as
        :func:`jaxpool.max_pool_with_argmax` returns.
      input_shape: shape of the pooled input.
      window_shape, strides, padding, window_dilation, ceil_mode, channel_axis: as for
        :func:`jaxpool.max_pool`.

    Returns:
      int32 indices of ``switches``' shape (int64 under ``jax_enable_x64``).

    Raises:
      TypeError: non-array or non-integer ``switches``, a bad ``input_shape``
        type.
      ValueError: concrete ``switches`` outside ``[0, prod(window_shape))``;
        an ``input_shape`` whose pooling does not give ``switches``' shape;
        the pooling arguments' errors.

    Examples:
      >>> import jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[3., 1., 4., 1.], [5., 9., 2., 6.]])
      >>> _, switches = jaxpool.max_pool_with_argmax(x, (2, 2), (2, 2), channel_axis=None)
      >>> jaxpool.switches_to_indices(switches, x.shape, (2, 2), (2, 2), channel_axis=None)
      Array([[5, 7]], dtype=int32)
    """
    pooling = (window_shape, strides, padding, window_dilation, ceil_mode, channel_axis)
    switches, geometry = _integer_geometry("switches", switches, input_shape, pooling)
    _require_switches("switches", switches, geometry)
    dtype = _index_dtype()
    index = jnp.zeros((), dtype)
    real = jnp.ones((), bool)
    for k, (windows, digit) in enumerate(
        zip(geometry.axis_windows(), _separable.switch_digits(switches.astype(dtype), geometry))
    ):
        start = _iota(geometry, k, dtype) * windows.stride - windows.low
        coordinate = start + digit * windows.dilation
        real = real & (coordinate >= 0) & (coordinate < windows.length)
        index = index * windows.length + coordinate
    return jnp.where(real, index, jnp.asarray(-1, dtype))


def indices_to_switches(
    indices: ArrayLike,
    input_shape: Sequence[int],
    window_shape: WindowShape,
    strides: PerAxis = None,
    padding: Padding = "VALID",
    *,
    window_dilation: PerAxis = None,
    ceil_mode: bool = False,
    channel_axis: int | None = -1,
) -> jax.Array:
    """Switches from PyTorch's ``return_indices`` format: the inverse of
    :func:`switches_to_indices`.

    An index of ``-1`` becomes the window's first position (in row-major
    order) that lies in padding, which is the position ``max_pool`` selects
    where padding wins. An index that names an element outside its window
    (or -1 where the window has no padding) raises ``ValueError`` where the
    indices are concrete; under ``jax.jit`` it gives unspecified switches,
    unless the call runs under ``jax.experimental.checkify.checkify``, which
    turns it into an error.

    Args:
      indices: integer array shaped as the pooled output: per output, the
        row-major index of the selected element within the unpadded spatial
        plane.
      input_shape, window_shape, strides, padding, window_dilation, ceil_mode, channel_axis:
        as for :func:`switches_to_indices`.

    Returns:
      Switches in ``[0, prod(window_shape))`` of the dtype
      :func:`jaxpool.max_pool_with_argmax` gives them.

    Raises:
      TypeError: non-array or non-integer ``indices``, a bad ``input_shape``
        type.
      ValueError: concrete ``indices`` that name an element outside their
        window; an ``input_shape`` whose pooling does not give ``indices``'
        shape; the pooling arguments' errors.

    Examples:
      >>> import jax.numpy as jnp, jaxpool
      >>> indices = jnp.array([[5, 7]])
      >>> jaxpool.indices_to_switches(indices, (2, 4), (2, 2), (2, 2), channel_axis=None)
      Array([[3, 3]], dtype=int8)
    """
    pooling = (window_shape, strides, padding, window_dilation, ceil_mode, channel_axis)
    indices, geometry = _integer_geometry("indices", indices, input_shape, pooling)
    dtype = _index_dtype()
    indices = indices.astype(dtype)
    axes = geometry.axis_windows()
    switches = jnp.zeros((), dtype)
    plane = math.prod(windows.length for windows in axes)
    in_window = (indices >= 0) & (indices < plane)
    inner = plane
    for k, windows in enumerate(axes):
        inner //= windows.length
        coordinate = (indices // inner) % windows.length
        start = _iota(geometry, k, dtype) * windows.stride - windows.low
        offset = coordinate - start
        in_window = in_window & (offset >= 0) & (offset % windows.dilation == 0)
        in_window = in_window & (offset < windows.window * windows.dilation)
        switches = switches * windows.window + offset // windows.dilation
    # -1: the first padded position of the window in row-major order, which is
    # the zero position if some axis has padding at position 0, else the first
    # padded position of the last axis that has any.
    padded_first = np.zeros((), bool)
    fallback = jnp.zeros((), dtype)
    inner = geometry.num_window_positions
    for k, windows in enumerate(axes):
        inner //= windows.window
        is_padding = ~windows.window_real()
        has_padding = _along_output(is_padding.any(axis=1), geometry, k)
        first = _along_output(np.argmax(is_padding, axis=1) * inner, geometry, k)
        padded_first = padded_first | _along_output(is_padding[:, 0], geometry, k)
        fallback = jnp.where(has_padding, jnp.asarray(first, dtype), fallback)
    fallback = jnp.where(padded_first, jnp.zeros((), dtype), fallback)
    some_padding = np.zeros((), bool)
    for k, windows in enumerate(axes):
        some_padding = some_padding | _along_output(~windows.window_real().all(axis=1), geometry, k)
    _require(
        "indices",
        indices,
        in_window | ((indices == -1) & some_padding),
        "their windows",
        "each index must name an element of its own window (row-major within the unpadded "
        "spatial plane), or be -1 where the window reaches into padding; check that the "
        "pooling arguments (window, stride, padding, dilation) match the max pool that made them",
    )
    switches = jnp.where(indices < 0, fallback, switches)
    return switches.astype(geometry.switch_dtype)
