"""A NaN is never hidden: values, switches, indices and gradients agree.

Rule 2 says NaN counts as larger than every number: the value is NaN and the
switch is the first NaN in row-major window order. XLA:CPU's max reduction
drops NaN once it reduces 4,096 elements or more (``jnp.max`` of 4,096 zeros
holding one NaN returns 0.0), so these tests use arrays on both sides of that
size, run every strategy explicitly on every geometry they draw, and check
each entry point against references written from the definitions: the values
are the input at the switches, the switches are the brute-force loop's, PyTorch
indices name the same elements, and the gradient goes to exactly those
switches (it equals ``max_unpool`` of the cotangent by them).
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from references import _settings as reference_settings
from references import brute_force_pool
from references import enable_x64
from test_adaptive import brute_force_adaptive
from test_unpool import brute_force_unpool

import jaxpool
import jaxpool.functional
from jaxpool import _pooling
from jaxpool import _reduced
from jaxpool import _strategy
from jaxpool import _windowed
from jaxpool._geometry import BACKENDS
from jaxpool._geometry import STRATEGIES
from jaxpool._geometry import pool_geometry

# XLA:CPU's max reduction keeps NaN below this many elements and drops it from here on.
REDUCTION_DROPS_NAN_FROM = 4096
SPECIALS = (0.0, 1.0, -1.0, 2.0, np.nan, np.inf, -np.inf)


def _gathered(x, switches, window_shape, strides=None, padding="VALID", **pooling):
    """The input element (or the pad value) at every switch, from the
    definitions: window ``i`` holds ``i * stride + q * dilation - low``."""
    pad_value = pooling.pop("pad_value", -np.inf)
    x = np.asarray(x, np.float64)
    strides_, dilation, axes, pairs, _ = reference_settings(
        x,
        window_shape,
        strides,
        padding,
        pooling.get("window_dilation"),
        pooling.get("ceil_mode", False),
        pooling.get("channel_axis", -1),
    )
    switches = np.asarray(switches)
    result = np.empty(switches.shape)
    for where in np.ndindex(*switches.shape):
        digits = np.unravel_index(int(switches[where]), window_shape)
        source = list(where)
        for k, axis in enumerate(axes):
            source[axis] = where[axis] * strides_[k] + digits[k] * dilation[k] - pairs[k][0]
        inside = all(0 <= source[axis] < x.shape[axis] for axis in axes)
        result[where] = x[tuple(source)] if inside else pad_value
    return result


def _pool_and_gradient(x, geometry, mode, cotangent):
    """Values and switches, the values of a values-only call, and the
    gradient of ``vdot(values, cotangent)``, through the given geometry."""
    pool = _pooling._AUTODIFF_MODES[mode]
    values, switches = pool(x, geometry, True)
    values_only = jax.jit(lambda x: pool(x, geometry, False)[0])(x)
    gradient = jax.jit(jax.grad(lambda x: jnp.vdot(pool(x, geometry, False)[0], cotangent)))(x)
    return values, switches, values_only, gradient


def _geometry(x, pooling, strategy, backend=None):
    """The geometry pooled by ``strategy`` (positions where the windowed or
    the reduced one cannot pool it) and ``backend``'s plan."""
    geometry = pool_geometry(x.shape, x.dtype, **pooling)
    if strategy == "windowed" and not _windowed.applies(geometry):
        strategy = "positions"
    if strategy == "reduced" and not _reduced.applies(geometry):
        strategy = "positions"
    geometry = geometry.with_strategy(strategy)
    return geometry if backend is None else geometry.with_backend(backend)


def _assert_nan_rules(x, pooling, strategy, mode, backend=None):
    geometry = _geometry(x, pooling, strategy, backend)
    cotangent = jnp.asarray(
        np.random.default_rng(3).uniform(0.5, 1.5, geometry.output_shape), x.dtype
    )
    values, switches, values_only, gradient = _pool_and_gradient(x, geometry, mode, cotangent)
    expected_values, expected_switches, expected_gradient = brute_force_pool(
        x, **pooling, cotangent=cotangent
    )
    np.testing.assert_array_equal(switches, expected_switches)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(values, _gathered(x, switches, **pooling))
    np.testing.assert_array_equal(values_only, values)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)
    public = {key: value for key, value in pooling.items() if key != "pad_value"}
    unpooled = jaxpool.max_unpool(cotangent, switches, x.shape, **public)
    if pooling.get("pad_value", -np.inf) == -np.inf:
        # The same contributions; another strategy may add overlaps in another order.
        np.testing.assert_allclose(gradient, unpooled, rtol=1e-6)


# --- Regressions: one NaN in arrays on both sides of the reduction's threshold.


