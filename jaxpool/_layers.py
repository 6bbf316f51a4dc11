"""What the framework layers share: importing the framework (or saying which
extra installs it), and for the Flax layers the settings checked when a
layer is built and the call. Imports no framework itself."""

from __future__ import annotations

import importlib
import numbers
from types import ModuleType
from typing import Any

import numpy as np

from jaxpool import adaptive_avg_pool
from jaxpool import adaptive_max_pool_with_argmax
from jaxpool import avg_pool
from jaxpool import max_pool_with_argmax
from jaxpool import max_unpool
from jaxpool import min_pool_with_argmin
from jaxpool._family import check_average_flags
from jaxpool._geometry import adaptive_geometry
from jaxpool._geometry import pool_geometry

AUTODIFF_MODES = ("vjp", "jvp")


def import_framework(name: str, layer_module: str, framework: str, extra: str) -> ModuleType:
    """``import name``, or an ImportError that names the extra to install."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(
            f"{layer_module} needs {framework}, which is not installed; install it with "
            f'pip install "jaxpool[{extra}]"'
        ) from error


def frozen(value: Any) -> Any:
    """Lists (nested) and 1-D NumPy arrays as tuples, so that settings hash."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(frozen(entry) for entry in value)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def example_shape(window_shape: Any, window_dilation: Any, channel_axis: Any) -> tuple[int, ...]:
    """An input shape that the settings fit if they fit any input: every axis
    as long as the longest dilated window, and as many axes as
    ``channel_axis`` asks for. Settings it cannot read give a small shape,
    and the geometry then names what is wrong with them."""
    try:
        d = len(window_shape)
        dilations = (window_dilation,) * d if _is_int(window_dilation) else window_dilation
        dilations = (1,) * d if dilations is None else dilations
        length = max(int(w) * int(k) for w, k in zip(window_shape, dilations))
    except (TypeError, ValueError):
        d, length = 1, 1
    if channel_axis is None:
        ndim = d
    elif _is_int(channel_axis):
        ndim = channel_axis + 1 + d if channel_axis >= 0 else max(-channel_axis, d + 1)
    else:
        ndim = d + 1
    return (max(length, 1),) * max(ndim, 1)


def check_flags(autodiff: Any, return_switches: Any) -> None:
    """The two settings that the pooling geometry does not check."""
    if not isinstance(autodiff, str) or autodiff not in AUTODIFF_MODES:
        raise ValueError(f"autodiff must be 'vjp' or 'jvp'; got {autodiff!r}")
    if not isinstance(return_switches, (bool, np.bool_)):
        raise TypeError(f"return_switches must be a bool; got {return_switches!r}")


def _keywords(layer: Any) -> dict[str, Any]:
    return {
        "window_dilation": layer.window_dilation,
        "ceil_mode": layer.ceil_mode,
        "channel_axis": layer.channel_axis,
        "pad_value": layer.pad_value,
    }


def _check_window_shape(window_shape: Any) -> None:
    if _is_int(window_shape):
        raise TypeError(
            "window_shape must be a tuple of ints, one per spatial axis, such as "
            f"{(window_shape,) * 2!r} for 2-D pooling; got {window_shape!r}"
        )


def check_settings(layer: Any) -> None:
    """Raises the ``TypeError`` or ``ValueError`` that pooling with the
    layer's settings would raise on any input, so that a layer fails when it
    is built."""
    _check_window_shape(layer.window_shape)
    check_flags(layer.autodiff, layer.return_switches)
    shape = example_shape(layer.window_shape, layer.window_dilation, layer.channel_axis)
    pool_geometry(
        shape, np.float32, layer.window_shape, layer.strides, layer.padding, **_keywords(layer)
    )


