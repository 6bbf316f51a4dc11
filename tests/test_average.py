"""Tests for jaxpool.avg_pool and jaxpool.adaptive_avg_pool, against NumPy
loops written from PyTorch's definitions, lax.reduce_window and Flax."""

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
from references import example_inputs
from references import output_size
from references import saved_residual_lines
from references import scatter_ops

import jaxpool


def _windows(spatial, window, strides, pairs, dilation, ceil_mode):
    """Per output position, the window's coordinates in the unpadded input
    and whether each lies in the input / in the input or its padding."""
    sizes = [
        output_size(n, w, s, r, lo, hi, ceil_mode)
        for n, w, s, r, (lo, hi) in zip(spatial, window, strides, dilation, pairs)
    ]
    for out in itertools.product(*(range(n) for n in sizes)):
        coords, real, padded = [], [], []
        for position in itertools.product(*(range(w) for w in window)):
            index = tuple(
                o * s + p * r - lo
                for o, s, p, r, (lo, _) in zip(out, strides, position, dilation, pairs)
            )
            coords.append(index)
            real.append(all(0 <= i < n for i, n in zip(index, spatial)))
            padded.append(all(-lo <= i < n + hi for i, n, (lo, hi) in zip(index, spatial, pairs)))
        yield sizes, out, coords, real, padded


def brute_force_avg(
    x,
    window,
    strides,
    pairs,
    *,
    dilation=None,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
    cotangent=None,
):
    """Values and (given ``cotangent``) the gradient of average pooling over
    the last ``d`` axes, in float64, one window at a time from PyTorch's
    rules: the sum of the window's input elements divided by
    ``divisor_override``, or by the positions in the input or the padding
    (``count_include_pad``; positions past the padding never count), or by
    the input elements alone (at least 1)."""
    x = np.asarray(x, np.float64)
    d = len(window)
    dilation = dilation or (1,) * d
    spatial = x.shape[-d:]
    values = gradient = None
    for sizes, out, coords, real, padded in _windows(
        spatial, window, strides, pairs, dilation, ceil_mode
    ):
        if values is None:
            values = np.zeros((*x.shape[:-d], *sizes))
            gradient = np.zeros_like(x)
        if divisor_override is not None:
            divisor = divisor_override
        elif count_include_pad:
            divisor = sum(padded)
        else:
            divisor = max(sum(real), 1)
        for index, is_real in zip(coords, real):
            if is_real:
                values[(..., *out)] += x[(..., *index)] / divisor
                if cotangent is not None:
                    gradient[(..., *index)] += np.asarray(cotangent)[(..., *out)] / divisor
    return values if cotangent is None else (values, gradient)


