"""Block windows (global max, a point cloud, 14x14/14) compiled for one accelerator
without it: jaxpool's bytes accessed over the reference's, forward and gradient, and
the gradient's temporary bytes, from the compilers' own analyses (as ``benchmarks.accel``).

    JAX_PLATFORMS=cpu python benchmarks/accel_blocks.py H100      # or "TPU v5e"

benchmarks/results/accel/blocks.txt holds its output for the H100 and the TPU v5e.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax
import jax.numpy as jnp

import jaxpool
from benchmarks import accel
from benchmarks import common

# name, input shape, window (= strides), the reference each framework calls.
CASES = (
    ("global 56", (16, 56, 56, 256), (56, 56), lambda x: jnp.max(x, axis=(1, 2))),
    ("point cloud", (32, 4096, 256), (4096,), lambda x: jnp.max(x, axis=1)),
    (
        "14x14/14",
        (16, 56, 56, 256),
        (14, 14),
        lambda x: common.reduce_window_max(x, (14, 14), (14, 14), "VALID"),
    ),
    ("global 224", (8, 224, 224, 64), (224, 224), lambda x: jnp.max(x, axis=(1, 2))),
)


def _gradient(pool):
    return jax.grad(lambda x: pool(x).astype(jnp.float32).sum())


def main(target: str) -> None:
    for name, shape, window, reference in CASES:
        for dtype in ("float32", "bfloat16"):
            x = jax.ShapeDtypeStruct(shape, jnp.dtype(dtype))
            ours = lambda x, w=window: jaxpool.max_pool(x, w, w)  # noqa: E731
            found = {}
            for label, pool in (("jaxpool", ours), ("reference", reference)):
                for kind, program in (("fwd", pool), ("grad", _gradient(pool))):
                    found[label, kind] = accel.measure(target, program, (x,))

            def ratio(kind, found=found):
                ours_, theirs = found["jaxpool", kind], found["reference", kind]
                if ours_["status"] != "ok" or theirs["status"] != "ok":
                    return f"jaxpool {ours_['status']}, reference {theirs['status']}"
                return f"{ours_['bytes_accessed'] / theirs['bytes_accessed']:.2f}x"

            temp = [found[label, "grad"].get("temp_bytes") for label in ("jaxpool", "reference")]
            print(
                f"{target} {name} {dtype}: fwd {ratio('fwd')} grad {ratio('grad')} "
                f"temp {temp[0]} vs {temp[1]}",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1])
