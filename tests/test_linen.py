"""Tests for jaxpool.linen.MaxPool against flax.linen.max_pool."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from jax import lax
from layer_cases import FLAX_POOL_TEST_CASES
from layer_cases import assert_averages_like
from layer_cases import assert_flax_case
from layer_cases import assert_flax_differences
from layer_cases import assert_import_names_the_extra
from layer_cases import assert_pools_like
from layer_cases import distinct_inputs

nn = pytest.importorskip("flax.linen")
pooling = pytest.importorskip("flax.linen.pooling")
serialization = pytest.importorskip("flax.serialization")

import jaxpool.linen  # noqa: E402

# (window_shape, strides, padding): disjoint, overlapping, strided, padded.
GRID = [
    ((2, 2), (2, 2), "VALID"),
    ((3, 3), (2, 2), "SAME"),
    ((3, 3), None, "VALID"),
    ((2, 3), (2, 1), ((1, 0), (1, 1))),
    ((3, 2), (3, 2), "SAME"),
    ((1, 3), (1, 2), "VALID"),
]


def _overlap(window_shape, strides):
    return any(s < w for w, s in zip(window_shape, strides or (1,) * len(window_shape)))


class AgainstFlaxTest(chex.TestCase):
    # Eager runs cost seconds each: the whole grid jitted, one case eagerly.
    @chex.variants(with_jit=True)
    @parameterized.parameters(*GRID)
    def test_values_and_gradients_equal_flax_max_pool(self, window_shape, strides, padding):
        layer = jaxpool.linen.MaxPool(window_shape, strides, padding)
        x = distinct_inputs((2, 7, 6, 3))
        assert_pools_like(
            self.variant,
            lambda x: layer.apply({}, x),
            lambda x: nn.max_pool(x, window_shape, strides, padding),
            x,
            overlap=_overlap(window_shape, strides),
        )

    @chex.variants(without_jit=True)
    def test_values_and_gradients_equal_flax_max_pool_eagerly(self):
        layer = jaxpool.linen.MaxPool((2, 2), (2, 2))
        assert_pools_like(
            self.variant,
            lambda x: layer.apply({}, x),
            lambda x: nn.max_pool(x, (2, 2), (2, 2)),
            distinct_inputs((2, 6, 6, 3)),
            overlap=False,
        )

    @parameterized.parameters((2,), (3,))
    def test_one_and_three_spatial_axes_and_no_batch_axis(self, d):
        window_shape, strides = (2,) * d, (2,) + (1,) * (d - 1)
        layer = jaxpool.linen.MaxPool(window_shape, strides, "SAME")
        for shape in [(2, *(5,) * d, 3), ((5,) * d + (3,))]:
            x = distinct_inputs(shape)
            assert_pools_like(
                jax.jit,
                lambda x: layer.apply({}, x),
                lambda x: nn.max_pool(x, window_shape, strides, "SAME"),
                x,
                overlap=True,
            )


class CNN(nn.Module):
    pool: nn.Module

    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Conv(4, (3, 3))(x))
        x = self.pool(x)
        return nn.Dense(3)(x.reshape(x.shape[0], -1))


class FlaxPool(nn.Module):
    """Flax's own pooling as a Module, the reference in models."""

    @nn.compact
    def __call__(self, x):
        return nn.max_pool(x, (2, 2), (2, 2), "SAME")


def _loss(model, params, x):
    return jnp.sum(model.apply(params, x) ** 2)


