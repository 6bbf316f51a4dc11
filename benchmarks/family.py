"""The pooling family (issue 16) against reduce_window and PyTorch.

For each op-suite shape it times, in interleaved rounds with medians (see
:mod:`benchmarks.common`):

* ``jaxpool.avg_pool`` forward and jitted gradient of ``sum(avg_pool(x))``,
  channels-last;
* ``flax.linen.avg_pool`` (a ``lax.reduce_window`` add divided by the window
  size; its gradient is JAX's transpose of that sum), the same;
* the window sum as a sum of strided slices, one per window position, in
  both directions: the formulation whose transpose jaxpool's gradient uses
  for windows of up to 12 positions (chosen from this comparison; jaxpool's
  forward stays ``reduce_window``, faster where the input must be padded);
* PyTorch's ``avg_pool{1,2,3}d`` forward and forward+backward in its NCHW
  layout, where torch is installed;

plus the global 224x224 average (``jaxpool.adaptive_avg_pool``, ``jnp.mean``
over the spatial axes, ``flax.linen.avg_pool`` with a 224x224 window and
PyTorch's ``adaptive_avg_pool2d``), the compile time of that gradient for a
56x56 and a 224x224 input, and min pooling's gradient against
``reduce_window`` min.

Usage: ``python -m benchmarks.family --out DIR [--rounds N]`` writes
``DIR/family.json`` and ``DIR/family.md``.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import this checkout's benchmarks and jaxpool
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import jaxpool
from benchmarks import common
from jaxpool._family import _sum_of_slices
from jaxpool._geometry import pool_geometry

# (name, NHWC-style shape, window, strides, padding): the op suite's shapes.
CASES = [
    ("(32, 64, 64, 64) 2x2/2 VALID", (32, 64, 64, 64), (2, 2), (2, 2), "VALID"),
    ("(16, 112, 112, 64) 3x3/2 SAME", (16, 112, 112, 64), (3, 3), (2, 2), "SAME"),
    ("(16, 56, 56, 64) 3x3/1 SAME", (16, 56, 56, 64), (3, 3), (1, 1), "SAME"),
    ("(8, 32, 32, 32, 32) 2x2x2/2 VALID (3-D)", (8, 32, 32, 32, 32), (2, 2, 2), (2, 2, 2), "VALID"),
    ("(32, 4096, 64) 3/2 VALID (1-D)", (32, 4096, 64), (3,), (2,), "VALID"),
]
GLOBAL_SHAPE = (2, 224, 224, 64)


def _slices_average(window, strides, padding, x):
    """The window sum as a sum of strided slices (count_include_pad=True), in
    both directions: jaxpool's gradient formulation, here as a forward too."""
    geometry = pool_geometry(x.shape, x.dtype, window, strides, padding, pad_value=0.0)
    return _sum_of_slices(x, geometry) / math.prod(window)


