"""The examples of docs/gradients.md run and print what the page says."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GRADIENTS = ROOT / "docs" / "gradients.md"


def _python_blocks(text):
    """(line number, body) of every ```python block."""
    return [
        (text[: match.start()].count("\n") + 2, match.group(1))
        for match in re.finditer(r"^```python\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)
    ]


def test_gradients_page_examples_print_what_the_page_says():
    text = GRADIENTS.read_text(encoding="utf-8")
    blocks = _python_blocks(text)
    assert len(blocks) >= 6
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    namespace = {}  # shared: later blocks use what earlier ones defined
    for line, body in blocks:
        test = parser.get_doctest(body, namespace, f"gradients.md:{line}", str(GRADIENTS), line)
        assert test.examples, f"the block at line {line} has no >>> example"
        runner.run(test, clear_globs=False)
        namespace = test.globs  # DocTest works on a copy
    summary = runner.summarize(verbose=False)
    assert summary.failed == 0, f"{summary.failed} of {summary.attempted} examples failed"


def test_figure_script_draws_the_page_figure(tmp_path):
    pytest.importorskip("matplotlib")
    import runpy

    script = runpy.run_path(str(ROOT / "docs" / "make_pooling_figure.py"))
    output = tmp_path / "pooling.png"
    script["main"]([str(output)])
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (ROOT / "docs" / "pooling.png").is_file()
    assert "](pooling.png)" in GRADIENTS.read_text(encoding="utf-8")
