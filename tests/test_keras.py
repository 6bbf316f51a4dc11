"""Tests for jaxpool.keras against Keras's own pooling layers, on Keras's JAX backend.

The cases are those of Keras 3.15's own tests, adapted: the shapes, pool
sizes, strides, paddings and data formats of
``keras/src/layers/pooling/{max,average}_pooling_test.py`` (the basic and the
correctness tests), ``global_{max,average}_pooling_test.py``,
``adaptive_pooling{1,2,3}d_test.py`` and the pooling tests of
``keras/src/ops/nn_test.py``, with jaxpool's own overlapping and uneven
cases added. The inputs are ``distinct_inputs`` (no ties, sums that round)
rather than Keras's ``np.arange``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from layer_cases import assert_averages_like
from layer_cases import assert_import_names_the_extra
from layer_cases import assert_pools_like
from layer_cases import distinct_inputs

# conftest.py sets KERAS_BACKEND=jax unless the environment chose another.
if os.environ.get("KERAS_BACKEND") != "jax":
    pytest.skip(
        f"jaxpool.keras needs KERAS_BACKEND=jax; it is {os.environ.get('KERAS_BACKEND')!r}",
        allow_module_level=True,
    )
keras = pytest.importorskip("keras")

import jaxpool.keras  # noqa: E402

# Keras's own, when it copies an array to NumPy (keras/src/backend/jax/core.py).
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

ROOT = Path(__file__).resolve().parents[1]

# (pool_size, strides, padding, data_format, input shape). Every shape here
# is channels-last, (batch, *spatial, channels); for channels_first the
# channels move to axis 1.
MAX_POOLING = {
    1: [
        (2, 1, "valid", "channels_last", (3, 5, 4)),  # max_pooling_test.py, basic
        (2, 1, "same", "channels_first", (3, 5, 4)),
        ((2,), (2,), "valid", "channels_last", (3, 5, 4)),
        ((2,), (2,), "valid", "channels_first", (2, 3, 4)),  # correctness
        (2, 2, "same", "channels_last", (2, 20, 3)),  # nn_test.py
        (3, 2, "same", "channels_last", (2, 9, 3)),  # overlapping, padded
    ],
    2: [
        (2, 1, "valid", "channels_last", (3, 5, 5, 4)),
        (2, 1, "same", "channels_first", (3, 5, 5, 4)),
        ((2, 3), (2, 2), "valid", "channels_last", (3, 5, 5, 4)),
        ((2, 2), (2, 2), "same", "channels_first", (1, 5, 5, 4)),
        ((2, 3), (3, 3), "same", "channels_last", (1, 5, 5, 4)),
        (2, (2, 1), "same", "channels_last", (2, 10, 9, 3)),
        ((3, 3), (2, 2), "same", "channels_last", (2, 9, 10, 3)),
        ((3, 3), (2, 2), "same", "channels_first", (2, 9, 10, 3)),
    ],
    3: [
        (2, 1, "same", "channels_first", (3, 5, 5, 5, 4)),
        ((2, 3, 2), (2, 2, 1), "valid", "channels_last", (3, 5, 5, 5, 4)),
        ((2, 3, 2), (2, 2, 1), "valid", "channels_first", (2, 3, 4, 5, 2)),
    ],
}
AVERAGE_POOLING = {
    1: [
        (2, 1, "valid", "channels_last", (3, 5, 4)),  # average_pooling_test.py
        (2, 1, "same", "channels_first", (3, 5, 4)),
        ((2,), (2,), "same", "channels_last", (2, 3, 4)),  # a window half padding
        (2, 2, "same", "channels_first", (2, 20, 3)),  # nn_test.py
    ],
    2: [
        (2, 1, "valid", "channels_first", (3, 5, 5, 4)),
        (2, 1, "same", "channels_last", (3, 5, 5, 4)),
        ((2, 3), (2, 2), "same", "channels_last", (3, 5, 5, 4)),
        ((2, 3), (3, 3), "same", "channels_first", (3, 5, 5, 4)),
        (2, (2, 1), "same", "channels_last", (1, 4, 4, 1)),
        ((2, 3), (3, 3), "same", "channels_last", (2, 10, 9, 3)),
        ((3, 3), (2, 2), "same", "channels_last", (2, 9, 10, 3)),
    ],
    3: [
        (2, 1, "same", "channels_first", (3, 5, 5, 5, 4)),
        ((2, 3, 2), (2, 2, 1), "valid", "channels_last", (3, 5, 5, 5, 4)),
        ((2, 2, 2), (2, 2, 1), "same", "channels_first", (2, 3, 4, 5, 2)),
    ],
}
# (data_format, keepdims, input shape): global_{max,average}_pooling_test.py.
GLOBAL_POOLING = {
    1: [("channels_last", False, (3, 5, 4)), ("channels_first", True, (2, 3, 4))],
    2: [
        ("channels_last", True, (3, 5, 6, 4)),
        ("channels_first", False, (2, 3, 4, 4)),
        ("channels_last", False, (2, 65, 65, 2)),  # 4,225 elements a window
    ],
    3: [("channels_first", True, (3, 5, 6, 5, 4)), ("channels_last", False, (2, 3, 3, 5, 4))],
}
# (output_size, data_format, input shape): adaptive_pooling{1,2,3}d_test.py,
# then sizes that do not divide the input (windows overlap and differ in size)
# and one larger than the input.
ADAPTIVE_POOLING = {
    1: [
        (4, "channels_first", (2, 8, 3)),
        (3, "channels_last", (2, 7, 3)),
        (5, "channels_last", (2, 3, 2)),
    ],
    2: [
        (4, "channels_first", (2, 8, 8, 3)),
        ((2, 4), "channels_last", (2, 8, 8, 3)),
        ((4, 3), "channels_first", (2, 9, 10, 3)),
    ],
    3: [((2, 3, 2), "channels_last", (1, 5, 7, 3, 2))],
}


def _cases(table, *names):
    return [
        (name, rank, *case) for name in names for rank, cases in table.items() for case in cases
    ]


def _layers(name, rank, *args, **kwargs):
    """jaxpool's layer and Keras's, built alike."""
    return (
        getattr(jaxpool.keras, f"{name}{rank}D")(*args, **kwargs),
        getattr(keras.layers, f"{name}{rank}D")(*args, **kwargs),
    )


def _input(shape, data_format, seed=0):
    """``shape`` is channels-last; channels_first moves the channels second."""
    x = distinct_inputs(shape, seed)
    return x if data_format == "channels_last" else jnp.moveaxis(x, -1, 1)


def _overlap(pool_size, strides):
    return bool(np.any(np.less(strides, pool_size)))


class AgainstKerasTest(chex.TestCase):
    # Eager runs compile a program per shape: the grids jitted, one case of each kind eagerly.
    @chex.variants(with_jit=True)
    @parameterized.parameters(*_cases(MAX_POOLING, "MaxPooling"))
    def test_max_pooling_equals_keras(self, name, rank, pool_size, strides, padding, fmt, shape):
        ours, theirs = _layers(name, rank, pool_size, strides, padding, fmt)
        overlap = _overlap(pool_size, strides)
        assert_pools_like(self.variant, ours, theirs, _input(shape, fmt), overlap=overlap)

    @chex.variants(with_jit=True)
    @parameterized.parameters(*_cases(AVERAGE_POOLING, "AveragePooling"))
    def test_average_pooling_equals_keras(
        self, name, rank, pool_size, strides, padding, fmt, shape
    ):
        ours, theirs = _layers(name, rank, pool_size, strides, padding, fmt)
        assert_averages_like(self.variant, ours, theirs, _input(shape, fmt))

    @chex.variants(with_jit=True)
    @parameterized.parameters(*_cases(GLOBAL_POOLING, "GlobalMaxPooling"))
    def test_global_max_pooling_equals_keras(self, name, rank, fmt, keepdims, shape):
        ours, theirs = _layers(name, rank, data_format=fmt, keepdims=keepdims)
        assert_pools_like(self.variant, ours, theirs, _input(shape, fmt), overlap=False)

    @chex.variants(with_jit=True)
    @parameterized.parameters(*_cases(GLOBAL_POOLING, "GlobalAveragePooling"))
    def test_global_average_pooling_equals_keras(self, name, rank, fmt, keepdims, shape):
        ours, theirs = _layers(name, rank, data_format=fmt, keepdims=keepdims)
        assert_averages_like(self.variant, ours, theirs, _input(shape, fmt))

    @chex.variants(with_jit=True)
    @parameterized.parameters(*_cases(ADAPTIVE_POOLING, "AdaptiveMaxPooling"))
    def test_adaptive_max_pooling_equals_keras(self, name, rank, output_size, fmt, shape):
        ours, theirs = _layers(name, rank, output_size, fmt)
        spatial = shape[1:-1]
        sizes = np.broadcast_to(output_size, (rank,))
        overlap = bool(np.any(np.asarray(spatial) % sizes))
        assert_pools_like(self.variant, ours, theirs, _input(shape, fmt), overlap=overlap)

    @chex.variants(with_jit=True)
    @parameterized.parameters(*_cases(ADAPTIVE_POOLING, "AdaptiveAveragePooling"))
    def test_adaptive_average_pooling_equals_keras(self, name, rank, output_size, fmt, shape):
        ours, theirs = _layers(name, rank, output_size, fmt)
        assert_averages_like(self.variant, ours, theirs, _input(shape, fmt))

    @chex.variants(without_jit=True)
    @parameterized.parameters(
        ("MaxPooling", 2, ((3, 3), 2, "same", "channels_first"), (2, 7, 6, 3), True),
        ("AveragePooling", 1, (2, 2, "same", "channels_last"), (2, 5, 3), None),
        ("GlobalMaxPooling", 3, ("channels_last", True), (2, 3, 4, 3, 2), False),
        ("GlobalAveragePooling", 2, ("channels_first",), (2, 4, 5, 3), None),
        ("AdaptiveMaxPooling", 1, (3, "channels_last"), (2, 7, 3), True),
        ("AdaptiveAveragePooling", 3, ((2, 3, 2), "channels_first"), (1, 5, 7, 3, 2), None),
    )
    def test_eagerly(self, name, rank, args, shape, overlap):
        ours, theirs = _layers(name, rank, *args)
        x = _input(shape, ours.data_format)
        if overlap is None:
            assert_averages_like(self.variant, ours, theirs, x)
        else:
            assert_pools_like(self.variant, ours, theirs, x, overlap=overlap)

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.product(fmt=("channels_last", "channels_first"), keepdims=(False, True))
    def test_masked_global_average_pooling_1d_equals_keras(self, fmt, keepdims):
        # global_average_pooling_test.py's inputs and masks: steps masked out.
        x = distinct_inputs((2, 3, 4))  # (batch, steps, features) or (batch, features, steps)
        mask = np.array(
            [[1, 1, 0], [0, 1, 0]] if fmt == "channels_last" else [[1, 1, 0, 0], [0, 1, 0, 1]]
        )
        ours, theirs = _layers("GlobalAveragePooling", 1, fmt, keepdims)
        assert_averages_like(self.variant, lambda x: ours(x, mask), lambda x: theirs(x, mask), x)

    @chex.variants(with_jit=True, without_jit=True)
    def test_bfloat16_policy(self):
        # Keras's dtype policy casts the input; max values stay bit for bit,
        # averages differ by bfloat16 rounding (jaxpool sums in float32).
        x = _input((2, 6, 6, 3), "channels_last")
        for name, args, exact in (
            ("MaxPooling", (3, 2, "same"), True),
            ("AveragePooling", (3, 2, "same"), False),
            ("AdaptiveMaxPooling", ((4, 4),), True),
        ):
            ours, theirs = _layers(name, 2, *args, dtype="bfloat16")
            values, expected = self.variant(ours)(x), jax.jit(theirs)(x)
            assert values.dtype == expected.dtype == jnp.bfloat16
            if exact:
                np.testing.assert_array_equal(values, expected)
            else:
                np.testing.assert_allclose(
                    values.astype(jnp.float32), expected.astype(jnp.float32), rtol=2e-2, atol=2e-2
                )


def _every_layer_case():
    """(name, rank, args, kwargs) of every case above, for the shape and config checks."""
    windows = _cases(MAX_POOLING, "MaxPooling") + _cases(AVERAGE_POOLING, "AveragePooling")
    return (
        [(name, rank, case[:4], {}) for name, rank, *case in windows]
        + [
            (name, rank, (), {"data_format": fmt, "keepdims": keepdims})
            for name, rank, fmt, keepdims, _ in _cases(
                GLOBAL_POOLING, "GlobalMaxPooling", "GlobalAveragePooling"
            )
        ]
        + [
            (name, rank, case[:2], {})
            for name, rank, *case in _cases(
                ADAPTIVE_POOLING, "AdaptiveMaxPooling", "AdaptiveAveragePooling"
            )
        ]
    )


@pytest.mark.parametrize("name, rank, args, kwargs", _every_layer_case())
def test_output_shape_and_config_equal_keras(name, rank, args, kwargs):
    ours, theirs = _layers(name, rank, *args, **kwargs)
    shape = (2, *range(11, 11 + rank), 3)
    # Known lengths, an unknown batch, unknown spatial lengths.
    for input_shape in (shape, (None, *shape[1:]), (None, *(None,) * rank, 3)):
        assert ours.compute_output_shape(input_shape) == theirs.compute_output_shape(input_shape)
    x = jax.ShapeDtypeStruct(shape, jnp.float32)
    assert jax.eval_shape(ours, x).shape == theirs.compute_output_shape(shape)
    config, expected_config = ours.get_config(), theirs.get_config()
    assert config.pop("name") != expected_config.pop("name")  # each layer its own
    assert config == expected_config
    rebuilt = type(ours).from_config(json.loads(json.dumps(ours.get_config())))
    assert rebuilt.get_config() == ours.get_config()
    assert ours.built and ours.count_params() == 0 and not ours.weights


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(1, 12),
    pool_size=st.integers(1, 5),
    strides=st.integers(1, 4),
    padding=st.sampled_from(["valid", "same", "SAME"]),
    data_format=st.sampled_from(["channels_last", "channels_first"]),
)
def test_output_shape_is_keras_and_the_call_for_any_window(
    length, pool_size, strides, padding, data_format
):
    ours, theirs = _layers("MaxPooling", 1, pool_size, strides, padding, data_format)
    shape = (2, length, 3) if data_format == "channels_last" else (2, 3, length)
    x = jax.ShapeDtypeStruct(shape, jnp.float32)
    if padding.lower() == "valid" and pool_size > length:
        with pytest.raises(ValueError, match="empty"):
            ours.compute_output_shape(shape)
        with pytest.raises(ValueError, match="zero or negative"):
            theirs.compute_output_shape(shape)
        return
    expected = jax.eval_shape(theirs, x).shape
    assert ours.compute_output_shape(shape) == expected
    assert jax.eval_shape(ours, x).shape == expected
    if padding == "valid":  # Keras's compute_output_shape compares the padding as given
        assert theirs.compute_output_shape(shape) == expected


# --- Keras's own layer-test harness ----------------------------------------------------------

# Cases of Keras's basic tests (max_pooling_test.py, average_pooling_test.py,
# global_*_pooling_test.py) with Keras's flags, one a kind of layer (the
# harness trains a model per case: seconds each); the adaptive tests use no
# harness, so that case is ours. Keras's run_layer_test builds the layer,
# calls it symbolically and eagerly, round-trips its config and its
# serialisation, fits a model of it and runs it under mixed precision.
KERAS_HARNESS = [
    ("MaxPooling1D", (2, 1, "same", "channels_first"), (3, 5, 4), (3, 5, 4), {}),
    ("MaxPooling2D", ((2, 3), (2, 2), "valid", "channels_last"), (3, 5, 5, 4), (3, 2, 2, 4), {}),
    (
        "MaxPooling3D",
        ((2, 3, 2), (2, 2, 1), "valid", "channels_last"),
        (3, 5, 5, 5, 4),
        (3, 2, 2, 4, 4),
        {"run_mixed_precision_check": False},
    ),
    (
        "AveragePooling2D",
        ((2, 3), (3, 3), "same", "channels_first"),
        (3, 5, 5, 4),
        (3, 5, 2, 2),
        {"run_mixed_precision_check": False},
    ),
    ("GlobalMaxPooling2D", ("channels_first", False), (3, 5, 6, 4), (3, 5), {}),
    (
        "GlobalAveragePooling1D",
        ("channels_last", True),
        (3, 5, 4),
        (3, 1, 4),
        {"supports_masking": True},
    ),
    ("AdaptiveMaxPooling2D", ((3, 2), "channels_last"), (2, 7, 5, 3), (2, 3, 2, 3), {}),
]

try:
    from keras.src import testing as keras_testing
except ImportError:  # pragma: no cover - a Keras without its test harness
    keras_testing = None


@pytest.mark.skipif(keras_testing is None, reason="this Keras has no keras.src.testing")
@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed:UserWarning")
class KerasHarnessTest(keras_testing.TestCase if keras_testing else object):
    @parameterized.parameters(*KERAS_HARNESS)
    def test_keras_run_layer_test_passes(self, name, args, input_shape, output_shape, flags):
        layer = getattr(jaxpool.keras, name)
        argument_names = (
            ("output_size", "data_format")
            if name.startswith("Adaptive")
            else ("data_format", "keepdims")
            if name.startswith("Global")
            else ("pool_size", "strides", "padding", "data_format")
        )
        self.run_layer_test(
            layer,
            init_kwargs=dict(zip(argument_names, args)),
            input_shape=input_shape,
            expected_output_shape=output_shape,
            expected_num_trainable_weights=0,
            expected_num_non_trainable_weights=0,
            expected_num_losses=0,
            **{"supports_masking": False, **flags},
            assert_built_after_instantiation=True,
        )


# --- bad arguments -----------------------------------------------------------------------------

# (layer, arguments, jaxpool's error and message, what Keras 3.15 does when the
# layer is built: the error it raises, or None where it accepts the argument
# and fails later, if at all).
BAD_ARGUMENTS = [
    ("MaxPooling2D", {"pool_size": 0}, ValueError, "pool_size.*positive.*0", ValueError),
    (
        "MaxPooling2D",
        {"pool_size": (2, 2, 2)},
        ValueError,
        r"pool_size.*\(2\).*\(2, 2, 2\)",
        ValueError,
    ),
    ("MaxPooling2D", {"pool_size": 2.5}, TypeError, "pool_size.*2.5", ValueError),
    ("MaxPooling2D", {"pool_size": None}, TypeError, "pool_size.*None", ValueError),
    ("MaxPooling1D", {"strides": 0}, ValueError, "strides.*positive.*0", None),
    ("MaxPooling2D", {"strides": (1, -1)}, ValueError, r"strides.*\(1, -1\)", ValueError),
    ("MaxPooling2D", {"padding": "full"}, ValueError, "padding.*'valid' or 'same'.*'full'", None),
    ("AveragePooling2D", {"pool_size": 2, "padding": 1}, TypeError, "padding.*1", None),
    (
        "MaxPooling2D",
        {"data_format": "nhwc"},
        ValueError,
        "data_format.*channels_last.*'nhwc'",
        ValueError,
    ),
    ("GlobalMaxPooling2D", {"data_format": "NCHW"}, ValueError, "data_format.*'NCHW'", ValueError),
    ("GlobalAveragePooling3D", {"keepdims": "yes"}, TypeError, "keepdims.*'yes'", None),
    (
        "AdaptiveMaxPooling2D",
        {"output_size": (2, 2, 2)},
        ValueError,
        r"output_size.*\(2, 2, 2\)",
        TypeError,
    ),
    ("AdaptiveAveragePooling1D", {"output_size": 0}, ValueError, "output_size.*positive.*0", None),
    ("AdaptiveMaxPooling3D", {"output_size": None}, TypeError, "output_size.*None", TypeError),
    (
        "AdaptiveMaxPooling1D",
        {"output_size": 2, "data_format": "cl"},
        ValueError,
        "data_format.*'cl'",
        ValueError,
    ),
]


@pytest.mark.parametrize("name, kwargs, error, pattern, keras_error", BAD_ARGUMENTS)
def test_bad_arguments_fail_when_the_layer_is_built(name, kwargs, error, pattern, keras_error):
    with pytest.raises(error, match=pattern):
        getattr(jaxpool.keras, name)(**kwargs)
    if keras_error is None:
        getattr(keras.layers, name)(**kwargs)  # accepted until it is called
    else:
        with pytest.raises(keras_error):
            getattr(keras.layers, name)(**kwargs)


def test_a_wrong_input_rank_is_keras_input_spec_error():
    for layer in (jaxpool.keras.MaxPooling2D(), keras.layers.MaxPooling2D()):
        with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
            layer(np.zeros((1, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"4 axes.*\(1, 4, 4\)"):
        jaxpool.keras.MaxPooling2D().compute_output_shape((1, 4, 4))


# --- the rules where they differ from Keras's gradient ---------------------------------------


def test_global_max_gradient_goes_to_the_first_tie_where_keras_splits_it():
    # A channel of zeros, as after a ReLU: every element is the maximum.
    x = jnp.zeros((1, 2, 2, 1))
    ours, theirs = _layers("GlobalMaxPooling", 2)
    grad = jax.grad(lambda x: ours(x).sum())(x)
    np.testing.assert_array_equal(grad[0, ..., 0], [[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(jax.grad(lambda x: theirs(x).sum())(x)[0, ..., 0], 0.25)


def test_global_max_keeps_a_nan_that_keras_drops_from_large_windows():
    # XLA:CPU's max reduction (Keras's ops.max) drops NaN from 4,096 elements on.
    x = np.array(distinct_inputs((1, 65, 65, 1)))
    x[0, 10, 20, 0] = np.nan
    ours, theirs = _layers("GlobalMaxPooling", 2)
    assert np.isnan(ours(x)).all() and not np.isnan(theirs(x)).any()
    grad = jax.grad(lambda x: ours(x).sum())(jnp.asarray(x))
    assert grad[0, 10, 20, 0] == 1 and grad.sum() == 1


@pytest.mark.parametrize("transform", [jax.jit, lambda f: f], ids=["jit", "eager"])
def test_nan_and_same_padding_follow_jaxpool_rules(transform):
    # 1-D, window 2, stride 2, "same" on 3 elements: windows [0, 1] and [2, pad].
    pool = jaxpool.keras.MaxPooling1D(2, 2, "same")
    x = jnp.array([1.0, jnp.nan, -jnp.inf]).reshape(1, 3, 1)
    values, gradient = transform(lambda x: (pool(x), jax.grad(lambda x: pool(x).sum())(x)))(x)
    np.testing.assert_array_equal(values[0, :, 0], [jnp.nan, -jnp.inf])
    np.testing.assert_array_equal(values, keras.layers.MaxPooling1D(2, 2, "same")(x))
    # The NaN and the -inf input (not the -inf padding beside it) get the gradient.
    np.testing.assert_array_equal(gradient[0, :, 0], [0.0, 1.0, 1.0])


@pytest.mark.parametrize("transform", [jax.jit, lambda f: f], ids=["jit", "eager"])
@pytest.mark.parametrize(
    "layer",
    [
        pytest.param(
            jaxpool.keras.MaxPooling2D(3, 2, "same", "channels_first"), id="MaxPooling2D-3x3/2"
        ),
        pytest.param(
            jaxpool.keras.MaxPooling2D(2, 1, "same", "channels_first"), id="MaxPooling2D-2x2/1"
        ),
        pytest.param(
            jaxpool.keras.AveragePooling2D(3, 2, "same", "channels_first"), id="AveragePooling2D"
        ),
        pytest.param(jaxpool.keras.GlobalMaxPooling2D("channels_first"), id="GlobalMaxPooling2D"),
        pytest.param(
            jaxpool.keras.GlobalAveragePooling2D("channels_first", keepdims=True),
            id="GlobalAveragePooling2D",
        ),
        pytest.param(
            jaxpool.keras.AdaptiveMaxPooling2D((4, 5), "channels_first"), id="AdaptiveMaxPooling2D"
        ),
        pytest.param(
            jaxpool.keras.AdaptiveAveragePooling2D((4, 5), "channels_first"),
            id="AdaptiveAveragePooling2D",
        ),
    ],
)
def test_every_kind_holds_under_rank_promotion_raise_and_strict_dtypes(layer, transform):
    x = _input((2, 6, 7, 3), "channels_first")
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        values, grad = transform(jax.value_and_grad(lambda x: layer(x).sum()))(x)
    assert grad.shape == x.shape and np.isfinite(values)


@pytest.mark.parametrize("transform", [jax.jit, lambda f: f], ids=["jit", "eager"])
def test_the_masked_average_holds_under_rank_promotion_raise_and_strict_dtypes(transform):
    x = distinct_inputs((2, 7, 3))
    mask = jnp.array([[1, 0, 1, 1, 0, 1, 1], [0, 1, 1, 1, 1, 1, 0]])
    layer = jaxpool.keras.GlobalAveragePooling1D()
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        grad = transform(jax.grad(lambda x: layer(x, mask).sum()))(x)
    np.testing.assert_allclose(grad.sum(axis=2), mask * 3 / mask.sum(axis=1, keepdims=True))


# --- in a model: model.fit, model.save, keras.models.load_model ------------------------------


def _cnn(pooling, *, overlapping):
    """A small CNN whose pooling layers come from ``pooling`` (keras.layers or
    jaxpool.keras): disjoint 2x2 max pooling and a global max, or overlapping
    3x3/2 ``"same"`` max pooling, averages and an adaptive max."""
    conv = keras.layers.Conv2D
    if overlapping:
        pools = [
            pooling.MaxPooling2D(3, 2, "same"),
            conv(8, 3, padding="same", activation="relu"),
            pooling.AveragePooling2D(3, 1, "same"),
            pooling.AdaptiveMaxPooling2D((3, 3)),
            pooling.GlobalAveragePooling2D(),
        ]
    else:
        pools = [
            pooling.MaxPooling2D(2),
            conv(8, 3, padding="same", activation="relu"),
            pooling.MaxPooling2D((2, 2), data_format="channels_last"),
            pooling.GlobalMaxPooling2D(),
        ]
    return keras.Sequential(
        [
            keras.Input((10, 10, 2)),
            conv(6, 3, padding="same", activation="relu"),
            *pools,
            keras.layers.Dense(4),
        ]
    )


class _StepLosses(keras.callbacks.Callback):
    """The loss of each step: with one step an epoch, the epoch's."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append(logs["loss"])


