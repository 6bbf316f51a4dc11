"""Tests for jaxpool.max_unpool, switches_to_indices and indices_to_switches."""

from __future__ import annotations

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from references import brute_force_pool
from references import enable_x64
from references import example_inputs
from references import output_size
from references import padding_pairs
from references import saved_residual_lines
from references import scatter_ops
from references import spatial_axes

import jaxpool

# (spatial shape, window, strides, padding, dilation, ceil_mode): disjoint,
# overlapping, padded, dilated, ceil mode, and windows of more than a dozen
# positions (pooled axis by axis), in 1-D, 2-D and 3-D.
CONFIGS = {
    "1d_disjoint": ((9,), (3,), (3,), 0, (1,), False),
    "1d_overlap_pad_ceil": ((10,), (4,), (3,), 1, (1,), True),
    "1d_long_dilated": ((21,), (13,), (2,), 3, (1,), False),
    "2d_disjoint": ((6, 8), (2, 2), (2, 2), 0, (1, 1), False),
    "2d_overlap_pad": ((7, 6), (3, 3), (2, 2), 1, (1, 1), False),
    "2d_dilated_ceil": ((9, 8), (3, 2), (2, 1), (1, 0), (2, 3), True),
    "2d_large_overlap": ((11, 10), (5, 4), (2, 3), (2, 1), (1, 2), True),
    "2d_large_disjoint": ((12, 10), (6, 5), (6, 5), 0, (1, 1), False),
    "3d_overlap_pad": ((5, 6, 5), (3, 2, 2), (2, 2, 1), 1, (1, 1, 1), True),
    "3d_large": ((6, 7, 6), (3, 3, 2), (2, 2, 2), (1, 1, 0), (1, 1, 1), False),
}


def _settings(config, channel_axis=1):
    _, window, strides, padding, dilation, ceil_mode = config
    return dict(
        window_shape=window,
        strides=strides,
        padding=padding,
        window_dilation=dilation,
        ceil_mode=ceil_mode,
        channel_axis=channel_axis,
    )


def _input_shape(spatial, channel_axis):
    if channel_axis == -1:
        return (2, *spatial, 3)
    return (2, 3, *spatial)


def _sources(input_shape, settings):
    """Per output position (spatial) and window position, the unpadded input
    coordinate it reads, or None in padding; from the definitions."""
    window = settings["window_shape"]
    d = len(window)
    axes = spatial_axes(len(input_shape), d, settings["channel_axis"])
    spatial = [input_shape[a] for a in axes]
    pairs = padding_pairs(settings["padding"], spatial, window, settings["strides"], [1] * d)
    dilation = settings["window_dilation"]
    sizes = [
        output_size(n, w, s, r, lo, hi, settings["ceil_mode"])
        for n, w, s, r, (lo, hi) in zip(spatial, window, settings["strides"], dilation, pairs)
    ]
    table = {}
    positions = list(itertools.product(*(range(w) for w in window)))
    for out in itertools.product(*(range(n) for n in sizes)):
        for k, position in enumerate(positions):
            index = tuple(
                o * s + p * r - lo
                for o, s, p, r, (lo, _) in zip(out, settings["strides"], position, dilation, pairs)
            )
            inside = all(0 <= i < n for i, n in zip(index, spatial))
            table[out, k] = index if inside else None
    return axes, spatial, table


def _per_plane(array, axes):
    """``array`` with its spatial axes last, batch and channel flattened."""
    array = np.asarray(array)
    d = len(axes)
    moved = np.moveaxis(array, axes, list(range(array.ndim - d, array.ndim)))
    return moved.reshape(-1, *moved.shape[-d:])


def _better(value, best):
    return value > best or (np.isnan(value) and not np.isnan(best))


