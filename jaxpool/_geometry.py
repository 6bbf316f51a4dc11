"""The one place that turns pooling arguments into geometry.

Every other module asks a :class:`PoolGeometry` for window offsets, padding
configurations, output shapes and layouts; nothing else re-derives them.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import numbers
import operator
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

__all__ = [
    "AxisWindows",
    "Padding",
    "PerAxis",
    "PoolGeometry",
    "WindowShape",
    "pool_geometry",
    "switch_dtype",
]

# The static pooling arguments, as the public functions take them.
WindowShape = Sequence[int]
"""One positive int per spatial axis."""
PerAxis = int | Sequence[int] | None
"""An int for every spatial axis, one int per spatial axis, or None (1)."""
Padding = str | int | Sequence[int] | Sequence[tuple[int, int]]
"""``"VALID"``, ``"SAME"``, an int or one int per spatial axis (symmetric),
or one ``(low, high)`` pair per spatial axis."""

# Along one axis, windows of at most this many overlapping positions are
# unrolled; longer ones use doubling (forward) and a loop (backward).
AXIS_UNROLL_LIMIT = 8
# The names a geometry can be forced to (tests run every one of them; the
# choice itself is made in _strategy).
STRATEGIES = ("positions", "separable", "windowed", "padded", "reduced")
BACKENDS = ("cpu", "cuda", "tpu")


def switch_dtype(num_window_positions: int) -> np.dtype:
    """Smallest signed integer dtype holding ``num_window_positions - 1``."""
    for dtype in (np.int8, np.int16, np.int32):
        if num_window_positions - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    raise ValueError(
        f"window_shape has {num_window_positions} positions; at most "
        f"{np.iinfo(np.int32).max + 1} are supported"
    )


def split_axes(shape: Sequence[int], splits: dict[int, tuple[int, int]]) -> tuple[int, ...]:
    """``shape`` with each axis in ``splits`` split in two: a reshape that
    splits windows out as ``(window, position)`` or stride phases out as
    ``(index, phase)``."""
    split: list[int] = []
    for axis, size in enumerate(shape):
        split.extend(splits.get(axis, (size,)))
    return tuple(split)


def _second_of_split_axes(ndim: int, split_axes: Sequence[int]) -> tuple[int, ...]:
    """The axes of a :func:`split_axes` shape that hold the second part of
    each split axis (a window's position, a stride phase)."""
    return tuple(axis + k + 1 for k, axis in enumerate(sorted(split_axes)))


@dataclasses.dataclass(frozen=True)
class AxisWindows:
    """The windows along one spatial axis.

    Window ``i`` holds the positions ``i * stride + q * dilation`` (for
    ``0 <= q < window``) of the axis padded by ``(low, high)``; ``high`` may be
    negative where trailing elements are left out.
    """

    axis: int
    length: int
    window: int
    stride: int
    dilation: int
    low: int
    high: int
    size: int

    @property
    def padded_length(self) -> int:
        return self.length + self.low + self.high

    @property
    def is_padded(self) -> bool:
        return self.low > 0 or self.high > 0

    @property
    def strategy(self) -> str:
        """``"blocks"``: disjoint windows, split out by one reshape;
        ``"unrolled"``: one strided slice per position; ``"doubling"``: long
        overlapping windows, in logarithmically many passes."""
        if self.dilation == 1 and (self.stride == self.window or self.size == 1):
            return "blocks"
        if self.window <= AXIS_UNROLL_LIMIT:
            return "unrolled"
        return "doubling"

    def real(self) -> np.ndarray:
        """Which positions of the padded axis hold input elements."""
        index = np.arange(self.padded_length)
        return (index >= self.low) & (index < self.low + self.length)

    def window_real(self) -> np.ndarray:
        """``(size, window)``: whether position ``q`` of window ``i`` is real."""
        index = (
            np.arange(self.size)[:, None] * self.stride
            + np.arange(self.window)[None, :] * self.dilation
        )
        return (index >= self.low) & (index < self.low + self.length)


@dataclasses.dataclass(frozen=True)
class PoolGeometry:
    """Static description of one pooling: hashable, so it can be a static arg.

    Attributes:
      input_shape: shape of the unpadded input.
      spatial_axes: the ``d`` axes the window slides over, in increasing order.
      window_shape, strides, window_dilation: per spatial axis.
      padding: per spatial axis ``(low, high)``, as the user asked for it.
      extent_padding: per spatial axis ``(low, high)`` that turns the input into
        exactly the extent the windows cover: ``high`` is negative where a floor
        division drops trailing elements and exceeds ``padding`` where
        ``ceil_mode`` keeps an extra window.
      output_spatial_shape: number of windows per spatial axis.
      pad_value: the value padded positions hold.
      pad_is_lowest: whether padded positions lose to every real element
        (``pad_value=-inf``), rather than competing like real elements.
      reverse_order: min pooling: the windows' minimum, computed as the
        maximum of the order-reversed input (``-x`` for floats, ``~x`` for
        integers and bool), whose pad value ``pad_value`` then is.
      forced_strategy: a strategy chosen by :meth:`with_strategy` rather than
        from the window size; None in every public call.
      forced_backend: the backend whose plan pools this geometry whatever
        backend the program is lowered for, set by :meth:`with_backend`;
        None in every public call.
    """

    input_shape: tuple[int, ...]
    spatial_axes: tuple[int, ...]
    window_shape: tuple[int, ...]
    strides: tuple[int, ...]
    window_dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    extent_padding: tuple[tuple[int, int], ...]
    output_spatial_shape: tuple[int, ...]
    pad_value: float | int
    pad_is_lowest: bool
    reverse_order: bool = False
    forced_strategy: str | None = None
    forced_backend: str | None = None

    @property
    def ndim(self) -> int:
        return len(self.input_shape)

    @property
    def num_window_positions(self) -> int:
        return math.prod(self.window_shape)

    @property
    def switch_dtype(self) -> np.dtype:
        return switch_dtype(self.num_window_positions)

    @property
    def output_shape(self) -> tuple[int, ...]:
        shape = list(self.input_shape)
        for axis, size in zip(self.spatial_axes, self.output_spatial_shape):
            shape[axis] = size
        return tuple(shape)

    @property
    def windows_are_disjoint_blocks(self) -> bool:
        """Windows tile the padded input exactly: one reshape splits them out."""
        return all(
            stride == window and dilation == 1
            for window, stride, dilation in zip(
                self.window_shape, self.strides, self.window_dilation
            )
        )

    @property
    def windows_overlap(self) -> bool:
        """Whether some input element can belong to more than one window."""
        return any(
            size > 1 and dilation * (window - 1) + 1 > stride
            for window, stride, dilation, size in zip(
                self.window_shape,
                self.strides,
                self.window_dilation,
                self.output_spatial_shape,
            )
        )

    def sum_dtype(self, dtype: np.dtype) -> np.dtype:
        """The dtype a route adds overlapping contributions of ``dtype`` in:
        float32 for 16-bit floats where windows overlap, else ``dtype``."""
        if self.windows_overlap and jax.numpy.finfo(dtype).bits < 32:
            return np.dtype(np.float32)
        return np.dtype(dtype)

    @property
    def minor_axis_is_spatial(self) -> bool:
        """Whether windows slide along the array's last (fastest) axis, as in
        channels-first layouts, rather than across it."""
        return self.spatial_axes[-1] == self.ndim - 1

    @property
    def needs_no_padding(self) -> bool:
        """Whether the windows cover only real elements (trailing ones may be
        left out)."""
        return all(low == 0 and high <= 0 for low, high in self.extent_padding)

    def with_strategy(self, strategy: str) -> PoolGeometry:
        """This geometry pooled by ``strategy``, whatever it would choose:
        how the tests run every strategy on every geometry."""
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}")
        return dataclasses.replace(self, forced_strategy=strategy)

    def with_backend(self, backend: str) -> PoolGeometry:
        """This geometry pooled by ``backend``'s plan on every backend: how
        the tests run each backend's formulation on the CPU."""
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}")
        return dataclasses.replace(self, forced_backend=backend)

    def axis_windows(self) -> tuple[AxisWindows, ...]:
        """The windows of each spatial axis, in the order of the axes."""
        return tuple(
            AxisWindows(axis, length, window, stride, dilation, low, high, size)
            for axis, length, window, stride, dilation, (low, high), size in zip(
                self.spatial_axes,
                self.spatial_shape,
                self.window_shape,
                self.strides,
                self.window_dilation,
                self.extent_padding,
                self.output_spatial_shape,
            )
        )

    def full_rank(self, per_spatial: Sequence[Any], fill: Any) -> list[Any]:
        full = [fill] * self.ndim
        for axis, value in zip(self.spatial_axes, per_spatial):
            full[axis] = value
        return full

    def window_offsets(self) -> list[tuple[int, ...]]:
        """Offset of each window position, in row-major window order."""
        return [
            tuple(index * dilation for index, dilation in zip(position, self.window_dilation))
            for position in itertools.product(*(range(w) for w in self.window_shape))
        ]

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        return tuple(self.input_shape[axis] for axis in self.spatial_axes)

    @property
    def padded_extent_shape(self) -> tuple[int, ...]:
        shape = list(self.input_shape)
        for axis, (low, high) in zip(self.spatial_axes, self.extent_padding):
            shape[axis] += low + high
        return tuple(shape)

    @property
    def blocks_shape(self) -> tuple[int, ...]:
        """Extent-padded shape with every spatial axis split into
        ``(windows, window)``; only for disjoint blocks."""
        return split_axes(
            self.input_shape,
            dict(zip(self.spatial_axes, zip(self.output_spatial_shape, self.window_shape))),
        )

    def blocks_spec(self, spec: Sequence[Any]) -> tuple[Any, ...]:
        """Partition spec of :attr:`blocks_shape` (or of the stride phases)
        for an input partitioned as ``spec``: a spatial axis's entry goes to
        its window (or phase) index axis."""
        entries = tuple(spec) + (None,) * (self.ndim - len(spec))
        blocks: list[Any] = []
        for axis, entry in enumerate(entries):
            blocks.extend((entry, None) if axis in self.spatial_axes else (entry,))
        return tuple(blocks)

    def block_window_axes(self) -> tuple[int, ...]:
        """Axes of :attr:`blocks_shape` that index a position inside a window."""
        return _second_of_split_axes(self.ndim, self.spatial_axes)

    def reduce_window_padding(self) -> tuple[tuple[int, int], ...]:
        """Full-rank ``lax.reduce_window`` padding whose windows are exactly
        these: :attr:`extent_padding`, with a negative ``high`` (trailing
        elements no window reaches) left to the floor division."""
        return tuple(
            self.full_rank([(low, max(high, 0)) for low, high in self.extent_padding], (0, 0))
        )

    def extent_pad_config(self) -> list[tuple[int, int, int]]:
        """``lax.pad`` config (a negative ``high`` crops) turning the input
        into exactly the extent the windows cover."""
        return self.full_rank([(low, high, 0) for low, high in self.extent_padding], (0, 0, 0))

    def position_slice(self, offsets: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
        """``lax.slice`` ``(start, limit, strides)`` of the extent-padded
        input (:meth:`extent_pad_config`) holding window position
        ``offsets`` of every window: an output-shaped array."""
        limits = [
            offset + stride * (size - 1) + 1
            for offset, stride, size in zip(offsets, self.strides, self.output_spatial_shape)
        ]
        limit = list(self.padded_extent_shape)
        for axis, value in zip(self.spatial_axes, limits):
            limit[axis] = value
        return self.full_rank(offsets, 0), limit, self.full_rank(self.strides, 1)

    def window_counts(self, count_include_pad: bool) -> np.ndarray:
        """How many positions of each window count for an average,
        broadcastable to :attr:`output_shape` (int64).

        With ``count_include_pad`` the positions in the input or in the
        padding asked for (PyTorch's rule: a ``ceil_mode`` window's positions
        past the high padding are not counted); without, only the positions
        holding input elements. Windows are boxes, so the count is the
        product of per-axis counts.
        """
        count = np.ones((), np.int64)
        for length, window, stride, dilation, (low, high), size in zip(
            self.spatial_shape,
            self.window_shape,
            self.strides,
            self.window_dilation,
            self.padding,
            self.output_spatial_shape,
        ):
            # Positions in the padded coordinates, where the input starts at low.
            index = np.arange(size)[:, None] * stride + np.arange(window)[None, :] * dilation
            if count_include_pad:
                inside = index < low + length + high
            else:
                inside = (index >= low) & (index < low + length)
            count = np.multiply.outer(count, inside.sum(axis=1))
        return count.reshape(self.full_rank(count.shape, 1))

    def average_divisor(self, count_include_pad: bool, divisor_override: int | None) -> np.ndarray:
        """The static divisor of each window's sum, broadcastable to
        :attr:`output_shape`: ``divisor_override`` where given, else
        :meth:`window_counts` (at least 1, so that a window lying wholly in
        padding averages to 0 rather than 0 / 0)."""
        if divisor_override is not None:
            return np.full(self.full_rank((1,) * len(self.spatial_axes), 1), divisor_override)
        return np.maximum(self.window_counts(count_include_pad), 1)


def _reject_traced(**arguments: Any) -> None:
    """Raises TypeError where a static argument holds a traced value."""
    for name, value in arguments.items():
        entries = value if isinstance(value, (list, tuple)) else [value]
        flat = [
            v for entry in entries for v in (entry if isinstance(entry, (list, tuple)) else [entry])
        ]
        if any(isinstance(v, jax.core.Tracer) for v in flat):
            raise TypeError(
                f"{name} must be static (Python ints), as it sets the output shape; got a "
                f"traced value {value!r}. Under jax.jit, pass it through static_argnums or "
                "static_argnames, or close over it instead of passing it as an argument"
            )


def _as_sequence(value: Any) -> Any:
    """A 1-D NumPy array of settings reads as the sequence it holds."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return value.tolist()
    return value


def _positive_ints(name: str, value: Any, length: int) -> tuple[int, ...]:
    value = _as_sequence(value)
    if value is None:
        return (1,) * length
    if _is_int(value):
        values = (operator.index(value),) * length
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if not all(_is_int(v) for v in value):
            raise TypeError(f"{name} entries must be ints; got {value!r}")
        values = tuple(operator.index(v) for v in value)
    else:
        raise TypeError(f"{name} must be an int or a sequence of ints; got {value!r}")
    if len(values) != length:
        raise ValueError(f"{name} must have one entry per window dim ({length}); got {value!r}")
    if any(v <= 0 for v in values):
        raise ValueError(f"{name} entries must be positive; got {value!r}")
    return values


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _padding_pairs(
    padding: Any,
    spatial_shape: tuple[int, ...],
    window_shape: tuple[int, ...],
    strides: tuple[int, ...],
    window_dilation: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    d = len(window_shape)
    if isinstance(padding, str):
        if padding.upper() == "VALID":
            return ((0, 0),) * d
        if padding.upper() == "SAME":
            # As lax.padtype_to_pads on the dilated window: ceil(L / s) outputs,
            # the odd element of padding on the high side.
            pairs = []
            for length, window, stride, dilation in zip(
                spatial_shape, window_shape, strides, window_dilation
            ):
                span = dilation * (window - 1) + 1
                total = max((-(-length // stride) - 1) * stride + span - length, 0)
                pairs.append((total // 2, total - total // 2))
            return tuple(pairs)
        raise ValueError(f"padding string must be 'VALID' or 'SAME'; got {padding!r}")
    if _is_int(padding):
        pairs = ((operator.index(padding),) * 2,) * d
    elif isinstance(padding, Sequence):
        if len(padding) != d:
            hint = ""
            if len(padding) == 2 * d and all(_is_int(v) for v in padding):
                pairs = tuple(tuple(padding[2 * k : 2 * k + 2]) for k in range(d))
                hint = f". For (low, high) pairs per axis pass padding={pairs!r}"
            raise ValueError(
                f"padding must have one entry per window dim ({d}); got {padding!r}{hint}"
            )
        pairs_list = []
        for entry in padding:
            if _is_int(entry):
                pairs_list.append((operator.index(entry),) * 2)
            elif (
                isinstance(entry, Sequence)
                and not isinstance(entry, str)
                and len(entry) == 2
                and all(_is_int(v) for v in entry)
            ):
                pairs_list.append(tuple(operator.index(v) for v in entry))
            else:
                raise TypeError(
                    f"padding entries must be ints or (low, high) pairs of ints; got {padding!r}"
                )
        pairs = tuple(pairs_list)
    else:
        raise TypeError(
            "padding must be 'VALID', 'SAME', an int, a sequence of ints or a "
            f"sequence of (low, high) pairs; got {padding!r}"
        )
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError(f"padding must be non-negative; got {padding!r}")
    return pairs


def _spatial_axes(ndim: int, d: int, channel_axis: Any) -> tuple[int, ...]:
    if channel_axis is None:
        if d > ndim:
            raise ValueError(f"window_shape has {d} dims but the input has only {ndim} axes")
        return tuple(range(ndim - d, ndim))
    if not _is_int(channel_axis):
        raise TypeError(f"channel_axis must be an int or None; got {channel_axis!r}")
    if d + 1 > ndim:
        raise ValueError(
            f"window_shape has {d} dims, so the input needs at least {d + 1} axes "
            f"(spatial and channel_axis={channel_axis}); it has {ndim}. Pass "
            "channel_axis=None for input without a feature axis."
        )
    if not -ndim <= channel_axis < ndim:
        raise ValueError(
            f"channel_axis={channel_axis} is out of range for an input with {ndim} axes: it "
            f"must lie in [{-ndim}, {ndim - 1}]. Pass -1 for channels-last data, 1 for "
            "channels-first (N, C, ...) data, or None for data without a feature axis"
        )
    channel = channel_axis % ndim
    if channel == ndim - 1:
        return tuple(range(ndim - 1 - d, ndim - 1))
    if channel < ndim - d:
        return tuple(range(ndim - d, ndim))
    raise ValueError(
        f"channel_axis={channel_axis} lies inside the {d} spatial axes of an input "
        f"with {ndim} axes; it must be the last axis or precede the last {d} axes"
    )


def _output_size(
    length: int, window: int, stride: int, dilation: int, low: int, high: int, ceil_mode: bool
) -> int:
    # PyTorch's rule: round the window count up in ceil mode, but drop a last
    # window that would start in the right padding.
    span = dilation * (window - 1) + 1
    room = length + low + high - span
    if ceil_mode:
        count = -(-room // stride) + 1
        if (count - 1) * stride >= length + low:
            count -= 1
        return count
    return room // stride + 1


def _pad_value(pad_value: Any, dtype: np.dtype) -> tuple[float | int, bool]:
    """The pad value as a hashable Python number, and whether it is ``-inf``."""
    if isinstance(pad_value, (bool, np.bool_)) or not isinstance(pad_value, numbers.Real):
        raise TypeError(f"pad_value must be a real number; got {pad_value!r}")
    if float(pad_value) == -math.inf:
        return -math.inf, True
    if jax.numpy.issubdtype(dtype, jax.numpy.floating):
        value = float(pad_value)
        if math.isfinite(value) and not np.isfinite(np.asarray(value).astype(dtype)):
            raise ValueError(f"pad_value={pad_value!r} overflows the input dtype {dtype}")
        return value, False
    # Integers stay Python ints: float64 cannot hold every int64.
    if isinstance(pad_value, numbers.Integral):
        value = int(pad_value)
    elif float(pad_value).is_integer():
        value = int(float(pad_value))
    else:
        value = None
    if dtype == np.bool_:
        representable = value in (0, 1)
    else:
        info = np.iinfo(dtype)
        representable = value is not None and int(info.min) <= value <= int(info.max)
    if not representable:
        raise ValueError(f"pad_value={pad_value!r} is not representable in the input dtype {dtype}")
    return value, False


def _reversed_pad_value(pad_value: Any, dtype: np.dtype) -> Any:
    """The max-pool pad value of the order-reversed input that stands for a
    min pool's ``pad_value``: ``+inf`` (never selected) becomes ``-inf``."""
    if isinstance(pad_value, numbers.Real) and not isinstance(pad_value, (bool, np.bool_)):
        if float(pad_value) == math.inf:
            return -math.inf
    if jax.numpy.issubdtype(dtype, jax.numpy.floating):
        value, _ = _pad_value(pad_value, dtype)
        return -value
    if isinstance(pad_value, numbers.Real) and float(pad_value) == -math.inf:
        raise ValueError(
            f"pad_value=-inf is not representable in the input dtype {dtype}; pass +inf "
            "(padding never selected) or a representable integer"
        )
    value, _ = _pad_value(pad_value, dtype)
    if dtype == np.bool_:
        return 1 - value
    info = np.iinfo(dtype)
    # ~x == -1 - x for signed integers, max - x for unsigned: both max + min - x.
    return int(info.max) + int(info.min) - value


def pool_geometry(
    shape: Sequence[int],
    dtype: Any,
    window_shape: Any,
    strides: Any = None,
    padding: Any = "VALID",
    *,
    window_dilation: Any = None,
    ceil_mode: bool = False,
    channel_axis: Any = -1,
    pad_value: Any = -math.inf,
    reverse_order: bool = False,
) -> PoolGeometry:
    """Validates pooling arguments and returns their :class:`PoolGeometry`.

    With ``reverse_order`` (min pooling) ``pad_value`` is the min pool's:
    ``+inf`` is never selected, and the geometry holds its order-reversed
    value.

    Raises:
      TypeError: an argument of the wrong type.
      ValueError: an argument of the right type with a bad value.
    """
    _reject_traced(
        window_shape=window_shape,
        strides=strides,
        padding=padding,
        window_dilation=window_dilation,
        ceil_mode=ceil_mode,
        channel_axis=channel_axis,
        pad_value=pad_value,
    )
    window_shape = _as_sequence(window_shape)
    if _is_int(window_shape):
        # An int cannot say how many axes to pool; guess the spatial axes of
        # the usual layouts: (N, *spatial, C), or (N, *spatial) without C.
        guess = max(len(shape) - (1 if channel_axis is None else 2), 1)
        raise TypeError(
            "window_shape must be a sequence of ints, one per spatial dim (it sets "
            f"how many dims are pooled); got {window_shape!r}. For an input of shape "
            f"{tuple(shape)} you probably meant window_shape={(window_shape,) * guess!r}"
        )
    if not isinstance(window_shape, Sequence):
        raise TypeError(
            "window_shape must be a sequence of ints, one per spatial dim (it sets "
            f"how many dims are pooled); got {window_shape!r}"
        )
    if len(window_shape) == 0:
        raise ValueError(f"window_shape must have at least one entry; got {window_shape!r}")
    d = len(window_shape)
    windows = _positive_ints("window_shape", window_shape, d)
    if (
        d == len(shape) >= 2
        and _is_int(channel_axis)
        and -d <= channel_axis < d
        and windows[0] == windows[channel_axis] == 1
    ):
        # Haiku's full-rank window, with 1 for the batch and channel axes.
        spatial = tuple(w for axis, w in enumerate(windows) if axis not in (0, channel_axis % d))
        raise ValueError(
            f"window_shape={window_shape!r} has an entry for every axis of the input of "
            f"shape {tuple(shape)}, as Haiku's max_pool takes it; here it has one entry per "
            f"spatial axis: pass window_shape={spatial!r} (and strides likewise), or use "
            "jaxpool.haiku.max_pool, which takes Haiku's arguments"
        )
    stride_values = _positive_ints("strides", strides, d)
    dilations = _positive_ints("window_dilation", window_dilation, d)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"ceil_mode must be a bool; got {ceil_mode!r}")
    shape = tuple(shape)
    axes = _spatial_axes(len(shape), d, channel_axis)
    spatial_shape = tuple(shape[axis] for axis in axes)
    pairs = _padding_pairs(padding, spatial_shape, windows, stride_values, dilations)
    if reverse_order:
        pad_value = _reversed_pad_value(pad_value, np.dtype(dtype))
    value, pad_is_lowest = _pad_value(pad_value, np.dtype(dtype))

    outputs, extent = [], []
    for length, window, stride, dilation, (low, high) in zip(
        spatial_shape, windows, stride_values, dilations, pairs
    ):
        size = _output_size(length, window, stride, dilation, low, high, bool(ceil_mode))
        if size < 1:
            span = dilation * (window - 1) + 1
            raise ValueError(
                f"the output would be empty: an input of spatial shape {spatial_shape} "
                f"(axes {axes} of shape {shape}) with padding {pairs} is smaller than "
                f"window_shape={windows} with window_dilation={dilations}: along spatial "
                f"axis {axes[len(outputs)]} the window spans {span} positions and the padded "
                f"input has {length + low + high}. Pass a smaller window_shape, pad the input "
                "(padding='SAME', or an int), or check channel_axis (with channel_axis="
                f"{channel_axis!r} the spatial axes are {axes})"
            )
        outputs.append(size)
        covered = stride * (size - 1) + dilation * (window - 1) + 1
        extent.append((low, covered - length - low))
    return PoolGeometry(
        input_shape=shape,
        spatial_axes=axes,
        window_shape=windows,
        strides=stride_values,
        window_dilation=dilations,
        padding=pairs,
        extent_padding=tuple(extent),
        output_spatial_shape=tuple(outputs),
        pad_value=value,
        pad_is_lowest=pad_is_lowest,
        reverse_order=bool(reverse_order),
    )


