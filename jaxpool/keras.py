"""jaxpool's pooling as Keras 3 layers, for Keras's JAX backend.

``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D``,
``GlobalMaxPooling1D/2D/3D``, ``GlobalAveragePooling1D/2D/3D``,
``AdaptiveMaxPooling1D/2D/3D`` and ``AdaptiveAveragePooling1D/2D/3D`` take
Keras's arguments, defaults and ``data_format``, and have Keras's
``compute_output_shape`` and ``get_config``; each is registered for Keras's
serialization (as ``"jaxpool>MaxPooling2D"`` and so on), so ``model.save`` and
``keras.models.load_model`` restore them once this module is imported.
Swapping ``keras.layers.MaxPooling2D`` for ``jaxpool.keras.MaxPooling2D``
changes no value, and no gradient beyond float rounding where windows
overlap; the gradient is jaxpool's: it saves the switches (one small integer
per output) instead of the input and routes with dense ops, where Keras's
layer gets XLA's select-and-scatter (atomics on a GPU, with no deterministic
implementation). Averages equal Keras's to float rounding.
The aliases ``MaxPool2D``, ``AvgPool2D``, ``GlobalMaxPool2D`` and
``GlobalAvgPool2D`` (and their 1-D and 3-D kin) are Keras's too.

Keras reads its backend once, when first imported: set ``KERAS_BACKEND=jax``
before that. Importing this module with another backend active raises an
``ImportError`` that says so. Import it by name (``import jaxpool.keras``);
``import jaxpool`` does not import Keras.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from typing import Any
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from jaxpool import _layers
from jaxpool import adaptive_avg_pool
from jaxpool import adaptive_max_pool
from jaxpool import avg_pool
from jaxpool import max_pool
from jaxpool._geometry import _positive_ints
from jaxpool._geometry import pool_geometry

_BACKEND_FIX = (
    "set the environment variable KERAS_BACKEND=jax before Keras is first imported "
    "(or call keras.config.set_backend('jax'), then import jaxpool.keras)"
)


def _import_keras() -> Any:
    """``import keras``, or an ImportError that names the extra (Keras
    missing) or the backend (Keras installed, its configured backend not)."""
    try:
        return _layers.import_framework("keras", "jaxpool.keras", "Keras", "keras")
    except ImportError as error:
        if importlib.util.find_spec("keras") is None:
            raise
        cause = error.__cause__
        raise ImportError(
            f"jaxpool.keras needs Keras on its JAX backend, and importing Keras failed "
            f"({type(cause).__name__}: {cause}); {_BACKEND_FIX}"
        ) from cause


keras = _import_keras()


def _check_backend(error: type[Exception]) -> None:
    """Raises ``error`` unless Keras, as imported now, runs on JAX."""
    # keras.config.set_backend re-imports Keras: ask the Keras of now.
    backend = sys.modules.get("keras", keras).config.backend()
    if backend != "jax":
        raise error(
            f"jaxpool.keras needs Keras's JAX backend; Keras runs on {backend!r}: {_BACKEND_FIX}"
        )


_check_backend(ImportError)

__all__ = [
    "AdaptiveAveragePooling1D",
    "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "AvgPool1D",
    "AvgPool2D",
    "AvgPool3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalAvgPool3D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPool3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
]

_DATA_FORMATS = ("channels_last", "channels_first")
_PADDINGS = ("valid", "same")

_register = keras.saving.register_keras_serializable(package="jaxpool")


# --- the arguments, as Keras takes them ------------------------------------------------------


def _sizes(name: str, value: Any, rank: int) -> tuple[int, ...]:
    """An int (every spatial axis) or ``rank`` positive ints, as a tuple."""
    if value is None:
        raise TypeError(f"{name} must be an int or a tuple of {rank} ints; got None")
    return _positive_ints(name, _layers.frozen(value), rank)


def _padding(padding: Any) -> str:
    if not isinstance(padding, str):
        raise TypeError(f"padding must be the string 'valid' or 'same'; got {padding!r}")
    if padding.lower() not in _PADDINGS:
        raise ValueError(
            f"padding must be 'valid' or 'same' (case-insensitive), as in Keras; got {padding!r}"
        )
    return padding.lower()


def _data_format(data_format: Any) -> str:
    """Keras's ``data_format``: None is ``keras.config.image_data_format()``."""
    if data_format is None:
        return keras.config.image_data_format()
    if isinstance(data_format, str) and data_format.lower() in _DATA_FORMATS:
        return data_format.lower()
    raise ValueError(
        "data_format must be 'channels_last' (inputs (batch, *spatial, channels), NHWC) or "
        "'channels_first' ((batch, channels, *spatial), NCHW), or None for "
        f"keras.config.image_data_format(); got {data_format!r}"
    )


