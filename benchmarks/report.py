"""Tables, design goals, charts, the README's figures and docs/performance.md, from the JSON.

``python -m benchmarks.report [--dir DIR]`` re-renders ``results.md`` and the
charts of a results folder (default ``benchmarks/results/cpu``, the committed
run) and prints the tables. ``--write-readme`` regenerates, from that folder,
the README's generated blocks (the headline figures and the speed table,
each between ``<!-- generated: NAME -->`` and ``<!-- end generated: NAME -->``)
and the whole of ``docs/performance.md``; ``--check-readme`` exits 1 where
either differs from what the results give; ``--print-readme`` prints them.
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

from benchmarks import accel_report
from benchmarks import common
from benchmarks import gpu_report

SUITES = ("op", "scale", "model")
RESULTS_DIR = common.REPO_ROOT / "benchmarks" / "results" / "cpu"
README = common.REPO_ROOT / "README.md"
PERFORMANCE_DOC = common.REPO_ROOT / "docs" / "performance.md"
HEADLINE_CASES = ("2x2/2 VALID", "3x3/2 SAME")  # the two most common windows
# Windows of more than this many positions are pooled axis by axis (POSITIONS_LIMIT in
# jaxpool/_geometry.py); the headline quotes their speed-ups as one range.
POSITIONS_LIMIT = 12
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


# --- design goals ---------------------------------------------------------------------------


# The goals the implementation was designed against, for each headline op case:
# (what, op_summary key, digits shown, bound, whether the bound is a minimum, goal).
# They are reported for a full run only (results.md), never for --quick's toy shapes.
OP_TARGETS = (
    ("gradient vs reduce_window's", "speedup", 2, 10, True, ">= 10x faster"),
    ("gradient vs reduce_window's, no regression", "speedup", 2, 7.5, True, ">= 7.5x faster"),
    (
        "fwd+bwd vs PyTorch's, default layouts (NHWC vs NCHW)",
        "vs_torch_default",
        1,
        5,
        True,
        ">= 5x faster",
    ),
    ("fwd+bwd vs PyTorch's, both NCHW", "vs_torch_nchw", 1, 3, True, ">= 3x faster"),
    ("gradient / elementwise floor (x * 2)", "grad_over_floor", 2, 1.2, False, "<= 1.2x"),
    ("forward / reduce_window's forward", "fwd_ratio", 2, 1.10, False, "<= 1.10x"),
    (
        "bytes saved for the backward per output (x = bytes)",
        "residual_bytes_per_output",
        2,
        1.0,
        False,
        "1 byte (the switches)",
    ),
)


def _target(name, measured, met, target, note=""):
    return {
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
    """The goals for one scale case; where jaxpool's compile failed, none is reached."""
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
        rows.append(_target(f"{case['name']}: {what}", measured, met, target))
    return rows


def targets(results: dict[str, dict]) -> list[dict]:
    """Every design goal these results measure: reached, not reached or not measured."""
    rows = []
    op = results.get("op")
    if op is not None:
        for name in HEADLINE_CASES:
            case = _op_case(op, name)
            if case is None:
                continue
            summary = op_summary(case)
            for what, key, digits, bound, at_least, target in OP_TARGETS:
                value = summary[key]
                met = _at_least(value, bound) if at_least else _at_most(value, bound)
                rows.append(_target(f"{name} float32: {what}", _times(value, digits), met, target))
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
                        f"{layout['name']}: {kind}, {first} / {last}",
                        _times(value, 2),
                        _at_most(value, 1.25),
                        "<= 1.25x",
                    )
                )
    return rows


def _mark(met: bool | None) -> str:
    return {True: "yes", False: "no", None: "not measured"}[met]


# --- tables ---------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _spread(entry: dict | None) -> str:
    if not entry:
        return "n/a"
    return f"{fs(entry['median'])} [{fs(entry['q1'])}, {fs(entry['q3'])}]"


