"""jaxpool against PyTorch's max pooling, where PyTorch is installed.

PyTorch is an optional oracle (not a dependency): CI runs without it and
these tests are skipped there; the reduce_window and brute-force tests are
the ones that always run. Install ``torch`` to run these.
"""

from __future__ import annotations

import itertools

import jax
import numpy as np
import pytest

import jaxpool

torch = pytest.importorskip("torch")

CASES = [
    # window, stride, padding, dilation, ceil_mode (PyTorch: padding <= window / 2)
    (2, 2, 0, 1, False),
    (3, 2, 1, 1, False),
    (3, 2, 1, 1, True),
    (2, 3, 1, 1, True),
    (3, 1, 1, 2, False),
    (2, 2, 1, 2, True),
    ((3, 2), (2, 1), (1, 0), (1, 2), True),
]


def _pairs(value):
    return value if isinstance(value, tuple) else (value, value)


@pytest.mark.parametrize(("window", "stride", "padding", "dilation", "ceil_mode"), CASES)
@pytest.mark.parametrize("kind", ["random", "ties"])
def test_max_pool2d_values_gradients_and_indices(
    window, stride, padding, dilation, ceil_mode, kind
):
    rng = np.random.default_rng(0)
    shape = (2, 3, 9, 8)  # NCHW
    if kind == "ties":
        x = np.maximum(rng.integers(-2, 3, size=shape), 0).astype(np.float32)
    else:
        x = rng.standard_normal(shape).astype(np.float32)
    cotangent = rng.uniform(0.5, 1.5, size=(1,)).astype(np.float32)

    x_torch = torch.tensor(x, requires_grad=True)
    values_torch, indices_torch = torch.nn.functional.max_pool2d(
        x_torch, window, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=True
    )
    weights = rng.uniform(0.5, 1.5, size=values_torch.shape).astype(np.float32) * cotangent
    (values_torch * torch.tensor(weights)).sum().backward()

    settings_ = dict(
        window_shape=_pairs(window),
        strides=_pairs(stride),
        padding=_pairs(padding),
        window_dilation=_pairs(dilation),
        ceil_mode=ceil_mode,
        channel_axis=1,
    )
    (values, switches), vjp = jax.vjp(lambda x: jaxpool.max_pool_with_argmax(x, **settings_), x)
    (gradient,) = vjp((weights, np.zeros(switches.shape, jax.dtypes.float0)))

    np.testing.assert_array_equal(values, values_torch.detach().numpy())
    np.testing.assert_allclose(gradient, x_torch.grad.numpy(), rtol=1e-6)
    # PyTorch's indices are flat offsets into the (H, W) plane; convert ours.
    window_w = _pairs(window)[1]
    stride_h, stride_w = _pairs(stride)
    (dilation_h, dilation_w), (pad_h, pad_w) = _pairs(dilation), _pairs(padding)
    expected = np.empty(switches.shape, np.int64)
    for i, j in itertools.product(range(switches.shape[2]), range(switches.shape[3])):
        row, column = np.divmod(np.asarray(switches[:, :, i, j], np.int64), window_w)
        h = i * stride_h - pad_h + row * dilation_h
        w = j * stride_w - pad_w + column * dilation_w
        expected[:, :, i, j] = h * shape[3] + w
    np.testing.assert_array_equal(expected, indices_torch.numpy())
