"""The accelerator suite's tables: ``results.md`` of a run and its section in docs/performance.md.

Apart from ``benchmarks/accel.py`` (which compiles) so that the report, the harness and
the docs can render a run without importing the suites.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from benchmarks import common

RESULTS_DIR = common.REPO_ROOT / "benchmarks" / "results" / "accel"
DTYPES = ("float32", "bfloat16")


# --- the report -----------------------------------------------------------------------------


def _index(target: dict) -> dict[tuple, dict]:
    return {
        (r["group"], r["case"], r["dtype"], r["implementation"], r["kind"]): r
        for r in target.get("records", [])
    }


def _value(record: dict | None, key: str):
    return record.get(key) if record and record.get("status") == "ok" else None


def _bytes_ratio(index, group, case, dtype, top, bottom) -> float | None:
    """Bytes accessed of program ``top`` over ``bottom``, each (implementation, kind)."""
    return common.ratio(
        _value(index.get((group, case, dtype, *top)), "bytes_accessed"),
        _value(index.get((group, case, dtype, *bottom)), "bytes_accessed"),
    )


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1e6:.0f}"


def _flags(record: dict | None) -> str:
    if not record or record.get("status") != "ok":
        return "n/a" if not record else record["status"]
    flags = record["flagged"]
    return ", ".join(f"{op} {n}" for op, n in flags.items()) or "none"


def _cases(target: dict, group: str) -> list[str]:
    seen: list[str] = []
    for record in target.get("records", []):
        if record["group"] == group and record["case"] not in seen:
            seen.append(record["case"])
    return seen


def op_table(name: str, target: dict, dtype: str) -> str:
    index = _index(target)
    tpu = target.get("platform") == "tpu"
    header = [
        "case",
        "fwd bytes",
        "fwd+switches bytes",
        "grad bytes",
        "bwd bytes",
        "grad / floor",
        "grad loops",
        *PAIR_COLUMNS,
    ]
    if tpu:
        header.insert(5, "grad est. time")
    rows = []
    for case in _cases(target, "op"):
        if (("op", case, dtype, "jaxpool", "fwd")) not in index:
            continue

        def get(implementation, kind, key, case=case):
            return _value(index.get(("op", case, dtype, implementation, kind)), key)

        row = [
            case,
            *(
                _x(_bytes_ratio(index, "op", case, dtype, top, bottom))
                for top, bottom in (
                    (("jaxpool", "fwd"), ("reduce_window", "fwd")),
                    (("jaxpool", "fwd+switches"), ("reduce_window", "fwd")),
                    (("jaxpool", "grad"), ("reduce_window", "grad")),
                    (("jaxpool", "bwd"), ("reduce_window", "bwd")),
                    (("jaxpool", "grad"), ("floor", "fwd")),
                )
            ),
            f"{get('jaxpool', 'grad', 'loops')} vs {get('reduce_window', 'grad', 'loops')}",
            *_pair(
                index.get(("op", case, dtype, "jaxpool", "grad")),
                index.get(("op", case, dtype, "reduce_window", "grad")),
            ),
        ]
        if tpu:
            row.insert(
                5,
                f"{common.format_seconds(get('jaxpool', 'grad', 'optimal_seconds'))} vs "
                f"{common.format_seconds(get('reduce_window', 'grad', 'optimal_seconds'))}",
            )
        rows.append(row)
    return _table(header, rows)


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows])


# The columns _pair fills: jaxpool's gradient against its reference (rw: reduce_window; in the
# model table, flax.linen.max_pool).
PAIR_COLUMNS = ("temp MB", "kernels", "compile s", "scatter/sort/gather (jaxpool; reference)")


def _pair(ours: dict | None, theirs: dict | None) -> list[str]:
    """Temporary memory, kernels, compile seconds and flagged ops of two programs side by side."""
    return [
        f"{_mb(_value(ours, 'temp_bytes'))} vs {_mb(_value(theirs, 'temp_bytes'))}",
        f"{_value(ours, 'kernels')} vs {_value(theirs, 'kernels')}",
        f"{_seconds(_value(ours, 'compile_s'))} vs {_seconds(_value(theirs, 'compile_s'))}",
        f"{_flags(ours)}; {_flags(theirs)}",
    ]


def _pair_table(target: dict, group: str, kind: str, reference: str, header: list[str]) -> str:
    """One row per case of ``group``: bytes ratios of the forward (where compiled) and of
    ``kind``, jaxpool over ``reference``, then _pair's columns for ``kind``."""
    index = _index(target)
    rows = []
    for case in _cases(target, group):
        ours = index.get((group, case, "float32", "jaxpool", kind))
        theirs = index.get((group, case, "float32", reference, kind))
        ratios = [
            _bytes_ratio(index, group, case, "float32", ("jaxpool", k), (reference, k))
            for k in ("fwd", kind)
            if (group, case, "float32", "jaxpool", k) in index
        ]
        rows.append([case, *map(_x, ratios), *_pair(ours, theirs)])
    return _table([*header, *PAIR_COLUMNS], rows)


