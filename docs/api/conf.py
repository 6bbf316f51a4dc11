"""Sphinx configuration of jaxpool's API reference (built from the docstrings).

Build it from the repository root (see README.md in this folder):

    python -m sphinx -W --keep-going -n -b html docs/api docs/api/_build/html
"""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

# Document the checkout this file belongs to, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
# jaxpool.keras needs Keras's JAX backend, which Keras reads when autodoc imports it.
os.environ["KERAS_BACKEND"] = "jax"

import jaxpool

project = "jaxpool"
author = "the jaxpool authors"
copyright = "the jaxpool authors"
release = version = jaxpool.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]

# Google-style docstrings only.
napoleon_google_docstring = True
napoleon_numpy_docstring = False

autodoc_default_options = {
    # With :members:, automodule documents exactly the names in the module's
    # __all__ (imported ones included), so a name added there appears here.
    "members": True,
    "member-order": "bysource",
}
autodoc_typehints = "signature"
# Show jax's alias by name rather than the long union it stands for.
autodoc_type_aliases = {
    "ArrayLike": "jax.typing.ArrayLike",
    # The pooling arguments' aliases (jaxpool._geometry), spelled out.
    "WindowShape": "typing.Sequence[int]",
    "PerAxis": "typing.Optional[typing.Union[int, typing.Sequence[int]]]",
    "Padding": "typing.Union[str, int, typing.Sequence[int], typing.Sequence[tuple[int, int]]]",
}

# nitpicky (also -n on the command line): every cross-reference must resolve.
nitpicky = True
# No intersphinx (the build runs offline), so references to other projects
# cannot resolve. Silence those, and only those: names under the packages
# below. Any other name that does not resolve fails the build, whether it
# is written in full (:func:`jaxpool.no_such`) or relative to its module
# (:class:`MaxPoool`). Add a package here when a docstring refers to it.
_EXTERNAL_PACKAGES = (
    "jax", "jaxlib", "numpy", "np", "flax", "haiku", "hk", "equinox", "eqx",
    "keras", "optax", "torch", "collections", "typing",
)  # fmt: skip
nitpick_ignore_regex = [
    (r"py:.*", rf"~?({'|'.join(_EXTERNAL_PACKAGES)})(\..+)?"),
]

html_theme = "alabaster"
html_title = f"jaxpool {release} API reference"
exclude_patterns = ["_build"]


def _keras_layer_signature(app, what, name, obj, options, signature, return_annotation):
    """The arguments of a jaxpool.keras layer's ``__init__``: autodoc would show
    Keras's ``Operation.__new__(*args, **kwargs)`` instead, which ``inspect``
    (and ``help()``) pass over."""
    if what == "class" and name.startswith("jaxpool.keras."):
        found = inspect.signature(obj, eval_str=True)
        return str(found.replace(return_annotation=inspect.Signature.empty)), None
    return None


def setup(app):
    app.connect("autodoc-process-signature", _keras_layer_signature)
