"""Tests for jaxpool.adaptive_max_pool and adaptive_max_pool_with_argmax."""

from __future__ import annotations

import itertools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from references import JAX_KEEPS_NESTED_CUSTOM_VJP_VALUES
from references import example_inputs
from references import saved_residual_lines
from references import scatter_ops

import jaxpool
from jaxpool._geometry import AdaptiveAxis

# (input shape in NCHW-style layout, output_shape): divisible, overlapping,
# output larger than the input, None, global, 1-D/2-D/3-D.
CONFIGS = {
    "1d_overlap": ((2, 3, 10), (7,)),
    "1d_upsample": ((2, 3, 5), (7,)),
    "1d_global": ((2, 3, 9), (1,)),
    "2d_divisible": ((2, 3, 9, 6), (3, 2)),
    "2d_overlap": ((2, 3, 12, 9), (5, 4)),
    "2d_keep_axis": ((2, 3, 7, 8), (None, 3)),
    "2d_global": ((2, 3, 9, 7), (1, 1)),
    "3d_overlap": ((1, 2, 5, 6, 7), (3, 4, 2)),
}


def brute_force_adaptive(x, output_shape, cotangent=None):
    """Values, switches (offsets counted over the largest window per axis),
    PyTorch indices and the gradient, one window at a time from the
    definitions; spatial axes last."""
    x = np.asarray(x, np.float64)
    d = len(output_shape)
    spatial = x.shape[-d:]
    sizes = [n if n is not None else length for n, length in zip(output_shape, spatial)]
    starts = [[i * length // n for i in range(n)] for length, n in zip(spatial, sizes)]
    stops = [
        [math.ceil((i + 1) * length / n) for i in range(n)] for length, n in zip(spatial, sizes)
    ]
    largest = [max(b - a for a, b in zip(s, e)) for s, e in zip(starts, stops)]
    rows = x.reshape(-1, *spatial)
    values = np.empty((rows.shape[0], *sizes))
    switches = np.empty(values.shape, np.int64)
    indices = np.empty(values.shape, np.int64)
    gradient = np.zeros_like(rows)
    if cotangent is not None:
        cotangent = np.asarray(cotangent, np.float64).reshape(values.shape)
    for row in range(rows.shape[0]):
        for out in itertools.product(*(range(n) for n in sizes)):
            best = None
            for offsets in itertools.product(
                *(range(e[i] - s[i]) for s, e, i in zip(starts, stops, out))
            ):
                index = tuple(s[i] + q for s, i, q in zip(starts, out, offsets))
                value = rows[(row, *index)]
                if best is None or value > best[0] or (np.isnan(value) and not np.isnan(best[0])):
                    best = value, offsets, index
            value, offsets, index = best
            where = (row, *out)
            values[where] = value
            switches[where] = np.ravel_multi_index(offsets, largest)
            indices[where] = np.ravel_multi_index(index, spatial)
            if cotangent is not None:
                gradient[(row, *index)] += cotangent[where]
    shaped = [a.reshape(*x.shape[:-d], *a.shape[1:]) for a in (values, switches, indices)]
    return (*shaped, gradient.reshape(x.shape))


def _indices(switches, x_shape, output_shape):
    from jaxpool._adaptive import adaptive_switches_to_indices
    from jaxpool._geometry import adaptive_geometry

    geometry = adaptive_geometry(x_shape, output_shape, channel_axis=1)
    return adaptive_switches_to_indices(switches, geometry)


class AgainstBruteForceTest(parameterized.TestCase):
    @parameterized.named_parameters(
        (f"{name}_{kind}", shape, output_shape, kind)
        for name, (shape, output_shape) in CONFIGS.items()
        for kind in ("random", "ties")
    )
    def test_values_switches_indices_and_gradient(self, shape, output_shape, kind):
        x = example_inputs(shape, kind=kind, seed=1)
        cotangent = example_inputs(
            jax.eval_shape(
                lambda x: jaxpool.adaptive_max_pool(x, output_shape, channel_axis=1), x
            ).shape,
            seed=2,
        )

        @jax.jit
        def run(x, cotangent):
            pool = lambda x: jaxpool.adaptive_max_pool_with_argmax(  # noqa: E731
                x, output_shape, channel_axis=1
            )
            (values, switches), vjp = jax.vjp(pool, x)
            (gradient,) = vjp((cotangent, np.zeros(switches.shape, jax.dtypes.float0)))
            return values, switches, _indices(switches, x.shape, output_shape), gradient

        values, switches, indices, gradient = run(x, cotangent)
        expected = brute_force_adaptive(x, output_shape, cotangent)
        np.testing.assert_array_equal(values, expected[0])
        np.testing.assert_array_equal(switches, expected[1])
        np.testing.assert_array_equal(indices, expected[2])
        np.testing.assert_allclose(gradient, expected[3], rtol=1e-6, atol=1e-6)

    def test_nan_first_and_channels_last(self):
        x = np.array(example_inputs((2, 3, 11, 10)))
        x[0, 1, 2, 3] = x[0, 1, 3, 1] = np.nan
        x = jnp.asarray(np.moveaxis(x, 1, -1))
        pool = jax.jit(lambda x: jaxpool.adaptive_max_pool_with_argmax(x, (4, 3)))
        values, switches = pool(x)
        expected = brute_force_adaptive(np.moveaxis(np.asarray(x), -1, 1), (4, 3))
        np.testing.assert_array_equal(np.moveaxis(np.asarray(values), -1, 1), expected[0])
        np.testing.assert_array_equal(np.moveaxis(np.asarray(switches), -1, 1), expected[1])

    # Eager runs cost seconds per pooling group; jit covers the numerics.
    @chex.variants(with_jit=True)
    def test_integer_inputs_and_jvp_mode(self):
        x = (np.arange(2 * 3 * 7 * 5).reshape(2, 3, 7, 5) * 37 % 11).astype(np.int32)
        values = self.variant(lambda x: jaxpool.adaptive_max_pool(x, (3, 2), channel_axis=1))(x)
        self.assertEqual(values.dtype, x.dtype)
        np.testing.assert_array_equal(values, brute_force_adaptive(x, (3, 2))[0])
        xf = jnp.asarray(x, jnp.float32) + example_inputs(x.shape) / 100
        pool = lambda x: jaxpool.adaptive_max_pool(  # noqa: E731
            x, (3, 2), channel_axis=1, autodiff="jvp"
        )
        _, tangent = self.variant(lambda x, t: jax.jvp(pool, (x,), (t,)))(xf, jnp.ones_like(xf))
        np.testing.assert_array_equal(tangent, np.ones(tangent.shape))


class TransformationsTest(parameterized.TestCase):
    def test_vmap_and_grad(self):
        x = example_inputs((2, 3, 12, 9), kind="ties", seed=3)

        def loss(x):
            return jnp.sum(jaxpool.adaptive_max_pool(x, (5, 4), channel_axis=0) ** 2)

        batched = jax.jit(jax.vmap(jax.grad(loss)))(x)
        single = jax.jit(jax.grad(loss))
        for n in range(2):
            np.testing.assert_array_equal(batched[n], single(x[n]))

    @parameterized.parameters(((5, 4),), ((1, 1),), ((3, 3),))
    def test_no_scatter_and_switches_alone_saved(self, output_shape):
        x = example_inputs((2, 12, 9, 3))
        loss = lambda x: jaxpool.adaptive_max_pool(x, output_shape).sum()  # noqa: E731
        self.assertEqual(scatter_ops(jax.jit(jax.grad(loss)), x), [])
        lines = saved_residual_lines(loss, x)
        if JAX_KEEPS_NESTED_CUSTOM_VJP_VALUES:
            lines = [line for line in lines if not line.startswith("f32[")]
        self.assertNotEmpty(lines)
        for line in lines:
            self.assertRegex(line, r"^i8\[")

    def test_global_pooling_of_a_large_map_is_one_separable_pooling(self):
        # The program does not grow with the window: a 224x224 global pooling
        # lowers to a few dozen ops, not one per window position.
        x = jax.ShapeDtypeStruct((2, 224, 224, 4), jnp.float32)
        loss = lambda x: jaxpool.adaptive_max_pool(x, (1, 1)).sum()  # noqa: E731
        text = jax.jit(jax.grad(loss)).lower(x).as_text()
        self.assertLess(text.count("stablehlo.select"), 200)


class ValidationTest(parameterized.TestCase):
    def test_bad_output_shape(self):
        x = jnp.zeros((2, 5, 5, 3))
        with pytest.raises(ValueError, match=r"output_shape entries must be positive.*\(0, 2\)"):
            jaxpool.adaptive_max_pool(x, (0, 2))
        with pytest.raises(TypeError, match=r"You probably meant \(2, 2\)"):
            jaxpool.adaptive_max_pool(x, 2)
        with pytest.raises(TypeError, match="output_shape entries must be ints or None"):
            jaxpool.adaptive_max_pool(x, (2.0, 2))
        with pytest.raises(ValueError, match="autodiff must be 'vjp' or 'jvp'"):
            jaxpool.adaptive_max_pool(x, (2, 2), autodiff="fwd")
        with pytest.raises(ValueError, match="is empty along spatial axis 1"):
            jaxpool.adaptive_max_pool(jnp.zeros((2, 0, 5, 3)), (2, 2))
        with pytest.raises(TypeError, match=r"inputs must be a jax\.Array"):
            jaxpool.adaptive_max_pool([[1.0]], (1,))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300))
def test_groups_are_pytorchs_windows(length, size):
    # Each group's regular windows are exactly PyTorch's windows
    # r, r + period, ...: same starts, same sizes, every window once.
    axis = AdaptiveAxis(axis=0, length=length, size=size)
    starts = [i * length // size for i in range(size)]
    stops = [-(-(i + 1) * length // size) for i in range(size)]
    seen = []
    for group in axis.groups():
        for m in range(group.count):
            i = group.residue + m * axis.period
            assert group.start + m * group.stride == starts[i]
            assert group.window == stops[i] - starts[i]
            seen.append(i)
        assert group.stop <= length
    assert sorted(seen) == list(range(size))
    assert axis.max_window == max(b - a for a, b in zip(starts, stops))
