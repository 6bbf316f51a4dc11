"""Tests for jaxpool.equinox against equinox.nn.MaxPool1d/2d/3d."""

from __future__ import annotations

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from jax import lax
from layer_cases import assert_averages_like
from layer_cases import assert_import_names_the_extra
from layer_cases import assert_pools_like
from layer_cases import distinct_inputs
from references import output_size

eqx = pytest.importorskip("equinox")

import jaxpool  # noqa: E402
import jaxpool.equinox  # noqa: E402

# (kernel_size, stride, padding, use_ceil) on a (3, 9, 10) input; the ceil
# cases are ones where Equinox's rule adds padding.
GRID = [
    (2, 2, 0, False),
    (3, 2, 1, False),
    (2, 2, 0, True),  # 9 rows: one more window, half in the padding
    (3, 2, 1, True),  # 10 columns: likewise
    ((2, 3), (1, 2), ((1, 0), (0, 1)), True),
    (3, 1, (1, 0), False),
    ((3, 2), (3, 2), 0, True),
]


def _batched(pool):
    return jax.vmap(pool)


class AgainstEquinoxTest(chex.TestCase):
    # Eager runs cost seconds each: the whole grid jitted, one case eagerly.
    @chex.variants(with_jit=True)
    @parameterized.parameters(*GRID)
    def test_values_and_gradients_equal_equinox_max_pool_2d(
        self, kernel_size, stride, padding, use_ceil
    ):
        overlap = np.any(np.less(stride, kernel_size))
        assert_pools_like(
            self.variant,
            _batched(jaxpool.equinox.MaxPool2d(kernel_size, stride, padding, use_ceil)),
            _batched(eqx.nn.MaxPool2d(kernel_size, stride, padding, use_ceil)),
            distinct_inputs((2, 3, 9, 10)),
            overlap=overlap,
        )

    @chex.variants(without_jit=True)
    def test_values_and_gradients_equal_equinox_max_pool_2d_eagerly(self):
        assert_pools_like(
            self.variant,
            jaxpool.equinox.MaxPool2d(2, 2, use_ceil=True),
            eqx.nn.MaxPool2d(2, 2, use_ceil=True),
            distinct_inputs((3, 5, 6)),
            overlap=False,
        )

    @chex.variants(with_jit=True)
    @parameterized.parameters(
        (jaxpool.equinox.MaxPool1d, eqx.nn.MaxPool1d, (2, 3, 11)),
        (jaxpool.equinox.MaxPool3d, eqx.nn.MaxPool3d, (2, 2, 5, 4, 5)),
    )
    def test_one_and_three_spatial_axes(self, layer, reference, shape):
        assert_pools_like(
            self.variant,
            _batched(layer(3, 2, 1, use_ceil=True)),
            _batched(reference(3, 2, 1, use_ceil=True)),
            distinct_inputs(shape),
            overlap=True,
        )

    def test_general_max_pool_equals_equinox_pool_with_max(self):
        layer = jaxpool.equinox.MaxPool(2, (2, 3), (2, 1), ((0, 1), (1, 1)))
        reference = eqx.nn.Pool(-jnp.inf, lax.max, 2, (2, 3), (2, 1), ((0, 1), (1, 1)))
        x = distinct_inputs((3, 7, 6))
        assert_pools_like(jax.jit, layer, reference, x, overlap=True)


def test_use_ceil_is_equinox_rule_not_pytorch_ceil_mode():
    # 1-D, length 6, window 2, stride 3: the windows [0, 1] and [3, 4] leave
    # one element, so Equinox's rule adds stride=3 high padding, more than
    # the window, and refuses. PyTorch's ceil_mode would start a third window
    # at 6, in the padding, and drop it: two windows, as without ceil mode.
    x = jnp.array([[1.0, 5.0, 2.0, 6.0, 3.0, 4.0]])
    layer = jaxpool.equinox.MaxPool1d(2, 3, use_ceil=True)
    with pytest.raises(ValueError, match=r"padding \(0, 3\).*window \(2\)"):
        layer(x)
    with pytest.raises(RuntimeError, match="Padding"):
        eqx.nn.MaxPool1d(2, 3, use_ceil=True)(x)
    pytorch_like = jaxpool.max_pool(x, (2,), 3, ceil_mode=True, channel_axis=0)
    np.testing.assert_array_equal(pytorch_like, [[5.0, 6.0]])
    # Length 7: Equinox pads 2 (window 2, stride 2) where PyTorch pads 1; the
    # same three windows [1, 5], [2, 6], [3, pad].
    x = jnp.array([[1.0, 5.0, 2.0, 6.0, 3.0, 4.0, 0.5]])
    expected = [[5.0, 6.0, 4.0, 0.5]]
    np.testing.assert_array_equal(jaxpool.equinox.MaxPool1d(2, 2, use_ceil=True)(x), expected)
    np.testing.assert_array_equal(eqx.nn.MaxPool1d(2, 2, use_ceil=True)(x), expected)
    pytorch_like = jaxpool.max_pool(x, (2,), 2, ceil_mode=True, channel_axis=0)
    np.testing.assert_array_equal(pytorch_like, expected)


