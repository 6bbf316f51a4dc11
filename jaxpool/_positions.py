"""The position-by-position strategy: one select per window position.

Every window position is an output-shaped array of the input (a strided
slice, padded where the position lies in padding), and a running selection
over them in row-major order keeps the first maximum with the rules. This
module also owns the layout that strategy reads and writes: *boxes* of
windows (the interior free of padding and the border slabs around it), and
the input's *stride phases*, the unit-stride pieces that the pick reads and
its transpose writes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxpool import _compat
from jaxpool import _order
from jaxpool._geometry import PoolGeometry
from jaxpool._geometry import split_axes
from jaxpool._sharding import explicit_sharding
from jaxpool._sharding import split_spatial

# --- the layout: boxes of windows and stride phases ----------------------------------------


def candidate_slice(
    geometry: PoolGeometry, offsets: Sequence[int], box: Sequence[tuple[int, int]]
) -> tuple[list[int], list[int], list[int], list[tuple[int, int, int]]] | None:
    """How to gather one window position from the windows in ``box``.

    ``box`` is a ``(start, stop)`` range of windows per spatial axis.
    Returns ``(start, limit, strides, pad_config)``: ``lax.slice`` of the
    unpadded input with the first three holds the real elements, and
    ``lax.pad`` with ``pad_config`` adds the windows whose position lies in
    padding. ``None`` where the position is padding in every window.
    """
    start, limit, config = [], [], []
    for offset, stride, (low, _), (first, stop), (box_start, box_stop) in zip(
        offsets, geometry.strides, geometry.extent_padding, _real_ranges(geometry, offsets), box
    ):
        first = min(max(first, box_start), box_stop)
        stop = min(max(stop, first), box_stop)
        if first >= stop:
            return None
        start.append(offset + stride * first - low)
        limit.append(offset + stride * (stop - 1) - low + 1)
        config.append((first - box_start, box_stop - stop, 0))
    full_limit = list(geometry.input_shape)
    for axis, value in zip(geometry.spatial_axes, limit):
        full_limit[axis] = value
    return (
        geometry.full_rank(start, 0),
        full_limit,
        geometry.full_rank(geometry.strides, 1),
        geometry.full_rank(config, (0, 0, 0)),
    )


def _real_ranges(geometry: PoolGeometry, offsets: Sequence[int]) -> list[tuple[int, int]]:
    """Per spatial axis, the windows ``first <= i < stop`` whose element at
    ``offsets`` is real rather than padding."""
    ranges = []
    for offset, stride, size, length, (low, _) in zip(
        offsets,
        geometry.strides,
        geometry.output_spatial_shape,
        geometry.spatial_shape,
        geometry.extent_padding,
    ):
        first = min(max(-((offset - low) // stride), 0), size)
        stop = min(max(-((offset - low - length) // stride), first), size)
        ranges.append((first, stop))
    return ranges


def box_shape(geometry: PoolGeometry, box: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """Shape of the output part holding the windows of ``box``."""
    shape = list(geometry.input_shape)
    for axis, (start, stop) in zip(geometry.spatial_axes, box):
        shape[axis] = stop - start
    return tuple(shape)


def box_pad_config(
    geometry: PoolGeometry, box: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    """``lax.pad`` config growing the output part of ``box`` to the output."""
    return geometry.full_rank(
        [
            (start, size - stop, 0)
            for (start, stop), size in zip(box, geometry.output_spatial_shape)
        ],
        (0, 0, 0),
    )


def output_to_input_pad_config(geometry: PoolGeometry) -> list[tuple[int, int, int]]:
    """``lax.pad`` config turning an output-shaped array input-shaped."""
    return geometry.full_rank(
        [
            (0, length - size, 0)
            for length, size in zip(geometry.spatial_shape, geometry.output_spatial_shape)
        ],
        (0, 0, 0),
    )


def box_start(geometry: PoolGeometry, box: Sequence[tuple[int, int]]) -> list[int]:
    """Output index of the first window of ``box``."""
    return geometry.full_rank([start for start, _ in box], 0)


def full_box(geometry: PoolGeometry) -> tuple[tuple[int, int], ...]:
    return tuple((0, size) for size in geometry.output_spatial_shape)


def interior_box(geometry: PoolGeometry) -> tuple[tuple[int, int], ...] | None:
    """The windows that hold no padded position at all, per spatial axis;
    ``None`` where some axis has none."""
    box = []
    for axis_index, size in enumerate(geometry.output_spatial_shape):
        first, stop = 0, size
        for offsets in geometry.window_offsets():
            axis_first, axis_stop = _real_ranges(geometry, offsets)[axis_index]
            first, stop = max(first, axis_first), min(stop, axis_stop)
        if first >= stop:
            return None
        box.append((first, stop))
    return tuple(box)


def border_boxes(
    geometry: PoolGeometry, interior: Sequence[tuple[int, int]]
) -> list[tuple[tuple[int, int], ...]]:
    """Boxes that together cover every window outside ``interior``: per
    axis, the slabs before and after it (corners are covered twice)."""
    boxes = []
    for axis_index, (start, stop) in enumerate(interior):
        for slab in ((0, start), (stop, geometry.output_spatial_shape[axis_index])):
            if slab[0] < slab[1]:
                box = list(full_box(geometry))
                box[axis_index] = slab
                boxes.append(tuple(box))
    return boxes


def phase_pad_config(geometry: PoolGeometry) -> list[tuple[int, int, int]]:
    """``lax.pad`` config growing every spatial axis at its high end to a
    multiple of its stride."""
    return geometry.full_rank(
        [
            (0, -length % stride, 0)
            for length, stride in zip(geometry.spatial_shape, geometry.strides)
        ],
        (0, 0, 0),
    )


def phases_shape(geometry: PoolGeometry) -> tuple[int, ...]:
    """The input, grown to stride multiples, with every spatial axis split
    into ``(index, phase)``: element ``u`` of the axis is ``(u // stride,
    u % stride)``."""
    return split_axes(
        geometry.input_shape,
        {
            axis: (-(-geometry.input_shape[axis] // stride), stride)
            for axis, stride in zip(geometry.spatial_axes, geometry.strides)
        },
    )


def phase_slice(
    geometry: PoolGeometry, offsets: Sequence[int]
) -> tuple[tuple[int, ...], list[int], list[int], list[tuple[int, int, int]]]:
    """How to gather one window position from the stride phases.

    Returns ``(phase, start, limit, pad_config)``: the phase per spatial
    axis that holds the position in every window, and the unit-stride
    ``lax.slice`` of that phase array (:attr:`phases_shape` without its
    phase axes) and ``lax.pad`` that give it for all windows, padding
    where it falls outside the input. Window ``i`` reads element ``stride
    * i + offset - low``, which is phase ``(offset - low) % stride`` at
    index ``i + (offset - low) // stride``.
    """
    phase, start, limit, config = [], [], [], []
    for offset, stride, (low, _), size, length in zip(
        offsets,
        geometry.strides,
        geometry.extent_padding,
        geometry.output_spatial_shape,
        geometry.spatial_shape,
    ):
        shift, remainder = divmod(offset - low, stride)
        count = -(-length // stride)
        first = min(max(shift, 0), count)
        stop = min(max(shift + size, first), count)
        phase.append(remainder)
        start.append(first)
        limit.append(stop)
        config.append((first - shift, shift + size - stop, 0))
    full_limit = list(geometry.output_shape)
    for axis, value in zip(geometry.spatial_axes, limit):
        full_limit[axis] = value
    return (
        tuple(phase),
        geometry.full_rank(start, 0),
        full_limit,
        geometry.full_rank(config, (0, 0, 0)),
    )


def phase_grown_shape(geometry: PoolGeometry) -> tuple[int, ...]:
    """The input's shape grown by :meth:`phase_pad_config`: what
    :attr:`phases_shape` merges back into."""
    return tuple(
        size + high for size, (_, high, _) in zip(geometry.input_shape, phase_pad_config(geometry))
    )


def phase_shape(geometry: PoolGeometry) -> tuple[int, ...]:
    """Shape of one stride phase: :attr:`phases_shape` without its phase
    axes."""
    spatial = dict(zip(geometry.spatial_axes, geometry.strides))
    return tuple(
        size if axis not in spatial else -(-size // spatial[axis])
        for axis, size in enumerate(geometry.input_shape)
    )


def phase_spread_config(
    geometry: PoolGeometry, offsets: Sequence[int]
) -> list[tuple[int, int, int]]:
    """``lax.pad`` config (negative entries crop) that puts an
    output-shaped array where :meth:`phase_slice` gathers window position
    ``offsets`` from, in its phase: the inverse of that slice and pad."""
    _, start, limit, config = phase_slice(geometry, offsets)
    return [
        (first - low, size - stop - high, 0)
        for first, stop, (low, high, _), size in zip(start, limit, config, phase_shape(geometry))
    ]


def real_position_masks(
    geometry: PoolGeometry, box: Sequence[tuple[int, int]]
) -> list[np.ndarray | None]:
    """Per window position, which windows of ``box`` see a real element
    there, broadcastable to the box; ``None`` where all of them do."""
    masks: list[np.ndarray | None] = []
    for offsets in geometry.window_offsets():
        per_axis = [
            (np.arange(box_start, box_stop) >= first) & (np.arange(box_start, box_stop) < stop)
            for (first, stop), (box_start, box_stop) in zip(_real_ranges(geometry, offsets), box)
        ]
        if all(mask.all() for mask in per_axis):
            masks.append(None)
            continue
        mask = np.ones((), dtype=bool)
        for axis_mask in per_axis:
            mask = np.logical_and.outer(mask, axis_mask)
        masks.append(mask.reshape(geometry.full_rank(mask.shape, 1)))
    return masks


# --- the strategy ---------------------------------------------------------------------------


def _blocks(array: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """Disjoint, unpadded windows: one reshape splits every spatial axis into
    (window index, position in window)."""
    trimmed = lax.slice(array, [0] * array.ndim, geometry.padded_extent_shape)
    return split_spatial(trimmed, geometry.blocks_shape, geometry)


def stride_phases(array: jax.Array, geometry: PoolGeometry) -> dict[tuple[int, ...], jax.Array]:
    """The stride phases of ``array`` (grown with zeros to stride multiples),
    keyed by the phase along each spatial axis, each of
    :attr:`~PoolGeometry.phase_shape`: one reshape splits each spatial axis
    into (index, phase) and ``lax.split`` separates the phases.
    :func:`merge_stride_phases` is the inverse."""
    grown = lax.pad(array, jnp.zeros((), array.dtype), phase_pad_config(geometry))
    phases = {(): split_spatial(grown, phases_shape(geometry), geometry)}
    # The phases sit where blocks of disjoint windows hold their positions.
    phase_axes = geometry.block_window_axes()
    for phase_axis, stride in zip(phase_axes, geometry.strides):
        phases = {
            (*key, phase): piece
            for key, whole in phases.items()
            for phase, piece in enumerate(lax.split(whole, [1] * stride, axis=phase_axis))
        }
    # Squeezed only after every split: squeezing between the splits made XLA
    # loop over the input's shape again in the transpose (measured).
    return {key: lax.squeeze(piece, phase_axes) for key, piece in phases.items()}


def merge_stride_phases(
    phases: dict[tuple[int, ...], jax.Array], geometry: PoolGeometry
) -> jax.Array:
    """The input-shaped array whose stride phases are ``phases`` (a missing
    phase is zero): the inverse of :func:`stride_phases`, as its transpose
    is, with concatenates along the phase axes and one reshape."""
    phase_axes = geometry.block_window_axes()
    zeros = jnp.zeros(phase_shape(geometry), next(iter(phases.values())).dtype)
    parts = {
        key: lax.expand_dims(phases.get(key, zeros), phase_axes)
        for key in itertools.product(*(range(stride) for stride in geometry.strides))
    }
    # The last spatial axis's phases first, as the splits went outer first.
    for k in reversed(range(len(phase_axes))):
        parts = {
            prefix: lax.concatenate(
                [parts[(*prefix, phase)] for phase in range(geometry.strides[k])], phase_axes[k]
            )
            for prefix in {key[:k] for key in parts}
        }
    grown = lax.reshape(parts[()], phase_grown_shape(geometry))
    return lax.slice(grown, [0] * grown.ndim, geometry.input_shape)


def _phase_candidates(array: jax.Array, geometry: PoolGeometry) -> list[jax.Array]:
    """Window positions of every window, from the stride phases of ``array``
    (zero outside it): each position is a unit-stride slice of one phase.

    This is how the pick reads, so that its transpose writes each phase once
    and interleaves them with one concatenate: XLA then emits one loop over
    (index, phase) pairs, where strided ``lax.pad`` costs index arithmetic
    per element that does not vectorise along a strided minor axis
    (channels-first data; measured in benchmarks/NOTES.md).
    """
    zero = jnp.zeros((), array.dtype)
    phases = stride_phases(array, geometry)
    candidates = []
    for offsets in geometry.window_offsets():
        phase, start, limit, config = phase_slice(geometry, offsets)
        candidates.append(lax.pad(lax.slice(phases[phase], start, limit), zero, config))
    return candidates


class _Source(NamedTuple):
    """What the candidates are sliced from, how a slice of it becomes the
    array that the selection compares, and the padding in that dtype."""

    array: jax.Array
    decode: Callable[[jax.Array], jax.Array]
    pad_scalar: jax.Array


def _source(inputs: jax.Array, geometry: PoolGeometry) -> _Source:
    """The inputs as the selection reads them.

    XLA:CPU slices, pads and compares bfloat16 arrays by first converting
    the whole input to a float32 copy (the 3x3/2 SAME forward: 24 ms, against
    3.4 ms in float32; benchmarks/NOTES.md). So bfloat16 is sliced as its uint16 bits,
    and each slice becomes float32, which holds every bfloat16 exactly, by a
    shift that fuses into the loop reading it.

    Min pooling reverses the order of each slice as it is read (``-x``, or
    ``~x`` for integers), inside the loop: reversing the whole input first
    made XLA:CPU write a reversed copy and run the selection 5x slower
    (3x3/2 SAME forward: 27 ms against 5.4 ms).
    """
    pad_scalar = _order.pad_scalar(inputs, geometry)
    if inputs.dtype != jnp.bfloat16:
        source = _Source(inputs, lambda piece: piece, pad_scalar)
    else:
        bits = lax.bitcast_convert_type(inputs, jnp.uint16)
        source = _Source(bits, _bfloat16_bits_to_float32, pad_scalar.astype(jnp.float32))
    if not geometry.reverse_order:
        return source
    decode = source.decode
    return source._replace(decode=lambda piece: _order.reverse_order(decode(piece)))


def _bfloat16_bits_to_float32(bits: jax.Array) -> jax.Array:
    wide = lax.shift_left(bits.astype(jnp.uint32), jnp.asarray(16, jnp.uint32))
    return lax.bitcast_convert_type(wide, jnp.float32)


def _block_candidates(source: _Source, geometry: PoolGeometry) -> list[jax.Array]:
    """Window positions of disjoint, unpadded windows."""
    blocks = _blocks(source.array, geometry)
    sharding = explicit_sharding(source.array)
    window_axes = geometry.block_window_axes()
    candidates = []
    for position in np.ndindex(*geometry.window_shape):
        start = [0] * blocks.ndim
        limit = list(blocks.shape)
        for axis, index in zip(window_axes, position):
            start[axis], limit[axis] = index, index + 1
        candidate = lax.slice(blocks, start, limit)
        candidate = _compat.reshape(candidate, geometry.output_shape, out_sharding=sharding)
        candidates.append(source.decode(candidate))
    return candidates


def _box_candidates(
    source: _Source, geometry: PoolGeometry, box: tuple[tuple[int, int], ...]
) -> list[jax.Array]:
    """Window positions of the windows in ``box``, padded positions holding
    the source's pad scalar."""
    sharding = explicit_sharding(source.array)
    pad_scalar = source.pad_scalar
    candidates = []
    for offsets in geometry.window_offsets():
        gather = candidate_slice(geometry, offsets, box)
        if gather is None:
            candidates.append(_compat.full(box_shape(geometry, box), pad_scalar, sharding))
            continue
        start, limit, strides, pad_config = gather
        piece = source.decode(lax.slice(source.array, start, limit, strides))
        candidates.append(lax.pad(piece, pad_scalar, pad_config))
    return candidates


