"""jaxpool: max pooling for JAX with switches and a lean, fast gradient."""

from jaxpool._pooling import max_pool
from jaxpool._pooling import max_pool_with_argmax

__version__ = "0.1.0"

__all__ = [
    "max_pool",
    "max_pool_with_argmax",
]
