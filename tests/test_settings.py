"""The whole public API under the JAX settings a user may choose.

conftest.py runs every test with ``jax_numpy_rank_promotion='raise'``.
Here each public function and layer runs under the other settings:
traced and lowered under ``jax_numpy_dtype_promotion='strict'`` with
``jax_enable_checks``; compiled and run under ``jax_enable_x64`` with
``jax_debug_nans`` and ``jax_debug_infs``; and, one case per function, run
op by op under ``jax_disable_jit`` with ``jax_debug_nans``, where every
intermediate is checked (jaxpool makes no NaN where the input has none).
Values and gradients must equal those under the default settings, which the other test
modules check against the references: bit for bit for the max family, to
rounding for averages (whose sums XLA may order otherwise when jitted).
:func:`test_every_public_name_has_a_case` fails when a public name has no
case here, so a new op cannot skip this.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from references import enable_x64
from references import example_inputs

import jaxpool
import jaxpool.functional as F

NCHW = (2, 3, 9, 8)
NHWC = (2, 9, 8, 3)


def _settings(*managers):
    def enter():
        stack = contextlib.ExitStack()
        for manager in managers:
            stack.enter_context(manager())
        return stack

    return enter


# Settings that change how programs are traced: a traced and lowered
# program shows everything they check, so nothing here is compiled.
TRACE_SETTINGS = _settings(
    lambda: jax.numpy_dtype_promotion("strict"), lambda: jax.enable_checks(True)
)
# Settings that change what runs: compiled and run, once, together.
RUN_SETTINGS = _settings(
    lambda: enable_x64(True), lambda: jax.debug_nans(True), lambda: jax.debug_infs(True)
)
# With jit disabled every intermediate is checked for NaN, op by op.
OP_BY_OP_SETTINGS = _settings(jax.disable_jit, lambda: jax.debug_nans(True))


class Case:
    """``run(x)`` exercises the public ``names`` on a float32 input of
    ``shape``; ``differentiable`` says whether its float output has a
    gradient to compare too (the layers', which call these functions, are
    compared forward); ``op_by_op`` whether it also runs with jit disabled
    (one case per function). The names of averages (sums) compare to
    rounding, the rest exactly."""

    def __init__(self, names, shape, run, differentiable=True, op_by_op=False):
        self.names, self.shape, self.run = names, shape, run
        self.differentiable, self.op_by_op = differentiable, op_by_op
        self.exact = not any("avg" in name.lower() or "lp_" in name for name in names)


def _values(output):
    """The float outputs of a call that may also return switches or indices."""
    return output[0] if isinstance(output, tuple) else output


def _unpool_core(x):
    values, switches = jaxpool.max_pool_with_argmax(x, (3, 3), (2, 2), "SAME")
    indices = jaxpool.switches_to_indices(switches, x.shape, (3, 3), (2, 2), "SAME")
    again = jaxpool.indices_to_switches(indices, x.shape, (3, 3), (2, 2), "SAME")
    return jaxpool.max_unpool(values, again, x.shape, (3, 3), (2, 2), "SAME")


def _unpool_functional(x):
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    return F.max_unpool2d(values, indices, 2, output_size=x.shape[-2:])


def _first_of_each_op_by_op(cases, wanted=lambda name: True):
    """``cases``, the first case of each name that ``wanted`` also op by op."""
    seen = set()
    for case in cases:
        fresh = [name for name in case.names if wanted(name) and name not in seen]
        case.op_by_op = bool(fresh)
        seen.update(fresh)
    return cases


def _forward_only(cases):
    for case in cases:
        case.differentiable = False
    return cases


def _core_cases():
    return _first_of_each_op_by_op(
        [
            Case(["max_pool"], NHWC, lambda x: jaxpool.max_pool(x, (3, 3), (2, 2), "SAME")),
            Case(["max_pool"], NHWC, lambda x: jaxpool.max_pool(x, (3, 3), 1, "SAME")),
            Case(["max_pool"], NHWC, lambda x: jaxpool.max_pool(x, (7, 7), 1, 3)),
            Case(["max_pool"], NHWC, lambda x: jaxpool.max_pool(x, (9, 8), (9, 8))),
            Case(
                ["max_pool"],
                NHWC,
                lambda x: jaxpool.max_pool(x, (3, 3), 2, 1, window_dilation=2, autodiff="jvp"),
            ),
            Case(
                ["max_pool_with_argmax"],
                NCHW,
                lambda x: jaxpool.max_pool_with_argmax(
                    x, (2, 2), 2, ceil_mode=True, channel_axis=1
                ),
            ),
            Case(["min_pool"], NHWC, lambda x: jaxpool.min_pool(x, (3, 3), (2, 2), "SAME")),
            Case(
                ["min_pool_with_argmin"], NHWC, lambda x: jaxpool.min_pool_with_argmin(x, (2, 2), 2)
            ),
            Case(["avg_pool"], NHWC, lambda x: jaxpool.avg_pool(x, (3, 3), 2, 1, ceil_mode=True)),
            Case(["avg_pool"], NHWC, lambda x: jaxpool.avg_pool(x, (5, 5), 1, "SAME")),
            Case(
                ["avg_pool"],
                NHWC,
                lambda x: jaxpool.avg_pool(jnp.round(x * 4).astype(jnp.int32), (2, 2), 2),
                differentiable=False,
            ),
            Case(["lp_pool"], NHWC, lambda x: jaxpool.lp_pool(x, 2, (2, 2), 2)),
            Case(["lp_pool"], NHWC, lambda x: jaxpool.lp_pool(jnp.abs(x), 1.5, (3, 2), 1)),
            Case(["adaptive_max_pool"], NHWC, lambda x: jaxpool.adaptive_max_pool(x, (4, 3))),
            Case(
                ["adaptive_max_pool_with_argmax"],
                NHWC,
                lambda x: jaxpool.adaptive_max_pool_with_argmax(x, (1, 1)),
            ),
            Case(["adaptive_avg_pool"], NHWC, lambda x: jaxpool.adaptive_avg_pool(x, (4, 3))),
            Case(["adaptive_avg_pool"], NHWC, lambda x: jaxpool.adaptive_avg_pool(x, (1, 1))),
            Case(["max_unpool", "switches_to_indices", "indices_to_switches"], NHWC, _unpool_core),
        ]
    )


def _functional_cases():
    shapes = {1: (2, 3, 11), 2: NCHW, 3: (1, 2, 5, 6, 7)}
    cases = []
    for d, shape in shapes.items():
        cases += [
            Case([f"max_pool{d}d"], shape, lambda x, d=d: getattr(F, f"max_pool{d}d")(x, 3, 2, 1)),
            Case(
                [f"avg_pool{d}d"],
                shape,
                lambda x, d=d: getattr(F, f"avg_pool{d}d")(x, 3, 2, 1, ceil_mode=True),
            ),
            Case([f"lp_pool{d}d"], shape, lambda x, d=d: getattr(F, f"lp_pool{d}d")(x, 2, 2)),
            Case(
                [f"adaptive_max_pool{d}d"],
                shape,
                lambda x, d=d: getattr(F, f"adaptive_max_pool{d}d")(x, 3, return_indices=True),
            ),
            Case(
                [f"adaptive_avg_pool{d}d"],
                shape,
                lambda x, d=d: getattr(F, f"adaptive_avg_pool{d}d")(x, 3),
            ),
        ]
        if d > 1:
            cases.append(
                Case(
                    [f"fractional_max_pool{d}d"],
                    shape,
                    lambda x, d=d: getattr(F, f"fractional_max_pool{d}d")(
                        x, 2, output_ratio=0.5, key=jax.random.key(0)
                    ),
                )
            )

        def unpool(x, d=d):
            values, indices = getattr(F, f"max_pool{d}d")(x, 2, return_indices=True)
            return getattr(F, f"max_unpool{d}d")(values, indices, 2, output_size=x.shape[-d:])

        cases.append(Case([f"max_unpool{d}d"], shape, unpool))
    return _first_of_each_op_by_op(
        cases, lambda name: name.startswith(("fractional", "max_unpool"))
    )


def _linen_cases(module_name):
    if module_name == "nnx":

        def call(layer, *args):
            return layer(*args)

    else:

        def call(layer, *args):
            return layer.apply({}, *args)

    layers = importlib.import_module(f"jaxpool.{module_name}")

    def unpool(x):
        values, switches = call(layers.MaxPool((2, 2), (2, 2), return_switches=True), x)
        return call(layers.MaxUnpool((2, 2), (2, 2)), values, switches, x.shape)

    return [
        Case(["MaxPool"], NHWC, lambda x: call(layers.MaxPool((3, 3), (2, 2), "SAME"), x)),
        Case(["MinPool"], NHWC, lambda x: call(layers.MinPool((3, 3), (2, 2), "SAME"), x)),
        Case(["AvgPool"], NHWC, lambda x: call(layers.AvgPool((3, 3), (2, 2), "SAME"), x)),
        Case(["AdaptiveMaxPool"], NHWC, lambda x: call(layers.AdaptiveMaxPool((4, 3)), x)),
        Case(["AdaptiveAvgPool"], NHWC, lambda x: call(layers.AdaptiveAvgPool((4, 3)), x)),
        Case(["MaxUnpool"], NHWC, unpool),
    ]


def _haiku_cases():
    import haiku as hk

    from jaxpool import haiku as layers

    def transformed(build):
        return lambda x: hk.without_apply_rng(hk.transform(lambda x: build()(x))).apply({}, x)

    return [
        Case(["max_pool"], NHWC, lambda x: layers.max_pool(x, 3, 2, "SAME")),
        Case(["avg_pool"], NHWC, lambda x: layers.avg_pool(x, 3, 2, "SAME")),
        Case(["MaxPool"], NHWC, transformed(lambda: layers.MaxPool(3, 2, "SAME"))),
        Case(["AvgPool"], NHWC, transformed(lambda: layers.AvgPool(3, 2, "VALID"))),
    ]


def _equinox_cases():
    from jaxpool import equinox as layers

    cases = []
    for d, shape in {1: (3, 11), 2: (3, 9, 8), 3: (2, 5, 6, 7)}.items():

        def unpool(x, d=d):
            values, switches = layers.MaxPool(d, 2, 2, return_switches=True)(x)
            return getattr(layers, f"MaxUnpool{d}d")(2, 2)(values, switches, x.shape)

        cases += [
            Case(
                [f"MaxPool{d}d", "MaxPool"],
                shape,
                lambda x, d=d: getattr(layers, f"MaxPool{d}d")(3, 2, 1)(x),
            ),
            Case(
                [f"AvgPool{d}d", "AvgPool"],
                shape,
                lambda x, d=d: getattr(layers, f"AvgPool{d}d")(3, 2, 1, use_ceil=True)(x),
            ),
            Case(
                [f"AdaptiveMaxPool{d}d", "AdaptiveMaxPool"],
                shape,
                lambda x, d=d: getattr(layers, f"AdaptiveMaxPool{d}d")(3)(x),
            ),
            Case(
                [f"AdaptiveAvgPool{d}d", "AdaptiveAvgPool"],
                shape,
                lambda x, d=d: getattr(layers, f"AdaptiveAvgPool{d}d")(3)(x),
            ),
            Case([f"MaxUnpool{d}d", "MaxUnpool"], shape, unpool),
        ]
    return cases


def _keras_cases():
    from jaxpool import keras as layers

    shapes = {1: (2, 11, 3), 2: NHWC, 3: (1, 5, 6, 7, 2)}
    kinds = ("MaxPooling", "AveragePooling", "GlobalMaxPooling", "GlobalAveragePooling")
    aliases = {"MaxPooling": "MaxPool", "AveragePooling": "AvgPool"}
    aliases.update(GlobalMaxPooling="GlobalMaxPool", GlobalAveragePooling="GlobalAvgPool")
    cases = []
    for d, shape in shapes.items():

        def run(x, d=d):
            return (
                getattr(layers, f"MaxPooling{d}D")(3, 2, "same")(x),
                getattr(layers, f"AveragePooling{d}D")(3, 2, "same")(x),
                getattr(layers, f"GlobalMaxPooling{d}D")()(x),
                getattr(layers, f"GlobalAveragePooling{d}D")(keepdims=True)(x),
                getattr(layers, f"AdaptiveMaxPooling{d}D")(3)(x),
                getattr(layers, f"AdaptiveAveragePooling{d}D")(3)(x),
            )

        names = [f"{kind}{d}D" for kind in kinds] + [f"{aliases[kind]}{d}D" for kind in kinds]
        names += [f"AdaptiveMaxPooling{d}D", f"AdaptiveAveragePooling{d}D"]
        case = Case(names, shape, run, differentiable=False)
        # Averages among them: compared to rounding.
        case.exact = False
        cases.append(case)
    return cases


# Public module -> (its cases, the framework it needs).
MODULES = {
    "jaxpool": (_core_cases, None),
    "jaxpool.functional": (_functional_cases, None),
    "jaxpool.linen": (lambda: _forward_only(_linen_cases("linen")), "flax"),
    "jaxpool.nnx": (lambda: _forward_only(_linen_cases("nnx")), "flax"),
    "jaxpool.haiku": (lambda: _forward_only(_haiku_cases()), "haiku"),
    "jaxpool.equinox": (lambda: _forward_only(_equinox_cases()), "equinox"),
    "jaxpool.keras": (_keras_cases, "keras"),
}


def _installed(framework):
    return framework is None or importlib.util.find_spec(framework) is not None


def _all_cases():
    cases = []
    for module, (build, framework) in MODULES.items():
        if not _installed(framework):
            continue
        for index, case in enumerate(build()):
            cases.append(pytest.param(module, case, id=f"{module}:{'+'.join(case.names)}:{index}"))
    return cases


CASES = _all_cases()


def test_every_public_name_has_a_case():
    for module, (_, framework) in MODULES.items():
        if not _installed(framework):
            continue
        public = set(importlib.import_module(module).__all__)
        covered = {
            name for param in CASES if param.values[0] == module for name in param.values[1].names
        }
        assert public == covered, f"{module}: no case for {sorted(public - covered)}"


def _programs(case):
    """The case's forward and (where differentiable) gradient, jitted."""
    programs = [jax.jit(case.run)]
    if case.differentiable:

        def loss(x):
            values = _values(case.run(x))
            return jnp.sum(values * values)

        programs.append(jax.jit(jax.grad(loss)))
    return programs


