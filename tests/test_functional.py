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
        ValueError, match=r"max_pool2d takes \(N, C, \*spatial\).*got shape \(4, 4\)"
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