def _keepdims(keepdims: Any) -> bool:
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"keepdims must be a bool; got {keepdims!r}")
    return bool(keepdims)


class _Layout:
    """What every layer here knows of its input: ``rank`` spatial axes, and
    the channel axis that ``data_format`` puts first or last."""

    rank: ClassVar[int]
    data_format: str

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _spatial_axes(self) -> tuple[int, ...]:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def _checked_shape(self, input_shape: Any) -> tuple[Any, ...]:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} takes inputs of {self.rank + 2} axes (batch, "
                f"{self.rank} spatial, channels); got shape {shape}"
            )
        return shape


# --- windows: MaxPooling and AveragePooling --------------------------------------------------


class _Pooling(_Layout, keras.layers.Layer):
    """Keras's ``BasePooling``: the arguments, checked and standardised,
    ``compute_output_shape`` (from jaxpool's geometry) and ``get_config``."""

    def __init__(
        self,
        pool_size: int | Sequence[int],
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        _check_backend(RuntimeError)
        pool_size = _sizes("pool_size", pool_size, self.rank)
        strides = pool_size if strides is None else _sizes("strides", strides, self.rank)
        padding = _padding(padding)
        data_format = _data_format(data_format)
        super().__init__(name=name, **kwargs)
        self.pool_size = pool_size
        self.strides = strides
        self.padding = padding
        self.data_format = data_format
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2)
        self._build_at_init()

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        """The pooled shape; unknown (None) lengths stay unknown."""
        shape = self._checked_shape(input_shape)
        # Axes are pooled independently: an unknown one stands in as one window.
        stand_in = [1 if size is None else size for size in shape]
        for axis, window in zip(self._spatial_axes(), self.pool_size):
            if shape[axis] is None:
                stand_in[axis] = window
        geometry = pool_geometry(
            stand_in,
            np.float32,
            self.pool_size,
            self.strides,
            self.padding,
            channel_axis=self._channel_axis,
        )
        output = list(shape)
        for axis, size in zip(geometry.spatial_axes, geometry.output_spatial_shape):
            output[axis] = None if shape[axis] is None else size
        return tuple(output)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class _MaxPooling(_Pooling):
    """Max pooling of ``rank`` spatial axes: see :class:`MaxPooling2D`."""

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)

    def call(self, inputs: jax.typing.ArrayLike) -> jax.Array:
        return max_pool(
            inputs, self.pool_size, self.strides, self.padding, channel_axis=self._channel_axis
        )


class _AveragePooling(_Pooling):
    """Average pooling of ``rank`` spatial axes: see :class:`AveragePooling2D`."""

    def call(self, inputs: jax.typing.ArrayLike) -> jax.Array:
        return avg_pool(
            inputs,
            self.pool_size,
            self.strides,
            self.padding,
            count_include_pad=False,
            channel_axis=self._channel_axis,
        )


@_register
class MaxPooling1D(_MaxPooling):
    """Max pooling of ``(batch, steps, features)`` (or ``(batch, features,
    steps)``): :class:`MaxPooling2D` over one axis.

    Examples:
      >>> import numpy as np, jaxpool.keras
      >>> x = np.array([1.0, 5.0, 2.0, 4.0, 3.0]).reshape(1, 5, 1)
      >>> jaxpool.keras.MaxPooling1D(pool_size=2, strides=2, padding="same")(x)[0, :, 0]
      Array([5., 4., 3.], dtype=float32)
    """

    rank = 1


