"""Tests for jaxpool.functional: PyTorch's signatures, checked against PyTorch
where it is installed and against NumPy references everywhere."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from references import brute_force_pool
from references import example_inputs
from test_adaptive import brute_force_adaptive
from test_average import brute_force_adaptive_avg
from test_average import brute_force_avg
from test_lp_pool import brute_force_lp
from test_unpool import brute_force_indices
from test_unpool import brute_force_unpool

from jaxpool import functional as F

# (d, input shape, kernel_size, stride, padding, dilation, ceil_mode)
POOL_CASES = [
    (1, (2, 3, 11), 3, None, 1, 1, False),
    (1, (3, 12), 4, 3, 2, 1, True),
    (2, (2, 3, 9, 8), 2, None, 0, 1, False),
    (2, (2, 3, 9, 8), (3, 2), (2, 1), (1, 1), (1, 2), True),
    (2, (3, 11, 10), 5, 2, 2, 1, False),
    (3, (1, 2, 6, 7, 6), (3, 2, 2), (2, 2, 1), (1, 1, 0), 1, True),
]
# (d, input shape, output_size)
ADAPTIVE_CASES = [
    (1, (2, 3, 10), 7),
    (1, (3, 5), 8),
    (2, (2, 3, 12, 9), (5, 4)),
    (2, (3, 7, 8), (None, 3)),
    (2, (2, 3, 9, 9), 1),
    (3, (1, 2, 5, 6, 7), (3, 4, 2)),
]
POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}
ADAPTIVE = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


def _tuple(value, d):
    return (value,) * d if isinstance(value, int) else tuple(value)


def _inputs(shape, kind):
    return example_inputs(shape, kind=kind, seed=7)


def _jax_pool(d, x, args, cotangent):
    """Values, indices, the gradient at ``cotangent`` and the unpooled
    values, from one jitted function."""

    def run(x, cotangent):
        (values, indices), vjp = jax.vjp(lambda x: POOL[d](x, *args, return_indices=True), x)
        (gradient,) = vjp((cotangent, np.zeros(indices.shape, jax.dtypes.float0)))
        unpooled = None
        if args[3] == 1:
            unpooled = UNPOOL[d](values, indices, *args[:3], output_size=x.shape[-d:])
        return values, indices, gradient, unpooled

    return jax.jit(run)(x, cotangent)


@pytest.mark.parametrize("kind", ["random", "ties"])
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool_and_unpool_against_references(case, kind):
    d, shape, kernel, stride, padding, dilation, ceil_mode = case
    x = _inputs(shape, kind)
    args = (kernel, stride, padding, dilation, ceil_mode)
    out_shape = jax.eval_shape(lambda x: POOL[d](x, *args), x).shape
    cotangent = example_inputs(out_shape, seed=8)
    values, indices, gradient, unpooled = _jax_pool(d, x, args, cotangent)

    settings = dict(
        window_shape=_tuple(kernel, d),
        strides=_tuple(kernel if stride is None else stride, d),
        padding=[(p, p) for p in _tuple(padding, d)],
        window_dilation=_tuple(dilation, d),
        ceil_mode=ceil_mode,
        channel_axis=len(shape) - d - 1,
    )
    expected_values, switches, expected_gradient = brute_force_pool(
        np.asarray(x), **settings, cotangent=cotangent
    )
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(indices, brute_force_indices(switches, shape, settings))
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6, atol=1e-6)
    if dilation == 1:  # max_unpool takes no dilation, as PyTorch's
        np.testing.assert_array_equal(
            unpooled, brute_force_unpool(values, switches, shape, settings, "max")
        )


@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=str)
def test_adaptive_against_references(case):
    d, shape, output_size = case
    x = _inputs(shape, "ties") + _inputs(shape, "random") / 1000
    values, indices = jax.jit(lambda x: ADAPTIVE[d](x, output_size, return_indices=True))(x)
    sizes = _tuple(output_size, d) if output_size is not None else (None,) * d
    expected = brute_force_adaptive(x, sizes)
    np.testing.assert_array_equal(values, expected[0])
    np.testing.assert_array_equal(indices, expected[2])


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    for kind in ("random", "ties"):
        for d, shape, kernel, stride, padding, dilation, ceil_mode in POOL_CASES:
            x = np.asarray(_inputs(shape, kind))
            args = (kernel, stride, padding, dilation, ceil_mode)
            torch_x = torch.tensor(x, requires_grad=True)
            pool = getattr(functional, f"max_pool{d}d")
            torch_values, torch_indices = pool(torch_x, *args, return_indices=True)
            cotangent = np.asarray(example_inputs(tuple(torch_values.shape), seed=8))
            torch_values.backward(torch.tensor(cotangent))
            values, indices, gradient, unpooled = _jax_pool(d, jnp.asarray(x), args, cotangent)
            np.testing.assert_array_equal(values, torch_values.detach().numpy())
            np.testing.assert_array_equal(indices, torch_indices.numpy())
            np.testing.assert_allclose(gradient, torch_x.grad.numpy(), rtol=1e-6, atol=1e-6)
            if dilation == 1:  # PyTorch's unpool takes no dilation
                unpool = getattr(functional, f"max_unpool{d}d")
                torch_unpooled = unpool(
                    torch_values, torch_indices, kernel, stride, padding, output_size=shape[-d:]
                )
                np.testing.assert_array_equal(unpooled, torch_unpooled.detach().numpy())
        for d, shape, output_size in ADAPTIVE_CASES:
            x = np.asarray(_inputs(shape, kind))
            torch_x = torch.tensor(x, requires_grad=True)
            adaptive = getattr(functional, f"adaptive_max_pool{d}d")
            torch_values, torch_indices = adaptive(torch_x, output_size, return_indices=True)
            cotangent = np.asarray(example_inputs(tuple(torch_values.shape), seed=9))
            torch_values.backward(torch.tensor(cotangent))

            def run(x, cotangent, d=d, output_size=output_size):
                pool = lambda x: ADAPTIVE[d](x, output_size, return_indices=True)  # noqa: E731
                (values, indices), vjp = jax.vjp(pool, x)
                zero = np.zeros(indices.shape, jax.dtypes.float0)
                return values, indices, vjp((cotangent, zero))[0]

            values, indices, gradient = jax.jit(run)(x, cotangent)
            np.testing.assert_array_equal(values, torch_values.detach().numpy())
            np.testing.assert_array_equal(indices, torch_indices.numpy())
            np.testing.assert_allclose(gradient, torch_x.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_defaults_and_pytorchs_argument_forms():
    x = jnp.arange(16.0).reshape(1, 1, 4, 4)
    # stride defaults to the kernel size, and so do () and [] (PyTorch's C++ forms).
    for stride in (None, (), []):
        np.testing.assert_array_equal(F.max_pool2d(x, 2, stride), [[[[5.0, 7.0], [13.0, 15.0]]]])
        np.testing.assert_array_equal(F.avg_pool2d(x, 2, stride), [[[[2.5, 4.5], [10.5, 12.5]]]])
    # A one-element sequence stands for every axis, as PyTorch's kernels take it.
    np.testing.assert_array_equal(F.max_pool2d(x, (2,), (1,), (1,), (1,)), F.max_pool2d(x, 2, 1, 1))
    np.testing.assert_array_equal(F.avg_pool2d(x, (3,), 1, (1,)), F.avg_pool2d(x, 3, 1, 1))
    np.testing.assert_array_equal(F.max_pool3d(x, [1], [1]), x)


def test_padding_over_half_the_kernel_is_refused_as_pytorch_does():
    x = jnp.zeros((1, 1, 8, 8))
    for pool in (F.max_pool2d, F.avg_pool2d):
        with pytest.raises(
            ValueError,
            match=r"padding=2 is more than half of kernel_size=\(2, 2\) \(at most \(1, 1\)\), "
            r"which PyTorch refuses.*core jaxpool function",
        ):
            pool(x, 2, padding=2)
    # Half the kernel is allowed: a 3-wide window with padding 1.
    assert F.max_pool2d(x, 3, 1, 1).shape == (1, 1, 8, 8)


def test_only_the_batch_axis_may_be_empty():
    assert F.max_pool1d(jnp.zeros((0, 2, 6)), 2).shape == (0, 2, 3)
    assert F.avg_pool2d(jnp.zeros((0, 2, 4, 4)), 2).shape == (0, 2, 2, 2)
    for shape in [(0, 6), (2, 0, 6), (2, 3, 0)]:
        with pytest.raises(ValueError, match=r"has nothing to pool .* only the batch axis N"):
            F.max_pool1d(jnp.zeros(shape), 1)
    # Adaptive max pooling, as PyTorch's, lets the first axis be empty either way.
    assert F.adaptive_max_pool1d(jnp.zeros((0, 6)), 2).shape == (0, 2)
    with pytest.raises(ValueError, match="only the first axis"):
        F.adaptive_max_pool1d(jnp.zeros((2, 0, 6)), 2)


def test_adaptive_output_size_zero_is_empty():
    x = jnp.ones((2, 3, 5, 4))
    values, indices = F.adaptive_max_pool2d(x, (0, 2), return_indices=True)
    assert values.shape == indices.shape == (2, 3, 0, 2)
    assert F.adaptive_avg_pool2d(x, 0).shape == (2, 3, 0, 0)
    with pytest.raises(ValueError, match=r"output_size entries must be at least 0; got .*-1"):
        F.adaptive_avg_pool1d(jnp.ones((2, 5)), -1)
    with pytest.raises(TypeError, match=r"output_size must be an int, None .* or 2 of them"):
        F.adaptive_max_pool2d(x, ())


def test_several_nan_in_a_max_pool_window_select_the_first():
    # Worked by hand: NaN at positions 0 and 2 of the one window; jaxpool's
    # rule 2 selects the first (PyTorch's CPU kernel the last, index 2), and
    # the gradient follows it.
    x = jnp.array([[[np.nan, 1.0, np.nan, 2.0]]])
    values, indices = F.max_pool1d(x, 4, return_indices=True)
    assert np.isnan(values[0, 0, 0]) and indices[0, 0, 0] == 0
    _, vjp = jax.vjp(lambda x: F.max_pool1d(x, 4), x)
    np.testing.assert_array_equal(vjp(jnp.ones((1, 1, 1)))[0], [[[1.0, 0.0, 0.0, 0.0]]])


def test_integer_average_truncates_as_pytorch():
    # Worked by hand: window sums -7 and 6; -7 / 2 = -3.5 -> -3, 6 / 2 = 3;
    # with divisor_override=-4: -7 / -4 = 1.75 -> 1, 6 / -4 = -1.5 -> -1.
    x = jnp.array([[[-7, 0], [5, 1]]], jnp.int32)
    np.testing.assert_array_equal(F.avg_pool2d(x, (1, 2)), [[[-3], [3]]])
    np.testing.assert_array_equal(F.avg_pool2d(x, (1, 2), divisor_override=-4), [[[1], [-1]]])
    assert F.avg_pool2d(x, (1, 2)).dtype == jnp.int32
    np.testing.assert_array_equal(F.avg_pool1d(jnp.array([[-7, 0]], jnp.int8), 2), [[-3]])
    # Floats take a negative divisor too: (1 + 2) / -2.
    y = jnp.array([[[1.0, 2.0]]])
    np.testing.assert_array_equal(F.avg_pool2d(y, (1, 2), divisor_override=-2), [[[-1.5]]])


def test_errors():
    with pytest.raises(
        ValueError,
        match=r"max_pool2d expects channels-first input \(N, C, H, W\) or "
        r"\(C, H, W\), so 4 or 3 axes; got shape \(4, 4\)",
    ):
        F.max_pool2d(jnp.zeros((4, 4)), 2)
    with pytest.raises(
        TypeError,
        match=r"kernel_size must be an int or a sequence of 1 or 2 ints \(one per axis H, W\); "
        r"got kernel_size=\(2, 2, 2\)",
    ):
        F.max_pool2d(jnp.zeros((1, 4, 4)), (2, 2, 2))
    with pytest.raises(TypeError, match=r"got kernel_size=\(\)"):
        F.max_pool2d(jnp.zeros((1, 4, 4)), ())
    with pytest.raises(
        TypeError, match=r"padding must be an int or a sequence .* got padding=\(\)"
    ):
        F.avg_pool2d(jnp.zeros((1, 4, 4)), 2, 1, ())
    with pytest.raises(ValueError, match="padding entries must be at least 0; got padding=-1"):
        F.max_pool1d(jnp.zeros((1, 4)), 2, padding=-1)


def test_channels_last_data_is_told_the_layout():
    # NHWC data whose 3 channels read as the width: the message names the
    # expected layout, not an opaque spatial shape.
    for pool in (F.max_pool2d, F.avg_pool2d):
        with pytest.raises(
            ValueError,
            match=r"expects channels-first input \(N, C, H, W\) or \(C, H, W\); the input "
            r"of shape \(2, 8, 8, 3\) reads as H=8, W=3.*jnp.moveaxis",
        ):
            pool(jnp.zeros((2, 8, 8, 3)), 4)
    with pytest.raises(ValueError, match=r"lp_pool1d expects channels-first input \(N, C, L\)"):
        F.lp_pool1d(jnp.zeros((2, 3)), 2, 4)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool3d expects .*\(N, C, D, H, W\)"):
        F.adaptive_avg_pool3d(jnp.zeros((2, 3)), 1)


def test_family_errors():
    with pytest.raises(ValueError, match="divisor_override=0"):
        F.avg_pool2d(jnp.zeros((1, 4, 4)), 2, divisor_override=0)
    with pytest.raises(TypeError, match="count_include_pad must be a bool; got None"):
        F.avg_pool3d(jnp.zeros((1, 4, 4, 4)), 2, count_include_pad=None)
    with pytest.raises(ValueError, match="norm_type=-1"):
        F.lp_pool2d(jnp.zeros((1, 4, 4)), -1, 2)


# (d, input shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
AVG_CASES = [
    (1, (2, 3, 11), 3, 2, 1, True, True, None),
    (1, (3, 12), 4, None, 2, False, False, None),
    (2, (2, 3, 9, 8), (3, 2), (2, 1), (1, 1), True, True, None),
    (2, (2, 3, 9, 8), 3, 2, 1, True, False, None),
    (2, (3, 7, 7), 2, None, 0, True, True, 3),
    (3, (1, 2, 6, 7, 5), (3, 2, 2), (2, 2, 1), (1, 1, 0), True, False, 7),
]
AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
LP = {1: F.lp_pool1d, 2: F.lp_pool2d, 3: F.lp_pool3d}
# (d, input shape, norm_type, kernel_size, stride, ceil_mode)
LP_CASES = [
    (1, (2, 3, 11), 2, 3, 2, True),
    (2, (2, 3, 9, 8), 1, (3, 2), None, False),
    (2, (3, 9, 8), 3.5, 2, 1, True),
    (3, (1, 2, 6, 7, 5), 2, 2, None, True),
]


def _avg_args(case):
    d, _, kernel, stride, padding, ceil_mode, include, override = case
    args = (kernel, stride, padding, ceil_mode, include)
    return (*args, override) if d > 1 else args


def _values_and_gradient(pool, x, cotangent):
    def run(x, cotangent):
        values, vjp = jax.vjp(pool, x)
        return values, vjp(cotangent)[0]

    return jax.jit(run)(x, cotangent)


@pytest.mark.parametrize("case", AVG_CASES, ids=str)
def test_avg_pool_against_brute_force(case):
    d, shape, kernel, stride, padding, ceil_mode, include, override = case
    x = _inputs(shape, "random")
    pool = lambda x: AVG[d](x, *_avg_args(case))  # noqa: E731
    cotangent = example_inputs(jax.eval_shape(pool, x).shape, seed=8)
    values, gradient = _values_and_gradient(pool, x, cotangent)
    expected, expected_gradient = brute_force_avg(
        x,
        _tuple(kernel, d),
        _tuple(kernel if stride is None else stride, d),
        [(p, p) for p in _tuple(padding, d)],
        ceil_mode=ceil_mode,
        count_include_pad=include,
        divisor_override=override,
        cotangent=cotangent,
    )
    np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6, atol=1e-6)


def test_adaptive_avg_and_lp_against_brute_force():
    for d, shape, output_size in ADAPTIVE_CASES:
        x = _inputs(shape, "random")
        sizes = _tuple(output_size, d) if output_size is not None else (None,) * d
        np.testing.assert_allclose(
            ADAPTIVE_AVG[d](x, output_size), brute_force_adaptive_avg(x, sizes), rtol=1e-6
        )
    for d, shape, p, kernel, stride, ceil_mode in LP_CASES:
        x = jnp.abs(_inputs(shape, "random")) + 0.1
        strides = _tuple(kernel if stride is None else stride, d)
        np.testing.assert_allclose(
            LP[d](x, p, kernel, stride, ceil_mode),
            brute_force_lp(x, p, _tuple(kernel, d), strides, ceil_mode),
            rtol=2e-6,
        )


def test_family_against_pytorch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional

    def check(torch_pool, pool, x, rtol=1e-6):
        torch_x = torch.tensor(np.asarray(x), requires_grad=True)
        torch_values = torch_pool(torch_x)
        cotangent = np.asarray(example_inputs(tuple(torch_values.shape), seed=9))
        torch_values.backward(torch.tensor(cotangent))
        values, gradient = _values_and_gradient(pool, x, cotangent)
        np.testing.assert_allclose(values, torch_values.detach().numpy(), rtol=rtol, atol=1e-6)
        np.testing.assert_allclose(gradient, torch_x.grad.numpy(), rtol=rtol, atol=1e-6)

    for case in AVG_CASES:
        d, shape = case[:2]
        torch_pool = getattr(functional, f"avg_pool{d}d")
        check(
            lambda x, d=d, case=case, f=torch_pool: f(x, *_avg_args(case)),
            lambda x, d=d, case=case: AVG[d](x, *_avg_args(case)),
            _inputs(shape, "random"),
        )
    for d, shape, output_size in ADAPTIVE_CASES:
        torch_pool = getattr(functional, f"adaptive_avg_pool{d}d")
        check(
            lambda x, o=output_size, f=torch_pool: f(x, o),
            lambda x, d=d, o=output_size: ADAPTIVE_AVG[d](x, o),
            _inputs(shape, "random"),
        )
    for d, shape, p, kernel, stride, ceil_mode in LP_CASES:
        torch_pool = getattr(functional, f"lp_pool{d}d")
        args = (p, kernel, stride, ceil_mode)
        # Whole windows of zeros too: PyTorch's zero gradient there.
        x = jnp.abs(_inputs(shape, "ties")) + 0.0
        check(
            lambda x, f=torch_pool, args=args: f(x, *args),
            lambda x, d=d, args=args: LP[d](x, *args),
            x,
            rtol=1e-5,
        )


def test_signatures_are_pytorchs_where_pytorch_exposes_them():
    torch = pytest.importorskip("torch")
    import inspect

    for name in (
        "adaptive_avg_pool2d",
        "adaptive_avg_pool3d",
        "lp_pool1d",
        "lp_pool2d",
        "lp_pool3d",
    ):
        theirs = inspect.signature(getattr(torch.nn.functional, name))
        ours = inspect.signature(getattr(F, name))
        assert [(p.name, p.default) for p in ours.parameters.values()] == [
            (p.name, p.default) for p in theirs.parameters.values()
        ], name
    # avg_pool*d and adaptive_avg_pool1d are builtins in PyTorch: their
    # documented parameters.
    assert list(inspect.signature(F.adaptive_avg_pool1d).parameters) == ["input", "output_size"]
    for d in (1, 2, 3):
        names = ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]
        names += ["divisor_override"] if d > 1 else []
        assert list(inspect.signature(AVG[d]).parameters) == names


def _raised_once(error):
    """The error was raised as it is, not chained through another."""
    assert error.value.__cause__ is None and error.value.__context__ is None


def test_unpool_of_an_odd_sized_input_names_output_size():
    # Length 6, kernel 3, stride 2, padding 1: windows start at -1, 1, 3; the
    # last covers 3..5 and selects the 9 at index 5. The default output size
    # (3 - 1) * 2 - 2 + 3 = 5 has no index 5.
    x = jnp.array([[[0.0, 1.0, 2.0, 3.0, 4.0, 9.0]]])
    values, indices = F.max_pool1d(x, 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(indices, [[[1, 3, 5]]])
    with pytest.raises(
        ValueError,
        match=r"max_unpool1d: indices up to 5 do not fit the default output size \(5,\).*"
        r"Pass output_size=, the spatial size of that input",
    ) as error:
        F.max_unpool1d(values, indices, 3, 2, 1)
    _raised_once(error)
    restored = F.max_unpool1d(values, indices, 3, 2, 1, output_size=x.shape)
    np.testing.assert_array_equal(restored, [[[0.0, 1.0, 0.0, 3.0, 0.0, 9.0]]])


def test_unpool_infers_ceil_mode_from_the_sizes():
    # Length 5 by 2 with ceil_mode: windows 0-1, 2-3 and 4 (cut short).
    x = jnp.array([[[1.0, 3.0, 2.0, 0.0, 7.0]]])
    values, indices = F.max_pool1d(x, 2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(indices, [[[1, 2, 4]]])
    restored = F.max_unpool1d(values, indices, 2, output_size=(5,))
    np.testing.assert_array_equal(restored, [[[0.0, 3.0, 2.0, 0.0, 7.0]]])


def test_unpool_with_another_pools_settings_names_the_fix():
    values, indices = F.max_pool2d(jnp.zeros((1, 4, 4)), 2, return_indices=True)
    # A 2x2 output of 2/2 windows comes from sizes 4 and 5 (floor mode: 4 + 2 - 1) and 3
    # (ceil mode, the second window cut short): PyTorch's range, 4 - 2 < size < 4 + 2.
    with pytest.raises(
        ValueError,
        match=r"max_unpool2d: output_size=\(7, 7\) does not fit the input of spatial shape "
        r"\(2, 2\): max_pool2d with kernel_size=\(2, 2\), stride=\(2, 2\), padding=\(0, 0\) "
        r"pools spatial size \(7, 7\) to \(3, 3\) \(or \(4, 4\) with ceil_mode=True\), and pools "
        r"to \(2, 2\) only sizes in 3..5, 3..5 per axis.*kernel_size, stride and padding",
    ) as error:
        F.max_unpool2d(values, indices, 2, output_size=(7, 7))
    _raised_once(error)
    # Indices of a 2/1 pool of length 5 (1, 2, 3, 4), unpooled as 2/2 at the
    # default size 8: windows 0-1, 2-3, 4-5, 6-7 hold 1 and 2, not 3 and 4.
    x = jnp.array([[0.0, 1.0, 2.0, 3.0, 4.0]])
    values, indices = F.max_pool1d(x, 2, 1, return_indices=True)
    np.testing.assert_array_equal(indices, [[1, 2, 3, 4]])
    with pytest.raises(
        ValueError,
        match=r"indices has 2 of 4 entries outside their windows, the first 3 at position "
        r"\(0, 2\).*pooling arguments \(window, stride, padding, dilation\) match the max pool",
    ) as error:
        F.max_unpool1d(values, indices, 2, 2)
    _raised_once(error)
    values, indices = F.max_pool2d(jnp.zeros((1, 4, 4)), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"indices has shape \(1, 2, 1\) but input has shape"):
        F.max_unpool2d(values, indices[:, :, :1], 2)


def test_unpool_gradient_is_pytorchs_at_shared_indices():
    # Worked by hand: length 3, kernel 2, stride 1: both windows select the
    # 5 at index 1. Both values land there (one is kept); PyTorch's gradient
    # gives each value the cotangent at its index, 10, as a gather does.
    x = jnp.array([[[1.0, 5.0, 2.0]]])
    values, indices = F.max_pool1d(x, 2, 1, return_indices=True)
    np.testing.assert_array_equal(indices, [[[1, 1]]])

    def unpool(v):
        return F.max_unpool1d(v, indices, 2, 1, output_size=(3,))

    np.testing.assert_array_equal(unpool(values), [[[0.0, 5.0, 0.0]]])
    _, vjp = jax.vjp(unpool, values)
    np.testing.assert_array_equal(vjp(jnp.array([[[1.0, 10.0, 100.0]]]))[0], [[[10.0, 10.0]]])
    # Forward mode, whose transpose that is: both tangents land on index 1.
    tangent = jax.jvp(unpool, (values,), (jnp.array([[[1.0, 2.0]]]),))[1]
    np.testing.assert_array_equal(tangent, [[[0.0, 3.0, 0.0]]])
