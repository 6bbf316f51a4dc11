"""Tests for jaxpool.equinox against equinox.nn.MaxPool1d/2d/3d."""

from __future__ import annotations

import contextlib
import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from jax import lax
from layer_cases import arange_input
from layer_cases import assert_averages_like
from layer_cases import assert_differences_from_framework
from layer_cases import assert_framework_case
from layer_cases import assert_import_names_the_extra
from layer_cases import assert_pools_like
from layer_cases import assert_values_and_gradient
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


class CNN(eqx.Module):
    """The network of Equinox's test_poolnetworkbackprop (tests/test_nn.py),
    with the pooling layer given."""

    conv_layer: list
    linear_layers: list

    def __init__(self, pool, key):
        key1, key2, key3 = jax.random.split(key, 3)
        self.conv_layer = [eqx.nn.Conv2d(3, 2, 3, key=key1), pool]
        self.linear_layers = [
            eqx.nn.Linear(450, 256, key=key2),
            eqx.nn.Linear(256, 10, key=key3),
        ]

    def __call__(self, x):
        for layer in self.conv_layer:
            x = layer(x)
        x = jnp.ravel(x)
        for layer in self.linear_layers:
            x = jax.nn.relu(layer(x))
        return x


def test_poolnetworkbackprop_and_filter_grad_equal_equinox():
    # Equinox's test_poolnetworkbackprop: its CNN's loss and gradient with
    # respect to the input (a batch of 2, not 10, and the loss averaged over
    # it), here with the gradients with respect to the model too, under
    # eqx.filter_jit. The windows are disjoint, so every gradient takes the
    # same path; XLA fuses the two networks differently, so the sums may
    # round apart (1 ulp seen).
    x = distinct_inputs((2, 3, 32, 32))
    y = distinct_inputs((2, 10), seed=1)
    # Equinox's CNN with uniform weights drawn by NumPy (Equinox's
    # initialisers cost seconds of compiling, eagerly); then the same
    # weights with jaxpool's pooling.
    rng = np.random.default_rng(2)
    reference = jax.tree.map(
        lambda leaf: (
            jnp.asarray(rng.uniform(-0.1, 0.1, leaf.shape), leaf.dtype)
            if isinstance(leaf, jax.ShapeDtypeStruct)
            else leaf
        ),
        eqx.filter_eval_shape(CNN, eqx.nn.MaxPool2d(2, 2), jax.random.key(0)),
    )
    model = eqx.tree_at(lambda cnn: cnn.conv_layer[1], reference, jaxpool.equinox.MaxPool2d(2, 2))

    @eqx.filter_jit
    @eqx.filter_value_and_grad
    def loss_and_grads(model_and_x):
        cnn, x = model_and_x
        return jnp.mean((y - jax.vmap(cnn)(x)) ** 2)

    loss, (model_grads, input_grads) = loss_and_grads((model, x))
    expected_loss, expected = loss_and_grads((reference, x))
    expected_model_grads, expected_input_grads = expected
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-6)
    np.testing.assert_allclose(input_grads, expected_input_grads, rtol=1e-5, atol=1e-8)
    # The pooling layers hold no arrays; the convolution and linear layers'.
    chex.assert_trees_all_close(
        (model_grads.conv_layer[0], model_grads.linear_layers),
        (expected_model_grads.conv_layer[0], expected_model_grads.linear_layers),
        rtol=1e-5,
        atol=1e-7,
    )
    assert loss > 0 and np.any(input_grads != 0)


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


