"""Pooling on 8 host devices; run by test_sharding.py in a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=8``, so that the rest of
the suite keeps one device. Exits non-zero on the first failed check."""

from __future__ import annotations

import re
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
from references import example_inputs
from references import reduce_window_pool

import jaxpool
from jaxpool import _compat

COMMUNICATION = re.compile(r"\b(all-gather|all-to-all|collective-permute)(-start)?\(")


def _loss(pool, weights):
    return lambda x: jnp.sum(pool(x) * weights)


def check_sharded(mesh, spec, settings_, mode, expect_no_communication):
    x = example_inputs((8, 16, 16, 8))
    pool = lambda x: jaxpool.max_pool(x, **settings_, autodiff=mode)  # noqa: E731
    reference = lambda x: reduce_window_pool(x, **settings_)  # noqa: E731
    weights = example_inputs(jax.eval_shape(pool, x).shape, seed=1)
    sharding = NamedSharding(mesh, spec)
    x_sharded = jax.device_put(x, sharding)

    values = jax.jit(pool)(x_sharded)
    np.testing.assert_array_equal(values, reference(x))
    grad = jax.jit(jax.grad(_loss(pool, weights)))
    gradient = grad(x_sharded)
    expected = jax.grad(_loss(reference, weights))(x)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6)
    assert gradient.sharding.is_equivalent_to(sharding, x.ndim), (gradient.sharding, sharding)
    if expect_no_communication:
        hlo = grad.lower(x_sharded).compile().as_text()
        found = COMMUNICATION.findall(hlo)
        assert not found, f"{spec} {settings_} {mode}: the gradient communicates: {found}"


def _shard_map(function, mesh, in_specs, out_specs):
    """``jax.shard_map``; before jax 0.7 without its type checks, which
    refuse jaxpool's programs (docs/design.md#sharding)."""
    settings_ = dict(mesh=mesh, in_specs=in_specs, out_specs=out_specs)
    if _compat.JAX_VERSION >= (0, 7):
        return jax.shard_map(function, **settings_)
    if hasattr(jax, "shard_map"):  # jax 0.6
        return jax.shard_map(function, **settings_, check_vma=False)
    from jax.experimental.shard_map import shard_map

    return shard_map(function, **settings_, check_rep=False)


def check_shard_map(mesh, settings_, mode):
    x = example_inputs((8, 16, 16, 8))
    pool = lambda x: jaxpool.max_pool(x, **settings_, autodiff=mode)  # noqa: E731
    per_shard = _shard_map(jax.grad(lambda x: jnp.sum(pool(x) ** 2)), mesh, P("d"), P("d"))
    gradient = jax.jit(per_shard)(jax.device_put(x, NamedSharding(mesh, P("d"))))
    expected = jax.grad(lambda x: jnp.sum(reduce_window_pool(x, **settings_) ** 2))(x)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6)


def check_explicit(mesh, spec, settings_, mode):
    """Explicit mesh axes: the sharding is part of each array's type, so the
    values, gradient and tangent must carry it without being told."""
    x = example_inputs((8, 16, 16, 8))
    tangent_in = example_inputs(x.shape, seed=2)
    pool = lambda x: jaxpool.max_pool(x, **settings_, autodiff=mode)  # noqa: E731
    reference = lambda x: reduce_window_pool(x, **settings_)  # noqa: E731
    weights = example_inputs(jax.eval_shape(pool, x).shape, seed=1)
    expected_values = reference(x)
    expected_gradient = jax.grad(_loss(reference, weights))(x)
    expected_tangent = jax.jvp(reference, (x,), (tangent_in,))[1]
    sharding = NamedSharding(mesh, spec)
    x_sharded = jax.device_put(x, sharding)
    with jax.set_mesh(mesh):
        values = jax.jit(pool)(x_sharded)
        gradient = jax.jit(jax.grad(_loss(pool, weights)))(x_sharded)
        if mode == "jvp":
            tangent_sharded = jax.device_put(tangent_in, sharding)
            jvp = jax.jit(lambda x, t: jax.jvp(pool, (x,), (t,)))
            jvp_values, tangent = jvp(x_sharded, tangent_sharded)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)
    assert gradient.sharding.is_equivalent_to(sharding, x.ndim), (gradient.sharding, sharding)
    # Output spatial axes divide evenly here, so the outputs keep the sharding.
    assert values.sharding.spec == sharding.spec, (values.sharding, sharding)
    if mode == "jvp":
        np.testing.assert_array_equal(jvp_values, expected_values)
        np.testing.assert_allclose(tangent, expected_tangent, rtol=1e-6)
        assert tangent.sharding.spec == sharding.spec, (tangent.sharding, sharding)


def check_explicit_needs_a_newer_jax(mesh):
    """On a JAX that has Explicit axes but not what pooling them needs, an
    error that names the version, not a wrong answer."""
    x = jax.device_put(example_inputs((8, 16, 16, 8)), NamedSharding(mesh, P("d")))
    try:
        with jax.sharding.use_mesh(mesh):
            jax.jit(lambda x: jaxpool.max_pool(x, (2, 2), (2, 2)))(x)
    except NotImplementedError as error:
        assert "needs jax>=0.7.0" in str(error), error
    else:
        raise AssertionError("pooling over Explicit axes did not raise on this JAX")


def _mesh(axis_type):
    axis_types = getattr(jax.sharding, "AxisType", None)
    if axis_types is None:  # jax before 0.5: every axis is Auto
        return jax.make_mesh((8,), ("d",))
    return jax.make_mesh((8,), ("d",), axis_types=(getattr(axis_types, axis_type),))


def main():
    assert jax.device_count() == 8, jax.devices()
    mesh = _mesh("Auto")
    overlapping = dict(window_shape=(3, 3), strides=(2, 1), padding="SAME")
    disjoint = dict(window_shape=(2, 2), strides=(2, 2))
    # Pooled axis by axis: unrolled overlapping windows, and a global window.
    large = dict(window_shape=(5, 5), strides=(1, 1), padding="SAME")
    global_window = dict(window_shape=(16, 16), strides=(16, 16))
    checks = 0
    for mode in ("vjp", "jvp"):
        for settings_ in (disjoint, overlapping, large, global_window):
            check_sharded(mesh, P("d"), settings_, mode, expect_no_communication=True)
            check_sharded(mesh, P(None, None, None, "d"), settings_, mode, True)
            check_shard_map(mesh, settings_, mode)
            checks += 3
        # Spatial sharding with overlapping windows: XLA exchanges halos.
        check_sharded(mesh, P(None, "d"), dict(overlapping, strides=(1, 1)), mode, False)
        check_sharded(mesh, P(None, None, "d"), overlapping, mode, False)
        checks += 2
    if not _compat.supports_explicit_sharding():
        if hasattr(jax.sharding, "AxisType"):
            check_explicit_needs_a_newer_jax(_mesh("Explicit"))
            checks += 1
        print(f"sharding checks passed: {checks}")
        return
    explicit = _mesh("Explicit")
    for mode in ("vjp", "jvp"):
        for settings_ in (disjoint, overlapping):
            check_explicit(explicit, P("d", None, None, None), settings_, mode)
            check_explicit(explicit, P(None, None, None, "d"), settings_, mode)
            # Spatial axes: pooled with the Explicit axis turned Auto.
            check_explicit(explicit, P(None, None, "d", None), settings_, mode)
            checks += 3
        for settings_ in (large, global_window):
            check_explicit(explicit, P("d", None, None, None), settings_, mode)
            checks += 1
    print(f"sharding checks passed: {checks}")


if __name__ == "__main__":
    sys.exit(main())
