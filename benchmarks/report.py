"""Tables, targets, charts and the README's speed section, from the suites' JSON.

``python -m benchmarks.report [--dir DIR]`` re-renders ``results.md`` and the
charts of a results folder (default ``benchmarks/results/cpu``) and prints the
tables; ``--print-readme`` prints the README's "Speed and memory" section as
rendered from that folder, ``--write-readme`` puts it into README.md and
``--check-readme`` exits 1 where README.md's section differs from it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

SUITES = ("op", "scale", "model")
RESULTS_DIR = common.REPO_ROOT / "benchmarks" / "results" / "cpu"
README = common.REPO_ROOT / "README.md"
README_HEADING = "## Speed and memory"
HEADLINE_CASES = ("2x2/2 VALID", "3x3/2 SAME")  # the cases issue 9's targets name
FLOOR = "x * 2 (floor)"
CHARTS = ("op.png", "batch.png", "scale.png", "model.png")

fs = common.format_seconds
fb = common.format_bytes


def load(directory: Path) -> dict[str, dict]:
    """suite name -> its JSON, for every suite whose file is in ``directory``."""
    found = {}
    for suite in SUITES:
        path = Path(directory) / f"{suite}.json"
        if path.exists():
            found[suite] = json.loads(path.read_text())
    return found


def _median(timings: dict, name: str, kind: str | None = None) -> float | None:
    entry = timings.get(name)
    if entry is None:
        return None
    if kind is not None:
        entry = entry.get(kind)
    return entry["median"] if entry else None


def _times(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}x"


# --- derived figures ------------------------------------------------------------------------


def op_summary(case: dict) -> dict[str, float | None]:
    """The ratios of one op-suite case, all between medians of the same run."""
    t = case["timings"]
    grad = _median(t, "jaxpool", "fwd+bwd")
    residual = case["residuals"].get("jaxpool", {})
    return {
        "jaxpool_grad": grad,
        "reduce_window_grad": _median(t, "reduce_window", "fwd+bwd"),
        "speedup": common.ratio(_median(t, "reduce_window", "fwd+bwd"), grad),
        "torch_nchw_grad": _median(t, "torch NCHW", "fwd+bwd"),
        "torch_channels_last_grad": _median(t, "torch channels_last", "fwd+bwd"),
        "vs_torch_default": common.ratio(_median(t, "torch NCHW", "fwd+bwd"), grad),
        "jaxpool_channels_first_grad": _median(t, "jaxpool channels-first", "fwd+bwd"),
        "vs_torch_nchw": common.ratio(
            _median(t, "torch NCHW", "fwd+bwd"), _median(t, "jaxpool channels-first", "fwd+bwd")
        ),
        "floor": _median(t, FLOOR, "fwd"),
        "grad_over_floor": common.ratio(grad, _median(t, FLOOR, "fwd")),
        "jaxpool_fwd": _median(t, "jaxpool", "fwd"),
        "reduce_window_fwd": _median(t, "reduce_window", "fwd"),
        "fwd_ratio": common.ratio(_median(t, "jaxpool", "fwd"), _median(t, "reduce_window", "fwd")),
        "bwd_speedup": common.ratio(
            _median(t, "reduce_window", "bwd"), _median(t, "jaxpool", "bwd")
        ),
        "residual_bytes": residual.get("bytes"),
        "residual_bytes_per_output": residual.get("bytes_per_output"),
        "reduce_window_residual_bytes": case["residuals"].get("reduce_window", {}).get("bytes"),
    }


def _op_case(op: dict, name: str, dtype: str = "float32") -> dict | None:
    for case in op.get("cases", []):
        if case["case"] == name and case["dtype"] == dtype:
            return case
    return None


def _scale_figures(case: dict) -> dict[str, Any]:
    compile_ = case["compile"]
    run = case["run"].get("timings", {}) if case["run"]["status"] == "ok" else {}

    def compile_time(implementation):
        entry = compile_[implementation]
        return entry["grad_trace_lower_compile_s"] if entry["status"] == "ok" else None

    return {
        "jaxpool_compile": compile_time("jaxpool"),
        "reduce_window_compile": compile_time("reduce_window"),
        "jaxpool_status": compile_["jaxpool"]["status"],
        "reduce_window_status": compile_["reduce_window"]["status"],
        "jaxpool_peak": compile_["jaxpool"].get("peak_rss_bytes"),
        "reduce_window_peak": compile_["reduce_window"].get("peak_rss_bytes"),
        "jaxpool_grad": _median(run, "jaxpool grad"),
        "reduce_window_grad": _median(run, "reduce_window grad"),
        "jaxpool_fwd": _median(run, "jaxpool fwd"),
        "reduce_window_fwd": _median(run, "reduce_window fwd"),
        "with_argmax": _median(run, "jaxpool with_argmax"),
        "jnp_argmax": _median(run, "jnp.argmax"),
        "jnp_max_grad": _median(run, "jnp.max grad"),
    }


# --- targets --------------------------------------------------------------------------------


# Issue 9's targets and issue 6's no-regression ones, for each headline op case:
# (issue, what, op_summary key, digits shown, bound, whether the bound is a minimum, target).
OP_TARGETS = (
    (9, "gradient vs reduce_window's", "speedup", 2, 10, True, ">= 10x faster"),
    (6, "gradient vs reduce_window's, no regression", "speedup", 2, 7.5, True, ">= 7.5x faster"),
    (
        9,
        "fwd+bwd vs PyTorch's, default layouts (NHWC vs NCHW)",
        "vs_torch_default",
        1,
        5,
        True,
        ">= 5x faster",
    ),
    (9, "fwd+bwd vs PyTorch's, both NCHW", "vs_torch_nchw", 1, 3, True, ">= 3x faster"),
    (9, "gradient / elementwise floor (x * 2)", "grad_over_floor", 2, 1.2, False, "<= 1.2x"),
    (9, "forward / reduce_window's forward", "fwd_ratio", 2, 1.10, False, "<= 1.10x"),
    (
        6,
        "bytes saved for the backward per output (x = bytes)",
        "residual_bytes_per_output",
        2,
        1.0,
        False,
        "1 byte (the switches)",
    ),
)


def _target(issue, name, measured, met, target, note=""):
    return {
        "issue": issue,
        "name": name,
        "measured": measured,
        "target": target,
        "met": met,
        "note": note,
    }


def _at_least(value, bound):
    return None if value is None else value >= bound


def _at_most(value, bound):
    return None if value is None else value <= bound


def _scale_targets(case: dict) -> list[dict]:
    """Issue 6's targets for one scale case; where jaxpool's compile failed, each is missed."""
    f = _scale_figures(case)
    status = f["jaxpool_status"]
    compile_bound = max(2.0, 1.5 * (f["reduce_window_compile"] or 0.0))
    checks = [
        (
            "gradient trace+compile",
            f["jaxpool_compile"],
            fs,
            compile_bound,
            f"<= {fs(compile_bound)} (2 s, or 1.5x reduce_window's)",
        ),
        ("peak process memory", f["jaxpool_peak"], fb, 2 * 2**30, "< 2 GiB"),
        (
            "gradient time / reduce_window's",
            common.ratio(f["jaxpool_grad"], f["reduce_window_grad"]),
            lambda v: _times(v, 2),
            1.0,
            "<= 1x (faster)",
        ),
        (
            "forward / reduce_window's",
            common.ratio(f["jaxpool_fwd"], f["reduce_window_fwd"]),
            lambda v: _times(v, 2),
            1.25,
            "<= 1.25x",
        ),
    ]
    if case["global"]:
        checks += [
            (
                "max_pool_with_argmax / jnp.argmax",
                common.ratio(f["with_argmax"], f["jnp_argmax"]),
                lambda v: _times(v, 2),
                1.0,
                "<= 1x",
            ),
            (
                "gradient / jax.grad of jnp.max",
                common.ratio(f["jaxpool_grad"], f["jnp_max_grad"]),
                lambda v: _times(v, 2),
                1.5,
                "<= 1.5x",
            ),
        ]
    rows = []
    for what, value, text, bound, target in checks:
        if status != "ok":
            measured, met = f"jaxpool {status}", False
        else:
            measured, met = text(value), _at_most(value, bound)
        rows.append(_target(6, f"{case['name']}: {what}", measured, met, target))
    return rows


def targets(results: dict[str, dict]) -> list[dict]:
    """Every target of issues 9 and 6 that these results measure, met, missed or not measured."""
    rows = []
    op = results.get("op")
    if op is not None:
        for name in HEADLINE_CASES:
            case = _op_case(op, name)
            if case is None:
                continue
            summary = op_summary(case)
            for issue, what, key, digits, bound, at_least, target in OP_TARGETS:
                value = summary[key]
                met = _at_least(value, bound) if at_least else _at_most(value, bound)
                rows.append(
                    _target(issue, f"{name} float32: {what}", _times(value, digits), met, target)
                )
    model = results.get("model")
    for case in (model or {}).get("cases", []):
        if case["architecture"] != "vgg":
            continue
        variants = case["variants"]
        smaller = common.ratio(
            variants["flax.linen.max_pool"]["temp_bytes"], variants["jaxpool"]["temp_bytes"]
        )
        rows.append(
            _target(
                9,
                f"{case['name']} training step: temp memory, flax.linen.max_pool / jaxpool",
                _times(smaller, 2),
                _at_least(smaller, 2),
                ">= 2x smaller",
            )
        )
    scale = results.get("scale")
    for case in (scale or {}).get("cases", []):
        rows += _scale_targets(case)
    for layout in (scale or {}).get("layouts", []):
        timings = layout.get("timings", {})
        for kind in ("fwd", "grad"):
            for first, last in (("NCHW", "NHWC"), ("CHW", "HWC")):
                value = common.ratio(
                    _median(timings, f"{first} {kind}"), _median(timings, f"{last} {kind}")
                )
                rows.append(
                    _target(
                        6,
                        f"{layout['name']}: {kind}, {first} / {last}",
                        _times(value, 2),
                        _at_most(value, 1.25),
                        "<= 1.25x",
                    )
                )
    return rows


def _mark(met: bool | None) -> str:
    return {True: "met", False: "missed", None: "not measured"}[met]


# --- tables ---------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _spread(entry: dict | None) -> str:
    if not entry:
        return "n/a"
    return f"{fs(entry['median'])} [{fs(entry['q1'])}, {fs(entry['q3'])}]"


def op_summary_table(op: dict, dtypes=("float32", "bfloat16")) -> str:
    rows = []
    for case in op["cases"]:
        if case["dtype"] not in dtypes:
            continue
        s = op_summary(case)
        rows.append(
            [
                f"`{tuple(case['shape'])}` {case['case']} {case['dtype']}",
                fs(s["jaxpool_grad"]),
                fs(s["reduce_window_grad"]),
                _times(s["speedup"]),
                fs(s["torch_nchw_grad"]),
                _times(s["vs_torch_default"]),
                fs(s["jaxpool_channels_first_grad"]),
                _times(s["vs_torch_nchw"]),
                _times(s["grad_over_floor"], 2),
                f"{fs(s['jaxpool_fwd'])} / {fs(s['reduce_window_fwd'])}"
                f" ({_times(s['fwd_ratio'], 2)})",
                f"{fb(s['residual_bytes'])}"
                f" ({common.format_ratio(s['residual_bytes_per_output'])} B/out)"
                f" vs {fb(s['reduce_window_residual_bytes'])}",
            ]
        )
    header = (
        "case | jaxpool grad | reduce_window grad | speed-up | "
        "PyTorch NCHW fwd+bwd | vs PyTorch | jaxpool NCHW grad | "
        "vs PyTorch, both NCHW | grad / `x * 2` | "
        "forward jaxpool / reduce_window | "
        "saved for the backward (jaxpool vs reduce_window)"
    ).split(" | ")
    return _table(header, rows)


def op_detail_tables(op: dict) -> str:
    parts = []
    for case in op["cases"]:
        header = ["strategy", "fwd", "fwd+bwd", "bwd", "saved for the backward"]
        rows = []
        for name, kinds in case["timings"].items():
            residual = case["residuals"].get(name)
            saved = ", ".join(residual["leaves"]) if residual else ""
            rows.append([name, *(_spread(kinds.get(k)) for k in ("fwd", "fwd+bwd", "bwd")), saved])
        title = f"#### `{tuple(case['shape'])}` {case['case']} {case['dtype']}"
        notes = [
            f"Floor `x * 2` moves {fb(case['floor_bytes'])}: "
            f"{case['floor_bandwidth_bytes_per_second'] / 1e9:.1f} GB/s.",
        ]
        mismatched = [n for n, ok in case.get("values_match_jaxpool", {}).items() if not ok]
        if mismatched:
            notes.append("Values differ from jaxpool's: " + ", ".join(mismatched) + ".")
        if case["errors"]:
            notes += [f"{name} failed: {message}" for name, message in case["errors"].items()]
        parts.append(f"{title}\n\n{_table(header, rows)}\n\n" + " ".join(notes))
    return "\n\n".join(parts)


def batch_table(op: dict) -> str:
    sweep = op["batch_sweep"]
    names = list(sweep["points"][0]["timings"])
    rows = [
        [str(point["batch"]), *(_spread(point["timings"].get(n)) for n in names)]
        for point in sweep["points"]
    ]
    return _table(["batch", *names], rows)


def _status_or(value: str, status: str) -> str:
    return value if status == "ok" else f"**{status}**"


def scale_table(scale: dict) -> str:
    rows = []
    for case in scale["cases"]:
        f = _scale_figures(case)
        compile_ = case["compile"]
        rows.append(
            [
                f"`{tuple(case['shape'])}` {case['name']}",
                _status_or(fs(f["jaxpool_compile"]), f["jaxpool_status"]),
                _status_or(fs(f["reduce_window_compile"]), f["reduce_window_status"]),
                _status_or(fb(f["jaxpool_peak"]), f["jaxpool_status"]),
                _status_or(fb(f["reduce_window_peak"]), f["reduce_window_status"]),
                fs(f["jaxpool_grad"]),
                fs(f["reduce_window_grad"]),
                _times(common.ratio(f["reduce_window_grad"], f["jaxpool_grad"]), 2),
                f"{fs(f['jaxpool_fwd'])} / {fs(f['reduce_window_fwd'])}",
                f"{fs(compile_['jaxpool'].get('grad_trace_s'))} / "
                f"{fs(compile_['jaxpool'].get('grad_compile_s'))}",
            ]
        )
    header = (
        "case | jaxpool grad compile | reduce_window grad compile | "
        "jaxpool peak memory | reduce_window peak memory | jaxpool grad | "
        "reduce_window grad | grad speed-up | forward jaxpool / reduce_window | "
        "jaxpool trace / XLA compile"
    ).split(" | ")
    return _table(header, rows)


def global_table(scale: dict) -> str:
    rows = []
    for case in scale["cases"]:
        if not case["global"]:
            continue
        f = _scale_figures(case)
        rows.append(
            [
                case["name"],
                fs(f["with_argmax"]),
                fs(f["jnp_argmax"]),
                fs(f["jaxpool_grad"]),
                fs(f["jnp_max_grad"]),
            ]
        )
    header = ["case", "max_pool_with_argmax", "jnp.argmax", "jaxpool grad", "grad of jnp.max"]
    return _table(header, rows)


def layout_table(scale: dict) -> str:
    rows = []
    for layout in scale["layouts"]:
        timings = layout.get("timings", {})
        if layout["status"] != "ok":
            rows.append([layout["name"], f"**{layout['status']}**", "", "", ""])
            continue
        # Runs before the backward alone was measured have no "bwd" timings.
        for kind in ("fwd", "grad", "bwd"):
            if _median(timings, f"NHWC {kind}") is None:
                continue
            rows.append(
                [
                    f"`{tuple(layout['shape'])}` {layout['name']} {kind}",
                    *(
                        fs(_median(timings, f"{name} {kind}"))
                        for name in ("NHWC", "NCHW", "HWC", "CHW")
                    ),
                ]
            )
    return _table(
        ["case", "NHWC", "NCHW (`channel_axis=1`)", "HWC", "CHW (`channel_axis=0`)"], rows
    )


def model_table(model: dict) -> str:
    rows = []
    for case in model["cases"]:
        variants = case["variants"]
        ours, theirs = variants["jaxpool"], variants["flax.linen.max_pool"]
        rows.append(
            [
                f"{case['name']} `{tuple(case['input_shape'])}`",
                _spread(ours["step"]),
                _spread(theirs["step"]),
                fb(ours["temp_bytes"]),
                fb(theirs["temp_bytes"]),
                _times(common.ratio(theirs["temp_bytes"], ours["temp_bytes"]), 2),
            ]
        )
    header = [
        "model (input)",
        "step, jaxpool",
        "step, flax.linen.max_pool",
        "temp memory, jaxpool",
        "temp memory, flax",
        "flax / jaxpool memory",
    ]
    return _table(header, rows)


def targets_table(rows: list[dict]) -> str:
    body = [
        [f"#{row['issue']}", row["name"], row["target"], row["measured"], _mark(row["met"])]
        for row in rows
    ]
    return _table(["issue", "what", "target", "measured", ""], body)


def _machine_line(data: dict) -> str:
    machine = data["machine"]
    versions = machine["versions"]
    load = machine.get("load_average")
    load_text = f", load average {load[0]:.1f} when it started" if load else ""
    threads = f" ({machine['torch_threads']} threads)" if machine.get("torch_threads") else ""
    commit = (machine.get("git_commit") or "unknown")[:10]
    dirty = (
        " with uncommitted jaxpool changes" if machine.get("jaxpool_uncommitted_changes") else ""
    )
    return (
        f"{common.device_line(machine)}, jaxlib {versions['jaxlib']}, "
        f"torch {versions['torch'] or 'absent'}{threads}, flax {versions['flax'] or 'absent'}, "
        f"Python {machine['python']}; {machine['date']}{load_text}; jaxpool at {commit}{dirty}; "
        f"{data['settings']['rounds']} interleaved rounds"
        f"{' (quick mode: tiny shapes)' if data['settings']['quick'] else ''}"
    )


def markdown(results: dict[str, dict]) -> str:
    """The whole results.md: every table and every target."""
    parts = ["# jaxpool benchmark results", ""]
    parts.append(
        "Medians of interleaved rounds after warm-up; `[q1, q3]` is the interquartile range; "
        "ratios are between medians of the same run. Every sample is in the JSON beside this file."
    )
    if "op" in results:
        op = results["op"]
        parts += ["", "## Op suite", "", _machine_line(op), "", op_summary_table(op)]
        parts += ["", "### Every strategy (`median [q1, q3]`)", "", op_detail_tables(op)]
        parts += [
            "",
            f"### Batch sweep: {op['batch_sweep']['case']}, "
            f"`(batch, {', '.join(map(str, op['batch_sweep']['shape_per_example']))})`, "
            f"{op['batch_sweep']['quantity']}",
            "",
            batch_table(op),
        ]
    if "scale" in results:
        scale = results["scale"]
        parts += ["", "## Scale suite", "", _machine_line(scale), "", scale_table(scale)]
        parts += ["", "### Global windows", "", global_table(scale)]
        parts += ["", "### Channels-first against channels-last (jaxpool)", "", layout_table(scale)]
        failures = [
            f"- {case['name']} {implementation}: {entry['status']} {entry.get('message', '')}"
            for case in scale["cases"]
            for implementation, entry in case["compile"].items()
            if entry["status"] != "ok"
        ]
        if failures:
            parts += ["", "Failures (each in its own capped subprocess):", "", *failures]
    if "model" in results:
        model = results["model"]
        if "skipped" in model:
            parts += ["", "## Model suite", "", f"Skipped: {model['skipped']}."]
        else:
            parts += ["", "## Model suite", "", _machine_line(model), "", model_table(model)]
    parts += ["", "## Targets", "", targets_table(targets(results)), ""]
    return "\n".join(parts)


# --- the README section ---------------------------------------------------------------------


def _other_runs(results: dict[str, dict]) -> str:
    """Where a suite comes from another run than the op suite's, when and from which commit."""
    first = results["op"]["machine"]
    others = [
        f"the {suite} suite in another run, {data['machine']['date']}, jaxpool at "
        f"{(data['machine'].get('git_commit') or 'unknown')[:10]}"
        for suite, data in results.items()
        if (data["machine"]["date"], data["machine"].get("git_commit"))
        != (first["date"], first.get("git_commit"))
    ]
    return "".join(f"; {other}" for other in others)