def brute_force_adaptive_avg(x, output_shape, cotangent=None):
    """PyTorch's adaptive average over the last axes: window ``i`` covers
    ``floor(i L / n) <= j < ceil((i + 1) L / n)``; values and gradient."""
    x = np.asarray(x, np.float64)
    d = len(output_shape)
    spatial = x.shape[-d:]
    sizes = [n or length for n, length in zip(output_shape, spatial)]
    values = np.zeros((*x.shape[:-d], *sizes))
    gradient = np.zeros_like(x)
    for out in itertools.product(*(range(n) for n in sizes)):
        box = tuple(
            slice(i * length // n, math.ceil((i + 1) * length / n))
            for i, length, n in zip(out, spatial, sizes)
        )
        count = math.prod(b.stop - b.start for b in box)
        values[(..., *out)] = x[(..., *box)].sum(axis=tuple(range(-d, 0))) / count
        if cotangent is not None:
            share = np.asarray(cotangent, np.float64)[(..., *out)] / count
            gradient[(..., *box)] += share.reshape(share.shape + (1,) * d)
    return values if cotangent is None else (values, gradient)


# (input shape, spatial axes last; window, strides, (low, high) pairs,
# dilation, ceil_mode)
CASES = {
    "1d_ceil_padded": ((2, 3, 11), (3,), (2,), [(1, 1)], None, True),
    "2d_blocks": ((2, 2, 8, 6), (2, 2), (2, 2), [(0, 0), (0, 0)], None, False),
    "2d_ceil_past_padding": ((1, 2, 9, 8), (3, 2), (2, 2), [(1, 1), (1, 1)], None, True),
    "2d_overlap_asymmetric": ((2, 7, 6), (3, 3), (1, 2), [(0, 2), (1, 0)], None, False),
    "2d_dilated": ((1, 2, 9, 9), (2, 3), (2, 1), [(1, 1), (2, 2)], (2, 2), True),
    "2d_big_padding": ((1, 1, 4, 4), (2, 2), (1, 1), [(2, 2), (2, 2)], None, False),
    "3d_ceil": ((1, 2, 5, 6, 7), (2, 3, 2), (2, 2, 2), [(1, 1), (0, 0), (1, 1)], None, True),
    # More than 12 window positions: one reduce_window and its own transpose.
    "2d_large_window": ((1, 2, 11, 9), (5, 4), (2, 1), [(2, 2), (1, 2)], None, True),
}


_EXPECTED: dict = {}


class AvgPoolTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters(
        # count_include_pad matters only where windows reach padding.
        ("1d_ceil_padded", True),
        ("1d_ceil_padded", False),
        ("2d_blocks", True),
        ("2d_ceil_past_padding", True),
        ("2d_ceil_past_padding", False),
        ("2d_overlap_asymmetric", False),
        ("2d_dilated", True),
        ("2d_big_padding", False),
        ("3d_ceil", True),
        ("2d_large_window", True),
        ("2d_large_window", False),
    )
    def test_values_and_gradient_against_brute_force(self, case, count_include_pad):
        self._check(case, ("", count_include_pad, None))

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters("2d_ceil_past_padding", "3d_ceil")
    def test_divisor_override_against_brute_force(self, case):
        self._check(case, ("override", False, 5))

    def _check(self, case, divisor):
        shape, window, strides, pairs, dilation, ceil_mode = CASES[case]
        _, count_include_pad, override = divisor
        x = example_inputs(shape, seed=3)
        settings = dict(
            window_dilation=dilation,
            ceil_mode=ceil_mode,
            count_include_pad=count_include_pad,
            divisor_override=override,
            channel_axis=0 if len(shape) == len(window) + 1 else 1,
        )

        def pool(x):
            return jaxpool.avg_pool(x, window, strides, pairs, **settings)

        cotangent = example_inputs(jax.eval_shape(pool, x).shape, seed=4)
        values, vjp = self.variant(lambda x: jax.vjp(pool, x))(x)
        (gradient,) = vjp(cotangent)
        key = (case, divisor)
        if key not in _EXPECTED:  # the loop is slow: once for both variants
            _EXPECTED[key] = brute_force_avg(
                x,
                window,
                strides,
                pairs,
                dilation=dilation,
                ceil_mode=ceil_mode,
                count_include_pad=count_include_pad,
                divisor_override=override,
                cotangent=cotangent,
            )
        expected, expected_gradient = _EXPECTED[key]
        np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6, atol=1e-6)


def test_channels_last_and_exact_on_integers_over_powers_of_two():
    # Integers summed and divided by 4 are exact in float32: equality.
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.integers(-50, 50, (2, 8, 6, 3)), jnp.float32)
    values = jaxpool.avg_pool(x, (2, 2), (2, 2))
    expected = np.asarray(x).reshape(2, 4, 2, 3, 2, 3).sum(axis=(2, 4)) / 4
    np.testing.assert_array_equal(values, expected)


def test_equals_reduce_window_averaging_and_flax():
    nn = pytest.importorskip("flax.linen")
    x = example_inputs((2, 9, 8, 3), seed=5)
    for window, strides, padding in [((2, 2), (2, 2), "VALID"), ((3, 3), (2, 1), "SAME")]:
        for include in (True, False):
            ours = jax.jit(
                lambda x, w=window, s=strides, p=padding, c=include: jaxpool.avg_pool(
                    x, w, s, p, count_include_pad=c
                )
            )(x)
            flax = nn.avg_pool(x, window, strides, padding, count_include_pad=include)
            np.testing.assert_allclose(ours, flax, rtol=1e-6, atol=1e-7)
            ours_grad = jax.grad(
                lambda x, w=window, s=strides, p=padding, c=include: jaxpool.avg_pool(
                    x, w, s, p, count_include_pad=c
                ).sum()
            )(x)
            flax_grad = jax.grad(
                lambda x, w=window, s=strides, p=padding, c=include: nn.avg_pool(
                    x, w, s, p, count_include_pad=c
                ).sum()
            )(x)
            np.testing.assert_allclose(ours_grad, flax_grad, rtol=1e-6, atol=1e-7)


