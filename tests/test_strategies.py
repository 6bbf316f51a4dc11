"""Large and global windows, the axis-by-axis strategy, and layouts.

Windows of more than a dozen positions are pooled one spatial axis after
another (disjoint windows by a pairwise tree, long overlapping ones by
doubling, short ones unrolled). These tests hold that strategy to the same
references as the rest of the suite: ``lax.reduce_window`` for values and
gradients, the brute-force loop for the selection rules, and ``jnp.argmax``
for the switches of global windows.
"""

from __future__ import annotations

import dataclasses
import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import parameterized
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from references import brute_force_pool
from references import example_inputs
from references import reduce_window_pool
from references import saved_residual_lines
from references import scatter_ops

import jaxpool
from jaxpool import _pooling
from jaxpool import _positions
from jaxpool import _reduced
from jaxpool import _strategy
from jaxpool._geometry import BACKENDS
from jaxpool._geometry import pool_geometry

MODES = ("vjp", "jvp")


def _cotangent(shape, seed=1):
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.uniform(0.5, 1.5, size=shape), jnp.float32)


def _axis_strategies(x, settings_):
    geometry = pool_geometry(x.shape, x.dtype, **settings_)
    return _strategy.strategy(geometry), tuple(w.strategy for w in geometry.axis_windows())


# name, spatial shape, window, strides, padding, ceil_mode
LARGE_WINDOWS = (
    ("5x5_s1_same", (13, 12), (5, 5), (1, 1), "SAME", False),
    ("7x7_s2_valid", (17, 15), (7, 7), (2, 2), "VALID", False),
    ("11x11_s1_same", (14, 12), (11, 11), (1, 1), "SAME", False),
    ("9x3_s3_ceil", (16, 11), (9, 3), (3, 2), ((2, 1), (1, 0)), True),
    ("14x14_s14", (28, 28), (14, 14), (14, 14), "VALID", False),
    ("global", (12, 10), (12, 10), (1, 1), "VALID", False),
    ("1d_long_s1", (70,), (33,), (1,), "SAME", False),
    ("1d_long_s5", (70,), (20,), (5,), "VALID", True),
    ("3d_5_s1_same", (7, 6, 6), (5, 5, 5), (1, 1, 1), "SAME", False),
    ("3d_mixed", (9, 8, 7), (9, 2, 7), (9, 1, 3), ((0, 0), (1, 0), (2, 2)), False),
)
# Eager runs dispatch op by op and cost many seconds: one case.
EAGER = ("1d_long_s5",)


class LargeWindowsAgainstReduceWindowTest(chex.TestCase):
    """Values exactly, gradients on tie-free input, against reduce_window."""

    @chex.variants(with_jit=True)
    @parameterized.named_parameters(*LARGE_WINDOWS)
    def test_values_and_gradients(self, *case):
        self._check(*case)

    @chex.variants(without_jit=True)
    @parameterized.named_parameters(*(case for case in LARGE_WINDOWS if case[0] in EAGER))
    def test_values_and_gradients_eager(self, *case):
        self._check(*case)

    def _check(self, spatial, window_shape, strides, padding, ceil_mode):
        settings_ = dict(
            window_shape=window_shape, strides=strides, padding=padding, ceil_mode=ceil_mode
        )
        x = example_inputs((2, *spatial, 2))
        self.assertEqual(_axis_strategies(x, settings_)[0], "separable")
        expected = reduce_window_pool(x, **settings_)
        cotangent = _cotangent(expected.shape)
        _, reference_vjp = jax.vjp(lambda x: reduce_window_pool(x, **settings_), x)
        (expected_gradient,) = reference_vjp(cotangent)
        for mode in MODES:
            pool = self.variant(
                lambda x, mode=mode: jaxpool.max_pool(x, **settings_, autodiff=mode)
            )
            values, vjp = jax.vjp(pool, x)
            (gradient,) = vjp(cotangent)
            np.testing.assert_array_equal(values, expected)
            np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)


