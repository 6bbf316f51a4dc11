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

Usage: ``python benchmarks/quick.py [--rounds N]``. The full harness, with
every peer, spread and design goal: ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import this checkout's benchmarks and jaxpool
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax
import jax.numpy as jnp
import numpy as np

import jaxpool
from benchmarks import common

CASES = [
    ("(32, 64, 64, 64) f32 2x2/2 VALID", (32, 64, 64, 64), (2, 2), (2, 2), "VALID"),
    ("(16, 112, 112, 64) f32 3x3/2 SAME", (16, 112, 112, 64), (3, 3), (2, 2), "SAME"),
]


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
            return common.reduce_window_max(x, window_shape, strides, padding)

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
        thunks = {n: (lambda f=f, x=x: jax.block_until_ready(f(x))) for n, f in functions.items()}
        samples = common.time_interleaved(thunks, args.rounds, warmup=1)
        medians = {name: common.summarize(values)["median"] for name, values in samples.items()}
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
            residuals = common.saved_residuals(pool, x)
            nbytes = residuals["bytes"]
            print(
                f"  {name} residuals: {', '.join(residuals['leaves'])} = "
                f"{nbytes / 2**20:.1f} MiB, {nbytes / outputs:.2f} bytes per output"
            )
        print()


if __name__ == "__main__":
    main()