@_register
class MaxPooling2D(_MaxPooling):
    """Max pooling over two spatial axes with Keras's arguments and
    jaxpool's gradient.

    Calling it is one call of :func:`jaxpool.max_pool`, whose rules hold:
    ties go to the first position in row-major window order (as Keras's
    gradient on the JAX backend does), NaN wins and the first NaN is the
    switch, ``"same"`` padding (``-inf``) is never selected while the window
    holds an input element, and where windows overlap an input's gradient is
    the sum over the outputs that selected it. The values equal Keras's bit
    for bit; so does the gradient where windows do not overlap (to float
    rounding where they do). The backward saves the switches alone.

    Args:
      pool_size: window size, an int (every spatial axis) or two ints;
        default 2.
      strides: step between windows, an int or two ints; None (default)
        is ``pool_size``.
      padding: ``"valid"`` (default) or ``"same"``, case-insensitive:
        ``"same"`` gives ``ceil(length / stride)`` outputs, the odd padded
        element at the high end (Keras's and XLA's rule).
      data_format: ``"channels_last"`` (``(batch, *spatial, channels)``),
        ``"channels_first"`` (``(batch, channels, *spatial)``), or None
        (default) for ``keras.config.image_data_format()``.
      name: the layer's name; ``**kwargs`` go to ``keras.layers.Layer``.

    Raises:
      TypeError, ValueError: a bad argument, naming it and its value, when the
        layer is built (Keras checks ``padding`` only when called, and allows
        ``strides`` of 0).
      RuntimeError: Keras no longer runs on JAX (``keras.config.set_backend``).

    Examples:
      >>> import numpy as np, jaxpool.keras
      >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
      >>> jaxpool.keras.MaxPooling2D(pool_size=(2, 2))(x)[0, ..., 0]
      Array([[ 5.,  7.],
             [13., 15.]], dtype=float32)
    """

    rank = 2


@_register
class MaxPooling3D(_MaxPooling):
    """Max pooling of ``(batch, depth, height, width, channels)`` (or
    channels first): :class:`MaxPooling2D` over three axes."""

    rank = 3


@_register
class AveragePooling1D(_AveragePooling):
    """Average pooling of ``(batch, steps, features)`` (or channels first):
    :class:`AveragePooling2D` over one axis."""

    rank = 1


@_register
class AveragePooling2D(_AveragePooling):
    """Average pooling over two spatial axes with Keras's arguments and
    divisor.

    Calling it is one call of :func:`jaxpool.avg_pool` with
    ``count_include_pad=False``: each window's sum is divided by the number
    of input elements in it, which is Keras's rule (the window size with
    ``"valid"``; with ``"same"`` the padding is not counted). Values and
    gradient equal Keras's to float rounding (the sums are ordered
    differently; 16-bit inputs are summed in float32, where Keras sums in
    the input's dtype). The gradient saves nothing and has no scatter.
    ``pool_size`` is required, as in Keras; the arguments are otherwise those
    of :class:`MaxPooling2D`.

    Examples:
      >>> import numpy as np, jaxpool.keras
      >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
      >>> jaxpool.keras.AveragePooling2D(2, padding="same")(x)[0, ..., 0]
      Array([[2. , 3.5],
             [6.5, 8. ]], dtype=float32)
    """

    rank = 2


@_register
class AveragePooling3D(_AveragePooling):
    """Average pooling of ``(batch, depth, height, width, channels)`` (or
    channels first): :class:`AveragePooling2D` over three axes."""

    rank = 3


# --- global pooling ---------------------------------------------------------------------------


class _GlobalPooling(_Layout, keras.layers.Layer):
    """Keras's ``BaseGlobalPooling``: ``data_format`` and ``keepdims``,
    ``compute_output_shape`` and ``get_config``."""

    def __init__(
        self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        _check_backend(RuntimeError)
        data_format = _data_format(data_format)
        keepdims = _keepdims(keepdims)
        super().__init__(**kwargs)
        self.data_format = data_format
        self.keepdims = keepdims
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2)
        self._build_at_init()

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        """``(batch, channels)``, or with ``keepdims`` the input's shape with
        every spatial length 1."""
        shape = self._checked_shape(input_shape)
        spatial = self._spatial_axes()
        if self.keepdims:
            return tuple(1 if axis in spatial else size for axis, size in enumerate(shape))
        return tuple(size for axis, size in enumerate(shape) if axis not in spatial)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}

    def _pooled(self, values: jax.Array) -> jax.Array:
        """``values`` pooled to length 1 along the spatial axes, as asked."""
        return values if self.keepdims else jnp.squeeze(values, axis=self._spatial_axes())


class _GlobalMaxPooling(_GlobalPooling):
    """Global max pooling of ``rank`` spatial axes: see :class:`GlobalMaxPooling2D`."""

    def call(self, inputs: jax.typing.ArrayLike) -> jax.Array:
        pooled = adaptive_max_pool(inputs, (1,) * self.rank, channel_axis=self._channel_axis)
        return self._pooled(pooled)