def test_in_a_compact_model_loss_and_parameter_gradients_equal_flax():
    x = distinct_inputs((2, 7, 7, 2))
    model = CNN(jaxpool.linen.MaxPool((2, 2), (2, 2), "SAME"))
    reference = CNN(FlaxPool())
    params = jax.jit(model.init)(jax.random.key(0), x)
    # The pooling adds no variables: the two models share one parameter tree.
    reference_params = jax.eval_shape(reference.init, jax.random.key(0), x)
    assert jax.tree.structure(params) == jax.tree.structure(reference_params)
    loss, grads = jax.jit(jax.value_and_grad(lambda p: _loss(model, p, x)))(params)
    expected_loss, expected = jax.jit(jax.value_and_grad(lambda p: _loss(reference, p, x)))(params)
    np.testing.assert_array_equal(loss, expected_loss)
    chex.assert_trees_all_equal(grads, expected)
    # Serialises with the model, and restores to the same outputs.
    restored = serialization.from_bytes(params, serialization.to_bytes(params))
    apply = jax.jit(model.apply)
    np.testing.assert_array_equal(apply(restored, x), apply(params, x))


def test_has_no_variables():
    x = distinct_inputs((1, 4, 4, 1))
    assert jaxpool.linen.MaxPool((2, 2)).init(jax.random.key(0), x) == {}


def test_in_sequential():
    x = distinct_inputs((2, 8, 8, 3))
    model = nn.Sequential([jaxpool.linen.MaxPool((2, 2), (2, 2)), nn.relu])
    np.testing.assert_array_equal(
        model.apply({}, x), nn.relu(nn.max_pool(x, (2, 2), (2, 2), "VALID"))
    )


def test_under_remat_gradient_equals_flax():
    x = distinct_inputs((2, 6, 6, 2))
    layer = nn.remat(jaxpool.linen.MaxPool)((3, 3), (1, 1), "SAME")
    grad = jax.jit(jax.grad(lambda x: jnp.sum(layer.apply({}, x) ** 2)))(x)
    expected = jax.jit(jax.grad(lambda x: jnp.sum(nn.max_pool(x, (3, 3), (1, 1), "SAME") ** 2)))(x)
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


class PoolEachStep(nn.Module):
    @nn.compact
    def __call__(self, carry, x):
        return carry + 1, jaxpool.linen.MaxPool((2, 2), (2, 2))(x)


def test_under_scan_pools_each_slice():
    xs = distinct_inputs((3, 2, 4, 4, 2))
    scanned = nn.scan(PoolEachStep, variable_broadcast="params", in_axes=0, out_axes=0)()
    count, ys = scanned.apply({}, 0, xs)
    assert count == 3
    np.testing.assert_array_equal(ys, jax.vmap(lambda x: nn.max_pool(x, (2, 2), (2, 2)))(xs))


def test_return_switches():
    x = jnp.array([[3.0, 1.0, 4.0, 1.0], [5.0, 9.0, 2.0, 6.0]]).reshape(1, 2, 4, 1)
    values, switches = jaxpool.linen.MaxPool((2, 2), (2, 2), return_switches=True).apply({}, x)
    # Window 0 holds 3, 1 / 5, 9: the max is at (1, 1), row-major 3; window 1
    # holds 4, 1 / 2, 6: at (1, 1) too.
    np.testing.assert_array_equal(values[0, 0, :, 0], [9.0, 6.0])
    np.testing.assert_array_equal(switches[0, 0, :, 0], [3, 3])


def test_dilation_padding_value_and_layout_pass_through():
    x = distinct_inputs((1, 3, 7, 7))  # NCHW
    layer = jaxpool.linen.MaxPool((2, 2), 2, 1, window_dilation=2, channel_axis=1, pad_value=0.0)
    padded = lax.pad(x, 0.0, [(0, 0, 0), (0, 0, 0), (1, 1, 0), (1, 1, 0)])
    expected = lax.reduce_window(
        padded, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID", None, (1, 1, 2, 2)
    )
    np.testing.assert_array_equal(jax.jit(layer.apply)({}, x), expected)


