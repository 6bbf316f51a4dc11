"""jaxpool against JAX's own max pooling, on this machine's default backend.

For each case it times, in interleaved rounds (one call of each function per
round, so drift on a shared machine hits all of them alike), and prints the
median of each and the ratios taken within this run:

* the jitted gradient of ``sum(max_pool(x))`` against that of
  ``lax.reduce_window`` (select-and-scatter),
* the forward against ``reduce_window``'s forward,
* an elementwise ``x * 2``: the cost of reading the input and writing an array
  of its size, the floor for any backward,

and the residuals each gradient saves, from the VJP closure.

Usage: ``python benchmarks/quick.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import jaxpool

CASES = [
    ("(32, 64, 64, 64) f32 2x2/2 VALID", (32, 64, 64, 64), (2, 2), (2, 2), "VALID"),
    ("(16, 112, 112, 64) f32 3x3/2 SAME", (16, 112, 112, 64), (3, 3), (2, 2), "SAME"),
]


def reduce_window_pool(x, window_shape, strides, padding):
    dims = (1, *window_shape, 1)
    steps = (1, *strides, 1)
    return lax.reduce_window(x, -jnp.inf, lax.max, dims, steps, padding)


def residual_bytes(pool, x):
    _, vjp_fn = jax.vjp(pool, x)
    leaves = jax.tree_util.tree_leaves(vjp_fn)
    described = ", ".join(f"{leaf.dtype}{list(leaf.shape)}" for leaf in leaves)
    return sum(leaf.nbytes for leaf in leaves), described


def time_interleaved(functions, x, rounds):
    for function in functions.values():
        jax.block_until_ready(function(x))  # compile and warm up
    samples = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.perf_counter()
            jax.block_until_ready(function(x))
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    device = jax.devices()[0]
    print(
        f"jax {jax.__version__}, backend {device.platform} ({device.device_kind}), "
        f"{platform.machine()}, {args.rounds} interleaved rounds, medians\n"
    )
    for label, shape, window_shape, strides, padding in CASES:
        x = jax.random.normal(jax.random.key(0), shape, jnp.float32)

        def ours(x, window_shape=window_shape, strides=strides, padding=padding):
            return jaxpool.max_pool(x, window_shape, strides, padding)

        def theirs(x, window_shape=window_shape, strides=strides, padding=padding):
            return reduce_window_pool(x, window_shape, strides, padding)

        functions = {
            "jaxpool grad": jax.jit(jax.grad(lambda x: ours(x).sum())),
            "reduce_window grad": jax.jit(jax.grad(lambda x: theirs(x).sum())),
            "jaxpool forward": jax.jit(ours),
            "reduce_window forward": jax.jit(theirs),
            "x * 2": jax.jit(lambda x: x * 2),
        }
        np.testing.assert_array_equal(
            functions["jaxpool forward"](x), functions["reduce_window forward"](x)
        )
        medians = time_interleaved(functions, x, args.rounds)
        print(label)
        for name, seconds in medians.items():
            print(f"  {name:<22} {seconds * 1e3:9.2f} ms")
        grad_speedup = medians["reduce_window grad"] / medians["jaxpool grad"]
        elementwise = medians["jaxpool grad"] / medians["x * 2"]
        forward = medians["jaxpool forward"] / medians["reduce_window forward"]
        print(f"  grad speed-up over reduce_window: {grad_speedup:.1f}x")
        print(f"  grad time / (x * 2) time:         {elementwise:.2f}")
        print(f"  forward time / reduce_window's:   {forward:.2f}")
        outputs = ours(x).size
        for name, pool in (("jaxpool", ours), ("reduce_window", theirs)):
            nbytes, described = residual_bytes(pool, x)
            print(
                f"  {name} residuals: {described} = {nbytes / 2**20:.1f} MiB, "
                f"{nbytes / outputs:.2f} bytes per output"
            )
        print()


if __name__ == "__main__":
    main()