def op_summary_table(op: dict, dtypes=("float32", "bfloat16"), compact: bool = False) -> str:
    """Each op case's figures; ``compact``: only the README's columns."""
    rows = []
    for case in op["cases"]:
        if case["dtype"] not in dtypes:
            continue
        s = op_summary(case)
        full = [
            _times(s["vs_torch_default"]),
            fs(s["jaxpool_channels_first_grad"]),
            _times(s["vs_torch_nchw"]),
            _times(s["grad_over_floor"], 2),
            f"{fs(s['jaxpool_fwd'])} / {fs(s['reduce_window_fwd'])} ({_times(s['fwd_ratio'], 2)})",
        ]
        per_output = f" ({common.format_ratio(s['residual_bytes_per_output'])} B/out)"
        rows.append(
            [
                f"`{tuple(case['shape'])}` {case['case']} {case['dtype']}",
                fs(s["jaxpool_grad"]),
                fs(s["reduce_window_grad"]),
                _times(s["speedup"]),
                fs(s["torch_nchw_grad"]),
                *([] if compact else full),
                f"{fb(s['residual_bytes'])}{'' if compact else per_output}"
                f" vs {fb(s['reduce_window_residual_bytes'])}",
            ]
        )
    header = ["case", "jaxpool grad", "reduce_window grad", "speed-up", "PyTorch NCHW fwd+bwd"]
    if not compact:
        header += [
            "vs PyTorch",
            "jaxpool NCHW grad",
            "vs PyTorch, both NCHW",
            "grad / `x * 2`",
            "forward jaxpool / reduce_window",
        ]
    return _table([*header, "saved for the backward (jaxpool vs reduce_window)"], rows)


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
    body = [[row["name"], row["target"], row["measured"], _mark(row["met"])] for row in rows]
    return _table(["what", "goal", "measured", "reached"], body)


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
    """The whole results.md: every table and, for a full run, the design goals."""
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
    if results and not any(data["settings"]["quick"] for data in results.values()):
        parts += [
            "",
            "## Design goals",
            "",
            "What the implementation was designed to reach on these shapes, and whether this "
            "run reached it. Quick runs (tiny shapes) report none.",
            "",
            targets_table(targets(results)),
        ]
    parts.append("")
    return "\n".join(parts)


# --- the README's generated blocks and docs/performance.md ---------------------------------

BLOCK_START = "<!-- generated: {name} (python -m benchmarks.report --write-readme) -->"
BLOCK_END = "<!-- end generated: {name} -->"
README_BLOCKS = ("headline", "speed")
METHOD = (
    "Every function is compiled and warmed up first, then timed in interleaved rounds, each "
    "round calling every function once in a freshly shuffled order, so that drift on a shared "
    "machine hits all of them alike. Figures are medians; ratios are taken between medians of "
    "the same run. Gradients are the jitted `jax.grad` of `sum(max_pool(x))`; `x * 2` reads "
    "the input and writes an array of its size, the least any gradient must move."
)


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


def _machine_short(machine: dict) -> str:
    return f"{machine['usable_cores']}-core {machine['cpu_model']}"


def _large_window_speedups(scale: dict) -> list[tuple[int, str, float]]:
    """(positions, name, gradient speed-up) of the scale cases pooled axis by axis."""
    found = []
    for case in scale["cases"]:
        positions = math.prod(case["window_shape"])
        f = _scale_figures(case)
        speedup = common.ratio(f["reduce_window_grad"], f["jaxpool_grad"])
        if positions > POSITIONS_LIMIT and speedup is not None:
            found.append((positions, case["name"], speedup))
    return sorted(found)


def _vgg_memory(model: dict | None) -> float | None:
    for case in (model or {}).get("cases", []):
        if case["architecture"] == "vgg":
            variants = case["variants"]
            return common.ratio(
                variants["flax.linen.max_pool"]["temp_bytes"], variants["jaxpool"]["temp_bytes"]
            )
    return None


