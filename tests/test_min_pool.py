"""Tests for jaxpool.min_pool and min_pool_with_argmin: max pooling's rules
mirrored, against a NumPy loop, lax.reduce_window and hand-worked cases."""

from __future__ import annotations

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from references import example_inputs
from references import padding_pairs
from references import saved_residual_lines
from references import scatter_ops

import jaxpool


def brute_force_min(x, window, strides, padding, *, ceil_mode=False, cotangent=None):
    """Values, switches and gradient of min pooling over the last ``d`` axes
    from the mirrored rules: the first smallest in row-major window order,
    NaN below every number (first NaN), ``+inf`` padding only where the
    window holds no input element."""
    x = np.asarray(x, np.float64)
    d = len(window)
    spatial = x.shape[-d:]
    pairs = padding_pairs(padding, spatial, window, strides, (1,) * d)
    sizes = []
    for n, w, s, (lo, hi) in zip(spatial, window, strides, pairs):
        room = n + lo + hi - w
        size = -(-room // s) + 1 if ceil_mode else room // s + 1
        if ceil_mode and (size - 1) * s >= n + lo:
            size -= 1
        sizes.append(size)
    rows = x.reshape(-1, *spatial)
    values = np.empty((rows.shape[0], *sizes))
    switches = np.empty(values.shape, np.int64)
    gradient = np.zeros_like(rows)
    cot = None if cotangent is None else np.asarray(cotangent, np.float64).reshape(values.shape)
    positions = list(itertools.product(*(range(w) for w in window)))
    for row, out in itertools.product(range(rows.shape[0]), itertools.product(*map(range, sizes))):
        best = None
        for k, position in enumerate(positions):
            index = tuple(o * s + p - lo for o, s, p, (lo, _) in zip(out, strides, position, pairs))
            if not all(0 <= i < n for i, n in zip(index, spatial)):
                continue
            value = rows[(row, *index)]
            if best is None or (np.isnan(value) and not np.isnan(best[0])) or value < best[0]:
                if best is not None and np.isnan(best[0]):
                    continue
                best = (value, k, index)
        if best is None:
            values[(row, *out)], switches[(row, *out)] = np.inf, 0
            continue
        values[(row, *out)], switches[(row, *out)] = best[0], best[1]
        if cot is not None:
            gradient[(row, *best[2])] += cot[(row, *out)]
    shape = x.shape[:-d]
    result = values.reshape(*shape, *sizes), switches.reshape(*shape, *sizes)
    return result if cot is None else (*result, gradient.reshape(x.shape))


CASES = {
    "1d_ceil": ((2, 3, 11), (3,), (2,), 1, True),
    "2d_blocks": ((2, 2, 8, 6), (2, 2), (2, 2), "VALID", False),
    "2d_same_overlap": ((1, 1, 9, 8), (3, 3), (2, 1), "SAME", False),
    "3d": ((1, 1, 4, 5, 4), (2, 2, 2), (2, 2, 1), 1, True),
    # More than 12 window positions: the axis-by-axis strategy.
    "2d_large_same": ((1, 2, 9, 8), (5, 5), (1, 1), "SAME", False),
    "1d_global": ((2, 3, 40), (40,), (1,), 0, False),
}


_EXPECTED: dict = {}


class MinPoolTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.product(case=list(CASES), kind_and_mode=[("random", "vjp"), ("ties", "jvp")])
    def test_values_switches_gradient_against_brute_force(self, case, kind_and_mode):
        kind, autodiff = kind_and_mode
        shape, window, strides, padding, ceil_mode = CASES[case]
        x = example_inputs(shape, kind=kind, seed=2)
        settings = dict(ceil_mode=ceil_mode, channel_axis=len(shape) - len(window) - 1)

        def pool(x):
            return jaxpool.min_pool_with_argmin(
                x, window, strides, padding, autodiff=autodiff, **settings
            )

        out_shape = jax.eval_shape(pool, x)[0].shape
        cotangent = example_inputs(out_shape, seed=3)

        def run(x):
            (values, switches), vjp = jax.vjp(pool, x)
            return values, switches, vjp((cotangent, np.zeros(out_shape, jax.dtypes.float0)))[0]

        values, switches, gradient = self.variant(run)(x)
        # The loop is slow: computed once for both variants.
        key = (case, kind)
        if key not in _EXPECTED:
            _EXPECTED[key] = brute_force_min(
                x, window, strides, padding, ceil_mode=ceil_mode, cotangent=cotangent
            )
        expected = _EXPECTED[key]
        np.testing.assert_array_equal(values, expected[0])
        np.testing.assert_array_equal(switches, expected[1])
        np.testing.assert_allclose(gradient, expected[2], rtol=1e-6, atol=1e-6)


def test_values_equal_reduce_window_min():
    x = example_inputs((2, 9, 8, 3), seed=4)
    for window, strides, padding in [((2, 2), (2, 2), "VALID"), ((3, 3), (2, 2), "SAME")]:
        pairs = [(0, 0), *padding_pairs(padding, (9, 8), window, strides, (1, 1)), (0, 0)]
        expected = jax.lax.reduce_window(
            x, jnp.inf, jax.lax.min, (1, *window, 1), (1, *strides, 1), pairs
        )
        np.testing.assert_array_equal(jaxpool.min_pool(x, window, strides, padding), expected)


class RulesTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_rules_hand_worked(self):
        def pool(x, padding="VALID"):
            return jaxpool.min_pool_with_argmin(x, (2,), 1, padding, channel_axis=None)

        # Ties to the first; NaN wins, the first NaN.
        values, switches = self.variant(pool)(jnp.array([[2.0, 1.0, 1.0, np.nan, 0.0, np.nan]]))
        np.testing.assert_array_equal(values, [[1.0, 1.0, np.nan, np.nan, np.nan]])
        np.testing.assert_array_equal(switches, [[1, 0, 1, 0, 1]])
        # +inf padding is not selected even beside a +inf input.
        values, switches = self.variant(lambda x: pool(x, ((1, 0),)))(jnp.array([[np.inf, 3.0]]))
        np.testing.assert_array_equal(values, [[np.inf, 3.0]])
        np.testing.assert_array_equal(switches, [[1, 1]])
        # The gradient goes to the switch.
        grad = self.variant(
            jax.grad(lambda x: jaxpool.min_pool(x, (2,), 2, channel_axis=None).sum())
        )
        np.testing.assert_array_equal(
            grad(jnp.array([[1.0, 1.0, 3.0, -2.0]])), [[1.0, 0.0, 0.0, 1.0]]
        )


@pytest.mark.parametrize("dtype", [jnp.int8, jnp.uint8, jnp.int32, jnp.bool_])
def test_integers_and_bool_reverse_without_overflow(dtype):
    if dtype == jnp.bool_:
        x = jnp.array([[True, False, True, True]])
        expected = [[False, True]]
        assert jaxpool.min_pool(x, (2,), 2, channel_axis=None).tolist() == expected
        # Padding (+inf: True here) never wins: the window [pad, True] gives True.
        assert jaxpool.min_pool(x[:, 2:], (2,), 2, ((1, 1),), channel_axis=None).tolist() == [
            [True, True]
        ]
        return
    info = jnp.iinfo(dtype)
    x = jnp.array([[info.min, info.max, info.max, 5, info.min, info.min]], dtype)
    values, switches = jaxpool.min_pool_with_argmin(x, (2,), 2, channel_axis=None)
    np.testing.assert_array_equal(values, np.array([[info.min, 5, info.min]], dtype))
    np.testing.assert_array_equal(switches, [[0, 1, 0]])
    # A window of +inf padding (the dtype's maximum) beside the maximum.
    padded = jaxpool.min_pool(x[:, 1:2], (2,), 1, ((1, 1),), channel_axis=None)
    np.testing.assert_array_equal(padded, np.array([[info.max, info.max]], dtype))
    # A finite pad value competes like an input element.
    competing = jaxpool.min_pool(x[:, 3:4], (2,), 1, ((1, 0),), pad_value=3, channel_axis=None)
    np.testing.assert_array_equal(competing, np.array([[3]], dtype))
    # Integers have no gradient: float0, as for max pooling.
    gradient = jax.grad(lambda x: 0.0, allow_int=True)(x)
    assert gradient.dtype == jax.dtypes.float0


def test_pad_value_errors():
    with pytest.raises(ValueError, match="pad_value=-inf is not representable"):
        jaxpool.min_pool(jnp.zeros((1, 4), jnp.int8), (2,), channel_axis=None, pad_value=-np.inf)
    with pytest.raises(ValueError, match="pad_value=300 is not representable"):
        jaxpool.min_pool(jnp.zeros((1, 4), jnp.int8), (2,), channel_axis=None, pad_value=300)
    with pytest.raises(TypeError, match="pad_value must be a real number"):
        jaxpool.min_pool(jnp.zeros((1, 4)), (2,), channel_axis=None, pad_value="inf")


def test_backward_saves_only_switches_and_has_no_scatter():
    x = example_inputs((2, 8, 8, 4), seed=5)

    def loss(x):
        return jaxpool.min_pool(x, (3, 3), (2, 2), "SAME").sum()

    assert scatter_ops(jax.jit(jax.grad(loss)), x) == []
    residuals = saved_residual_lines(loss, x)
    # One residual, the int8 switches: nothing input-sized.
    assert len(residuals) == 1 and residuals[0].startswith("i8[2,4,4,4]"), residuals
    # Forward mode in "jvp" mode: the tangent at the switches.
    tangent = example_inputs(x.shape, seed=6)

    def pool(x):
        return jaxpool.min_pool(x, (2, 2), (2, 2), autodiff="jvp")

    _, out_tangent = jax.jvp(pool, (x,), (tangent,))
    _, switches = jaxpool.min_pool_with_argmin(x, (2, 2), (2, 2))
    blocks = np.asarray(tangent).reshape(2, 4, 2, 4, 2, 4).transpose(0, 1, 3, 5, 2, 4)
    picked = np.take_along_axis(
        blocks.reshape(2, 4, 4, 4, 4), np.asarray(switches, np.int64)[..., None], -1
    )[..., 0]
    np.testing.assert_array_equal(out_tangent, picked)


@pytest.mark.parametrize("backend", ["cpu", "cuda", "tpu"])
def test_each_backends_values_only_min_keeps_the_rules(backend):
    # The values-only min of each backend's plan (one reduce_window of a
    # NaN-keeping min on a GPU or TPU), run here: NaN, infinities, +inf
    # padding, a competing pad value, integers and bool.
    from jaxpool import _strategy
    from jaxpool._geometry import pool_geometry

    rng = np.random.default_rng(7)
    specials = np.asarray([0.0, -0.0, 1.0, 1.0, -np.inf, np.inf, np.nan, 2.0], np.float32)
    x = rng.choice(specials, size=(2, 3, 9, 8))
    for window, strides, padding in [((2, 2), (2, 2), "VALID"), ((3, 3), (2, 2), "SAME")]:
        expected = brute_force_min(x, window, strides, padding)[0]
        geometry = pool_geometry(
            x.shape,
            x.dtype,
            window,
            strides,
            padding,
            channel_axis=1,
            pad_value=np.inf,
            reverse_order=True,
        ).with_backend(backend)
        values = jax.jit(lambda x, g=geometry: _strategy.pool(x, g)[0])(x)
        np.testing.assert_array_equal(values, expected)
    # A pad value that competes, and integer and bool inputs.
    # (bool's +inf padding is True, which never beats an element.)
    for dtype, pad_value, written in [
        (np.float32, 0.5, 0.5),
        (np.int8, 3, 3),
        (np.bool_, np.inf, True),
    ]:
        y = rng.integers(-2, 6, size=(1, 2, 7)).astype(dtype)
        geometry = pool_geometry(
            y.shape,
            y.dtype,
            (3,),
            (2,),
            ((1, 1),),
            channel_axis=1,
            pad_value=pad_value,
            reverse_order=True,
        )
        reference = jax.lax.reduce_window(
            jnp.pad(jnp.asarray(y), ((0, 0), (0, 0), (1, 1)), constant_values=written),
            {np.int8: np.int8(127), np.bool_: np.bool_(True)}.get(dtype, np.float32(np.inf)),
            jax.lax.min,
            (1, 1, 3),
            (1, 1, 2),
            "VALID",
        )
        routed = geometry.with_backend(backend)
        actual = jax.jit(lambda y, g=routed: _strategy.pool(y, g)[0])(y)
        np.testing.assert_array_equal(actual, reference)