def test_use_ceil_gives_equinox_shapes_and_pytorch_counts_within_pytorch_padding():
    for length, kernel, stride in itertools.product(range(3, 9), range(1, 4), range(1, 4)):
        for padding in range(kernel // 2 + 1):
            x = jax.ShapeDtypeStruct((1, length), jnp.float32)
            reference = eqx.nn.MaxPool1d(kernel, stride, padding, use_ceil=True)
            layer = jaxpool.equinox.MaxPool1d(kernel, stride, padding, use_ceil=True)
            try:
                expected = jax.eval_shape(reference, x).shape
            except RuntimeError:
                with pytest.raises(ValueError, match="padding"):
                    jax.eval_shape(layer, x)
                continue
            assert jax.eval_shape(layer, x).shape == expected
            torch_size = output_size(length, kernel, stride, 1, padding, padding, True)
            assert expected == (1, torch_size)


def test_windows_in_the_padding_as_equinox():
    # Padding 2 = the window: the first and last windows hold padding only.
    x = jnp.array([[3.0, 1.0]])
    layer, reference = jaxpool.equinox.MaxPool1d(2, 2, 2), eqx.nn.MaxPool1d(2, 2, 2)
    np.testing.assert_array_equal(layer(x), [[-np.inf, 3.0, -np.inf]])
    np.testing.assert_array_equal(layer(x), reference(x))
    grad = jax.grad(lambda x: jnp.sum(jnp.where(jnp.isinf(layer(x)), 0.0, layer(x))))(x)
    np.testing.assert_array_equal(grad, [[1.0, 0.0]])


def test_filter_jit_and_filter_grad_in_a_model():
    x = distinct_inputs((2, 2, 8, 8))
    keys = jax.random.split(jax.random.key(0), 2)

    def model(pool):
        return eqx.nn.Sequential(
            [eqx.nn.Conv2d(2, 3, 3, key=keys[0]), pool, eqx.nn.Lambda(jnp.ravel)]
        )

    @eqx.filter_jit
    @eqx.filter_grad
    def grads(model, x):
        return jnp.sum(jax.vmap(model)(x) ** 2)

    ours = grads(model(jaxpool.equinox.MaxPool2d(2, 2)), x)
    theirs = grads(model(eqx.nn.MaxPool2d(2, 2)), x)
    # The convolution's gradients; the pooling layers have no arrays.
    chex.assert_trees_all_equal(ours.layers[0], theirs.layers[0])


def test_return_switches_and_window_dilation_hand_worked():
    # Window 2 with dilation 2 reads x[i] and x[i + 2].
    x = jnp.array([[4.0, 0.0, 1.0, 5.0, 2.0]])
    layer = jaxpool.equinox.MaxPool1d(2, 1, window_dilation=2, return_switches=True)
    values, switches = layer(x)
    # Windows (4, 1), (0, 5), (1, 2): maxima 4 at position 0, 5 and 2 at 1.
    np.testing.assert_array_equal(values, [[4.0, 5.0, 2.0]])
    np.testing.assert_array_equal(switches, [[0, 1, 1]])
    grad = jax.grad(lambda x: jnp.sum(layer(x)[0]))(x)
    np.testing.assert_array_equal(grad, [[1.0, 0.0, 0.0, 1.0, 1.0]])


def test_key_is_accepted_and_ignored():
    x = distinct_inputs((1, 4))
    layer = jaxpool.equinox.MaxPool1d(2)
    np.testing.assert_array_equal(layer(x, key=jax.random.key(1)), layer(x))


@pytest.mark.parametrize(
    "args, kwargs, error, pattern",
    [
        ((2, (2, 2, 2)), {}, ValueError, r"kernel_size.*\(2, 2, 2\)"),
        ((2, 0), {}, ValueError, "window_shape.*0"),
        ((2, 2, 0), {}, ValueError, "strides.*0"),
        ((2, 2, 2, -1), {}, ValueError, "padding"),
        ((2, 2, 2, 3), {}, ValueError, r"padding \(3, 3\).*window \(2\)"),
        ((2, 2), {"use_ceil": "yes"}, TypeError, "use_ceil.*'yes'"),
        ((2, 2), {"window_dilation": 0}, ValueError, "window_dilation.*0"),
        ((2, 2), {"return_switches": None}, TypeError, "return_switches.*None"),
        ((0, 2), {}, ValueError, "num_spatial_dims.*0"),
    ],
)
def test_bad_settings_fail_when_the_layer_is_built(args, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        jaxpool.equinox.MaxPool(*args, **kwargs)


def test_batched_input_is_refused_with_its_shape_and_told_to_vmap():
    batch = jnp.zeros((2, 3, 4, 4))
    for layer in (
        jaxpool.equinox.MaxPool2d(2),
        jaxpool.equinox.AvgPool2d(2),
        jaxpool.equinox.AdaptiveMaxPool2d(1),
        jaxpool.equinox.AdaptiveAvgPool2d(1),
    ):
        with pytest.raises(
            ValueError,
            match=r"\(channels, dim_1, dim_2\); got shape \(2, 3, 4, 4\)\. Equinox layers take "
            r"one unbatched example; for a batch, map the layer over it: jax\.vmap\(layer\)\(x\)",
        ):
            layer(batch)
    # A wrong rank that is not a batch gets the shape alone.
    with pytest.raises(ValueError, match=r"got shape \(4,\)$"):
        jaxpool.equinox.MaxPool2d(2)(jnp.zeros(4))


def test_missing_equinox_names_the_extra(monkeypatch):
    assert_import_names_the_extra(monkeypatch, "jaxpool.equinox", ["equinox"], "equinox")


def test_adaptive_max_pool_equals_equinox_where_windows_agree_and_pytorch_where_not():
    x = distinct_inputs((3, 12, 10))
    # 12 -> 4 and 10 -> 5 divide evenly (and 1 is global): Equinox's windows
    # are PyTorch's, so values and gradients agree.
    for target in ((4, 5), 1):
        ours = jaxpool.equinox.AdaptiveMaxPool2d(target)
        theirs = eqx.nn.AdaptiveMaxPool2d(target)
        np.testing.assert_array_equal(jax.jit(ours)(x), jax.jit(theirs)(x))
        np.testing.assert_array_equal(
            jax.jit(jax.grad(lambda x, p=ours: (p(x) ** 2).sum()))(x),
            jax.jit(jax.grad(lambda x, p=theirs: (p(x) ** 2).sum()))(x),
        )
    # 10 -> 4: Equinox takes disjoint windows of 3, 3, 2, 2; PyTorch's
    # (floor(i*10/4) to ceil((i+1)*10/4)) are [0,3), [2,5), [5,8), [7,10).
    row = jnp.asarray([0.0, 1.0, 9.0, 2.0, 3.0, 4.0, 5.0, 8.0, 6.0, 7.0]).reshape(1, 10)
    np.testing.assert_array_equal(jaxpool.equinox.AdaptiveMaxPool1d(4)(row), [[9.0, 9.0, 8.0, 8.0]])
    np.testing.assert_array_equal(eqx.nn.AdaptiveMaxPool1d(4)(row), [[9.0, 4.0, 8.0, 7.0]])


def test_max_unpool_puts_values_at_the_switches_under_vmap():
    x = jnp.asarray([[[3.0, 1.0, 4.0, 1.0], [5.0, 9.0, 2.0, 6.0]]])
    pool = jaxpool.equinox.MaxPool2d(2, 2, return_switches=True)
    unpool = jaxpool.equinox.MaxUnpool2d(2, 2)
    batch = jnp.stack([x, -x])

    @eqx.filter_jit
    def round_trip(batch):
        values, switches = jax.vmap(pool)(batch)
        return jax.vmap(lambda v, s: unpool(v, s, x.shape[1:]))(values, switches)

    unpooled = round_trip(batch)
    np.testing.assert_array_equal(unpooled[0, 0], [[0.0, 0.0, 0.0, 0.0], [0.0, 9.0, 0.0, 6.0]])
    np.testing.assert_array_equal(unpooled[1, 0], [[0.0, -1.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]])


def test_bad_adaptive_and_unpool_settings_fail_when_built():
    with pytest.raises(
        ValueError, match=r"target_shape must be an int or 2 entries; got \(2, 2, 2\)"
    ):
        jaxpool.equinox.AdaptiveMaxPool2d((2, 2, 2))
    with pytest.raises(ValueError, match="output_shape entries must be positive"):
        jaxpool.equinox.AdaptiveMaxPool1d(0)
    with pytest.raises(ValueError, match=r"combine.*'mean'"):
        jaxpool.equinox.MaxUnpool2d(2, 2, combine="mean")


class AvgPoolAgainstEquinoxTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters(
        (2, 2, 0, False), (3, 2, 1, True), (3, 1, (1, 2), False), (3, 2, ((0, 1), (1, 0)), True)
    )
    def test_values_and_gradients_equal_equinox_avg_pool_2d(self, kernel, stride, padding, ceil):
        assert_averages_like(
            self.variant,
            _batched(jaxpool.equinox.AvgPool2d(kernel, stride, padding, ceil)),
            _batched(eqx.nn.AvgPool2d(kernel, stride, padding, ceil)),
            distinct_inputs((2, 3, 9, 8)),
        )

    @chex.variants(with_jit=True)
    @parameterized.parameters(
        (jaxpool.equinox.AvgPool1d, eqx.nn.AvgPool1d, (2, 3, 11)),
        (jaxpool.equinox.AvgPool3d, eqx.nn.AvgPool3d, (1, 2, 5, 6, 7)),
    )
    def test_one_and_three_spatial_axes(self, layer, reference, shape):
        assert_averages_like(
            self.variant,
            _batched(layer(3, 2, 1, use_ceil=True)),
            _batched(reference(3, 2, 1, use_ceil=True)),
            distinct_inputs(shape),
        )


def test_use_ceil_average_divides_by_the_full_window_unlike_pytorch_ceil_mode():
    # 5 elements, windows of 2, stride 2, use_ceil: Equinox pads one element
    # and divides the last window (5 alone) by 2; PyTorch's ceil_mode by 1.
    x = jnp.arange(1.0, 6.0).reshape(1, 5)
    np.testing.assert_array_equal(
        jaxpool.equinox.AvgPool1d(2, 2, use_ceil=True)(x), [[1.5, 3.5, 2.5]]
    )
    np.testing.assert_array_equal(eqx.nn.AvgPool1d(2, 2, use_ceil=True)(x), [[1.5, 3.5, 2.5]])
    np.testing.assert_array_equal(
        jaxpool.avg_pool(x, (2,), 2, ceil_mode=True, channel_axis=0), [[1.5, 3.5, 5.0]]
    )


def test_adaptive_avg_pool_equals_equinox_where_windows_agree_and_pytorch_where_not():
    x = distinct_inputs((3, 12, 10))
    for target in ((4, 5), 1):
        assert_averages_like(
            jax.jit,
            jaxpool.equinox.AdaptiveAvgPool2d(target),
            eqx.nn.AdaptiveAvgPool2d(target),
            x,
        )
    # 10 -> 4: Equinox's disjoint windows 3, 3, 2, 2; PyTorch's [0,3), [2,5), [5,8), [7,10).
    row = jnp.arange(10.0).reshape(1, 10)
    np.testing.assert_allclose(
        jaxpool.equinox.AdaptiveAvgPool1d(4)(row), [[1.0, 3.0, 6.0, 8.0]], rtol=1e-6
    )
    np.testing.assert_allclose(eqx.nn.AdaptiveAvgPool1d(4)(row), [[1.0, 4.0, 6.5, 8.5]], rtol=1e-6)
    x3 = distinct_inputs((2, 4, 6, 8))
    np.testing.assert_allclose(
        jaxpool.equinox.AdaptiveAvgPool3d((2, 3, 4))(x3),
        eqx.nn.AdaptiveAvgPool3d((2, 3, 4))(x3),
        rtol=1e-6,
    )


def test_bad_average_settings_fail_when_built():
    with pytest.raises(ValueError, match="larger than the window"):
        jaxpool.equinox.AvgPool2d(2, 1, 3)
    with pytest.raises(TypeError, match="use_ceil must be a bool"):
        jaxpool.equinox.AvgPool1d(2, use_ceil=None)
    with pytest.raises(ValueError, match="target_shape must be an int or 3 entries"):
        jaxpool.equinox.AdaptiveAvgPool3d((2, 2))