def headline(results: dict[str, dict], performance_link: str = "docs/performance.md") -> str:
    """The README's opening figures, each taken from the committed results."""
    op = results["op"]
    speedups = [
        _times(op_summary(_op_case(op, name))["speedup"])
        for name in HEADLINE_CASES
        if _op_case(op, name) is not None
    ]
    text = (
        f"In the committed benchmark run on a {_machine_short(op['machine'])}, jaxpool's "
        f"gradient is {' and '.join(speedups)} faster than `reduce_window`'s for "
        f"{' and '.join(HEADLINE_CASES)} windows"
    )
    large = _large_window_speedups(results["scale"]) if "scale" in results else []
    if large:
        low = min(speedup for _, _, speedup in large)
        high = max(speedup for _, _, speedup in large)
        text += (
            f", and {_times(low, 2)} to {_times(high, 2)} faster for {len(large)} larger "
            f"windows, from {large[0][1]} to {large[-1][1]}"
        )
    memory = _vgg_memory(results.get("model"))
    if memory is not None:
        text += (
            f"; a VGG-style training step needs {_times(memory, 2)} less temporary memory than "
            "with `flax.linen.max_pool`"
        )
    return text + f" ([all figures]({performance_link}))."


def readme_speed(results: dict[str, dict], performance_link: str = "docs/performance.md") -> str:
    """The README's small speed table: the float32 op cases and the training steps."""
    op, model = results["op"], results.get("model")
    machine = op["machine"]
    lines = [
        f"Medians of {op['settings']['rounds']} interleaved rounds on a "
        f"{_machine_short(machine)}, jax {machine['versions']['jax']}, "
        f"{machine['date'][:10]}; method, every table and charts in "
        f"[docs/performance.md]({performance_link}).",
        *_load_caveat(machine),
        "",
        op_summary_table(op, dtypes=("float32",), compact=True),
    ]
    if model is not None and "cases" in model:
        rows = []
        for case in model["cases"]:
            ours = case["variants"]["jaxpool"]
            theirs = case["variants"]["flax.linen.max_pool"]
            rows.append(
                [
                    f"{case['name']} `{tuple(case['input_shape'])}`",
                    f"{fs(ours['step']['median'])} vs {fs(theirs['step']['median'])}",
                    f"{fb(ours['temp_bytes'])} vs {fb(theirs['temp_bytes'])}",
                ]
            )
        header = [
            "training step (jitted, SGD)",
            "time, jaxpool vs flax.linen.max_pool",
            "temporary memory, jaxpool vs flax",
        ]
        lines += ["", _table(header, rows)]
    return "\n".join(lines)


def readme_blocks(results: dict[str, dict]) -> dict[str, str]:
    """The README's generated blocks, by name."""
    return {"headline": headline(results), "speed": readme_speed(results)}


def _block_bounds(text: str, name: str) -> tuple[int, int]:
    """Where the generated block ``name``'s content starts and ends (between its markers)."""
    start_marker, end_marker = BLOCK_START.format(name=name), BLOCK_END.format(name=name)
    start = text.index(start_marker) + len(start_marker) + 1
    return start, text.index(end_marker, start)


def current_blocks(text: str) -> dict[str, str]:
    """The README's generated blocks as they stand, by name."""
    found = {}
    for name in README_BLOCKS:
        start, end = _block_bounds(text, name)
        found[name] = text[start:end].strip("\n")
    return found


def replace_blocks(text: str, blocks: dict[str, str]) -> str:
    """``text`` with each block's content replaced, set apart by blank lines (so Markdown
    never reads a marker as part of a table or paragraph)."""
    for name, content in blocks.items():
        start, end = _block_bounds(text, name)
        text = text[:start] + "\n" + content.strip("\n") + "\n\n" + text[end:]
    return text


