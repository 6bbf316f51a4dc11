"""Scale suite: how compile time, memory and run time grow with the window.

Every case is NHWC float32. For jaxpool and ``lax.reduce_window`` it measures,
each in a fresh subprocess capped in address space and time (a blow-up is
recorded as ``oom``, ``timeout`` or ``error``, never fatal): the trace, lower
and compile time of ``jax.jit(jax.grad(lambda x: pool(x).sum()))`` built from a
fresh function, the forward's compile time, and the process's peak resident
memory (Linux's ``VmHWM``; ``ru_maxrss`` is kept beside it but carries the
parent's peak over ``fork``) after compiling and running both. A further subprocess
per case then times, in interleaved rounds, the jitted gradient and forward of
both; for global windows also ``max_pool_with_argmax`` against ``jnp.argmax``
over the flattened window and the gradient against ``jax.grad`` of ``jnp.max``
over the spatial axes. Lastly, channels-first against channels-last (forward
and gradient of 2x2/2 and 3x3/2 SAME): ``channel_axis=1`` on NCHW against NHWC,
and unbatched ``(C, H, W)`` with ``channel_axis=0`` against ``(H, W, C)``.

Run alone: ``python benchmarks/scale.py [--quick] [--rounds N] [--out DIR]``
(the same as ``python -m benchmarks --suite scale``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import this checkout's benchmarks and jaxpool
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

MEMORY_LIMIT_BYTES = 6 * 2**30
COMPILE_TIMEOUT_S = 120
TIME_TIMEOUT_S = 300
IMPLEMENTATIONS = ("jaxpool", "reduce_window")


@dataclasses.dataclass(frozen=True)
class ScaleCase:
    name: str
    shape: tuple[int, ...]  # (batch, *spatial, channels)
    window_shape: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str

    @property
    def is_global(self) -> bool:
        return tuple(self.window_shape) == tuple(self.shape[1:-1])


def _global(name: str, shape: tuple[int, ...]) -> ScaleCase:
    return ScaleCase(name, shape, shape[1:-1], shape[1:-1], "VALID")


CASES = (
    ScaleCase("3x3/2 SAME", (16, 112, 112, 64), (3, 3), (2, 2), "SAME"),
    ScaleCase("5x5/1 SAME", (8, 32, 32, 32), (5, 5), (1, 1), "SAME"),
    ScaleCase("7x7/1 SAME", (8, 56, 56, 32), (7, 7), (1, 1), "SAME"),
    ScaleCase("11x11/1 SAME", (4, 32, 32, 16), (11, 11), (1, 1), "SAME"),
    ScaleCase("14x14/14 VALID", (8, 56, 56, 64), (14, 14), (14, 14), "VALID"),
    _global("global 56x56", (8, 56, 56, 64)),
    _global("global 224x224", (2, 224, 224, 16)),
    ScaleCase("3-D 5x5x5/1 SAME", (2, 16, 16, 16, 8), (5, 5, 5), (1, 1, 1), "SAME"),
    ScaleCase("1-D 64/1 VALID", (8, 512, 16), (64,), (1,), "VALID"),
)
QUICK_CASES = (_global("global 8x8", (2, 8, 8, 4)),)
LAYOUT_CASES = (
    ScaleCase("2x2/2 VALID", (32, 64, 64, 64), (2, 2), (2, 2), "VALID"),
    ScaleCase("3x3/2 SAME", (16, 112, 112, 64), (3, 3), (2, 2), "SAME"),
)
QUICK_LAYOUT_CASES = (ScaleCase("2x2/2 VALID", (2, 8, 8, 4), (2, 2), (2, 2), "VALID"),)


# --- inside a worker subprocess -------------------------------------------------------------


def _pool(implementation: str, case: ScaleCase, channel_axis: int = -1):
    import jaxpool

    window, strides, padding = case.window_shape, case.strides, case.padding
    if implementation == "jaxpool":
        return lambda x: jaxpool.max_pool(x, window, strides, padding, channel_axis=channel_axis)
    return lambda x: common.reduce_window_max(x, window, strides, padding)


def _input(shape):
    import jax
    import jax.numpy as jnp

    return jax.random.normal(jax.random.key(0), shape, jnp.float32)


def _max_rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _peak_rss_bytes() -> int:
    """This process's peak resident memory.

    Linux's ``VmHWM`` where there is one: ``ru_maxrss`` survives ``fork`` and
    ``exec``, so a worker started by a large parent reports the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return _max_rss_bytes()


