"""Op suite: one max pooling op, jaxpool against every peer.

For each case and dtype it times three things per strategy: the forward
(values only), forward+backward (the jitted gradient of ``sum(pool(x))``) and
the backward alone (the VJP function applied to a cotangent, its residuals
computed beforehand). Strategies: jaxpool in both autodiff modes, channels-last
and channels-first; ``jax.grad`` of ``lax.reduce_window``; ``flax.linen``,
``haiku`` and ``equinox`` max pooling where installed; PyTorch's
``max_pool{1,2,3}d`` on the CPU in NCHW and channels_last where installed; and
the floor, ``x * 2``, which reads the input and writes an array of its size.
It also records what each JAX strategy saves for the backward, and times the
gradient as the batch grows.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from benchmarks import common

STRATEGY_FLOOR = "x * 2 (floor)"
KINDS = ("fwd", "fwd+bwd", "bwd")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    shape: tuple[int, ...]  # channels-last: (batch, *spatial, channels)
    window_shape: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str

    @property
    def channels_first_shape(self) -> tuple[int, ...]:
        return (self.shape[0], self.shape[-1], *self.shape[1:-1])


CASES = (
    Case("2x2/2 VALID", (32, 64, 64, 64), (2, 2), (2, 2), "VALID"),
    Case("3x3/2 SAME", (16, 112, 112, 64), (3, 3), (2, 2), "SAME"),
    Case("3x3/1 SAME", (16, 56, 56, 64), (3, 3), (1, 1), "SAME"),
    Case("2x2x2/2 VALID (3-D)", (8, 32, 32, 32, 32), (2, 2, 2), (2, 2, 2), "VALID"),
    Case("3/2 VALID (1-D audio)", (32, 4096, 64), (3,), (2,), "VALID"),
)
QUICK_CASES = (Case("2x2/2 VALID", (2, 8, 8, 4), (2, 2), (2, 2), "VALID"),)
DTYPES = ("float32", "bfloat16")
# The batch sweep: one case, the batch grown from 1 to 256.
SWEEP_CASE = Case("2x2/2 VALID", (1, 32, 32, 64), (2, 2), (2, 2), "VALID")
SWEEP_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
QUICK_SWEEP_CASE = Case("2x2/2 VALID", (1, 8, 8, 4), (2, 2), (2, 2), "VALID")
QUICK_SWEEP_BATCHES = (1, 4)


def runs(quick: bool) -> list[tuple[Case, str]]:
    """The (case, dtype) pairs measured: every case in both dtypes, or a few tiny ones."""
    if quick:
        return [(QUICK_CASES[0], "float32")]
    return [(case, dtype) for case in CASES for dtype in DTYPES]


def _same_pads(case: Case) -> list[tuple[int, int]]:
    from jax import lax

    spatial = case.shape[1:-1]
    if case.padding == "VALID":
        return [(0, 0)] * len(spatial)
    return [tuple(p) for p in lax.padtype_to_pads(spatial, case.window_shape, case.strides, "SAME")]


def jax_strategies(case: Case) -> dict[str, tuple[str, Any]]:
    """name -> (layout, pool function) for every JAX strategy installed here."""
    import jax

    import jaxpool

    window, strides, padding = case.window_shape, case.strides, case.padding
    d = len(window)
    strategies: dict[str, tuple[str, Any]] = {}
    for mode in ("vjp", "jvp"):
        suffix = "" if mode == "vjp" else " (jvp)"
        strategies[f"jaxpool{suffix}"] = (
            "last",
            lambda x, mode=mode: jaxpool.max_pool(x, window, strides, padding, autodiff=mode),
        )
        strategies[f"jaxpool channels-first{suffix}"] = (
            "first",
            lambda x, mode=mode: jaxpool.max_pool(
                x, window, strides, padding, channel_axis=1, autodiff=mode
            ),
        )
    strategies["reduce_window"] = (
        "last",
        lambda x: common.reduce_window_max(x, window, strides, padding),
    )
    linen = common.optional_import("flax.linen")
    if linen is not None:
        strategies["flax.linen.max_pool"] = (
            "last",
            lambda x: linen.max_pool(x, window, strides, padding),
        )
    haiku = common.optional_import("haiku")
    if haiku is not None:
        strategies["haiku.max_pool"] = (
            "last",
            lambda x: haiku.max_pool(x, (1, *window, 1), (1, *strides, 1), padding),
        )
    equinox = common.optional_import("equinox")
    if equinox is not None and d in (1, 2, 3):
        layer_class = getattr(equinox.nn, f"MaxPool{d}d")
        layer = layer_class(window, strides, padding=_same_pads(case))
        strategies[f"equinox MaxPool{d}d"] = ("first", jax.vmap(layer))
    return strategies


def _jax_thunks(pool, x) -> tuple[dict[str, Any], Any, Any]:
    """The three timed thunks, the forward's values and the VJP function."""
    import jax
    import jax.numpy as jnp

    forward = jax.jit(pool)
    gradient = jax.jit(jax.grad(lambda x: pool(x).astype(jnp.float32).sum()))
    y, vjp_function = jax.jit(lambda x: jax.vjp(pool, x))(x)
    cotangent = jnp.ones_like(y)
    backward = jax.jit(lambda vjp_function, cotangent: vjp_function(cotangent)[0])
    thunks = {
        "fwd": lambda: jax.block_until_ready(forward(x)),
        "fwd+bwd": lambda: jax.block_until_ready(gradient(x)),
        "bwd": lambda: jax.block_until_ready(backward(vjp_function, cotangent)),
    }
    return thunks, forward(x), vjp_function