@pytest.mark.parametrize("length", [REDUCTION_DROPS_NAN_FROM - 1, REDUCTION_DROPS_NAN_FROM, 8192])
@pytest.mark.parametrize("call", ["jit", "eager"])
def test_global_1d_window_with_one_nan(length, call):
    x = np.zeros((1, length), np.float32)
    x[0, 5] = np.nan

    def pool(x):
        return jaxpool.max_pool_with_argmax(x, (length,), channel_axis=None)

    if call == "jit":
        pool = jax.jit(pool)
    values, switches = pool(x)
    assert np.isnan(values).all() and switches.tolist() == [[5]]
    assert np.isnan(jaxpool.max_pool(x, (length,), channel_axis=None)).all()
    gradient = jax.grad(lambda x: jaxpool.max_pool(x, (length,), channel_axis=None).sum())(x)
    assert np.flatnonzero(gradient).tolist() == [5]


@pytest.mark.parametrize(
    "shape, window_shape, channel_axis",
    [
        ((2, 32, 32, 4), (16, 16), -1),  # large disjoint windows, 8,192 elements
        ((2, 16, 16, 4), (16, 16), -1),  # global, 2,048 elements
        ((2, 64, 64, 3), (64, 64), -1),  # global, 24,576 elements
        ((2, 3, 64, 64), (64, 64), 1),  # global, channels-first
        ((3, 40, 40), (8, 20), None),  # disjoint 8x20 windows
    ],
)
def test_large_disjoint_windows_with_nan(shape, window_shape, channel_axis):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    if channel_axis is None:
        x[0, 3, 5] = x[1, 30, 33] = np.nan
    elif channel_axis == 1:
        x[:, :, 3, 5] = np.nan
        x[1, 2, 40, 7] = np.nan
    else:
        x[:, 3, 5, :] = np.nan
        x[1, 12, 9, 2] = np.nan
    pooling = dict(window_shape=window_shape, strides=window_shape, channel_axis=channel_axis)
    values, switches = jaxpool.max_pool_with_argmax(x, **pooling)
    expected_values, expected_switches = brute_force_pool(x, **pooling)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(switches, expected_switches)
    np.testing.assert_array_equal(jaxpool.max_pool(x, **pooling), expected_values)
    np.testing.assert_array_equal(jax.jit(lambda x: jaxpool.max_pool(x, **pooling))(x), values)


@pytest.mark.parametrize(
    "shape, window_shape, strides, channel_axis",
    [
        ((4, 1100), (70,), (50,), None),  # 1-D doubling, 4,400 elements
        ((2, 300, 8), (33,), (20,), -1),  # 1-D doubling, channels-last
        ((1, 4, 30, 40), (11, 9), (5, 4), 1),  # 2-D overlapping, unrolled and doubling
    ],
)
def test_long_overlapping_windows_with_nan(shape, window_shape, strides, channel_axis):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, 12, replace=False)] = np.nan
    pooling = dict(window_shape=window_shape, strides=strides, channel_axis=channel_axis)
    large = ("separable", "windowed", "reduced")
    for strategy in STRATEGIES if np.prod(window_shape) < 50 else large:
        for mode in ("vjp", "jvp"):
            _assert_nan_rules(x, pooling, strategy, mode)


def test_adaptive_with_nan_on_the_inner_axis():
    x = np.zeros((1, 1, 3, 2048), np.float32)
    x[0, 0, 0, 7] = 10.0
    x[0, 0, 1, 5] = np.nan
    values, indices = jaxpool.functional.adaptive_max_pool2d(x, (2, 1), return_indices=True)
    assert np.isnan(values).all()
    assert indices.ravel().tolist() == [2053, 2053]
    gradient = jax.grad(lambda x: jaxpool.functional.adaptive_max_pool2d(x, (2, 1)).sum())(x)
    assert np.flatnonzero(gradient).tolist() == [2053] and gradient.ravel()[2053] == 2.0


