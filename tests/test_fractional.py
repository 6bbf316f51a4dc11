"""Tests for jaxpool.functional.fractional_max_pool2d/3d: PyTorch's windows
from its samples, against a NumPy loop and PyTorch."""

from __future__ import annotations

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from references import example_inputs
from references import scatter_ops

from jaxpool import functional as F

POOL = {2: F.fractional_max_pool2d, 3: F.fractional_max_pool3d}
# (d, input shape, kernel_size, output_size)
CASES = [
    (2, (2, 3, 9, 10), (2, 3), (4, 5)),
    (2, (3, 11, 8), 3, (5, 4)),
    (2, (1, 2, 6, 6), 2, (5, 5)),  # the largest output the kernel allows
    (3, (1, 2, 5, 6, 6), (2, 3, 2), (3, 3, 4)),
]


def _starts(sample, length, size, window, dtype=np.float32):
    """PyTorch's generate_intervals<scalar_t>, in NumPy scalars of the
    input's dtype: each operation rounds to it, as c10's 16-bit types do."""
    scalar = np.dtype(dtype).type
    sample = scalar(sample)
    alpha = scalar(length - window) / scalar(max(size - 1, 1))
    starts = [int((scalar(i) + sample) * alpha) - int(sample * alpha) for i in range(size - 1)]
    return [*starts, length - window]


def brute_force_fractional(x, window, sizes, samples, cotangent):
    """Values, indices and gradient, one window at a time: the window's
    elements in row-major order, a later one winning if larger or NaN."""
    dtype = np.asarray(x).dtype
    x = np.asarray(x, np.float64)
    d = len(window)
    spatial = x.shape[-d:]
    values = np.zeros((*x.shape[:-d], *sizes))
    indices = np.zeros(values.shape, np.int64)
    gradient = np.zeros_like(x)
    for plane in itertools.product(*(range(n) for n in x.shape[:-d])):
        sample = samples[plane]
        # Sample 0 is the width in 2-D; samples 0, 1, 2 are T, H, W in 3-D.
        order = [1, 0] if d == 2 else [0, 1, 2]
        starts = [
            _starts(sample[order[k]], spatial[k], sizes[k], window[k], dtype) for k in range(d)
        ]
        for out in itertools.product(*(range(n) for n in sizes)):
            best = None
            for offset in itertools.product(*(range(w) for w in window)):
                position = tuple(starts[k][out[k]] + offset[k] for k in range(d))
                value = x[(*plane, *position)]
                if best is None or value > best[0] or np.isnan(value):
                    best = (value, position)
            values[(*plane, *out)] = best[0]
            indices[(*plane, *out)] = np.ravel_multi_index(best[1], spatial)
            gradient[(*plane, *best[1])] += cotangent[(*plane, *out)]
    return values, indices, gradient


def _samples(shape, d, seed=0):
    n = shape[0] if len(shape) == d + 2 else 1
    return np.random.default_rng(seed).uniform(size=(n, shape[-d - 1], d)).astype(np.float32)


def _run(pool, samples, cotangent):
    def run(x):
        # The indices as aux: no JAX differentiates them.
        values, vjp, indices = jax.vjp(lambda x: pool(x, samples), x, has_aux=True)
        return values, indices, vjp(cotangent)[0]

    return run


class FractionalTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.parameters((0, "random"), (1, "ties"), (2, "random"), (3, "ties"))
    def test_against_brute_force(self, case, kind):
        d, shape, kernel, output_size = CASES[case]
        x = example_inputs(shape, kind=kind, seed=3)
        if kind == "ties":
            x = x.at[(0,) * x.ndim].set(np.nan)
        samples = _samples(shape, d)
        window = (kernel,) * d if isinstance(kernel, int) else kernel
        out_shape = (*shape[:-d], *output_size)
        cotangent = np.asarray(example_inputs(out_shape, seed=4))

        def pool(x, samples):
            return POOL[d](x, kernel, output_size, None, True, samples)

        values, indices, gradient = self.variant(_run(pool, samples, cotangent))(x)
        batched = np.asarray(x) if len(shape) == d + 2 else np.asarray(x)[None]
        expected = brute_force_fractional(
            batched,
            window,
            output_size,
            samples,
            cotangent if len(shape) == d + 2 else cotangent[None],
        )
        if len(shape) == d + 1:
            expected = tuple(e[0] for e in expected)
        np.testing.assert_array_equal(values, expected[0])
        np.testing.assert_array_equal(indices, expected[1])
        np.testing.assert_allclose(gradient, expected[2], rtol=1e-6, atol=1e-6)


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    for d, shape, kernel, output_size in CASES:
        x = np.asarray(example_inputs(shape, seed=5))
        samples = _samples(shape, d, seed=6)
        torch_x = torch.tensor(x, requires_grad=True)
        pool = getattr(torch.nn.functional, f"fractional_max_pool{d}d")
        torch_values, torch_indices = pool(
            torch_x,
            kernel,
            output_size,
            return_indices=True,
            _random_samples=torch.tensor(samples),
        )
        cotangent = np.asarray(example_inputs(tuple(torch_values.shape), seed=7))
        torch_values.backward(torch.tensor(cotangent))

        def ours(x, samples, d=d, kernel=kernel, output_size=output_size):
            return POOL[d](x, kernel, output_size, None, True, samples)

        values, indices, gradient = jax.jit(_run(ours, samples, cotangent))(x)
        np.testing.assert_array_equal(values, torch_values.detach().numpy())
        np.testing.assert_array_equal(indices, torch_indices.numpy())
        np.testing.assert_allclose(gradient, torch_x.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_output_ratio_key_vmap_and_no_scatter():
    x = example_inputs((2, 3, 12, 10), seed=8)
    key = jax.random.key(0)
    values = F.fractional_max_pool2d(x, 2, output_ratio=0.5, key=key)
    assert values.shape == (2, 3, 6, 5)
    # The same key gives the same windows; the same samples under vmap too.
    np.testing.assert_array_equal(values, F.fractional_max_pool2d(x, 2, output_ratio=0.5, key=key))
    samples = _samples(x.shape, 2)
    per_example = jax.vmap(
        lambda x, s: F.fractional_max_pool2d(x, 2, (6, 5), _random_samples=s[None])
    )(x, samples)
    np.testing.assert_array_equal(
        per_example, F.fractional_max_pool2d(x, 2, (6, 5), _random_samples=samples)
    )
    grad = jax.jit(
        jax.grad(lambda x: F.fractional_max_pool2d(x, 2, (6, 5), _random_samples=samples).sum())
    )
    assert scatter_ops(grad, x) == []


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (
            {"output_ratio": 1.5},
            ValueError,
            r"in \(0, 1\); got output_ratio=1.5",
        ),
        ({"output_ratio": 0.0}, ValueError, "output_ratio=0.0"),
        ({}, ValueError, "needs output_size or output_ratio"),
        ({"output_size": 4}, ValueError, "pass key=jax.random.key"),
        ({"output_size": 8, "key": jax.random.key(0)}, ValueError, "at least output_size"),
        (
            {"output_size": 4, "_random_samples": np.zeros((1, 1, 2), np.float32)},
            ValueError,
            r"_random_samples must have shape \(1, 2, 2\)",
        ),
    ],
)
def test_errors(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        F.fractional_max_pool2d(jnp.zeros((1, 2, 8, 8)), 2, **kwargs)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_16_bit_windows_are_computed_in_16_bits(dtype):
    # L = 37 pooled to 11 by 3: alpha = 34 / 10 = 3.4, which bfloat16 holds
    # as 3.40625 and float16 as 3.400390625; the rounded steps move starts.
    shape, window, sizes = (2, 4, 37, 37), (3, 3), (11, 11)
    x = example_inputs(shape, seed=3).astype(dtype)
    samples = jnp.asarray(np.random.default_rng(1).uniform(size=(2, 4, 2)), dtype)
    values, indices = F.fractional_max_pool2d(x, 3, sizes, None, True, samples)
    # The reference pools the rounded values (ties among them go to the first).
    cotangent = np.zeros((*shape[:2], *sizes))
    expected = brute_force_fractional(
        np.asarray(x).astype(dtype), window, sizes, np.asarray(samples), cotangent
    )
    np.testing.assert_array_equal(np.asarray(values, np.float64), expected[0])
    np.testing.assert_array_equal(indices, expected[1])
    # The float32 grid would put some windows elsewhere: the test tells them apart.
    wide = [_starts(float(s), 37, 11, 3) for s in np.asarray(samples, np.float32).ravel()]
    narrow = [_starts(s, 37, 11, 3, dtype) for s in np.asarray(samples).ravel()]
    assert wide != narrow


def test_empty_batch_gives_empty_outputs():
    for d, shape in [(2, (0, 3, 6, 6)), (3, (0, 1, 4, 5, 4)), (2, (0, 6, 6))]:
        x = jnp.zeros(shape)
        samples = np.zeros((shape[0] if len(shape) == d + 2 else 1, shape[-d - 1], d), np.float32)
        values, indices = POOL[d](x, 2, 2, None, True, samples)
        assert values.shape == indices.shape == (*shape[:-d], *(2,) * d)
        assert values.dtype == x.dtype
        gradient = jax.grad(lambda x, d=d, s=samples: POOL[d](x, 2, 2, _random_samples=s).sum())(x)
        assert gradient.shape == shape


def test_samples_of_another_dtype_are_refused():
    with pytest.raises(TypeError, match=r"_random_samples must have the input's dtype bfloat16"):
        F.fractional_max_pool2d(
            jnp.zeros((1, 2, 8, 8), jnp.bfloat16), 2, 4, _random_samples=np.zeros((1, 2, 2))
        )
