"""jaxpool: max pooling for JAX with switches and a lean, fast gradient."""

from jaxpool._adaptive import adaptive_max_pool
from jaxpool._adaptive import adaptive_max_pool_with_argmax
from jaxpool._pooling import max_pool
from jaxpool._pooling import max_pool_with_argmax
from jaxpool._unpool import indices_to_switches
from jaxpool._unpool import max_unpool
from jaxpool._unpool import switches_to_indices

__version__ = "0.1.0"

__all__ = [
    "adaptive_max_pool",
    "adaptive_max_pool_with_argmax",
    "indices_to_switches",
    "max_pool",
    "max_pool_with_argmax",
    "max_unpool",
    "switches_to_indices",
]