class LargeWindowRulesTest(chex.TestCase):
    """Ties, NaN, -inf, padding and dilation in large windows, against the
    brute-force loop."""

    def _check(self, x, settings_, mode="vjp"):
        pool = self.variant(lambda x: jaxpool.max_pool_with_argmax(x, **settings_, autodiff=mode))
        (values, switches), vjp = jax.vjp(pool, x)
        cotangent = _cotangent(values.shape)
        (gradient,) = vjp((cotangent, np.zeros(switches.shape, jax.dtypes.float0)))
        expected_values, expected_switches, expected_gradient = brute_force_pool(
            x, **settings_, cotangent=cotangent
        )
        np.testing.assert_array_equal(np.asarray(values, np.float64), expected_values)
        np.testing.assert_array_equal(switches, expected_switches)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)

    @chex.variants(with_jit=True)
    @parameterized.named_parameters(
        ("same_ties", dict(window_shape=(9, 9), strides=(1, 1), padding="SAME")),
        ("stride_3", dict(window_shape=(9, 9), strides=(3, 3), padding=4)),
        ("ceil", dict(window_shape=(9, 9), strides=(2, 4), padding=(2, 3), ceil_mode=True)),
        ("pad_zero", dict(window_shape=(9, 9), strides=(2, 2), padding="SAME", pad_value=0.0)),
        ("wholly_padded", dict(window_shape=(4, 5), strides=(4, 5), padding=((4, 5), (6, 5)))),
        ("dilated", dict(window_shape=(4, 5), strides=(1, 2), padding=2, window_dilation=(2, 1))),
        ("dilated_long", dict(window_shape=(2, 9), padding="SAME", window_dilation=(3, 1))),
    )
    def test_rules(self, settings_):
        x = np.array(example_inputs((2, 12, 12, 2), kind="ties"), np.float32)
        x[0, 3, 4, 0] = x[0, 8, 1, 0] = np.nan  # two NaN in some windows
        x[1, :, :3, 1] = -np.inf  # real -inf beside -inf padding
        x[1, :2, :, 0] = -np.inf
        x = jnp.asarray(x)
        self.assertEqual(_axis_strategies(x, settings_)[0], "separable")
        for mode in MODES:
            self._check(x, settings_, mode)

    @chex.variants(with_jit=True)
    @parameterized.named_parameters(
        ("doubling_1d", dict(window_shape=(13,), strides=(1,), padding="SAME"), ("doubling",)),
        (
            "doubling_dilated",
            dict(window_shape=(13,), strides=(2,), window_dilation=(2,)),
            ("doubling",),
        ),
        ("blocks_padded", dict(window_shape=(13,), strides=(13,), padding=((2, 3),)), ("blocks",)),
        ("blocks_odd", dict(window_shape=(15,), strides=(15,), ceil_mode=True), ("blocks",)),
        ("unrolled_1d", dict(window_shape=(7,), strides=(1,), padding=3), ("positions",)),
    )
    def test_each_axis_strategy(self, settings_, strategies):
        x = np.array(example_inputs((3, 40, 2), kind="ties"), np.float32)
        x[0, 7, 0] = x[0, 9, 0] = np.nan
        x[1, :6, 1] = -np.inf
        x = jnp.asarray(x)
        strategy, axes = _axis_strategies(x, settings_)
        self.assertEqual(axes if strategy == "separable" else (strategy,), strategies)
        self._check(x, settings_)