# Cases from Equinox's own tests: equinox tests/test_nn.py, test_maxpool1d to
# test_poolnetworkbackprop, with their inputs, settings and hand-given
# answers: (name, layer, args, kwargs, input dtype and shape, answer). The
# inputs are jnp.arange, int where Equinox's are (its max and average pooling
# take ints). Equinox's conftest runs its tests with strict dtype promotion
# and rank promotion raising; so do these.
_INT, _FLOAT = "int32", "float32"
# test_poolpadding asserts the shape (1, 4, 4, 4) alone; the values, by hand:
# the windows of arange end at their last element, so output (i, j, k) is
# x[min(i + 1, 3), min(j + 1, 3), min(k + 1, 3)].
_LAST_OF_WINDOWS = np.arange(64.0).reshape(1, 4, 4, 4)[np.ix_([0], *[[1, 2, 3, 3]] * 3)]
EQUINOX_CASES = [
    ("maxpool1d", "MaxPool1d", (2, 3), {}, _INT, (1, 14), [[1, 4, 7, 10, 13]]),
    (
        "maxpool1d_use_ceil",
        "MaxPool1d",
        (),
        dict(kernel_size=3, stride=3, padding=0, use_ceil=True),
        _INT,
        (1, 14),
        [[2, 5, 8, 11, 13]],
    ),
    ("avgpool1d", "AvgPool1d", (2, 3), {}, _INT, (1, 14), [[0.5, 3.5, 6.5, 9.5, 12.5]]),
    ("maxpool2d", "MaxPool2d", (2, (3, 2)), {}, _INT, (1, 6, 6), [[[7, 9, 11], [25, 27, 29]]]),
    (
        "maxpool2d_use_ceil",
        "MaxPool2d",
        ((3, 3), 2, (1, 1)),
        dict(use_ceil=True),
        _INT,
        (1, 6, 6),
        [[[7, 9, 11, 11], [19, 21, 23, 23], [31, 33, 35, 35], [31, 33, 35, 35]]],
    ),
    (
        "avgpool2d",
        "AvgPool2d",
        ((1, 3), 2),
        {},
        _INT,
        (1, 6, 6),
        [[[1.0, 3.0], [13.0, 15.0], [25.0, 27.0]]],
    ),
    (
        "maxpool3d",
        "MaxPool3d",
        (2, (3, 2, 1)),
        {},
        _FLOAT,
        (1, 4, 4, 4),
        [[[[21.0, 22.0, 23.0], [29.0, 30.0, 31.0]]]],
    ),
    (
        "maxpool3d_use_ceil",
        "MaxPool3d",
        (),
        dict(kernel_size=3, padding=(0, 1, 1), stride=2, use_ceil=True),
        _FLOAT,
        (1, 4, 4, 4),
        [
            [
                [[37.0, 39.0, 39.0], [45.0, 47.0, 47.0], [45.0, 47.0, 47.0]],
                [[53.0, 55.0, 55.0], [61.0, 63.0, 63.0], [61.0, 63.0, 63.0]],
            ]
        ],
    ),
    (
        "avgpool3d",
        "AvgPool3d",
        ((1, 3, 1), 2),
        {},
        _FLOAT,
        (1, 4, 4, 4),
        [[[[4.0, 6.0]], [[36.0, 38.0]]]],
    ),
    ("poolpadding", "MaxPool3d", (2, 1, ((0, 1),) * 3), {}, _FLOAT, (1, 4, 4, 4), _LAST_OF_WINDOWS),
    # Adaptive cases in which jaxpool's (PyTorch's) windows give Equinox's
    # answer: on arange the windows' maxima agree though the windows do not
    # ((3, 4) to (2, 3): PyTorch's rows [0, 2) and [1, 3), Equinox's [0, 2)
    # and [2, 3), both ending at rows 1 and 2).
    (
        "adaptive_maxpool2d",
        "AdaptiveMaxPool2d",
        ((2, 3),),
        {},
        _FLOAT,
        (1, 3, 4),
        [[[5.0, 6.0, 7.0], [9.0, 10.0, 11.0]]],
    ),
    (
        "adaptive_maxpool3d",
        "AdaptiveMaxPool3d",
        ((2, 1, 3),),
        {},
        _FLOAT,
        (1, 3, 2, 3),
        [[[[9.0, 10.0, 11.0]], [[15.0, 16.0, 17.0]]]],
    ),
]
# The second half of each test_adaptive_*: the input's own shape, an identity.
EQUINOX_IDENTITIES = [
    (f"{layer.lower()}{len(shape) - 1}d_identity", layer, shape)
    for layer, shape in itertools.product(
        [f"Adaptive{kind}Pool" for kind in ("Max", "Avg")], [(1, 14), (1, 3, 4), (1, 3, 2, 3)]
    )
]

