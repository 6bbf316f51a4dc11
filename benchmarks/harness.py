"""The driver every entry point shares: arguments, the results folder, running suites, the report.

``python -m benchmarks`` runs every suite through it and ``python benchmarks/scale.py``
runs one; the suites themselves know nothing of it, so nothing imports in a circle.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import accel_report
from benchmarks import common
from benchmarks import report

# Rounds per suite when --rounds is not given: enough for stable medians on a noisy CPU.
DEFAULT_ROUNDS = {"op": 15, "scale": 11, "model": 11, "accel": 1}
QUICK_ROUNDS = 3
# Where a run writes unless told otherwise: a folder git ignores, so that running the
# benchmarks never changes the committed results the README and docs are checked against.
LOCAL_RESULTS = common.REPO_ROOT / "benchmarks" / "results" / "local"
COMMITTED_RESULTS = common.REPO_ROOT / "benchmarks" / "results"

Runner = Callable[..., dict]
# Suites that run only when named (--suite NAME), never under --suite all, each with the
# folder name its results go into instead of the backend's (the accelerator suite compiles
# for GPUs and TPUs from the CPU, so its results are not the CPU backend's); accel_report
# writes its results.md.
SEPARATE_SUITES = {"accel": "accel"}


def parse_arguments(
    argv: list[str] | None, suites: tuple[str, ...], prog: str = "python -m benchmarks"
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Benchmark jaxpool against its peers on JAX's default backend.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny shapes, few rounds (a smoke test)"
    )
    parser.add_argument("--suite", choices=(*suites, "all"), default="all")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder (default: benchmarks/results/local/<backend>[-quick], git-ignored)",
    )
    where.add_argument(
        "--update-committed",
        action="store_true",
        help="write into benchmarks/results/<backend>, the results the README is checked against",
    )
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls before the rounds")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def output_directory(args: argparse.Namespace, backend: str) -> Path:
    """``--out``; the committed folder with ``--update-committed``; else the ignored local one."""
    if args.out is not None:
        return args.out
    if args.update_committed:
        if args.quick:
            raise SystemExit("--update-committed takes a full run: drop --quick")
        return COMMITTED_RESULTS / backend
    return LOCAL_RESULTS / (f"{backend}-quick" if args.quick else backend)


def chosen_suites(args: argparse.Namespace, suites: tuple[str, ...]) -> tuple[str, ...]:
    """The suites ``--suite`` names: ``all`` is every suite but the separate ones."""
    if args.suite == "all":
        return tuple(name for name in suites if name not in SEPARATE_SUITES)
    return (args.suite,)


def main(
    runners: dict[str, Runner], argv: list[str] | None = None, prog: str = "python -m benchmarks"
) -> None:
    """Run the chosen suites of ``runners`` (suite name -> its ``run``) and write the report."""
    args = parse_arguments(argv, tuple(runners), prog)
    import jax

    label = SEPARATE_SUITES.get(args.suite, jax.default_backend())
    out = output_directory(args, label)
    out.mkdir(parents=True, exist_ok=True)
    machine = common.machine_info()
    print(f"Measuring on {common.device_line(machine)}; results into {out}", file=sys.stderr)
    suites = chosen_suites(args, tuple(runners))
    started = time.perf_counter()
    for suite in suites:
        rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS[suite])
        suite_started = time.perf_counter()
        result = runners[suite](
            quick=args.quick, rounds=rounds, warmup=args.warmup, show_progress=not args.no_progress
        )
        result["wall_s"] = time.perf_counter() - suite_started
        common.write_json(out / f"{suite}.json", {"machine": machine, **result})
    if args.suite in SEPARATE_SUITES:
        text, written = accel_report.write_report(out), []
    else:
        text, written = report.write(out)
    print(text)
    print(
        f"Measured on {common.device_line(machine)} in {time.perf_counter() - started:.0f} s; "
        f"wrote {out / 'results.md'}" + "".join(f", {path.name}" for path in written),
        file=sys.stderr,
    )
