"""The performance page's section on a real GPU, from the committed GPU check.

``benchmarks/gpu_check.sh`` writes ``benchmarks/results/gpu/`` on the day a GPU is lent:
``comparison.json`` (per op case, jaxpool's and ``reduce_window``'s measured medians),
``model.json`` (the training steps) and ``summary.json`` (the device, versions and the test
run). This module turns them into Markdown; it measures nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from benchmarks import common

RESULTS_DIR = common.REPO_ROOT / "benchmarks" / "results" / "gpu"
KINDS = ("fwd", "fwd+bwd", "bwd")


def load(directory: Path = RESULTS_DIR) -> dict | None:
    """The committed GPU check (comparison, model, summary), or None where there is none."""
    paths = {name: Path(directory) / f"{name}.json" for name in ("comparison", "model", "summary")}
    if not paths["comparison"].exists() or not paths["summary"].exists():
        return None
    return {name: json.loads(path.read_text()) for name, path in paths.items() if path.exists()}


def _rows(comparison: dict) -> dict[tuple[str, str], dict[str, dict]]:
    """(case, dtype) -> kind -> row, in the order measured."""
    found: dict[tuple[str, str], dict[str, dict]] = {}
    for row in comparison["rows"]:
        found.setdefault((row["case"], row["dtype"]), {})[row["kind"]] = row
    return found


def _pair(row: dict | None) -> str:
    if row is None:
        return "n/a"
    fs = common.format_seconds
    return (
        f"{fs(row['measured_jaxpool_s'])} vs {fs(row['measured_reduce_window_s'])} "
        f"({common.format_ratio(row['measured_ratio'])}x)"
    )


def op_table(comparison: dict) -> str:
    """Each op case's medians on the GPU, jaxpool vs ``reduce_window``, per kind."""
    lines = [
        "| case | dtype | forward | gradient (forward and backward) | backward alone |",
        "|---|---|---|---|---|",
    ]
    for (case, dtype), kinds in _rows(comparison).items():
        cells = " | ".join(_pair(kinds.get(kind)) for kind in KINDS)
        lines.append(f"| {case} | {dtype} | {cells} |")
    return "\n".join(lines)


def span(comparison: dict, kind: str) -> tuple[float, float]:
    """The least and greatest measured ratio of ``kind`` (jaxpool over ``reduce_window``)."""
    ratios = [row["measured_ratio"] for row in comparison["rows"] if row["kind"] == kind]
    return min(ratios), max(ratios)


def performance_section(data: dict, link: str, model_table: Callable[[dict], str]) -> list[str]:
    """The lines of docs/performance.md's section on the GPU check."""
    environment = data["summary"]["steps"]["environment"]["result"]
    versions = environment["versions"]
    ratio = common.format_ratio
    gradient, forward = span(data["comparison"], "fwd+bwd"), span(data["comparison"], "fwd")
    lines = [
        "## On a real GPU",
        "",
        f"Measured on one {environment['device_kind']} by `benchmarks/gpu_check.sh` (jax "
        f"{versions['jax']}, Python {environment['python']}; the machine was shared, so "
        f"medians of {data['summary']['rounds']} interleaved rounds; [all tables]({link})). "
        "Each cell is jaxpool's median time vs `reduce_window`'s (`jax.grad` of it for the "
        "gradient), and their ratio:",
        "",
        op_table(data["comparison"]),
        "",
        f"The gradient ratios span {ratio(gradient[0])}x to {ratio(gradient[1])}x. The "
        "values-only forward is one `reduce_window` in both, jaxpool's with a comparator "
        f"that keeps NaN; its ratios span {ratio(forward[0])}x to {ratio(forward[1])}x. At "
        "these sizes a program runs for 100 to 300 us, so launch overhead and the machine's "
        "other load are a large share of every figure.",
    ]
    if "model" in data and "cases" in data["model"]:
        lines += [
            "",
            "The training steps of the CPU section above, on this GPU (`median [q1, q3]`; "
            "where the quartiles overlap, the run does not tell the two apart):",
            "",
            model_table(data["model"]),
        ]
    return lines