def brute_force_unpool(values, switches, input_shape, settings, combine):
    """One value at a time: placed at its switch's element, added or kept if
    larger (NaN largest) where several land, dropped in padding."""
    axes, spatial, table = _sources(input_shape, settings)
    d = len(axes)
    values_rows = _per_plane(values, axes).astype(np.float64)
    switch_rows = _per_plane(switches, axes)
    result = np.zeros((values_rows.shape[0], *spatial))
    landed = np.zeros(result.shape, bool)
    for row in range(values_rows.shape[0]):
        for out in itertools.product(*(range(n) for n in values_rows.shape[1:])):
            index = table[out, int(switch_rows[(row, *out)])]
            if index is None:
                continue
            value, target = values_rows[(row, *out)], (row, *index)
            if combine == "sum":
                result[target] += value
            elif not landed[target] or _better(value, result[target]):
                result[target] = value
            landed[target] = True
    moved_shape = [input_shape[a] for a in range(len(input_shape)) if a not in axes]
    shaped = result.reshape(*moved_shape, *spatial)
    return np.moveaxis(shaped, list(range(len(input_shape) - d, len(input_shape))), axes)


def brute_force_indices(switches, input_shape, settings):
    """PyTorch's indices: row-major index in the unpadded plane, -1 in padding."""
    axes, spatial, table = _sources(input_shape, settings)
    switches = np.asarray(switches)
    indices = np.empty(switches.shape, np.int64)
    for where in np.ndindex(*switches.shape):
        out = tuple(where[a] for a in axes)
        index = table[out, int(switches[where])]
        indices[where] = -1 if index is None else np.ravel_multi_index(index, spatial)
    return indices


