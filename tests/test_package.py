"""Packaging: public names, version, type marker, import footprint."""

import ast
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import jaxpool

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(jaxpool.__file__).resolve().parent

# A PEP 440 public version: N(.N)*[{a|b|rc}N][.postN][.devN].
PEP440 = re.compile(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?")

FORBIDDEN = ["flax", "haiku", "equinox", "keras", "torch", "optax"]


def _pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def test_all_is_a_list_of_unique_strings():
    assert jaxpool.__all__
    assert all(isinstance(name, str) for name in jaxpool.__all__)
    assert len(set(jaxpool.__all__)) == len(jaxpool.__all__)


@pytest.mark.parametrize("name", jaxpool.__all__)
def test_every_name_in_all_resolves(name):
    assert hasattr(jaxpool, name)
    assert getattr(jaxpool, name) is not None


def test_star_import_gives_exactly_all():
    namespace = {}
    exec("from jaxpool import *", namespace)
    namespace.pop("__builtins__")
    assert sorted(namespace) == sorted(jaxpool.__all__)


def test_version_matches_the_pyproject_dynamic_source():
    pyproject = _pyproject()
    assert "version" in pyproject["project"]["dynamic"]
    assert "version" not in pyproject["project"]
    attr = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "jaxpool.__version__"
    module_name, _, attr_name = attr.rpartition(".")
    module = importlib.import_module(module_name)

    version = getattr(module, attr_name)
    assert isinstance(version, str)
    assert version == jaxpool.__version__
    assert PEP440.fullmatch(version), version

    # setuptools reads the attribute statically from the source when it can:
    # the literal assigned there must be the same string.
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    literals = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == attr_name for t in node.targets)
        and isinstance(node.value, ast.Constant)
    ]
    assert literals == [version]


def test_py_typed_marker_is_shipped():
    assert (PACKAGE_DIR / "py.typed").is_file()
    package_data = _pyproject()["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["jaxpool"]


@pytest.fixture(scope="module")
def modules_after_import():
    """sys.modules of a fresh interpreter right after ``import jaxpool``."""
    code = (
        "import json, sys\n"
        "import jaxpool\n"
        "print(json.dumps({'file': jaxpool.__file__, 'modules': sorted(sys.modules)}))\n"
    )
    env = dict(os.environ)
    # Import the same jaxpool as this process, installed or not.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PACKAGE_DIR.parent), *filter(None, [env.get("PYTHONPATH")])]
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["file"]).resolve().parent == PACKAGE_DIR
    return set(report["modules"])


def test_import_jaxpool_imports_jax(modules_after_import):
    assert "jax" in modules_after_import


@pytest.mark.parametrize("framework", FORBIDDEN)
def test_import_jaxpool_does_not_import_frameworks(modules_after_import, framework):
    imported = sorted(
        name
        for name in modules_after_import
        if name == framework or name.startswith(framework + ".")
    )
    assert imported == []
