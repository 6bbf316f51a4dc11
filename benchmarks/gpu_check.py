"""One command for the day a GPU is lent: the tests, the op and model suites on it, and how
the measured times compare with what the accelerator suite predicted for an H100.

``benchmarks/gpu_check.sh`` finds (or makes) a Python with a CUDA jax and calls
``python -m benchmarks.gpu_check [--out DIR] [--budget-s S] [--rounds N] [--dry-run]``.
Every step runs in its own subprocess with a timeout carved from one budget (default
450 s, so that the whole check, setup included, ends inside 8 minutes); a step that fails
or runs out of time is recorded and the next one still runs. ``--dry-run`` does the same
on the CPU with tiny settings, to check the script itself where there is no GPU.

It writes into ``--out`` (default ``$OUT``, else ``benchmarks/results/gpu/``), at most 8
files and no folders: ``summary.json`` (the device, versions, each step's status and the
test summary), ``pytest.log``, ``op.json`` and ``model.json`` (as the suites write them;
the op suite's cases float32 first, bfloat16 while time remains, each written as soon as
measured), ``results.md`` (their tables) and ``comparison.md``/``comparison.json``: per op
case, jaxpool's time over ``reduce_window``'s measured on this GPU against the ratio of
bytes accessed that the compiler predicted for an H100
(``benchmarks/results/accel/accel.json``), and each time against the bandwidth-bound time
its predicted bytes would take at the bandwidth this GPU's ``x * 2`` reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: import this checkout's benchmarks and jaxpool
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

DEFAULT_OUT = common.REPO_ROOT / "benchmarks" / "results" / "gpu"
PREDICTIONS = common.REPO_ROOT / "benchmarks" / "results" / "accel" / "accel.json"
PREDICTED_TARGET = "H100"
DEFAULT_BUDGET_S = 450
# Seconds kept back after each step for those that follow it (op, model, compare).
RESERVE_S = {"tests": 200, "op": 70, "model": 5}
STEP_CAP_S = {"environment": 90, "tests": 240, "op": 240, "model": 120}
TEST_WORKERS = "8"  # the lent machines have 16 cores and one GPU
TEST_COMMAND = [
    "-m",
    "pytest",
    "-q",
    "-n",
    TEST_WORKERS,
    "--maxfail=25",
    "-m",
    "not slow and not accelerator",
]
DRY_RUN_TESTS = ["tests/test_validation.py", "tests/test_package.py"]
# The op suite's kinds and the accelerator suite's names for the same programs.
KIND_TO_PREDICTED = {"fwd": "fwd", "fwd+bwd": "grad", "bwd": "bwd"}


# --- steps, each in its own subprocess --------------------------------------------------------


def _environment_step(args) -> dict:
    import jax

    device = jax.devices()[0]
    return {
        "backend": jax.default_backend(),
        "device_kind": device.device_kind,
        "device_count": jax.device_count(),
        "versions": {
            name: common._version(name)
            for name in (
                *common.VERSIONED,
                "jax-cuda12-plugin",
                "jax-cuda13-plugin",
                "pytest",
                "pytest-xdist",
            )
        },
        "python": sys.version.split()[0],
        "executable": sys.executable,
    }


def _op_step(args) -> dict:
    """The op suite's cases, float32 first, each written to op.json as soon as it is measured."""
    from benchmarks import op

    # PyTorch's pooling runs on the CPU here: it says nothing of the GPU and its time would
    # come out of the budget, so this step leaves it out.
    op.torch_thunks = lambda *args, **kwargs: {}
    out = Path(args.out)
    deadline = args.deadline
    machine = common.machine_info()
    data: dict[str, Any] = {
        "machine": machine,
        "suite": "op",
        "settings": {
            "quick": args.dry_run,
            "rounds": args.rounds,
            "warmup": 1,
            "seed": 0,
            "gpu_check": True,
        },
        "kinds": {
            "fwd": "forward, values only, jitted",
            "fwd+bwd": "jitted jax.grad of sum(pool(x))",
            "bwd": "the VJP function applied to a ones cotangent, residuals precomputed",
        },
        "cases": [],
        "not_measured": [],
    }
    runs = op.runs(args.dry_run)
    runs.sort(key=lambda pair: pair[1] != "float32")  # float32 first
    started = time.perf_counter()
    for case, dtype in runs:
        measured = len(data["cases"])
        per_case = (time.perf_counter() - started) / measured if measured else 0
        if time.time() + 1.5 * per_case > deadline:
            data["not_measured"].append(f"{case.name} {dtype}")
            continue
        data["cases"].append(op.measure_case(case, dtype, args.rounds, 1, 0))
        common.write_json(out / "op.json", data)
        print(f"[gpu_check op] {case.name} {dtype} measured", file=sys.stderr, flush=True)
    quick_sweep = args.dry_run or time.time() + 60 > deadline
    data["batch_sweep"] = op.measure_batch_sweep(quick_sweep, args.rounds, 1, 0, _Silent())
    data["settings"]["quick_batch_sweep"] = quick_sweep
    common.write_json(out / "op.json", data)
    return {"cases": len(data["cases"]), "not_measured": data["not_measured"]}


