"""One forward and one route for every entry point; which strategy runs them
is chosen here, per geometry and per backend.

A :class:`Plan` says how one geometry is pooled on one backend. Where the
backends' plans differ, :func:`lax.platform_dependent` picks one when the
program is lowered, so a jitted function lowered for a GPU or a TPU runs its
backend's plan and the others are never compiled. Every plan runs on the CPU
too: :meth:`~jaxpool._geometry.PoolGeometry.with_backend` makes a geometry
take a named backend's plan whatever it is lowered for, which is how the
tests check each backend's formulation against the references.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from jaxpool import _compat
from jaxpool import _native
from jaxpool import _order
from jaxpool import _positions
from jaxpool import _reduced
from jaxpool import _separable
from jaxpool import _spread
from jaxpool import _windowed
from jaxpool._geometry import BACKENDS
from jaxpool._geometry import PoolGeometry

# Windows of at most this many positions are selected position by position
# (one fused select per position, the fastest for small windows); larger ones
# axis by axis, so that the program grows with the sum of the window sizes
# (or their logarithms), not with their product.
POSITIONS_LIMIT = 12


@dataclasses.dataclass(frozen=True)
class Plan:
    """How one geometry is pooled on one backend.

    Attributes:
      strategy: how a tangent is picked at the switches (and so how the
        route runs): ``"positions"`` (one select per window position, over
        the whole window), ``"separable"`` (one spatial axis after
        another; see :func:`strategy`) or ``"reduced"`` (windows that are
        blocks: one compare against the block positions,
        :mod:`jaxpool._reduced`).
      select: how the values and switches are selected: the ``strategy``,
        ``"padded"`` (position by position from unit-stride slices of the
        input padded once), ``"windowed"`` (one variadic
        ``reduce_window`` over values and keys, :mod:`jaxpool._windowed`)
        or ``"reduced"`` (one variadic reduction over the block axes).
      route: how the backward routes a cotangent to the switches:
        ``"transpose"`` (JAX's transpose of the ``strategy``'s pick),
        ``"dilated"`` or ``"summed"`` (:mod:`jaxpool._spread`).
      values: how a call whose derivative is not taken takes the max:
        ``"selection"`` (the selection's own values, whose switches XLA
        then drops), ``"window_max"`` (a tree of elementwise maxima over the
        window positions), ``"halving"`` (axis by axis) or
        ``"reduce_window"`` (XLA's windowed max).
      values_beside_switches: the same, for such a call that returns the
        switches too (``max_pool_with_argmax``).
      keys_beside_bits: the windowed selection reduces 16-bit floats as
        their bit patterns (see :func:`jaxpool._windowed.max_and_keys`).
      write_out: the switches are written out by an identity that XLA
        will not fuse (see :func:`_save`): XLA:CPU, and the TPU compiler
        for large windows, otherwise fuse the selection into the backward
        that reads the switches and redo it per window position.
    """

    strategy: str
    select: str
    route: str
    values: str
    values_beside_switches: str
    write_out: bool
    keys_beside_bits: bool = True


def strategy(geometry: PoolGeometry) -> str:
    """``"positions"``: one select per window position, over the whole
    window; ``"separable"``: one spatial axis after another. Both give the
    same values and switches for every geometry, on every backend; this is
    also how the route and unpooling go."""
    forced = geometry.forced_strategy
    if forced is not None:
        return "positions" if forced in ("windowed", "padded", "reduced") else forced
    return "positions" if geometry.num_window_positions <= POSITIONS_LIMIT else "separable"


def plan(geometry: PoolGeometry, backend: str) -> Plan:
    """The plan for ``geometry`` on ``backend`` (one of ``BACKENDS``; any
    other backend, such as ROCm, takes ``"cuda"``'s)."""
    strategy_ = strategy(geometry)
    windowed = _windowed.applies(geometry)
    if geometry.forced_strategy == "windowed" and not windowed:
        raise ValueError(f"the windowed strategy cannot pool {geometry}")
    reduced = _reduced.applies(geometry)
    if geometry.forced_strategy == "reduced" and not reduced:
        raise ValueError(f"the reduced strategy cannot pool {geometry}")
    if geometry.forced_strategy == "reduced" or (
        backend != "cpu"
        and geometry.forced_strategy is None
        and reduced
        and strategy_ == "separable"
    ):
        # Large windows that are blocks (a global max): one reduction reads
        # the input once where the axis-by-axis selection makes a pass per
        # halving, and the route is one compare (benchmarks/results/accel/).
        return Plan("reduced", "reduced", "transpose", "reduce_window", "selection", False)
    if backend == "cpu":
        if strategy_ == "separable":
            values = "halving"
        elif geometry.minor_axis_is_spatial:
            values = "window_max"
        else:
            values = "selection"
        select = geometry.forced_strategy or strategy_
        return Plan(strategy_, select, "transpose", values, values, write_out=True)
    select, route = strategy_, "transpose"
    if backend == "tpu":
        # Strided slices along the second-minor axis are ops of their own on
        # a TPU; unit-stride slices fuse.
        if strategy_ == "positions" and all(stride == 1 for stride in geometry.strides):
            select = "padded"
        elif windowed and any(stride > 1 for stride in geometry.strides):
            select = "windowed"
        if strategy_ == "positions" and not geometry.windows_are_disjoint_blocks:
            route = "dilated"
    elif strategy_ == "positions" and windowed:
        # Strided slices read the input once per window position and stride
        # phase; one reduce_window reads it once.
        if geometry.num_window_positions / math.prod(geometry.strides) > 2:
            select = "windowed"
            # Measured on an H200 (benchmarks/results/gpu/): for strided
            # windows the summed route, though it moves fewer bytes in the
            # compiler's model, is slower than the transposed pick (3x3/2
            # SAME float32 backward 202 vs 136 us, bfloat16 273 vs 178 us);
            # for unit strides it is as fast or faster (bfloat16 3x3/1 209
            # vs 278 us).
            if all(stride == 1 for stride in geometry.strides):
                route = "summed"
    if geometry.forced_strategy is not None:
        select = geometry.forced_strategy
    # A reduce_window reads the input again where the selection, which the
    # switches need, yields the values too.
    return Plan(
        strategy_,
        select,
        route,
        "reduce_window",
        "selection",
        # The TPU redoes an axis-by-axis selection in the backward too.
        write_out=backend == "tpu" and select == "separable",
        # Only a windowed selection reads it: elsewhere it stays the default,
        # so that it splits no other selection into per-backend branches.
        keys_beside_bits=not (backend == "tpu" and select == "windowed"),
    )


def _on_each_backend(
    geometry: PoolGeometry, aspects: tuple[str, ...], run: Callable[..., Any], *args: Any
) -> Any:
    """``run(plan, *args)`` with the plan of the backend the program is
    lowered for (or of ``geometry.forced_backend``).

    ``run`` reads only the plan's fields named in ``aspects``: where every
    backend's plan agrees on them, there is one branch and no platform
    choice in the program at all.
    """
    if geometry.forced_backend is not None:
        return run(plan(geometry, geometry.forced_backend), *args)
    plans = {backend: plan(geometry, backend) for backend in BACKENDS}
    # One branch per distinct choice: lax.platform_dependent traces each once.
    distinct: dict[tuple[Any, ...], Callable[..., Any]] = {}
    branches = {}
    for backend, found in plans.items():
        key = tuple(getattr(found, aspect) for aspect in aspects)
        branches[backend] = distinct.setdefault(key, functools.partial(run, found))
    if len(distinct) == 1:
        return run(plans["cpu"], *args)
    return lax.platform_dependent(*args, **branches, default=branches["cuda"])


def _select(plan_: Plan, inputs: jax.Array, geometry: PoolGeometry):
    """``(values, switches, residual)``: the values in the pooled order, and
    what the backward reads before :func:`_save` (see :func:`forward`)."""
    if plan_.select == "windowed":
        pooled_order = _order.in_pooled_order(inputs, geometry)
        values, keys = _windowed.max_and_keys(pooled_order, geometry, plan_.keys_beside_bits)
        return values, _windowed.switches_from_keys(keys, geometry), keys
    if plan_.select == "reduced":
        values, switches = _reduced.max_and_switches(
            _order.in_pooled_order(inputs, geometry), geometry
        )
    elif plan_.select == "padded":
        values, switches = _positions.max_and_switches_padded_once(inputs, geometry)
    elif plan_.select == "separable":
        values, switches = _separable.values_and_switches(
            _order.in_pooled_order(inputs, geometry), geometry, _order.pad_scalar(inputs, geometry)
        )
    else:
        values, switches = _positions.max_and_switches(inputs, geometry)
    return values, switches, switches


def forward(inputs: jax.Array, geometry: PoolGeometry) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The windowed max (min, with ``reverse_order``), the row-major window
    position that holds it, and what the backward saves: the forward of
    every entry point.

    The saved array has the switches' shape and dtype. It is the switches,
    except where the windowed strategy selects (overlapping windows on a
    GPU): there it is the winners' keys, from which :func:`route` recovers
    the switches inside its own loop, where XLA would otherwise write the
    switches out and read them back (benchmarks/results/accel/).
    """

    values, switches, residual = _selected(inputs, geometry)
    return values, switches, save(residual, geometry)


def _selected(inputs: jax.Array, geometry: PoolGeometry):
    """:func:`_select` on the backend lowered for, values in pooling order."""

    def run(plan_: Plan, inputs: jax.Array):
        values, switches, residual = _select(plan_, inputs, geometry)
        return _order.in_pooled_order(values, geometry), switches, residual

    return _on_each_backend(geometry, ("select", "keys_beside_bits"), run, inputs)


def values_and_switches(inputs: jax.Array, geometry: PoolGeometry) -> tuple[jax.Array, jax.Array]:
    """:func:`forward` without what the backward saves."""
    values, switches, _ = _selected(inputs, geometry)
    return values, switches


def pool(
    inputs: jax.Array, geometry: PoolGeometry, with_switches: bool = False
) -> tuple[jax.Array, jax.Array]:
    """:func:`values_and_switches` where no derivative is taken: a caller that
    uses only the values pays for no selection, as XLA drops the switches.
    ``with_switches`` says that the caller will use them too."""
    selected, switches = values_and_switches(inputs, geometry)
    aspect = "values_beside_switches" if with_switches else "values"

    def run(plan_: Plan, inputs: jax.Array, selected: jax.Array) -> jax.Array:
        method = getattr(plan_, aspect)
        if method == "halving":
            # The selection's values come out of its last pass; a max alone
            # is cheaper where nothing needs the switches.
            values = _separable.max_values(
                _order.in_pooled_order(inputs, geometry),
                geometry,
                _order.pad_scalar(inputs, geometry),
            )
        elif method == "window_max":
            # Not where a derivative is taken: the backward reads a cotangent
            # computed from the values once per window position, and XLA
            # would redo a max that it can fuse as often.
            values = _positions.max_values(inputs, geometry)
        elif method == "reduce_window":
            # In the input's own order: min pooling reduces with a min.
            return _native.values(inputs, geometry)
        else:
            return selected
        return _order.in_pooled_order(values, geometry)

    return _on_each_backend(geometry, (aspect,), run, inputs, selected), switches


def _pick(plan_: Plan, tangent: jax.Array, switches: jax.Array, geometry: PoolGeometry):
    dtype = tangent.dtype
    # Picked in the sum dtype, so that the transpose adds overlapping
    # contributions in it.
    tangent = tangent.astype(geometry.sum_dtype(dtype))
    if plan_.strategy == "reduced":
        picked = _reduced.pick_at_switches(tangent, switches, geometry)
    elif plan_.strategy == "separable":
        picked = _separable.pick_at_switches(tangent, switches, geometry)
    else:
        picked = _positions.pick_at_switches(tangent, switches, geometry)
    return picked.astype(dtype)


def pick_at_switches(tangent: jax.Array, switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The input tangent at each output's switch (padding has tangent zero).

    Linear in ``tangent``; its transpose is :func:`route_to_switches`.
    """
    run = functools.partial(_pick, geometry=geometry)
    return _on_each_backend(geometry, ("strategy",), run, tangent, switches)


def _route(plan_: Plan, cotangent: jax.Array, switches: jax.Array, geometry: PoolGeometry):
    if plan_.route == "dilated":
        return _spread.route_dilated(cotangent, switches, geometry)
    if plan_.route == "summed":
        return _spread.route_summed(cotangent, switches, geometry)
    # pick is linear, so its VJP at zero is its transpose. The zero input is
    # grown from the cotangent to carry its sharding and shard_map axes.
    zero = jnp.zeros((), cotangent.dtype)
    config = _positions.output_to_input_pad_config(geometry)
    zero_input = lax.pad(jnp.zeros_like(cotangent), zero, config)
    pick = functools.partial(_pick, plan_, switches=switches, geometry=geometry)
    (routed,) = jax.vjp(pick, zero_input)[1](cotangent)
    return routed


def route_to_switches(
    cotangent: jax.Array, switches: jax.Array, geometry: PoolGeometry
) -> jax.Array:
    """Sends each output's cotangent to the input its switch selected, adding
    where windows overlap; what lands on padding is dropped.

    This is the transpose of :func:`pick_at_switches`, so both autodiff modes
    route with the same operations: ``lax.pad`` (with interior padding for
    strided windows), ``jnp.where`` on the switches, adds and reshapes.
    """
    run = functools.partial(_route, geometry=geometry)
    return _on_each_backend(geometry, ("strategy", "route"), run, cotangent, switches)


def route(cotangent: jax.Array, residual: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """:func:`route_to_switches` from what :func:`forward` saved."""

    def run(plan_: Plan, cotangent: jax.Array, residual: jax.Array) -> jax.Array:
        switches = residual
        if plan_.select == "windowed" and plan_.route == "summed":
            # Decoded to int32 in the route's own loop, as few ops as can be.
            switches = _windowed.positions_from_keys(residual, geometry)
        elif plan_.select == "windowed":
            switches = _windowed.switches_from_keys(residual, geometry)
        return _route(plan_, cotangent, switches, geometry)

    return _on_each_backend(geometry, ("select", "strategy", "route"), run, cotangent, residual)


def _save(plan_: Plan, switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """The switches as the backward reads them: written out once.

    XLA on CPU (and on a TPU, for large windows) drops the optimization
    barrier and fuses the selection into the backward loop, redoing it for
    every window position that reads a switch. On the CPU that costs little
    for small disjoint windows in channels-last data, where the loop
    vectorises along the channels; elsewhere the switches must be written
    out (measured in benchmarks/NOTES.md).
    """
    if plan_.write_out and plan_.select != "windowed":
        if geometry.windows_overlap and geometry.num_window_positions > 4:
            # Overlapping windows redo the selection once per window position
            # that reads it (9 x 9 selections per element for 3x3 windows): a
            # max over two equal copies is the identity, but a reduction,
            # which XLA does not fuse into the loop that reads it.
            doubled = lax.expand_dims(switches, (switches.ndim,))
            doubled = doubled + jnp.zeros((1,) * switches.ndim + (2,), switches.dtype)
            switches = _compat.reduce_max(doubled, (switches.ndim,))
        elif geometry.minor_axis_is_spatial and plan_.strategy == "positions":
            # Window positions along the minor axis: the fused loop does not
            # vectorise (3x slower). An integer remainder by an odd number
            # above every switch is the identity, and costly enough (unlike
            # one by a power of two) that XLA writes the switches out instead.
            modulus = 2 * geometry.num_window_positions + 1
            switches = lax.rem(switches, jnp.asarray(modulus, switches.dtype))
    return lax.optimization_barrier(switches)


def save(switches: jax.Array, geometry: PoolGeometry) -> jax.Array:
    """:func:`_save` on the backend lowered for: what the backward reads
    (the switches, or the keys a windowed selection saves)."""
    run = functools.partial(_save, geometry=geometry)
    return _on_each_backend(geometry, ("select", "write_out", "strategy"), run, switches)
