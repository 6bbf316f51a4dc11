"""Tests for jaxpool.nnx.MaxPool against flax.nnx.max_pool."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from layer_cases import FLAX_POOL_TEST_CASES
from layer_cases import assert_averages_like
from layer_cases import assert_flax_case
from layer_cases import assert_flax_differences
from layer_cases import assert_import_names_the_extra
from layer_cases import assert_pools_like
from layer_cases import distinct_inputs

nnx = pytest.importorskip("flax.nnx")

import jaxpool.nnx  # noqa: E402

# (window_shape, strides, padding): disjoint, overlapping, padded pairs.
GRID = [
    ((2, 2), (2, 2), "VALID"),
    ((3, 3), (2, 2), "SAME"),
    ((2, 3), (1, 3), ((1, 1), (0, 2))),
    ((3, 1), None, "SAME"),
]


class AgainstNnxTest(chex.TestCase):
    # Eager runs cost seconds each: the whole grid jitted, one case eagerly.
    @chex.variants(with_jit=True)
    @parameterized.parameters(*GRID)
    def test_values_and_gradients_equal_nnx_max_pool(self, window_shape, strides, padding):
        layer = jaxpool.nnx.MaxPool(window_shape, strides, padding)
        assert_pools_like(
            self.variant,
            layer,
            lambda x: nnx.max_pool(x, window_shape, strides, padding),
            distinct_inputs((2, 6, 7, 3)),
            overlap=window_shape != strides,
        )

    @chex.variants(without_jit=True)
    def test_values_and_gradients_equal_nnx_max_pool_eagerly(self):
        assert_pools_like(
            self.variant,
            jaxpool.nnx.MaxPool((2, 2), (2, 2)),
            lambda x: nnx.max_pool(x, (2, 2), (2, 2)),
            distinct_inputs((2, 6, 6, 3)),
            overlap=False,
        )


class CNN(nnx.Module):
    def __init__(self, pool, rngs):
        self.conv = nnx.Conv(2, 4, (3, 3), rngs=rngs)
        self.pool = pool
        self.head = nnx.Linear(4 * 4 * 4, 3, rngs=rngs)

    def __call__(self, x):
        x = self.pool(nnx.relu(self.conv(x)))
        return self.head(x.reshape(x.shape[0], -1))


def _loss(model, x):
    return jnp.sum(model(x) ** 2)


def test_under_nnx_jit_and_grad_loss_and_gradients_equal_flax():
    x = distinct_inputs((2, 7, 7, 2))
    model = CNN(jaxpool.nnx.MaxPool((2, 2), (2, 2), "SAME"), nnx.Rngs(0))
    reference = CNN(lambda x: nnx.max_pool(x, (2, 2), (2, 2), "SAME"), nnx.Rngs(0))
    loss, grads = nnx.jit(nnx.value_and_grad(_loss))(model, x)
    expected_loss, expected = nnx.jit(nnx.value_and_grad(_loss))(reference, x)
    np.testing.assert_array_equal(loss, expected_loss)
    chex.assert_trees_all_equal(nnx.to_pure_dict(grads), nnx.to_pure_dict(expected))


def test_has_no_state_and_splits_and_merges():
    layer = jaxpool.nnx.MaxPool([2, 3], [2, 3], return_switches=True)
    graphdef, state = nnx.split(layer)
    assert nnx.to_pure_dict(state) == {}
    merged = nnx.merge(graphdef, state)
    # Lists were stored as tuples, which hash.
    assert merged.window_shape == (2, 3) and merged.strides == (2, 3)
    x = distinct_inputs((1, 4, 6, 1))
    chex.assert_trees_all_equal(merged(x), layer(x))


def test_in_sequential():
    x = distinct_inputs((2, 8, 8, 3))
    model = nnx.Sequential(jaxpool.nnx.MaxPool((2, 2), (2, 2)), nnx.relu)
    np.testing.assert_array_equal(model(x), nnx.relu(nnx.max_pool(x, (2, 2), (2, 2))))


def test_under_nnx_scan_pools_each_slice():
    xs = distinct_inputs((3, 2, 4, 4, 2))

    @nnx.scan(in_axes=(None, nnx.Carry, 0), out_axes=(nnx.Carry, 0))
    def pool_each(layer, count, x):
        return count + 1, layer(x)

    count, ys = pool_each(jaxpool.nnx.MaxPool((2, 2), (2, 2)), 0, xs)
    assert count == 3
    np.testing.assert_array_equal(ys, jax.vmap(lambda x: nnx.max_pool(x, (2, 2), (2, 2)))(xs))


def test_return_switches_hand_worked():
    x = jnp.array([[1.0, 7.0, 2.0], [8.0, 0.0, 9.0]]).reshape(1, 2, 3, 1)
    values, switches = jaxpool.nnx.MaxPool((2, 2), (1, 1), return_switches=True)(x)
    # Windows [[1, 7], [8, 0]] (max 8 at (1, 0): 2) and [[7, 2], [0, 9]]
    # (max 9 at (1, 1): 3).
    np.testing.assert_array_equal(values[0, 0, :, 0], [8.0, 9.0])
    np.testing.assert_array_equal(switches[0, 0, :, 0], [2, 3])


def test_jvp_mode_gives_forward_mode():
    x = jnp.array([[1.0, 7.0, 2.0, 0.0]]).reshape(1, 4, 1)
    layer = jaxpool.nnx.MaxPool((2,), (2,), autodiff="jvp")
    tangent = jnp.array([10.0, 20.0, 30.0, 40.0]).reshape(1, 4, 1)
    _, out_tangent = jax.jvp(layer, (x,), (tangent,))
    # The maxima are 7 (index 1) and 2 (index 2): their tangents pass through.
    np.testing.assert_array_equal(out_tangent[0, :, 0], [20.0, 30.0])


@pytest.mark.parametrize(
    "settings, error, pattern",
    [
        (dict(window_shape=2), TypeError, r"window_shape.*\(2, 2\).*got 2"),
        (dict(window_shape=(2, -1)), ValueError, r"window_shape.*\(2, -1\)"),
        (dict(window_shape=(2, 2), strides=0), ValueError, "strides.*0"),
        (dict(window_shape=(2, 2), padding=((1, 1),)), ValueError, r"padding"),
        (dict(window_shape=(2, 2), window_dilation=(1, 0)), ValueError, "window_dilation"),
        (dict(window_shape=(2, 2), channel_axis="last"), TypeError, "channel_axis.*'last'"),
        (dict(window_shape=(2, 2), autodiff="forward"), ValueError, "autodiff.*'forward'"),
    ],
)
def test_bad_settings_fail_when_the_module_is_built(settings, error, pattern):
    with pytest.raises(error, match=pattern):
        jaxpool.nnx.MaxPool(**settings)


def test_missing_flax_names_the_extra(monkeypatch):
    assert_import_names_the_extra(monkeypatch, "jaxpool.nnx", ["flax"], "flax")


def test_adaptive_max_pool_and_max_unpool_hand_worked():
    # 5 columns into 2 windows: [0, 3) and [2, 5), overlapping on column 2.
    x = jnp.array([[1.0, 6.0, 9.0, 2.0, 4.0], [8.0, 0.0, 3.0, 7.0, 5.0]]).reshape(1, 2, 5, 1)
    adaptive = jaxpool.nnx.AdaptiveMaxPool((1, 2), return_switches=True)
    values, switches = nnx.jit(lambda layer, x: layer(x))(adaptive, x)
    np.testing.assert_array_equal(values[0, :, :, 0], [[9.0, 9.0]])
    np.testing.assert_array_equal(switches[0, :, :, 0], [[2, 0]])
    # Both windows select column 2: its gradient is the sum.
    grad = jax.jit(jax.grad(lambda x: adaptive(x)[0].sum()))(x)
    np.testing.assert_array_equal(grad[0, :, :, 0], [[0, 0, 2, 0, 0], [0, 0, 0, 0, 0]])
    pooled, pool_switches = jaxpool.nnx.MaxPool((2, 2), (2, 2), return_switches=True)(x[:, :, :4])
    unpool = jaxpool.nnx.MaxUnpool((2, 2), (2, 2), combine="max")
    unpooled = nnx.jit(lambda layer, v, s: layer(v, s, (1, 2, 4, 1)))(unpool, pooled, pool_switches)
    np.testing.assert_array_equal(
        unpooled[0, :, :, 0], [[0.0, 0.0, 9.0, 0.0], [8.0, 0.0, 0.0, 0.0]]
    )
    assert not nnx.state(adaptive) and not nnx.state(unpool)


def test_bad_adaptive_and_unpool_settings_fail_when_built():
    with pytest.raises(TypeError, match="output_shape entries must be ints or None"):
        jaxpool.nnx.AdaptiveMaxPool((2, "2"))
    with pytest.raises(ValueError, match=r"combine.*'mean'"):
        jaxpool.nnx.MaxUnpool((2, 2), combine="mean")


class AverageAndMinAgainstNnxTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.product(
        case=[((2, 2), (2, 2), "VALID"), ((3, 3), (2, 1), "SAME")],
        count_include_pad=[True, False],
    )
    def test_avg_pool_equals_nnx_avg_pool(self, case, count_include_pad):
        window_shape, strides, padding = case
        layer = jaxpool.nnx.AvgPool(
            window_shape, strides, padding, count_include_pad=count_include_pad
        )
        assert_averages_like(
            self.variant,
            layer,
            lambda x: nnx.avg_pool(x, window_shape, strides, padding, count_include_pad),
            distinct_inputs((2, 7, 6, 3)),
        )

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters(((2, 2), (2, 2), "VALID"), ((3, 3), (2, 2), "SAME"))
    def test_min_pool_equals_nnx_min_pool(self, window_shape, strides, padding):
        assert_pools_like(
            self.variant,
            jaxpool.nnx.MinPool(window_shape, strides, padding),
            lambda x: nnx.min_pool(x, window_shape, strides, padding),
            distinct_inputs((2, 7, 7, 3)),
            overlap=window_shape != strides,
        )


def test_family_under_nnx_jit_and_grad():
    class Net(nnx.Module):
        def __init__(self, rngs):
            self.avg = jaxpool.nnx.AvgPool((3, 3), (2, 2), 1, ceil_mode=True)
            self.min = jaxpool.nnx.MinPool((2, 2), (2, 2))
            self.head = jaxpool.nnx.AdaptiveAvgPool((1, 1))
            self.linear = nnx.Linear(3, 4, rngs=rngs)

        def __call__(self, x):
            pooled = self.head(self.min(self.avg(x))).reshape(x.shape[0], -1)
            return self.linear(pooled)

    model = Net(nnx.Rngs(0))
    x = distinct_inputs((2, 9, 9, 3))
    grads = nnx.jit(nnx.grad(lambda m, x: m(x).sum()))(model, x)
    assert all(np.isfinite(g).all() for g in jax.tree.leaves(nnx.state(grads)))
    assert nnx.jit(lambda m, x: m(x))(model, x).shape == (2, 4)
    # The pooling layers hold no state.
    assert not jax.tree.leaves(nnx.state(jaxpool.nnx.AvgPool((2, 2))))
    np.testing.assert_array_equal(
        jaxpool.nnx.AdaptiveAvgPool((1,), channel_axis=None)(jnp.arange(4.0)[None]), [[1.5]]
    )


def test_bad_family_settings_fail_when_built():
    with pytest.raises(ValueError, match="divisor_override=0"):
        jaxpool.nnx.AvgPool((2, 2), divisor_override=0)
    with pytest.raises(TypeError, match="count_include_pad must be a bool"):
        jaxpool.nnx.AvgPool((2, 2), count_include_pad="no")
    with pytest.raises(ValueError, match="output_shape entries"):
        jaxpool.nnx.AdaptiveAvgPool((0,))
    with pytest.raises(TypeError, match="pad_value must be a real number"):
        jaxpool.nnx.MinPool((2, 2), pad_value="x")


_LAYERS = {"max": jaxpool.nnx.MaxPool, "min": jaxpool.nnx.MinPool, "avg": jaxpool.nnx.AvgPool}


def _layer(kind, *args, **settings):
    """jaxpool.nnx's layer of ``kind`` as a function, built when called."""
    return lambda x: _LAYERS[kind](*args, **settings)(x)


class FlaxOwnTestCasesTest(chex.TestCase):
    """jaxpool.nnx's layers on the cases of Flax's PoolTest (flax
    tests/linen/linen_test.py; Flax has no NNX pooling tests, and flax.nnx's
    pooling functions are linen's): flax.nnx's values, shape and dtype bit
    for bit, and the answers, gradients included, that the Flax test gives
    by hand. Eagerly, as Flax runs them (the grids above are jitted)."""

    @chex.variants(without_jit=True)
    @parameterized.named_parameters(*FLAX_POOL_TEST_CASES)
    def test_case(self, kind, settings, x, answer, gradient):
        assert_flax_case(self.variant, _layer, nnx, kind, settings, x, answer, gradient)


def test_differences_from_flax():
    assert_flax_differences(_layer, nnx)
