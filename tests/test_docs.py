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


@pytest.fixture(scope="module")
def gradients_page():
    """Run every ``>>>`` example of the page in order, in one namespace.

    Returns the page's text, the doctest summary and the final namespace.
    """
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
    return text, runner.summarize(verbose=False), namespace


def test_gradients_page_examples_print_what_the_page_says(gradients_page):
    _, summary, _ = gradients_page
    assert summary.failed == 0, f"{summary.failed} of {summary.attempted} examples failed"


_ARITHMETIC = re.compile(r"[\d\s.+\-*/()]*\d[\d\s.+\-*/()]*")


def _prose_equations(text):
    """(line, parts) of every equation the prose states in an inline code span.

    An equation is a span ``A = B = ... = N`` whose last part is arithmetic
    on numbers; the other parts are arithmetic or Python expressions over the
    names the page's examples defined (``dx4[0, 1] = grad_p[0] = -1``).
    Fenced code blocks are left out: doctest checks those.
    """
    prose = re.sub(
        r"^```.*?^```$",
        lambda m: "\n" * m.group(0).count("\n"),
        text,
        flags=re.DOTALL | re.MULTILINE,
    )
    equations = []
    for match in re.finditer(r"`([^`]+)`", prose):  # a span may wrap across lines
        parts = " ".join(match.group(1).split()).split(" = ")
        if len(parts) >= 2 and _ARITHMETIC.fullmatch(parts[-1]):
            equations.append((prose[: match.start()].count("\n") + 1, parts))
    return equations


def test_gradients_page_equations_in_the_prose_hold(gradients_page):
    """Every ``A = B = N`` the prose states is true, where ``A`` may name what
    ``jax.grad`` returned in the examples: a wrong number in the text fails."""
    import numpy as np

    text, summary, namespace = gradients_page
    assert summary.failed == 0
    equations = _prose_equations(text)
    assert len(equations) >= 12, "the worked sums are no longer found"
    wrong = []
    for line, parts in equations:
        values = [float(np.asarray(eval(part, dict(namespace)))) for part in parts]
        if not np.allclose(values, values[-1], rtol=0, atol=1e-6):
            wrong.append(f"gradients.md:{line}: {' = '.join(parts)} evaluates to {values}")
    assert not wrong, "\n".join(wrong)


def test_figure_script_draws_the_page_figure(tmp_path):
    pytest.importorskip("matplotlib")
    import runpy

    script = runpy.run_path(str(ROOT / "docs" / "make_pooling_figure.py"))
    output = tmp_path / "pooling.png"
    script["main"]([str(output)])
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (ROOT / "docs" / "pooling.png").is_file()
    assert "](pooling.png)" in GRADIENTS.read_text(encoding="utf-8")


# --- The API reference (docs/api), built by Sphinx from the docstrings -------

API = ROOT / "docs" / "api"


def _public_modules():
    """``jaxpool`` and every module of the package whose name has no leading underscore."""
    names = (path.stem for path in (ROOT / "jaxpool").glob("*.py"))
    return ["jaxpool", *sorted(f"jaxpool.{name}" for name in names if not name.startswith("_"))]


def _sphinx_build(source, out, *, confdir=API):
    """Run the documented build command (warnings are errors, nitpicky) in a subprocess."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html"]
    command += ["-c", str(confdir), str(source), str(out)]
    env = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning")
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def _inventory_names(path):
    """{name: its roles} from a Sphinx ``objects.inv`` (version 2: four header lines, then zlib)."""
    import zlib

    data = path.read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = data.index(b"\n", header_end) + 1
    assert data.startswith(b"# Sphinx inventory version 2")
    names = {}
    for line in zlib.decompress(data[header_end:]).decode("utf-8").splitlines():
        name, role = line.split(" ", 2)[:2]
        names.setdefault(name, set()).add(role)
    return names


@pytest.mark.slow
def test_api_reference_builds_and_documents_every_public_name(tmp_path):
    """One build of docs/api, warnings as errors and nitpicky, as docs/api/README.md
    says; then every name of every public module's ``__all__`` must be in it."""
    import importlib

    pytest.importorskip("sphinx")
    for framework in ("flax", "haiku", "equinox", "keras"):  # the layer modules' pages import them
        pytest.importorskip(framework)
    result = _sphinx_build(API, tmp_path)
    assert result.returncode == 0, f"the API reference build failed:\n{result.stderr}"
    documented = _inventory_names(tmp_path / "objects.inv")
    missing = []
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        assert hasattr(module, "__all__"), f"{module_name} has no __all__"
        assert "py:module" in documented.get(module_name, ()), f"no page documents {module_name}"
        missing += [
            f"{module_name}.{name}"
            for name in module.__all__
            if f"{module_name}.{name}" not in documented
        ]
    assert not missing, f"not in the API reference: {missing}"


@pytest.mark.slow
def test_api_reference_build_fails_on_a_broken_jaxpool_reference_only(tmp_path):
    """docs/api's configuration, on a one-page project: references to names that
    do not exist fail the build (in full or relative), references to other
    projects (not checkable offline, without intersphinx) raise no warning."""
    pytest.importorskip("sphinx")
    (tmp_path / "index.rst").write_text(
        "Check\n=====\n\n"
        "External: :class:`numpy.ndarray`, :class:`jax.Array`, :mod:`flax.linen`.\n\n"
        "Broken: :func:`jaxpool.does_not_exist`, :class:`NoSuchLayer`.\n",
        encoding="utf-8",
    )
    result = _sphinx_build(tmp_path, tmp_path / "html")
    assert result.returncode != 0
    # Sphinx's warnings only ("file:line: WARNING: ..."), not what libraries
    # it imports log (a CUDA plugin warns of a missing driver, say).
    warnings = [line for line in result.stderr.splitlines() if ": WARNING: " in line]
    assert len(warnings) == 2, result.stderr
    assert "jaxpool.does_not_exist" in "\n".join(warnings)
    assert "NoSuchLayer" in "\n".join(warnings)


def test_license_file_is_apache_2_and_the_metadata_ships_it():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:5] == ["Apache", "License", "Version", "2.0,", "January"]
    assert "END OF TERMS AND CONDITIONS" in text
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^license = "Apache-2.0"$', pyproject, re.MULTILINE)
    assert re.search(r'^license-files = \["LICENSE"\]$', pyproject, re.MULTILINE)