def pool(layer: Any, inputs: Any, *, minimum: bool = False) -> Any:
    """One call of the pooling function (max, or min with ``minimum``) with
    the layer's settings: the values, or ``(values, switches)`` if
    ``layer.return_switches``."""
    function = min_pool_with_argmin if minimum else max_pool_with_argmax
    values, switches = function(
        inputs,
        layer.window_shape,
        layer.strides,
        layer.padding,
        autodiff=layer.autodiff,
        **_keywords(layer),
    )
    return (values, switches) if layer.return_switches else values


def _average_keywords(layer: Any) -> dict[str, Any]:
    return {
        "window_dilation": layer.window_dilation,
        "ceil_mode": layer.ceil_mode,
        "count_include_pad": layer.count_include_pad,
        "divisor_override": layer.divisor_override,
        "channel_axis": layer.channel_axis,
    }


def check_average_settings(layer: Any) -> None:
    """Raises what :func:`jaxpool.avg_pool` with the layer's settings would
    raise on any input."""
    _check_window_shape(layer.window_shape)
    keywords = _average_keywords(layer)
    check_average_flags(keywords.pop("count_include_pad"), keywords.pop("divisor_override"))
    shape = example_shape(layer.window_shape, layer.window_dilation, layer.channel_axis)
    pool_geometry(shape, np.float32, layer.window_shape, layer.strides, layer.padding, **keywords)


def average(layer: Any, inputs: Any) -> Any:
    """One call of :func:`jaxpool.avg_pool` with the layer's settings."""
    return avg_pool(
        inputs, layer.window_shape, layer.strides, layer.padding, **_average_keywords(layer)
    )


def check_adaptive_average_settings(layer: Any) -> None:
    """Raises what :func:`jaxpool.adaptive_avg_pool` with the layer's
    settings would raise on any input."""
    output_shape = layer.output_shape
    d = len(output_shape) if isinstance(output_shape, tuple) else 1
    shape = example_shape((1,) * d, None, layer.channel_axis)
    adaptive_geometry(shape, output_shape, channel_axis=layer.channel_axis)


def adaptive_average(layer: Any, inputs: Any) -> Any:
    """One call of :func:`jaxpool.adaptive_avg_pool` with the layer's settings."""
    return adaptive_avg_pool(inputs, layer.output_shape, channel_axis=layer.channel_axis)


def check_adaptive_settings(layer: Any) -> None:
    """Raises what adaptive pooling with the layer's settings would raise on
    any input, so that a layer fails when it is built."""
    check_flags(layer.autodiff, layer.return_switches)
    check_adaptive_average_settings(layer)


def adaptive_pool(layer: Any, inputs: Any) -> Any:
    """One call of adaptive pooling with the layer's settings: the values, or
    ``(values, switches)`` if ``layer.return_switches``."""
    values, switches = adaptive_max_pool_with_argmax(
        inputs, layer.output_shape, channel_axis=layer.channel_axis, autodiff=layer.autodiff
    )
    return (values, switches) if layer.return_switches else values


def _unpool_settings(layer: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The pooling arguments of an unpooling layer, positional and keyword."""
    return (layer.window_shape, layer.strides, layer.padding), {
        "window_dilation": layer.window_dilation,
        "ceil_mode": layer.ceil_mode,
        "channel_axis": layer.channel_axis,
    }


def check_unpool_settings(layer: Any) -> None:
    """Raises what unpooling with the layer's settings would raise on any
    input."""
    if layer.combine not in ("sum", "max"):
        raise ValueError(f"combine must be 'sum' or 'max'; got {layer.combine!r}")
    shape = example_shape(layer.window_shape, layer.window_dilation, layer.channel_axis)
    args, kwargs = _unpool_settings(layer)
    pool_geometry(shape, np.float32, *args, **kwargs)


def unpool(layer: Any, values: Any, switches: Any, input_shape: Any) -> Any:
    """One call of :func:`jaxpool.max_unpool` with the layer's settings."""
    args, kwargs = _unpool_settings(layer)
    return max_unpool(values, switches, input_shape, *args, **kwargs, combine=layer.combine)
