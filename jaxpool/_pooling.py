"""Max pooling with switches, and its switch-routing backward."""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxpool import _separable
from jaxpool._geometry import Padding
from jaxpool._geometry import PerAxis
from jaxpool._geometry import PoolGeometry
from jaxpool._geometry import WindowShape
from jaxpool._geometry import pool_geometry

__all__ = ["max_pool", "max_pool_with_argmax"]

ArrayLike = jax.typing.ArrayLike


def _pad_scalar(inputs: jax.Array, geometry: PoolGeometry) -> jax.Array:
    if not geometry.pad_is_lowest:
        return jnp.asarray(geometry.pad_value, inputs.dtype)
    if jnp.issubdtype(inputs.dtype, jnp.floating):
        return jnp.asarray(-jnp.inf, inputs.dtype)
    if inputs.dtype == np.bool_:
        return jnp.asarray(False)
    return jnp.asarray(jnp.iinfo(inputs.dtype).min, inputs.dtype)


def _explicit_sharding(x: jax.Array) -> NamedSharding | None:
    """``x``'s sharding where it names mesh axes of type Explicit, else None.

    Explicit axes are part of the array's type: arrays made from shapes alone
    and reshapes that split an axis must be given it. Auto axes, shard_map's
    manual axes and no mesh at all give None, which leaves such ops as they are.
    """
    sharding = jax.typeof(x).sharding
    if all(entry is None for entry in sharding.spec):
        return None
    return sharding


def _split_spatial(array: jax.Array, shape: tuple[int, ...], geometry: PoolGeometry) -> jax.Array:
    """``array`` reshaped to ``shape``, which splits every spatial axis in two."""
    sharding = _explicit_sharding(array)
    if sharding is not None:
        # Explicit reshapes that split axes are given the output sharding.
        sharding = sharding.update(spec=P(*geometry.blocks_spec(sharding.spec)))
    return lax.reshape(array, shape, out_sharding=sharding)


def _blocks(array: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """Disjoint, unpadded windows: one reshape splits every spatial axis into
    (window index, position in window)."""
    trimmed = lax.slice(array, [0] * array.ndim, geometry.padded_extent_shape)
    return _split_spatial(trimmed, geometry.blocks_shape, geometry)


def _stride_phases(array: jax.Array, geometry: PoolGeometry) -> dict[tuple[int, ...], jax.Array]:
    """The stride phases of ``array`` (grown with zeros to stride multiples),
    keyed by the phase along each spatial axis, each of
    :attr:`~PoolGeometry.phase_shape`: one reshape splits each spatial axis
    into (index, phase) and ``lax.split`` separates the phases.
    :func:`merge_stride_phases` is the inverse."""
    grown = lax.pad(array, jnp.zeros((), array.dtype), geometry.phase_pad_config())
    phases = {(): _split_spatial(grown, geometry.phases_shape, geometry)}
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
    phase is zero): the inverse of :func:`_stride_phases`, as its transpose
    is, with concatenates along the phase axes and one reshape."""
    phase_axes = geometry.block_window_axes()
    zeros = jnp.zeros(geometry.phase_shape, next(iter(phases.values())).dtype)
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
    grown = lax.reshape(parts[()], geometry.phase_grown_shape)
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
    phases = _stride_phases(array, geometry)
    candidates = []
    for offsets in geometry.window_offsets():
        phase, start, limit, config = geometry.phase_slice(offsets)
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
    pad_scalar = _pad_scalar(inputs, geometry)
    if inputs.dtype != jnp.bfloat16:
        source = _Source(inputs, lambda piece: piece, pad_scalar)
    else:
        bits = lax.bitcast_convert_type(inputs, jnp.uint16)
        source = _Source(bits, _bfloat16_bits_to_float32, pad_scalar.astype(jnp.float32))
    if not geometry.reverse_order:
        return source
    decode = source.decode
    return source._replace(decode=lambda piece: reverse_order(decode(piece)))


def reverse_order(array: jax.Array) -> jax.Array:
    """An exact order-reversing bijection that is its own inverse: ``-x`` for
    floats, ``~x`` for integers (signed or not, without overflow) and bool.
    Min pooling is max pooling through it."""
    if jnp.issubdtype(array.dtype, jnp.floating):
        return -array
    return ~array


def _in_pooled_order(array: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """``array`` in the order the max is taken in: reversed for min pooling."""
    return reverse_order(array) if geometry.reverse_order else array


def _bfloat16_bits_to_float32(bits: jax.Array) -> jax.Array:
    wide = lax.shift_left(bits.astype(jnp.uint32), jnp.asarray(16, jnp.uint32))
    return lax.bitcast_convert_type(wide, jnp.float32)


def _block_candidates(source: _Source, geometry: PoolGeometry) -> list[jax.Array]:
    """Window positions of disjoint, unpadded windows."""
    blocks = _blocks(source.array, geometry)
    sharding = _explicit_sharding(source.array)
    window_axes = geometry.block_window_axes()
    candidates = []
    for position in np.ndindex(*geometry.window_shape):
        start = [0] * blocks.ndim
        limit = list(blocks.shape)
        for axis, index in zip(window_axes, position):
            start[axis], limit[axis] = index, index + 1
        candidate = lax.slice(blocks, start, limit)
        candidate = lax.reshape(candidate, geometry.output_shape, out_sharding=sharding)
        candidates.append(source.decode(candidate))
    return candidates


def _box_candidates(
    source: _Source, geometry: PoolGeometry, box: tuple[tuple[int, int], ...]
) -> list[jax.Array]:
    """Window positions of the windows in ``box``, padded positions holding
    the source's pad scalar."""
    sharding = _explicit_sharding(source.array)
    pad_scalar = source.pad_scalar
    candidates = []
    for offsets in geometry.window_offsets():
        gather = geometry.candidate_slice(offsets, box)
        if gather is None:
            candidates.append(jnp.full(geometry.box_shape(box), pad_scalar, out_sharding=sharding))
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
        better = _separable._is_better(candidate, best)
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
    return _box_candidates(source, geometry, geometry.full_box)