class _GlobalAveragePooling(_GlobalPooling):
    """Global average pooling of ``rank`` spatial axes: see :class:`GlobalAveragePooling2D`."""

    def call(self, inputs: jax.typing.ArrayLike) -> jax.Array:
        pooled = adaptive_avg_pool(inputs, (1,) * self.rank, channel_axis=self._channel_axis)
        return self._pooled(pooled)


@_register
class GlobalMaxPooling1D(_GlobalMaxPooling):
    """Global max pooling of ``(batch, steps, features)`` (or channels
    first): :class:`GlobalMaxPooling2D` over one axis."""

    rank = 1


@_register
class GlobalMaxPooling2D(_GlobalMaxPooling):
    """Global max pooling over two spatial axes: Keras's arguments,
    jaxpool's gradient.

    One call of :func:`jaxpool.adaptive_max_pool` to length 1 along every
    spatial axis (the window is the whole input), so its rules hold: NaN
    wins, and the gradient goes to one element, the first maximum in
    row-major order, where Keras's ``ops.max`` splits it equally between
    tied maxima (after a ReLU, a channel of zeros). Values equal Keras's bit
    for bit (Keras's XLA:CPU max reduction drops NaN from 4,096 elements
    on; this one does not), and so does the gradient where the maximum is
    unique. The backward saves one switch per output instead of the input.

    Args:
      data_format: ``"channels_last"``, ``"channels_first"`` or None (default)
        for ``keras.config.image_data_format()``.
      keepdims: if true, the spatial axes stay, of length 1; default False:
        ``(batch, channels)``.
      **kwargs: for ``keras.layers.Layer`` (``name``, ``dtype``, ...).

    Examples:
      >>> import numpy as np, jaxpool.keras
      >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
      >>> jaxpool.keras.GlobalMaxPooling2D()(x)
      Array([[6., 7.]], dtype=float32)
    """

    rank = 2


@_register
class GlobalMaxPooling3D(_GlobalMaxPooling):
    """Global max pooling of ``(batch, depth, height, width, channels)`` (or
    channels first): :class:`GlobalMaxPooling2D` over three axes."""

    rank = 3


@_register
class GlobalAveragePooling1D(_GlobalAveragePooling):
    """Global average pooling of ``(batch, steps, features)`` (or channels
    first), with Keras's ``mask``.

    As :class:`GlobalAveragePooling2D` over one axis. Called with a ``mask``
    of shape ``(batch, steps)`` (Keras passes a preceding layer's mask), it
    averages the unmasked steps alone, with Keras's own formula (a masked
    sum over a count, no pooling); a step-less row then gives NaN, as in
    Keras. The layer consumes the mask: its output carries none.
    """

    rank = 1

    def __init__(
        self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs: jax.typing.ArrayLike, mask: jax.typing.ArrayLike | None = None) -> Any:
        if mask is None:
            return super().call(inputs)
        inputs = jnp.asarray(inputs)
        (steps,) = self._spatial_axes()
        # (batch, steps) -> a 1-length channel axis beside the steps.
        kept = jnp.expand_dims(jnp.asarray(mask).astype(bool), self._channel_axis)
        total = jnp.sum(jnp.where(kept, inputs, 0), axis=steps, keepdims=self.keepdims)
        count = jnp.sum(kept.astype(inputs.dtype), axis=steps, keepdims=self.keepdims)
        return total / count

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


@_register
class GlobalAveragePooling2D(_GlobalAveragePooling):
    """Global average pooling over two spatial axes: Keras's arguments.

    One call of :func:`jaxpool.adaptive_avg_pool` to length 1 along every
    spatial axis; values and gradient equal Keras's ``ops.mean`` to float
    rounding (16-bit inputs are summed in float32). The arguments are
    :class:`GlobalMaxPooling2D`'s.
    """

    rank = 2


@_register
class GlobalAveragePooling3D(_GlobalAveragePooling):
    """Global average pooling of ``(batch, depth, height, width, channels)``
    (or channels first): :class:`GlobalAveragePooling2D` over three axes."""

    rank = 3


# --- adaptive pooling -------------------------------------------------------------------------