class _Silent:
    def step(self, label: str = "") -> None:
        pass


def _model_step(args) -> dict:
    from benchmarks import model

    result = model.run(quick=args.dry_run, rounds=args.rounds, warmup=1, show_progress=False)
    common.write_json(Path(args.out) / "model.json", {"machine": common.machine_info(), **result})
    return {"cases": len(result.get("cases", []))}


STEPS = {"environment": _environment_step, "op": _op_step, "model": _model_step}


# --- the comparison (no jax needed) -----------------------------------------------------------


def _predicted(accel: dict) -> dict[tuple, dict]:
    target = accel.get("targets", {}).get(PREDICTED_TARGET, {})
    return {
        (r["case"], r["dtype"], r["implementation"], r["kind"]): r
        for r in target.get("records", [])
        if r["group"] == "op" and r["status"] == "ok"
    }


def _median(case: dict, name: str, kind: str) -> float | None:
    entry = case["timings"].get(name, {}).get(kind)
    return entry["median"] if entry else None


def compare(op_data: dict, accel: dict) -> dict:
    """Measured time ratios against predicted byte ratios, per op case and kind."""
    predicted = _predicted(accel)
    rows = []
    for case in op_data.get("cases", []):
        key = (case["case"], case["dtype"])
        floor_bytes = predicted.get((*key, "floor", "fwd"), {}).get("bytes_accessed")
        floor_time = _median(case, "x * 2 (floor)", "fwd")
        bandwidth = common.ratio(floor_bytes, floor_time)
        shapes_match = predicted.get((*key, "jaxpool", "fwd"), {}).get("shape") == case["shape"]
        for kind, predicted_kind in KIND_TO_PREDICTED.items():
            ours = predicted.get((*key, "jaxpool", predicted_kind), {}).get("bytes_accessed")
            theirs = predicted.get((*key, "reduce_window", predicted_kind), {}).get(
                "bytes_accessed"
            )
            measured_ours = _median(case, "jaxpool", kind)
            measured_theirs = _median(case, "reduce_window", kind)
            measured_ratio = common.ratio(measured_ours, measured_theirs)
            predicted_ratio = common.ratio(ours, theirs) if shapes_match else None
            rows.append(
                {
                    "case": case["case"],
                    "dtype": case["dtype"],
                    "kind": kind,
                    "shapes_match": shapes_match,
                    "measured_jaxpool_s": measured_ours,
                    "measured_reduce_window_s": measured_theirs,
                    "measured_ratio": measured_ratio,
                    "predicted_bytes_ratio": predicted_ratio,
                    "measured_over_predicted": common.ratio(measured_ratio, predicted_ratio),
                    "floor_bandwidth_bytes_per_s": bandwidth if shapes_match else None,
                    "bandwidth_bound_jaxpool_s": common.ratio(ours, bandwidth)
                    if shapes_match
                    else None,
                    "bandwidth_bound_reduce_window_s": common.ratio(theirs, bandwidth)
                    if shapes_match
                    else None,
                }
            )
    return {
        "predicted_for": PREDICTED_TARGET,
        "measured_on": op_data.get("machine", {}).get("device", {}).get("kind"),
        "rows": rows,
    }


def comparison_markdown(comparison: dict) -> str:
    fs = common.format_seconds
    lines = [
        "# Measured on the GPU against the accelerator suite's prediction",
        "",
        f"Measured on `{comparison['measured_on']}`; predicted (bytes accessed from deviceless "
        f"compiles) for the {comparison['predicted_for']}. *measured* is jaxpool's median time "
        "over `reduce_window`'s; *predicted* is jaxpool's bytes accessed over "
        "`reduce_window`'s; *bound* is each program's predicted bytes at the bandwidth this "
        "GPU's `x * 2` reached in the same case (jaxpool vs `reduce_window`).",
        "",
        "| case | dtype | kind | jaxpool | reduce_window | measured | predicted | "
        "measured / predicted | bound (jaxpool vs rw) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in comparison["rows"]:
        lines.append(
            f"| {row['case']} | {row['dtype']} | {row['kind']} | "
            f"{fs(row['measured_jaxpool_s'])} | {fs(row['measured_reduce_window_s'])} | "
            f"{common.format_ratio(row['measured_ratio'])} | "
            f"{common.format_ratio(row['predicted_bytes_ratio'])} | "
            f"{common.format_ratio(row['measured_over_predicted'])} | "
            f"{fs(row['bandwidth_bound_jaxpool_s'])} vs "
            f"{fs(row['bandwidth_bound_reduce_window_s'])} |"
        )
    if not any(row["shapes_match"] for row in comparison["rows"]):
        lines += ["", "No measured case has the shape of a predicted one (a dry run?)."]
    return "\n".join(lines) + "\n"


# --- the driver -------------------------------------------------------------------------------


def _python_env(dry_run: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # The test workers share one GPU: none may take most of its memory up front.
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "JAX_PLATFORMS": "cpu" if dry_run else "cuda",
    }
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, (str(common.REPO_ROOT), os.environ.get("PYTHONPATH")))
    )
    return env