@pytest.fixture
def keras_rank_promotion():
    # Keras's own Dense adds its bias by rank promotion, so a whole model runs
    # under JAX's default; the layers alone hold under "raise" (tests above).
    with jax.numpy_rank_promotion("allow"):
        yield


def _fit(model, weights, x, y, steps):
    model.set_weights(weights)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    record = _StepLosses()
    model.fit(x, y, batch_size=len(x), epochs=steps, shuffle=False, verbose=0, callbacks=[record])
    return np.asarray(record.losses)


@pytest.mark.parametrize("overlapping", [False, True], ids=["disjoint", "overlapping"])
def test_model_fit_losses_equal_keras_step_for_step(overlapping, tmp_path, keras_rank_promotion):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 10, 10, 2)).astype(np.float32)
    y = rng.integers(0, 4, size=32)
    keras.utils.set_random_seed(0)
    theirs = _cnn(keras.layers, overlapping=overlapping)
    ours = _cnn(jaxpool.keras, overlapping=overlapping)
    weights = theirs.get_weights()
    expected = _fit(theirs, weights, x, y, steps=8)
    losses = _fit(ours, weights, x, y, steps=8)
    assert losses[-1] < losses[0]  # it trains
    if overlapping:
        # Overlapping windows add gradients in another order: float rounding.
        np.testing.assert_allclose(losses, expected, rtol=1e-5)
        chex.assert_trees_all_close(ours.get_weights(), theirs.get_weights(), rtol=1e-4, atol=1e-6)
    else:
        np.testing.assert_array_equal(losses, expected)
        chex.assert_trees_all_equal(ours.get_weights(), theirs.get_weights())

    # model.save and load_model restore jaxpool's layers, and the same predictions.
    path = tmp_path / "cnn.keras"
    ours.save(path)
    loaded = keras.models.load_model(path)
    pooling = [layer for layer in loaded.layers if "Pooling" in type(layer).__name__]
    assert pooling and all(type(layer).__module__ == "jaxpool.keras" for layer in pooling)
    assert [layer.get_config() for layer in pooling] == [
        layer.get_config() for layer in ours.layers if "Pooling" in type(layer).__name__
    ]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), ours.predict(x, verbose=0))