def scale_table(target: dict) -> str:
    return _pair_table(
        target, "scale", "grad", "reduce_window", ["window", "fwd bytes", "grad bytes"]
    )


def deterministic_table(target: dict) -> str:
    index = _index(target)
    rows = []
    for case in _cases(target, "deterministic"):
        cells = [case]
        for implementation in ("jaxpool", "reduce_window"):
            record = index.get(("deterministic", case, "float32", implementation, "grad"))
            if record is None or record["status"] != "ok":
                cells += [record["status"] if record else "n/a", "", "", ""]
                continue
            cells += [
                "yes",
                str(record["kernels"]),
                f"{record['bytes_accessed'] / 1e6:.0f}",
                _flags(record),
            ]
        rows.append(cells)
    header = ["case"] + [
        f"{implementation}: {column}"
        for implementation in ("jaxpool", "rw")
        for column in ("compiles", "kernels", "MB accessed", "scatter/sort/gather")
    ]
    return _table(header, rows)


def model_table(target: dict) -> str:
    header = ["model", "step bytes (jaxpool / flax)"]
    return _pair_table(target, "model", "train step", "flax.linen.max_pool", header)


LEGEND = (
    "Bytes columns are ratios of bytes accessed, jaxpool's over `reduce_window`'s (`jax.grad` "
    "of it for gradients; the VJP function of each applied to a cotangent for *bwd*); "
    "*fwd+switches* is `max_pool_with_argmax` over `reduce_window`'s values-only forward; "
    "*grad / floor* is jaxpool's gradient over `x * 2` (read the input, write an array of its "
    "size). The columns from *temp MB* on describe the gradient (the whole training step in "
    "the model table), jaxpool's vs the reference's: temporary memory, kernels (the optimised "
    "entry computation's fusions and other ops), compile seconds (this machine's CPU "
    "compiling for the target) and any scatter, select-and-scatter, sort or gather anywhere "
    "in the optimised HLO; *loops* counts `while` ops."
)


def markdown(data: dict) -> str:
    """results.md of an accelerator-suite run."""
    lines = [
        "# Accelerator suite: deviceless compiles",
        "",
        data["what"],
        f"Versions: {', '.join(f'{k} {v}' for k, v in data['versions'].items() if v)}.",
        "",
        LEGEND,
    ]
    for name, target in data["targets"].items():
        lines += ["", f"## {name}", ""]
        if target["status"] != "ok":
            why = target.get("reason") or (target.get("message") or "").strip().splitlines()[-1:]
            lines.append(f"Not compiled: {target['status']}: {''.join(why)[:300]}")
            continue
        source = next((r["cost_source"] for r in target["records"] if r["status"] == "ok"), "")
        lines.append(
            f"Device `{target['device_kind']}`; bytes from {source}; "
            f"{len(target['records'])} programs compiled in {target['wall_s']:.0f} s."
        )
        for dtype in DTYPES:
            if any(r["group"] == "op" and r["dtype"] == dtype for r in target["records"]):
                lines += ["", f"### Op suite, {dtype}", "", op_table(name, target, dtype)]
        if _cases(target, "deterministic"):
            lines += [
                "",
                "### Gradient with --xla_gpu_deterministic_ops=true (float32)",
                "",
                deterministic_table(target),
            ]
        if _cases(target, "scale"):
            lines += ["", "### Scale suite windows (float32)", "", scale_table(target)]
        if _cases(target, "model"):
            lines += ["", "### Training steps (float32)", "", model_table(target)]
        errors = [r for r in target["records"] if r["status"] != "ok"]
        if errors:
            lines += ["", "Failed compiles:", ""]
            lines += [
                f"- {r['group']} {r['case']} {r['dtype']} {r['implementation']} {r['kind']}: "
                f"{r['message'][:200]}"
                for r in errors
            ]
    return "\n".join(lines) + "\n"


def load(directory: Path = RESULTS_DIR) -> dict | None:
    """A results folder's accel.json, None where there is none."""
    path = Path(directory) / "accel.json"
    return json.loads(path.read_text()) if path.exists() else None


