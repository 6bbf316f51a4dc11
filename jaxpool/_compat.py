"""What jaxpool takes from JAX that older releases lack or spell otherwise.

jaxpool supports jax 0.4.38 (Equinox's floor) and newer. Each name here is
the newest JAX's API where it exists and a fallback with the same meaning
where it does not; nothing else in the package tests the JAX version.
Explicit sharding (mesh axes of ``AxisType.Explicit``) needs jax 0.7 or
newer: on an older JAX an array sharded that way raises an error that names
the version, rather than pooling it as if it were not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = [
    "EXPLICIT_SHARDING_VERSION",
    "JAX_VERSION",
    "full",
    "linear_fori_loop",
    "reduce_max",
    "reshape",
    "sharding_of",
    "supports_explicit_sharding",
]


def _version(text: str) -> tuple[int, ...]:
    """``"0.12.0.1"`` as ``(0, 12, 0, 1)``; a suffix such as ``.dev`` ends it."""
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:4])


JAX_VERSION = _version(jax.__version__)
# jax.sharding.auto_axes, NamedSharding.update and typed shardings.
EXPLICIT_SHARDING_VERSION = (0, 7, 0)

_RESHAPE_TAKES_SHARDING = JAX_VERSION >= (0, 5, 1)
# Before 0.10, transposing a loop whose body closes over a linear operand
# fails (an assertion in the scan transpose) when the linearised function
# was jitted: the operand must travel in the carry instead.
_LOOPS_CLOSE_OVER_LINEAR_OPERANDS = JAX_VERSION >= (0, 10, 0)
_FULL_TAKES_SHARDING = JAX_VERSION >= (0, 10, 2)


def supports_explicit_sharding() -> bool:
    """Whether this JAX has what pooling Explicit-sharded arrays needs."""
    return JAX_VERSION >= EXPLICIT_SHARDING_VERSION


def sharding_of(x: jax.Array) -> Any:
    """The sharding in ``x``'s type (``jax.typeof(x).sharding``), or None
    where this JAX's types carry none (before 0.5.3)."""
    typeof = getattr(jax, "typeof", None)
    if typeof is None:
        return None
    return getattr(typeof(x), "sharding", None)


def reshape(array: jax.Array, shape: Sequence[int], out_sharding: Any = None) -> jax.Array:
    """``lax.reshape``; ``out_sharding`` only where it is given."""
    if out_sharding is None or not _RESHAPE_TAKES_SHARDING:
        return lax.reshape(array, tuple(shape))
    return lax.reshape(array, tuple(shape), out_sharding=out_sharding)


def full(shape: Sequence[int], fill_value: jax.Array, out_sharding: Any = None) -> jax.Array:
    """``jnp.full`` of ``fill_value``'s dtype, with the sharding ``out_sharding``
    where it is given (``lax.full``'s ``sharding`` before jax 0.10.2)."""
    if out_sharding is None:
        return jnp.full(tuple(shape), fill_value)
    if _FULL_TAKES_SHARDING:
        return jnp.full(tuple(shape), fill_value, out_sharding=out_sharding)
    return lax.full(tuple(shape), fill_value, jnp.result_type(fill_value), sharding=out_sharding)


def reduce_max(array: jax.Array, axes: Sequence[int]) -> jax.Array:
    """``lax.reduce_max`` (jax 0.5.1), or the ``lax.reduce`` that JAX lowers to it."""
    if hasattr(lax, "reduce_max"):
        return lax.reduce_max(array, tuple(axes))
    if jnp.issubdtype(array.dtype, jnp.floating):
        init = np.asarray(-np.inf, array.dtype)
    else:
        init = np.asarray(jnp.iinfo(array.dtype).min, array.dtype)
    return lax.reduce(array, init, lax.max, tuple(axes))


def linear_fori_loop(
    count: int,
    body: Callable[[jax.Array, Any, jax.Array], Any],
    init: Any,
    operand: jax.Array,
    unroll: int = 1,
) -> Any:
    """``lax.fori_loop(0, count, ...)`` of ``body(i, carry, operand)``,
    linear in ``operand`` and rematerialised (``jax.checkpoint``), so that
    its transpose saves nothing per iteration."""
    if _LOOPS_CLOSE_OVER_LINEAR_OPERANDS:
        step = jax.checkpoint(lambda i, carry: body(i, carry, operand))
        return lax.fori_loop(0, count, step, init, unroll=unroll)

    def carried(i, state):
        carry, operand_ = state
        return body(i, carry, operand_), operand_

    return lax.fori_loop(0, count, jax.checkpoint(carried), (init, operand), unroll=unroll)[0]