class UnpoolAgainstBruteForceTest(chex.TestCase, parameterized.TestCase):
    @parameterized.named_parameters(
        (f"{name}_{layout}", config, channel_axis)
        for name, config in CONFIGS.items()
        for layout, channel_axis in (("nchw", 1), ("nhwc", -1))
        if layout == "nchw" or name in ("2d_large_overlap", "3d_overlap_pad")
    )
    def test_unpool_and_indices_of_max_pool_switches(self, config, channel_axis):
        settings = _settings(config, channel_axis)
        shape = _input_shape(config[0], channel_axis)
        x = example_inputs(shape, kind="ties", seed=1) + example_inputs(shape) / 100

        @jax.jit
        def run(x):
            values, switches = jaxpool.max_pool_with_argmax(x, **settings)
            outputs = [
                jaxpool.max_unpool(values, switches, x.shape, **settings, combine=combine)
                for combine in ("sum", "max")
            ]
            indices = jaxpool.switches_to_indices(switches, x.shape, **settings)
            back = jaxpool.indices_to_switches(indices, x.shape, **settings)
            # The sum route is max_pool's backward: the VJP at any cotangent.
            cotangent = jnp.sin(values * 3.0 + 1.0)
            (vjp,) = jax.vjp(lambda x: jaxpool.max_pool(x, **settings), x)[1](cotangent)
            routed = jaxpool.max_unpool(cotangent, switches, x.shape, **settings)
            return values, switches, outputs, indices, back, vjp, routed

        values, switches, (summed, largest), indices, back, vjp, routed = run(x)
        np.testing.assert_array_equal(routed, vjp)
        expected_values, expected_switches = brute_force_pool(np.asarray(x), **settings)
        np.testing.assert_array_equal(values, expected_values)
        np.testing.assert_array_equal(switches, expected_switches)
        np.testing.assert_allclose(
            summed, brute_force_unpool(values, switches, shape, settings, "sum"), rtol=1e-6
        )
        np.testing.assert_array_equal(
            largest, brute_force_unpool(values, switches, shape, settings, "max")
        )
        np.testing.assert_array_equal(indices, brute_force_indices(switches, shape, settings))
        self.assertEqual(indices.dtype, jnp.int32)
        np.testing.assert_array_equal(back, switches)
        self.assertEqual(back.dtype, switches.dtype)

    @parameterized.named_parameters(
        (name, CONFIGS[name])
        for name in ("1d_overlap_pad_ceil", "2d_overlap_pad", "2d_dilated_ceil", "3d_overlap_pad")
    )
    def test_any_switches_with_small_windows(self, config):
        # Position by position, any switches route exactly, padding included.
        settings = _settings(config)
        shape = _input_shape(config[0], 1)
        x = example_inputs(shape)
        output_shape = jax.eval_shape(lambda x: jaxpool.max_pool(x, **settings), x).shape
        rng = np.random.default_rng(3)
        positions = int(np.prod(config[1]))
        switches = rng.integers(0, positions, size=output_shape).astype(np.int32)
        values = rng.integers(-3, 4, size=output_shape).astype(np.float32)
        values[0, 0, ..., 0] = np.nan

        @jax.jit
        def run(values, switches):
            return (
                jaxpool.max_unpool(values, switches, shape, **settings, combine="sum"),
                jaxpool.max_unpool(values, switches, shape, **settings, combine="max"),
                jaxpool.switches_to_indices(switches, shape, **settings),
            )

        summed, largest, indices = run(values, switches)
        np.testing.assert_array_equal(
            summed, brute_force_unpool(values, switches, shape, settings, "sum")
        )
        np.testing.assert_array_equal(
            largest, brute_force_unpool(values, switches, shape, settings, "max")
        )
        np.testing.assert_array_equal(indices, brute_force_indices(switches, shape, settings))

    def test_minus_one_is_the_first_padded_position(self):
        # Corner windows with pad_value=0 select padding where every real
        # element is negative; -1 maps back to that very switch.
        settings = _settings(((5, 5), (3, 3), (2, 2), 1, (1, 1), True))
        x = -1.0 - example_inputs((1, 2, 5, 5)) ** 2

        @jax.jit
        def run(x):
            _, switches = jaxpool.max_pool_with_argmax(x, **settings, pad_value=0.0)
            indices = jaxpool.switches_to_indices(switches, x.shape, **settings)
            return switches, indices, jaxpool.indices_to_switches(indices, x.shape, **settings)

        switches, indices, back = run(x)
        self.assertTrue(np.any(np.asarray(indices) == -1))
        np.testing.assert_array_equal(back, switches)
        np.testing.assert_array_equal(indices, brute_force_indices(switches, x.shape, settings))

    @chex.variants(with_jit=True, without_jit=True)
    def test_integer_and_bool_values_with_disjoint_windows(self):
        settings = _settings(CONFIGS["2d_disjoint"])
        x = np.arange(2 * 3 * 6 * 8).reshape(2, 3, 6, 8) % 7
        for dtype in ("int32", "bool"):
            inputs = jnp.asarray(x).astype(dtype)
            values, switches = jaxpool.max_pool_with_argmax(inputs, **settings)
            unpooled = self.variant(lambda v, s: jaxpool.max_unpool(v, s, x.shape, **settings))(
                values, switches
            )
            self.assertEqual(unpooled.dtype, inputs.dtype)
            expected = brute_force_unpool(values, switches, x.shape, settings, "max")
            np.testing.assert_array_equal(unpooled, expected.astype(dtype))

    def test_x64_indices_are_int64(self):
        settings = _settings(CONFIGS["2d_overlap_pad"])
        with enable_x64(True):
            x = example_inputs((1, 2, 7, 6), "float64")
            _, switches = jax.jit(lambda x: jaxpool.max_pool_with_argmax(x, **settings))(x)
            indices = jax.jit(lambda s: jaxpool.switches_to_indices(s, x.shape, **settings))(
                switches
            )
            self.assertEqual(indices.dtype, jnp.int64)
            np.testing.assert_array_equal(indices, brute_force_indices(switches, x.shape, settings))