# The adaptive cases where the windows differ by design: Equinox's answer,
# which its own layer gives, and PyTorch's, worked out from its windows
# floor(i * L / n) <= j < ceil((i + 1) * L / n).
EQUINOX_ADAPTIVE_DIFFERENCES = [
    # 14 -> 4: PyTorch's [0, 4), [3, 7), [7, 11), [10, 14); Equinox's
    # [0, 4), [4, 8), [8, 11), [11, 14).
    dict(
        testcase_name="adaptive_avgpool1d",
        layer="AdaptiveAvgPool1d",
        target=4,
        shape=(1, 14),
        equinox_answer=[[1.5, 5.5, 9.0, 12.0]],
        pytorch_answer=[[1.5, 4.5, 8.5, 11.5]],
    ),
    dict(
        testcase_name="adaptive_maxpool1d",
        layer="AdaptiveMaxPool1d",
        target=4,
        shape=(1, 14),
        equinox_answer=[[3.0, 7.0, 10.0, 13.0]],
        pytorch_answer=[[3.0, 6.0, 10.0, 13.0]],
    ),
    # (3, 4) -> (2, 3) of x[r, c] = 4r + c: PyTorch's rows [0, 2) and [1, 3)
    # (means 2 and 6), columns [0, 2), [1, 3), [2, 4) (0.5, 1.5, 2.5).
    dict(
        testcase_name="adaptive_avgpool2d",
        layer="AdaptiveAvgPool2d",
        target=(2, 3),
        shape=(1, 3, 4),
        equinox_answer=[[[2.5, 4.0, 5.0], [8.5, 10.0, 11.0]]],
        pytorch_answer=[[[2.5, 3.5, 4.5], [6.5, 7.5, 8.5]]],
    ),
    # (3, 2, 3) -> (2, 1, 3) of 6a + 3b + c: PyTorch's a in [0, 2) and
    # [1, 3) (means 3 and 9), b in [0, 2) (1.5).
    dict(
        testcase_name="adaptive_avgpool3d",
        layer="AdaptiveAvgPool3d",
        target=(2, 1, 3),
        shape=(1, 3, 2, 3),
        equinox_answer=[[[[4.5, 5.5, 6.5]], [[13.5, 14.5, 15.5]]]],
        pytorch_answer=[[[[4.5, 5.5, 6.5]], [[10.5, 11.5, 12.5]]]],
    ),
]


class UnderEquinoxSettings(chex.TestCase):
    """Runs its tests as Equinox's conftest runs Equinox's: strict dtype
    promotion, rank promotion raising."""

    def setUp(self):
        super().setUp()
        settings = contextlib.ExitStack()
        settings.enter_context(jax.numpy_dtype_promotion("strict"))
        settings.enter_context(jax.numpy_rank_promotion("raise"))
        self.addCleanup(settings.close)


class EquinoxOwnTestCasesTest(UnderEquinoxSettings):
    """jaxpool.equinox's layers on the cases of Equinox's tests/test_nn.py
    (the test each case is named after): Equinox's own layer's values, shape
    and dtype bit for bit, and the answer the Equinox test asserts. Jitted,
    as the grids above (the eager runs cost as much again, for the same
    answers)."""

    @chex.variants(with_jit=True)
    @parameterized.named_parameters(*EQUINOX_CASES)
    def test_case(self, layer, args, kwargs, dtype, shape, answer):
        assert_framework_case(
            self.variant,
            getattr(jaxpool.equinox, layer)(*args, **kwargs),
            getattr(eqx.nn, layer)(*args, **kwargs),
            arange_input(shape, dtype),
            answer,
        )

    @chex.variants(with_jit=True)
    @parameterized.named_parameters(*EQUINOX_IDENTITIES)
    def test_adaptive_to_the_input_shape_is_the_identity(self, layer, shape):
        layer = f"{layer}{len(shape) - 1}d"
        x = arange_input(shape)
        assert_framework_case(
            self.variant,
            getattr(jaxpool.equinox, layer)(shape[1:]),
            getattr(eqx.nn, layer)(shape[1:]),
            x,
            x,
        )

    @chex.variants(with_jit=True)
    @parameterized.named_parameters(*EQUINOX_ADAPTIVE_DIFFERENCES)
    def test_adaptive_windows_are_pytorch_not_equinox(
        self, layer, target, shape, equinox_answer, pytorch_answer
    ):
        x = arange_input(shape)
        ours = self.variant(getattr(jaxpool.equinox, layer)(target))(x)
        theirs = getattr(eqx.nn, layer)(target)(x)
        assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype)
        np.testing.assert_array_equal(theirs, equinox_answer)
        np.testing.assert_array_equal(ours, pytorch_answer)

    @chex.variants(with_jit=True)
    def test_poolbackprop(self):
        # Equinox checks that value_and_grad runs. By hand: each window's max
        # is its last element, x[min(i + 1, 3), ...], so along an axis the
        # elements 0 to 3 are chosen by 0, 1, 1 and 2 windows, and the mean of
        # 64 outputs gives each choice 1/64.
        x = arange_input((1, 4, 4, 4))
        settings = ((2, 2, 2), (1, 1, 1), ((0, 1), (0, 1), (0, 1)))
        counts = np.array([0.0, 1.0, 1.0, 2.0])
        gradient = np.einsum("i,j,k->ijk", counts, counts, counts)[None] / 64
        assert_framework_case(
            self.variant,
            jaxpool.equinox.MaxPool3d(*settings),
            eqx.nn.MaxPool3d(*settings),
            x,
            _LAST_OF_WINDOWS,
            gradient=gradient,
            loss=jnp.mean,
        )


