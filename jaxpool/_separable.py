"""Max pooling one spatial axis after another: the strategy for large windows.

The first maximum of a window in row-major order can be found axis by axis.
Reduce the last spatial axis first: every row of every window gets its first
maximum. Then reduce the next axis over those row winners, keeping the first
row that holds the largest one: no earlier row holds a value as large, and in
that row no earlier position does. NaN ranks above every number and, with
``pad_value=-inf``, a real element above padding, so the same argument holds
for the selection rules. Each reduction carries along the switch of the inner
axes it has already reduced, so the last one yields the row-major switch.

Along one axis, disjoint windows are split out by a reshape and reduced by a
pairwise tree; overlapping windows are unrolled position by position when they
are short and combined by doubling when they are long (the window of ``w``
positions is the union of two overlapping runs of ``2**k <= w`` positions, and
the left run wins ties, which keeps the first maximum). So the program grows
with the logarithm of the window, not with its number of positions.

The backward goes back axis by axis too: every output that selects an element
of an intermediate (an array reduced along its inner axes only) selects the
same position in it, so the switches, routed outward, tell each intermediate
element which position it took. :func:`pick_at_switches` picks the tangent
axis by axis with those positions; its transpose routes the cotangent.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxpool import _compat
from jaxpool import _order
from jaxpool._geometry import AxisWindows
from jaxpool._geometry import PoolGeometry

# (values, switches, real): the running best, its switch (an array, or a
# scalar before any position was compared), and, where padding loses to every
# real element, a static mask of which entries hold a real element.
_Best = tuple[jnp.ndarray, Any, "np.ndarray | None"]


def _slice(array: Any, start: int, stop: int, stride: int, axis: int) -> Any:
    """``array[start:stop:stride]`` along ``axis``; scalars and None pass
    through."""
    if array is None:
        return None
    if isinstance(array, np.ndarray):
        index = [slice(None)] * array.ndim
        index[axis] = slice(start, stop, stride)
        return array[tuple(index)]
    if jnp.ndim(array) == 0:
        return array
    return lax.slice_in_dim(array, start, stop, stride, axis)


def _along(mask: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    """A per-axis mask shaped to broadcast against an array of rank ``ndim``."""
    shape = [1] * ndim
    shape[axis : axis + mask.ndim] = mask.shape
    return mask.reshape(shape)


def _combine(first: _Best, second: _Best, offset: int) -> _Best:
    """The better of two candidates, ``first`` winning ties; ``second``'s
    switches are shifted by ``offset``. Without switches, just the max."""
    first_values, first_switches, first_real = first
    second_values, second_switches, second_real = second
    if first_switches is None:
        return lax.max(first_values, second_values), None, None
    better = _order.is_better(second_values, first_values)
    real = None
    if first_real is not None:
        if not (first_real.all() and second_real.all()):
            # Static masks: the first real element beats padding.
            better = second_real & (better | ~first_real)
        real = first_real | second_real
    values = jnp.where(better, second_values, first_values)
    switches = jnp.where(better, second_switches + offset, first_switches)
    return values, switches, real


def _pad_axis(array: jnp.ndarray, windows: AxisWindows, scalar: Any) -> jnp.ndarray:
    """``array`` padded (or trimmed) along the axis to the extent the windows
    cover."""
    if windows.low == 0 and windows.high == 0:
        return array
    config = [(0, 0, 0)] * array.ndim
    config[windows.axis] = (windows.low, windows.high, 0)
    return lax.pad(array, jnp.asarray(scalar, array.dtype), config)


def _unpad_axis(array: jnp.ndarray, windows: AxisWindows) -> jnp.ndarray:
    """Inverse of :func:`_pad_axis`; trimmed elements come back as zeros."""
    if windows.low == 0 and windows.high == 0:
        return array
    config = [(0, 0, 0)] * array.ndim
    config[windows.axis] = (-windows.low, -windows.high, 0)
    return lax.pad(array, jnp.zeros((), array.dtype), config)


def _reduce_blocks(best: _Best, windows: AxisWindows, inner: int) -> _Best:
    """Disjoint windows: split the axis into (window, position) and halve the
    positions pairwise, the left of each pair winning ties."""
    values, switches, real = best
    axis = windows.axis
    split = (*values.shape[:axis], windows.size, windows.window, *values.shape[axis + 1 :])
    values = values.reshape(split)
    if switches is None:
        return _max_by_halves(values, axis + 1), None, None
    if jnp.ndim(switches):
        switches = switches.reshape(split)
    position_shape = [1] * len(split)
    position_shape[axis + 1] = windows.window
    dtype = jnp.asarray(switches).dtype
    iota = lax.broadcasted_iota(dtype, position_shape, axis + 1)
    # Grown from the values to carry their sharding.
    switches = switches + iota * jnp.asarray(inner, dtype) + jnp.zeros_like(values, dtype)
    if real is not None:
        real = _along(real.reshape(windows.size, windows.window), len(split), axis)
    best = values, switches, real
    width, position_axis = windows.window, axis + 1
    while width > 1:
        pairs = width // 2
        left = tuple(_slice(part, 0, 2 * pairs, 2, position_axis) for part in best)
        right = tuple(_slice(part, 1, 2 * pairs, 2, position_axis) for part in best)
        merged = _combine(left, right, 0)
        if width % 2:
            rest = tuple(_slice(part, width - 1, width, 1, position_axis) for part in best)
            merged = (
                lax.concatenate([merged[0], rest[0]], position_axis),
                lax.concatenate([merged[1], rest[1]], position_axis),
                None if real is None else np.concatenate([merged[2], rest[2]], position_axis),
            )
        best, width = merged, pairs + width % 2
    values, switches, real = best
    return (
        values.reshape(values.shape[: axis + 1] + values.shape[axis + 2 :]),
        switches.reshape(switches.shape[: axis + 1] + switches.shape[axis + 2 :]),
        None if real is None else real.reshape(real.shape[: axis + 1] + real.shape[axis + 2 :]),
    )


def _max_by_halves(values: jnp.ndarray, axis: int) -> jnp.ndarray:
    """The max over ``axis`` (removed), as elementwise maxima of its two
    halves (overlapping by one for odd lengths), halved until one is left.

    Not ``lax.reduce_max``: XLA:CPU's max reduction drops NaN once it reduces
    4,096 elements or more, and an elementwise max never does. Contiguous
    halves keep within 1.2x of the reduction's time (strided pairs: 1.9x).
    """
    width = values.shape[axis]
    while width > 1:
        half = -(-width // 2)
        values = lax.max(
            lax.slice_in_dim(values, 0, half, axis=axis),
            lax.slice_in_dim(values, width - half, width, axis=axis),
        )
        width = half
    return lax.squeeze(values, (axis,))


def _reduce_unrolled(best: _Best, windows: AxisWindows, inner: int) -> _Best:
    """Short overlapping windows: one strided slice per position."""
    result = None
    count = (windows.size - 1) * windows.stride + 1
    for position in range(windows.window):
        start = position * windows.dilation
        candidate = tuple(
            _slice(part, start, start + count, windows.stride, windows.axis) for part in best
        )
        if result is None:
            result = candidate
        else:
            result = _combine(result, candidate, position * inner)
    return result


def _reduce_doubling(best: _Best, windows: AxisWindows, inner: int) -> _Best:
    """Long overlapping windows: runs of 1, 2, 4, ... positions starting at
    every element, then each window as the union of two overlapping runs."""
    axis, dilation = windows.axis, windows.dilation
    length, run = windows.padded_length, 1
    while 2 * run <= windows.window:
        length -= run * dilation
        shift = run * dilation
        best = _combine(
            tuple(_slice(part, 0, length, 1, axis) for part in best),
            tuple(_slice(part, shift, shift + length, 1, axis) for part in best),
            run * inner,
        )
        run *= 2
    count = (windows.size - 1) * windows.stride + 1
    first = tuple(_slice(part, 0, count, windows.stride, axis) for part in best)
    if run == windows.window:
        return first
    shift = (windows.window - run) * dilation
    second = tuple(_slice(part, shift, shift + count, windows.stride, axis) for part in best)
    return _combine(first, second, (windows.window - run) * inner)


_REDUCE = {"blocks": _reduce_blocks, "unrolled": _reduce_unrolled, "doubling": _reduce_doubling}


def max_values(inputs: jnp.ndarray, geometry: PoolGeometry, pad_scalar: jnp.ndarray) -> jnp.ndarray:
    """The windowed max alone, one axis after another (no selection).

    The max does not depend on the order of the axes. Outer axes go first
    where the windows slide along the minor axis (channels-first), so that
    the minor axis is reduced when the data is smallest (a global 56x56
    window: 1.2x the time of ``lax.reduce_max``, against 2.7x innermost
    first), and where every axis has disjoint windows (global 224x224
    channels-last: 1.0x, against 1.3x); otherwise the innermost go first
    (a 3-D 5x5x5/1 window: outer first took 2.3x as long).
    """
    values = inputs
    axes = geometry.axis_windows()
    outer_first = geometry.minor_axis_is_spatial or all(w.strategy == "blocks" for w in axes)
    for windows in axes if outer_first else reversed(axes):
        values = _pad_axis(values, windows, pad_scalar)
        values, _, _ = _REDUCE[windows.strategy]((values, None, None), windows, 1)
    return values


def values_and_switches(
    inputs: jnp.ndarray, geometry: PoolGeometry, pad_scalar: jnp.ndarray
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """The windowed max and its row-major switch, one axis after another."""
    masked = geometry.pad_is_lowest
    values, switches = inputs, jnp.zeros((), geometry.switch_dtype)
    inner = 1
    for windows in reversed(geometry.axis_windows()):
        values = _pad_axis(values, windows, pad_scalar)
        if jnp.ndim(switches):
            switches = _pad_axis(switches, windows, 0)
        real = None
        if masked and windows.is_padded:
            real = _along(windows.real(), values.ndim, windows.axis)
        values, switches, _ = _REDUCE[windows.strategy]((values, switches, real), windows, inner)
        inner *= windows.window
    if not jnp.ndim(switches):
        # Windows of one position never compared anything.
        switches = jnp.zeros_like(values, switches.dtype)
    if masked:
        # A window wholly in padding keeps the first position, as a running
        # selection over the whole window would.
        some_real = np.ones((), bool)
        for windows in geometry.axis_windows():
            axis_real = _along(windows.window_real().any(axis=1), values.ndim, windows.axis)
            some_real = some_real & axis_real
        if not some_real.all():
            switches = jnp.where(some_real, switches, jnp.zeros((), switches.dtype))
    return values, switches


def switch_digits(switches: jnp.ndarray, geometry: PoolGeometry) -> list[jnp.ndarray]:
    """The per-axis window positions that make up each row-major switch."""
    # In int32: LLVM takes seconds to optimise some loops of 8-bit divisions
    # by a constant (the 11x11 gradient compiled in 1 s or 4 s depending on
    # which buffer XLA updates in place).
    wide = switches.astype(np.int32)
    digits, inner = [], math.prod(geometry.window_shape)
    for window in geometry.window_shape:
        inner //= window
        digit = lax.rem(lax.div(wide, np.int32(inner)), np.int32(window))
        digits.append(digit.astype(switches.dtype))
    return digits


def _selected_positions(switches: jnp.ndarray, geometry: PoolGeometry) -> list[jnp.ndarray]:
    """Per spatial axis ``k``, the position along ``k`` that each element of
    the intermediate reduced along axes ``k`` and after took: the switches'
    digit for axis ``k``, routed out through the axes before it."""
    axes = geometry.axis_windows()
    selected = []
    for k, positions in enumerate(switch_digits(switches, geometry)):
        for j in range(k):
            positions = route_positions(positions, selected[j], axes[j])
        selected.append(positions)
    return selected


def _split_window_axis(array: Any, windows: AxisWindows) -> tuple[Any, np.ndarray]:
    """``array`` with its axis split into (window, position), and the shape of
    an iota over the positions."""
    axis = windows.axis
    shape = (*array.shape[:axis], windows.size, windows.window, *array.shape[axis + 1 :])
    positions_shape = [1] * len(shape)
    positions_shape[axis + 1] = windows.window
    return array.reshape(shape), positions_shape


def route_positions(
    positions: jnp.ndarray, selected: jnp.ndarray, windows: AxisWindows
) -> jnp.ndarray:
    """Sends each window's ``positions`` entry to the element its ``selected``
    position names along the axis, keeping the largest where several land;
    elsewhere 0. (Consistent switches send equal entries to one element.)"""
    return _route_largest_axis(positions, None, selected, windows)[0]


def _pick_axis(tangent: jnp.ndarray, selected: jnp.ndarray, windows: AxisWindows) -> jnp.ndarray:
    """The tangent at the ``selected`` position of each window along the axis
    (padding has tangent zero). Linear in ``tangent``."""
    tangent = _pad_axis(tangent, windows, 0)
    axis, zero = windows.axis, jnp.zeros((), tangent.dtype)
    if windows.strategy == "blocks":
        blocks, positions_shape = _split_window_axis(tangent, windows)
        iota = lax.broadcasted_iota(selected.dtype, positions_shape, axis + 1)
        chosen = lax.expand_dims(selected, (axis + 1,)) == iota
        return jnp.where(chosen, blocks, zero).sum(axis + 1)
    count = (windows.size - 1) * windows.stride + 1

    def candidate(position, tangent=tangent):
        start = position * windows.dilation
        if isinstance(position, int):
            run = lax.slice_in_dim(tangent, start, start + count, 1, axis)
        else:
            run = lax.dynamic_slice_in_dim(tangent, start, count, axis)
        return lax.slice_in_dim(run, 0, count, windows.stride, axis)

    if windows.strategy == "unrolled":
        picked = candidate(0)
        for position in range(1, windows.window):
            picked = jnp.where(selected == position, candidate(position), picked)
        return picked

    def keep(position, picked, tangent):
        return jnp.where(selected == position, candidate(position, tangent), picked)

    # Rematerialised: the transpose would otherwise save the mask of every
    # position, a stack of window x output booleans.
    return _compat.linear_fori_loop(
        windows.window, keep, jnp.zeros_like(selected, tangent.dtype), tangent, unroll=8
    )


def pick_at_switches(
    tangent: jnp.ndarray, switches: jnp.ndarray, geometry: PoolGeometry
) -> jnp.ndarray:
    """The tangent at each output's switch, picked one axis after another.

    Linear in ``tangent``; its transpose routes cotangents axis by axis.
    """
    axes = geometry.axis_windows()
    selected = _selected_positions(switches, geometry)
    for windows, positions in zip(reversed(axes), reversed(selected)):
        tangent = _pick_axis(tangent, positions, windows)
    return tangent


def _route_largest_axis(
    values: jnp.ndarray,
    landed: jnp.ndarray | None,
    selected: jnp.ndarray,
    windows: AxisWindows,
) -> tuple[jnp.ndarray, jnp.ndarray | None]:
    """Sends each window's value (where ``landed``) to the element its
    ``selected`` position names along the axis, keeping the largest where
    several land; returns the routed values (zero where none lands) and
    where something landed.

    ``landed=None`` means every window sends a value, all of them
    non-negative: the largest is then a plain maximum with zero, and no
    landing mask is kept (None is returned for it).
    """
    axis, zero = windows.axis, jnp.zeros((), values.dtype)
    if windows.strategy == "blocks":
        # Disjoint windows: each element receives at most one value.
        expanded = lax.expand_dims(selected, (axis + 1,))
        shape = list(expanded.shape)
        shape[axis + 1] = windows.window
        hit = expanded == lax.broadcasted_iota(selected.dtype, shape, axis + 1)
        if landed is not None:
            hit = hit & lax.expand_dims(landed, (axis + 1,))
        routed = jnp.where(hit, lax.expand_dims(values, (axis + 1,)), zero)
        merged = list(values.shape)
        merged[axis] = windows.size * windows.window
        routed = _unpad_axis(routed.reshape(merged), windows)
        return routed, None if landed is None else _unpad_axis(hit.reshape(merged), windows)
    count = (windows.size - 1) * windows.stride + 1
    config = [(0, 0, 0)] * values.ndim
    config[axis] = (0, 0, windows.stride - 1)

    def land(position, carry):
        # The values of windows that took ``position``, spread to the stride.
        routed, routed_landed = carry
        hit = selected == position
        if landed is not None:
            hit = hit & landed
        spread = lax.pad(jnp.where(hit, values, zero), zero, config)
        start = position * windows.dilation
        region = lax.dynamic_slice_in_dim(routed, start, count, axis)
        if routed_landed is None:
            merged = jnp.maximum(region, spread)
        else:
            spread_hit = lax.pad(hit, False, config)
            region_landed = lax.dynamic_slice_in_dim(routed_landed, start, count, axis)
            better = spread_hit & (~region_landed | _order.is_better(spread, region))
            merged = jnp.where(better, spread, region)
            routed_landed = lax.dynamic_update_slice_in_dim(
                routed_landed, region_landed | spread_hit, start, axis
            )
        return lax.dynamic_update_slice_in_dim(routed, merged, start, axis), routed_landed

    # Zeros grown from ``values`` carry its sharding.
    grow = [(0, 0, 0)] * values.ndim
    grow[axis] = (0, windows.padded_length - windows.size, 0)
    routed = lax.pad(jnp.zeros_like(values), zero, grow)
    carry = (routed, None if landed is None else lax.pad(jnp.zeros_like(landed), False, grow))
    if windows.strategy == "unrolled":
        for position in range(windows.window):
            carry = land(position, carry)
    else:
        carry = lax.fori_loop(0, windows.window, land, carry)
    routed, routed_landed = carry
    return (
        _unpad_axis(routed, windows),
        None if routed_landed is None else _unpad_axis(routed_landed, windows),
    )


def route_largest(
    values: jnp.ndarray, switches: jnp.ndarray, geometry: PoolGeometry
) -> jnp.ndarray:
    """Sends each value to the input element its switch names, one axis after
    another, keeping the largest where several land (NaN above every number)
    and zero where none lands; what lands on padding is dropped.

    Exact for switches a max pool can produce (every output that selects an
    element of an intermediate selects the same position in it), as
    :func:`pick_at_switches` is.
    """
    axes = geometry.axis_windows()
    selected = _selected_positions(switches, geometry)
    landed = jnp.ones(values.shape, bool)
    for windows, positions in zip(axes, selected):
        values, landed = _route_largest_axis(values, landed, positions, windows)
    return jnp.where(landed, values, jnp.zeros((), values.dtype))