class TransformationsTest(parameterized.TestCase):
    @parameterized.parameters("sum", "max")
    def test_grad_of_unpool_picks_at_the_switches(self, combine):
        settings = _settings(CONFIGS["2d_overlap_pad"])
        x = example_inputs((2, 3, 7, 6))
        values, switches = jaxpool.max_pool_with_argmax(x, **settings)
        weights = example_inputs(x.shape, seed=4)

        def loss(values):
            unpooled = jaxpool.max_unpool(values, switches, x.shape, **settings, combine=combine)
            return jnp.sum(unpooled * weights)

        grad = np.asarray(jax.jit(jax.grad(loss))(values))
        # "sum" sends every value the weight at its switch's element; "max"
        # sends the weight to one of the (equal) values that land together.
        table = _sources(x.shape, settings)[2]
        expected, received = {}, {}
        for n, c, i, j in np.ndindex(*values.shape):
            index = table[(i, j), int(switches[n, c, i, j])]
            target = None if index is None else (n, c, *index)
            weight = 0.0 if target is None else float(weights[target])
            if combine == "sum":
                self.assertEqual(grad[n, c, i, j], weight)
            elif target is None:
                self.assertEqual(grad[n, c, i, j], 0.0)
            else:
                expected[target] = weight
                received[target] = received.get(target, 0.0) + grad[n, c, i, j]
        self.assertEqual(received, expected)

    def test_vmap_over_batch(self):
        settings = _settings(CONFIGS["2d_large_overlap"], channel_axis=0)
        x = example_inputs((2, 3, 11, 10), kind="ties", seed=5)

        def one(x):
            values, switches = jaxpool.max_pool_with_argmax(x, **settings)
            indices = jaxpool.switches_to_indices(switches, x.shape, **settings)
            return jaxpool.max_unpool(values, switches, x.shape, **settings, combine="max"), indices

        batched, batched_indices = jax.jit(jax.vmap(one))(x)
        for n in range(2):
            single, indices = jax.jit(one)(x[n])
            np.testing.assert_array_equal(batched[n], single)
            np.testing.assert_array_equal(batched_indices[n], indices)

    @parameterized.named_parameters(
        (name, CONFIGS[name]) for name in ("2d_overlap_pad", "2d_large_overlap")
    )
    def test_no_scatter(self, config):
        settings = _settings(config)
        x = example_inputs(_input_shape(config[0], 1))
        values, switches = jaxpool.max_pool_with_argmax(x, **settings)
        for combine in ("sum", "max"):
            unpool = jax.jit(
                lambda v, s, c=combine: jaxpool.max_unpool(v, s, x.shape, **settings, combine=c)
            )
            self.assertEqual(scatter_ops(unpool, values, switches), [])
            self.assertNotIn("gather", unpool.lower(values, switches).as_text())
            self.assertEqual(
                scatter_ops(jax.jit(jax.grad(lambda v, u=unpool: u(v, switches).sum())), values), []
            )
        indices = jax.jit(lambda s: jaxpool.switches_to_indices(s, x.shape, **settings))
        self.assertEqual(scatter_ops(indices, switches), [])
        back = jax.jit(lambda i: jaxpool.indices_to_switches(i, x.shape, **settings))
        self.assertEqual(scatter_ops(back, indices(switches)), [])

    def test_residuals_are_the_switches_alone(self):
        settings = _settings(CONFIGS["2d_overlap_pad"])
        x = example_inputs((2, 3, 7, 6))

        def decode(x):
            values, switches = jaxpool.max_pool_with_argmax(x, **settings)
            return jaxpool.max_unpool(values * 2.0, switches, x.shape, **settings).sum()

        lines = saved_residual_lines(decode, x)
        # max_pool's backward and the unpool's (linear) each save the int8
        # switches, nothing else: no float array (a scalar literal aside), no
        # per-position masks.
        arrays = [line for line in lines if not line.startswith("f32[] ")]
        self.assertBetween(len(arrays), 1, 2, lines)
        for line in arrays:
            self.assertStartsWith(line, "i8[2,3,4,3]")


