"""What pooling needs from sharding: Explicit mesh axes travel with arrays."""

from __future__ import annotations

import math
from typing import Any

import jax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxpool import _compat
from jaxpool._geometry import PoolGeometry


def explicit_sharding(x: jax.Array) -> NamedSharding | None:
    """``x``'s sharding where it names mesh axes of type Explicit, else None.

    Explicit axes are part of the array's type: arrays made from shapes alone
    and reshapes that split an axis must be given it. Auto axes, shard_map's
    manual axes and no mesh at all give None, which leaves such ops as they are.

    Raises:
      NotImplementedError: ``x`` is sharded over Explicit axes on a JAX older
        than :data:`jaxpool._compat.EXPLICIT_SHARDING_VERSION`.
    """
    sharding = _compat.sharding_of(x)
    spec = getattr(sharding, "spec", None)
    if spec is None or all(entry is None for entry in spec):
        return None
    if not _compat.supports_explicit_sharding():
        needed = ".".join(map(str, _compat.EXPLICIT_SHARDING_VERSION))
        raise NotImplementedError(
            f"pooling an array sharded over Explicit mesh axes ({spec}) needs jax>={needed} "
            f"(jax.sharding.auto_axes); this is jax {jax.__version__}. Upgrade jax, or make "
            "the mesh axes AxisType.Auto"
        )
    return sharding


def split_spatial(array: jax.Array, shape: tuple[int, ...], geometry: PoolGeometry) -> jax.Array:
    """``array`` reshaped to ``shape``, which splits every spatial axis in two."""
    sharding = explicit_sharding(array)
    if sharding is not None:
        # Explicit reshapes that split axes are given the output sharding.
        sharding = sharding.update(spec=P(*geometry.blocks_spec(sharding.spec)))
    return _compat.reshape(array, shape, out_sharding=sharding)


def auto_spatial_axes(pool: Any, inputs: jax.Array, geometry: PoolGeometry) -> Any:
    """``pool``, run with the Explicit mesh axes that shard spatial axes of
    ``inputs`` turned Auto.

    Windows straddle the shards of a spatial axis, and Explicit sharding has
    no rule for the uneven slices that gather them; as Auto axes the
    partitioner exchanges the halos. The outputs keep the input's sharding
    where their spatial sizes divide evenly, and are replicated along the
    other axes.
    """
    sharding = explicit_sharding(inputs)
    if sharding is None:
        return pool
    spec = list(sharding.spec) + [None] * (inputs.ndim - len(sharding.spec))
    names: list[str] = []
    for axis, size in zip(geometry.spatial_axes, geometry.output_spatial_shape):
        entry = spec[axis]
        axis_names = () if entry is None else (entry,) if isinstance(entry, str) else tuple(entry)
        names.extend(axis_names)
        if size % math.prod(sharding.mesh.shape[name] for name in axis_names):
            spec[axis] = None
    if not names:
        return pool
    out_sharding = sharding.update(spec=P(*spec))
    return jax.sharding.auto_axes(pool, axes=tuple(names), out_sharding=(out_sharding,) * 2)
