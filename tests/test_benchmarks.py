"""The benchmark harness runs and writes what it promises; the README shows the committed figures.

These tests check files, keys and the README text, never a timing. The quick
run takes tiny shapes and three rounds; optional peers (torch, flax, haiku,
equinox, matplotlib, tqdm) are used where installed, and CI has none of them,
so what depends on one is checked only where it is importable.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # plain `pytest` puts tests/, not the checkout, on the path
    sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402
from benchmarks import scale  # noqa: E402

QUICK_ROUNDS = 3


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out), "--no-progress"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return out, completed


def _check_stats(entry: dict) -> None:
    assert set(entry) >= {"median", "q1", "q3", "min", "max", "n", "samples"}
    assert entry["n"] == len(entry["samples"]) == QUICK_ROUNDS
    assert entry["min"] <= entry["q1"] <= entry["median"] <= entry["q3"] <= entry["max"]


def test_quick_run_says_what_it_measured(quick_run):
    out, completed = quick_run
    assert "Measuring on JAX's cpu backend" in completed.stderr
    assert "## Targets" in completed.stdout
    machine = json.loads((out / "op.json").read_text())["machine"]
    assert set(machine) >= {"cpu_model", "cpu_count", "platform", "python", "versions", "device"}
    assert set(machine["versions"]) >= {"jax", "jaxlib", "numpy", "flax", "torch"}
    assert machine["device"]["platform"] == "cpu"


def test_quick_op_suite_json(quick_run):
    out, _ = quick_run
    op = json.loads((out / "op.json").read_text())
    assert op["suite"] == "op" and op["settings"]["quick"]
    for case in op["cases"]:
        assert case["errors"] == {}
        assert all(case["values_match_jaxpool"].values())
        timings = case["timings"]
        for name in ("jaxpool", "jaxpool (jvp)", "jaxpool channels-first", "reduce_window"):
            assert set(timings[name]) == {"fwd", "fwd+bwd", "bwd"}
            for entry in timings[name].values():
                _check_stats(entry)
        _check_stats(timings[report.FLOOR]["fwd"])
        assert ("torch NCHW" in timings) == _installed("torch")
        assert ("flax.linen.max_pool" in timings) == _installed("flax")
        residuals = case["residuals"]
        assert residuals["jaxpool"]["leaves"] and residuals["jaxpool"]["described"]
        assert residuals["reduce_window"]["bytes"] == case["input_bytes"]
    points = op["batch_sweep"]["points"]
    assert [p["batch"] for p in points] == sorted(p["batch"] for p in points)
    for point in points:
        _check_stats(point["timings"]["jaxpool"])


def test_quick_scale_suite_json(quick_run):
    out, _ = quick_run
    results = json.loads((out / "scale.json").read_text())
    for case in results["cases"]:
        for implementation in scale.IMPLEMENTATIONS:
            entry = case["compile"][implementation]
            assert entry["status"] == "ok", entry
            assert entry["peak_rss_bytes"] >= entry["baseline_rss_bytes"] > 0
            assert entry["grad_trace_lower_compile_s"] >= entry["grad_compile_s"] > 0
        assert case["run"]["status"] == "ok", case["run"]
        names = {"jaxpool grad", "jaxpool fwd", "reduce_window grad", "reduce_window fwd"}
        if case["global"]:
            names |= {"jaxpool with_argmax", "jnp.argmax", "jnp.max grad"}
        assert set(case["run"]["timings"]) == names
    for layout in results["layouts"]:
        assert layout["status"] == "ok", layout
        kinds = ("fwd", "grad", "bwd")
        assert {f"{n} {k}" for n in ("NHWC", "NCHW", "HWC", "CHW") for k in kinds} == set(
            layout["timings"]
        )


def test_quick_model_suite_json(quick_run):
    out, _ = quick_run
    model = json.loads((out / "model.json").read_text())
    if not _installed("flax"):
        assert "skipped" in model
        return
    for case in model["cases"]:
        for variant in ("jaxpool", "flax.linen.max_pool"):
            assert case["variants"][variant]["temp_bytes"] > 0
            _check_stats(case["variants"][variant]["step"])


def test_quick_run_writes_markdown_and_charts(quick_run):
    out, _ = quick_run
    text = (out / "results.md").read_text()
    for heading in ("## Op suite", "## Scale suite", "## Model suite", "## Targets"):
        assert heading in text
    assert any(mark in text for mark in ("| met |", "| missed |"))
    charts = ["op.png", "batch.png", "scale.png"] + (["model.png"] if _installed("flax") else [])
    for name in charts:
        path = out / name
        assert path.exists() == _installed("matplotlib"), name
        if path.exists():
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_failing_subprocess_is_a_result(tmp_path):
    case = scale.QUICK_CASES[0]
    settings = {"memory_limit_bytes": 2**30, "rounds": 1, "warmup": 1}
    task = scale._task("compile", case, settings, implementation="jaxpool")
    assert scale.run_worker(task, timeout_s=0.01)["status"] == "timeout"
    starved = {**task, "memory_limit_bytes": 64 * 2**20}  # too little to import jax
    assert scale.run_worker(starved, timeout_s=120)["status"] in ("oom", "error")


def test_readme_speed_section_is_rendered_from_committed_results():
    results = report.load(report.RESULTS_DIR)
    assert set(results) == set(report.SUITES), "commit a full run under benchmarks/results/cpu"
    assert not any(data["settings"]["quick"] for data in results.values())
    expected = report.readme_section(results)
    actual = report.current_readme_section((ROOT / "README.md").read_text())
    assert actual == expected, "run: python -m benchmarks.report --write-readme"
