"""Accelerator suite: what XLA's own compilers make of jaxpool for a GPU and a TPU, without one.

Nothing here runs on an accelerator and nothing is timed. Each program is
compiled *deviceless* for an NVIDIA H100 (the CUDA plugin, ``jax-cuda12-plugin``,
with the target description in ``benchmarks/targets/h100_sxm.txtpb`` and
``ptxas`` from ``nvidia-cuda-nvcc-cu12``) and for a TPU v5e and v6e (``libtpu``'s
compile-only client), and the compiled program is read: its bytes accessed,
the TPU cost model's estimated time (``optimal_seconds``), its temporary
memory, its compile time on this machine's CPU, the number of kernels (the
entry computation's fusions and other ops), its loops and any scatter,
select-and-scatter, sort or gather in the optimised HLO.

Bytes accessed: on TPU, the compiled executable's ``cost_analysis()`` (the TPU
compiler's own cost model, which also gives ``optimal_seconds``; ``-1`` means
unknown); on the GPU ``cost_analysis()`` returns None, so XLA's generic
``HloCostAnalysis`` of the GPU-optimised HLO module (fusions as the kernels
they are: each fusion's operands and outputs) stands in, run through
``jaxlib._jax.hlo_module_cost_analysis`` with the CPU client.
On TPU the arguments and results are pinned to row-major layouts (the
compiler still picks its tiles), or the compile-only client chooses
transposed ones that change what is counted.

Cases: the op suite's cases (forward values only, forward with switches,
gradient of ``sum``, and the backward alone, the VJP function applied to a
cotangent with the residuals as inputs) in float32 and bfloat16, for jaxpool,
``lax.reduce_window`` (``jax.grad`` of it) and the floor ``x * 2``; the scale
suite's windows (forward and gradient, float32); the model suite's training
steps (jaxpool against ``flax.linen.max_pool``, where flax is installed); and
on the GPU each op case's gradient compiled with ``--xla_gpu_deterministic_ops=true``.

Every target is compiled in its own subprocess with ``JAX_PLATFORMS=cpu`` (the
CUDA plugin otherwise tries to open a GPU); a target whose packages are missing
is recorded as skipped with the reason; a compiler that aborts is recorded as a
``crash`` of that program and the rest still compile. ``python -m benchmarks --suite
accel [--quick]`` runs it (the full run, 370 programs, about 13 minutes on 2 CPU cores,
mostly the TPU compiles; ``--quick``, tiny shapes, about 20 s);
``python -m benchmarks.accel --report DIR`` re-renders a results folder's ``results.md``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import this checkout's benchmarks and jaxpool
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import accel_report
from benchmarks import common
from benchmarks import op
from benchmarks import scale

TARGETS_DIR = Path(__file__).resolve().parent / "targets"
RESULTS_DIR = accel_report.RESULTS_DIR
# name -> how to make its device. The GPU spec is XLA's own (see the file's header).
TARGETS = {
    "H100": {"platform": "cuda", "target_config": "h100_sxm.txtpb"},
    "TPU v5e": {"platform": "tpu", "topology": "v5e:1x1"},
    "TPU v6e": {"platform": "tpu", "topology": "v6e:1x1"},
}
IMPLEMENTATIONS = ("jaxpool", "reduce_window", "floor")
KINDS = ("fwd", "fwd+switches", "grad", "bwd")
FLAGGED = ("scatter", "select-and-scatter", "sort", "gather")
# Entry-computation instructions that launch no kernel of their own.
NOT_KERNELS = frozenset(
    {"parameter", "constant", "bitcast", "get-tuple-element", "tuple", "after-all", "opt-barrier"}
)
DETERMINISTIC_OPTIONS = {"xla_gpu_deterministic_ops": True}
WORKER_TIMEOUT_S = 3600
# What a compiling subprocess runs with: the CPU as JAX's backend (the CUDA plugin otherwise
# tries to open a GPU and JAX then offers no CUDA topology), and libtpu without its
# one-process-per-machine lock, so that two compiling processes (a test, a suite) can coexist.
WORKER_ENVIRONMENT = {
    "JAX_PLATFORMS": "cpu",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "ALLOW_MULTIPLE_LIBTPU_LOAD": "1",
}


# --- what is installed ----------------------------------------------------------------------


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _ptxas() -> str | None:
    """The ptxas the CUDA plugin can use: nvidia-cuda-nvcc-cu12's, else one on the PATH."""
    spec = importlib.util.find_spec("nvidia")
    for root in spec.submodule_search_locations if spec else ():
        candidate = Path(root, "cuda_nvcc", "bin", "ptxas")
        if candidate.exists():
            return str(candidate)
    return shutil.which("ptxas")


