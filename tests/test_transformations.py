"""jaxpool under every JAX transformation, in both autodiff modes, against
``lax.reduce_window`` (whose JVP and VJP are JAX's own)."""

from __future__ import annotations

import warnings

import chex
import jax
import jax.ad_checkpoint
import jax.export
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from jax import lax
from references import enable_x64
from references import example_inputs
from references import reduce_window_pool
from references import saved_residual_lines
from references import scatter_ops

import jaxpool

MODES = ("vjp", "jvp")
# Disjoint windows (exact sums) and overlapping, padded ones.
SETTINGS = {
    "disjoint": dict(window_shape=(2, 2), strides=(2, 2)),
    "overlapping": dict(window_shape=(3, 3), strides=(2, 1), padding="SAME"),
}


def _inputs(shape, kind="random", dtype="float32", seed=0):
    return example_inputs(shape, dtype, kind, seed)


def _pool(mode, settings_):
    return lambda x: jaxpool.max_pool(x, **settings_, autodiff=mode)


def _reference(settings_):
    return lambda x: reduce_window_pool(x, **settings_)


def _assert_close(actual, expected, exact):
    if exact:
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def _adds_in_one_order(name):
    """Whether the two modes' gradients must agree bit for bit: disjoint
    windows add nothing; overlapping ones add in one order on the CPU."""
    return name == "disjoint" or jax.default_backend() == "cpu"


class ForwardModeTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.product(name=tuple(SETTINGS), kind=("random", "ties"))
    def test_jvp_and_linearize(self, name, kind):
        settings_ = SETTINGS[name]
        x = _inputs((2, 7, 6, 3), kind)
        tangent = _inputs(x.shape, "random", seed=5)
        pool = self.variant(_pool("jvp", settings_))
        values, tangent_out = jax.jvp(pool, (x,), (tangent,))
        expected, expected_tangent = jax.jvp(_reference(settings_), (x,), (tangent,))
        np.testing.assert_array_equal(values, expected)
        np.testing.assert_array_equal(tangent_out, expected_tangent)
        values, linear = jax.linearize(pool, x)
        np.testing.assert_array_equal(values, expected)
        np.testing.assert_array_equal(linear(tangent), expected_tangent)

    @parameterized.parameters(*SETTINGS)
    def test_jacfwd_and_hessian(self, name):
        settings_ = SETTINGS[name]
        x = _inputs((1, 4, 4, 2))
        pool, reference = _pool("jvp", settings_), _reference(settings_)
        np.testing.assert_array_equal(jax.jacfwd(pool)(x), jax.jacfwd(reference)(x))

        def loss(pool):
            return lambda x: jnp.sum(jnp.sin(pool(x)) * pool(x))

        np.testing.assert_allclose(
            jax.hessian(loss(pool))(x), jax.hessian(loss(reference))(x), rtol=1e-6, atol=1e-6
        )

    @parameterized.product(name=tuple(SETTINGS), mode=MODES)
    def test_grad_of_grad(self, name, mode):
        settings_ = SETTINGS[name]
        x = _inputs((2, 7, 6, 3))
        weights = _inputs(x.shape, seed=3)

        def outer(pool):
            inner = jax.grad(lambda x: jnp.sum(jnp.cos(pool(x))))
            return jax.grad(lambda x: jnp.sum(inner(x) * weights))

        actual = jax.jit(outer(_pool(mode, settings_)))(x)
        expected = outer(_reference(settings_))(x)
        _assert_close(actual, expected, exact=False)

    @parameterized.parameters(*SETTINGS)
    def test_vmap_of_jvp(self, name):
        settings_ = SETTINGS[name]
        x = _inputs((4, 7, 6, 3))
        tangents = _inputs(x.shape, seed=2)

        def jvp(pool):
            return jax.vmap(lambda x, t: jax.jvp(pool, (x,), (t,)), in_axes=(0, 0))

        actual = jax.jit(jvp(_pool("jvp", settings_)))(x, tangents)
        expected = jvp(_reference(settings_))(x, tangents)
        for a, e in zip(actual, expected, strict=True):
            np.testing.assert_array_equal(a, e)

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.product(name=tuple(SETTINGS), kind=("random", "ties"))
    def test_reverse_mode_agrees_between_modes(self, name, kind):
        settings_ = SETTINGS[name]
        x = _inputs((2, 7, 6, 3), kind)
        cotangent = _inputs((2, *jax.eval_shape(_pool("vjp", settings_), x).shape[1:]), seed=4)
        gradients = {
            mode: jax.vjp(self.variant(_pool(mode, settings_)), x)[1](cotangent)[0]
            for mode in MODES
        }
        # One route serves both modes: bit for bit on the CPU, overlap
        # included; a GPU compiler may add overlapping windows' contributions
        # in another order (seen on an H200), so there to rounding.
        _assert_close(gradients["vjp"], gradients["jvp"], exact=_adds_in_one_order(name))
        expected = jax.vjp(_reference(settings_), x)[1](cotangent)[0]
        _assert_close(gradients["jvp"], expected, exact=name == "disjoint")

    @parameterized.parameters(*SETTINGS)
    def test_vjp_is_the_transpose_of_the_jvp(self, name):
        settings_ = SETTINGS[name]
        x = _inputs((2, 7, 6, 3))
        values, linear = jax.linearize(_pool("jvp", settings_), x)
        cotangent = _inputs(values.shape, seed=6)
        (transposed,) = jax.linear_transpose(linear, x)(cotangent)
        for mode in MODES:
            (vjp_gradient,) = jax.vjp(_pool(mode, settings_), x)[1](cotangent)
            _assert_close(transposed, vjp_gradient, exact=_adds_in_one_order(name))

    @parameterized.parameters(*SETTINGS)
    def test_jvp_mode_saves_only_the_switches_and_has_no_scatter(self, name):
        settings_ = SETTINGS[name]
        x = jnp.zeros((2, 9, 8, 3))
        pool = _pool("jvp", settings_)
        output_shape = jax.eval_shape(pool, x).shape
        lines = saved_residual_lines(lambda x: jnp.sum(pool(x)), x)
        self.assertLen(lines, 1)
        self.assertStartsWith(lines[0], f"i8[{','.join(map(str, output_shape))}]")
        self.assertEqual(scatter_ops(jax.jit(jax.grad(lambda x: jnp.sum(pool(x)))), x), [])

    def test_vjp_mode_refuses_forward_mode(self):
        x = _inputs((1, 4, 4, 1))
        with pytest.raises(TypeError, match="forward-mode"):
            jax.jvp(_pool("vjp", SETTINGS["disjoint"]), (x,), (x,))

    @parameterized.parameters("forward", None, 1)
    def test_bad_autodiff_value(self, value):
        with pytest.raises(ValueError, match=f"autodiff.*{value!r}"):
            jaxpool.max_pool(jnp.zeros((1, 4, 4, 1)), (2, 2), autodiff=value)


