"""The public max pooling functions and their two autodiff wrappers.

Both wrappers call the one forward and the one route of
:mod:`jaxpool._strategy`, which chooses the strategy per geometry and per
backend; adding a strategy changes nothing here.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxpool import _strategy
from jaxpool._geometry import Padding
from jaxpool._geometry import PerAxis
from jaxpool._geometry import PoolGeometry
from jaxpool._geometry import WindowShape
from jaxpool._geometry import pool_geometry
from jaxpool._sharding import auto_spatial_axes

__all__ = ["max_pool", "max_pool_with_argmax"]

ArrayLike = jax.typing.ArrayLike


# Every piece is jitted with the geometry static, so that a call outside jit
# compiles once per geometry instead of dispatching every slice and select
# one by one; inside jit they inline. The pieces, not the custom_vjp and
# custom_jvp around them: a jit around those, under nested vmap, gives the
# vjp's outputs the batch axes of the primal function's outputs where the
# two differ (jax 0.10.2; tests/test_transformations.py has the case).
_pool = jax.jit(_strategy.pool, static_argnums=(1, 2))


@functools.partial(jax.jit, static_argnums=1)
def _forward_and_residual(
    inputs: jax.Array, geometry: PoolGeometry
) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
    values, switches, residual = _strategy.forward(inputs, geometry)
    return (values, switches), residual


_route = jax.jit(_strategy.route, static_argnums=2)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2))
def _pool_vjp_mode(
    inputs: jax.Array, geometry: PoolGeometry, with_switches: bool
) -> tuple[jax.Array, jax.Array]:
    return _pool(inputs, geometry, with_switches)


def _pool_vjp_mode_fwd(inputs, geometry, with_switches):
    return _forward_and_residual(inputs, geometry)


def _pool_vjp_mode_bwd(geometry, with_switches, residual, cotangents):
    values_cotangent, _ = cotangents
    return (_route(values_cotangent, residual, geometry),)


_pool_vjp_mode.defvjp(_pool_vjp_mode_fwd, _pool_vjp_mode_bwd)


@functools.partial(jax.jit, static_argnums=0)
def _forward_and_tangent(
    geometry: PoolGeometry, inputs: jax.Array, tangent: jax.Array
) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
    values, switches = _strategy.values_and_switches(inputs, geometry)
    # Rematerialised pick: reverse mode then saves the switches alone, not one
    # mask per window position, and transposes pick into route_to_switches.
    pick = jax.checkpoint(
        functools.partial(_strategy.pick_at_switches, geometry=geometry), prevent_cse=False
    )
    return (values, switches), pick(tangent, _strategy.save(switches, geometry))


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _pool_jvp_mode(
    inputs: jax.Array, geometry: PoolGeometry, with_switches: bool
) -> tuple[jax.Array, jax.Array]:
    return _pool(inputs, geometry, with_switches)


@_pool_jvp_mode.defjvp
def _pool_jvp_mode_jvp(geometry, with_switches, primals, tangents):
    (inputs,), (tangent,) = primals, tangents
    (values, switches), values_tangent = _forward_and_tangent(geometry, inputs, tangent)
    # zeros_like, not np.zeros: the tangent must carry shard_map's axes too.
    switches_tangent = jnp.zeros_like(switches, dtype=jax.dtypes.float0)
    return (values, switches), (values_tangent, switches_tangent)


_AUTODIFF_MODES = {"vjp": _pool_vjp_mode, "jvp": _pool_jvp_mode}
_POOL_WITHOUT_DERIVATIVE = _pool


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
    inputs: jax.Array, geometry: PoolGeometry, autodiff: str, with_switches: bool = True
) -> tuple[jax.Array, jax.Array]:
    """Values and switches of ``geometry``'s pooling, differentiable in
    ``autodiff`` mode: what :func:`max_pool_with_argmax` and min pooling
    call once their arguments are checked. ``with_switches=False`` says the
    caller drops the switches (where no derivative is taken, a backend may
    then take the values by a cheaper max)."""
    if not isinstance(autodiff, str) or autodiff not in _AUTODIFF_MODES:
        raise ValueError(f"autodiff must be 'vjp' or 'jvp'; got {autodiff!r}")
    if jnp.issubdtype(inputs.dtype, jnp.floating):
        pool = _AUTODIFF_MODES[autodiff]
    else:
        # Integers have no gradient to route; JAX's own rules give float0.
        pool = _POOL_WITHOUT_DERIVATIVE
    with forward_mode_hint(autodiff):
        return auto_spatial_axes(lambda x: pool(x, geometry, with_switches), inputs, geometry)(
            inputs
        )


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
        (``jax.grad``, ``jax.vjp``); forward mode raises a ``TypeError``
        (outside ``jit`` one naming ``autodiff="jvp"``; inside ``jit`` and
        through ``jax.linearize``, JAX's own). ``"jvp"``: a
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
    return pool_with_switches(inputs, geometry, autodiff, with_switches=False)[0]