def _outputs(case, x):
    return [np.asarray(leaf) for run in _programs(case) for leaf in jax.tree.leaves(run(x))]


_DEFAULTS: dict[int, list[np.ndarray]] = {}


def _assert_equal_to_default(case, x, settings_):
    if id(case) not in _DEFAULTS:
        _DEFAULTS[id(case)] = _outputs(case, x)
    expected = _DEFAULTS[id(case)]
    with settings_():
        actual = _outputs(case, x)
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert got.shape == want.shape
        if case.exact or got.dtype.kind != "f":
            # Only widths may change, under x64 (int32 indices to int64).
            np.testing.assert_array_equal(got, want.astype(got.dtype))
        else:
            np.testing.assert_allclose(got, want, rtol=2e-6)


@pytest.mark.parametrize("module, case", CASES)
def test_traces_under_strict_dtype_promotion_and_enabled_checks(module, case):
    x = jax.ShapeDtypeStruct(case.shape, jnp.float32)
    with TRACE_SETTINGS():
        for program in _programs(case):
            program.lower(x)


@pytest.mark.parametrize("module, case", CASES)
def test_equal_results_under_x64_and_nan_and_inf_checks(module, case):
    _assert_equal_to_default(case, example_inputs(case.shape, seed=3), RUN_SETTINGS)


@pytest.mark.parametrize("module, case", [param for param in CASES if param.values[1].op_by_op])
def test_equal_results_op_by_op_with_nan_checks(module, case):
    _assert_equal_to_default(case, example_inputs(case.shape, seed=3), OP_BY_OP_SETTINGS)


def test_every_function_runs_op_by_op():
    for module in ("jaxpool", "jaxpool.functional"):
        public = set(importlib.import_module(module).__all__)
        covered = {
            name
            for param in CASES
            if param.values[0] == module and param.values[1].op_by_op
            for name in param.values[1].names
        }
        missing = sorted(public - covered)
        if module == "jaxpool.functional":
            # Only the functions that are not one of the core's under another name.
            missing = [name for name in missing if name.startswith(("fractional", "max_unpool"))]
        assert not missing, f"{module}: no op-by-op case for {missing}"
