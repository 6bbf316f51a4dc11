"""Tests for jaxpool.lp_pool: PyTorch's power-average formula, its zero
gradient where a window's sum of powers is zero, and its errors."""

from __future__ import annotations

import itertools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from references import example_inputs
from references import output_size

import jaxpool


def brute_force_lp(x, p, window, strides, ceil_mode=False, cotangent=None):
    """PyTorch's lp_pool over the last ``d`` axes, one window at a time:
    ``total = (sum of x**p over the window's input elements) * K / n``
    (``K`` the full window size, ``n`` its input elements: PyTorch's
    ``avg_pool(x**p) * K``), the output ``total ** (1/p)``, and the
    gradient ``total ** (1/p - 1) * K / n * x**(p - 1)``, zero where
    ``total`` is zero."""
    x = np.asarray(x, np.float64)
    d = len(window)
    spatial = x.shape[-d:]
    sizes = [output_size(n, w, s, 1, 0, 0, ceil_mode) for n, w, s in zip(spatial, window, strides)]
    values = np.zeros((*x.shape[:-d], *sizes))
    gradient = np.zeros_like(x)
    full = math.prod(window)
    for out in itertools.product(*(range(n) for n in sizes)):
        box = tuple(
            slice(o * s, min(o * s + w, n)) for o, s, w, n in zip(out, strides, window, spatial)
        )
        count = math.prod(b.stop - b.start for b in box)
        part = x[(..., *box)]
        total = (part**p).sum(axis=tuple(range(-d, 0))) * full / count
        values[(..., *out)] = total ** (1 / p)
        if cotangent is not None:
            slope = np.where(total == 0, 0.0, np.abs(total) ** (1 / p - 1) * full / count)
            share = np.asarray(cotangent, np.float64)[(..., *out)] * slope
            gradient[(..., *box)] += share.reshape(share.shape + (1,) * d) * part ** (p - 1)
    return values if cotangent is None else (values, gradient)


CASES = {
    "1d_ceil": ((2, 3, 11), (3,), (2,), True),
    "2d_blocks": ((2, 2, 8, 6), (2, 2), (2, 2), False),
    "2d_overlap_ceil": ((1, 2, 9, 8), (3, 2), (2, 1), True),
    "3d": ((1, 2, 5, 6, 5), (2, 3, 2), (2, 2, 2), False),
}


class LpPoolTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters(("1d_ceil", 2), ("2d_blocks", 1), ("2d_overlap_ceil", 3.5), ("3d", 2))
    def test_values_and_gradient_against_brute_force(self, case, p):
        shape, window, strides, ceil_mode = CASES[case]
        # Positive inputs: a non-integer power of a negative number is NaN.
        x = jnp.abs(example_inputs(shape, seed=2)) + 0.1
        settings = dict(ceil_mode=ceil_mode, channel_axis=len(shape) - len(window) - 1)

        def pool(x):
            return jaxpool.lp_pool(x, p, window, strides, **settings)

        cotangent = example_inputs(jax.eval_shape(pool, x).shape, seed=3)
        values, vjp = self.variant(lambda x: jax.vjp(pool, x))(x)
        expected, expected_gradient = brute_force_lp(x, p, window, strides, ceil_mode, cotangent)
        np.testing.assert_allclose(values, expected, rtol=2e-6)
        np.testing.assert_allclose(vjp(cotangent)[0], expected_gradient, rtol=1e-5, atol=1e-6)


class ZeroTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_zero_windows_give_zero_value_and_gradient_in_both_modes(self):
        x = jnp.array([[0.0, 0.0, 3.0, -4.0]])

        def pool(x):
            return jaxpool.lp_pool(x, 2, (2,), channel_axis=None)

        np.testing.assert_array_equal(self.variant(pool)(x), [[0.0, 5.0]])
        gradient = self.variant(jax.grad(lambda x: pool(x).sum()))(x)
        np.testing.assert_allclose(gradient, [[0.0, 0.0, 0.6, -0.8]], rtol=1e-6)
        assert np.isfinite(gradient).all()
        _, tangent = jax.jvp(pool, (x,), (jnp.ones_like(x),))
        np.testing.assert_allclose(tangent, [[0.0, -0.2]], rtol=1e-5)


def test_negative_inputs_follow_pytorch_power():
    # Even integer p: the sign goes away; a non-integer p of a negative is NaN.
    x = jnp.array([[-3.0, 4.0, -1.0, 2.0]])
    np.testing.assert_allclose(
        jaxpool.lp_pool(x, 2, (2,), channel_axis=None), [[5.0, math.sqrt(5.0)]], rtol=1e-6
    )
    assert np.isnan(jaxpool.lp_pool(x, 1.5, (2,), channel_axis=None)).all()


def test_infinite_norm_is_max_or_min_of_the_magnitude():
    x = jnp.array([[-3.0, 2.0, 0.5, -1.0]])
    np.testing.assert_array_equal(jaxpool.lp_pool(x, np.inf, (2,), channel_axis=None), [[3.0, 1.0]])
    np.testing.assert_array_equal(
        jaxpool.lp_pool(x, -np.inf, (2,), channel_axis=None), [[2.0, 0.5]]
    )
    gradient = jax.grad(lambda x: jaxpool.lp_pool(x, np.inf, (2,), channel_axis=None).sum())(x)
    np.testing.assert_array_equal(gradient, [[-1.0, 0.0, 0.0, -1.0]])


@pytest.mark.parametrize(
    "norm_type, error, pattern",
    [
        (0, ValueError, "norm_type=0"),
        (-2.0, ValueError, "norm_type must be positive"),
        (float("nan"), ValueError, "norm_type must be positive"),
        (True, TypeError, "norm_type must be a positive real number"),
        ("2", TypeError, "norm_type must be a positive real number"),
    ],
)
def test_bad_norm_type(norm_type, error, pattern):
    with pytest.raises(error, match=pattern):
        jaxpool.lp_pool(jnp.ones((1, 4)), norm_type, (2,), channel_axis=None)


def test_integer_input_says_to_cast():
    with pytest.raises(TypeError, match=r"lp_pool takes floating-point inputs.*astype"):
        jaxpool.lp_pool(jnp.ones((1, 4), jnp.int32), 2, (2,), channel_axis=None)