def _load_caveat(machine: dict) -> list[str]:
    """A warning where other work shared the machine during the run."""
    load = (machine.get("load_average") or [0.0])[0]
    if load < 0.5 * machine["usable_cores"]:
        return []
    return [
        "",
        f"The machine was shared with other work during this run (load average {load:.1f} on "
        f"{machine['usable_cores']} cores when it started), so absolute times are noisy and "
        "ratios less so (least so against PyTorch, whose threads wait on each other when a core "
        "is taken); rerun on a quiet machine before quoting a figure elsewhere.",
    ]


def readme_section(results: dict[str, dict], directory: str = "benchmarks/results/cpu") -> str:
    """The README's "Speed and memory" section, rendered from committed results."""
    op, scale, model = results["op"], results.get("scale"), results.get("model")
    rows = targets(results)
    issue9 = [row for row in rows if row["issue"] == 9]
    issue6 = [row for row in rows if row["issue"] == 6]
    met6 = sum(row["met"] is True for row in issue6)
    lines = [
        README_HEADING,
        "",
        f"<!-- Generated by `python -m benchmarks.report --write-readme` from {directory}/*.json;",
        "     tests/test_benchmarks.py checks that this section matches them. -->",
        "",
        f"Measured with `python -m benchmarks` on {_machine_line(op)}{_other_runs(results)}. "
        "Medians; ratios are within a run; every sample, the quartiles and all tables are in "
        f"[`{directory}/results.md`]({directory}/results.md). Gradients are the jitted "
        "`jax.grad` of `sum(max_pool(x))`; `x * 2` reads the input and writes an array of its "
        "size, the least any gradient must move.",
        *_load_caveat(op["machine"]),
        "",
        op_summary_table(op, dtypes=("float32",)),
        "",
        f"![op suite]({directory}/op.png)",
        "",
        "Issue 9's targets on this machine:",
        "",
        *[
            f"- {_mark(row['met'])}: {row['name']}: {row['measured']} (target {row['target']})"
            for row in issue9
        ],
    ]
    if model is not None and "cases" in model:
        lines += [
            "",
            "Training steps (forward, backward and SGD update, jitted):",
            "",
            model_table(model),
        ]
    if scale is not None:
        lines += [
            "",
            "### Cost and window size",
            "",
            "Windows of more than 12 positions are pooled axis by axis (see "
            "[How it works](#how-it-works)), so trace, compile time and memory grow with the "
            "logarithm of the window, not with its number of positions, and the backward still "
            "saves only the switches. Cost as the window grows (float32, NHWC; compile = trace, "
            "lower and compile of the jitted gradient from a fresh function; peak = the "
            "process's maximum resident memory, each measured in its own subprocess capped at "
            f"{fb(scale['settings']['memory_limit_bytes'])} and "
            f"{scale['settings']['compile_timeout_s']} s):",
            "",
            scale_table(scale),
            "",
            "Global windows against `jnp.argmax` over the flattened window and `jax.grad` of "
            "`jnp.max` over the spatial axes:",
            "",
            global_table(scale),
            "",
            "Layouts: channels-last against channels-first, batched and unbatched:",
            "",
            layout_table(scale),
            "",
            f"Issue 6's targets: {met6} of {len(issue6)} met "
            f"(each listed in [`results.md`]({directory}/results.md)).",
        ]
    return "\n".join(lines) + "\n"