def missing(platform: str) -> str | None:
    """Why deviceless compiles for ``platform`` ("cuda" or "tpu") cannot run here, or None."""
    if platform == "cuda":
        if not _has_module("jax_cuda12_plugin"):
            return "jax-cuda12-plugin is not installed (pip install -e '.[accel]')"
        plugin, jax_version = _version("jax-cuda12-plugin"), _version("jax")
        if plugin != jax_version:
            # jax then ignores the plugin, with a warning, and no GPU target exists.
            return (
                f"jax-cuda12-plugin {plugin} does not match jax {jax_version} "
                f"(pip install 'jax=={plugin}' 'jaxlib=={plugin}')"
            )
        if _ptxas() is None:
            return "no ptxas (pip install nvidia-cuda-nvcc-cu12)"
        return None
    if platform == "tpu":
        return (
            None if _has_module("libtpu") else "libtpu is not installed (pip install -e '.[accel]')"
        )
    raise ValueError(f"unknown platform {platform!r}")


# --- compiling for a target (inside a process with JAX_PLATFORMS=cpu) -----------------------


@functools.cache
def target_device(name: str):
    """A device of target ``name`` to compile for; no such hardware needs to be present."""
    from jax.experimental import topologies

    spec = TARGETS[name]
    if spec["platform"] == "cuda":
        config = (TARGETS_DIR / spec["target_config"]).read_text()
        topology = topologies.get_topology_desc(
            platform="cuda", target_config=config, topology="1x1x1"
        )
    else:
        topology = topologies.get_topology_desc(
            spec["topology"], "tpu", chips_per_host_bounds=(1, 1, 1)
        )
    return topology.devices[0]


def _placed(tree, device):
    """ShapeDtypeStructs of ``tree``'s leaves on ``device``."""
    import jax
    from jax.sharding import SingleDeviceSharding

    sharding = SingleDeviceSharding(device)
    return jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sharding), tree)


def _row_major(tree, device):
    """Row-major formats for ``tree``'s leaves (the compiler chooses the tiles)."""
    import jax
    from jax.experimental.layout import Format
    from jax.experimental.layout import Layout
    from jax.sharding import SingleDeviceSharding

    sharding = SingleDeviceSharding(device)
    return jax.tree.map(lambda a: Format(Layout(tuple(range(a.ndim)), tiling=None), sharding), tree)


def compile_for(name: str, function, args: tuple, compiler_options: dict | None = None):
    """``function`` jitted and compiled for target ``name`` on abstract ``args``; its seconds.

    ``args`` is a tuple of pytrees of arrays or ShapeDtypeStructs (only shapes and
    dtypes are used). On TPU the arguments and results are pinned row-major.
    """
    import jax

    device = target_device(name)
    placed = _placed(args, device)
    if device.platform == "tpu":
        abstract = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), args)
        outputs = jax.eval_shape(function, *abstract)
        jitted = jax.jit(
            function,
            in_shardings=_row_major(args, device),
            out_shardings=_row_major(outputs, device),
        )
    else:
        jitted = jax.jit(function)
    start = time.perf_counter()
    compiled = jitted.lower(*placed).compile(compiler_options=compiler_options)
    return compiled, time.perf_counter() - start


_INSTRUCTION = re.compile(r"^\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*(.*)$")
_OPCODE = re.compile(r"(?:^|\s)([a-z][a-z0-9\-]*)\(")


def _opcode(line: str) -> str | None:
    """The opcode of one HLO instruction line, None for other lines."""
    match = _INSTRUCTION.match(line)
    if match is None:
        return None
    body = match.group(1)
    for cut in (", metadata=", ", backend_config=", ", frontend_attributes="):
        body = body.split(cut)[0]
    found = _OPCODE.search(body)
    return found.group(1) if found else None


