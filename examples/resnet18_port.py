"""A ResNet-18-shaped forward pass ported from PyTorch by changing imports.

The network below is written once, against a namespace ``F`` for pooling
(``torch.nn.functional`` or ``jaxpool.functional``, same calls, same
arguments) and a namespace ``ops`` for the rest (convolution, batch norm in
inference mode, ReLU, the classifier). Run with JAX it uses
``jaxpool.functional`` and ``jax.lax`` convolutions; where torch is
installed the same function runs with PyTorch on the same random weights and
the two outputs are compared. Without torch it still runs and checks the
shape of every stage.

The pooling is a torchvision ResNet-18's (``max_pool2d(x, 3, 2, 1)`` after
the stem, ``adaptive_avg_pool2d(x, 1)`` before the classifier); with
``--shortcut avg`` the downsampling shortcuts are ResNet-D's
(``avg_pool2d(x, 2, 2, ceil_mode=True, count_include_pad=False)`` then a 1x1
convolution), which exercises PyTorch's average-pooling divisor rules.

Usage: ``python examples/resnet18_port.py [--size 224] [--batch 2]
[--width 64] [--shortcut conv|avg]``.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import this checkout's jaxpool
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxpool import functional as jaxpool_functional

STAGES = (1, 2, 4, 8)  # channel multipliers of the four stages (64, 128, 256, 512)
BLOCKS = 2  # BasicBlocks per stage: ResNet-18
CLASSES = 1000


def make_weights(width: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 weights, PyTorch's layouts (OIHW convolutions)."""
    rng = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {}

    def conv(name, out, inp, k):
        scale = np.sqrt(2.0 / (inp * k * k))
        weights[name] = (rng.standard_normal((out, inp, k, k)) * scale).astype(np.float32)

    def norm(name, channels):
        weights[f"{name}.weight"] = rng.uniform(0.5, 1.5, channels).astype(np.float32)
        weights[f"{name}.bias"] = rng.uniform(-0.1, 0.1, channels).astype(np.float32)
        weights[f"{name}.mean"] = rng.uniform(-0.1, 0.1, channels).astype(np.float32)
        weights[f"{name}.var"] = rng.uniform(0.5, 1.5, channels).astype(np.float32)

    conv("stem.conv", width, 3, 7)
    norm("stem.bn", width)
    inp = width
    for stage, multiplier in enumerate(STAGES):
        out = width * multiplier
        for block in range(BLOCKS):
            name = f"layer{stage + 1}.{block}"
            conv(f"{name}.conv1", out, inp, 3)
            norm(f"{name}.bn1", out)
            conv(f"{name}.conv2", out, out, 3)
            norm(f"{name}.bn2", out)
            if inp != out:
                conv(f"{name}.down.conv", out, inp, 1)
                norm(f"{name}.down.bn", out)
            inp = out
    weights["fc.weight"] = (rng.standard_normal((CLASSES, inp)) / np.sqrt(inp)).astype(np.float32)
    weights["fc.bias"] = np.zeros(CLASSES, np.float32)
    return weights


def resnet18(x, w, F, ops, shortcut="conv", shapes=None):
    """The forward pass, written once. ``F`` provides the pooling
    (PyTorch's functional signatures), ``ops`` the other layers; ``shapes``
    (a list) collects each stage's output shape."""

    def bn(x, name):
        return ops.batch_norm(
            x, w[f"{name}.weight"], w[f"{name}.bias"], w[f"{name}.mean"], w[f"{name}.var"]
        )

    def block(x, name, stride):
        out = ops.relu(bn(ops.conv2d(x, w[f"{name}.conv1"], stride, 1), f"{name}.bn1"))
        out = bn(ops.conv2d(out, w[f"{name}.conv2"], 1, 1), f"{name}.bn2")
        if f"{name}.down.conv" in w:
            if shortcut == "avg":  # ResNet-D: average, then a 1x1 convolution
                x = F.avg_pool2d(x, stride, stride, ceil_mode=True, count_include_pad=False)
                x = bn(ops.conv2d(x, w[f"{name}.down.conv"], 1, 0), f"{name}.down.bn")
            else:  # torchvision: a strided 1x1 convolution
                x = bn(ops.conv2d(x, w[f"{name}.down.conv"], stride, 0), f"{name}.down.bn")
        return ops.relu(out + x)

    x = ops.relu(bn(ops.conv2d(x, w["stem.conv"], 2, 3), "stem.bn"))
    x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
    for stage in range(len(STAGES)):
        for index in range(BLOCKS):
            stride = 2 if stage > 0 and index == 0 else 1
            x = block(x, f"layer{stage + 1}.{index}", stride)
        if shapes is not None:
            shapes.append(tuple(x.shape))
    x = F.adaptive_avg_pool2d(x, 1)
    return ops.linear(x.reshape(x.shape[0], -1), w["fc.weight"], w["fc.bias"])


