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


def test_defaults_and_padding_pytorch_refuses():
    x = jnp.arange(16.0).reshape(1, 1, 4, 4)
    # stride defaults to the kernel size.
    np.testing.assert_array_equal(F.max_pool2d(x, 2), [[[[5.0, 7.0], [13.0, 15.0]]]])
    # Padding 2 with a kernel of 2 (PyTorch refuses it): corner windows lie
    # wholly in padding, output -inf and index -1.
    values, indices = jax.jit(lambda x: F.max_pool2d(x, 2, padding=2, return_indices=True))(x)
    assert values[0, 0, 0, 0] == -np.inf and indices[0, 0, 0, 0] == -1
    assert values[0, 0, 1, 1] == 5.0 and indices[0, 0, 1, 1] == 5


def test_errors():
    with pytest.raises(
        ValueError,
        match=r"max_pool2d expects channels-first input \(N, C, H, W\) or "
        r"\(C, H, W\), so 4 or 3 axes; got shape \(4, 4\)",
    ):
        F.max_pool2d(jnp.zeros((4, 4)), 2)
    with pytest.raises(TypeError, match="kernel_size must be an int or 2 ints"):
        F.max_pool2d(jnp.zeros((1, 4, 4)), (2, 2, 2))
    with pytest.raises(ValueError, match="padding entries must be at least 0"):
        F.max_pool1d(jnp.zeros((1, 4)), 2, padding=-1)
    values, indices = F.max_pool2d(jnp.zeros((1, 4, 4)), 2, return_indices=True)
    with pytest.raises(ValueError, match="input_shape does not match"):
        F.max_unpool2d(values, indices, 2, output_size=(7, 7))
    with pytest.raises(ValueError, match="output_shape entries must be positive"):
        F.adaptive_max_pool2d(jnp.zeros((1, 4, 4)), 0)


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