def test_layers_are_registered_under_the_jaxpool_package():
    for name in jaxpool.keras.__all__:
        layer = getattr(jaxpool.keras, name)
        assert keras.saving.get_registered_name(layer) == f"jaxpool>{layer.__name__}"
        assert keras.saving.get_registered_object(f"jaxpool>{layer.__name__}") is layer
    assert jaxpool.keras.MaxPool2D is jaxpool.keras.MaxPooling2D  # Keras's aliases


# --- imports -----------------------------------------------------------------------------------


def _python(code, **environment):
    """Runs ``code`` in a fresh interpreter on this checkout; its completed process."""
    env = {**os.environ, **environment}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )


def test_import_imports_keras_alone_among_frameworks():
    code = (
        "import json, sys\n"
        "import keras\n"
        "with_keras = set(sys.modules)\n"
        "import jaxpool.keras\n"
        "print(json.dumps({'keras': sorted(with_keras), 'all': sorted(sys.modules),\n"
        "                  'file': jaxpool.keras.__file__}))\n"
    )
    result = _python(code, KERAS_BACKEND="jax")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["file"]).resolve() == ROOT / "jaxpool" / "keras.py"
    top_level = {name.split(".")[0] for name in report["all"]}
    for framework in ("flax", "haiku", "equinox", "torch", "tensorflow", "optax"):
        assert framework not in top_level, framework
    # What jaxpool.keras adds to what Keras imported: jaxpool and parts of jax.
    added = {name.split(".")[0] for name in set(report["all"]) - set(report["keras"])}
    assert added <= {"jaxpool", "jax", "jaxlib"}, added