def performance_section(data: dict, link: str) -> list[str]:
    """The lines docs/performance.md gives the committed accelerator run (``link``: its
    results.md, relative to docs/)."""
    lines = [
        "## On a GPU and TPUs, as their compilers see it",
        "",
        "These figures are not timings: nothing ran on an accelerator. Each program was "
        "compiled on this CPU *for* an NVIDIA H100 (JAX's CUDA plugin with XLA's H100 target "
        "description) and for a TPU v5e and v6e (libtpu's compile-only client), and the "
        "numbers are the compilers' own: bytes accessed (on TPU the TPU compiler's cost model, "
        "on the GPU XLA's HLO cost analysis of the GPU-optimised module) and temporary memory. "
        "They say how much memory traffic each compiler plans, which bounds a pooling op's "
        "time on a bandwidth-bound accelerator; they are estimates, not measurements. "
        f"`python -m benchmarks --suite accel` makes them ([all tables]({link}), with the "
        "bfloat16 cases, the backward alone, kernels, loops, compile times, the scale suite's "
        "windows and the training steps).",
        "",
        "Float32, jaxpool's bytes accessed over `lax.reduce_window`'s (`jax.grad` of it for "
        "the gradient), and the gradient's temporary memory, jaxpool vs `reduce_window`:",
        "",
    ]
    targets = {n: t for n, t in data["targets"].items() if t.get("status") == "ok"}
    header = ["case"] + [
        f"{name}: {column}" for name in targets for column in ("fwd", "grad", "grad temp MB")
    ]
    rows = []
    cases = next((_cases(t, "op") for t in targets.values()), [])
    for case in cases:
        row = [case]
        for target in targets.values():
            index = _index(target)
            key = ("op", case, "float32")
            row += [
                _x(_bytes_ratio(index, "op", case, "float32", ("jaxpool", k), ("reduce_window", k)))
                for k in ("fwd", "grad")
            ]
            row.append(
                f"{_mb(_value(index.get((*key, 'jaxpool', 'grad')), 'temp_bytes'))} vs "
                f"{_mb(_value(index.get((*key, 'reduce_window', 'grad')), 'temp_bytes'))}"
            )
        rows.append(row)
    lines.append(_table(header, rows))
    lines += ["", *_ranges(targets)]
    failures = [
        f"{name}, {r['implementation']} {r['kind']} of {r['case']} ({r['dtype']}): "
        f"{'the compiler aborted' if r['status'] == 'crash' else 'refused'}, "
        f"`{_first_words(r['message'])}`"
        for name, t in targets.items()
        for r in t["records"]
        if r["status"] != "ok"
    ]
    if failures:
        lines += ["", "Programs that did not compile:", "", *(f"- {f}" for f in failures)]
    deterministic = [
        r for t in targets.values() for r in t["records"] if r["group"] == "deterministic"
    ]
    if deterministic:
        ours = [r for r in deterministic if r["implementation"] == "jaxpool"]
        clean = sum(r["status"] == "ok" and not r["flagged"] for r in ours)
        theirs = sorted(
            {
                op
                for r in deterministic
                if r["implementation"] != "jaxpool"
                for op in r.get("flagged", {})
            }
        )
        lines += [
            "",
            "With `--xla_gpu_deterministic_ops=true`, jaxpool's gradient compiles for the H100 "
            f"with no scatter, sort or gather in {clean} of {len(ours)} op cases; "
            f"`reduce_window`'s has {', '.join(theirs) or 'none of them'}.",
        ]
    return lines


def strip_log_prefix(line: str) -> str:
    """A compiler's log line without its prefix: "F1201 18:49:21.904433 570 " (level, date,
    time, thread)."""
    return re.sub(r"^[A-Z]\d{4} [\d:.]+\s+\d+\s+", "", line)


def _first_words(message: str) -> str:
    """A compiler's message without its log prefix or its details."""
    return strip_log_prefix(message.split(" :: ")[0])[:160]


def _span(values: list[float]) -> str:
    return f"{min(values):.2f}x to {max(values):.2f}x" if values else "n/a"


def _ranges(targets: dict[str, dict]) -> list[str]:
    """One sentence per target: the spread of jaxpool's byte ratios over the op cases."""
    lines = []
    for name, target in targets.items():
        index = _index(target)
        parts = []
        for dtype in DTYPES:
            spans = []
            for kind, what in (("fwd", "values-only forward"), ("grad", "gradient")):
                ratios = [
                    _bytes_ratio(
                        index, "op", case, dtype, ("jaxpool", kind), ("reduce_window", kind)
                    )
                    for case in _cases(target, "op")
                ]
                spans.append(f"{what} {_span([r for r in ratios if r is not None])}")
            parts.append(f"{dtype}: {' and '.join(spans)}")
        lines.append(
            f"- {name}: jaxpool's bytes over `reduce_window`'s across the op cases, "
            f"{'; '.join(parts)}."
        )
    return lines


def write_report(directory: Path) -> str:
    data = json.loads((Path(directory) / "accel.json").read_text())
    text = markdown(data)
    (Path(directory) / "results.md").write_text(text)
    return text
