"""Tests for jaxpool.max_pool and jaxpool.max_pool_with_argmax."""

from __future__ import annotations

import contextlib
import functools
import itertools
import math

import chex
import jax
import jax.ad_checkpoint
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from jax import lax
from references import brute_force_pool
from references import enable_x64
from references import example_inputs
from references import reduce_window_pool
from references import saved_residual_lines
from references import scatter_ops
from references import spatial_axes

import jaxpool

DTYPES = ("float32", "bfloat16", "float16", "float64")
# Tolerance for sums of overlapping contributions taken in another order.
OVERLAP_RTOL = {"float32": 1e-6, "float64": 1e-12, "float16": 1e-2, "bfloat16": 5e-2}
SPATIAL_SHAPES = {1: (9,), 2: (7, 6), 3: (6, 5, 5)}


def _dtype_context(dtype):
    return enable_x64(True) if dtype == "float64" else contextlib.nullcontext()


def _layout_shape(spatial, channel_axis, batch=2, channels=3):
    if channel_axis is None:
        return (batch, *spatial)
    if channel_axis == -1:
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def _inputs(shape, dtype, kind, seed=0):
    return example_inputs(shape, dtype, kind, seed)


def _cotangent(shape, dtype, seed=1):
    # Positive, so sums of overlapping contributions do not cancel.
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.uniform(0.5, 1.5, size=shape), dtype)