@pytest.mark.parametrize(
    "shape, output_shape, nan_at",
    [
        ((1, 1, 3, 2048), (2, 1), [(0, 0, 1, 5), (0, 0, 2, 900)]),  # inner axis
        ((1, 2, 2048, 3), (1, 2), [(0, 0, 1500, 2), (0, 1, 7, 0)]),  # outer axis
        ((2, 4, 70, 70), (3, 5), [(0, 1, 33, 12), (1, 3, 69, 69), (1, 3, 68, 69)]),
        ((1, 2, 5000), (3,), [(0, 0, 1700), (0, 1, 4999)]),
    ],
)
def test_adaptive_with_nan_against_the_definition(shape, output_shape, nan_at):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(np.float32)
    for where in nan_at:
        x[where] = np.nan
    cotangent_shape = (*shape[:2], *(n for n in output_shape))
    cotangent = np.random.default_rng(4).uniform(0.5, 1.5, cotangent_shape).astype(np.float32)
    expected_values, expected_switches, expected_indices, expected_gradient = brute_force_adaptive(
        x, output_shape, cotangent
    )
    d = len(output_shape)
    values, indices = getattr(jaxpool.functional, f"adaptive_max_pool{d}d")(
        x, output_shape, return_indices=True
    )
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(indices, expected_indices)
    _, switches = jaxpool.adaptive_max_pool_with_argmax(x, output_shape, channel_axis=1)
    np.testing.assert_array_equal(switches, expected_switches)
    np.testing.assert_array_equal(
        jaxpool.adaptive_max_pool(x, output_shape, channel_axis=1), values
    )
    for mode in ("vjp", "jvp"):
        gradient = jax.grad(
            lambda x, mode=mode: jnp.vdot(
                jaxpool.adaptive_max_pool(x, output_shape, channel_axis=1, autodiff=mode),
                cotangent,
            )
        )(x)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)


@pytest.mark.parametrize(
    "shape, window_shape, strides",
    [
        ((2, 3, 70, 70), (3, 3), (1, 1)),
        ((2, 3, 40, 40), (5, 5), (2, 2)),
        ((1, 2, 4200), (9,), (4,)),
    ],
)
def test_unpool_max_with_nan_values(shape, window_shape, strides):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(np.float32)
    values, switches = jaxpool.max_pool_with_argmax(x, window_shape, strides, channel_axis=1)
    values = np.array(values)
    flat = values.reshape(-1)
    flat[rng.choice(flat.size, 20, replace=False)] = np.nan
    settings_ = dict(
        window_shape=window_shape,
        strides=strides,
        padding="VALID",
        window_dilation=(1,) * len(window_shape),
        ceil_mode=False,
        channel_axis=1,
    )
    unpooled = jaxpool.max_unpool(values, switches, shape, **settings_, combine="max")
    expected = brute_force_unpool(values, switches, shape, settings_, "max")
    np.testing.assert_array_equal(unpooled, expected)
    assert np.isnan(unpooled).sum() == np.isnan(expected).sum() > 0


# --- Properties: every strategy, drawn geometries, ties, NaN and infinities.


@st.composite
def nan_cases(draw):
    d = draw(st.integers(1, 2))
    spatial = draw(st.lists(st.integers(1, 9), min_size=d, max_size=d))
    largest = 10 if d == 1 else 4
    window = draw(st.lists(st.integers(1, largest), min_size=d, max_size=d))
    strides = draw(st.lists(st.integers(1, 3), min_size=d, max_size=d))
    dilation = draw(st.lists(st.integers(1, 2), min_size=d, max_size=d))
    padding = draw(
        st.one_of(
            st.sampled_from(["VALID", "SAME"]),
            st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=d, max_size=d),
        )
    )
    channel_axis = draw(st.sampled_from([-1, 1, None]))
    channels = draw(st.sampled_from([1, 3, 70]))
    shape = (2, *spatial) if channel_axis is None else (2, *spatial, channels)
    if channel_axis == 1:
        shape = (2, channels, *spatial)
    pooling = dict(
        window_shape=tuple(window),
        strides=tuple(strides),
        padding=padding,
        window_dilation=tuple(dilation),
        ceil_mode=draw(st.booleans()),
        channel_axis=channel_axis,
        pad_value=draw(st.sampled_from([-np.inf, -np.inf, 0.0])),
    )
    try:
        pool_geometry(shape, np.float32, **pooling)
    except ValueError:
        assume(False)
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).choice(np.asarray(SPECIALS, np.float32), size=shape)
    strategy = draw(st.sampled_from(STRATEGIES))
    return (
        x,
        pooling,
        strategy,
        draw(st.sampled_from(["vjp", "jvp"])),
        draw(st.sampled_from(BACKENDS)),
    )


@settings(max_examples=36, deadline=None)
@given(nan_cases())
def test_every_strategy_keeps_the_rules_on_nan_ties_and_infinities(case):
    # Each backend's plan runs here on the CPU: its values-only formulation
    # and its selection, whatever strategy the plan is given.
    x, pooling, strategy, mode, backend = case
    _assert_nan_rules(x, pooling, strategy, mode, backend)