def _compile_task(task: dict) -> dict:
    """Trace, lower and compile the gradient from a fresh function; run it; peak memory."""
    import jax

    case = ScaleCase(**task["case"])
    pool = _pool(task["implementation"], case)
    x = _input(case.shape)
    jax.block_until_ready(x)
    baseline = _peak_rss_bytes()
    gradient = jax.jit(jax.grad(lambda x: pool(x).sum()))
    start = time.perf_counter()
    traced = gradient.trace(x)
    traced_at = time.perf_counter()
    lowered = traced.lower()
    lowered_at = time.perf_counter()
    compiled = lowered.compile()
    compiled_at = time.perf_counter()
    jax.block_until_ready(compiled(x))
    ran_at = time.perf_counter()
    memory = compiled.memory_analysis()
    forward_start = time.perf_counter()
    forward = jax.jit(pool).lower(x).compile()
    forward_compiled_at = time.perf_counter()
    jax.block_until_ready(forward(x))
    return {
        "grad_trace_s": traced_at - start,
        "grad_lower_s": lowered_at - traced_at,
        "grad_compile_s": compiled_at - lowered_at,
        "grad_trace_lower_compile_s": compiled_at - start,
        "grad_first_run_s": ran_at - compiled_at,
        "grad_temp_bytes": int(memory.temp_size_in_bytes) if memory is not None else None,
        "forward_lower_compile_s": forward_compiled_at - forward_start,
        "baseline_rss_bytes": baseline,
        "peak_rss_bytes": _peak_rss_bytes(),
        "ru_maxrss_bytes": _max_rss_bytes(),
    }


def _timed(thunks: dict, task: dict) -> dict:
    samples = common.time_interleaved(thunks, task["rounds"], warmup=task["warmup"])
    return {
        name: {**common.summarize(values), "samples": values} for name, values in samples.items()
    }


def _time_task(task: dict) -> dict:
    """Interleaved run times of the gradient and forward of each implementation that compiled."""
    import jax
    import jax.numpy as jnp

    import jaxpool

    case = ScaleCase(**task["case"])
    x = _input(case.shape)
    thunks = {}
    for implementation in task["implementations"]:
        pool = _pool(implementation, case)
        gradient = jax.jit(jax.grad(lambda x, pool=pool: pool(x).sum()))
        forward = jax.jit(pool)
        thunks[f"{implementation} grad"] = lambda f=gradient: jax.block_until_ready(f(x))
        thunks[f"{implementation} fwd"] = lambda f=forward: jax.block_until_ready(f(x))
    if case.is_global:
        spatial = tuple(range(1, x.ndim - 1))
        flat = (x.shape[0], math.prod(x.shape[1:-1]), x.shape[-1])
        argmax = jax.jit(lambda x: jnp.argmax(x.reshape(flat), axis=1))
        max_gradient = jax.jit(jax.grad(lambda x: jnp.max(x, axis=spatial).sum()))
        thunks["jnp.argmax"] = lambda: jax.block_until_ready(argmax(x))
        thunks["jnp.max grad"] = lambda: jax.block_until_ready(max_gradient(x))
        if "jaxpool" in task["implementations"]:
            with_argmax = jax.jit(
                lambda x: jaxpool.max_pool_with_argmax(x, case.window_shape, case.strides)
            )
            thunks["jaxpool with_argmax"] = lambda: jax.block_until_ready(with_argmax(x))
    return {"timings": _timed(thunks, task)}


def _layout_task(task: dict) -> dict:
    """Forward, gradient and backward alone of jaxpool in four layouts of the
    same data (the backward: the VJP function applied to a cotangent held in
    memory, as in a network, where the gradient of ``sum`` routes a constant)."""
    import jax
    import jax.numpy as jnp

    case = ScaleCase(**task["case"])
    x = _input(case.shape)  # NHWC
    batch, height, width, channels = case.shape
    unbatched_last = jnp.transpose(x, (1, 2, 0, 3)).reshape(height, width, batch * channels)
    layouts = {
        "NHWC": (x, -1),
        "NCHW": (jnp.transpose(x, (0, 3, 1, 2)), 1),
        "HWC": (unbatched_last, -1),
        "CHW": (jnp.transpose(unbatched_last, (2, 0, 1)), 0),
    }
    thunks = {}
    for layout, (data, channel_axis) in layouts.items():
        pool = _pool("jaxpool", case, channel_axis)
        gradient = jax.jit(jax.grad(lambda x, pool=pool: pool(x).sum()))
        forward = jax.jit(pool)
        thunks[f"{layout} grad"] = lambda f=gradient, d=data: jax.block_until_ready(f(d))
        thunks[f"{layout} fwd"] = lambda f=forward, d=data: jax.block_until_ready(f(d))
        values, vjp_function = jax.jit(lambda x, pool=pool: jax.vjp(pool, x))(data)
        cotangent = jnp.ones_like(values)
        backward = jax.jit(lambda vjp_function, cotangent: vjp_function(cotangent)[0])
        thunks[f"{layout} bwd"] = lambda f=backward, v=vjp_function, c=cotangent: (
            jax.block_until_ready(f(v, c))
        )
    return {
        "shapes": {layout: list(data.shape) for layout, (data, _) in layouts.items()},
        "timings": _timed(thunks, task),
    }


