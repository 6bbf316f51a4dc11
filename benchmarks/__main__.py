"""Benchmark jaxpool against its peers on JAX's default backend.

``python -m benchmarks [--quick] [--suite op|scale|model|all] [--out DIR] [--rounds N]``

Writes ``<suite>.json`` (every sample, the machine, versions), ``results.md``
(every table and target) and PNG charts into ``--out`` (default
``benchmarks/results/<backend>/``; ``benchmarks/results/<backend>-quick/`` with
``--quick``), and prints the tables at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from benchmarks import common

# Rounds per suite when --rounds is not given: enough for stable medians on a noisy CPU.
DEFAULT_ROUNDS = {"op": 15, "scale": 11, "model": 11}
QUICK_ROUNDS = 3


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny shapes, few rounds (a smoke test)"
    )
    parser.add_argument("--suite", choices=("op", "scale", "model", "all"), default="all")
    parser.add_argument("--out", type=Path, default=None, help="results folder")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls before the rounds")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    import jax

    from benchmarks import model
    from benchmarks import op
    from benchmarks import report
    from benchmarks import scale

    backend = jax.default_backend()
    out = args.out or common.REPO_ROOT / "benchmarks" / "results" / (
        f"{backend}-quick" if args.quick else backend
    )
    out.mkdir(parents=True, exist_ok=True)
    machine = common.machine_info()
    print(f"Measuring on {common.device_line(machine)}; results into {out}", file=sys.stderr)
    suites = ("op", "scale", "model") if args.suite == "all" else (args.suite,)
    runners = {"op": op.run, "scale": scale.run, "model": model.run}
    started = time.perf_counter()
    for suite in suites:
        rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS[suite])
        suite_started = time.perf_counter()
        result = runners[suite](
            quick=args.quick, rounds=rounds, warmup=args.warmup, show_progress=not args.no_progress
        )
        result["wall_s"] = time.perf_counter() - suite_started
        common.write_json(out / f"{suite}.json", {"machine": machine, **result})
    text, written = report.write(out)
    print(text)
    print(
        f"Measured on {common.device_line(machine)} in {time.perf_counter() - started:.0f} s; "
        f"wrote {out / 'results.md'}" + "".join(f", {path.name}" for path in written),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
