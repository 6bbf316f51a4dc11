"""The benchmark harness runs and writes what it promises; the README shows the committed figures.

These tests check files, keys and the README text, never a timing. The quick
run takes tiny shapes and three rounds; optional peers (torch, flax, haiku,
equinox, matplotlib, tqdm) are used where installed, and CI has none of them,
so what depends on one is checked only where it is importable.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # plain `pytest` puts tests/, not the checkout, on the path
    sys.path.insert(0, str(ROOT))

from benchmarks import family  # noqa: E402
from benchmarks import harness  # noqa: E402
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


@pytest.mark.slow
def test_quick_run_says_what_it_measured(quick_run):
    out, completed = quick_run
    assert "Measuring on JAX's cpu backend" in completed.stderr
    # Goals are about the full run's shapes: a smoke test on toy shapes reports none.
    for text in (completed.stdout, completed.stderr):
        assert "## Design goals" not in text and "| no |" not in text
        assert "missed" not in text and "target" not in text.lower()
    machine = json.loads((out / "op.json").read_text())["machine"]
    assert set(machine) >= {"cpu_model", "cpu_count", "platform", "python", "versions", "device"}
    assert set(machine["versions"]) >= {"jax", "jaxlib", "numpy", "flax", "torch"}
    assert machine["device"]["platform"] == "cpu"


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_quick_run_writes_markdown_and_charts(quick_run):
    out, _ = quick_run
    text = (out / "results.md").read_text()
    for heading in ("## Op suite", "## Scale suite", "## Model suite"):
        assert heading in text
    assert "## Design goals" not in text
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


def test_the_committed_run_reports_its_design_goals_neutrally():
    results = report.load(report.RESULTS_DIR)
    text = report.markdown(results)
    assert "## Design goals" in text
    assert "issue" not in text.lower() and "missed" not in text
    assert {row["met"] for row in report.targets(results)} <= {True, False}


def _git_ignores(path: Path) -> bool:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    relative = path.resolve().relative_to(ROOT).as_posix()
    completed = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", relative], cwd=ROOT, check=False
    )
    return completed.returncode == 0


@pytest.mark.parametrize("quick", [[], ["--quick"]])
def test_a_plain_run_writes_where_git_ignores_it(quick):
    args = harness.parse_arguments(quick, ("op", "scale", "model"))
    out = harness.output_directory(args, "cpu")
    assert out.is_relative_to(harness.LOCAL_RESULTS)
    assert _git_ignores(out / "op.json")
    assert not _git_ignores(report.RESULTS_DIR / "op.json")


def test_only_update_committed_writes_the_committed_results():
    args = harness.parse_arguments(["--update-committed"], ("op",))
    assert harness.output_directory(args, "cpu") == report.RESULTS_DIR
    with pytest.raises(SystemExit):
        harness.output_directory(
            harness.parse_arguments(["--update-committed", "--quick"], ("op",)), "cpu"
        )


def _benchmark_imports(path: Path) -> set[str]:
    """The benchmarks modules that ``path`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "benchmarks":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("benchmarks."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("benchmarks.")}
    return found


def test_benchmark_modules_do_not_import_each_other_in_a_circle():
    modules = {path.stem: path for path in (ROOT / "benchmarks").glob("*.py")}
    graph = {name: _benchmark_imports(path) & set(modules) for name, path in modules.items()}

    def reaches(start, goal, seen=()):
        return any(
            n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in graph[start]
        )

    assert [name for name in graph if reaches(name, name)] == []


def test_readme_and_performance_page_are_rendered_from_committed_results():
    results = report.load(report.RESULTS_DIR)
    assert set(results) == set(report.SUITES), "commit a full run under benchmarks/results/cpu"
    assert not any(data["settings"]["quick"] for data in results.values())
    readme, performance = report.render_docs(report.RESULTS_DIR)
    hint = "run: python -m benchmarks.report --write-readme"
    assert (ROOT / "README.md").read_text() == readme, hint
    assert report.PERFORMANCE_DOC.read_text() == performance, hint


def test_a_headline_figure_that_disagrees_with_the_results_is_caught():
    results = report.load(report.RESULTS_DIR)
    text = (ROOT / "README.md").read_text()
    blocks = report.current_blocks(text)
    figure = f"{report.op_summary(report._op_case(results['op'], '2x2/2 VALID'))['speedup']:.1f}x"
    assert figure in blocks["headline"]
    wrong = text.replace(blocks["headline"], blocks["headline"].replace(figure, "7.1x"))
    assert report.replace_blocks(wrong, report.readme_blocks(results)) == text


# A figure outside the generated blocks: "7.1 and 10.2 times faster", "5.8x", "12.4 MiB", "3 ms".
FIGURE = re.compile(
    r"\b\d+(\.\d+)?(x|\s*times)\s+(faster|slower|less|more|smaller|larger)\b"
    r"|\b\d+(\.\d+)?\s*(ms|us|µs|s|KiB|MiB|GiB|MB|GB)\b(?!-)"
)


def test_every_readme_figure_is_inside_a_generated_block():
    text = (ROOT / "README.md").read_text()
    for name in report.README_BLOCKS:
        start, end = report._block_bounds(text, name)
        text = text[:start] + text[end:]
    text = text.replace("about 4 GB of CUDA packages", "")  # a download size, not a measurement
    assert [match.group(0) for match in FIGURE.finditer(text)] == []
    assert FIGURE.search("the gradient is 7.1 and 10.2 times faster") is not None


# benchmarks/family.py's committed results: a full run, rendered as committed.
FAMILY_RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "cpu"


def test_committed_family_results_are_a_full_run_rendered_as_committed():
    results = json.loads((FAMILY_RESULTS / "family.json").read_text())
    assert not results["settings"]["quick"] and results["settings"]["rounds"] >= 5
    assert [case["name"] for case in results["cases"]] == [case[0] for case in family.CASES]
    assert (FAMILY_RESULTS / "family.md").read_text() == family.markdown(results)


# --- the accelerator suite and the GPU check: their plumbing, without an accelerator -------

HLO = """HloModule jit_f, entry_computation_layout={(f32[4,8]{1,0})->f32[4,8]{1,0}}

%fused_select (p: f32[4,8]) -> f32[4,8] {
  %p = f32[4,8]{1,0} parameter(0)
  ROOT %s = f32[4,8]{1,0} select(%c, %p, %p), metadata={op_name="jit(f)/sort(x)"}
}

%body (t: (s32[], f32[4,8])) -> (s32[], f32[4,8]) {
  %g = (s32[], f32[4,8]{1,0}) scatter(%a, %b, %c), to_apply=%add
}

ENTRY %main (x.1: f32[4,8], y: s8[4,8]) -> f32[4,8] {
  %x.1 = f32[4,8]{1,0:T(8,128)} parameter(0)
  %y = s8[4,8]{1,0} parameter(1)
  %f = f32[4,8]{1,0} fusion(%x.1), kind=kLoop, calls=%fused_select
  %w = (s32[], f32[4,8]{1,0}) while(%t), condition=%cond, body=%body
  %e = f32[4,8]{1,0} get-tuple-element(%w), index=1
  ROOT %c = f32[4,8]{1,0} copy(%e)
}
"""


def test_hlo_summary_counts_kernels_loops_and_flagged_ops():
    from benchmarks import accel

    summary = accel.hlo_summary(HLO)
    assert summary["kernels"] == 3 and summary["fusions"] == 1
    assert summary["other_ops"] == {"copy": 1, "while": 1}
    assert summary["loops"] == 1
    assert summary["flagged"] == {"scatter": 1}  # "sort" in metadata is no op
    assert summary["parameters"] == ["f32[4,8]", "s8[4,8]"]


def test_the_accelerator_suite_runs_only_when_named_and_writes_its_own_folder():
    suites = ("op", "scale", "model", "accel")
    assert harness.chosen_suites(harness.parse_arguments([], suites), suites) == suites[:3]
    named = harness.parse_arguments(["--suite", "accel"], suites)
    assert harness.chosen_suites(named, suites) == ("accel",)
    label = harness.SEPARATE_SUITES["accel"]
    assert harness.output_directory(named, label) == harness.LOCAL_RESULTS / "accel"
    assert _git_ignores(harness.output_directory(named, label) / "accel.json")
    committed = harness.parse_arguments(["--suite", "accel", "--update-committed"], suites)
    assert harness.output_directory(committed, label) == harness.COMMITTED_RESULTS / "accel"


def test_the_committed_accelerator_run_renders_its_results_md():
    from benchmarks import accel_report

    data = accel_report.load()
    if data is None:
        pytest.skip("no committed accelerator run")
    assert not data["settings"]["quick"]
    assert (accel_report.RESULTS_DIR / "results.md").read_text() == accel_report.markdown(data)
    text = accel_report.markdown(data).lower()
    assert "not timings" in text or "nothing here is a timing" in text
    assert "missed" not in text and "target met" not in text


def test_gpu_check_compares_measured_ratios_with_predicted_bytes():
    from benchmarks import gpu_check

    def record(implementation, kind, nbytes):
        return {
            "group": "op",
            "case": "2x2/2 VALID",
            "dtype": "float32",
            "shape": [2, 8, 8, 4],
            "implementation": implementation,
            "kind": kind,
            "status": "ok",
            "bytes_accessed": nbytes,
        }

    accel = {
        "targets": {
            "H100": {
                "records": [
                    record("jaxpool", "fwd", 100.0),
                    record("reduce_window", "fwd", 100.0),
                    record("jaxpool", "grad", 50.0),
                    record("reduce_window", "grad", 200.0),
                    record("floor", "fwd", 1000.0),
                ]
            }
        }
    }

    def timing(seconds):
        return {"median": seconds}

    measured = {
        "machine": {"device": {"kind": "NVIDIA H200"}},
        "cases": [
            {
                "case": "2x2/2 VALID",
                "dtype": "float32",
                "shape": [2, 8, 8, 4],
                "timings": {
                    "jaxpool": {"fwd": timing(2.0), "fwd+bwd": timing(1.0)},
                    "reduce_window": {"fwd": timing(1.0), "fwd+bwd": timing(2.0)},
                    "x * 2 (floor)": {"fwd": timing(10.0)},
                },
            }
        ],
    }
    rows = {row["kind"]: row for row in gpu_check.compare(measured, accel)["rows"]}
    assert rows["fwd"]["measured_ratio"] == 2.0 and rows["fwd"]["predicted_bytes_ratio"] == 1.0
    assert rows["fwd+bwd"]["measured_over_predicted"] == 0.5 / 0.25
    assert rows["fwd+bwd"]["bandwidth_bound_jaxpool_s"] == 50.0 / 100.0
    assert rows["bwd"]["predicted_bytes_ratio"] is None
    assert "| 2x2/2 VALID | float32 | fwd+bwd |" in gpu_check.comparison_markdown(
        gpu_check.compare(measured, accel)
    )


def test_the_committed_gpu_check_ran_on_a_gpu_passed_and_is_rendered():
    from benchmarks import gpu_check
    from benchmarks import gpu_report

    data = gpu_report.load()
    if data is None:
        pytest.skip("no committed GPU check")
    summary = data["summary"]
    assert not summary["dry_run"]
    assert summary["steps"]["environment"]["result"]["backend"] == "gpu"
    # Every step ran, the tests without a failure.
    assert all(step["status"] == "ok" for step in summary["steps"].values())
    assert " failed" not in summary["steps"]["tests"]["tail"][-1]
    # The comparison is the one the committed op suite makes, every case in both dtypes.
    op = json.loads((gpu_report.RESULTS_DIR / "op.json").read_text())
    accel = json.loads(gpu_check.PREDICTIONS.read_text())
    assert gpu_check.compare(op, accel) == data["comparison"]
    from benchmarks import op as op_suite

    measured = [(case["case"], case["dtype"]) for case in op["cases"]]
    assert sorted(measured) == sorted(
        (case.name, dtype) for case, dtype in op_suite.runs(quick=False)
    )
    assert (gpu_report.RESULTS_DIR / "comparison.md").read_text() == (
        gpu_check.comparison_markdown(data["comparison"])
    )