def performance_doc(results: dict[str, dict], directory: str = "benchmarks/results/cpu") -> str:
    """The whole of docs/performance.md, rendered from committed results."""
    op, scale, model = results["op"], results.get("scale"), results.get("model")
    up = f"../{directory}"
    lines = [
        "# Performance",
        "",
        f"<!-- Generated by `python -m benchmarks.report --write-readme` from {directory}/*.json;",
        "     tests/test_benchmarks.py checks that it matches them. Edit benchmarks/report.py. -->",
        "",
        "Every figure on this page comes from the committed benchmark run in "
        f"[`{directory}/`]({up}/results.md), which also holds every sample, the quartiles and "
        "the per-strategy tables. Profiling notes, and what was tried and did not help, are in "
        "[benchmarks/NOTES.md](../benchmarks/NOTES.md).",
        "",
        "## How it is measured",
        "",
        f"With `python -m benchmarks` on {_machine_line(op)}{_other_runs(results)}. {METHOD}",
        *_load_caveat(op["machine"]),
        "",
        'To measure on your own machine, `pip install -e ".[bench]"` and run '
        "`python -m benchmarks` (`--quick` for a smoke test on tiny shapes): results go to "
        "`benchmarks/results/local/`, which git ignores. PyTorch, Haiku and Equinox are "
        "measured where installed; for PyTorch take the CPU-only wheels, "
        "`pip install torch --index-url https://download.pytorch.org/whl/cpu` (a plain "
        "`pip install torch` pulls about 4 GB of CUDA packages). "
        "`python -m benchmarks --update-committed` replaces the committed run, and "
        "`python -m benchmarks.report --write-readme` then regenerates this page and the "
        "README's figures from it.",
        "",
        "## One pooling op",
        "",
        "Float32; the gradient includes the forward. *vs PyTorch* compares jaxpool in its "
        "default channels-last layout with PyTorch's NCHW `max_pool` forward and backward; "
        "*both NCHW* runs jaxpool with `channel_axis=1`.",
        "",
        op_summary_table(op, dtypes=("float32",)),
        "",
        f"![Forward and backward time of each implementation, per case]({up}/op.png)",
        "",
        "### bfloat16",
        "",
        "The same cases in bfloat16 (jaxpool compares in float32, which holds every bfloat16 "
        "exactly):",
        "",
        op_summary_table(op, dtypes=("bfloat16",)),
        "",
        "### Batch size",
        "",
        f"{op['batch_sweep']['case']}, `(batch, "
        f"{', '.join(map(str, op['batch_sweep']['shape_per_example']))})`, "
        f"{op['batch_sweep']['quantity']} (`median [q1, q3]`):",
        "",
        batch_table(op),
        "",
        f"![Gradient time against batch size]({up}/batch.png)",
    ]
    if model is not None and "cases" in model:
        lines += [
            "",
            "## Training steps",
            "",
            "Forward, backward and SGD update of a small Flax linen CNN, jitted, pooling with "
            "`jaxpool.max_pool` against `flax.linen.max_pool`, everything else identical "
            "(`median [q1, q3]`; temporary memory is the compiled step's):",
            "",
            model_table(model),
            "",
            f"![Training step time and memory]({up}/model.png)",
        ]
    if scale is not None:
        lines += [
            "",
            "## Cost and window size",
            "",
            f"Windows of more than {POSITIONS_LIMIT} positions are pooled axis by axis (see "
            "[design.md](design.md#strategies)), so trace, compile time and memory grow with "
            "the logarithm of the window, not with its number of positions, and the backward "
            "still saves only the switches. Float32, NHWC; compile = trace, lower and compile "
            "of the jitted gradient from a fresh function; peak = the process's maximum "
            "resident memory, each measured in its own subprocess capped at "
            f"{fb(scale['settings']['memory_limit_bytes'])} and "
            f"{scale['settings']['compile_timeout_s']} s{_repeated_cases(op, scale)}:",
            "",
            scale_table(scale),
            "",
            "The chart shows each cost as a ratio, jaxpool's over `reduce_window`'s "
            "(1.0 = equal, below 1 = jaxpool smaller or faster):",
            "",
            f"![jaxpool against reduce_window as the window grows]({up}/scale.png)",
            "",
            "### Global windows",
            "",
            "Against `jnp.argmax` over the flattened window and `jax.grad` of `jnp.max` over "
            "the spatial axes:",
            "",
            global_table(scale),
            "",
            "### Layouts",
            "",
            "Channels-last against channels-first, batched and unbatched (jaxpool alone):",
            "",
            layout_table(scale),
        ]
    gpu = gpu_report.load()
    if gpu is not None:
        link = f"../{gpu_report.RESULTS_DIR.relative_to(common.REPO_ROOT).as_posix()}/results.md"
        lines += ["", *gpu_report.performance_section(gpu, link, model_table)]
    accelerators = accel_report.load()
    if accelerators is not None:
        link = f"../{accel_report.RESULTS_DIR.relative_to(common.REPO_ROOT).as_posix()}/results.md"
        lines += ["", *accel_report.performance_section(accelerators, link)]
    return "\n".join(lines) + "\n"


