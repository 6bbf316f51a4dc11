"""What the framework layer tests share: inputs without ties, and the check
that a layer pools and differentiates as its framework's own pooling."""

from __future__ import annotations

import functools
import importlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest


def distinct_inputs(shape, seed=0):
    """Float32 inputs whose values are all different, so every window has a
    single maximum and the switch is the same in every implementation."""
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 3.0, jnp.float32)


def positive_cotangent(shape, seed=1):
    # Positive, so sums over overlapping windows do not cancel.
    return jnp.asarray(np.random.default_rng(seed).uniform(0.5, 1.5, size=shape), jnp.float32)


def _values_and_gradient(pool, cotangent):
    def run(x):
        values, vjp = jax.vjp(pool, x)
        return values, vjp(cotangent)[0]

    return run


def assert_pools_like(variant, pool, reference, x, *, overlap):
    """``pool`` (run through ``variant``: with or without jit) gives the
    values of ``reference`` bit for bit, and its gradient too where windows
    do not overlap; where they do, the same sums in another order."""
    cotangent = positive_cotangent(jax.eval_shape(reference, x).shape)
    values, gradient = variant(_values_and_gradient(pool, cotangent))(x)
    expected_values, expected_gradient = jax.jit(_values_and_gradient(reference, cotangent))(x)
    assert values.shape == expected_values.shape
    np.testing.assert_array_equal(values, expected_values)
    if overlap:
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6)
    else:
        np.testing.assert_array_equal(gradient, expected_gradient)
    # Every output sends its cotangent somewhere: nothing is lost or doubled.
    np.testing.assert_allclose(gradient.sum(), cotangent.sum(), rtol=1e-5)


def assert_averages_like(variant, pool, reference, x):
    """``pool`` (through ``variant``) gives the values and the gradient of
    ``reference``, an average pooling, to float rounding (the divisions may
    be ordered differently)."""
    cotangent = positive_cotangent(jax.eval_shape(reference, x).shape)
    values, gradient = variant(_values_and_gradient(pool, cotangent))(x)
    expected_values, expected_gradient = jax.jit(_values_and_gradient(reference, cotangent))(x)
    assert values.shape == expected_values.shape
    np.testing.assert_allclose(values, expected_values, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-6, atol=1e-7)


def assert_import_names_the_extra(monkeypatch, module, frameworks, extra):
    """Importing ``module`` with ``frameworks`` missing raises an ImportError
    that says which extra to install."""
    for name in list(sys.modules):
        if any(name == f or name.startswith(f + ".") for f in frameworks):
            monkeypatch.delitem(sys.modules, name)
    for framework in frameworks:
        # None in sys.modules makes ``import framework`` fail.
        monkeypatch.setitem(sys.modules, framework, None)
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(ImportError, match=rf'pip install "jaxpool\[{extra}\]"'):
        importlib.import_module(module)


def arange_input(shape, dtype="float32"):
    """``jnp.arange`` of ``prod(shape)`` elements in ``shape``: the input of
    most of the frameworks' own pooling tests."""
    return jnp.arange(np.prod(shape), dtype=dtype).reshape(shape)


def values_and_gradient(pool, loss=jnp.sum):
    """A function of ``x``: ``pool(x)`` and the gradient of ``loss(pool(x))``."""

    def run(x):
        values, vjp = jax.vjp(pool, x)
        return values, vjp(jax.grad(loss)(values))[0]

    return run


def assert_framework_case(
    variant, layer, reference, x, answer, *, atol=0.0, gradient=None, loss=jnp.sum
):
    """One case of a framework's own pooling test: ``layer``, run through
    ``variant`` (with or without jit), gives on ``x`` the values, shape and
    dtype of ``reference`` (the framework's own pooling, jitted) bit for bit,
    and the ``answer`` the framework's test gives by hand (to its ``atol``,
    if the test has one); with ``gradient``, the gradient of
    ``loss(layer(x))`` equals the framework's bit for bit and that
    hand-given gradient."""
    if gradient is None:
        values, expected = variant(layer)(x), jax.jit(reference)(x)
    else:
        values, grad = variant(values_and_gradient(layer, loss))(x)
        expected, expected_grad = jax.jit(values_and_gradient(reference, loss))(x)
        assert grad.dtype == expected_grad.dtype == x.dtype
        np.testing.assert_array_equal(grad, expected_grad)
        assert np.shape(gradient) == grad.shape
        np.testing.assert_array_equal(grad, gradient)
    assert (values.shape, values.dtype) == (expected.shape, expected.dtype)
    np.testing.assert_array_equal(values, expected)
    assert np.shape(answer) == values.shape
    np.testing.assert_allclose(values, answer, rtol=0, atol=atol)