def hlo_summary(text: str) -> dict[str, Any]:
    """Kernels, loops and flagged ops of an optimised HLO module's text."""
    entry: dict[str, int] = {}
    everywhere: dict[str, int] = {}
    parameters: list[str] = []
    in_entry = False
    for line in text.splitlines():
        if line.startswith("ENTRY "):
            in_entry = True
            continue
        if in_entry and line.startswith("}"):
            in_entry = False
            continue
        opcode = _opcode(line)
        if opcode is None:
            continue
        everywhere[opcode] = everywhere.get(opcode, 0) + 1
        if in_entry:
            entry[opcode] = entry.get(opcode, 0) + 1
            if opcode == "parameter":  # its type, without the layout: "s8[2,4,4,8]"
                declared = _INSTRUCTION.match(line).group(1).split(" parameter(")[0]
                parameters.append(re.sub(r"\{[^}]*\}", "", declared).strip())
    kernels = {op: n for op, n in entry.items() if op not in NOT_KERNELS}
    return {
        "kernels": sum(kernels.values()),
        "fusions": kernels.get("fusion", 0),
        "other_ops": {op: n for op, n in sorted(kernels.items()) if op != "fusion"},
        "loops": everywhere.get("while", 0),
        "flagged": {op: everywhere[op] for op in FLAGGED if everywhere.get(op)},
        "parameters": parameters,
    }


def _cost(compiled, device) -> dict[str, Any]:
    """Bytes accessed, flops and (TPU) optimal seconds, and where they come from."""
    import jax
    from jax._src.lib import _jax

    cost = compiled.cost_analysis()
    if isinstance(cost, list):  # older jax: one dict per module
        cost = cost[0] if cost else None
    source = "cost_analysis"
    if not cost:
        module = compiled.runtime_executable().hlo_modules()[0]
        cost = _jax.hlo_module_cost_analysis(jax.devices("cpu")[0].client, module)
        source = "HloCostAnalysis of the optimised module"
    optimal = cost.get("optimal_seconds")
    return {
        "bytes_accessed": float(cost["bytes accessed"]) if "bytes accessed" in cost else None,
        "flops": float(cost["flops"]) if "flops" in cost else None,
        "optimal_seconds": float(optimal) if optimal is not None and optimal >= 0 else None,
        "optimal_seconds_raw": float(optimal) if optimal is not None else None,
        "cost_source": source,
    }


def analyse(compiled, device) -> dict[str, Any]:
    """Everything recorded of one compiled program."""
    memory = compiled.memory_analysis()
    return {
        **_cost(compiled, device),
        "temp_bytes": int(memory.temp_size_in_bytes),
        "argument_bytes": int(memory.argument_size_in_bytes),
        "output_bytes": int(memory.output_size_in_bytes),
        **hlo_summary(compiled.as_text()),
    }


def measure(name: str, function, args: tuple, compiler_options: dict | None = None) -> dict:
    """Compile and analyse; a failure is a result too."""
    try:
        compiled, seconds = compile_for(name, function, args, compiler_options)
        return {"status": "ok", "compile_s": seconds, **analyse(compiled, target_device(name))}
    except Exception as error:  # a program a compiler refuses is recorded, not fatal
        return {"status": "error", "message": f"{type(error).__name__}: {error}"[:600]}


# --- the programs ---------------------------------------------------------------------------


def _pool(implementation: str, window, strides, padding):
    import jaxpool

    if implementation == "jaxpool":
        return lambda x: jaxpool.max_pool(x, window, strides, padding)
    return lambda x: common.reduce_window_max(x, window, strides, padding)


def programs(implementation: str, window, strides, padding, shape, dtype) -> dict[str, tuple]:
    """kind -> (function, args) for one implementation of one case."""
    import jax
    import jax.numpy as jnp

    import jaxpool

    x = jax.ShapeDtypeStruct(tuple(shape), jnp.dtype(dtype))
    if implementation == "floor":
        return {"fwd": (lambda x: x * 2, (x,))}
    pool = _pool(implementation, window, strides, padding)
    found = {
        "fwd": (pool, (x,)),
        "grad": (jax.grad(lambda x: pool(x).astype(jnp.float32).sum()), (x,)),
    }
    if implementation == "jaxpool":
        found["fwd+switches"] = (
            lambda x: jaxpool.max_pool_with_argmax(x, window, strides, padding),
            (x,),
        )
    # The backward alone: the VJP function (its residuals are its leaves) and a cotangent.
    y, vjp_function = jax.eval_shape(lambda x: jax.vjp(pool, x), x)
    found["bwd"] = (lambda vjp_function, cotangent: vjp_function(cotangent)[0], (vjp_function, y))
    return found