@pytest.mark.parametrize(
    "settings, error, pattern",
    [
        (dict(window_shape=3), TypeError, r"window_shape.*\(3, 3\).*got 3"),
        (dict(window_shape=(0, 2)), ValueError, r"window_shape.*\(0, 2\)"),
        (dict(window_shape=(2, 2), strides=(1, 2, 3)), ValueError, r"strides.*\(1, 2, 3\)"),
        (dict(window_shape=(2, 2), padding="FULL"), ValueError, "padding.*'FULL'"),
        (dict(window_shape=(2, 2), ceil_mode="yes"), TypeError, "ceil_mode.*'yes'"),
        (dict(window_shape=(2, 2), channel_axis=-2), ValueError, "channel_axis=-2"),
        (dict(window_shape=(2, 2), autodiff="fwd"), ValueError, "autodiff.*'fwd'"),
        (dict(window_shape=(2, 2), return_switches=1), TypeError, "return_switches.*1"),
    ],
)
def test_bad_settings_fail_when_the_module_is_built(settings, error, pattern):
    with pytest.raises(error, match=pattern):
        jaxpool.linen.MaxPool(**settings)


def test_missing_flax_names_the_extra(monkeypatch):
    assert_import_names_the_extra(monkeypatch, "jaxpool.linen", ["flax"], "flax")


def test_adaptive_max_pool_and_max_unpool_hand_worked():
    # 5 columns into 2 windows: [0, 3) and [2, 5), overlapping on column 2.
    x = jnp.array([[1.0, 6.0, 9.0, 2.0, 4.0], [8.0, 0.0, 3.0, 7.0, 5.0]]).reshape(1, 2, 5, 1)
    adaptive = jaxpool.linen.AdaptiveMaxPool((1, 2), return_switches=True)
    values, switches = jax.jit(lambda x: adaptive.apply({}, x))(x)
    np.testing.assert_array_equal(values[0, :, :, 0], [[9.0, 9.0]])
    # Offsets over the largest window (2 x 3): row * 3 + column.
    np.testing.assert_array_equal(switches[0, :, :, 0], [[2, 0]])
    pool = jaxpool.linen.MaxPool((2, 2), (2, 2), return_switches=True)
    pooled, pool_switches = pool.apply({}, x[:, :, :4])
    unpool = jaxpool.linen.MaxUnpool((2, 2), (2, 2))
    unpooled = jax.jit(lambda v, s: unpool.apply({}, v, s, (1, 2, 4, 1)))(pooled, pool_switches)
    np.testing.assert_array_equal(
        unpooled[0, :, :, 0], [[0.0, 0.0, 9.0, 0.0], [8.0, 0.0, 0.0, 0.0]]
    )


@pytest.mark.parametrize(
    "layer, settings, error, pattern",
    [
        ("AdaptiveMaxPool", dict(output_shape=(0, 2)), ValueError, r"positive.*\(0, 2\)"),
        ("AdaptiveMaxPool", dict(output_shape=(2, 2), autodiff="x"), ValueError, "autodiff"),
        ("MaxUnpool", dict(window_shape=(2, 2), combine="mean"), ValueError, "combine.*'mean'"),
        ("MaxUnpool", dict(window_shape=(2, -2)), ValueError, r"window_shape.*\(2, -2\)"),
    ],
)
def test_bad_adaptive_and_unpool_settings_fail_when_built(layer, settings, error, pattern):
    with pytest.raises(error, match=pattern):
        getattr(jaxpool.linen, layer)(**settings)


class AverageAndMinAgainstFlaxTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.product(
        case=[
            ((2, 2), (2, 2), "VALID"),
            ((3, 3), (2, 1), "SAME"),
            ((2, 3), (1, 2), ((1, 0), (1, 1))),
        ],
        count_include_pad=[True, False],
    )
    def test_avg_pool_equals_flax_avg_pool(self, case, count_include_pad):
        window_shape, strides, padding = case
        layer = jaxpool.linen.AvgPool(
            window_shape, strides, padding, count_include_pad=count_include_pad
        )
        assert_averages_like(
            self.variant,
            lambda x: layer.apply({}, x),
            lambda x: nn.avg_pool(x, window_shape, strides, padding, count_include_pad),
            distinct_inputs((2, 7, 6, 3)),
        )

    @chex.variants(with_jit=True, without_jit=True)
    def test_min_pool_equals_reduce_window_min(self):
        layer = jaxpool.linen.MinPool((3, 3), (2, 2), "SAME")
        assert_pools_like(
            self.variant,
            lambda x: layer.apply({}, x),
            lambda x: lax.reduce_window(
                x, jnp.inf, lax.min, (1, 3, 3, 1), (1, 2, 2, 1), ((0, 0), (1, 1), (1, 1), (0, 0))
            ),
            distinct_inputs((2, 7, 7, 3)),
            overlap=True,
        )