def _values_and_switches_in_box(
    source: _Source, geometry: PoolGeometry, box: tuple[tuple[int, int], ...]
) -> tuple[jax.Array, jax.Array]:
    candidates = _box_candidates(source, geometry, box)
    return _select(candidates, geometry.real_position_masks(box), geometry)


def values_and_switches(inputs: jax.Array, geometry: PoolGeometry) -> tuple[jax.Array, jax.Array]:
    """The windowed max (min, with ``reverse_order``) and the row-major
    window position that holds it."""
    values, switches = _max_and_switches(inputs, geometry)
    return _in_pooled_order(values, geometry), switches


def _max_and_switches(inputs: jax.Array, geometry: PoolGeometry) -> tuple[jax.Array, jax.Array]:
    """:func:`values_and_switches` with the values still in the pooled order
    (reversed, for min pooling)."""
    if geometry.strategy == "separable":
        return _separable.values_and_switches(
            _in_pooled_order(inputs, geometry), geometry, _pad_scalar(inputs, geometry)
        )
    source = _source(inputs, geometry)
    interior = geometry.interior_box()
    if interior is None or interior == geometry.full_box:
        candidates = _candidates(source, geometry)
        values, switches = _select(
            candidates, geometry.real_position_masks(geometry.full_box), geometry
        )
        return values.astype(inputs.dtype), switches
    # XLA fuses a padded slice into one consumer only, and the selection uses
    # every candidate several times: so the windows free of padding are
    # computed from plain slices, and the thin border slabs are written over.
    values, switches = _values_and_switches_in_box(source, geometry, interior)
    grow = geometry.box_pad_config(interior)
    values = lax.pad(values, jnp.zeros((), values.dtype), grow)
    switches = lax.pad(switches, jnp.zeros((), switches.dtype), grow)
    for box in geometry.border_boxes(interior):
        box_values, box_switches = _values_and_switches_in_box(source, geometry, box)
        corner = geometry.box_start(box)
        values = lax.dynamic_update_slice(values, box_values, corner)
        switches = lax.dynamic_update_slice(switches, box_switches, corner)
    return values.astype(inputs.dtype), switches