class _Journal:
    """Where a worker notes each program before compiling it and each record after.

    A compiler that fails a CHECK aborts the whole process; the parent then knows from the
    journal which program did it, records that one as ``crash`` and starts a fresh worker
    that skips every program up to it (programs come in a fixed order)."""

    path: Path | None = None
    skip = 0
    index = 0

    @classmethod
    def note(cls, entry: dict) -> None:
        if cls.path is not None:
            with cls.path.open("a") as journal:
                journal.write(json.dumps(entry) + "\n")


def _record(name, group, case, dtype, implementation, kind, program, options=None):
    """One program compiled for target ``name``, analysed and noted in the journal (None
    where a restarted worker skips it); progress on stderr."""
    index, _Journal.index = _Journal.index, _Journal.index + 1
    if index < _Journal.skip:
        return None
    label = {
        "group": group,
        "case": case.name,
        "shape": list(getattr(case, "shape", None) or case.input_shape),
        "dtype": dtype,
        "implementation": implementation,
        "kind": kind,
        **({"compiler_options": options} if options else {}),
    }
    _Journal.note({"starting": index, "label": label})
    record = {**label, **measure(name, *program, options)}
    _Journal.note({"index": index, "record": record})
    status = record["status"]
    detail = f"{record['compile_s']:.1f} s" if status == "ok" else record["message"][:120]
    print(
        f"[accel {name}] {group} {case.name} {dtype} {implementation} {kind}: {status} {detail}",
        file=sys.stderr,
        flush=True,
    )
    return record


def _built(implementation: str, case, dtype: str = "float32") -> dict[str, tuple]:
    return programs(
        implementation, case.window_shape, case.strides, case.padding, case.shape, dtype
    )


def op_records(name: str, quick: bool) -> list[dict]:
    """The op suite's cases, every kind, both dtypes (float32 alone with ``quick``)."""
    records = []
    for dtype in ("float32",) if quick else op.DTYPES:
        for case in op.QUICK_CASES if quick else op.CASES:
            for implementation in IMPLEMENTATIONS:
                built = _built(implementation, case, dtype)
                records += [
                    _record(name, "op", case, dtype, implementation, kind, built[kind])
                    for kind in KINDS
                    if kind in built
                ]
    return records


def deterministic_records(name: str, quick: bool) -> list[dict]:
    """The op cases' gradients with --xla_gpu_deterministic_ops=true (GPU only)."""
    return [
        _record(
            name,
            "deterministic",
            case,
            "float32",
            implementation,
            "grad",
            _built(implementation, case)["grad"],
            DETERMINISTIC_OPTIONS,
        )
        for case in (op.QUICK_CASES if quick else op.CASES)
        for implementation in ("jaxpool", "reduce_window")
    ]


def scale_records(name: str, quick: bool) -> list[dict]:
    """The scale suite's windows, forward and gradient, float32."""
    return [
        _record(name, "scale", case, "float32", implementation, kind, built[kind])
        for case in (scale.QUICK_CASES if quick else scale.CASES)
        for implementation in ("jaxpool", "reduce_window")
        for built in (_built(implementation, case),)
        for kind in ("fwd", "grad")
    ]


def model_records(name: str, quick: bool) -> list[dict]:
    """The model suite's training steps, jaxpool against flax.linen.max_pool."""
    if common.optional_import("flax.linen") is None:
        return []
    import jax
    import jax.numpy as jnp

    from benchmarks import model

    records = []
    for case in model.QUICK_CASES if quick else model.CASES:
        images = jax.ShapeDtypeStruct(case.input_shape, jnp.float32)
        labels = jax.ShapeDtypeStruct((case.input_shape[0],), jnp.int32)
        for implementation, pool in model._pools().items():
            module = model.build_model(case, pool)
            params = jax.eval_shape(module.init, jax.random.key(0), images)
            program = (model.training_step(module), (params, images, labels))
            records.append(
                _record(name, "model", case, "float32", implementation, "train step", program)
            )
    return records


GROUPS = {
    "op": op_records,
    "deterministic": deterministic_records,
    "scale": scale_records,
    "model": model_records,
}


def worker(name: str, quick: bool, groups: tuple[str, ...]) -> dict:
    """Compile every program for target ``name`` (run with JAX_PLATFORMS=cpu); the records
    go to the journal."""
    device = target_device(name)
    for group in groups:
        if group == "deterministic" and device.platform != "gpu":
            continue
        GROUPS[group](name, quick)
    return {"device_kind": device.device_kind, "platform": device.platform}


# --- in the parent process -----------------------------------------------------------------

