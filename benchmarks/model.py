"""Model suite: whole training steps of small Flax linen CNNs.

A VGG-style and a ResNet-style CNN, each built twice, pooling with
``jaxpool.max_pool`` and with ``flax.linen.max_pool`` (``lax.reduce_window``),
everything else identical. A step is the jitted forward, backward and plain
SGD update. It records each step's compiled temporary memory
(``memory_analysis().temp_size_in_bytes``) and its run time, the variants timed
in interleaved rounds. Needs flax; without it the suite records that it was
skipped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from benchmarks import common

LEARNING_RATE = 1e-3


@dataclasses.dataclass(frozen=True)
class ModelCase:
    name: str
    architecture: str  # "vgg" or "resnet"
    input_shape: tuple[int, ...]  # NHWC
    width: int  # channels of the first convolution


CASES = (
    ModelCase("VGG-style", "vgg", (16, 32, 32, 3), 32),
    ModelCase("ResNet-style", "resnet", (16, 112, 112, 3), 32),
)
QUICK_CASES = (
    ModelCase("VGG-style", "vgg", (2, 16, 16, 3), 4),
    ModelCase("ResNet-style", "resnet", (2, 16, 16, 3), 4),
)


def _pools():
    import flax.linen as nn

    import jaxpool

    return {
        "jaxpool": jaxpool.max_pool,
        "flax.linen.max_pool": nn.max_pool,
    }


def build_model(case: ModelCase, pool):
    """A linen module for ``case`` that pools with ``pool(x, window, strides, padding)``."""
    import flax.linen as nn
    import jax.numpy as jnp

    width = case.width

    class VGG(nn.Module):
        """Three stages of two 3x3 convolutions and a 2x2/2 max pool, then a classifier."""

        @nn.compact
        def __call__(self, x):
            for stage in range(3):
                for _ in range(2):
                    x = nn.relu(nn.Conv(width * 2**stage, (3, 3))(x))
                x = pool(x, (2, 2), (2, 2), "VALID")
            return nn.Dense(10)(x.reshape(x.shape[0], -1))

    class ResidualBlock(nn.Module):
        features: int

        @nn.compact
        def __call__(self, x):
            y = nn.relu(nn.Conv(self.features, (3, 3))(x))
            y = nn.Conv(self.features, (3, 3))(y)
            return nn.relu(x + y)

    class ResNet(nn.Module):
        """A 7x7/2 stem, a 3x3/2 SAME max pool, two residual blocks, global mean, classifier."""

        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Conv(width, (7, 7), strides=(2, 2))(x))
            x = pool(x, (3, 3), (2, 2), "SAME")
            x = ResidualBlock(width)(x)
            x = ResidualBlock(width)(x)
            return nn.Dense(10)(jnp.mean(x, axis=(1, 2)))

    return VGG() if case.architecture == "vgg" else ResNet()


def initial_parameters(model, images):
    """Scaled normal kernels and zero biases, drawn with NumPy.

    Flax's own initialisers compile a program per parameter shape, which costs
    seconds on a small CPU; the values do not change a step's cost.
    """
    import jax
    import numpy as np

    rng = np.random.default_rng(0)

    def draw(path, leaf):
        if jax.tree_util.keystr(path).endswith("['bias']"):
            return np.zeros(leaf.shape, leaf.dtype)
        scale = 1.0 / np.sqrt(np.prod(leaf.shape[:-1]))
        return (rng.standard_normal(leaf.shape) * scale).astype(leaf.dtype)

    shapes = jax.eval_shape(model.init, jax.random.key(0), images)
    return jax.tree_util.tree_map_with_path(draw, shapes)


def training_step(model):
    """The jitted forward, backward and SGD update of ``model`` on a labelled batch."""
    import jax
    import jax.numpy as jnp

    def loss(params, images, labels):
        logits = model.apply(params, images)
        log_probabilities = jax.nn.log_softmax(logits.astype(jnp.float32))
        return -jnp.mean(jnp.take_along_axis(log_probabilities, labels[:, None], axis=1))

    def step(params, images, labels):
        value, grads = jax.value_and_grad(loss)(params, images, labels)
        params = jax.tree.map(lambda p, g: p - LEARNING_RATE * g, params, grads)
        return params, value

    return jax.jit(step)


def run(quick: bool, rounds: int, warmup: int = 2, show_progress: bool = True) -> dict:
    """The model suite's results, ready to be written as JSON."""
    settings = {"quick": quick, "rounds": rounds, "warmup": warmup, "learning_rate": LEARNING_RATE}
    if common.optional_import("flax.linen") is None:
        return {"suite": "model", "settings": settings, "skipped": "flax is not installed"}
    import jax
    import jax.numpy as jnp

    cases = QUICK_CASES if quick else CASES
    progress = common.Progress(len(cases), "model suite", show_progress)
    results = []
    for case in cases:
        images = jax.random.normal(jax.random.key(0), case.input_shape, jnp.float32)
        labels = jax.random.randint(jax.random.key(1), (case.input_shape[0],), 0, 10)
        entry: dict[str, Any] = {**dataclasses.asdict(case), "variants": {}}
        thunks = {}
        for name, pool in _pools().items():
            model = build_model(case, pool)
            params = initial_parameters(model, images)
            step = training_step(model)
            compiled = step.lower(params, images, labels).compile()
            memory = compiled.memory_analysis()
            entry["variants"][name] = {
                "temp_bytes": int(memory.temp_size_in_bytes),
                "argument_bytes": int(memory.argument_size_in_bytes),
                "output_bytes": int(memory.output_size_in_bytes),
                "parameters": int(sum(p.size for p in jax.tree.leaves(params))),
            }
            arguments = (params, images, labels)
            thunks[name] = lambda c=compiled, a=arguments: jax.block_until_ready(c(*a))
        samples = common.time_interleaved(thunks, rounds, warmup=warmup)
        for name, values in samples.items():
            entry["variants"][name]["step"] = {**common.summarize(values), "samples": values}
        results.append(entry)
        progress.step(case.name)
    progress.close()
    return {"suite": "model", "settings": settings, "cases": results}
