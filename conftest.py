"""Doctests of a framework layer run only where its framework is installed;
Keras runs on JAX; hypothesis draws fixed examples under CI; every test runs
with ``jax_numpy_rank_promotion='raise'``; ``-m core`` selects the tests that
need jax and the test extra alone."""

import importlib.util
import os

# The tests compile with LLVM's optimisations off, which makes XLA:CPU's
# compiles, most of the suite's time, about a third shorter. XLA's own HLO
# passes, which decide what the tests assert about programs (fusions, no
# scatter, what is saved), still run, and LLVM's optimisations may not change
# IEEE results (XLA:CPU compiles without fast math), so values are those a user
# gets; the benchmarks and examples, run by hand, use the defaults. An XLA_FLAGS that
# names the level itself wins.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0"
    ).strip()

import jax  # after XLA_FLAGS, which jax reads as its backends start
from hypothesis import settings

# Users may set this (Equinox's own tests do), so the whole suite runs under
# it: jaxpool broadcasts nothing implicitly. tests/test_settings.py runs the
# public API under the other settings (strict dtype promotion, which Flax's
# and Haiku's own pooling, the references here, do not survive; x64; debug
# NaNs and infs; disabled jit; enabled checks).
jax.config.update("jax_numpy_rank_promotion", "raise")

# Keras reads its backend once, when first imported, and jaxpool.keras needs
# JAX's: set it before a test module or doctest imports Keras, unless the
# environment chose one (tests/test_keras.py then says why it skips). Only
# Keras reads this variable.
os.environ.setdefault("KERAS_BACKEND", "jax")

_FRAMEWORKS = {
    "linen": "flax",
    "nnx": "flax",
    "haiku": "haiku",
    "equinox": "equinox",
    "keras": "keras",
}

collect_ignore = [
    f"jaxpool/{module}.py"
    for module, framework in _FRAMEWORKS.items()
    if importlib.util.find_spec(framework) is None
]
if os.environ["KERAS_BACKEND"] != "jax" and "jaxpool/keras.py" not in collect_ignore:
    collect_ignore.append("jaxpool/keras.py")  # its import raises on another backend

# CI draws the same examples every run, so that a red run can be reproduced
# (CI=true python -m pytest ...); elsewhere hypothesis explores afresh.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# The tests of the core package and jaxpool.functional, which need jax and the
# test extra alone: `python -m pytest -m core` runs them on every JAX version
# the project supports (the README's compatibility commands).
CORE_TEST_MODULES = {
    "test_adaptive.py",
    "test_average.py",
    "test_fractional.py",
    "test_functional.py",
    "test_lp_pool.py",
    "test_min_pool.py",
    "test_nan.py",
    "test_package.py",
    "test_pooling.py",
    "test_settings.py",
    "test_sharding.py",
    "test_strategies.py",
    "test_transformations.py",
    "test_unpool.py",
    "test_validation.py",
}


# A cross-section of the core tests that CI runs on the oldest and the newest
# JAX (``-m compat``), small enough for CI's time: the package, every argument
# check, every transformation, sharding, and every public name traced and run
# under the settings a user may choose (tests/test_settings.py, but for its
# op-by-op runs, which are slow). The whole ``-m core`` runs there too, by hand.
COMPAT_TEST_MODULES = {
    "test_package.py",
    "test_settings.py",
    "test_sharding.py",
    "test_transformations.py",
    "test_validation.py",
}
COMPAT_EXCLUDED = ("test_equal_results_op_by_op_with_nan_checks",)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in COMPAT_TEST_MODULES and not item.name.startswith(COMPAT_EXCLUDED):
            item.add_marker("compat")
        path = item.path
        in_core = (
            path.name in CORE_TEST_MODULES
            if path.parent.name == "tests"
            else (path.parent.name == "jaxpool" and path.stem not in _FRAMEWORKS)
        )
        if in_core:
            item.add_marker("core")