class GlobalWindowsTest(chex.TestCase):
    """Switches of global windows are jnp.argmax over the flattened window
    (its first occurrence), values jnp.max; the int16 and int32 switch paths
    run for real."""

    @chex.variants(with_jit=True)
    @parameterized.named_parameters(
        ("int8_1d", (100,), np.int8),
        ("int16", (12, 12), np.int16),
        ("int16_3d", (6, 7, 8), np.int16),
        ("int32", (256, 256), np.int32),
    )
    def test_switches_are_first_argmax(self, spatial, dtype):
        x = example_inputs((2, *spatial, 3), kind="ties")
        values, switches = self.variant(
            lambda x: jaxpool.max_pool_with_argmax(x, spatial, spatial)
        )(x)
        self.assertEqual(switches.dtype, dtype)
        flat = x.reshape(2, -1, 3)
        np.testing.assert_array_equal(switches.reshape(2, 3), jnp.argmax(flat, axis=1))
        np.testing.assert_array_equal(values.reshape(2, 3), jnp.max(flat, axis=1))
        np.testing.assert_array_equal(values, reduce_window_pool(x, spatial, spatial))
        # Tie-free input: the gradient equals jnp.max's.
        x = example_inputs((2, *spatial, 3))
        gradient = jax.jit(jax.grad(lambda x: jaxpool.max_pool(x, spatial, spatial).sum()))(x)
        axes = tuple(range(1, 1 + len(spatial)))
        expected = jax.grad(lambda x: jnp.max(x, axis=axes).sum())(x)
        np.testing.assert_array_equal(gradient, expected)

    def test_nan_in_global_window_is_the_first_nan(self):
        x = np.array(example_inputs((1, 20, 20, 2)), np.float32)
        x[0, 5, 7, 0] = x[0, 3, 19, 0] = x[0, 11, 2, 0] = np.nan
        pool = jax.jit(lambda x: jaxpool.max_pool_with_argmax(x, (20, 20), (20, 20)))
        _, switches = pool(jnp.asarray(x))
        # NumPy's argmax returns the first NaN (jnp.argmax on a GPU need not:
        # on an H200 it returned the last of these three).
        np.testing.assert_array_equal(switches.reshape(2), np.argmax(x.reshape(400, 2), axis=0))
        self.assertEqual(int(switches[0, 0, 0, 0]), 3 * 20 + 19)

    def test_int16_window_against_reduce_window(self):
        # 12x12 windows (144 positions) sliding with overlap.
        x = example_inputs((2, 30, 27, 2))
        settings_ = dict(window_shape=(12, 12), strides=(3, 5), padding="SAME")
        values, switches = jax.jit(lambda x: jaxpool.max_pool_with_argmax(x, **settings_))(x)
        self.assertEqual(switches.dtype, np.int16)
        np.testing.assert_array_equal(values, reduce_window_pool(x, **settings_))
        _, expected_switches = brute_force_pool(x, **settings_)
        np.testing.assert_array_equal(switches, expected_switches)


# Windows that are blocks: spatial shape, window, strides, channel axis.
REDUCED_CASES = (
    ("global_2d", (12, 10), (12, 10), (12, 10), -1),
    ("global_stride_1", (12, 10), (12, 10), (1, 1), -1),
    ("point_cloud", (300,), (300,), (300,), -1),
    ("blocks_trailing_dropped", (29, 30), (7, 5), (7, 5), -1),
    ("blocks_channels_first", (28, 16), (14, 4), (14, 4), 1),
    ("rows_global_columns", (16, 48), (4, 48), (4, 1), -1),
    ("blocks_3d", (8, 6, 9), (4, 3, 3), (4, 3, 3), None),
)


