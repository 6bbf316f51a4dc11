"""A probe for a lent GPU, beside the GPU check: the values-only forward as
``reduce_window`` with ``lax.max`` against jaxpool's NaN-keeping select reducer,
and gradients of cases of the family against the reference each framework calls
(global max, a point cloud, SPPF and SPP windows, ``min_pool``'s forward).

Run on the device as ``PYTHONPATH=. python benchmarks/gpu_probe.py``; it prints
medians of three rounds. benchmarks/results/gpu/probe.txt holds the H200's output,
and benchmarks/NOTES.md what it says.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import jaxpool
from jaxpool._native import larger_or_nan

FORWARD_CASES = (
    ((32, 4096, 64), (3,), (2,), "VALID"),
    ((16, 112, 112, 64), (3, 3), (2, 2), "SAME"),
    ((32, 64, 64, 64), (2, 2), (2, 2), "VALID"),
)


def median_us(f, x, calls: int = 200) -> float:
    f(x).block_until_ready()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        f(x).block_until_ready()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e6


def rounds(functions, x, calls: int, count: int = 3) -> np.ndarray:
    """Medians over ``count`` interleaved rounds, one per function."""
    samples = [[median_us(f, x, calls) for f in functions] for _ in range(count)]
    return np.median(np.array(samples), axis=0)


def reduce_window_max(window, strides, padding, reducer=lax.max, init=-jnp.inf):
    full = lambda t: (1, *t, 1)  # noqa: E731
    return lambda x: lax.reduce_window(
        x, np.asarray(init, x.dtype), reducer, full(window), full(strides), padding
    )


def gradient(pool):
    return jax.jit(jax.grad(lambda x: (pool(x).astype(jnp.float32) ** 2).sum()))


def forward_rows(dtype) -> None:
    for shape, window, strides, padding in FORWARD_CASES:
        x = jax.random.normal(jax.random.key(0), shape, dtype)
        functions = (
            jax.jit(reduce_window_max(window, strides, padding)),
            jax.jit(reduce_window_max(window, strides, padding, larger_or_nan)),
            jax.jit(lambda x, w=window, s=strides, p=padding: jaxpool.max_pool(x, w, s, p)),
        )
        r = rounds(functions, x, 200)
        print(
            f"fwd {jnp.dtype(dtype).name} {shape} {window}/{strides} {padding}: "
            f"max {r[0]:.0f} us, select {r[1]:.0f} us, jaxpool {r[2]:.0f} us",
            flush=True,
        )


def family_cases():
    spp = lambda w: reduce_window_max(w, (1, 1), "SAME")  # noqa: E731
    return (
        (
            "global max 56x56",
            (16, 56, 56, 256),
            gradient(lambda x: jaxpool.max_pool(x, (56, 56), (56, 56))),
            gradient(lambda x: jnp.max(x, axis=(1, 2))),
        ),
        (
            "point cloud 4096",
            (32, 4096, 256),
            gradient(lambda x: jaxpool.max_pool(x, (4096,), (4096,))),
            gradient(lambda x: jnp.max(x, axis=1)),
        ),
        (
            "SPPF 5x5/1 SAME",
            (16, 20, 20, 512),
            gradient(lambda x: jaxpool.max_pool(x, (5, 5), (1, 1), "SAME")),
            gradient(spp((5, 5))),
        ),
        (
            "SPP 13x13/1 SAME",
            (16, 20, 20, 512),
            gradient(lambda x: jaxpool.max_pool(x, (13, 13), (1, 1), "SAME")),
            gradient(spp((13, 13))),
        ),
        (
            "min 3x3/2 SAME fwd",
            (16, 112, 112, 64),
            jax.jit(lambda x: jaxpool.min_pool(x, (3, 3), (2, 2), "SAME")),
            jax.jit(lambda x: -reduce_window_max((3, 3), (2, 2), "SAME")(-x)),
        ),
    )


def family_rows(dtype) -> None:
    for name, shape, ours, reference in family_cases():
        x = jax.random.normal(jax.random.key(1), shape, dtype)
        try:
            r = rounds((ours, reference), x, 100)
        except Exception as error:  # a probe reports and goes on
            print(name, "failed", repr(error)[:300], flush=True)
            continue
        print(
            f"{name} {jnp.dtype(dtype).name} {shape}: jaxpool {r[0]:.0f} us, "
            f"reference {r[1]:.0f} us, ratio {r[0] / r[1]:.2f}",
            flush=True,
        )


def main() -> None:
    for dtype in (jnp.float32, jnp.bfloat16):
        forward_rows(dtype)
    for dtype in (jnp.float32, jnp.bfloat16):
        family_rows(dtype)


if __name__ == "__main__":
    main()