def _section_bounds(readme: str) -> tuple[int, int]:
    """Where the "Speed and memory" section starts and where the next ``## `` heading does."""
    start = readme.index(README_HEADING + "\n")
    end = readme.find("\n## ", start + len(README_HEADING))
    return start, len(readme) if end == -1 else end + 1


def current_readme_section(readme: str) -> str:
    start, end = _section_bounds(readme)
    return readme[start:end].rstrip("\n") + "\n"


def replace_readme_section(readme: str, section: str) -> str:
    start, end = _section_bounds(readme)
    separator = "\n" if end < len(readme) else ""
    return readme[:start] + section.rstrip("\n") + "\n" + separator + readme[end:]


# --- charts ---------------------------------------------------------------------------------


def charts(results: dict[str, dict], directory: Path) -> list[Path]:
    """PNG charts of the suites present; none where matplotlib is not installed."""
    matplotlib = common.optional_import("matplotlib")
    if matplotlib is None:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    written = []

    def save(figure, name):
        path = Path(directory) / name
        figure.tight_layout()
        figure.savefig(path, dpi=80)
        plt.close(figure)
        written.append(path)

    op = results.get("op")
    if op is not None:
        cases = [c for c in op["cases"] if c["dtype"] == "float32"]
        columns = min(3, len(cases))
        rows = math.ceil(len(cases) / columns)
        figure, axes = plt.subplots(
            rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False
        )
        for axis in axes.flat[len(cases) :]:
            axis.set_visible(False)
        for axis, case in zip(axes.flat, cases):
            names = [n for n in case["timings"] if "fwd+bwd" in case["timings"][n]] + [FLOOR]
            entries = [
                case["timings"][n].get("fwd+bwd") or case["timings"][n]["fwd"] for n in names
            ]
            medians = [e["median"] * 1e3 for e in entries]
            errors = [
                [(e["median"] - e["q1"]) * 1e3 for e in entries],
                [(e["q3"] - e["median"]) * 1e3 for e in entries],
            ]
            colours = ["tab:blue" if n.startswith("jaxpool") else "tab:gray" for n in names]
            axis.barh(names, medians, xerr=errors, color=colours)
            axis.invert_yaxis()
            axis.set_title(f"{case['case']} {tuple(case['shape'])}", fontsize=9)
            axis.set_xscale("log")
            axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            axis.set_xlabel("fwd+bwd, ms (median, IQR; log scale)")
            axis.tick_params(labelsize=7)
        save(figure, "op.png")

        sweep = op["batch_sweep"]
        figure, axis = plt.subplots(figsize=(6, 4.2))
        batches = [p["batch"] for p in sweep["points"]]
        for name in sweep["points"][0]["timings"]:
            axis.plot(
                batches,
                [p["timings"][name]["median"] * 1e3 for p in sweep["points"]],
                marker="o",
                label=name,
            )
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("batch")
        axis.set_ylabel("ms (median)")
        axis.set_title(
            f"{sweep['case']} (batch, {sweep['shape_per_example']}): gradient", fontsize=9
        )
        axis.legend(fontsize=8)
        save(figure, "batch.png")

    scale = results.get("scale")
    if scale is not None:
        figure, axes = plt.subplots(1, 3, figsize=(14, 4.5))
        names = [c["name"] for c in scale["cases"]]
        figures = [_scale_figures(c) for c in scale["cases"]]
        panels = (
            ("compile", "gradient trace+compile, s", 1),
            ("peak", "peak process memory, GiB", 1 / 2**30),
            ("grad", "jitted gradient, ms", 1e3),
        )
        for axis, (key, label, factor) in zip(axes, panels):
            for offset, implementation in ((-0.2, "jaxpool"), (0.2, "reduce_window")):
                values = [
                    math.nan
                    if f[f"{implementation}_{key}"] is None
                    else f[f"{implementation}_{key}"] * factor
                    for f in figures
                ]
                positions = [i + offset for i in range(len(names))]
                axis.bar(positions, values, width=0.4, label=implementation)
                for position, f in zip(positions, figures):
                    if f[f"{implementation}_status"] != "ok":
                        axis.text(
                            position,
                            0.02,  # axes fraction: visible on the log scale
                            f[f"{implementation}_status"],
                            transform=axis.get_xaxis_transform(),
                            rotation=90,
                            fontsize=7,
                            va="bottom",
                            ha="center",
                            color="tab:red",
                        )
            axis.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
            axis.set_yscale("log")
            axis.set_title(label, fontsize=9)
            axis.legend(fontsize=7)
        save(figure, "scale.png")

    model = results.get("model")
    if model is not None and "cases" in model:
        figure, axes = plt.subplots(1, 2, figsize=(9, 3.8))
        names = [c["name"] for c in model["cases"]]
        for offset, variant in ((-0.2, "jaxpool"), (0.2, "flax.linen.max_pool")):
            positions = [i + offset for i in range(len(names))]
            axes[0].bar(
                positions,
                [c["variants"][variant]["step"]["median"] * 1e3 for c in model["cases"]],
                width=0.4,
                label=variant,
            )
            axes[1].bar(
                positions,
                [c["variants"][variant]["temp_bytes"] / 2**20 for c in model["cases"]],
                width=0.4,
                label=variant,
            )
        for axis, title in zip(axes, ("training step, ms (median)", "compiled temp memory, MiB")):
            axis.set_xticks(range(len(names)), names)
            axis.set_title(title, fontsize=9)
            axis.legend(fontsize=8)
        save(figure, "model.png")
    return written


def write(directory: Path) -> tuple[str, list[Path]]:
    """Write results.md and the charts for the JSON in ``directory``; return the Markdown."""
    results = load(directory)
    text = markdown(results)
    (Path(directory) / "results.md").write_text(text)
    return text, charts(results, directory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=RESULTS_DIR)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--print-readme", action="store_true")
    group.add_argument("--write-readme", action="store_true")
    group.add_argument("--check-readme", action="store_true")
    args = parser.parse_args(argv)
    if not (args.print_readme or args.write_readme or args.check_readme):
        text, written = write(args.dir)
        print(text)
        print("wrote", args.dir / "results.md", *written, file=sys.stderr)
        return 0
    relative = args.dir.resolve().relative_to(common.REPO_ROOT).as_posix()
    section = readme_section(load(args.dir), relative)
    if args.print_readme:
        print(section, end="")
        return 0
    readme = README.read_text()
    if args.write_readme:
        README.write_text(replace_readme_section(readme, section))
        return 0
    if current_readme_section(readme) != section:
        print("README.md's speed section differs from", relative, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