def _max_tree(arrays: list[jax.Array]) -> jax.Array:
    """Elementwise ``lax.max`` of ``arrays``, pairwise (exact, and
    NaN-propagating, in any order): a tree keeps the dependency chain short."""
    while len(arrays) > 1:
        pairs = [lax.max(a, b) for a, b in zip(arrays[::2], arrays[1::2])]
        arrays = pairs + arrays[len(pairs) * 2 :]
    return arrays[0]


def _window_max(candidates: list[jax.Array], geometry: PoolGeometry) -> jax.Array:
    """The max over the window positions (``candidates`` in row-major
    order): over the outer window axes first, then along the last.

    Along a strided minor axis, LLVM loads a wide vector per row and
    shuffles out each window column; taking the max across rows first lets
    it shuffle the rows' maximum once instead of every row (3x3/2 SAME
    channels-first forward 7% to 12% faster; benchmarks/NOTES.md).
    """
    last = geometry.window_shape[-1]
    columns = [_max_tree(candidates[offset::last]) for offset in range(last)]
    return _max_tree(columns)


def _select(
    candidates: list[jax.Array], masks: list[np.ndarray | None], geometry: PoolGeometry
) -> tuple[jax.Array, jax.Array]:
    """Running max over window positions in row-major order, with the rules.

    A later position replaces the running best only if it is strictly larger,
    so ties keep the first; NaN beats every number; with ``pad_is_lowest`` a
    padded position (``mask`` false) never replaces a real one and a real one
    always replaces a padded one. The values are a separate tree of
    elementwise ``lax.max`` (NaN-propagating, so equal to the selected
    elements, which a max reduction on XLA:CPU is not) that XLA keeps alone
    when the switches are not needed.
    """
    is_float = jnp.issubdtype(candidates[0].dtype, jnp.floating)
    # Float inputs carry their switches as float32 until the end: selecting
    # integers under float compares does not vectorise in XLA:CPU's loops
    # over a spatial minor axis (2x slower channels-first, measured).
    carried = jnp.float32 if is_float else geometry.switch_dtype
    best = candidates[0]
    switches = jnp.zeros_like(best, carried)
    best_is_real = True if masks[0] is None else masks[0]
    for position, candidate in enumerate(candidates[1:], start=1):
        better = _order.is_better(candidate, best)
        if geometry.pad_is_lowest and not (masks[position] is None and np.all(best_is_real)):
            is_real = True if masks[position] is None else masks[position]
            # Both masks are static: the first real element beats padding.
            better = is_real & (better | ~np.asarray(best_is_real))
            best_is_real = np.logical_or(best_is_real, is_real)
        best = jnp.where(better, candidate, best)
        switches = jnp.where(better, jnp.asarray(position, carried), switches)
    return _window_max(candidates, geometry), switches.astype(geometry.switch_dtype)


