"""Doctests of a framework layer run only where its framework is installed;
hypothesis draws fixed examples under CI."""

import importlib.util
import os

from hypothesis import settings

_FRAMEWORKS = {"linen": "flax", "nnx": "flax", "haiku": "haiku", "equinox": "equinox"}

collect_ignore = [
    f"jaxpool/{module}.py"
    for module, framework in _FRAMEWORKS.items()
    if importlib.util.find_spec(framework) is None
]

# CI draws the same examples every run, so that a red run can be reproduced
# (CI=true python -m pytest ...); elsewhere hypothesis explores afresh.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
