"""What the framework layer tests share: inputs without ties, and the check
that a layer pools and differentiates as its framework's own pooling."""

from __future__ import annotations

import importlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest


def distinct_inputs(shape, seed=0):
    """Float32 inputs whose values are all different, so every window has a
    single maximum and the switch is the same in every implementation."""
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 3.0, jnp.float32)


def positive_cotangent(shape, seed=1):
    # Positive, so sums over overlapping windows do not cancel.
    return jnp.asarray(np.random.default_rng(seed).uniform(0.5, 1.5, size=shape), jnp.float32)


def _values_and_gradient(pool, cotangent):
    def run(x):
        values, vjp = jax.vjp(pool, x)
        return values, vjp(cotangent)[0]

    return run


def assert_pools_like(variant, pool, reference, x, *, overlap):
    """``pool`` (run through ``variant``: with or without jit) gives the
    values of ``reference`` bit for bit, and its gradient too where windows
    do not overlap; where they do, the same sums in another order."""
    cotangent = positive_cotangent(jax.eval_shape(reference, x).shape)
    values, gradient = variant(_values_and_gradient(pool, cotangent))(x)
    expected_values, expected_gradient = jax.jit(_values_and_gradient(reference, cotangent))(x)
    assert values.shape == expected_values.shape
    np.testing.assert_array_equal(values, expected_values)
    if overlap:
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)
    else:
        np.testing.assert_array_equal(gradient, expected_gradient)
    # Every output sends its cotangent somewhere: nothing is lost or doubled.
    np.testing.assert_allclose(gradient.sum(), cotangent.sum(), rtol=1e-5)


def assert_averages_like(variant, pool, reference, x):
    """``pool`` (through ``variant``) gives the values and the gradient of
    ``reference``, an average pooling, to float rounding (the divisions may
    be ordered differently)."""
    cotangent = positive_cotangent(jax.eval_shape(reference, x).shape)
    values, gradient = variant(_values_and_gradient(pool, cotangent))(x)
    expected_values, expected_gradient = jax.jit(_values_and_gradient(reference, cotangent))(x)
    assert values.shape == expected_values.shape
    np.testing.assert_allclose(values, expected_values, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6, atol=1e-7)


def assert_import_names_the_extra(monkeypatch, module, frameworks, extra):
    """Importing ``module`` with ``frameworks`` missing raises an ImportError
    that says which extra to install."""
    for name in list(sys.modules):
        if any(name == f or name.startswith(f + ".") for f in frameworks):
            monkeypatch.delitem(sys.modules, name)
    for framework in frameworks:
        # None in sys.modules makes ``import framework`` fail.
        monkeypatch.setitem(sys.modules, framework, None)
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(ImportError, match=rf'pip install "jaxpool\[{extra}\]"'):
        importlib.import_module(module)