class ReducedTest(chex.TestCase):
    """Windows that are blocks, selected by one reduction (the GPU's and the
    TPU's plan for large ones), on NaN, ties, infinities, every dtype kind
    and min pooling, against the brute-force definition."""

    @parameterized.named_parameters(*REDUCED_CASES)
    def test_reduced_keeps_the_rules(self, spatial, window, strides, channel_axis):
        rng = np.random.default_rng(len(spatial) + window[0])
        specials = np.asarray([0.0, -0.0, 1.0, 1.0, -np.inf, np.inf, np.nan, 2.0], np.float32)
        shape = {None: spatial, -1: (2, *spatial, 3), 1: (2, 3, *spatial)}[channel_axis]
        x = rng.choice(specials, size=shape)
        pooling = dict(window_shape=window, strides=strides, channel_axis=channel_axis)
        geometry = pool_geometry(x.shape, x.dtype, **pooling)
        self.assertTrue(_reduced.applies(geometry))
        cotangent = _cotangent(geometry.output_shape, seed=2)
        expected_values, expected_switches, expected_gradient = brute_force_pool(
            x, **pooling, cotangent=np.asarray(cotangent)
        )
        for routed in (geometry.with_strategy("reduced"), geometry.with_backend("cuda")):
            self.assertEqual(_strategy.plan(routed, "cuda").select, "reduced")
            for mode in ("vjp", "jvp"):
                pool = _pooling._AUTODIFF_MODES[mode]
                values, switches = jax.jit(lambda x, g=routed, p=pool: p(x, g, True))(x)
                np.testing.assert_array_equal(values, expected_values)
                np.testing.assert_array_equal(switches, expected_switches)
                gradient = jax.jit(
                    jax.grad(lambda x, g=routed, p=pool: jnp.vdot(p(x, g, False)[0], cotangent))
                )(x)
                np.testing.assert_array_equal(gradient, expected_gradient)

    @parameterized.parameters(np.int8, np.uint8, np.int32, np.bool_)
    def test_integers_and_bool_take_the_first_maximum(self, dtype):
        rng = np.random.default_rng(5)
        x = rng.integers(0, 3, size=(2, 16, 12, 3)).astype(dtype)
        pooling = dict(window_shape=(8, 12), strides=(8, 12))
        geometry = pool_geometry(x.shape, x.dtype, **pooling).with_backend("tpu")
        values, switches = jax.jit(lambda x: _pooling._AUTODIFF_MODES["vjp"](x, geometry, True))(x)
        expected_values, expected_switches = brute_force_pool(x.astype(np.float64), **pooling)
        np.testing.assert_array_equal(values, expected_values.astype(dtype))
        np.testing.assert_array_equal(switches, expected_switches)

    @parameterized.parameters("float32", "bfloat16", "float16")
    def test_min_pool_and_16_bit_floats(self, dtype):
        x = example_inputs((2, 24, 24, 3), kind="ties").astype(dtype)
        pooling = dict(window_shape=(24, 24), strides=(24, 24))
        expected = -np.asarray(reduce_window_pool(-np.float32(x), (24, 24), (24, 24)))
        geometry = pool_geometry(x.shape, x.dtype, **pooling)
        geometry = dataclasses.replace(geometry, reverse_order=True).with_backend("cuda")
        values, switches = jax.jit(lambda x: _pooling._AUTODIFF_MODES["vjp"](x, geometry, True))(x)
        np.testing.assert_array_equal(np.float32(values), expected)
        flat = np.float32(x).reshape(2, -1, 3)
        np.testing.assert_array_equal(switches.reshape(2, 3), np.argmin(flat, axis=1))

    def test_accelerators_take_it_for_large_blocks_alone(self):
        def select(window, strides, spatial=(16, 16), backend="cuda"):
            geometry = pool_geometry((2, *spatial, 3), np.float32, window, strides)
            return _strategy.plan(geometry, backend).select

        self.assertEqual(select((16, 16), (16, 16)), "reduced")
        self.assertEqual(select((16, 16), (16, 16), backend="tpu"), "reduced")
        self.assertEqual(select((16, 16), (1, 1)), "reduced")
        # The CPU keeps its plan; small blocks keep the position by position one.
        self.assertEqual(select((16, 16), (16, 16), backend="cpu"), "separable")
        self.assertEqual(select((2, 2), (2, 2)), "positions")
        # Overlapping, padded or dilated windows are no blocks.
        self.assertEqual(select((8, 8), (4, 4)), "separable")
        padded = pool_geometry((2, 15, 15, 3), np.float32, (8, 8), (8, 8), "SAME")
        self.assertFalse(_reduced.applies(padded))
        dilated = pool_geometry((2, 16, 16, 3), np.float32, (4, 4), (8, 8), window_dilation=2)
        self.assertFalse(_reduced.applies(dilated))
        with self.assertRaisesRegex(ValueError, "reduced strategy cannot pool"):
            _strategy.plan(padded.with_strategy("reduced"), "cpu")

    def test_its_gradient_has_no_scatter_and_saves_the_switches(self):
        x = example_inputs((2, 32, 32, 3))
        geometry = pool_geometry(x.shape, x.dtype, (32, 32), (32, 32)).with_backend("cuda")
        pool = lambda x: _pooling._AUTODIFF_MODES["vjp"](x, geometry, False)[0]  # noqa: E731
        self.assertEqual(scatter_ops(jax.jit(jax.grad(lambda x: pool(x).sum())), x), [])
        lines = saved_residual_lines(lambda x: pool(x).sum(), x)
        self.assertLen(lines, 1, lines)
        self.assertStartsWith(lines[0], "i16[2,1,1,3]")