def _pool(inputs: jax.Array, geometry: PoolGeometry) -> tuple[jax.Array, jax.Array]:
    """:func:`values_and_switches` where no derivative is taken: a caller that
    uses only the values pays for no selection, as XLA drops the switches."""
    values, switches = _max_and_switches(inputs, geometry)
    if geometry.strategy == "separable":
        # The selection's values come out of its last pass; a max alone is
        # cheaper where nothing needs the switches.
        values = _separable.max_values(
            _in_pooled_order(inputs, geometry), geometry, _pad_scalar(inputs, geometry)
        )
    elif geometry.minor_axis_is_spatial:
        # One max over every window: each padded candidate has one reader,
        # which XLA fuses, and along a spatial minor axis the loop vectorises
        # across the padding (1.5x to 1.9x faster than the interior apart).
        # Channels-last loops would test the padding of every row per element
        # and not vectorise. Not where a derivative is taken: the backward
        # reads a cotangent computed from the values once per window
        # position, and XLA would redo a max that it can fuse as often.
        candidates = _candidates(_source(inputs, geometry), geometry)
        values = _window_max(candidates, geometry).astype(inputs.dtype)
    return _in_pooled_order(values, geometry), switches


def pick_at_switches(tangent: jax.Array, switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The input tangent at each output's switch (padding has tangent zero).

    Linear in ``tangent``; its transpose is :func:`route_to_switches`.
    """
    dtype = tangent.dtype
    # 16-bit tangents are picked in float32 so that the transpose adds
    # overlapping contributions in float32.
    wide = jnp.float32 if geometry.windows_overlap and jnp.finfo(dtype).bits < 32 else dtype
    tangent = tangent.astype(wide)
    if geometry.strategy == "separable":
        return _separable.pick_at_switches(tangent, switches, geometry).astype(dtype)
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
        return jnp.where(selected, blocks, jnp.zeros((), wide)).sum(window_axes).astype(dtype)
    candidates = _phase_candidates(tangent, geometry)
    picked = candidates[0]
    for position, candidate in enumerate(candidates[1:], start=1):
        picked = jnp.where(switches == position, candidate, picked)
    return picked.astype(dtype)


def route_to_switches(
    cotangent: jax.Array, switches: jax.Array, geometry: PoolGeometry
) -> jax.Array:
    """Sends each output's cotangent to the input its switch selected, adding
    where windows overlap; what lands on padding is dropped.

    This is the transpose of :func:`pick_at_switches`, so both autodiff modes
    route with the same operations: ``lax.pad`` (with interior padding for
    strided windows), ``jnp.where`` on the switches, adds and reshapes.
    """
    # pick is linear, so its VJP at zero is its transpose. The zero input is
    # grown from the cotangent to carry its sharding and shard_map axes.
    zero = jnp.zeros((), cotangent.dtype)
    zero_input = lax.pad(jnp.zeros_like(cotangent), zero, geometry.output_to_input_pad_config())
    pick = functools.partial(pick_at_switches, switches=switches, geometry=geometry)
    (routed,) = jax.vjp(pick, zero_input)[1](cotangent)
    return routed


def _saved(switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The switches as the backward reads them: written out once.

    XLA on CPU drops the optimization barrier and fuses the selection into
    the backward loop, redoing it for every window position that reads a
    switch. That costs little for small disjoint windows in channels-last
    data, where the loop vectorises along the channels; elsewhere the
    switches must be written out (measured in benchmarks/NOTES.md).
    """
    if geometry.windows_overlap and geometry.num_window_positions > 4:
        # Overlapping windows redo the selection once per window position
        # that reads it (9 x 9 selections per element for 3x3 windows): a max
        # over two equal copies is the identity, but a reduction, which XLA
        # does not fuse into the loop that reads it.
        doubled = lax.expand_dims(switches, (switches.ndim,))
        doubled = doubled + jnp.zeros((2,), switches.dtype)
        switches = lax.reduce_max(doubled, (switches.ndim,))
    elif geometry.minor_axis_is_spatial and geometry.strategy == "positions":
        # Window positions along the minor axis: the fused loop does not
        # vectorise (3x slower). An integer remainder by an odd number above
        # every switch is the identity, and costly enough (unlike one by a
        # power of two) that XLA writes the switches out instead.
        modulus = 2 * geometry.num_window_positions + 1
        switches = lax.rem(switches, jnp.asarray(modulus, switches.dtype))
    return lax.optimization_barrier(switches)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _pool_vjp_mode(inputs: jax.Array, geometry: PoolGeometry) -> tuple[jax.Array, jax.Array]:
    return _pool(inputs, geometry)


def _pool_vjp_mode_fwd(inputs, geometry):
    values, switches = values_and_switches(inputs, geometry)
    return (values, switches), _saved(switches, geometry)


def _pool_vjp_mode_bwd(geometry, switches, cotangents):
    values_cotangent, _ = cotangents
    return (route_to_switches(values_cotangent, switches, geometry),)


_pool_vjp_mode.defvjp(_pool_vjp_mode_fwd, _pool_vjp_mode_bwd)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _pool_jvp_mode(inputs: jax.Array, geometry: PoolGeometry) -> tuple[jax.Array, jax.Array]:
    return _pool(inputs, geometry)


@_pool_jvp_mode.defjvp
def _pool_jvp_mode_jvp(geometry, primals, tangents):
    (inputs,), (tangent,) = primals, tangents
    values, switches = values_and_switches(inputs, geometry)
    # Rematerialised pick: reverse mode then saves the switches alone, not one
    # mask per window position, and transposes pick into route_to_switches.
    pick = jax.checkpoint(functools.partial(pick_at_switches, geometry=geometry), prevent_cse=False)
    values_tangent = pick(tangent, _saved(switches, geometry))
    # zeros_like, not np.zeros: the tangent must carry shard_map's axes too.
    switches_tangent = jnp.zeros_like(switches, dtype=jax.dtypes.float0)
    return (values, switches), (values_tangent, switches_tangent)


# Jitted, so that a call outside jit compiles once per geometry instead of
# dispatching every slice and select one by one; inside jit it inlines.
_AUTODIFF_MODES = {
    "vjp": jax.jit(_pool_vjp_mode, static_argnums=1),
    "jvp": jax.jit(_pool_jvp_mode, static_argnums=1),
}
_POOL_WITHOUT_DERIVATIVE = jax.jit(_pool, static_argnums=1)


def _auto_spatial_axes(pool: Any, inputs: jax.Array, geometry: PoolGeometry) -> Any:
    """``pool``, run with the Explicit mesh axes that shard spatial axes of
    ``inputs`` turned Auto.

    Windows straddle the shards of a spatial axis, and Explicit sharding has
    no rule for the uneven slices that gather them; as Auto axes the
    partitioner exchanges the halos. The outputs keep the input's sharding
    where their spatial sizes divide evenly, and are replicated along the
    other axes.
    """
    sharding = _explicit_sharding(inputs)
    if sharding is None:
        return pool
    spec = list(sharding.spec) + [None] * (inputs.ndim - len(sharding.spec))
    names: list[str] = []
    for axis, size in zip(geometry.spatial_axes, geometry.output_spatial_shape):
        entry = spec[axis]
        axis_names = () if entry is None else (entry,) if isinstance(entry, str) else tuple(entry)
        names.extend(axis_names)
        if size % math.prod(sharding.mesh.shape[name] for name in axis_names):
            spec[axis] = None
    if not names:
        return pool
    out_sharding = sharding.update(spec=P(*spec))
    return jax.sharding.auto_axes(pool, axes=tuple(names), out_sharding=(out_sharding,) * 2)


@contextlib.contextmanager
def forward_mode_hint(autodiff: str) -> Iterator[None]:
    """Names the way out where JAX refuses forward mode through the
    ``"vjp"`` mode's custom_vjp (its own message names neither jaxpool nor
    ``autodiff``)."""
    try:
        yield
    except TypeError as error:
        if autodiff != "vjp" or "forward-mode autodiff" not in str(error):
            raise
        raise TypeError(
            "jaxpool pooling with autodiff='vjp' (the default) has a reverse-mode rule only, "
            "so jax.jvp, jax.jacfwd and other forward-mode transformations cannot go through "
            "it. Pass autodiff='jvp': forward mode then works, and reverse mode gives the same "
            "gradients and saves the same switches"
        ) from error


def as_array(name: str, value: Any) -> jax.Array:
    """``value`` (named ``name``) as a ``jax.Array``, or the TypeError that
    says what it must be: every entry point's array arguments go through it."""
    if not isinstance(value, (jax.Array, np.ndarray, np.generic)):
        raise TypeError(f"{name} must be a jax.Array or numpy array; got {type(value).__name__}")
    return jnp.asarray(value)


def real_array(name: str, value: Any) -> jax.Array:
    """:func:`as_array`, refusing complex dtypes: pooling needs an order."""
    array = as_array(name, value)
    if jnp.issubdtype(array.dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real (float, integer or bool); got dtype {array.dtype}")
    return array


def prepare(inputs: Any, *args: Any, **kwargs: Any) -> tuple[jax.Array, PoolGeometry]:
    """``inputs`` as a real array, and the geometry of pooling it with
    :func:`~jaxpool._geometry.pool_geometry`'s arguments."""
    inputs = real_array("inputs", inputs)
    return inputs, pool_geometry(inputs.shape, inputs.dtype, *args, **kwargs)


def max_pool_with_argmax(
    inputs: ArrayLike,
    window_shape: WindowShape,
    strides: PerAxis = None,
    padding: Padding = "VALID",
    *,
    window_dilation: PerAxis = None,
    ceil_mode: bool = False,
    channel_axis: int | None = -1,
    pad_value: float = -math.inf,
    autodiff: str = "vjp",
) -> tuple[jax.Array, jax.Array]:
    """Max pooling that also returns the switches: where each max came from.

    Arguments and rules are those of :func:`max_pool`.

    Returns:
      ``(values, switches)``. ``switches`` has the shape of ``values``; each
      entry is the row-major offset of the selected element within its window,
      counted over window positions with padded positions included, so
      ``0 <= switches < prod(window_shape)``. Its dtype is the smallest signed
      integer holding ``prod(window_shape) - 1``: int8 up to 128 window
      positions, then int16, then int32. ``jax.grad`` flows through ``values``
      (``switches`` are integers and carry none).

    Examples:
      >>> import jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[3., 1., 4., 1.], [5., 9., 2., 6.]])
      >>> values, switches = jaxpool.max_pool_with_argmax(
      ...     x, (2, 2), strides=(2, 2), channel_axis=None)
      >>> values
      Array([[9., 6.]], dtype=float32)
      >>> switches
      Array([[3, 3]], dtype=int8)
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
    )
    return pool_with_switches(inputs, geometry, autodiff)


def pool_with_switches(
    inputs: jax.Array, geometry: PoolGeometry, autodiff: str
) -> tuple[jax.Array, jax.Array]:
    """Values and switches of ``geometry``'s pooling, differentiable in
    ``autodiff`` mode: what :func:`max_pool_with_argmax` and min pooling
    call once their arguments are checked."""
    if not isinstance(autodiff, str) or autodiff not in _AUTODIFF_MODES:
        raise ValueError(f"autodiff must be 'vjp' or 'jvp'; got {autodiff!r}")
    if jnp.issubdtype(inputs.dtype, jnp.floating):
        pool = _AUTODIFF_MODES[autodiff]
    else:
        # Integers have no gradient to route; JAX's own rules give float0.
        pool = _POOL_WITHOUT_DERIVATIVE
    with forward_mode_hint(autodiff):
        return _auto_spatial_axes(lambda x: pool(x, geometry), inputs, geometry)(inputs)


def max_pool(
    inputs: ArrayLike,
    window_shape: WindowShape,
    strides: PerAxis = None,
    padding: Padding = "VALID",
    *,
    window_dilation: PerAxis = None,
    ceil_mode: bool = False,
    channel_axis: int | None = -1,
    pad_value: float = -math.inf,
    autodiff: str = "vjp",
) -> jax.Array:
    """Max pooling whose gradient goes to the switch of each window.

    The positional arguments are those of ``flax.linen.max_pool``, so this is a
    drop-in replacement that differentiates faster and saves one small integer
    per output for the backward pass instead of the whole input.

    Each output is the largest element of its window, ``y[i] = max over the
    window positions k of x[start(i) + offset(k)]``, and the window's
    *switch* is the position that holds it. The gradient sends each output's
    gradient to its switch, adding where several outputs select one element:
    ``dL/dx[j]`` is the sum of ``dL/dy[i]`` over the outputs ``i`` whose
    switch is ``j``.

    Selection rules:

    1. Ties go to the first position in row-major window order, as in
       ``jax.grad`` of ``lax.reduce_window`` and PyTorch, so gradients agree
       bit for bit even on all-zero windows after a ReLU.
    2. NaN counts as larger than every number: the value is NaN and the switch
       is the first NaN, in every strategy and in values-only calls too (no
       XLA max reduction decides it: XLA:CPU's drops NaN from 4,096 reduced
       elements on). (``reduce_window`` routes a NaN window's gradient to an
       arbitrary non-NaN element.)
    3. With ``pad_value=-inf`` a padded position is never selected while the
       window holds a real element, even if every real element is ``-inf``
       (``reduce_window`` loses that gradient into the padding). Any other
       ``pad_value`` competes like a real element.
    4. A window lying wholly in padding outputs ``pad_value`` and sends its
       gradient nowhere.
    5. Where windows overlap, an input's gradient is the sum over the outputs
       that selected it (summed in float32 for 16-bit inputs).

    Args:
      inputs: array with ``d = len(window_shape)`` spatial axes, laid out as
        ``channel_axis`` says. Float (float16, bfloat16, float32, float64),
        integer or bool; integers pool but have no gradient (``float0``).
      window_shape: window size per spatial axis, a sequence of ``d`` ints.
      strides: step per spatial axis, an int or ``d`` ints; ``None`` means 1.
      padding: ``"VALID"``; ``"SAME"`` (as ``lax.padtype_to_pads`` with the
        dilated window); an int or ``d`` ints (symmetric, as in PyTorch); or
        ``d`` ``(low, high)`` pairs.
      window_dilation: spacing of window elements per spatial axis, as
        PyTorch's ``dilation``; an int or ``d`` ints, ``None`` means 1.
      ceil_mode: as PyTorch's: round the number of windows up, keeping an
        extra last window if it starts inside the input or the low padding and
        dropping it if it would start in the high padding. Positions of that
        window past the padding count as padding.
      channel_axis: ``-1`` (default, NHWC): the ``d`` axes before the last are
        spatial, all axes before them are batch axes. Any axis before the last
        ``d`` (``1`` for NCHW): the last ``d`` axes are spatial. ``None``: no
        feature axis; the last ``d`` axes are spatial.
      pad_value: value of padded positions. ``-inf`` (default) as in Flax,
        Haiku and PyTorch; ``0.0`` is zero padding. Any float; for integer
        inputs ``-inf`` means the dtype's minimum under rule 3, and other
        values must be representable.
      autodiff: ``"vjp"`` (default): a ``jax.custom_vjp`` for reverse mode
        (``jax.grad``, ``jax.vjp``); forward mode raises. ``"jvp"``: a
        ``jax.custom_jvp`` whose tangent is the input tangent at each switch,
        so ``jax.jvp``, ``jax.jacfwd``, ``jax.linearize`` and ``jax.hessian``
        work too; reverse mode gives the same gradients as ``"vjp"`` and also
        saves only the switches.

    Returns:
      The pooled array, whose spatial axes shrink to the number of windows;
      all other axes are kept.

    Raises:
      TypeError: non-array or complex ``inputs``, or an argument of the wrong
        type.
      ValueError: non-positive window, stride or dilation entries; more window
        dims than the input has room for; a bad ``channel_axis``; an unknown
        padding string, padding of the wrong length or negative; an empty
        output.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxpool
      >>> x = jnp.array([[1., 3., 2., 2.]])
      >>> jaxpool.max_pool(x, (2,), strides=1, channel_axis=None)
      Array([[3., 3., 2.]], dtype=float32)
      >>> jax.grad(lambda x: jaxpool.max_pool(
      ...     x, (2,), strides=1, channel_axis=None).sum())(x)
      Array([[0., 2., 1., 0.]], dtype=float32)
    """
    return max_pool_with_argmax(
        inputs,
        window_shape,
        strides,
        padding,
        window_dilation=window_dilation,
        ceil_mode=ceil_mode,
        channel_axis=channel_axis,
        pad_value=pad_value,
        autodiff=autodiff,
    )[0]
