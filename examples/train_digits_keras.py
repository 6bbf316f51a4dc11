"""Train a small Keras CNN on scikit-learn's 8x8 digits, with Keras's pooling and with jaxpool's.

The model is Keras 3 on its JAX backend: two convolutions, each followed by
2x2 max pooling, then a dense layer, trained with ``model.fit`` (jit-compiled,
Adam) on the digits bundled with scikit-learn (1797 images, nothing to
download). It is trained twice from the same weights and seed, once with
``keras.layers.MaxPooling2D`` and once with ``jaxpool.keras.MaxPooling2D``;
the script prints both test accuracies and whether the losses Keras reports
after every step agree. The 2x2 windows do not overlap, so the two gradients
are the same numbers (ties, such as the zeros after a ReLU, go to the first
element in both), and so are the losses, bit for bit.

    pip install ".[keras,examples]"
    python examples/train_digits_keras.py            # 15 epochs, half a minute on 2 cores
    python examples/train_digits_keras.py --quick    # 2 epochs, a smoke test

It exits with status 1 if the two runs' losses disagree.
"""

from __future__ import annotations

import argparse
import os
import sys

# Keras reads its backend when first imported; jaxpool.keras needs JAX's.
os.environ["KERAS_BACKEND"] = "jax"

import jax
import keras
import numpy as np
from sklearn.datasets import load_digits

import jaxpool.keras


def cnn(pooling) -> keras.Model:
    """conv 3x3 -> relu -> pool 2x2 -> conv 3x3 -> relu -> pool 2x2 -> MLP;
    ``pooling`` is ``keras.layers`` or ``jaxpool.keras``."""
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            pooling.MaxPooling2D(2),  # (batch, 4, 4, 16)
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            pooling.MaxPooling2D(2),  # (batch, 2, 2, 32)
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )


def load_data(seed: int) -> tuple[np.ndarray, ...]:
    """Images as (n, 8, 8, 1) floats in [0, 1]; a fixed 80/20 split."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    labels = digits.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(labels))
    split = int(0.8 * len(labels))
    train, test = order[:split], order[split:]
    return images[train], labels[train], images[test], labels[test]


class StepLosses(keras.callbacks.Callback):
    """The loss Keras reports after each step (the epoch's running mean)."""

    def __init__(self) -> None:
        super().__init__()
        self.losses: list[float] = []

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.losses.append(float(logs["loss"]))


def train(model: keras.Model, weights: list, data, args) -> tuple[np.ndarray, float]:
    """Fits ``model`` from ``weights`` and ``args.seed``; its step losses and test accuracy."""
    train_images, train_labels, test_images, test_labels = data
    model.set_weights(weights)
    model.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    keras.utils.set_random_seed(args.seed)  # the same shuffles in both runs
    record = StepLosses()
    model.fit(
        train_images,
        train_labels,
        batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=[record],
        verbose=0,
    )
    logits = model.predict(test_images, batch_size=512, verbose=0)
    return np.asarray(record.losses), float(np.mean(np.argmax(logits, axis=-1) == test_labels))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2 epochs: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = 2

    data = load_data(args.seed)
    print(
        f"digits: {len(data[1])} training and {len(data[3])} test images of 8x8, "
        f"{args.epochs} epochs of batches of {args.batch_size}, keras {keras.__version__} "
        f"on {keras.config.backend()} {jax.__version__} ({jax.devices()[0].platform})"
    )
    keras.utils.set_random_seed(args.seed)
    theirs = cnn(keras.layers)
    ours = cnn(jaxpool.keras)
    weights = theirs.get_weights()  # both start from these
    keras_losses, keras_accuracy = train(theirs, weights, data, args)
    losses, accuracy = train(ours, weights, data, args)

    print(f"test accuracy (keras.layers.MaxPooling2D):  {keras_accuracy:.2%}")
    print(f"test accuracy (jaxpool.keras.MaxPooling2D): {accuracy:.2%}")
    print(f"final loss: {keras_losses[-1]:.6f} (Keras's pooling), {losses[-1]:.6f} (jaxpool's)")
    identical = int(np.sum(losses == keras_losses))
    agree = bool(np.all(losses == keras_losses))
    difference = float(np.max(np.abs(losses - keras_losses)))
    verdict = "agree" if agree else "DISAGREE"
    print(
        f"losses {verdict} step for step: {identical} of {len(losses)} identical, "
        f"largest difference {difference:.3g}"
    )
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