class CompositionTest(chex.TestCase):
    def _check_gradient(self, function_of_pool, x, name="overlapping"):
        settings_ = SETTINGS[name]
        expected = jax.grad(function_of_pool(_reference(settings_)))(x)
        for mode in MODES:
            actual = jax.grad(function_of_pool(_pool(mode, settings_)))(x)
            _assert_close(actual, expected, exact=name == "disjoint")

    @parameterized.parameters(None, "nothing_saveable", "dots_with_no_batch_dims_saveable")
    def test_checkpoint(self, policy):
        x = _inputs((2, 7, 6, 3))
        policy = None if policy is None else getattr(jax.checkpoint_policies, policy)

        def loss(pool):
            block = jax.checkpoint(lambda x: jnp.tanh(pool(x)) @ jnp.ones((3, 3)), policy=policy)
            return lambda x: jnp.sum(block(x) ** 2)

        for name in SETTINGS:
            self._check_gradient(loss, x, name)

    def test_scan_over_pooling_layers(self):
        x = _inputs((2, 6, 6, 3))
        scales = jnp.array([1.0, -0.5, 2.0])

        def loss(pool):
            def layer(carry, scale):
                # 3x3 stride 1 SAME keeps the shape, so layers can repeat.
                return jnp.tanh(pool(carry) * scale), None

            return lambda x: jnp.sum(lax.scan(layer, x, scales)[0])

        same = dict(window_shape=(3, 3), strides=(1, 1), padding="SAME")
        expected = jax.grad(loss(_reference(same)))(x)
        for mode in MODES:
            actual = jax.jit(jax.grad(loss(_pool(mode, same))))(x)
            np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)

    @parameterized.parameters((0, 0, 1, 2), (3, 1, 2, 0), (1, 2, 0, 3))
    def test_nested_vmap_on_any_axis(self, in_outer, out_outer, in_inner, out_inner):
        # A 6-D array: two vmapped axes around a (batch, H, W, C) example.
        x = _inputs((2, 3, 2, 6, 6, 2))
        settings_ = SETTINGS["overlapping"]

        def nested(pool):
            inner = jax.vmap(pool, in_axes=in_inner, out_axes=out_inner)
            return jax.vmap(inner, in_axes=in_outer, out_axes=out_outer)

        expected = nested(_reference(settings_))(x)
        for mode in MODES:
            pool = _pool(mode, settings_)
            np.testing.assert_array_equal(jax.jit(nested(pool))(x), expected)
            cotangent = _inputs(expected.shape, seed=8)
            gradient = jax.vjp(nested(pool), x)[1](cotangent)[0]
            expected_gradient = jax.vjp(nested(_reference(settings_)), x)[1](cotangent)[0]
            np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)

    def test_eval_shape(self):
        x = jax.ShapeDtypeStruct((4, 15, 16, 8), jnp.bfloat16)
        for mode in MODES:
            out = jax.eval_shape(
                lambda x, m=mode: jaxpool.max_pool_with_argmax(
                    x, (3, 3), 2, "SAME", ceil_mode=True, autodiff=m
                ),
                x,
            )
            self.assertEqual(out[0].shape, (4, 8, 8, 8))
            self.assertEqual(out[0].dtype, jnp.bfloat16)
            self.assertEqual(out[1].dtype, jnp.int8)

    def test_ahead_of_time_lower_and_compile(self):
        x = _inputs((2, 7, 6, 3))
        for mode in MODES:
            pool = _pool(mode, SETTINGS["overlapping"])
            grad = jax.jit(jax.grad(lambda x, p=pool: jnp.sum(p(x) ** 2)))
            compiled = grad.lower(jax.ShapeDtypeStruct(x.shape, x.dtype)).compile()
            expected = jax.grad(lambda x: jnp.sum(_reference(SETTINGS["overlapping"])(x) ** 2))(x)
            np.testing.assert_allclose(compiled(x), expected, rtol=1e-6)

    def test_each_entry_point_is_one_jitted_computation(self):
        # A call outside jit then compiles once per geometry and dispatches
        # one computation, rather than every slice, pad and select.
        x = _inputs((2, 9, 8, 3))
        values, switches = jaxpool.max_pool_with_argmax(x, (3, 3), (2, 2))

        def unpool(combine):
            return lambda x: jaxpool.max_unpool(
                values, switches, x.shape, (3, 3), 2, combine=combine
            )

        entry_points = {
            "max_pool": lambda x: jaxpool.max_pool(x, (3, 3), (2, 2), "SAME"),
            "max_pool, axis by axis": lambda x: jaxpool.max_pool(x, (5, 5), (1, 1), "SAME"),
            "max_pool_with_argmax": lambda x: jaxpool.max_pool_with_argmax(x, (2, 2), (2, 2)),
            "adaptive_max_pool": lambda x: jaxpool.adaptive_max_pool(x, (4, 3)),
            "max_unpool, sum": unpool("sum"),
            "max_unpool, max": unpool("max"),
        }
        for name, entry_point in entry_points.items():
            equations = jax.make_jaxpr(entry_point)(x).jaxpr.eqns
            self.assertEqual(len(equations), 1, name)
            (equation,) = equations
            # (JAX before 0.7 names the custom_vjp primitive custom_vjp_call_jaxpr.)
            if equation.primitive.name.startswith(("custom_vjp_call", "custom_jvp_call")):
                # The autodiff wrapper around one jitted primal computation.
                params = equation.params
                inner = params["call_jaxpr"] if "call_jaxpr" in params else params["fun_jaxpr"]
                equations = inner.jaxpr.eqns
            names = [{"pjit": "jit"}.get(e.primitive.name, e.primitive.name) for e in equations]
            self.assertEqual(names, ["jit"], name)  # (pjit before jax 0.5)

    def test_donate_argnums(self):
        expected_input = _inputs((2, 7, 6, 3))
        expected = jax.grad(lambda x: jnp.sum(_reference(SETTINGS["disjoint"])(x) ** 2))(
            expected_input
        )
        for mode in MODES:
            pool = _pool(mode, SETTINGS["disjoint"])
            grad = jax.jit(jax.grad(lambda x, p=pool: jnp.sum(p(x) ** 2)), donate_argnums=0)
            with warnings.catch_warnings():
                # The CPU backend may decline a donation; that is not an error.
                warnings.filterwarnings("ignore", "Some donated buffers were not usable")
                actual = grad(jnp.array(expected_input))
            np.testing.assert_array_equal(actual, expected)

    def test_export_round_trip_of_a_jitted_gradient(self):
        x = _inputs((2, 7, 6, 3))
        expected = jax.grad(lambda x: jnp.sum(_reference(SETTINGS["overlapping"])(x) ** 2))(x)
        for mode in MODES:
            pool = _pool(mode, SETTINGS["overlapping"])
            grad = jax.jit(jax.grad(lambda x, p=pool: jnp.sum(p(x) ** 2)))
            serialized = jax.export.export(grad)(jax.ShapeDtypeStruct(x.shape, x.dtype)).serialize()
            restored = jax.export.deserialize(serialized)
            np.testing.assert_allclose(restored.call(x), expected, rtol=1e-6)

    def test_float64(self):
        with enable_x64(True):
            x = _inputs((2, 7, 6, 3), dtype="float64")
            self._check_gradient(lambda pool: lambda x: jnp.sum(pool(x) ** 3), x)
            for mode in MODES:
                self.assertEqual(_pool(mode, SETTINGS["overlapping"])(x).dtype, jnp.float64)

    @parameterized.parameters("bfloat16", "float16")
    def test_sixteen_bit_inputs_with_a_float32_loss(self, dtype):
        x = _inputs((2, 7, 6, 3), "ties", dtype)
        for name in SETTINGS:
            settings_ = SETTINGS[name]

            def loss(pool):
                return lambda x: jnp.sum(pool(x).astype(jnp.float32) ** 2)

            expected = jax.grad(loss(_reference(settings_)))(x)
            for mode in MODES:
                actual = jax.grad(loss(_pool(mode, settings_)))(x)
                self.assertEqual(actual.dtype, jnp.dtype(dtype))
                # Overlapping sums: float32 here, 16-bit in reduce_window.
                tolerance = 0 if name == "disjoint" else 2e-2
                np.testing.assert_allclose(
                    np.asarray(actual, np.float32),
                    np.asarray(expected, np.float32),
                    rtol=tolerance,
                )

    @parameterized.parameters("int32", "uint8")
    def test_integer_inputs(self, dtype):
        x = _inputs((2, 7, 6, 3), "ties").astype(dtype)
        for mode in MODES:
            pool = _pool(mode, SETTINGS["overlapping"])
            values, vjp = jax.vjp(pool, x)
            expected = _reference(SETTINGS["overlapping"])(x.astype(jnp.float32))
            np.testing.assert_array_equal(values, expected.astype(dtype))
            (gradient,) = vjp(np.zeros(values.shape, jax.dtypes.float0))
            self.assertEqual(gradient.dtype, jax.dtypes.float0)
            _, tangent = jax.jvp(pool, (x,), (np.zeros(x.shape, jax.dtypes.float0),))
            self.assertEqual(tangent.dtype, jax.dtypes.float0)