def test_transformations_forward_mode_and_no_residual_no_scatter():
    x = example_inputs((2, 3, 8, 8), seed=6)

    def pool(x):
        return jaxpool.avg_pool(x, (3, 3), 2, 1, ceil_mode=True, channel_axis=1)

    # Linear: jvp gives the pooled tangent, vmap the pooled batch.
    tangent = example_inputs(x.shape, seed=7)
    _, out_tangent = jax.jvp(pool, (x,), (tangent,))
    np.testing.assert_allclose(out_tangent, pool(tangent), rtol=1e-6)
    np.testing.assert_allclose(jax.vmap(pool)(x[:, None]), pool(x)[:, None], rtol=1e-6)
    jacobian = jax.jacfwd(lambda v: pool(v.reshape(x.shape)).ravel())(x.ravel())
    np.testing.assert_allclose(
        jacobian, jax.jacrev(lambda v: pool(v.reshape(x.shape)).ravel())(x.ravel()), rtol=1e-6
    )
    grad = jax.jit(jax.grad(lambda x: pool(x).sum()))
    assert scatter_ops(grad, x) == []
    # Nothing computed from the input is kept: at most the static divisor
    # (which older JAX lists as an output of the jitted average).
    residuals = saved_residual_lines(lambda x: pool(x).sum(), x)
    divisor_shape = f"f32[1,1,{','.join(map(str, pool(x).shape[2:]))}]"
    assert all(line.startswith(divisor_shape) for line in residuals), residuals


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_sixteen_bit_is_summed_in_float32_and_keeps_its_dtype(dtype):
    x = jnp.full((1, 1, 1, 64), 1.0 + 2.0**-7, dtype)
    values = jaxpool.avg_pool(x.astype(dtype), (64,), channel_axis=None)
    assert values.dtype == dtype
    np.testing.assert_array_equal(values.astype(np.float32), np.asarray(x[..., :1], np.float32))


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"divisor_override": 0}, ValueError, "divisor_override=0"),
        ({"divisor_override": 2.5}, TypeError, "divisor_override must be a non-zero int"),
        ({"count_include_pad": "yes"}, TypeError, "count_include_pad must be a bool; got 'yes'"),
    ],
)
def test_bad_settings_name_the_value(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        jaxpool.avg_pool(jnp.zeros((1, 4, 4, 1)), (2, 2), **kwargs)


@pytest.mark.parametrize("dtype", [jnp.int8, jnp.uint8, jnp.int16, jnp.int32, jnp.bool_])
@pytest.mark.parametrize("name", ["2d_ceil_past_padding", "2d_overlap_asymmetric", "3d_ceil"])
def test_integers_and_bool_average_exactly_in_the_default_float(dtype, name):
    shape, window, strides, pairs, dilation, ceil_mode = CASES[name]
    rng = np.random.default_rng(3)
    if dtype == jnp.bool_:
        x = jnp.asarray(rng.integers(0, 2, shape), jnp.bool_)
    else:
        # 8 and 16 bits: the dtype's extremes, whose sums would wrap in the
        # input's own dtype; int32 sums wrap past 2**31 (as the frameworks').
        info = np.iinfo(dtype) if np.iinfo(dtype).bits < 32 else np.iinfo(np.int16)
        x = jnp.asarray(rng.integers(int(info.min), int(info.max), shape, endpoint=True), dtype)
    for count_include_pad in (True, False):
        values = jaxpool.avg_pool(
            x,
            window,
            strides,
            pairs,
            window_dilation=dilation,
            ceil_mode=ceil_mode,
            count_include_pad=count_include_pad,
            channel_axis=None if len(shape) == len(window) else 0,
        )
        expected = brute_force_avg(
            np.asarray(x, np.int64),
            window,
            strides,
            pairs,
            dilation=dilation,
            ceil_mode=ceil_mode,
            count_include_pad=count_include_pad,
        )
        assert values.dtype == jnp.float32
        np.testing.assert_allclose(values, expected, rtol=1e-6)


def test_integers_average_as_the_frameworks_do():
    flax_linen = pytest.importorskip("flax.linen")
    haiku = pytest.importorskip("haiku")
    x = jnp.asarray(np.random.default_rng(4).integers(-1000, 1000, (2, 9, 7, 3)), jnp.int32)
    np.testing.assert_array_equal(
        jaxpool.avg_pool(x, (3, 3), (2, 2), "SAME"), flax_linen.avg_pool(x, (3, 3), (2, 2), "SAME")
    )
    np.testing.assert_array_equal(
        jaxpool.avg_pool(x, (3, 3), (2, 2), "SAME", count_include_pad=False),
        haiku.avg_pool(x, (1, 3, 3, 1), (1, 2, 2, 1), "SAME"),
    )
    np.testing.assert_allclose(
        jaxpool.adaptive_avg_pool(x, (1, 1)), jnp.mean(x, axis=(1, 2), keepdims=True), rtol=1e-6
    )


def test_integer_average_truncates_toward_zero_as_pytorch_where_asked():
    from jaxpool import _family
    from jaxpool._geometry import pool_geometry

    x = jnp.asarray([[[-7, 2, 3, 5, -1, 4]]], jnp.int32)
    geometry = pool_geometry(x.shape, x.dtype, (2,), (2,), channel_axis=None, pad_value=0.0)
    # Sums -5, 8, 3: by 2 (PyTorch: -2, 4, 1) and by -3 (1, -2, -1).
    np.testing.assert_array_equal(_family._average(x, geometry, True, None, True), [[[-2, 4, 1]]])
    np.testing.assert_array_equal(_family._average(x, geometry, True, -3, True), [[[1, -2, -1]]])


def test_complex_input_names_the_dtypes_taken():
    with pytest.raises(TypeError, match=r"avg_pool takes real inputs.*complex64"):
        jaxpool.avg_pool(jnp.zeros((1, 4, 4, 1), jnp.complex64), (2, 2))
    with pytest.raises(TypeError, match="adaptive_avg_pool takes real inputs"):
        jaxpool.adaptive_avg_pool(jnp.zeros((1, 4, 4, 1), jnp.complex64), (2, 2))
    with pytest.raises(TypeError, match=r"lp_pool takes floating-point inputs.*astype"):
        jaxpool.lp_pool(jnp.zeros((1, 4, 4, 1), jnp.int32), 2, (2, 2))


ADAPTIVE = {
    "1d_overlap": ((2, 3, 10), (7,)),
    "1d_upsample": ((2, 5), (7,)),
    "2d_divisible": ((2, 3, 9, 6), (3, 2)),
    "2d_overlap": ((2, 12, 9), (5, 4)),
    "2d_keep_axis": ((1, 3, 7, 8), (None, 3)),
    "2d_global": ((2, 3, 9, 7), (1, 1)),
    "3d_overlap": ((1, 2, 5, 6, 7), (3, 4, 2)),
}


class AdaptiveAvgPoolTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.named_parameters((name, *case) for name, case in ADAPTIVE.items())
    def test_values_and_gradient_against_brute_force(self, shape, output_shape):
        x = example_inputs(shape, seed=8)
        channel_axis = 0 if len(shape) == len(output_shape) + 1 else 1

        def pool(x):
            return jaxpool.adaptive_avg_pool(x, output_shape, channel_axis=channel_axis)

        cotangent = example_inputs(jax.eval_shape(pool, x).shape, seed=9)
        values, vjp = self.variant(lambda x: jax.vjp(pool, x))(x)
        expected, expected_gradient = brute_force_adaptive_avg(x, output_shape, cotangent)
        np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(vjp(cotangent)[0], expected_gradient, rtol=1e-6, atol=1e-6)


def test_adaptive_channels_last_matches_channels_first():
    x = example_inputs((2, 3, 12, 9), seed=10)
    first = jaxpool.adaptive_avg_pool(x, (5, 4), channel_axis=1)
    last = jaxpool.adaptive_avg_pool(jnp.moveaxis(x, 1, -1), (5, 4))
    # Equal sums, which XLA may add in another order in another layout.
    np.testing.assert_allclose(jnp.moveaxis(last, -1, 1), first, rtol=1e-6)


def test_global_average_program_does_not_grow_with_the_window():
    def hlo_size(length):
        x = jax.ShapeDtypeStruct((2, length, length, 4), jnp.float32)
        grad = jax.jit(jax.grad(lambda x: jaxpool.adaptive_avg_pool(x, (1, 1)).sum()))
        return len(grad.lower(x).as_text())

    small, large = hlo_size(8), hlo_size(224)
    assert large < small * 1.2, (small, large)
    x = example_inputs((2, 224, 224, 4), seed=11)
    np.testing.assert_allclose(
        jaxpool.adaptive_avg_pool(x, (1, 1))[:, 0, 0], x.mean(axis=(1, 2)), rtol=1e-5
    )


@st.composite
def _geometries(draw):
    """A 1-D or 2-D pooling whose windows PyTorch's formula keeps non-empty."""
    d = draw(st.integers(1, 2))
    window = tuple(draw(st.integers(1, 4)) for _ in range(d))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(d))
    pairs = [tuple(draw(st.integers(0, w)) for _ in range(2)) for w in window]
    spatial = tuple(draw(st.integers(w, w + 5)) for w in window)
    return (
        spatial,
        window,
        strides,
        pairs,
        draw(st.booleans()),
        draw(st.booleans()),
        draw(st.sampled_from([None, 1, 3])),
    )


@settings(max_examples=50, deadline=None)
@given(_geometries())
def test_random_geometries_against_brute_force(geometry):
    spatial, window, strides, pairs, ceil_mode, include, override = geometry
    x = example_inputs((2, *spatial), seed=12)
    values = jax.jit(
        lambda x: jaxpool.avg_pool(
            x,
            window,
            strides,
            pairs,
            ceil_mode=ceil_mode,
            count_include_pad=include,
            divisor_override=override,
            channel_axis=0,
        )
    )(x)
    expected = brute_force_avg(
        x,
        window,
        strides,
        pairs,
        ceil_mode=ceil_mode,
        count_include_pad=include,
        divisor_override=override,
    )
    np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-6)