class LayoutsTest(chex.TestCase):
    """Channels-first and unbatched layouts pool as channels-last does."""

    @chex.variants(with_jit=True)
    @parameterized.named_parameters(
        ("2x2_s2", (2, 2), (2, 2), "VALID"),
        ("3x3_s2_same", (3, 3), (2, 2), "SAME"),
        ("6x6_s1_same", (6, 6), (1, 1), "SAME"),
        ("global", (9, 8), (9, 8), "VALID"),
    )
    def test_channels_first_equals_channels_last(self, window_shape, strides, padding):
        x = example_inputs((2, 9, 8, 3), kind="ties")  # NHWC
        settings_ = dict(window_shape=window_shape, strides=strides, padding=padding)

        def pool_and_grad(x, channel_axis):
            pool = lambda x: jaxpool.max_pool_with_argmax(x, **settings_, channel_axis=channel_axis)  # noqa: E731
            (values, switches), vjp = jax.vjp(pool, x)
            cotangent = _cotangent(values.shape)
            (gradient,) = vjp((cotangent, np.zeros(switches.shape, jax.dtypes.float0)))
            return values, switches, gradient

        # The cotangent is drawn in each layout's own shape: compare on the
        # same numbers by moving the channel-last cotangent along.
        last = self.variant(lambda x: pool_and_grad(x, -1))(x)
        first = self.variant(lambda x: pool_and_grad(x, 1))(jnp.moveaxis(x, -1, 1))
        unbatched = self.variant(lambda x: pool_and_grad(x, 0))(jnp.moveaxis(x[0], -1, 0))
        for a, b in zip(last[:2], first[:2]):
            np.testing.assert_array_equal(jnp.moveaxis(a, -1, 1), b)
        for a, b in zip(last[:2], unbatched[:2]):
            np.testing.assert_array_equal(jnp.moveaxis(a[0], -1, 0), b)
        # Gradients: against reduce_window in each layout (tie-free input).
        x = example_inputs((2, 9, 8, 3))
        for channel_axis, data in ((1, jnp.moveaxis(x, -1, 1)), (0, jnp.moveaxis(x[0], -1, 0))):
            ours = functools.partial(jaxpool.max_pool, **settings_, channel_axis=channel_axis)
            reference = functools.partial(
                reduce_window_pool, **settings_, channel_axis=channel_axis
            )
            weights = _cotangent(reference(data).shape)
            np.testing.assert_allclose(
                self.variant(jax.grad(lambda x, f=ours, w=weights: (f(x) * w).sum()))(data),
                jax.grad(lambda x, f=reference, w=weights: (f(x) * w).sum())(data),
                rtol=1e-6,
            )


# One configuration per strategy: the whole window position by position, or
# axis by axis with each axis's own strategy.
STRUCTURE_CASES = (
    ("positions", dict(window_shape=(3, 3), strides=(2, 2), padding="SAME")),
    ("positions", dict(window_shape=(2, 2), strides=(2, 2), channel_axis=1)),
    # Channels-first overlapping windows: the route interleaves stride phases.
    ("positions", dict(window_shape=(3, 3), strides=(2, 2), padding="SAME", channel_axis=1)),
    ("blocks", dict(window_shape=(8, 8), strides=(8, 8))),
    ("unrolled", dict(window_shape=(5, 5), strides=(1, 1), padding="SAME")),
    ("doubling", dict(window_shape=(12, 12), strides=(1, 1), padding="SAME")),
)


