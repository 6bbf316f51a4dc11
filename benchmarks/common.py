"""What every suite shares: the machine record, interleaved timing, statistics,
residual bytes, the reduce_window reference and a progress bar.

Timing method: everything runs in one process (the scale suite's compile and
memory probes excepted, which need a fresh process each); every function is
compiled and warmed up first, then timed in interleaved rounds, each round
calling every function once in a freshly shuffled order, so that drift on a
shared machine hits all of them alike. Each measured quantity is reported as
its median with the quartiles, minimum and maximum of its samples, and every
ratio is taken between medians of the same run.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import importlib.metadata
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

# Distributions whose versions every result records (None where not installed).
VERSIONED = (
    "jax",
    "jaxlib",
    "numpy",
    "flax",
    "optax",
    "dm-haiku",
    "equinox",
    "torch",
    "matplotlib",
    "tqdm",
)


def optional_import(name: str):
    """The module, or None where it (or something it needs) is not importable."""
    try:
        return importlib.import_module(name)
    except Exception:  # a broken optional peer counts as absent, never as a crash
        return None


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(*args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def _torch_threads() -> int | None:
    torch = optional_import("torch")
    return torch.get_num_threads() if torch is not None else None


def machine_info() -> dict[str, Any]:
    """The machine, the device JAX measures on, versions and the code measured."""
    import jax

    import jaxpool

    device = jax.devices()[0]
    try:
        usable_cores = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cores = os.cpu_count()
    dirty = _git("status", "--porcelain", "--", "jaxpool")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in VERSIONED},
        "backend": jax.default_backend(),
        "device": {"platform": device.platform, "kind": device.device_kind},
        "device_count": jax.device_count(),
        "torch_threads": _torch_threads(),
        "jaxpool_path": str(Path(jaxpool.__file__).parent),
        "git_commit": _git("rev-parse", "HEAD"),
        "jaxpool_uncommitted_changes": bool(dirty) if dirty is not None else None,
    }


def device_line(machine: dict[str, Any]) -> str:
    """One line naming what was measured, for the console and the tables."""
    device = machine["device"]
    return (
        f"JAX's {device['platform']} backend (device: {device['kind']}) on {machine['cpu_model']}, "
        f"{machine['usable_cores']} usable cores, jax {machine['versions']['jax']}"
    )


def summarize(samples: list[float]) -> dict[str, float]:
    """Median, quartiles, extremes and count of a list of samples."""
    ordered = sorted(samples)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "median": statistics.median(ordered),
        "q1": q1,
        "q3": q3,
        "min": ordered[0],
        "max": ordered[-1],
        "n": len(ordered),
    }


def time_interleaved(
    thunks: dict[str, Callable[[], Any]],
    rounds: int,
    warmup: int = 2,
    seed: int = 0,
    on_round: Callable[[], None] | None = None,
) -> dict[str, list[float]]:
    """Seconds per call of each thunk, ``rounds`` samples each.

    Each thunk must block until its result is ready. Every thunk is called
    ``warmup`` times first (the first call compiles); then each round calls
    every thunk once, in an order shuffled afresh each round.
    """
    for thunk in thunks.values():
        for _ in range(warmup):
            thunk()
    order = list(thunks)
    shuffle = random.Random(seed).shuffle
    samples: dict[str, list[float]] = {name: [] for name in thunks}
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            start = time.perf_counter()
            thunks[name]()
            samples[name].append(time.perf_counter() - start)
        if on_round is not None:
            on_round()
    return samples


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator in (None, 0):
        return None
    return numerator / denominator


def median_of(timings: dict[str, Any], name: str) -> float | None:
    """The median of a timed quantity, None where it was not measured."""
    entry = timings.get(name)
    return entry["median"] if entry else None


def reduce_window_max(x, window_shape, strides, padding, channel_axis=-1):
    """``lax.reduce_window`` max pooling (what Flax and Haiku use), same arguments."""
    import numpy as np
    from jax import lax

    d = len(window_shape)
    spatial = range(x.ndim - d - 1, x.ndim - 1) if channel_axis == -1 else range(x.ndim - d, x.ndim)
    dims = [1] * x.ndim
    steps = [1] * x.ndim
    for axis, window, stride in zip(spatial, window_shape, strides):
        dims[axis], steps[axis] = window, stride
    init = np.array(-np.inf, x.dtype)  # concrete: a traced init breaks reduce_window's JVP
    return lax.reduce_window(x, init, lax.max, tuple(dims), tuple(steps), padding)


def saved_residuals(function, x, vjp_function=None) -> dict[str, Any]:
    """What the VJP of ``function`` at ``x`` keeps for the backward pass.

    Bytes are those of the leaves of the jitted VJP closure (``vjp_function``
    where already computed); ``described`` is what
    ``jax.ad_checkpoint.print_saved_residuals`` prints, one line each.
    """
    import jax
    import jax.ad_checkpoint

    if vjp_function is None:
        _, vjp_function = jax.jit(lambda x: jax.vjp(function, x))(x)
    leaves = jax.tree_util.tree_leaves(vjp_function)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        jax.ad_checkpoint.print_saved_residuals(function, x)
    return {
        "bytes": int(sum(leaf.nbytes for leaf in leaves)),
        "leaves": [f"{leaf.dtype}{list(leaf.shape)}" for leaf in leaves],
        "described": [line.split(" from ")[0] for line in printed.getvalue().splitlines()],
    }


class Progress:
    """A tqdm progress bar where tqdm is installed, one line per step otherwise."""

    def __init__(self, total: int, description: str, enabled: bool = True):
        tqdm = optional_import("tqdm")
        self._bar = None
        self._enabled = enabled
        self._count = 0
        self._total = total
        self._description = description
        if enabled and tqdm is not None:
            self._bar = tqdm.tqdm(total=total, desc=description, unit="step", file=sys.stderr)

    def step(self, label: str = "") -> None:
        self._count += 1
        if self._bar is not None:
            self._bar.set_postfix_str(label[:60], refresh=False)
            self._bar.update(1)
        elif self._enabled:
            print(f"[{self._description} {self._count}/{self._total}] {label}", file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_captured(command: list[str], timeout_s: float, env: dict[str, str]) -> dict[str, Any]:
    """Run ``command`` in the checkout: status (ok, failed, timeout), return code, seconds and
    its stdout and stderr together (what it printed before a timeout, too)."""
    start = time.perf_counter()
    try:
        completed = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout_s,
        )
        output, returncode = completed.stdout, completed.returncode
        status = "ok" if returncode == 0 else "failed"
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout or ""
        output = output.decode(errors="replace") if isinstance(output, bytes) else output
        status, returncode = "timeout", None
    return {
        "status": status,
        "returncode": returncode,
        "seconds": time.perf_counter() - start,
        "output": output,
    }


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms" if seconds < 0.1 else f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def format_bytes(nbytes: float | None) -> str:
    if nbytes is None:
        return "n/a"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{nbytes:.0f} B"


def format_ratio(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
