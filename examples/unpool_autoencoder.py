"""A SegNet-style autoencoder on scikit-learn's 8x8 digits: the encoder pools
with switches, the decoder puts values back where the switches say.

Encoder: conv 3x3 -> relu -> 2x2 max pool (switches kept) -> conv 3x3 ->
relu -> 2x2 max pool (switches kept), an 2x2x16 code. Decoder: max_unpool
with the second switches -> conv 3x3 -> relu -> max_unpool with the first
switches -> conv 3x3 -> sigmoid. Flax NNX, optax (Adam), the digits bundled
with scikit-learn (nothing to download). It prints the test reconstruction
error against two baselines (the mean image, and nearest-neighbour
upsampling of the pooled image) and writes a PNG of test digits and their
reconstructions to examples/output/ (which git ignores; --output to
choose). The code (2x2x16 values and their switches) is no smaller than the
8x8 input: the example shows the switches at work, not compression.

    pip install ".[examples]"
    python examples/unpool_autoencoder.py            # the full run, about a minute
    python examples/unpool_autoencoder.py --quick    # a few steps, a smoke test
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax
from flax import nnx
from sklearn.datasets import load_digits
from tqdm import tqdm

import jaxpool
import jaxpool.nnx

matplotlib.use("Agg")
import matplotlib.pyplot as plt


class SegNet(nnx.Module):
    """Two pooling stages down, two unpooling stages up, sharing switches."""

    def __init__(self, *, rngs: nnx.Rngs) -> None:
        self.encode1 = nnx.Conv(1, 16, (3, 3), padding="SAME", rngs=rngs)
        self.encode2 = nnx.Conv(16, 16, (3, 3), padding="SAME", rngs=rngs)
        self.decode2 = nnx.Conv(16, 16, (3, 3), padding="SAME", rngs=rngs)
        self.decode1 = nnx.Conv(16, 1, (3, 3), padding="SAME", rngs=rngs)
        self.pool = jaxpool.nnx.MaxPool((2, 2), (2, 2), return_switches=True)
        self.unpool = jaxpool.nnx.MaxUnpool((2, 2), (2, 2))

    def __call__(self, x: jax.Array) -> jax.Array:
        h1 = nnx.relu(self.encode1(x))  # (batch, 8, 8, 16)
        p1, switches1 = self.pool(h1)  # (batch, 4, 4, 16)
        h2 = nnx.relu(self.encode2(p1))
        code, switches2 = self.pool(h2)  # (batch, 2, 2, 16)
        u2 = self.unpool(code, switches2, h2.shape)  # (batch, 4, 4, 16)
        d2 = nnx.relu(self.decode2(u2))
        u1 = self.unpool(d2, switches1, h1.shape)  # (batch, 8, 8, 16)
        return nnx.sigmoid(self.decode1(u1))


def load_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images as (n, 8, 8, 1) floats in [0, 1]; a fixed 80/20 split."""
    images = (load_digits().images / 16.0).astype(np.float32)[..., None]
    order = np.random.default_rng(seed).permutation(len(images))
    split = int(0.8 * len(images))
    return images[order[:split]], images[order[split:]]


def upsampled_pool_error(images: np.ndarray) -> float:
    """Baseline: each 2x2 block replaced by its max (no switches)."""
    pooled = jaxpool.max_pool(jnp.asarray(images), (2, 2), (2, 2))
    upsampled = jnp.repeat(jnp.repeat(pooled, 2, axis=1), 2, axis=2)
    return float(jnp.mean((upsampled - images) ** 2))


def save_figure(images: np.ndarray, reconstructions: np.ndarray, path: Path) -> None:
    count = len(images)
    figure, axes = plt.subplots(2, count, figsize=(1.2 * count, 2.8))
    for column in range(count):
        for row, array in enumerate((images, reconstructions)):
            axes[row, column].imshow(array[column, ..., 0], cmap="gray_r", vmin=0, vmax=1)
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("decoded")
    figure.suptitle("SegNet-style autoencoder: max_unpool with the encoder's switches")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


# Beside this script, in a folder git ignores: running the example leaves the checkout clean.
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "output" / "unpool_autoencoder.png"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="the figure (default: %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="60 steps: a smoke test")
    return parser.parse_args(argv)


def main() -> int:
    args = parse_arguments()
    if args.quick:
        args.steps = 60

    train, test = load_data(args.seed)
    model = SegNet(rngs=nnx.Rngs(args.seed))
    optimizer = nnx.Optimizer(model, optax.adam(args.learning_rate), wrt=nnx.Param)

    @nnx.jit
    def step(model: SegNet, optimizer: nnx.Optimizer, batch: jax.Array) -> jax.Array:
        def loss(model: SegNet) -> jax.Array:
            return jnp.mean((model(batch) - batch) ** 2)

        value, grads = nnx.value_and_grad(loss)(model)
        optimizer.update(model, grads)
        return value

    rng = np.random.default_rng(args.seed)
    progress = tqdm(range(args.steps), desc="training", unit="step", file=sys.stdout)
    for _ in progress:
        batch = jnp.asarray(train[rng.integers(0, len(train), args.batch_size)])
        loss = step(model, optimizer, batch)
        progress.set_postfix(loss=f"{float(loss):.4f}", refresh=False)

    reconstructions = np.asarray(nnx.jit(lambda model, x: model(x))(model, jnp.asarray(test)))
    error = float(np.mean((reconstructions - test) ** 2))
    mean_error = float(np.mean((train.mean(axis=0) - test) ** 2))
    print(f"test reconstruction MSE (SegNet, max_unpool): {error:.4f}")
    print(f"test MSE of the mean training image:          {mean_error:.4f}")
    print(f"test MSE of 2x2 max pooling upsampled:        {upsampled_pool_error(test):.4f}")
    save_figure(test[:10], reconstructions[:10], args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