def assert_values_and_gradient(pool, x, values, gradient):
    """``pool(x)`` is ``values`` and the gradient of its sum ``gradient``,
    eagerly: the layers of the frameworks then share jaxpool's compiled
    operations, where jit would compile each anew."""
    result, grad = values_and_gradient(pool)(x)
    np.testing.assert_array_equal(result, values)
    np.testing.assert_array_equal(grad, gradient)


def assert_differences_from_framework(pools, *, min_pool=False):
    """The differences that docs/layers.md lists between jaxpool's layers and
    their framework's own pooling, and the rules they share, on 1-D signals.

    ``pools(kind, window, stride, padding)`` returns ``(ours, theirs)``:
    jaxpool's layer and the framework's own pooling of ``kind`` (``"max"``,
    ``"avg"`` or ``"min"``) with these settings (``padding`` ``"VALID"`` or
    ``"SAME"``), each a function of a 1-D array that returns one.
    """
    nan, inf = float("nan"), float("inf")
    # Windows [3, 3], [NaN, 1], [3, NaN]. Ties: to the first maximum in
    # both. NaN: the same values; jaxpool's gradient goes to the window's
    # first NaN, the framework's (XLA's select-and-scatter) to the 1 of
    # [NaN, 1].
    ours, theirs = pools("max", 2, 2, "VALID")
    x = jnp.array([3.0, 3.0, nan, 1.0, 3.0, nan])
    assert_values_and_gradient(ours, x, [3.0, nan, nan], [1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    assert_values_and_gradient(theirs, x, [3.0, nan, nan], [1.0, 0.0, 0.0, 1.0, 0.0, 1.0])
    # -inf beside the padding, windows [pad, -inf, -inf], [-inf, -inf, 5],
    # [-inf, 5, pad]: jaxpool never selects the padding while the window
    # holds an input element; the framework's first window selects it, and
    # its gradient is lost. Min pooling likewise, with +inf.
    cases = [("max", 1.0)] + [("min", -1.0)] * min_pool
    for kind, sign in cases:
        ours, theirs = pools(kind, 3, 1, "SAME")
        x = sign * jnp.array([-inf, -inf, 5.0])
        values = sign * jnp.array([-inf, 5.0, 5.0])
        assert_values_and_gradient(ours, x, values, [1.0, 0.0, 2.0])
        assert_values_and_gradient(theirs, x, values, [0.0, 0.0, 2.0])
    # Averages: int8 sums wrap in the framework (100 + 100 = -56), not here;
    # 16-bit floats are summed in float32 here (2051 / 4 = 512.75, rounded to
    # 513), in float16 there (2048 + 1 = 2048).
    averages = [
        (2, jnp.array([100, 100, 120, 120], jnp.int8), [100.0, 120.0], [-28.0, -8.0], jnp.float32),
        (4, jnp.array([2048.0, 1.0, 1.0, 1.0], jnp.float16), [513.0], [512.0], jnp.float16),
    ]
    for window, x, our_answer, their_answer, dtype in averages:
        ours, theirs = (pool(x) for pool in pools("avg", window, window, "VALID"))
        assert ours.dtype == theirs.dtype == dtype
        np.testing.assert_array_equal(ours, our_answer)
        np.testing.assert_array_equal(theirs, their_answer)
    # Bool inputs, which the framework's average refuses, count as 0 and 1.
    ours, theirs = pools("avg", 2, 2, "VALID")
    np.testing.assert_array_equal(ours(jnp.array([True, False])), [0.5])
    with pytest.raises(TypeError):
        theirs(jnp.array([True, False]))
    # A window longer than the input: the framework returns no windows,
    # jaxpool refuses.
    x = jnp.arange(6.0)
    for kind in ("max", "avg"):
        ours, theirs = pools(kind, 7, 1, "VALID")
        assert jax.eval_shape(theirs, x).shape == (0,)
        with pytest.raises(ValueError, match="the output would be empty"):
            jax.eval_shape(ours, x)


# Cases from Flax's own pooling tests, PoolTest in flax tests/linen/linen_test.py
# (flax.nnx's pooling is flax.linen's): (name, kind, keyword arguments, input,
# hand-given answer, hand-given gradient of the sum or None). Its
# test_pool_custom_reduce has no counterpart: jaxpool has no pooling with a
# reduction of one's own.
_AVG_POOL_GRADIENT = np.array([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
FLAX_POOL_TEST_CASES = [
    *(
        (
            f"avg_pool{suffix}_count_include_pad_{count_include_pad}",
            "avg",
            dict(window_shape=(2, 2), count_include_pad=count_include_pad),
            np.full((*shape, 1), 2.0, np.float32),
            np.full((*shape[:-2], 2, 2, 1), 2.0),
            _AVG_POOL_GRADIENT.reshape((*shape, 1)),
        )
        for suffix, shape in (("", (1, 3, 3)), ("_no_batch", (3, 3)))
        for count_include_pad in (True, False)
    ),
    (
        "max_pool",
        "max",
        dict(window_shape=(2, 2)),
        np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1),
        np.array([[4.0, 5.0], [7.0, 8.0]]).reshape(1, 2, 2, 1),
        np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]).reshape(1, 3, 3, 1),
    ),
    *(
        (
            f"avg_pool_padding_same_count_include_pad_{count_include_pad}",
            "avg",
            dict(window_shape=(2, 2), padding="SAME", count_include_pad=count_include_pad),
            np.array([1.0, 2.0, 3.0, 4.0], np.float32).reshape(1, 2, 2, 1),
            np.array(answer).reshape(1, 2, 2, 1),
            None,
        )
        for count_include_pad, answer in (
            (True, [10.0 / 4, 6.0 / 4, 7.0 / 4, 4.0 / 4]),
            (False, [10.0 / 4, 6.0 / 2, 7.0 / 2, 4.0 / 1]),
        )
    ),
    # The two shape tests: zeros in, zeros of that shape out.
    (
        "pooling_variable_batch_dims",
        "max",
        dict(window_shape=(2, 2), strides=(2, 2)),
        np.zeros((1, 8, 32, 32, 3), np.float32),
        np.zeros((1, 8, 16, 16, 3)),
        None,
    ),
    (
        "pooling_no_batch_dims",
        "max",
        dict(window_shape=(2, 2), strides=(2, 2)),
        np.zeros((32, 32, 3), np.float32),
        np.zeros((16, 16, 3)),
        None,
    ),
]


def assert_flax_case(variant, layer, pooling, kind, settings, x, answer, gradient):
    """A case of :data:`FLAX_POOL_TEST_CASES` (``kind``, ``settings``, ``x``,
    ``answer``, ``gradient``) checked by :func:`assert_framework_case`:
    ``layer(kind, **settings)`` is jaxpool's Flax layer as a function,
    ``pooling`` the module of Flax's pooling functions."""
    reference = functools.partial(getattr(pooling, f"{kind}_pool"), **settings)
    assert_framework_case(variant, layer(kind, **settings), reference, x, answer, gradient=gradient)


def assert_flax_differences(layer, pooling):
    """:func:`assert_differences_from_framework` for jaxpool's Flax layers,
    min pooling included, and what Flax's pooling does beyond it, on 1-D
    signals of one feature: ``layer(kind, *args, **settings)`` is jaxpool's
    layer of ``kind`` as a function (built when it is called), ``pooling``
    the module of Flax's pooling functions (``flax.linen.pooling``, or
    ``flax.nnx``, which has linen's)."""

    def pools(kind, window, stride, padding, **keywords):
        settings = ((window,), (stride,), padding)
        reference = getattr(pooling, f"{kind}_pool")
        return (
            lambda x: layer(kind, *settings, **keywords)(x[:, None])[:, 0],
            lambda x: reference(x[:, None], *settings, **keywords)[:, 0],
        )

    assert_differences_from_framework(pools, min_pool=True)
    # count_include_pad=False and a window wholly in padding: Flax divides 0
    # by 0, jaxpool outputs 0.
    ours, theirs = pools("avg", 2, 2, ((2, 2),), count_include_pad=False)
    x = jnp.array([3.0, 1.0])
    np.testing.assert_array_equal(ours(x), [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(theirs(x), [float("nan"), 2.0, float("nan")])
    # count_include_pad=False on 16-bit floats: Flax's divisor is float32, and
    # so is its average; jaxpool's keeps the input's dtype.
    ours, theirs = pools("avg", 4, 4, "VALID", count_include_pad=False)
    x = jnp.array([2048.0, 1.0, 1.0, 1.0], jnp.float16)
    assert (ours(x).dtype, theirs(x).dtype) == (jnp.float16, jnp.float32)
    np.testing.assert_array_equal(ours(x), [513.0])
    np.testing.assert_array_equal(theirs(x), [512.0])
    # Padding Flax passes to lax.reduce_window and jaxpool refuses: negative
    # (Flax crops the input) and "SAME_LOWER" (the odd padding low).
    x = jnp.arange(4.0)
    for padding, expected, message in [
        (((-1, 0),), [2.0, 3.0], "padding must be non-negative"),
        ("SAME_LOWER", [0.0, 1.0, 2.0, 3.0], "padding string must be 'VALID' or 'SAME'"),
    ]:
        ours, theirs = pools("max", 2, 1, padding)
        np.testing.assert_array_equal(theirs(x), expected)
        with pytest.raises(ValueError, match=message):
            ours(x)
