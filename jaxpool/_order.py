"""The order max pooling compares in, shared by every strategy.

NaN ranks above every number, ties keep the first, and min pooling is max
pooling of the order-reversed input.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxpool._geometry import PoolGeometry


def is_better(candidate: jax.Array, best: jax.Array) -> jax.Array:
    """Whether ``candidate`` beats ``best``: strictly larger, NaN above every
    number, and a NaN ``best`` is never beaten (so the first NaN stays)."""
    if not jnp.issubdtype(candidate.dtype, jnp.floating):
        return candidate > best
    # Two compares: "not at most best" holds for larger and for NaN candidates.
    return ~(candidate <= best) & (best == best)


def reverse_order(array: jax.Array) -> jax.Array:
    """An exact order-reversing bijection that is its own inverse: ``-x`` for
    floats, ``~x`` for integers (signed or not, without overflow) and bool.
    Min pooling is max pooling through it."""
    if jnp.issubdtype(array.dtype, jnp.floating):
        return -array
    return ~array


def in_pooled_order(array: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """``array`` in the order the max is taken in: reversed for min pooling."""
    return reverse_order(array) if geometry.reverse_order else array


def lowest(dtype: np.dtype) -> np.ndarray:
    """The least value of ``dtype``: ``-inf``, the integer minimum, False
    (a concrete NumPy scalar, as ``reduce_window``'s init must be)."""
    if jnp.issubdtype(dtype, jnp.floating):
        return np.asarray(-np.inf, dtype)
    if dtype == np.bool_:
        return np.asarray(False)
    return np.asarray(jnp.iinfo(dtype).min, dtype)


def pad_scalar(inputs: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """What a padded position holds, in the pooled order's dtype."""
    if not geometry.pad_is_lowest:
        return jnp.asarray(geometry.pad_value, inputs.dtype)
    return jnp.asarray(lowest(inputs.dtype))