MAX_CRASHES = 10


def _crash_message(output: str) -> str:
    """The compiler's failed CHECK where it printed one, else the end of its output."""
    for line in output.splitlines():
        if "Check failed" in line:
            return accel_report.strip_log_prefix(line.strip())[:600]
    return output.strip()[-600:]


def run_target(name: str, quick: bool, groups: tuple[str, ...]) -> dict:
    """One target's results, from fresh subprocesses with JAX_PLATFORMS=cpu: a worker that a
    compiler crash aborts is restarted past the program that crashed."""
    reason = missing(TARGETS[name]["platform"])
    if reason is not None:
        return {"status": "skipped", "reason": reason, "records": []}
    with tempfile.TemporaryDirectory() as directory:
        result_path = Path(directory, "result.json")
        journal = Path(directory, "journal.jsonl")
        records: dict[int, dict] = {}
        skip, wall = 0, 0.0
        for _ in range(MAX_CRASHES + 1):
            command = [sys.executable, "-m", "benchmarks.accel", "--worker", name]
            command += [str(result_path), "--journal", str(journal), "--skip", str(skip)]
            command += ["--groups", ",".join(groups)] + (["--quick"] if quick else [])
            environment = {**os.environ, **WORKER_ENVIRONMENT}
            done = common.run_captured(command, WORKER_TIMEOUT_S, environment)
            wall += done["seconds"]
            entries = (
                [json.loads(line) for line in journal.read_text().splitlines()]
                if (journal.exists())
                else []
            )
            records.update({e["index"]: e["record"] for e in entries if "record" in e})
            ordered = [records[i] for i in sorted(records)]
            if done["status"] == "ok" and result_path.exists():
                return {
                    "status": "ok",
                    **json.loads(result_path.read_text()),
                    "wall_s": wall,
                    "records": ordered,
                }
            started = [e for e in entries if "starting" in e]
            if done["status"] == "timeout" or not started or started[-1]["starting"] in records:
                return {
                    "status": done["status"] if done["status"] == "timeout" else "error",
                    "returncode": done["returncode"],
                    "message": done["output"].strip()[-1500:],
                    "wall_s": wall,
                    "records": ordered,
                }
            crashed = started[-1]
            records[crashed["starting"]] = {
                **crashed["label"],
                "status": "crash",
                "message": _crash_message(done["output"]),
            }
            skip = crashed["starting"] + 1
        return {
            "status": "error",
            "message": "too many compiler crashes",
            "wall_s": wall,
            "records": [records[i] for i in sorted(records)],
        }


def run(
    quick: bool,
    rounds: int = 1,
    warmup: int = 0,
    show_progress: bool = True,
    groups: tuple[str, ...] = tuple(GROUPS),
    targets: tuple[str, ...] = tuple(TARGETS),
) -> dict:
    """The accelerator suite's results, ready to be written as JSON (rounds, warmup: unused)."""
    progress = common.Progress(len(targets), "accel suite", show_progress)
    results = {}
    for name in targets:
        results[name] = run_target(name, quick, groups)
        progress.step(f"{name}: {results[name]['status']}")
    progress.close()
    return {
        "suite": "accel",
        "settings": {"quick": quick, "groups": list(groups)},
        "versions": {
            package: common._version(package)
            for package in ("jax", "jaxlib", "jax-cuda12-plugin", "libtpu", "nvidia-cuda-nvcc-cu12")
        },
        "what": (
            "The compilers' own estimates from deviceless compiles on this machine's CPU; "
            "no program ran on an accelerator and nothing here is a timing."
        ),
        "targets": results,
    }


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.accel")
    parser.add_argument("--worker", nargs=2, metavar=("TARGET", "RESULT_JSON"))
    parser.add_argument("--groups", default=",".join(GROUPS))
    parser.add_argument("--journal", type=Path, help="worker: append progress and records here")
    parser.add_argument("--skip", type=int, default=0, help="worker: skip this many programs")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--report", type=Path, help="re-render DIR/results.md from DIR/accel.json")
    args = parser.parse_args(argv)
    if args.report is not None:
        print(accel_report.write_report(args.report))
        return
    if args.worker is None:
        parser.error("run the suite with: python -m benchmarks --suite accel [--quick]")
    name, result_path = args.worker
    _Journal.path, _Journal.skip = args.journal, args.skip
    result = worker(name, args.quick, tuple(filter(None, args.groups.split(","))))
    Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
