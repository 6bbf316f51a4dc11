"""Train a small CNN on scikit-learn's 8x8 digits with jaxpool's max pooling.

The model is Flax NNX with ``jaxpool.nnx.MaxPool``, trained with optax
(Adam) on the digits bundled with scikit-learn (1797 images, nothing to
download). After training it prints the test accuracy, then trains the same
model from the same seed with Flax's own ``flax.nnx.max_pool`` and prints,
side by side, whether the losses agree step for step, the time of a training
step and the temporary memory of the compiled step.

    pip install ".[examples]"
    python examples/train_digits.py            # the full run, about a minute
    python examples/train_digits.py --quick    # a few steps, a smoke test

It exits with status 1 if the two runs' losses disagree.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from sklearn.datasets import load_digits
from tqdm import tqdm

import jaxpool.nnx


class CNN(nnx.Module):
    """conv 3x3 -> relu -> pool 2x2 -> conv 3x3 -> relu -> pool 2x2 -> MLP."""

    def __init__(self, pool: Callable[[jax.Array], jax.Array], *, rngs: nnx.Rngs) -> None:
        self.conv1 = nnx.Conv(1, 16, (3, 3), padding="SAME", rngs=rngs)
        self.conv2 = nnx.Conv(16, 32, (3, 3), padding="SAME", rngs=rngs)
        self.pool = pool
        self.hidden = nnx.Linear(2 * 2 * 32, 64, rngs=rngs)
        self.out = nnx.Linear(64, 10, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.pool(nnx.relu(self.conv1(x)))  # (batch, 4, 4, 16)
        x = self.pool(nnx.relu(self.conv2(x)))  # (batch, 2, 2, 32)
        x = nnx.relu(self.hidden(x.reshape(x.shape[0], -1)))
        return self.out(x)


def flax_pool(x: jax.Array) -> jax.Array:
    return nnx.max_pool(x, (2, 2), strides=(2, 2))


def load_data(seed: int) -> tuple[np.ndarray, ...]:
    """Images as (n, 8, 8, 1) floats in [0, 1]; a fixed 80/20 split."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    labels = digits.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(labels))
    split = int(0.8 * len(labels))
    train, test = order[:split], order[split:]
    return images[train], labels[train], images[test], labels[test]


def make_step(graphdef: nnx.GraphDef) -> Callable:
    """A pure training step on the split (model, optimizer) state, so that
    jax.jit can lower and compile it ahead of time."""

    def step(state, images, labels):
        model, optimizer = nnx.merge(graphdef, state)

        def loss_fn(model):
            logits = model(images)
            return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return nnx.state((model, optimizer)), loss

    return step


def train(pool, data, args, name):
    """Trains from ``args.seed``; returns the model, losses, step times and
    the compiled step's temporary memory."""
    train_images, train_labels, _, _ = data
    model = CNN(pool, rngs=nnx.Rngs(args.seed))
    optimizer = nnx.Optimizer(model, optax.adam(args.learning_rate), wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))
    batch_rng = np.random.default_rng(args.seed)

    def batch():
        index = batch_rng.choice(len(train_labels), args.batch_size, replace=False)
        return jnp.asarray(train_images[index]), jnp.asarray(train_labels[index])

    step = jax.jit(make_step(graphdef), donate_argnums=0)
    compiled = step.lower(state, *batch()).compile()
    temp_bytes = compiled.memory_analysis().temp_size_in_bytes
    losses, times = [], []
    progress = tqdm(range(args.steps), desc=f"{name:>16}", unit="step", file=sys.stdout)
    for _ in progress:
        images, labels = batch()
        start = time.perf_counter()
        state, loss = compiled(state, images, labels)
        loss = float(loss)  # waits for the step
        times.append(time.perf_counter() - start)
        losses.append(loss)
        progress.set_postfix(loss=f"{loss:.4f}", refresh=False)
    model, _ = nnx.merge(graphdef, state)
    return model, np.asarray(losses), np.asarray(times), temp_bytes


def accuracy(model, images, labels):
    predict = nnx.jit(lambda model, x: jnp.argmax(model(x), axis=-1))
    return float(np.mean(np.asarray(predict(model, jnp.asarray(images))) == labels))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="30 steps: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps = 30

    data = load_data(args.seed)
    print(
        f"digits: {len(data[1])} training and {len(data[3])} test images of 8x8, "
        f"{args.steps} steps of {args.batch_size}, jax {jax.__version__} on "
        f"{jax.devices()[0].platform}"
    )
    model, losses, times, temp = train(jaxpool.nnx.MaxPool((2, 2), (2, 2)), data, args, "jaxpool")
    test_accuracy = accuracy(model, *data[2:])
    print(f"test accuracy (jaxpool.nnx.MaxPool): {test_accuracy:.2%}")

    print("the same model and seed with flax.nnx.max_pool:")
    flax_model, flax_losses, flax_times, flax_temp = train(flax_pool, data, args, "flax max_pool")
    flax_accuracy = accuracy(flax_model, *data[2:])

    difference = np.abs(losses - flax_losses)
    agree = bool(np.all(difference <= 1e-5 * np.abs(flax_losses) + 1e-6))
    # The first steps include warm-up: time the second half.
    half = slice(args.steps // 2, None)
    rows = [
        ("", "jaxpool.nnx.MaxPool", "flax.nnx.max_pool"),
        ("final loss", f"{losses[-1]:.6f}", f"{flax_losses[-1]:.6f}"),
        ("test accuracy", f"{test_accuracy:.2%}", f"{flax_accuracy:.2%}"),
        (
            "median step time",
            f"{statistics.median(times[half]) * 1e3:.2f} ms",
            f"{statistics.median(flax_times[half]) * 1e3:.2f} ms",
        ),
        ("compiled step temp memory", f"{temp / 1024:.1f} KiB", f"{flax_temp / 1024:.1f} KiB"),
    ]
    for label, ours, theirs in rows:
        print(f"  {label:<26} {ours:>20} {theirs:>20}")
    identical = int(np.sum(losses == flax_losses))
    verdict = "agree" if agree else "DISAGREE"
    print(
        f"losses {verdict} step for step: {identical} of {args.steps} identical, "
        f"largest difference {difference.max():.3g}"
    )
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