def _torch_padding(shape, window, strides, padding):
    """PyTorch's symmetric padding giving the same output size (SAME's odd
    element of padding goes to both sides there)."""
    if padding == "VALID":
        return 0
    return tuple((w - 1) // 2 for w in window)


def _block(result):
    return jax.block_until_ready(result)


def _quick(shape):
    """A small stand-in of ``shape`` for a smoke run: batch 1, 8 channels."""
    return (1, *shape[1:-1], 8)


def _jax_thunks(functions: dict, x) -> dict:
    """Jitted forward and gradient of the sum of each function, at ``x``."""
    thunks = {}
    for key, function in functions.items():
        forward = jax.jit(function)
        grad = jax.jit(jax.grad(lambda x, f=function: f(x).sum()))
        thunks[f"{key} fwd"] = functools.partial(lambda f, x: _block(f(x)), forward, x)
        thunks[f"{key} grad"] = functools.partial(lambda f, x: _block(f(x)), grad, x)
    return thunks


def _torch_thunks(torch, pool, x) -> dict:
    """PyTorch's forward (no graph) and forward+backward of ``pool`` at the
    NHWC array ``x``, moved to NCHW."""
    torch_x = torch.tensor(np.asarray(jnp.moveaxis(x, -1, 1)), requires_grad=True)

    def forward():
        with torch.no_grad():
            return pool(torch_x)

    def backward():
        torch_x.grad = None
        pool(torch_x).sum().backward()

    return {"torch fwd": forward, "torch fwd+bwd": backward}


def _timed(thunks: dict, rounds: int) -> dict:
    samples = common.time_interleaved(thunks, rounds)
    return {key: common.summarize(values) for key, values in samples.items()}


def measure(rounds: int, quick: bool = False) -> dict:
    nn = common.optional_import("flax.linen")
    torch = common.optional_import("torch")
    rng = np.random.default_rng(0)
    cases = []
    progress = common.Progress(len(CASES) + 2, "family")
    for name, shape, window, strides, padding in CASES:
        shape = _quick(shape) if quick else shape
        x = jnp.asarray(rng.standard_normal(shape), jnp.float32)
        settings = dict(window_shape=window, strides=strides, padding=padding)
        functions = {
            "jaxpool": functools.partial(jaxpool.avg_pool, **settings),
            "slices": functools.partial(_slices_average, window, strides, padding),
        }
        if nn is not None:
            functions["flax"] = functools.partial(nn.avg_pool, **settings)
        # Values agree before anything is timed.
        reference = jax.jit(functions.get("flax", functions["jaxpool"]))(x)
        for function in functions.values():
            np.testing.assert_allclose(jax.jit(function)(x), reference, rtol=1e-5, atol=1e-6)
        thunks = _jax_thunks(functions, x)
        thunks["x * 2"] = functools.partial(lambda f, x: _block(f(x)), jax.jit(lambda x: x * 2), x)
        if torch is not None:
            pool = getattr(torch.nn.functional, f"avg_pool{len(window)}d")
            pad = _torch_padding(shape, window, strides, padding)
            thunks.update(
                _torch_thunks(torch, lambda t, p=pool, a=(window, strides, pad): p(t, *a), x)
            )
        cases.append(
            {
                "name": f"{name} (quick: {shape})" if quick else name,
                "shape": shape,
                "window": window,
                "strides": strides,
                "padding": padding,
                "timings": _timed(thunks, rounds),
            }
        )
        progress.step(name)

    # Global average of 224x224.
    shape = _quick(GLOBAL_SHAPE) if quick else GLOBAL_SHAPE
    x = jnp.asarray(rng.standard_normal(shape), jnp.float32)
    functions = {
        "jaxpool": lambda x: jaxpool.adaptive_avg_pool(x, (1, 1)),
        "jnp.mean": lambda x: x.mean(axis=(1, 2), keepdims=True),
    }
    if nn is not None:
        functions["flax"] = lambda x: nn.avg_pool(x, (224, 224), (224, 224))
    thunks = _jax_thunks(functions, x)
    if torch is not None:
        thunks.update(
            _torch_thunks(torch, lambda t: torch.nn.functional.adaptive_avg_pool2d(t, 1), x)
        )
    global_case = {"name": f"{shape} global 224x224 average", "timings": _timed(thunks, rounds)}
    progress.step("global")

    # Compile time of the adaptive average's gradient does not grow with the window.
    compile_seconds = {}
    for length in (56, 224):
        spec = jax.ShapeDtypeStruct((2, length, length, 64), jnp.float32)
        start = time.perf_counter()
        grad = jax.jit(jax.grad(lambda x: jaxpool.adaptive_avg_pool(x, (1, 1)).sum()))
        lowered = grad.lower(spec)
        lowered.compile()
        compile_seconds[str(length)] = {
            "seconds": time.perf_counter() - start,
            "stablehlo_chars": len(lowered.as_text()),
        }

    # Min pooling's gradient against reduce_window min's.
    name, shape, window, strides, padding = CASES[1]
    shape = _quick(shape) if quick else shape
    x = jnp.asarray(rng.standard_normal(shape), jnp.float32)
    pads = ((0, 0), *lax.padtype_to_pads(shape[1:3], window, strides, padding), (0, 0))

    def reduce_window_min(x):
        return lax.reduce_window(
            x, np.array(np.inf, np.float32), lax.min, (1, *window, 1), (1, *strides, 1), pads
        )

    functions = {
        "jaxpool": lambda x: jaxpool.min_pool(x, window, strides, padding),
        "reduce_window": reduce_window_min,
    }
    min_case = {"name": f"min_pool {name}", "timings": _timed(_jax_thunks(functions, x), rounds)}
    progress.step("min_pool")
    progress.close()
    return {"cases": cases, "global": global_case, "compile": compile_seconds, "min_pool": min_case}


def _ms(timings, key):
    entry = timings.get(key)
    return common.format_seconds(entry["median"]) if entry else "-"


def _ratio(timings, numerator, denominator):
    value = common.ratio(
        common.median_of(timings, numerator), common.median_of(timings, denominator)
    )
    return common.format_ratio(value) if value is not None else "-"


def markdown(results: dict) -> str:
    machine = results["machine"]
    lines = [
        "# The pooling family against reduce_window and PyTorch",
        "",
        f"Measured with `python -m benchmarks.family` on {common.device_line(machine)}, "
        f"torch {machine['versions']['torch']} ({machine['torch_threads']} threads), "
        f"{machine['date']}, load average {machine['load_average'][0]:.1f} at the start; "
        f"jaxpool at {(machine['git_commit'] or '')[:10]}; {results['settings']['rounds']} "
        "interleaved rounds, medians. Float32. jaxpool and Flax channels-last (NHWC), "
        "PyTorch in its NCHW layout (SAME's asymmetric padding as PyTorch's symmetric padding "
        "of the same output size). Gradients are the jitted `jax.grad` of the sum; PyTorch's "
        "column is forward and backward together. `slices` is the window sum as a sum of one "
        "strided slice per window position, forward and transpose: jaxpool's gradient is that "
        "transpose (for windows of up to 12 positions), its forward `reduce_window`.",
        "",
        "## avg_pool",
        "",
        "| case | jaxpool fwd | Flax (reduce_window) fwd | slices fwd | PyTorch fwd | "
        "jaxpool grad | Flax grad | slices grad | PyTorch fwd+bwd | grad: Flax / jaxpool | "
        "grad: PyTorch fwd+bwd / jaxpool grad | `x * 2` |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in results["cases"]:
        t = case["timings"]
        lines.append(
            f"| `{case['name']}` | {_ms(t, 'jaxpool fwd')} | {_ms(t, 'flax fwd')} | "
            f"{_ms(t, 'slices fwd')} | {_ms(t, 'torch fwd')} | {_ms(t, 'jaxpool grad')} | "
            f"{_ms(t, 'flax grad')} | {_ms(t, 'slices grad')} | {_ms(t, 'torch fwd+bwd')} | "
            f"{_ratio(t, 'flax grad', 'jaxpool grad')} | "
            f"{_ratio(t, 'torch fwd+bwd', 'jaxpool grad')} | {_ms(t, 'x * 2')} |"
        )
    t = results["global"]["timings"]
    compile_rows = results["compile"]
    lines += [
        "",
        "## Global 224x224 average",
        "",
        "| case | jaxpool.adaptive_avg_pool | jnp.mean | Flax avg_pool 224x224 | PyTorch |",
        "|---|---|---|---|---|",
        f"| `{results['global']['name']}` forward | {_ms(t, 'jaxpool fwd')} | "
        f"{_ms(t, 'jnp.mean fwd')} | {_ms(t, 'flax fwd')} | {_ms(t, 'torch fwd')} |",
        f"| gradient (PyTorch: fwd+bwd) | {_ms(t, 'jaxpool grad')} | {_ms(t, 'jnp.mean grad')} | "
        f"{_ms(t, 'flax grad')} | {_ms(t, 'torch fwd+bwd')} |",
        "",
        "Compile time of the jitted gradient of a global adaptive average (lower + compile, "
        "one process, after warm-up):",
        "",
        "| input | compile | StableHLO size |",
        "|---|---|---|",
    ]
    for length, entry in compile_rows.items():
        lines.append(
            f"| `(2, {length}, {length}, 64)` | {common.format_seconds(entry['seconds'])} | "
            f"{entry['stablehlo_chars']} chars |"
        )
    t = results["min_pool"]["timings"]
    lines += [
        "",
        "## min_pool",
        "",
        "| case | jaxpool fwd | reduce_window min fwd | jaxpool grad | reduce_window grad | "
        "grad speed-up |",
        "|---|---|---|---|---|---|",
        f"| `{results['min_pool']['name']}` | {_ms(t, 'jaxpool fwd')} | "
        f"{_ms(t, 'reduce_window fwd')} | {_ms(t, 'jaxpool grad')} | "
        f"{_ms(t, 'reduce_window grad')} | {_ratio(t, 'reduce_window grad', 'jaxpool grad')} |",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for family.json/.md")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--quick", action="store_true", help="small shapes: a smoke run")
    args = parser.parse_args(argv)
    results = {
        "machine": common.machine_info(),
        "settings": {"rounds": args.rounds, "quick": args.quick},
    }
    results.update(measure(args.rounds, args.quick))
    args.out.mkdir(parents=True, exist_ok=True)
    common.write_json(args.out / "family.json", results)
    (args.out / "family.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