class StructureTest(parameterized.TestCase):
    """What the backward saves and which operations it uses, per strategy."""

    @parameterized.product(case=STRUCTURE_CASES, mode=MODES)
    def test_no_scatter_and_only_switches_saved(self, case, mode):
        strategy, settings_ = case
        x = example_inputs((2, 16, 16, 3))
        geometry = pool_geometry(x.shape, x.dtype, **settings_)
        if strategy == "positions":
            self.assertEqual(_strategy.strategy(geometry), "positions")
        else:
            self.assertEqual(_strategy.strategy(geometry), "separable")
            self.assertEqual({w.strategy for w in geometry.axis_windows()}, {strategy})
        pool = lambda x: jaxpool.max_pool(x, **settings_, autodiff=mode)  # noqa: E731
        grad = jax.jit(jax.grad(lambda x: pool(x).sum()))
        self.assertEqual(scatter_ops(grad, x), [])
        lines = saved_residual_lines(lambda x: pool(x).sum(), x)
        output_shape = jax.eval_shape(pool, x).shape
        short_dtype = {"int8": "i8", "int16": "i16"}[np.dtype(geometry.switch_dtype).name]
        self.assertLen(lines, 1, lines)
        self.assertStartsWith(lines[0], f"{short_dtype}[{','.join(map(str, output_shape))}]")

    def test_trace_grows_with_the_logarithm_of_the_window(self):
        # Long windows: 300 more positions add a few doubling passes to the
        # program, where unrolling would add at least two equations each.
        def count(window):
            x = jnp.zeros((2, 1000, 3))
            f = jax.grad(lambda x: jaxpool.max_pool(x, (window,), (1,), "SAME").sum())
            # Equations at every nesting level: one a line of the printout.
            return len(str(jax.make_jaxpr(f)(x)).splitlines())

        self.assertLess(count(400) - count(100), 150)


class PropertyTest(parameterized.TestCase):
    """Random large-window configurations against the brute-force loop."""

    @settings(max_examples=15, deadline=None)
    @given(
        window=st.tuples(st.integers(1, 9), st.integers(4, 9)),
        strides=st.tuples(st.integers(1, 5), st.integers(1, 5)),
        low=st.tuples(st.integers(0, 3), st.integers(0, 3)),
        high=st.tuples(st.integers(0, 3), st.integers(0, 3)),
        dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
        ceil_mode=st.booleans(),
        pad_value=st.sampled_from([-np.inf, 0.0]),
        seed=st.integers(0, 1000),
    )
    def test_against_brute_force(
        self, window, strides, low, high, dilation, ceil_mode, pad_value, seed
    ):
        x = np.array(example_inputs((1, 13, 12, 2), kind="ties", seed=seed), np.float32)
        x[0, seed % 13, seed % 12, 0] = np.nan
        settings_ = dict(
            window_shape=window,
            strides=strides,
            padding=tuple(zip(low, high)),
            window_dilation=dilation,
            ceil_mode=ceil_mode,
            pad_value=pad_value,
        )
        try:
            pool_geometry(x.shape, x.dtype, **settings_)
        except ValueError:
            return  # an empty output
        pool = jax.jit(lambda x: jaxpool.max_pool_with_argmax(x, **settings_))
        (values, switches), vjp = jax.vjp(pool, jnp.asarray(x))
        cotangent = _cotangent(values.shape, seed)
        (gradient,) = vjp((cotangent, np.zeros(switches.shape, jax.dtypes.float0)))
        expected = brute_force_pool(x, **settings_, cotangent=cotangent)
        np.testing.assert_array_equal(np.asarray(values, np.float64), expected[0])
        np.testing.assert_array_equal(switches, expected[1])
        np.testing.assert_allclose(gradient, expected[2], rtol=1e-6)


