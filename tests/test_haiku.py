"""Tests for jaxpool.haiku against haiku.max_pool and haiku.MaxPool."""

from __future__ import annotations

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from layer_cases import assert_averages_like
from layer_cases import assert_differences_from_framework
from layer_cases import assert_framework_case
from layer_cases import assert_import_names_the_extra
from layer_cases import assert_pools_like
from layer_cases import distinct_inputs

hk = pytest.importorskip("haiku")

import jaxpool.haiku  # noqa: E402

# Haiku warns that an int size is read from the unbatched shape under vmap.
pytestmark = pytest.mark.filterwarnings("ignore:When running under vmap:DeprecationWarning")

# (window_shape, strides, padding, channel_axis) on an NHWC input, in every
# spelling Haiku reads: ints, shorter tuples (trailing axes), full rank.
GRID = [
    (2, 2, "VALID", -1),  # (1, 2, 2, 1): the usual 2x2 pooling
    (3, 2, "SAME", -1),
    ((3, 3, 1), (2, 2, 1), "SAME", -1),  # Haiku's advice for vmap
    ((1, 3, 3, 1), (1, 2, 1, 1), "VALID", -1),
    ((2, 2), (1, 2), "VALID", -1),  # the trailing axes: W and C
    (2, 1, "SAME", None),  # no channel axis: C is pooled too
    (2, 2, "VALID", 0),  # Haiku reads channel_axis=0 as no channel axis
    (3, (1, 1, 2, 2), "SAME", 1),  # channels first: (1, 1, 3, 3)
    ((2, 1, 1, 2), (2, 1, 1, 2), "VALID", -1),  # the batch and channel axes
    ((1, 1, 1, 1), (1, 1, 1, 1), "SAME", -1),  # nothing pooled
]


def _overlap(window_shape, strides):
    windows = np.broadcast_to(window_shape, (4,)) if np.ndim(window_shape) == 0 else window_shape
    steps = np.broadcast_to(strides, (len(windows),)) if np.ndim(strides) == 0 else strides
    return any(s < w for w, s in zip(windows[::-1], steps[::-1]))


class AgainstHaikuTest(chex.TestCase):
    # Eager runs cost seconds each: the whole grid jitted, one case eagerly.
    @chex.variants(with_jit=True)
    @parameterized.parameters(*GRID)
    def test_values_and_gradients_equal_haiku_max_pool(
        self, window_shape, strides, padding, channel_axis
    ):
        assert_pools_like(
            self.variant,
            lambda x: jaxpool.haiku.max_pool(x, window_shape, strides, padding, channel_axis),
            lambda x: hk.max_pool(x, window_shape, strides, padding, channel_axis),
            distinct_inputs((2, 6, 7, 3)),
            overlap=_overlap(window_shape, strides),
        )

    @chex.variants(without_jit=True)
    def test_values_and_gradients_equal_haiku_max_pool_eagerly(self):
        assert_pools_like(
            self.variant,
            lambda x: jaxpool.haiku.max_pool(x, 2, 2, "VALID"),
            lambda x: hk.max_pool(x, 2, 2, "VALID"),
            distinct_inputs((2, 6, 6, 3)),
            overlap=False,
        )

    @parameterized.parameters((1, (3,)), (3, (2, 3, 2, 2)))
    def test_other_ranks(self, ndim, shape):
        window_shape, strides = (2,) * ndim, (1,) * ndim
        x = distinct_inputs(shape)
        assert_pools_like(
            jax.jit,
            lambda x: jaxpool.haiku.max_pool(x, window_shape, strides, "SAME"),
            lambda x: hk.max_pool(x, window_shape, strides, "SAME"),
            x,
            overlap=True,
        )


def _net(pool):
    def forward(x):
        x = jax.nn.relu(hk.Conv2D(4, 3)(x))
        x = pool(x)
        return hk.Linear(3)(x.reshape(x.shape[0], -1))

    return hk.without_apply_rng(hk.transform(forward))