def test_family_in_a_compact_model_and_hand_worked():
    class Net(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = jaxpool.linen.AvgPool((3, 3), (2, 2), 1, ceil_mode=True, count_include_pad=False)(x)
            x = jaxpool.linen.MinPool((2, 2), (2, 2))(x)
            x = jaxpool.linen.AdaptiveAvgPool((1, 1))(x).reshape(x.shape[0], -1)
            return nn.Dense(4)(x)

    x = distinct_inputs((2, 9, 9, 3))
    params = Net().init(jax.random.key(0), x)
    out = jax.jit(Net().apply)(params, x)
    assert out.shape == (2, 4)
    grads = jax.grad(lambda p: Net().apply(p, x).sum())(params)
    assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))
    y = jnp.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(
        jaxpool.linen.AdaptiveAvgPool((2, None)).apply({}, y)[0, ..., 0],
        [[2.0, 3.0, 4.0, 5.0], [10.0, 11.0, 12.0, 13.0]],
    )
    values, switches = jaxpool.linen.MinPool((2, 2), (2, 2), return_switches=True).apply({}, -y)
    np.testing.assert_array_equal(values[0, ..., 0], [[-5.0, -7.0], [-13.0, -15.0]])
    np.testing.assert_array_equal(switches[0, ..., 0], [[3, 3], [3, 3]])


@pytest.mark.parametrize(
    "layer, settings, error, pattern",
    [
        (
            "AvgPool",
            {"window_shape": (2, 2), "divisor_override": 0},
            ValueError,
            "divisor_override=0",
        ),
        ("AvgPool", {"window_shape": 2}, TypeError, "window_shape must be a tuple"),
        ("AvgPool", {"window_shape": (2,), "count_include_pad": 1}, TypeError, "count_include_pad"),
        ("AdaptiveAvgPool", {"output_shape": (0, 2)}, ValueError, "output_shape entries"),
        ("MinPool", {"window_shape": (2, 2), "strides": 0}, ValueError, "strides entries"),
    ],
)
def test_bad_family_settings_fail_when_built(layer, settings, error, pattern):
    with pytest.raises(error, match=pattern):
        getattr(jaxpool.linen, layer)(**settings)


_LAYERS = {
    "max": jaxpool.linen.MaxPool,
    "min": jaxpool.linen.MinPool,
    "avg": jaxpool.linen.AvgPool,
}


def _layer(kind, *args, **settings):
    """jaxpool.linen's layer of ``kind`` as a function, built when called."""
    return lambda x: _LAYERS[kind](*args, **settings).apply({}, x)


class FlaxOwnTestCasesTest(chex.TestCase):
    """jaxpool.linen's layers on the cases of Flax's PoolTest (flax
    tests/linen/linen_test.py; the test each case is named after) against
    flax.linen.pooling's functions: Flax's values, shape and dtype bit for
    bit, and the answers, gradients included, that the Flax test gives by
    hand. Eagerly, as Flax runs them (the grids above are jitted)."""

    @chex.variants(without_jit=True)
    @parameterized.named_parameters(*FLAX_POOL_TEST_CASES)
    def test_case(self, kind, settings, x, answer, gradient):
        assert_flax_case(self.variant, _layer, pooling, kind, settings, x, answer, gradient)


def test_differences_from_flax():
    # flax.linen.pooling has min_pool too (flax.linen does not export it).
    assert_flax_differences(_layer, pooling)