def _brute_force_pick(tangent, switches, geometry):
    """The tangent at the element each switch names (zero in padding), one
    output element at a time from the geometry's definition: window ``i``
    holds ``stride * i + dilation * q - low`` at position ``q``."""
    tangent = np.asarray(tangent)
    picked = np.zeros(geometry.output_shape, tangent.dtype)
    for out in np.ndindex(*geometry.output_shape):
        position = np.unravel_index(int(switches[out]), geometry.window_shape)
        source = list(out)
        for k, axis in enumerate(geometry.spatial_axes):
            low = geometry.extent_padding[k][0]
            source[axis] = (
                out[axis] * geometry.strides[k] + position[k] * geometry.window_dilation[k] - low
            )
        if all(0 <= source[a] < geometry.input_shape[a] for a in geometry.spatial_axes):
            picked[out] = tangent[tuple(source)]
    return picked


class PickAndRouteTest(parameterized.TestCase):
    """The pick reads any switches as the definition says, and the route is
    its transpose: strides that do and do not divide the input, padding,
    dilation, ceil mode and every layout (channels-first reads and writes
    stride phases along the minor axis)."""

    @settings(max_examples=24, deadline=None)
    @given(
        d=st.integers(1, 2),
        window=st.integers(1, 3),
        stride=st.integers(1, 4),
        dilation=st.integers(1, 2),
        padding=st.sampled_from(["VALID", "SAME", 1]),
        ceil_mode=st.booleans(),
        channel_axis=st.sampled_from([-1, 1, None]),
        length=st.integers(8, 11),  # at least the largest dilated window, 7, plus one
        seed=st.integers(0, 1000),
        backend=st.sampled_from(BACKENDS),
    )
    def test_pick_against_brute_force_and_route_is_its_transpose(
        self, d, window, stride, dilation, padding, ceil_mode, channel_axis, length, seed, backend
    ):
        spatial = (length, length - 1)[:d]
        shape = (2, *spatial, 3) if channel_axis == -1 else (2, 3, *spatial)
        settings_ = dict(
            window_shape=(window, window + 1)[:d],
            strides=(stride, max(1, stride - 1))[:d],
            padding=padding if isinstance(padding, str) else (min(padding, window // 2),) * d,
            window_dilation=(dilation,) * d,
            ceil_mode=ceil_mode,
            channel_axis=channel_axis,
        )
        geometry = pool_geometry(shape, np.float32, **settings_)
        if _strategy.strategy(geometry) != "positions":
            return
        rng = np.random.default_rng(seed)
        tangent = jnp.asarray(rng.normal(size=shape), jnp.float32)
        switches = rng.integers(0, geometry.num_window_positions, size=geometry.output_shape)
        switches = jnp.asarray(switches, geometry.switch_dtype)
        pick = jax.jit(lambda t, s: _strategy.pick_at_switches(t, s, geometry))
        np.testing.assert_array_equal(
            pick(tangent, switches), _brute_force_pick(tangent, switches, geometry)
        )
        # Each stride phase is the strided slice it names, and merging the
        # phases gives the input back.
        phases = _positions.stride_phases(tangent, geometry)
        for key, phase in phases.items():
            index = [slice(None)] * tangent.ndim
            for axis, start, step in zip(geometry.spatial_axes, key, geometry.strides):
                index[axis] = slice(start, None, step)
            expected = np.asarray(tangent)[tuple(index)]
            grown = [(0, size - length) for size, length in zip(phase.shape, expected.shape)]
            np.testing.assert_array_equal(phase, np.pad(expected, grown))
        merged = _positions.merge_stride_phases(phases, geometry)
        np.testing.assert_array_equal(merged, tangent)
        # <route(c), t> = <c, pick(t)>: the route is the pick's transpose.
        cotangent = jnp.asarray(rng.normal(size=geometry.output_shape), jnp.float32)
        # Each backend's route, run here: the TPU's spreads the cotangent.
        routing = geometry.with_backend(backend)
        routed = jax.jit(lambda c, s: _strategy.route_to_switches(c, s, routing))(
            cotangent, switches
        )
        # In float64, to the rounding of the float32 sums in the route.
        left = np.asarray(routed, np.float64) * np.asarray(tangent, np.float64)
        right = np.asarray(cotangent, np.float64) * np.asarray(pick(tangent, switches), np.float64)
        scale = np.abs(left).sum() + np.abs(right).sum()
        np.testing.assert_allclose(left.sum(), right.sum(), rtol=0, atol=1e-6 * scale)


class TransformationsTest(parameterized.TestCase):
    """Forward mode and vmap with large windows, against reduce_window."""

    def test_jvp_and_vmap(self):
        x = example_inputs((3, 2, 15, 14, 2))
        settings_ = dict(window_shape=(6, 7), strides=(2, 1), padding="SAME")
        tangent = _cotangent(x.shape, 3)
        pool = lambda x: jaxpool.max_pool(x, **settings_, autodiff="jvp")  # noqa: E731
        values, tangent_out = jax.jit(jax.vmap(lambda x, t: jax.jvp(pool, (x,), (t,))))(x, tangent)
        expected, expected_tangent = jax.vmap(
            lambda x, t: jax.jvp(lambda x: reduce_window_pool(x, **settings_), (x,), (t,))
        )(x, tangent)
        np.testing.assert_array_equal(values, expected)
        np.testing.assert_array_equal(tangent_out, expected_tangent)
        np.testing.assert_array_equal(
            jax.jit(jax.grad(lambda x: pool(x).sum()))(x[0]),
            jax.jit(jax.grad(lambda x: jaxpool.max_pool(x, **settings_).sum()))(x[0]),
        )


class PlanTest(parameterized.TestCase):
    """Which formulation each backend's plan names, for the geometries whose
    compiles chose them (benchmarks/results/accel/)."""

    @parameterized.parameters(
        # window, strides, padding: CPU select; GPU select and route; TPU
        # select and route. The GPU's routes are the ones measured fastest on
        # an H200 (benchmarks/results/gpu/).
        ((2, 2), (2, 2), "VALID", "positions", "positions", "transpose", "windowed", "transpose"),
        ((3, 3), (2, 2), "SAME", "positions", "windowed", "transpose", "windowed", "dilated"),
        ((3, 3), (1, 1), "SAME", "positions", "windowed", "summed", "padded", "dilated"),
        ((3,), (2,), "VALID", "positions", "positions", "transpose", "windowed", "dilated"),
        ((11, 11), (1, 1), "SAME", "separable", "separable", "transpose", "separable", "transpose"),
    )
    def test_each_backend_plan(self, window, strides, padding, cpu, gpu, gpu_route, tpu, tpu_route):
        shape = (2, 16, 16, 8) if len(window) == 2 else (2, 16, 8)
        geometry = pool_geometry(shape, np.float32, window, strides, padding)
        plans = {backend: _strategy.plan(geometry, backend) for backend in BACKENDS}
        self.assertEqual(plans["cpu"].select, cpu)
        self.assertEqual((plans["cuda"].select, plans["cuda"].route), (gpu, gpu_route))
        self.assertEqual((plans["tpu"].select, plans["tpu"].route), (tpu, tpu_route))
        self.assertEqual(plans["cpu"].route, "transpose")
        self.assertEqual(plans["cuda"].values, "reduce_window")
        # The CPU keeps its values path and its written-out switches.
        self.assertTrue(plans["cpu"].write_out)
        self.assertFalse(plans["cuda"].write_out)
        # The TPU writes out the switches of axis-by-axis selections only.
        self.assertEqual(plans["tpu"].write_out, tpu == "separable")

    def test_a_forced_backend_and_strategy_are_checked(self):
        geometry = pool_geometry((2, 8, 8, 3), np.float32, (3, 3), (1, 1), "SAME")
        with self.assertRaisesRegex(ValueError, "backend must be one of"):
            geometry.with_backend("metal")
        dilated = pool_geometry((2, 8, 8, 3), np.float32, (3, 3), (1, 1), window_dilation=2)
        with self.assertRaisesRegex(ValueError, "windowed strategy cannot pool"):
            _strategy.plan(dilated.with_strategy("windowed"), "cpu")