def _candidates(source: _Source, geometry: PoolGeometry) -> list[jax.Array]:
    """Window positions of every window: a reshape where the windows are
    disjoint blocks of real elements, padded strided slices otherwise."""
    if geometry.windows_are_disjoint_blocks and geometry.needs_no_padding:
        return _block_candidates(source, geometry)
    return _box_candidates(source, geometry, full_box(geometry))


def _values_and_switches_in_box(
    source: _Source, geometry: PoolGeometry, box: tuple[tuple[int, int], ...]
) -> tuple[jax.Array, jax.Array]:
    candidates = _box_candidates(source, geometry, box)
    return _select(candidates, real_position_masks(geometry, box), geometry)


def max_and_switches(inputs: jax.Array, geometry: PoolGeometry) -> tuple[jax.Array, jax.Array]:
    """The windowed max, in the pooled order (reversed for min pooling), and
    its switches, from ``inputs`` as given."""
    source = _source(inputs, geometry)
    interior = interior_box(geometry)
    if interior is None or interior == full_box(geometry):
        candidates = _candidates(source, geometry)
        values, switches = _select(
            candidates, real_position_masks(geometry, full_box(geometry)), geometry
        )
        return values.astype(inputs.dtype), switches
    # XLA fuses a padded slice into one consumer only, and the selection uses
    # every candidate several times: so the windows free of padding are
    # computed from plain slices, and the thin border slabs are written over.
    values, switches = _values_and_switches_in_box(source, geometry, interior)
    grow = box_pad_config(geometry, interior)
    values = lax.pad(values, jnp.zeros((), values.dtype), grow)
    switches = lax.pad(switches, jnp.zeros((), switches.dtype), grow)
    for box in border_boxes(geometry, interior):
        box_values, box_switches = _values_and_switches_in_box(source, geometry, box)
        corner = box_start(geometry, box)
        values = lax.dynamic_update_slice(values, box_values, corner)
        switches = lax.dynamic_update_slice(switches, box_switches, corner)
    return values.astype(inputs.dtype), switches