class ValidationTest(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        self.settings = _settings(CONFIGS["2d_overlap_pad"])
        self.x = example_inputs((2, 3, 7, 6))
        self.values, self.switches = jaxpool.max_pool_with_argmax(self.x, **self.settings)

    def test_input_shape_that_does_not_match(self):
        with pytest.raises(ValueError, match=r"input_shape=\(2, 3, 9, 6\).*gives"):
            jaxpool.max_unpool(self.values, self.switches, (2, 3, 9, 6), **self.settings)
        with pytest.raises(ValueError, match="same rank"):
            jaxpool.max_unpool(self.values, self.switches, (3, 7, 6), **self.settings)
        with pytest.raises(TypeError, match="input_shape must be a sequence of ints"):
            jaxpool.max_unpool(self.values, self.switches, "2376", **self.settings)
        with pytest.raises(ValueError, match=r"indices has shape.*gives"):
            jaxpool.indices_to_switches(self.switches, (2, 3, 5, 6), **self.settings)

    def test_bad_switches(self):
        with pytest.raises(TypeError, match="switches must have an integer dtype; got float32"):
            jaxpool.max_unpool(
                self.values, self.switches.astype(float), self.x.shape, **self.settings
            )
        with pytest.raises(ValueError, match=r"switches has shape \(2, 3, 4\)"):
            jaxpool.max_unpool(self.values, self.switches[..., 0], self.x.shape, **self.settings)
        with pytest.raises(TypeError, match=r"switches must be a jax\.Array or numpy array"):
            jaxpool.max_unpool(self.values, [[0]], self.x.shape, **self.settings)
        with pytest.raises(TypeError, match="indices must have an integer dtype"):
            jaxpool.indices_to_switches(self.values, self.x.shape, **self.settings)
        with pytest.raises(TypeError, match="switches must have an integer dtype"):
            jaxpool.switches_to_indices(self.values, self.x.shape, **self.settings)

    def test_bad_combine_and_values(self):
        with pytest.raises(ValueError, match="combine must be 'sum' or 'max'; got 'mean'"):
            jaxpool.max_unpool(
                self.values, self.switches, self.x.shape, **self.settings, combine="mean"
            )
        with pytest.raises(TypeError, match=r"combine='sum'.*float values; got dtype int32"):
            jaxpool.max_unpool(
                self.values.astype(jnp.int32), self.switches, self.x.shape, **self.settings
            )
        with pytest.raises(TypeError, match="values must be real"):
            jaxpool.max_unpool(
                self.values.astype(jnp.complex64), self.switches, self.x.shape, **self.settings
            )


def test_settings_of_another_pool_name_what_to_pass():
    x = example_inputs((2, 9, 8, 3))
    values, switches = jaxpool.max_pool_with_argmax(x, (3, 3), (2, 2), ceil_mode=True)
    # Unpooled with the default floor mode: the message says which setting fits.
    pattern = (
        r"values has shape \(2, 4, 4, 3\), but max pooling .* window_shape=\(3, 3\), "
        r"strides=\(2, 2\).*ceil_mode=False gives \(2, 4, 3, 3\)\. Pass the settings of the "
        r"max pool that made the switches.*\(ceil_mode=True would give \(2, 4, 4, 3\)\)"
    )
    with pytest.raises(ValueError, match=pattern):
        jaxpool.max_unpool(values, switches, x.shape, (3, 3), (2, 2))
    # strides=None is 1 here, where PyTorch's default is the window.
    values, switches = jaxpool.max_pool_with_argmax(x, (2, 2), (2, 2))
    with pytest.raises(ValueError, match=r"\(strides=\(2, 2\) would give \(2, 4, 4, 3\)\)"):
        jaxpool.max_unpool(values, switches, x.shape, (2, 2))