@settings(max_examples=12, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 12), st.integers(1, 14)), min_size=1, max_size=2),
    st.integers(0, 2**16),
)
def test_adaptive_keeps_the_rules_on_nan_ties_and_infinities(axes, seed):
    spatial = tuple(length for length, _ in axes)
    output_shape = tuple(size for _, size in axes)
    x = np.random.default_rng(seed).choice(np.asarray(SPECIALS, np.float32), (2, 3, *spatial))
    cotangent = np.ones((2, 3, *output_shape), np.float32)
    expected_values, expected_switches, expected_indices, expected_gradient = brute_force_adaptive(
        x, output_shape, cotangent
    )
    values, switches = jaxpool.adaptive_max_pool_with_argmax(x, output_shape, channel_axis=1)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(switches, expected_switches)
    d = len(output_shape)
    _, indices = getattr(jaxpool.functional, f"adaptive_max_pool{d}d")(
        x, output_shape, return_indices=True
    )
    np.testing.assert_array_equal(indices, expected_indices)
    planes = x.reshape(6, -1)
    gathered = np.take_along_axis(planes, np.asarray(indices).reshape(6, -1), axis=1)
    np.testing.assert_array_equal(values, gathered.reshape(values.shape))
    gradient = jax.grad(lambda x: jaxpool.adaptive_max_pool(x, output_shape, channel_axis=1).sum())
    np.testing.assert_array_equal(gradient(x), expected_gradient)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_16_bit_and_32_bit_dtypes_keep_nan(dtype, strategy, backend):
    x = np.zeros((2, 48, 48, 2), np.float32)
    x[0, 3, 4, 1] = x[1, 47, 47, 0] = x[1, 40, 2, 1] = np.nan
    x[0, 5, 5, 1] = np.inf
    x = jnp.asarray(x, dtype)
    poolings = [
        dict(window_shape=(3, 3), strides=(2, 2), padding="SAME"),
        dict(window_shape=(4, 4), strides=(4, 4)),
    ]
    if strategy in ("separable", "reduced"):  # position by position, the program would grow
        poolings.append(dict(window_shape=(48, 48), strides=(1, 1)))
        poolings.append(dict(window_shape=(16, 48), strides=(16, 1)))
    for pooling in poolings:
        geometry = _geometry(x, pooling, strategy, backend)
        values, switches = _pooling._AUTODIFF_MODES["vjp"](x, geometry, True)
        values_only = jax.jit(lambda x, geometry=geometry: _strategy.pool(x, geometry)[0])(x)
        expected_values, expected_switches = brute_force_pool(np.float32(x), **pooling)
        np.testing.assert_array_equal(switches, expected_switches)
        np.testing.assert_array_equal(np.float32(values), expected_values)
        np.testing.assert_array_equal(np.float32(values_only), expected_values)


def test_float64_keeps_nan():
    with enable_x64(True):
        x = np.zeros((1, 5000), np.float64)
        x[0, 4321] = np.nan
        values, switches = jaxpool.max_pool_with_argmax(x, (5000,), channel_axis=None)
        assert values.dtype == np.float64 and np.isnan(values).all()
        assert switches.tolist() == [[4321]]
        assert np.isnan(jax.jit(lambda x: jaxpool.max_pool(x, (5000,), channel_axis=None))(x))


def test_several_nan_select_the_first_in_row_major_order():
    x = np.zeros((1, 64, 64), np.float32)
    nans = [(40, 2), (3, 60), (3, 61), (63, 0)]
    for where in nans:
        x[(0, *where)] = np.nan
    _, switches = jaxpool.max_pool_with_argmax(x, (64, 64), channel_axis=None)
    assert switches.tolist() == [[[3 * 64 + 60]]]
    _, indices = jaxpool.functional.max_pool2d(x[None], 64, return_indices=True)
    assert indices.ravel().tolist() == [3 * 64 + 60]
    for window in itertools.product((16, 32), repeat=2):
        values, switches = jaxpool.max_pool_with_argmax(x, window, window, channel_axis=None)
        expected_values, expected_switches = brute_force_pool(x, window, window, channel_axis=None)
        np.testing.assert_array_equal(switches, expected_switches)
        np.testing.assert_array_equal(values, expected_values)


@pytest.mark.parametrize("window_shape", [(64, 64), (2, 2), (16, 16)])
def test_min_pool_nan_wins_as_in_max_pool(window_shape):
    x = np.random.default_rng(7).standard_normal((2, 64, 64, 3)).astype(np.float32)
    x[0, 3, 5, 1] = x[1, 60, 2, 0] = x[1, 61, 2, 0] = np.nan
    values, switches = jaxpool.min_pool_with_argmin(x, window_shape, window_shape)
    # Min pooling is max pooling of -x, NaN included: the same switches.
    expected_values, expected_switches = brute_force_pool(-x, window_shape, window_shape)
    np.testing.assert_array_equal(switches, expected_switches)
    np.testing.assert_array_equal(values, -expected_values)
    np.testing.assert_array_equal(jaxpool.min_pool(x, window_shape, window_shape), values)
