"""Doctests of a framework layer run only where its framework is installed;
Keras runs on JAX; hypothesis draws fixed examples under CI."""

import importlib.util
import os

from hypothesis import settings

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