class _AdaptivePooling(_Layout, keras.layers.Layer):
    """Keras's ``BaseAdaptivePooling``: ``output_size`` and ``data_format``,
    ``compute_output_shape`` and ``get_config``."""

    def __init__(
        self, output_size: int | Sequence[int], data_format: str | None = None, **kwargs: Any
    ) -> None:
        _check_backend(RuntimeError)
        output_size = _sizes("output_size", output_size, self.rank)
        data_format = _data_format(data_format)
        super().__init__(**kwargs)
        self.output_size = output_size
        self.data_format = data_format
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2)
        self._build_at_init()

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        """The input's shape with the spatial lengths of ``output_size``."""
        output = list(self._checked_shape(input_shape))
        for axis, size in zip(self._spatial_axes(), self.output_size):
            output[axis] = size
        return tuple(output)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "output_size": self.output_size,
            "data_format": self.data_format,
        }


class _AdaptiveMaxPooling(_AdaptivePooling):
    """Adaptive max pooling of ``rank`` spatial axes: see :class:`AdaptiveMaxPooling2D`."""

    def call(self, inputs: jax.typing.ArrayLike) -> jax.Array:
        return adaptive_max_pool(inputs, self.output_size, channel_axis=self._channel_axis)


class _AdaptiveAveragePooling(_AdaptivePooling):
    """Adaptive average pooling of ``rank`` spatial axes: see :class:`AdaptiveAveragePooling2D`."""

    def call(self, inputs: jax.typing.ArrayLike) -> jax.Array:
        return adaptive_avg_pool(inputs, self.output_size, channel_axis=self._channel_axis)


@_register
class AdaptiveMaxPooling1D(_AdaptiveMaxPooling):
    """Adaptive max pooling of ``(batch, steps, features)`` (or channels
    first): :class:`AdaptiveMaxPooling2D` over one axis."""

    rank = 1


@_register
class AdaptiveMaxPooling2D(_AdaptiveMaxPooling):
    """Max pooling of two spatial axes into ``output_size`` windows per
    axis, with Keras's (and PyTorch's) windows and jaxpool's gradient.

    Along an axis of length ``L`` pooled to ``n``, window ``i`` covers
    ``floor(i * L / n) <= j < ceil((i + 1) * L / n)``, as in Keras, whose
    JAX backend computes it with ``reduce_window`` and a gather (whose
    gradient is a scatter). One call of :func:`jaxpool.adaptive_max_pool`:
    ties to the first element in row-major window order, NaN wins, and where
    windows overlap an input's gradient is the sum over the outputs that
    selected it. Values equal Keras's bit for bit, gradients to float
    rounding where windows overlap.

    Args:
      output_size: the number of windows per spatial axis: an int (every
        axis) or two positive ints.
      data_format: ``"channels_last"``, ``"channels_first"`` or None (default)
        for ``keras.config.image_data_format()``.
      **kwargs: for ``keras.layers.Layer`` (``name``, ``dtype``, ...).

    Examples:
      >>> import numpy as np, jaxpool.keras
      >>> x = np.array([1.0, 5.0, 2.0, 4.0, 3.0]).reshape(1, 1, 5, 1)
      >>> jaxpool.keras.AdaptiveMaxPooling2D((1, 3))(x)[0, 0, :, 0]
      Array([5., 5., 4.], dtype=float32)
    """

    rank = 2


@_register
class AdaptiveMaxPooling3D(_AdaptiveMaxPooling):
    """Adaptive max pooling of ``(batch, depth, height, width, channels)``
    (or channels first): :class:`AdaptiveMaxPooling2D` over three axes."""

    rank = 3


@_register
class AdaptiveAveragePooling1D(_AdaptiveAveragePooling):
    """Adaptive average pooling of ``(batch, steps, features)`` (or channels
    first): :class:`AdaptiveAveragePooling2D` over one axis."""

    rank = 1


@_register
class AdaptiveAveragePooling2D(_AdaptiveAveragePooling):
    """Average pooling of two spatial axes into ``output_size`` windows
    per axis, with Keras's (and PyTorch's) windows.

    One call of :func:`jaxpool.adaptive_avg_pool`: each window's sum over its
    number of elements, with the windows of :class:`AdaptiveMaxPooling2D`.
    Values and gradients equal Keras's to float rounding (Keras divides axis
    by axis); the gradient has no scatter. The arguments are
    :class:`AdaptiveMaxPooling2D`'s.
    """

    rank = 2


@_register
class AdaptiveAveragePooling3D(_AdaptiveAveragePooling):
    """Adaptive average pooling of ``(batch, depth, height, width, channels)``
    (or channels first): :class:`AdaptiveAveragePooling2D` over three axes."""

    rank = 3


# Keras's aliases: the same classes.
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
)
