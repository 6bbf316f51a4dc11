"""benchmarks/family.py's committed results: a full run, rendered as committed."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import family

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "cpu"


def test_committed_family_results_are_a_full_run_rendered_as_committed():
    results = json.loads((RESULTS / "family.json").read_text())
    assert not results["settings"]["quick"] and results["settings"]["rounds"] >= 5
    assert [case["name"] for case in results["cases"]] == [case[0] for case in family.CASES]
    assert (RESULTS / "family.md").read_text() == family.markdown(results)