def test_module_in_a_network_loss_and_parameter_gradients_equal_haiku():
    x = distinct_inputs((2, 7, 7, 2))
    model = _net(lambda x: jaxpool.haiku.MaxPool(3, 2, "SAME")(x))
    reference = _net(lambda x: hk.MaxPool(3, 2, "SAME")(x))
    params = jax.jit(model.init)(jax.random.key(0), x)
    reference_params = jax.eval_shape(reference.init, jax.random.key(0), x)
    chex.assert_trees_all_equal_structs(params, reference_params)

    def loss(net, params):
        return jnp.sum(net.apply(params, x) ** 2)

    loss_value, grads = jax.jit(jax.value_and_grad(lambda p: loss(model, p)))(params)
    expected_loss, expected = jax.jit(jax.value_and_grad(lambda p: loss(reference, p)))(params)
    np.testing.assert_allclose(loss_value, expected_loss, rtol=1e-6)
    chex.assert_trees_all_close(grads, expected, rtol=1e-5, atol=1e-6)


def test_module_name_and_vmap_with_an_unbatched_window():
    def forward(x):
        pool = jaxpool.haiku.MaxPool((2, 2, 1), (2, 2, 1), "VALID", name="pool")
        assert pool.module_name == "pool"
        return jax.vmap(pool)(x)

    x = distinct_inputs((2, 4, 6, 3))
    out = hk.transform(forward).apply({}, None, x)
    np.testing.assert_array_equal(out, hk.max_pool(x, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"))


@pytest.mark.parametrize(
    "args, error, pattern",
    [
        ((2, 2, "same"), ValueError, "padding.*'same'"),
        ((2, 2, (1, 1)), ValueError, r"padding.*\(1, 1\)"),
        ((0, 2, "VALID"), ValueError, "window_shape.*0"),
        ((2, (1, -1), "VALID"), ValueError, r"strides.*\(1, -1\)"),
        ((2.0, 2, "VALID"), TypeError, "window_shape.*2.0"),
        ((2, None, "VALID"), TypeError, "strides.*None"),
    ],
)
def test_bad_settings(args, error, pattern):
    x = distinct_inputs((1, 4, 4, 1))
    with pytest.raises(error, match=pattern):
        jaxpool.haiku.max_pool(x, *args)
    with pytest.raises(error, match=pattern):
        hk.transform(lambda x: jaxpool.haiku.MaxPool(*args)(x)).init(None, x)


def test_sizes_longer_than_the_rank_and_bad_channel_axis():
    x = distinct_inputs((4, 4, 1))
    with pytest.raises(ValueError, match=r"window_shape=\(1, 2, 2, 1\).*3"):
        jaxpool.haiku.max_pool(x, (1, 2, 2, 1), 1, "VALID")
    # As in Haiku, an int size checks channel_axis against the rank.
    for channel_axis in (5, -3):
        with pytest.raises(ValueError, match=f"channel_axis={channel_axis}"):
            jaxpool.haiku.max_pool(x, 2, 1, "VALID", channel_axis=channel_axis)
        with pytest.raises(ValueError, match=f"channel axis {channel_axis}"):
            hk.max_pool(x, 2, 1, "VALID", channel_axis=channel_axis)


def test_missing_haiku_names_the_extra(monkeypatch):
    assert_import_names_the_extra(monkeypatch, "jaxpool.haiku", ["haiku"], "haiku")


class AvgPoolAgainstHaikuTest(chex.TestCase):
    # Haiku's SAME divisor counts only input elements: the grid's SAME cases check it.
    @chex.variants(with_jit=True)
    @parameterized.parameters(*GRID[:4], GRID[7])
    def test_values_and_gradients_equal_haiku_avg_pool(
        self, window_shape, strides, padding, channel_axis
    ):
        assert_averages_like(
            self.variant,
            lambda x: jaxpool.haiku.avg_pool(x, window_shape, strides, padding, channel_axis),
            lambda x: hk.avg_pool(x, window_shape, strides, padding, channel_axis),
            distinct_inputs((2, 6, 7, 3)),
        )

    @chex.variants(without_jit=True)
    def test_avg_pool_module_eagerly(self):
        def forward(x):
            return jaxpool.haiku.AvgPool(3, 2, "SAME")(x)

        def reference(x):
            return hk.AvgPool(3, 2, "SAME")(x)

        pool = hk.without_apply_rng(hk.transform(forward))
        theirs = hk.without_apply_rng(hk.transform(reference))
        assert_averages_like(
            self.variant,
            lambda x: pool.apply({}, x),
            lambda x: theirs.apply({}, x),
            distinct_inputs((2, 6, 7, 3)),
        )


def test_avg_pool_bad_padding():
    with pytest.raises(ValueError, match="padding must be 'SAME' or 'VALID'"):
        jaxpool.haiku.avg_pool(jnp.zeros((1, 4, 4, 1)), 2, 2, "FULL")


# Cases from Haiku's own tests: haiku/_src/pool_test.py, MaxPoolTest and
# AvgPoolTest, with their inputs, settings and hand-given answers. Haiku's
# inputs are NumPy arrays broadcast from a column of arange(6) over
# (batch, 10, 6, 2) ("column"), the same with two leading axes
# ("unbatched"), arange(12) as (6, 2) ("pairs"), and (2, 3, 6) arrays:
# arange(6) along the last axis for max pooling, ones for average pooling.
def _broadcast(values, row_shape, shape):
    return np.broadcast_to(np.asarray(values, np.float32).reshape(row_shape), shape)


HAIKU_INPUTS = {
    "column": _broadcast(np.arange(6), (6, 1), (2, 10, 6, 2)),
    "unbatched": _broadcast(np.arange(6), (6, 1), (2, 3, 10, 6, 2)),
    "pairs": _broadcast(np.arange(12), (6, 2), (2, 10, 6, 2)),
    "row": _broadcast(np.arange(6), (6,), (2, 3, 6)),
    "ones": np.ones((2, 3, 6)),
}
# (name, call, settings, max input and answer, average input and answer,
# and Haiku's tolerance where it has one).
# The same-padding tests assert the shape, and the average's equality with
# its constant input; the max's values, by hand: windows of 3 over arange(6),
# padded by one on each side, end at min(i + 1, 5).
_COLUMN = dict(window_shape=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
_UNBATCHED = dict(window_shape=[2, 2, 1], strides=[2, 2, 1], padding="VALID")
_SAME = dict(window_shape=[1, 3, 3], strides=[1, 1, 1], padding="SAME")
_INFERRED_SAME = dict(window_shape=3, strides=1, padding="SAME", channel_axis=None)
_MAX_SAME = ("row", _broadcast([1, 2, 3, 4, 5, 5], (6,), (2, 3, 6)))
_AVG_SAME = ("ones", np.ones((2, 3, 6)))
HAIKU_CASES = [
    (
        "basic",
        "function",
        _COLUMN,
        ("column", _broadcast([1, 3, 5], (3, 1), (2, 5, 3, 2))),
        ("column", _broadcast([0.5, 2.5, 4.5], (3, 1), (2, 5, 3, 2))),
    ),
    (
        "unbatched",
        "function",
        _UNBATCHED,
        ("unbatched", _broadcast([1, 3, 5], (3, 1), (2, 3, 5, 3, 2))),
        ("unbatched", _broadcast([0.5, 2.5, 4.5], (3, 1), (2, 3, 5, 3, 2))),
    ),
    (
        "unbatched_vmapped",
        "vmapped",
        _UNBATCHED,
        ("unbatched", _broadcast([1, 3, 5], (3, 1), (2, 3, 5, 3, 2))),
        ("unbatched", _broadcast([0.5, 2.5, 4.5], (3, 1), (2, 3, 5, 3, 2))),
    ),
    (
        "overlapping_windows",
        "function",
        dict(window_shape=[1, 5, 3, 2], strides=[1, 1, 3, 2], padding="VALID"),
        ("pairs", _broadcast([5, 11], (2, 1), (2, 6, 2, 1))),
        # Haiku's assert_almost_equal(..., decimal=5): 2.5 is 75 / 30, which
        # XLA computes as 75 * (1 / 30).
        ("pairs", _broadcast([2.5, 8.5], (2, 1), (2, 6, 2, 1)), 1.5e-5),
    ),
    ("same_padding", "function", _SAME, _MAX_SAME, _AVG_SAME),
    ("same_padding_class", "module", _SAME, _MAX_SAME, _AVG_SAME),
    (
        "basic_with_inferred_shapes",
        "function",
        dict(window_shape=2, strides=2, padding="VALID"),
        ("column", _broadcast([1, 3, 5], (3, 1), (2, 5, 3, 2))),
        ("column", _broadcast([0.5, 2.5, 4.5], (3, 1), (2, 5, 3, 2))),
    ),
    ("same_padding_with_inferred_shapes", "function", _INFERRED_SAME, _MAX_SAME, _AVG_SAME),
    ("same_padding_class_with_inferred_shapes", "module", _INFERRED_SAME, _MAX_SAME, _AVG_SAME),
]


def _haiku_case_pools(kind, call, settings):
    """jaxpool.haiku's and Haiku's pooling of ``kind``, called as the Haiku
    test calls it: the function, the module in a transform, or the function
    mapped twice over the leading axes."""

    def pool(module):
        if call == "module":
            layer = getattr(module, {"max": "MaxPool", "avg": "AvgPool"}[kind])
            forward = hk.without_apply_rng(hk.transform(lambda x: layer(**settings)(x)))
            return lambda x: forward.apply({}, x)
        function = functools.partial(getattr(module, f"{kind}_pool"), **settings)
        return jax.vmap(jax.vmap(function)) if call == "vmapped" else function

    return pool(jaxpool.haiku), pool(hk)


class HaikuOwnTestCasesTest(chex.TestCase):
    """jaxpool.haiku on the cases of Haiku's pool_test.py (the test each case
    is named after, test_max_pool_* and test_avg_pool_*): Haiku's values,
    shape and dtype bit for bit, and the answer the Haiku test asserts.
    Eagerly, as Haiku runs them (the grids above are jitted)."""

    @chex.variants(without_jit=True)
    @parameterized.named_parameters(
        (f"{kind}_pool_{name}", kind, call, settings, case[0] if kind == "max" else case[1])
        for name, call, settings, *case in HAIKU_CASES
        for kind in ("max", "avg")
    )
    def test_case(self, kind, call, settings, case):
        inputs, answer, *atol = case
        ours, theirs = _haiku_case_pools(kind, call, settings)
        assert_framework_case(
            self.variant, ours, theirs, HAIKU_INPUTS[inputs], answer, atol=sum(atol)
        )

    @chex.variants(without_jit=True)
    @parameterized.parameters("max", "avg")
    def test_batch_vs_vmap(self, kind):
        # test_max_pool_batch_vs_vmap, test_avg_pool_batch_vs_vmap: a random
        # batch pooled whole equals the batch pooled one example at a time.
        # Normal samples from NumPy (jax.random's cost seconds of compiling).
        batch = jnp.asarray(np.random.default_rng(42).normal(size=(8, 28, 28, 3)), jnp.float32)
        settings = dict(window_shape=(4, 4, 1), strides=(2, 2, 1), padding="VALID")
        ours, theirs = _haiku_case_pools(kind, "function", settings)
        expected = jax.vmap(theirs)(batch)
        assert_framework_case(self.variant, ours, theirs, batch, expected)
        np.testing.assert_array_equal(self.variant(jax.vmap(ours))(batch), expected)


def test_differences_from_haiku():
    # The differences docs/layers.md lists, on 1-D signals (a window of one
    # entry per axis pools the only axis).
    def pools(kind, window, stride, padding):
        settings = dict(window_shape=(window,), strides=(stride,), padding=padding)
        return tuple(
            functools.partial(getattr(module, f"{kind}_pool"), **settings)
            for module in (jaxpool.haiku, hk)
        )

    assert_differences_from_framework(pools)