def _run(command: list[str], timeout_s: float, log: Path | None, env: dict) -> dict:
    """Run ``command``; its status, seconds and the tail of its output (all of it to ``log``)."""
    if timeout_s < 5:
        return {"status": "skipped", "reason": "no time left in the budget"}
    done = common.run_captured(command, timeout_s, env)
    output = done.pop("output")
    if log is not None:
        log.write_text(output)
    sys.stderr.write(output[-3000:])
    return {**done, "timeout_s": timeout_s, "tail": output.strip().splitlines()[-5:]}


def _step_command(step: str, args, deadline: float, result: Path) -> list[str]:
    command = [sys.executable, "-m", "benchmarks.gpu_check", "--step", step, str(result)]
    command += ["--out", str(args.out), "--rounds", str(args.rounds), "--deadline", str(deadline)]
    return command + (["--dry-run"] if args.dry_run else [])


def _write_results_md(out: Path) -> str:
    from benchmarks import report

    results = {
        name: json.loads((out / f"{name}.json").read_text())
        for name in ("op", "model")
        if (out / f"{name}.json").exists()
    }
    try:
        text = report.markdown(results)
    except Exception as error:  # a partial run still gets its comparison
        return f"failed: {type(error).__name__}: {error}"
    (out / "results.md").write_text(text)
    return "ok"


def drive(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = float(os.environ.get("GPU_CHECK_STARTED", time.time()))
    deadline = started + args.budget_s
    env = _python_env(args.dry_run)
    summary: dict[str, Any] = {
        "dry_run": args.dry_run,
        "budget_s": args.budget_s,
        "rounds": args.rounds,
        "steps": {},
    }

    def remaining(step: str) -> float:
        return min(STEP_CAP_S.get(step, 60), deadline - time.time() - RESERVE_S.get(step, 0))

    def step(name: str) -> dict:
        result_path = out / f".{name}.json"
        done = _run(
            _step_command(name, args, deadline - RESERVE_S.get(name, 0), result_path),
            remaining(name),
            None,
            env,
        )
        if result_path.exists():
            done["result"] = json.loads(result_path.read_text())
            result_path.unlink()
        summary["steps"][name] = done
        common.write_json(out / "summary.json", summary)
        return done

    environment = step("environment")
    backend = environment.get("result", {}).get("backend")
    if backend != ("cpu" if args.dry_run else "gpu"):
        summary["stopped"] = f"JAX's backend is {backend!r}, not the GPU: nothing measured"
        common.write_json(out / "summary.json", summary)
        print(summary["stopped"], file=sys.stderr)
        return 2
    tests = DRY_RUN_TESTS if args.dry_run else []
    command = [sys.executable, *TEST_COMMAND, "-p", "no:cacheprovider", *tests]
    if args.dry_run:
        command[command.index(TEST_WORKERS)] = "2"
    summary["steps"]["tests"] = _run(command, remaining("tests"), out / "pytest.log", env)
    summary["steps"]["tests"]["command"] = " ".join(command[1:])
    common.write_json(out / "summary.json", summary)
    step("op")
    step("model")
    summary["results_md"] = _write_results_md(out)
    if (out / "op.json").exists() and PREDICTIONS.exists():
        comparison = compare(
            json.loads((out / "op.json").read_text()), json.loads(PREDICTIONS.read_text())
        )
        common.write_json(out / "comparison.json", comparison)
        (out / "comparison.md").write_text(comparison_markdown(comparison))
        summary["comparison"] = "comparison.md"
    summary["wall_s"] = time.time() - started
    common.write_json(out / "summary.json", summary)
    failed = [name for name, s in summary["steps"].items() if s["status"] != "ok"]
    print(f"gpu_check: wrote {out}; steps not ok: {failed or 'none'}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--budget-s", type=float, default=DEFAULT_BUDGET_S)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dry-run", action="store_true", help="on the CPU, tiny settings")
    parser.add_argument("--step", nargs=2, metavar=("STEP", "RESULT_JSON"), help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = Path(os.environ["OUT"]) if os.environ.get("OUT") else DEFAULT_OUT
    if args.step is not None:
        name, result_path = args.step
        args.deadline = args.deadline or time.time() + STEP_CAP_S[name]
        Path(result_path).write_text(json.dumps(STEPS[name](args)))
        return 0
    return drive(args)


if __name__ == "__main__":
    sys.exit(main())