def _repeated_cases(op: dict, scale: dict) -> str:
    """A note naming the scale cases that repeat an op case (measured again, so they differ)."""
    op_names = {case["case"] for case in op["cases"]}
    repeated = [case["name"] for case in scale["cases"] if case["name"] in op_names]
    if not repeated:
        return ""
    return (
        f". {' and '.join(repeated)} repeat{'s' if len(repeated) == 1 else ''} an op-suite case, "
        "measured again in this suite's own subprocesses"
    )


def render_docs(directory: Path = RESULTS_DIR) -> tuple[str, str]:
    """README.md and docs/performance.md as the results in ``directory`` make them."""
    results = load(directory)
    relative = Path(directory).resolve().relative_to(common.REPO_ROOT).as_posix()
    readme = replace_blocks(README.read_text(), readme_blocks(results))
    return readme, performance_doc(results, relative)


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
            axis.set_xlim(left=0)
            axis.set_xlabel("fwd+bwd, ms (median, IQR)")
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
        axis.set_ylabel("ms (median; log scale)")
        axis.set_title(
            f"{sweep['case']} (batch, {sweep['shape_per_example']}): gradient", fontsize=9
        )
        axis.legend(fontsize=8)
        save(figure, "batch.png")

    scale = results.get("scale")
    if scale is not None:
        # Ratios against reduce_window on linear axes from zero: a bar's length is the ratio,
        # so 0.26 GiB against 0.26 GiB reads as 1.0, not as several times taller.
        figure, axes = plt.subplots(1, 3, figsize=(14, 4.8), sharey=True)
        names = [c["name"] for c in scale["cases"]]
        figures = [_scale_figures(c) for c in scale["cases"]]
        panels = (
            ("compile", "gradient trace + compile time"),
            ("peak", "peak process memory"),
            ("grad", "jitted gradient time"),
        )
        for axis, (key, title) in zip(axes, panels):
            ratios = [common.ratio(f[f"jaxpool_{key}"], f[f"reduce_window_{key}"]) for f in figures]
            positions = range(len(names))
            axis.barh(
                positions,
                [math.nan if r is None else r for r in ratios],
                color=["tab:blue" if r is not None and r <= 1 else "tab:orange" for r in ratios],
            )
            axis.axvline(1.0, color="black", linewidth=1, linestyle="--")
            for position, value, f in zip(positions, ratios, figures):
                if value is None:
                    failed = [
                        f"{implementation} {f[f'{implementation}_status']}"
                        for implementation in ("jaxpool", "reduce_window")
                        if f[f"{implementation}_status"] != "ok"
                    ]
                    label = ", ".join(failed) or "not measured"
                    axis.text(0.05, position, label, va="center", fontsize=8, color="tab:red")
                else:
                    axis.text(value, position, f" {value:.2f}", va="center", fontsize=8)
            finite = [r for r in ratios if r is not None]
            axis.set_xlim(0, max([1.0, *finite]) * 1.2)
            axis.set_yticks(list(positions), names, fontsize=8)
            axis.invert_yaxis()
            axis.set_title(f"{title}\njaxpool / reduce_window", fontsize=9)
            axis.set_xlabel("ratio (1.0 = equal; below 1: jaxpool less)", fontsize=8)
            axis.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.1f"))
            axis.tick_params(axis="x", labelsize=8)
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
    readme, performance = render_docs(args.dir)
    if args.print_readme:
        for name, block in current_blocks(readme).items():
            print(f"--- README.md, {name}\n{block}\n")
        print(f"--- {PERFORMANCE_DOC.relative_to(common.REPO_ROOT)}\n{performance}", end="")
        return 0
    if args.write_readme:
        README.write_text(readme)
        PERFORMANCE_DOC.write_text(performance)
        return 0
    stale = [
        path.name
        for path, text in ((README, readme), (PERFORMANCE_DOC, performance))
        if not path.exists() or path.read_text() != text
    ]
    if stale:
        print(f"{', '.join(stale)} differ from {args.dir}: run --write-readme", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
