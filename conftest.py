"""Doctests of a framework layer run only where its framework is installed."""

import importlib.util

_FRAMEWORKS = {"linen": "flax", "nnx": "flax", "haiku": "haiku", "equinox": "equinox"}

collect_ignore = [
    f"jaxpool/{module}.py"
    for module, framework in _FRAMEWORKS.items()
    if importlib.util.find_spec(framework) is None
]