TASKS = {"compile": _compile_task, "time": _time_task, "layout": _layout_task}


def worker_main(task_path: str, result_path: str) -> None:
    import resource

    task = json.loads(Path(task_path).read_text())
    limit = task["memory_limit_bytes"]
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    result = TASKS[task["kind"]](task)
    Path(result_path).write_text(json.dumps(result))


# --- in the parent process -----------------------------------------------------------------


def _classify(returncode: int, stderr: str) -> str:
    memory_signs = ("bad_alloc", "MemoryError", "RESOURCE_EXHAUSTED", "Out of memory", "OOM")
    if any(sign in stderr for sign in memory_signs) or returncode == -9:
        return "oom"
    return "error"


def run_worker(task: dict, timeout_s: float) -> dict:
    """Run one task in a fresh capped subprocess; a failure is a result too."""
    with tempfile.TemporaryDirectory() as directory:
        task_path = Path(directory, "task.json")
        result_path = Path(directory, "result.json")
        task_path.write_text(json.dumps(task))
        command = [sys.executable, "-m", "benchmarks.scale", "--worker", str(task_path)]
        start = time.perf_counter()
        try:
            completed = subprocess.run(
                [*command, str(result_path)],
                cwd=common.REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "wall_s": time.perf_counter() - start}
        wall = time.perf_counter() - start
        if completed.returncode == 0 and result_path.exists():
            return {"status": "ok", "wall_s": wall, **json.loads(result_path.read_text())}
        tail = completed.stderr.strip().splitlines()[-3:]
        return {
            "status": _classify(completed.returncode, completed.stderr),
            "returncode": completed.returncode,
            "message": " | ".join(tail)[-600:],
            "wall_s": wall,
        }


def _task(kind: str, case: ScaleCase, settings: dict, **extra) -> dict:
    return {
        "kind": kind,
        "case": dataclasses.asdict(case),
        "memory_limit_bytes": settings["memory_limit_bytes"],
        "rounds": settings["rounds"],
        "warmup": settings["warmup"],
        **extra,
    }


def run(quick: bool, rounds: int, warmup: int = 2, show_progress: bool = True) -> dict:
    """The scale suite's results, ready to be written as JSON."""
    cases = QUICK_CASES if quick else CASES
    layout_cases = QUICK_LAYOUT_CASES if quick else LAYOUT_CASES
    settings = {
        "quick": quick,
        "rounds": rounds,
        "warmup": warmup,
        "memory_limit_bytes": MEMORY_LIMIT_BYTES,
        "compile_timeout_s": COMPILE_TIMEOUT_S,
        "time_timeout_s": TIME_TIMEOUT_S,
    }
    steps = len(cases) * (len(IMPLEMENTATIONS) + 1) + len(layout_cases)
    progress = common.Progress(steps, "scale suite", show_progress)
    results = []
    for case in cases:
        entry: dict[str, Any] = {**dataclasses.asdict(case), "global": case.is_global}
        entry["compile"] = {}
        for implementation in IMPLEMENTATIONS:
            task = _task("compile", case, settings, implementation=implementation)
            entry["compile"][implementation] = run_worker(task, COMPILE_TIMEOUT_S)
            progress.step(f"{case.name} compile {implementation}")
        compiled = [i for i in IMPLEMENTATIONS if entry["compile"][i]["status"] == "ok"]
        entry["run"] = run_worker(
            _task("time", case, settings, implementations=compiled), TIME_TIMEOUT_S
        )
        progress.step(f"{case.name} run times")
        results.append(entry)
    layouts = []
    for case in layout_cases:
        layouts.append(
            {
                **dataclasses.asdict(case),
                **run_worker(_task("layout", case, settings), TIME_TIMEOUT_S),
            }
        )
        progress.step(f"{case.name} layouts")
    progress.close()
    return {"suite": "scale", "settings": settings, "cases": results, "layouts": layouts}


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2], sys.argv[3])
    else:
        from benchmarks import harness

        harness.main({"scale": run}, sys.argv[1:], prog="python benchmarks/scale.py")