def _jax_batch_norm(x, weight, bias, mean, var, eps=1e-5):
    shape = (1, -1, 1, 1)
    scale = weight.reshape(shape) / jnp.sqrt(var.reshape(shape) + eps)
    return (x - mean.reshape(shape)) * scale + bias.reshape(shape)


JAX_OPS = types.SimpleNamespace(
    conv2d=lambda x, kernel, stride, padding: lax.conv_general_dilated(
        x,
        kernel,
        (stride, stride),
        [(padding, padding)] * 2,
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
        precision=lax.Precision.HIGHEST,
    ),
    batch_norm=_jax_batch_norm,
    relu=jax.nn.relu,
    linear=lambda x, weight, bias: (
        jnp.dot(x, weight.T, precision=lax.Precision.HIGHEST) + bias[None]
    ),
)


def torch_ops(torch):
    """The same layers from PyTorch (batch norm in inference mode)."""
    functional = torch.nn.functional
    return types.SimpleNamespace(
        conv2d=lambda x, kernel, stride, padding: functional.conv2d(
            x, kernel, None, stride, padding
        ),
        batch_norm=lambda x, weight, bias, mean, var: functional.batch_norm(
            x, mean, var, weight, bias, training=False, eps=1e-5
        ),
        relu=functional.relu,
        linear=functional.linear,
    )


def expected_shapes(batch: int, size: int, width: int) -> list[tuple[int, ...]]:
    """Each stage's output shape, from the convolution and pooling formulas."""
    side = (size + 2 * 3 - 7) // 2 + 1  # the stem's 7x7/2 convolution
    side = (side + 2 * 1 - 3) // 2 + 1  # max_pool2d(3, 2, 1)
    shapes = []
    for stage, multiplier in enumerate(STAGES):
        if stage > 0:
            side = (side + 2 - 3) // 2 + 1
        shapes.append((batch, width * multiplier, side, side))
    return shapes


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--width", type=int, default=64, help="channels of the first stage")
    parser.add_argument("--shortcut", choices=("conv", "avg"), default="conv")
    args = parser.parse_args(argv)

    weights = make_weights(args.width)
    x = np.random.default_rng(1).standard_normal((args.batch, 3, args.size, args.size))
    x = x.astype(np.float32)

    shapes: list[tuple[int, ...]] = []
    forward = jax.jit(
        lambda x, w: resnet18(x, w, jaxpool_functional, JAX_OPS, args.shortcut, shapes)
    )
    logits = np.asarray(forward(x, weights))
    assert logits.shape == (args.batch, CLASSES), logits.shape
    assert shapes == expected_shapes(args.batch, args.size, args.width), shapes
    print(f"jaxpool.functional forward: logits {logits.shape}, stages {shapes}")

    try:
        import torch
    except ImportError:
        print("torch is not installed: checked the shapes only")
        return
    torch_weights = {name: torch.from_numpy(value) for name, value in weights.items()}
    with torch.no_grad():
        expected = resnet18(
            torch.from_numpy(x), torch_weights, torch.nn.functional, torch_ops(torch), args.shortcut
        ).numpy()
    error = np.abs(logits - expected).max()
    scale = np.abs(expected).max()
    print(f"torch.nn.functional forward: logits {expected.shape}")
    print(f"max |jaxpool - torch| = {error:.3g} (largest logit {scale:.3g})")
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4 * scale)
    print("outputs agree: the port changed imports only")


if __name__ == "__main__":
    main()
