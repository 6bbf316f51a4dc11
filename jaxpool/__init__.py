"""jaxpool: max pooling for JAX with switches and a lean, fast gradient, and the
rest of the pooling family (average, min, Lp, adaptive average)."""

from jaxpool._adaptive import adaptive_max_pool
from jaxpool._adaptive import adaptive_max_pool_with_argmax
from jaxpool._family import adaptive_avg_pool
from jaxpool._family import avg_pool
from jaxpool._family import lp_pool
from jaxpool._family import min_pool
from jaxpool._family import min_pool_with_argmin
from jaxpool._pooling import max_pool
from jaxpool._pooling import max_pool_with_argmax
from jaxpool._unpool import indices_to_switches
from jaxpool._unpool import max_unpool
from jaxpool._unpool import switches_to_indices

__version__ = "0.1.0"

__all__ = [
    "adaptive_avg_pool",
    "adaptive_max_pool",
    "adaptive_max_pool_with_argmax",
    "avg_pool",
    "indices_to_switches",
    "lp_pool",
    "max_pool",
    "max_pool_with_argmax",
    "max_unpool",
    "min_pool",
    "min_pool_with_argmin",
    "switches_to_indices",
]