@dataclasses.dataclass(frozen=True)
class AdaptiveGroup:
    """Adaptive windows ``i = residue + m * period`` (``0 <= m < count``) of
    one axis: all of size ``window``, starting at ``start + m * stride``, so
    they are one regular pooling of the slice from ``start``."""

    residue: int
    start: int
    window: int
    stride: int
    count: int

    @property
    def stop(self) -> int:
        """End of the slice the group's windows cover."""
        return self.start + (self.count - 1) * self.stride + self.window


@dataclasses.dataclass(frozen=True)
class AdaptiveAxis:
    """PyTorch's adaptive windows along one spatial axis: window ``i`` of
    ``size`` covers ``floor(i * length / size) <= j < ceil((i + 1) * length /
    size)``; windows may overlap and differ in size by one."""

    axis: int
    length: int
    size: int

    @property
    def period(self) -> int:
        """Windows ``period`` apart have the same size and lie ``length /
        gcd`` elements apart."""
        return self.size // math.gcd(self.length, self.size)

    def starts(self) -> np.ndarray:
        return np.arange(self.size) * self.length // self.size

    def stops(self) -> np.ndarray:
        return -((-(np.arange(1, self.size + 1)) * self.length) // self.size)

    @property
    def max_window(self) -> int:
        """The largest window: switches count positions over it."""
        return int((self.stops() - self.starts()).max())

    def groups(self) -> tuple[AdaptiveGroup, ...]:
        """The windows as ``period`` regular poolings (one where ``size``
        divides ``length``)."""
        count = math.gcd(self.length, self.size)
        stride = self.length // count
        starts, stops = self.starts(), self.stops()
        return tuple(
            AdaptiveGroup(
                residue=r,
                start=int(starts[r]),
                window=int(stops[r] - starts[r]),
                stride=stride,
                count=count,
            )
            for r in range(self.period)
        )


@dataclasses.dataclass(frozen=True)
class AdaptiveGeometry:
    """Static description of one adaptive pooling: hashable.

    Switches are row-major offsets within each window counted over
    ``max_window_shape`` (the largest window per axis): offset ``q_k`` along
    spatial axis ``k`` gives the switch ``sum_k q_k * prod(max_window_shape[k
    + 1:])``.
    """

    input_shape: tuple[int, ...]
    channel_axis: int | None
    axes: tuple[AdaptiveAxis, ...]

    @property
    def ndim(self) -> int:
        return len(self.input_shape)

    @property
    def spatial_axes(self) -> tuple[int, ...]:
        return tuple(axis.axis for axis in self.axes)

    @property
    def output_spatial_shape(self) -> tuple[int, ...]:
        return tuple(axis.size for axis in self.axes)

    @property
    def output_shape(self) -> tuple[int, ...]:
        shape = list(self.input_shape)
        for axis in self.axes:
            shape[axis.axis] = axis.size
        return tuple(shape)

    @property
    def max_window_shape(self) -> tuple[int, ...]:
        return tuple(axis.max_window for axis in self.axes)

    @property
    def switch_dtype(self) -> np.dtype:
        return switch_dtype(math.prod(self.max_window_shape))

    @property
    def windows_are_disjoint_blocks(self) -> bool:
        """Every axis's windows tile it (``n`` divides ``L``): one reshape
        splits out all windows at once."""
        return all(axis.period == 1 for axis in self.axes)

    @property
    def blocks_shape(self) -> tuple[int, ...]:
        """The input's shape with every spatial axis split into ``(windows,
        window)``; only for disjoint blocks."""
        return split_axes(
            self.input_shape,
            {axis.axis: (axis.size, axis.length // axis.size) for axis in self.axes},
        )

    def block_window_axes(self) -> tuple[int, ...]:
        """Axes of :attr:`blocks_shape` that index a position in a window."""
        return _second_of_split_axes(self.ndim, self.spatial_axes)

    def window_sizes(self) -> np.ndarray:
        """The number of elements in each window, broadcastable to
        :attr:`output_shape` (int64): an adaptive average's divisor."""
        size = np.ones((), np.int64)
        for axis in self.axes:
            size = np.multiply.outer(size, axis.stops() - axis.starts())
        shape = [1] * self.ndim
        for axis, length in zip(self.spatial_axes, size.shape):
            shape[axis] = length
        return size.reshape(shape)


def adaptive_geometry(
    shape: Sequence[int], output_shape: Any, *, channel_axis: Any = -1
) -> AdaptiveGeometry:
    """Validates adaptive pooling arguments and returns their
    :class:`AdaptiveGeometry`.

    ``output_shape`` has one entry per spatial axis: a positive int, or
    ``None`` to keep the axis as it is.

    Raises:
      TypeError: an argument of the wrong type.
      ValueError: an argument of the right type with a bad value.
    """
    _reject_traced(output_shape=output_shape, channel_axis=channel_axis)
    output_shape = _as_sequence(output_shape)
    if _is_int(output_shape) and output_shape <= 0:
        raise ValueError(
            f"output_shape entries must be positive (or None to keep an axis); got {output_shape!r}"
        )
    if _is_int(output_shape):
        raise TypeError(
            "output_shape must be a sequence with one entry per spatial axis (it sets how "
            f"many axes are pooled); got {output_shape!r}. You probably meant "
            f"{(output_shape,) * max(len(shape) - (1 if channel_axis is None else 2), 1)!r}"
        )
    if not isinstance(output_shape, Sequence) or isinstance(output_shape, str):
        raise TypeError(f"output_shape must be a sequence of ints (or None); got {output_shape!r}")
    if len(output_shape) == 0:
        raise ValueError(f"output_shape must have at least one entry; got {output_shape!r}")
    if not all(entry is None or _is_int(entry) for entry in output_shape):
        raise TypeError(f"output_shape entries must be ints or None; got {output_shape!r}")
    if any(entry is not None and entry <= 0 for entry in output_shape):
        raise ValueError(f"output_shape entries must be positive (or None); got {output_shape!r}")
    shape = tuple(shape)
    axes = _spatial_axes(len(shape), len(output_shape), channel_axis)
    adaptive_axes = []
    for axis, entry in zip(axes, output_shape):
        if shape[axis] == 0:
            raise ValueError(
                f"the input of shape {shape} is empty along spatial axis {axis}: "
                "there is nothing to pool"
            )
        size = shape[axis] if entry is None else operator.index(entry)
        adaptive_axes.append(AdaptiveAxis(axis=axis, length=shape[axis], size=size))
    return AdaptiveGeometry(
        input_shape=shape,
        channel_axis=None if channel_axis is None else operator.index(channel_axis),
        axes=tuple(adaptive_axes),
    )