def torch_thunks(case: Case, x_channels_first, dtype_name: str) -> dict[str, dict[str, Any]]:
    """name -> kind -> thunk for PyTorch's CPU max pooling (empty without torch)."""
    torch = common.optional_import("torch")
    if torch is None:
        return {}
    import numpy as np

    d = len(case.window_shape)
    pool = getattr(torch.nn.functional, f"max_pool{d}d")
    torch_padding = tuple(max(low, high) for low, high in _same_pads(case))
    source = torch.from_numpy(np.asarray(x_channels_first, dtype=np.float32).copy())
    source = source.to(getattr(torch, dtype_name))
    formats = {"torch NCHW": torch.contiguous_format}
    if d == 2:
        formats["torch channels_last"] = torch.channels_last
    elif d == 3:
        formats["torch channels_last"] = torch.channels_last_3d

    def apply(x):
        return pool(x, case.window_shape, case.strides, torch_padding)

    thunks = {}
    for name, memory_format in formats.items():
        x = source.clone(memory_format=memory_format).requires_grad_(True)
        y = apply(x)
        cotangent = torch.ones_like(y)

        def forward(x=x):
            with torch.no_grad():
                return apply(x)

        def forward_backward(x=x):
            x.grad = None
            apply(x).sum().backward()
            return x.grad

        def backward(x=x, y=y, cotangent=cotangent):
            return torch.autograd.grad(y, x, cotangent, retain_graph=True)[0]

        thunks[name] = {"fwd": forward, "fwd+bwd": forward_backward, "bwd": backward}
    return thunks


def _torch_output_shape(thunks) -> list[int] | None:
    for kinds in thunks.values():
        return list(kinds["fwd"]().shape)
    return None