def _on_one_channel(pool):
    return lambda x: pool(x[None])[0]


class DifferencesFromEquinoxTest(UnderEquinoxSettings):
    """Where jaxpool.equinox gives other answers than Equinox on what Equinox
    accepts, each as the module docstring and docs/layers.md say."""

    def test_rules_and_averages(self):
        def pools(kind, window, stride, padding):
            # 1-D signals as one channel; "SAME" is (window - 1) // 2 padding
            # for the odd windows and stride 1 used.
            name = {"max": "MaxPool1d", "avg": "AvgPool1d"}[kind]
            settings = (window, stride, 0 if padding == "VALID" else (window - 1) // 2)
            return tuple(
                _on_one_channel(getattr(module, name)(*settings))
                for module in (jaxpool.equinox, eqx.nn)
            )

        assert_differences_from_framework(pools)
        # Equinox's adaptive average (jnp.mean) sums 16-bit floats in float32 too.
        x = jnp.array([[2048.0, 1.0, 1.0, 1.0]], jnp.float16)
        np.testing.assert_array_equal(jaxpool.equinox.AdaptiveAvgPool1d(1)(x), [[513.0]])
        np.testing.assert_array_equal(eqx.nn.AdaptiveAvgPool1d(1)(x), [[513.0]])

    def test_adaptive_max_gradient_of_ties_and_nan(self):
        # Equinox's adaptive max is jnp.max, whose gradient splits between
        # tied maxima and sends nothing to a NaN (jitted, zeros; eagerly,
        # NaN); jaxpool's goes to the first maximum, or the first NaN.
        ours, theirs = jaxpool.equinox.AdaptiveMaxPool1d(1), eqx.nn.AdaptiveMaxPool1d(1)
        x = jnp.array([[1.0, 3.0, 3.0]])
        assert_values_and_gradient(ours, x, [[3.0]], [[0.0, 1.0, 0.0]])
        assert_values_and_gradient(theirs, x, [[3.0]], [[0.0, 0.5, 0.5]])
        x = jnp.array([[1.0, jnp.nan, 3.0]])
        assert_values_and_gradient(ours, x, [[jnp.nan]], [[0.0, 1.0, 0.0]])
        assert_values_and_gradient(theirs, x, [[jnp.nan]], [[jnp.nan] * 3])
        gradient = jax.jit(jax.grad(lambda x: jnp.sum(theirs(x))))(x)
        np.testing.assert_array_equal(gradient, [[0.0, 0.0, 0.0]])

    def test_settings_equinox_reads_and_jaxpool_refuses(self):
        x = jnp.array([[3.0, 1.0, 4.0, 1.0, 5.0, 9.0]])
        # Negative padding: Equinox's forward pass crops the input.
        np.testing.assert_array_equal(eqx.nn.MaxPool1d(2, 1, -1)(x), [[4.0, 4.0, 5.0]])
        with pytest.raises(ValueError, match="padding must be non-negative"):
            jaxpool.equinox.MaxPool1d(2, 1, -1)