def max_values(inputs: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The windowed max alone, in the pooled order: one max over every
    window's padded candidates.

    Each padded candidate has one reader, which XLA fuses, and along a
    spatial minor axis XLA:CPU's loop vectorises across the padding (1.5x to
    1.9x faster than the interior apart). Channels-last loops would test the
    padding of every row per element and not vectorise.
    """
    candidates = _candidates(_source(inputs, geometry), geometry)
    return _window_max(candidates, geometry).astype(inputs.dtype)


def pick_at_switches(tangent: jax.Array, switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The tangent at each output's switch (padding has tangent zero), in
    ``tangent``'s dtype."""
    if geometry.windows_are_disjoint_blocks and geometry.needs_no_padding:
        # Compare the switches with all window positions at once and sum the
        # window axes away; the transpose is then one fused broadcast-select
        # and a reshape (2x faster than a sum of padded slices, measured).
        window_axes = geometry.block_window_axes()
        positions_shape = [1] * len(geometry.blocks_shape)
        for axis, window in zip(window_axes, geometry.window_shape):
            positions_shape[axis] = window
        # Row-major window position of each block element, from iotas rather
        # than a constant, which jax.checkpoint would save as a residual.
        positions = jnp.zeros(positions_shape, switches.dtype)
        for axis, window in zip(window_axes, geometry.window_shape):
            iota = lax.broadcasted_iota(switches.dtype, positions_shape, axis)
            positions = positions * window + iota
        selected = lax.expand_dims(switches, window_axes) == positions
        blocks = _blocks(tangent, geometry)
        zero = jnp.zeros((), tangent.dtype)
        return jnp.where(selected, blocks, zero).sum(window_axes)
    candidates = _phase_candidates(tangent, geometry)
    picked = candidates[0]
    for position, candidate in enumerate(candidates[1:], start=1):
        picked = jnp.where(switches == position, candidate, picked)
    return picked


def max_and_switches_padded_once(
    inputs: jax.Array, geometry: PoolGeometry
) -> tuple[jax.Array, jax.Array]:
    """:func:`max_and_switches` from unit-stride slices of the input padded
    once, for compilers that fuse such slices into one loop (a TPU's) and
    materialise a padded slice or a border slab as an op of its own."""
    padded = lax.pad(
        _order.in_pooled_order(inputs, geometry),
        _order.pad_scalar(inputs, geometry),
        geometry.extent_pad_config(),
    )
    candidates = [
        lax.slice(padded, *geometry.position_slice(offsets))
        for offsets in geometry.window_offsets()
    ]
    masks = real_position_masks(geometry, full_box(geometry))
    return _select(candidates, masks, geometry)