def measure_case(case: Case, dtype_name: str, rounds: int, warmup: int, seed: int) -> dict:
    """Every strategy's forward, forward+backward and backward on one case."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    dtype = jnp.dtype(dtype_name)
    x_last = jax.random.normal(jax.random.key(seed), case.shape, jnp.float32).astype(dtype)
    d = len(case.window_shape)
    x_first = jnp.transpose(x_last, (0, d + 1, *range(1, d + 1)))
    inputs = {"last": x_last, "first": x_first}
    result: dict[str, Any] = {
        "case": case.name,
        "dtype": dtype_name,
        "shape": list(case.shape),
        "channels_first_shape": list(case.channels_first_shape),
        "window_shape": list(case.window_shape),
        "strides": list(case.strides),
        "padding": case.padding,
        "input_bytes": int(x_last.nbytes),
        "errors": {},
        "residuals": {},
    }
    thunks: dict[str, dict[str, Any]] = {}
    reference = None
    for name, (layout, pool) in jax_strategies(case).items():
        x = inputs[layout]
        try:
            thunks[name], values, vjp_function = _jax_thunks(pool, x)
            values = np.asarray(values.astype(jnp.float32))
            if layout == "first":
                values = np.moveaxis(values, 1, -1)
            if reference is None:
                reference = values
                result["output_shape"] = list(values.shape)
                result["output_bytes"] = int(values.size * dtype.itemsize)
                result["outputs"] = int(values.size)
            result.setdefault("values_match_jaxpool", {})[name] = bool(
                np.array_equal(values, reference, equal_nan=True)
            )
            residuals = common.saved_residuals(pool, x, vjp_function)
            residuals["bytes_per_output"] = residuals["bytes"] / result["outputs"]
            result["residuals"][name] = residuals
        except Exception as error:  # a peer that cannot run this case is recorded, not fatal
            thunks.pop(name, None)
            result["errors"][name] = f"{type(error).__name__}: {error}"[:500]
    try:
        torch_kinds = torch_thunks(case, x_first, dtype_name)
        thunks.update(torch_kinds)
        result["torch_output_shape"] = _torch_output_shape(torch_kinds)
    except Exception as error:
        result["errors"]["torch"] = f"{type(error).__name__}: {error}"[:500]
    floor = jax.jit(lambda x: x * 2)
    thunks[STRATEGY_FLOOR] = {"fwd": lambda: jax.block_until_ready(floor(x_last))}
    # The least any gradient must move: read the input, write an input-sized gradient.
    result["floor_bytes"] = 2 * int(x_last.nbytes)

    flat = {f"{name}|{kind}": f for name, kinds in thunks.items() for kind, f in kinds.items()}
    samples = common.time_interleaved(flat, rounds, warmup=warmup, seed=seed)
    timings: dict[str, dict[str, Any]] = {}
    for key, values in samples.items():
        name, kind = key.split("|")
        timings.setdefault(name, {})[kind] = {**common.summarize(values), "samples": values}
    result["timings"] = timings
    floor_median = timings[STRATEGY_FLOOR]["fwd"]["median"]
    result["floor_bandwidth_bytes_per_second"] = result["floor_bytes"] / floor_median
    return result


def measure_batch_sweep(quick: bool, rounds: int, warmup: int, seed: int, progress) -> dict:
    """Gradient time of jaxpool, reduce_window, PyTorch and the floor as the batch grows."""
    import jax
    import jax.numpy as jnp

    case = QUICK_SWEEP_CASE if quick else SWEEP_CASE
    batches = QUICK_SWEEP_BATCHES if quick else SWEEP_BATCHES
    strategies = jax_strategies(case)
    points = []
    for batch in batches:
        shape = (batch, *case.shape[1:])
        sized = dataclasses.replace(case, shape=shape)
        x = jax.random.normal(jax.random.key(seed), shape, jnp.float32)
        thunks = {}
        for name in ("jaxpool", "reduce_window"):
            gradient = jax.jit(jax.grad(lambda x, pool=strategies[name][1]: pool(x).sum()))
            thunks[name] = lambda f=gradient, x=x: jax.block_until_ready(f(x))
        floor = jax.jit(lambda x: x * 2)
        thunks[STRATEGY_FLOOR] = lambda f=floor, x=x: jax.block_until_ready(f(x))
        x_first = jnp.moveaxis(x, -1, 1)
        for name, kinds in torch_thunks(sized, x_first, "float32").items():
            if name == "torch NCHW":
                thunks[name] = kinds["fwd+bwd"]
        samples = common.time_interleaved(thunks, rounds, warmup=warmup, seed=seed)
        points.append(
            {
                "batch": batch,
                "shape": list(shape),
                "elements": math.prod(shape),
                "timings": {
                    name: {**common.summarize(values), "samples": values}
                    for name, values in samples.items()
                },
            }
        )
        progress.step(f"batch {batch}")
    return {
        "case": case.name,
        "shape_per_example": list(case.shape[1:]),
        "quantity": "fwd+bwd (jitted gradient of sum)",
        "points": points,
    }


def run(quick: bool, rounds: int, warmup: int = 2, seed: int = 0, show_progress=True) -> dict:
    """The op suite's results, ready to be written as JSON."""
    cases = runs(quick)
    batches = QUICK_SWEEP_BATCHES if quick else SWEEP_BATCHES
    progress = common.Progress(len(cases) + len(batches), "op suite", show_progress)
    results = []
    for case, dtype_name in cases:
        results.append(measure_case(case, dtype_name, rounds, warmup, seed))
        progress.step(f"{case.name} {dtype_name}")
    sweep = measure_batch_sweep(quick, rounds, warmup, seed, progress)
    progress.close()
    return {
        "suite": "op",
        "settings": {"quick": quick, "rounds": rounds, "warmup": warmup, "seed": seed},
        "kinds": {
            "fwd": "forward, values only, jitted",
            "fwd+bwd": "jitted jax.grad of sum(pool(x)); PyTorch: forward, sum, backward",
            "bwd": "the VJP function applied to a ones cotangent, residuals precomputed",
        },
        "cases": results,
        "batch_sweep": sweep,
    }