def _grid():
    """d = 1, 2, 3 x windows 1..4 x strides 1..4, with padding kinds, ceil
    mode, layouts, dtypes and input kinds cycled through so that every value
    of each appears many times."""
    paddings = ["VALID", "SAME", 1, "pairs"]
    layouts = [-1, None, 1]
    cases = []
    for d in (1, 2, 3):
        for index, (window, stride) in enumerate(itertools.product(range(1, 5), range(1, 5))):
            window_shape = tuple(max(1, window - i) for i in range(d))
            strides = tuple(max(1, stride - (i % 2)) for i in range(d))
            padding = paddings[index % 4]
            if padding == "pairs":
                padding = tuple((i % 2, (i + 1) % 2) for i in range(d))
            elif padding == 1:
                padding = tuple(min(1, w // 2) for w in window_shape)
            cases.append(
                dict(
                    testcase_name=f"d{d}_w{window}_s{stride}_{index}",
                    d=d,
                    window_shape=window_shape,
                    strides=strides,
                    padding=padding,
                    ceil_mode=bool(index // 4 % 2),
                    channel_axis=layouts[index % 3],
                    dtype=DTYPES[index % 4],
                    kind=("random", "ties")[index % 2 if d != 2 else (index // 2) % 2],
                )
            )
    return cases


class AgainstReduceWindowTest(chex.TestCase):
    """Values exactly as ``lax.reduce_window``; gradients exactly as its
    select-and-scatter where windows do not overlap."""

    @chex.variants(with_jit=True)
    @parameterized.named_parameters(*_grid())
    def test_values_and_gradients(self, **case):
        self._check(**case)

    # Eager runs dispatch op by op and cost seconds each: every third case.
    @chex.variants(without_jit=True)
    @parameterized.named_parameters(*_grid()[::3])
    def test_values_and_gradients_eager(self, **case):
        self._check(**case)

    def _check(self, d, window_shape, strides, padding, ceil_mode, channel_axis, dtype, kind):
        settings_ = dict(
            window_shape=window_shape,
            strides=strides,
            padding=padding,
            ceil_mode=ceil_mode,
            channel_axis=channel_axis,
        )
        with _dtype_context(dtype):
            x = _inputs(_layout_shape(SPATIAL_SHAPES[d], channel_axis), dtype, kind)
            expected = reduce_window_pool(x, **settings_)
            cotangent = _cotangent(expected.shape, dtype)

            pool = self.variant(lambda x: jaxpool.max_pool(x, **settings_))
            values, vjp = jax.vjp(pool, x)
            (gradient,) = vjp(cotangent)
            _, reference_vjp = jax.vjp(lambda x: reduce_window_pool(x, **settings_), x)
            (expected_gradient,) = reference_vjp(cotangent)

            self.assertEqual(values.dtype, x.dtype)
            self.assertEqual(gradient.dtype, x.dtype)
            np.testing.assert_array_equal(values, expected)
            overlap = any(w > s for w, s in zip(window_shape, strides, strict=True))
            if overlap:
                np.testing.assert_allclose(
                    np.asarray(gradient, np.float64),
                    np.asarray(expected_gradient, np.float64),
                    rtol=OVERLAP_RTOL[dtype],
                )
            else:
                np.testing.assert_array_equal(gradient, expected_gradient)

            # The switches name the window position of each value.
            _, switches = self.variant(lambda x: jaxpool.max_pool_with_argmax(x, **settings_))(x)
            _, expected_switches = brute_force_pool(x, **settings_)
            np.testing.assert_array_equal(switches, expected_switches)


def _brute_force_check(test, x, settings_, dtype_rtol=1e-6):
    """Values, switches and the gradient of a random cotangent against the
    brute-force loop."""
    pool = test.variant(lambda x: jaxpool.max_pool_with_argmax(x, **settings_))
    (values, switches), vjp = jax.vjp(pool, x)
    cotangent = _cotangent(values.shape, x.dtype)
    (gradient,) = vjp((cotangent, np.zeros(switches.shape, jax.dtypes.float0)))
    expected_values, expected_switches, expected_gradient = brute_force_pool(
        x, **settings_, cotangent=cotangent
    )
    np.testing.assert_array_equal(np.asarray(values, np.float64), expected_values)
    np.testing.assert_array_equal(switches, expected_switches)
    np.testing.assert_allclose(
        np.asarray(gradient, np.float64), expected_gradient, rtol=dtype_rtol, atol=0
    )
    return values, switches, gradient


class RulesTest(chex.TestCase):
    """Dilation, NaN, -inf and pad values against the brute-force loop."""

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.named_parameters(
        ("1d", (11,), (3,), (1,), (2,), "VALID", False),
        ("1d_same", (10,), (2,), (2,), (3,), "SAME", True),
        ("2d", (9, 8), (2, 3), (1, 2), (2, 2), 1, False),
        ("2d_ceil", (9, 8), (3, 2), (2, 2), (2, 3), ((1, 0), (0, 2)), True),
        ("3d", (7, 6, 6), (2, 2, 2), (2, 1, 2), (1, 2, 2), "SAME", False),
    )
    def test_window_dilation(self, spatial, window_shape, strides, dilation, padding, ceil_mode):
        # reduce_window's gradient refuses dilation, so only the loop checks it.
        x = _inputs((2, *spatial, 2), "float32", "random")
        settings_ = dict(
            window_shape=window_shape,
            strides=strides,
            padding=padding,
            window_dilation=dilation,
            ceil_mode=ceil_mode,
        )
        _brute_force_check(self, x, settings_)
        if isinstance(padding, str) and not ceil_mode:
            # Values also agree with reduce_window, which dilates forward only.
            dilated = [r * (w - 1) + 1 for w, r in zip(window_shape, dilation, strict=True)]
            pairs = lax.padtype_to_pads(spatial, dilated, strides, padding)
            expected = lax.reduce_window(
                x,
                -jnp.inf,
                lax.max,
                (1, *window_shape, 1),
                (1, *strides, 1),
                [(0, 0), *pairs, (0, 0)],
                window_dilation=(1, *dilation, 1),
            )
            np.testing.assert_array_equal(
                jaxpool.max_pool(x, window_shape, strides, padding, window_dilation=dilation),
                expected,
            )

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters("float32", "bfloat16", "float16", "float64")
    def test_nan_is_largest_and_first_nan_wins(self, dtype):
        with _dtype_context(dtype):
            x = np.array(_inputs((2, 6, 6, 2), "float32", "ties"))
            x[0, 0, 1, 0] = x[0, 1, 0, 0] = np.nan  # two NaN in one 2x2 window
            x[1, 3, 3, 1] = np.nan
            x = jnp.asarray(x, dtype)
            settings_ = dict(window_shape=(2, 2), strides=(2, 2))
            values, switches, gradient = _brute_force_check(self, x, settings_, OVERLAP_RTOL[dtype])
            self.assertTrue(np.isnan(values[0, 0, 0, 0]))
            self.assertEqual(int(switches[0, 0, 0, 0]), 1)  # the first NaN
            self.assertEqual(float(gradient[0, 1, 0, 0]), 0.0)
            self.assertEqual(int(switches[1, 1, 1, 1]), 3)
            # Overlapping windows too.
            _brute_force_check(
                self,
                x,
                dict(window_shape=(3, 2), strides=(1, 2), padding="SAME"),
                OVERLAP_RTOL[dtype],
            )

    @chex.variants(with_jit=True, without_jit=True)
    def test_padding_never_beats_a_real_minus_inf(self):
        x = np.array(_inputs((1, 5, 5, 1), "float32", "random"))
        x[0, 0, :, 0] = -np.inf
        x[0, :, 0, 0] = -np.inf
        x = jnp.asarray(x)
        settings_ = dict(window_shape=(3, 3), strides=(2, 2), padding=1)
        values, switches, gradient = _brute_force_check(self, x, settings_)
        # The corner window holds padding and four real elements; the real
        # -inf, x[0, 0, 0, 0], is at window position 4 and gets the gradient.
        x_corner = x.at[0, 1, 1, 0].set(-jnp.inf).at[0, 1, 0, 0].set(-jnp.inf)
        (values, switches), vjp = jax.vjp(
            self.variant(lambda x: jaxpool.max_pool_with_argmax(x, **settings_)), x_corner
        )
        self.assertEqual(float(values[0, 0, 0, 0]), -np.inf)
        self.assertEqual(int(switches[0, 0, 0, 0]), 4)
        (gradient,) = vjp((jnp.ones_like(values), np.zeros(switches.shape, jax.dtypes.float0)))
        self.assertEqual(float(gradient[0, 0, 0, 0]), 1.0)
        # reduce_window selects the first padded -inf and loses the gradient.
        (rw_gradient,) = jax.grad(lambda x: reduce_window_pool(x, **settings_).sum(), argnums=(0,))(
            x_corner
        )
        self.assertEqual(float(rw_gradient[0, 0, 0, 0]), 0.0)

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters(0.0, -1.5, 2.0, np.nan)
    def test_other_pad_values_compete_like_numbers(self, pad_value):
        x = _inputs((2, 7, 6, 2), "float32", "ties")
        for settings_ in (
            dict(window_shape=(3, 3), strides=(2, 2), padding="SAME"),
            dict(window_shape=(2, 2), strides=(2, 2), padding=((1, 0), (0, 1)), ceil_mode=True),
            dict(window_shape=(2, 3), strides=(1, 1), padding=(1, 2), window_dilation=(2, 1)),
        ):
            _brute_force_check(self, x, dict(settings_, pad_value=pad_value))
            values = jaxpool.max_pool(x, **settings_, pad_value=pad_value)
            if "window_dilation" not in settings_:
                expected = reduce_window_pool(x, **settings_, pad_value=pad_value)
                np.testing.assert_array_equal(values, expected)

    @parameterized.parameters(-1, 1)
    def test_bfloat16_rounds_the_pad_value_then_compares_exactly(self, channel_axis):
        # bfloat16 is compared in float32: the same values and switches as
        # float32 input holding the same numbers, with 0.1 rounded to bfloat16.
        x = np.array(_inputs(_layout_shape((7, 6), channel_axis), "float32", "ties"))
        x.flat[::7] = -np.inf
        x.flat[3::41] = np.nan
        x = jnp.asarray(x, jnp.bfloat16)
        rounded = float(jnp.asarray(0.1, jnp.bfloat16))
        self.assertNotEqual(rounded, 0.1)
        # Where every element ties with the rounded pad value, a window that
        # starts in the padding selects the padding.
        x = x.at[0].set(rounded)
        for settings_ in (
            dict(window_shape=(3, 3), strides=(2, 2), padding="SAME", pad_value=0.1),
            dict(window_shape=(2, 2), strides=(2, 2), padding=((1, 0), (0, 1)), ceil_mode=True),
        ):
            pool = functools.partial(jaxpool.max_pool_with_argmax, channel_axis=channel_axis)
            values, switches = pool(x, **settings_)
            self.assertEqual(values.dtype, jnp.bfloat16)
            wide = dict(settings_, pad_value=rounded) if "pad_value" in settings_ else settings_
            expected = pool(x.astype(jnp.float32), **wide)
            np.testing.assert_array_equal(values.astype(jnp.float32), expected[0])
            np.testing.assert_array_equal(switches, expected[1])
            expected = reduce_window_pool(x, **settings_, channel_axis=channel_axis)
            np.testing.assert_array_equal(np.float32(values), np.float32(expected))

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters(-np.inf, 0.0)
    def test_window_wholly_in_padding(self, pad_value):
        x = jnp.arange(1.0, 7.0).reshape(1, 2, 3)
        pool = self.variant(
            lambda x: jaxpool.max_pool(
                x, (2, 2), (2, 2), ((2, 0), (0, 1)), channel_axis=None, pad_value=pad_value
            )
        )
        values = pool(x)
        # Rows: [pad, pad] then [real]; columns: [0, 1], [2, pad].
        np.testing.assert_array_equal(values, [[[pad_value, pad_value], [5.0, 6.0]]])
        weights = jnp.array([[[10.0, 20.0], [1.0, 2.0]]])
        gradient = jax.grad(lambda x: (pool(x) * weights).sum())(x)
        np.testing.assert_array_equal(gradient, [[[0.0, 0.0, 0.0], [0.0, 1.0, 2.0]]])


class HandWorkedTest(chex.TestCase):
    """The examples of ../shared/seeds, worked by hand."""

    @chex.variants(with_jit=True, without_jit=True)
    def test_single_kernel(self):
        # Notes, section 1: a 4x4 map, 2x2 kernels; s is the argmax in each.
        x = jnp.array(
            [[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 1.0], [0.0, 2.0, 6.0, 7.0], [9.0, 1.0, 3.0, 2.0]]
        )
        pool = self.variant(
            lambda x: jaxpool.max_pool_with_argmax(x, (2, 2), (2, 2), channel_axis=None)
        )
        values, switches = pool(x)
        np.testing.assert_array_equal(values, [[5.0, 8.0], [9.0, 7.0]])
        np.testing.assert_array_equal(switches, [[1, 2], [2, 1]])
        delta = jnp.array([[0.1, 0.2], [0.3, 0.4]])
        gradient = jax.grad(lambda x: (pool(x)[0] * delta).sum())(x)
        np.testing.assert_allclose(
            gradient,
            [
                [0.0, 0.1, 0.0, 0.0],
                [0.0, 0.0, 0.2, 0.0],
                [0.0, 0.0, 0.0, 0.4],
                [0.3, 0.0, 0.0, 0.0],
            ],
        )

    @chex.variants(with_jit=True, without_jit=True)
    def test_multiple_kernels_with_zero_padding(self):
        # Notes, section 2: the feature axis f is pooled independently; zero
        # padding makes padded positions 0, so they win over negatives.
        x = jnp.array([[[-1.0, 2.0], [-3.0, 1.0]], [[-2.0, 0.5], [-4.0, 3.0]]])  # (H=2, W=2, F=2)
        pool = self.variant(
            lambda x: jaxpool.max_pool_with_argmax(x, (2, 2), (2, 2), 1, pad_value=0.0)
        )
        values, switches = pool(x)
        self.assertEqual(values.shape, (2, 2, 2))
        # Window (0, 0) covers a pad row and column and x[0, 0]: feature 0 is
        # all negative, so the padded zero at position 0 wins; feature 1 = 2.
        np.testing.assert_array_equal(values[0, 0], [0.0, 2.0])
        np.testing.assert_array_equal(switches[0, 0], [0, 3])
        np.testing.assert_array_equal(values[1, 1], [0.0, 3.0])
        np.testing.assert_array_equal(switches[1, 1], [1, 0])
        gradient = jax.grad(lambda x: pool(x)[0].sum())(x)
        np.testing.assert_array_equal(gradient[..., 0], np.zeros((2, 2)))
        np.testing.assert_array_equal(gradient[..., 1], np.ones((2, 2)))

    @chex.variants(with_jit=True, without_jit=True)
    def test_overlapping_contributions_add(self):
        # The Q&A: an input selected by several outputs gets the sum of their
        # gradients. Window 3, stride 1 over [1, 9, 2, 3, 0]: 9 wins all three.
        x = jnp.array([1.0, 9.0, 2.0, 3.0, 0.0])
        pool = self.variant(lambda x: jaxpool.max_pool(x, (3,), 1, channel_axis=None))
        np.testing.assert_array_equal(pool(x), [9.0, 9.0, 3.0])
        weights = jnp.array([2.0, 3.0, 6.0])
        gradient = jax.grad(lambda x: (pool(x) * weights).sum())(x)
        np.testing.assert_array_equal(gradient, [0.0, 5.0, 0.0, 6.0, 0.0])


class TransformationsTest(chex.TestCase):
    @parameterized.parameters(0, 1, 2)
    def test_vmap_over_any_axis(self, axis):
        x = _inputs((3, 4, 8, 6, 2), "float32", "random")

        def pool(x):
            return jaxpool.max_pool(x, (3, 2), (2, 2), "SAME")

        batched = jax.vmap(pool, in_axes=axis, out_axes=axis)(x)
        expected = jnp.stack(
            [pool(jnp.take(x, i, axis=axis)) for i in range(x.shape[axis])], axis=axis
        )
        np.testing.assert_array_equal(batched, expected)
        cotangent = _cotangent(batched.shape, jnp.float32)
        gradient = jax.vjp(jax.vmap(pool, in_axes=axis, out_axes=axis), x)[1](cotangent)[0]
        reference = jax.vmap(
            lambda x: reduce_window_pool(x, (3, 2), (2, 2), "SAME"), in_axes=axis, out_axes=axis
        )
        expected_gradient = jax.vjp(reference, x)[1](cotangent)[0]
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)

    def test_jit_of_vmap_of_grad(self):
        x = _inputs((3, 7, 6, 2), "float32", "ties")

        def loss(x, pool):
            return (pool(x, (2, 2), (2, 2), "SAME") * jnp.arange(1.0, 9.0).reshape(4, 1, 2)).sum()

        ours = jax.jit(jax.vmap(jax.grad(lambda x: loss(x, jaxpool.max_pool))))(x)
        theirs = jax.vmap(jax.grad(lambda x: loss(x, reduce_window_pool)))(x)
        np.testing.assert_array_equal(ours, theirs)

    def test_second_order_gradients_on_tie_free_input(self):
        # float64: finite differences in float32 are too coarse for the check.
        with enable_x64(True):
            x = _inputs((2, 7, 6, 2), "float64", "random")
            for settings_ in (
                dict(window_shape=(2, 2), strides=(2, 2)),
                dict(window_shape=(3, 3), strides=(2, 1), padding="SAME"),
                dict(window_shape=(2, 2), strides=1, window_dilation=2, padding=1),
            ):
                jax.test_util.check_grads(
                    lambda x, s=settings_: jaxpool.max_pool(x, **s), (x,), order=2, modes=["rev"]
                )


class StructureTest(chex.TestCase):
    SETTINGS = (
        dict(window_shape=(2, 2), strides=(2, 2)),
        dict(window_shape=(3, 3), strides=(2, 2), padding="SAME"),
        dict(
            window_shape=(3, 2), strides=(1, 2), padding=1, window_dilation=(2, 1), ceil_mode=True
        ),
    )

    def test_gradient_lowers_without_scatter(self):
        x = jnp.zeros((2, 9, 8, 3))
        for settings_ in self.SETTINGS:
            grad = jax.jit(jax.grad(lambda x, s=settings_: jaxpool.max_pool(x, **s).sum()))
            self.assertEqual(scatter_ops(grad, x), [])
        # The check can fail: reduce_window's gradient has select-and-scatter.
        reference = jax.jit(jax.grad(lambda x: reduce_window_pool(x, (2, 2), (2, 2)).sum()))
        self.assertIn("stablehlo.select_and_scatter", scatter_ops(reference, x))

    def test_only_the_switches_are_saved(self):
        x = jnp.zeros((2, 9, 8, 3))
        for settings_ in self.SETTINGS:
            pool = lambda x, s=settings_: jaxpool.max_pool(x, **s)  # noqa: E731
            output_shape = jax.eval_shape(pool, x).shape
            _, vjp = jax.vjp(pool, x)
            residuals = jax.tree_util.tree_leaves(vjp)
            self.assertEqual([(r.dtype, r.shape) for r in residuals], [(jnp.int8, output_shape)])
            lines = saved_residual_lines(lambda x, p=pool: p(x).sum(), x)
            self.assertLen(lines, 1)
            self.assertStartsWith(lines[0], f"i8[{','.join(map(str, output_shape))}]")

    @parameterized.parameters(-1, 1)
    def test_bfloat16_is_compared_without_a_float32_copy_of_the_input(self, channel_axis):
        # XLA:CPU computes bfloat16 slices, pads and maxima on a float32 copy
        # of the whole input unless the selection reads bfloat16 bits.
        shape = _layout_shape((12, 12), channel_axis, channels=8)
        x = jax.ShapeDtypeStruct(shape, jnp.bfloat16)
        copy = f"f32[{','.join(map(str, shape))}]"
        copy_bytes = 4 * math.prod(shape)
        for settings_ in self.SETTINGS:
            for pool in (jaxpool.max_pool, jaxpool.max_pool_with_argmax):
                pool = functools.partial(pool, channel_axis=channel_axis, **settings_)
                compiled = jax.jit(pool).lower(x).compile()
                if jax.default_backend() == "cpu":
                    self.assertNotIn(copy, compiled.as_text())
                else:
                    # A GPU compiler converts to float32 inside its fusions,
                    # element by element (seen on an H200): no copy in memory.
                    temp = compiled.memory_analysis().temp_size_in_bytes
                    self.assertLess(temp, copy_bytes)
        # The check can fail: reduce_window's forward makes that copy on the CPU.
        if jax.default_backend() == "cpu":
            reference = jax.jit(
                lambda x: reduce_window_pool(x, (3, 3), (2, 2), "SAME", channel_axis=channel_axis)
            )
            self.assertIn(copy, reference.lower(x).compile().as_text())

    @parameterized.parameters(
        ((2, 2), "int8"),
        ((128,), "int8"),
        ((129,), "int16"),
        ((3, 3, 3), "int8"),
        ((12, 12), "int16"),
    )
    def test_switch_dtype_is_the_smallest_that_fits(self, window_shape, dtype):
        x = jax.ShapeDtypeStruct((1, *(w + 1 for w in window_shape)), jnp.float32)
        _, switches = jax.eval_shape(
            lambda x: jaxpool.max_pool_with_argmax(x, window_shape, channel_axis=None), x
        )
        self.assertEqual(switches.dtype, jnp.dtype(dtype))

    def test_switch_dtype_thresholds(self):
        # Tracing a 32769-position window takes long, so the rule itself is
        # checked at the int16/int32 boundary.
        from jaxpool._geometry import switch_dtype

        self.assertEqual(switch_dtype(128), np.int8)
        self.assertEqual(switch_dtype(129), np.int16)
        self.assertEqual(switch_dtype(32768), np.int16)
        self.assertEqual(switch_dtype(32769), np.int32)

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters("int32", "int8", "uint8", "bool")
    def test_integer_inputs_pool_with_float0_gradient(self, dtype):
        x = _inputs((2, 7, 6, 2), "float32", "ties").astype(dtype)
        settings_ = dict(window_shape=(3, 2), strides=(2, 2), padding="SAME")
        pool = self.variant(lambda x: jaxpool.max_pool(x, **settings_))
        values, vjp = jax.vjp(pool, x)
        self.assertEqual(values.dtype, x.dtype)
        expected, _ = brute_force_pool(x.astype(jnp.float32), **settings_)
        np.testing.assert_array_equal(np.asarray(values, np.float64), expected)
        (gradient,) = vjp(np.zeros(values.shape, jax.dtypes.float0))
        self.assertEqual(gradient.dtype, jax.dtypes.float0)

    def test_integer_pad_values(self):
        x = jnp.array([[-5, -7, 3]], jnp.int8)
        np.testing.assert_array_equal(
            jaxpool.max_pool(x, (2,), 2, ((1, 0),), channel_axis=None), [[-5, 3]]
        )
        np.testing.assert_array_equal(
            jaxpool.max_pool(x, (2,), 2, ((1, 0),), channel_axis=None, pad_value=0), [[0, 3]]
        )
        _, switches = jaxpool.max_pool_with_argmax(
            jnp.array([[-128, 1]], jnp.int8), (2,), 2, ((1, 0),), channel_axis=None
        )
        # Rule 3 holds for integers: the real minimum beats the padding.
        np.testing.assert_array_equal(switches, [[1]])


@st.composite
def _configurations(draw):
    d = draw(st.integers(1, 3))
    window_shape = tuple(draw(st.integers(1, 3)) for _ in range(d))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    padding = draw(
        st.one_of(
            st.sampled_from(["VALID", "SAME"]),
            st.integers(0, 2),
            st.tuples(*(st.tuples(st.integers(0, 2), st.integers(0, 2)) for _ in range(d))),
        )
    )
    ceil_mode = draw(st.booleans())
    channel_axis = draw(st.sampled_from([-1, None, 1]))
    pad_value = draw(st.sampled_from([-np.inf, 0.0, -1.0]))
    spatial = tuple(
        draw(st.integers((w - 1) * r + 1, (w - 1) * r + 4)) for w, r in zip(window_shape, dilation)
    )
    shape = _layout_shape(spatial, channel_axis, batch=2, channels=2)
    values = draw(st.sampled_from(["random", "ties"]))
    return dict(
        window_shape=window_shape,
        strides=strides,
        window_dilation=dilation,
        padding=padding,
        ceil_mode=ceil_mode,
        channel_axis=channel_axis,
        pad_value=pad_value,
    ), _inputs(shape, "float32", values, seed=draw(st.integers(0, 1000)))


@settings(max_examples=30, deadline=None)
@given(_configurations())
def test_property_against_the_brute_force_loop(configuration):
    settings_, x = configuration
    # Each spatial size is at least the dilated window, so no output is empty.
    (values, switches), vjp = jax.vjp(lambda x: jaxpool.max_pool_with_argmax(x, **settings_), x)
    cotangent = _cotangent(values.shape, jnp.float32)
    (gradient,) = vjp((cotangent, np.zeros(switches.shape, jax.dtypes.float0)))
    expected_values, expected_switches, expected_gradient = brute_force_pool(
        x, **settings_, cotangent=cotangent
    )
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(switches, expected_switches)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)
    if settings_["window_dilation"] == (1,) * len(settings_["window_shape"]):
        without_dilation = {k: v for k, v in settings_.items() if k != "window_dilation"}
        np.testing.assert_array_equal(values, reduce_window_pool(x, **without_dilation))


def test_spatial_axes_of_the_three_layouts():
    # NHWC, NCHW and no feature axis, as the README states them.
    assert spatial_axes(4, 2, -1) == [1, 2]
    assert spatial_axes(4, 2, 1) == [2, 3]
    assert spatial_axes(3, 2, None) == [1, 2]
    x = _inputs((2, 3, 8, 6), "float32", "random")
    nchw = jaxpool.max_pool(x, (2, 3), (2, 3), channel_axis=1)
    nhwc = jaxpool.max_pool(jnp.moveaxis(x, 1, -1), (2, 3), (2, 3))
    np.testing.assert_array_equal(nchw, jnp.moveaxis(nhwc, -1, 1))
    assert nchw.shape == (2, 3, 4, 2)


@pytest.mark.parametrize(("dtype", "big"), [("float16", 2048.0), ("bfloat16", 256.0)])
def test_sixteen_bit_overlap_sums_in_float32(dtype, big):
    # Summed one by one in the 16-bit type, big + 1 + 1 rounds back to big
    # (1 is half a unit in the last place); summed in float32 it is big + 2.
    one = jnp.asarray(1.0, dtype)
    assert float(jnp.asarray(big, dtype) + one + one) == big
    x = jnp.array([0.0, 5.0, 0.0, 0.0], dtype)
    pool = lambda x: jaxpool.max_pool(x, (3,), 1, ((1, 1),), channel_axis=None)  # noqa: E731
    values, vjp = jax.vjp(pool, x)
    np.testing.assert_array_equal(values, [5.0, 5.0, 5.0, 0.0])
    (gradient,) = vjp(jnp.array([big, 1.0, 1.0, 0.0], dtype))
    assert gradient.dtype == jnp.dtype(dtype)
    np.testing.assert_array_equal(gradient, np.array([0.0, big + 2, 0.0, 0.0]))