def test_another_backend_is_refused_with_the_fix():
    result = _python("import jaxpool.keras", KERAS_BACKEND="numpy")
    assert result.returncode != 0
    assert "ImportError: jaxpool.keras needs Keras's JAX backend; Keras runs on 'numpy'" in (
        result.stderr
    ), result.stderr
    assert "KERAS_BACKEND=jax" in result.stderr
    # Keras switched away after the import: the layers refuse to be built.
    code = (
        "import jaxpool.keras, keras\n"
        "keras.config.set_backend('numpy')\n"
        "try:\n"
        "    jaxpool.keras.MaxPooling2D()\n"
        "except RuntimeError as error:\n"
        "    print('refused:', error)\n"
    )
    result = _python(code, KERAS_BACKEND="jax")
    assert result.returncode == 0, result.stderr
    assert "refused: jaxpool.keras needs Keras's JAX backend; Keras runs on 'numpy'" in (
        result.stdout
    ), result.stdout


def test_a_saved_model_loads_in_a_fresh_process_once_jaxpool_keras_is_imported(tmp_path):
    model = keras.Sequential([keras.Input((6, 3)), jaxpool.keras.MaxPooling1D(3, 2, "same")])
    path = tmp_path / "pool.keras"
    model.save(path)
    # Keras imports the modules of Keras's own packages only: the registration
    # runs when jaxpool.keras is imported.
    code = (
        "import keras\n"
        "try:\n"
        f"    keras.models.load_model({str(path)!r})\n"
        "except TypeError as error:\n"
        "    print('before:', \"Could not locate class 'MaxPooling1D'\" in str(error))\n"
        "import jaxpool.keras\n"
        f"layer = keras.models.load_model({str(path)!r}).layers[0]\n"
        "print('after:', type(layer).__module__, type(layer).__name__, layer.pool_size)\n"
    )
    result = _python(code, KERAS_BACKEND="jax")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2:] == [
        "before: True",
        "after: jaxpool.keras MaxPooling1D (3,)",
    ], result.stdout


def test_missing_keras_names_the_extra(monkeypatch):
    assert_import_names_the_extra(monkeypatch, "jaxpool.keras", ["keras"], "keras")
