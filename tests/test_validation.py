"""Argument validation of jaxpool.max_pool and jaxpool.max_pool_with_argmax.

Every bad argument must raise ``TypeError`` (wrong type) or ``ValueError``
(right type, bad value) with a message that names the argument and, where
practical, echoes the bad value. Every accepted spelling must pool to the
shape worked out by hand here (never by asking the library's internals).
"""

import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from references import enable_x64

import jaxpool

# NHWC: batch 2, spatial 5 x 7, 3 channels.
X = np.zeros((2, 5, 7, 3), np.float32)


@pytest.fixture(
    params=[jaxpool.max_pool, jaxpool.max_pool_with_argmax],
    ids=["max_pool", "max_pool_with_argmax"],
)
def pool(request):
    """Both public entry points validate the same way."""
    return request.param


def _names(name, value):
    """A regex: the argument's name, later the repr of the bad value."""
    return f"{re.escape(name)}.*{re.escape(repr(value))}"


def _random(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _shapes(inputs, *args, **kwargs):
    """Output shape of max_pool, traced abstractly (validation runs, nothing
    compiles); max_pool_with_argmax must agree with it."""
    inputs = jnp.asarray(inputs)
    values = jax.eval_shape(lambda x: jaxpool.max_pool(x, *args, **kwargs), inputs)
    argmax_values, switches = jax.eval_shape(
        lambda x: jaxpool.max_pool_with_argmax(x, *args, **kwargs), inputs
    )
    assert values.dtype == inputs.dtype
    assert argmax_values.shape == switches.shape == values.shape
    return values.shape


# --------------------------------------------------------------------------
# window_shape, strides, window_dilation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [(0, 2), (2, 0), (-1, 2), (2, -3), (0, 0)])
def test_window_shape_entries_must_be_positive(pool, value):
    with pytest.raises(ValueError, match=_names("window_shape", value)):
        pool(X, value)


@pytest.mark.parametrize("name", ["strides", "window_dilation"])
@pytest.mark.parametrize("value", [0, -1, (1, 0), (0, 1), (-2, 1), (1, -1)])
def test_strides_and_dilation_entries_must_be_positive(pool, name, value):
    with pytest.raises(ValueError, match=_names(name, value)):
        pool(X, (2, 2), **{name: value})


@pytest.mark.parametrize("value", [2, np.int64(2), 2.0, None])
def test_window_shape_must_be_a_sequence(pool, value):
    with pytest.raises(TypeError, match=_names("window_shape", value)):
        pool(X, value)


@pytest.mark.parametrize("value", [(2.0, 2), (2, "2"), (2, True), (2, None), "22"])
def test_window_shape_entries_must_be_ints(pool, value):
    with pytest.raises(TypeError, match=_names("window_shape", value)):
        pool(X, value)


@pytest.mark.parametrize("value", [(), []], ids=["tuple", "list"])
def test_window_shape_must_not_be_empty(pool, value):
    with pytest.raises(ValueError, match=_names("window_shape", value)):
        pool(X, value)


@pytest.mark.parametrize("name", ["strides", "window_dilation"])
@pytest.mark.parametrize("value", [(1,), (1, 1, 1), ()])
def test_strides_and_dilation_must_have_one_entry_per_window_dim(pool, name, value):
    with pytest.raises(ValueError, match=_names(name, value)):
        pool(X, (2, 2), **{name: value})


@pytest.mark.parametrize("name", ["strides", "window_dilation"])
@pytest.mark.parametrize("value", [1.0, "2", True, (1, 2.0), (1, "1"), (1, True)])
def test_strides_and_dilation_must_be_ints(pool, name, value):
    with pytest.raises(TypeError, match=_names(name, value)):
        pool(X, (2, 2), **{name: value})


# --------------------------------------------------------------------------
# How many axes the input needs; channel_axis
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, window_shape",
    [
        ((2, 5, 7, 3), (2, 2, 2, 2)),  # 4 window dims + channel need 5 axes
        ((5, 7, 3), (2, 2, 2)),
        ((5, 3), (2, 2)),
    ],
)
def test_window_shape_too_long_with_channel_axis(pool, shape, window_shape):
    d = len(window_shape)
    pattern = rf"window_shape has {d} dims.*channel_axis=-1.*has {len(shape)}"
    with pytest.raises(ValueError, match=pattern):
        pool(np.zeros(shape, np.float32), window_shape, channel_axis=-1)


@pytest.mark.parametrize(
    "shape, window_shape",
    [((5, 7), (2, 2, 2)), ((5,), (2, 2)), ((2, 5, 7, 3), (1, 2, 2, 2, 2))],
)
def test_window_shape_too_long_without_channel_axis(pool, shape, window_shape):
    pattern = rf"window_shape has {len(window_shape)} dims.*only {len(shape)} axes"
    with pytest.raises(ValueError, match=pattern):
        pool(np.zeros(shape, np.float32), window_shape, channel_axis=None)


@pytest.mark.parametrize("channel_axis", [4, 5, -5, -100])
def test_channel_axis_out_of_range(pool, channel_axis):
    # The range, and the values of the usual layouts.
    pattern = rf"channel_axis={channel_axis}.*out of range.*4 axes.*\[-4, 3\].*-1.*1 for.*None"
    with pytest.raises(ValueError, match=pattern):
        pool(X, (2, 2), channel_axis=channel_axis)


def test_a_window_larger_than_the_input_names_the_axis_and_the_fixes(pool):
    # Spatial axes (1, 2) of X are 5 and 7 long: 6 does not fit axis 1.
    pattern = (
        r"output would be empty.*along spatial axis 1 the window spans 6 positions and the "
        r"padded input has 5.*smaller window_shape.*padding='SAME'.*channel_axis"
    )
    with pytest.raises(ValueError, match=pattern):
        pool(X, (6, 2))
    # The fix it names works.
    assert pool(X, (6, 2), padding="SAME") is not None


def test_padding_given_as_flat_pairs_names_the_nested_form(pool):
    with pytest.raises(
        ValueError, match=r"one entry per window dim \(2\).*padding=\(\(1, 2\), \(3, 4\)\)"
    ):
        pool(X, (2, 2), padding=(1, 2, 3, 4))


@pytest.mark.parametrize(
    "shape, window_shape, channel_axis",
    [
        ((2, 3, 5, 7), (2, 2), 2),
        ((2, 3, 5, 7), (2, 2), -2),
        ((2, 3, 5, 7, 4), (2, 2, 2), 3),
        ((2, 3, 5, 7, 4), (2, 2, 2), 2),
        ((5, 7, 3), (2, 2), 1),
    ],
)
def test_channel_axis_inside_the_spatial_axes(pool, shape, window_shape, channel_axis):
    pattern = rf"channel_axis={channel_axis}.*spatial"
    with pytest.raises(ValueError, match=pattern):
        pool(np.zeros(shape, np.float32), window_shape, channel_axis=channel_axis)


@pytest.mark.parametrize("channel_axis", [1.0, "1", True, (1,), np.float32(1.0)])
def test_channel_axis_must_be_an_int_or_none(pool, channel_axis):
    with pytest.raises(TypeError, match=_names("channel_axis", channel_axis)):
        pool(X, (2, 2), channel_axis=channel_axis)


# --------------------------------------------------------------------------
# padding
# --------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["FULL", "", "CIRCULAR", "VALID ", "SAME_LOWER"])
def test_padding_string_must_be_valid_or_same(pool, padding):
    with pytest.raises(ValueError, match=_names("padding", padding)):
        pool(X, (2, 2), padding=padding)


@pytest.mark.parametrize(
    "padding",
    [
        (1,),
        (1, 1, 1),
        [],
        ((1, 1),),
        ((1, 1), (1, 1), (1, 1)),
        [(0, 1)],
    ],
)
def test_padding_must_have_one_entry_per_window_dim(pool, padding):
    with pytest.raises(ValueError, match=_names("padding", padding)):
        pool(X, (2, 2), padding=padding)


@pytest.mark.parametrize(
    "padding",
    [
        -1,
        (1, -1),
        (-1, 0),
        ((0, -1), (0, 0)),
        ((0, 0), (-2, 1)),
        (1, (0, -1)),
    ],
)
def test_padding_must_be_non_negative(pool, padding):
    with pytest.raises(ValueError, match=_names("padding", padding)):
        pool(X, (2, 2), padding=padding)


@pytest.mark.parametrize(
    "padding",
    [
        ((1, 2, 3), (0, 0)),
        ((1,), (0, 0)),
        ("a", 1),
        ((1, "a"), (0, 0)),
        ("ab", (0, 0)),
        (1.5, 1),
        ((1.0, 1), (0, 0)),
        (True, 1),
        (None, 1),
    ],
)
def test_padding_entries_of_a_wrong_type(pool, padding):
    with pytest.raises(TypeError, match=_names("padding", padding)):
        pool(X, (2, 2), padding=padding)


@pytest.mark.parametrize("padding", [1.0, None, True, {0: 1}])
def test_padding_of_a_wrong_type(pool, padding):
    with pytest.raises(TypeError, match=_names("padding", padding)):
        pool(X, (2, 2), padding=padding)


# --------------------------------------------------------------------------
# Empty output
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "window_shape, kwargs, pattern",
    [
        ((6, 2), {}, r"empty.*window_shape=\(6, 2\)"),
        ((2, 8), {}, r"empty.*window_shape=\(2, 8\)"),
        ((8, 2), {"padding": ((1, 1), (0, 0))}, r"empty.*window_shape=\(8, 2\)"),
        ((2, 8), {"padding": "VALID", "strides": 3}, r"empty.*window_shape=\(2, 8\)"),
        ((3, 3), {"window_dilation": (3, 1)}, r"empty.*window_dilation=\(3, 1\)"),
        ((6, 2), {"ceil_mode": True}, r"empty.*window_shape=\(6, 2\)"),
    ],
)
def test_empty_output_is_an_error(pool, window_shape, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        pool(X, window_shape, **kwargs)


def test_empty_spatial_axis_without_padding_is_an_error(pool):
    with pytest.raises(ValueError, match=r"empty.*\(0, 7\)"):
        pool(np.zeros((2, 0, 7, 3), np.float32), (1, 1))


# --------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "inputs, type_name",
    [
        (X.tolist(), "list"),
        ("abc", "str"),
        (None, "NoneType"),
        (1.0, "float"),
        ((((1.0,),),), "tuple"),
    ],
    ids=["list", "str", "None", "float", "tuple"],
)
def test_inputs_must_be_an_array(pool, inputs, type_name):
    with pytest.raises(TypeError, match=rf"inputs.*\b{type_name}\b"):
        pool(inputs, (1, 1), channel_axis=None)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("as_jax", [False, True], ids=["numpy", "jax"])
def test_complex_inputs_are_rejected(pool, dtype, as_jax):
    inputs = np.zeros((2, 5, 7, 3), dtype)
    if as_jax:
        inputs = jnp.asarray(inputs)
    with pytest.raises(TypeError, match=r"inputs.*complex"):
        pool(inputs, (2, 2))


# --------------------------------------------------------------------------
# pad_value
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pad_value", ["0", "-inf", 1j, complex(0.0, 0.0), True, False, np.True_, None, (0.0,)]
)
def test_pad_value_must_be_a_real_number(pool, pad_value):
    with pytest.raises(TypeError, match=_names("pad_value", pad_value)):
        pool(X, (2, 2), padding=1, pad_value=pad_value)


@pytest.mark.parametrize(
    "dtype, pad_value",
    [
        (np.int8, 0.5),
        (np.int8, 1e10),
        (np.int8, 128),
        (np.int8, -129),
        (np.int8, math.inf),
        (np.int8, math.nan),
        (np.uint8, -1),
        (np.uint8, 256),
        (np.uint8, 0.5),
        (np.int32, 2.0**31),
        (np.int32, -1.5),
        (np.bool_, 0.5),
        (np.bool_, 2),
        (np.bool_, -1),
    ],
)
def test_pad_value_must_be_representable_in_an_integer_dtype(pool, dtype, pad_value):
    inputs = np.zeros((2, 5, 7, 3), dtype)
    pattern = rf"pad_value={re.escape(repr(pad_value))}.*{np.dtype(dtype).name}"
    with pytest.raises(ValueError, match=pattern):
        pool(inputs, (2, 2), padding=1, pad_value=pad_value)


@pytest.mark.parametrize(
    "dtype, pad_value, expected",
    [
        (np.int8, 127, 127),
        (np.int8, -128, -128),
        (np.int8, 3.0, 3),
        (np.int8, np.int8(-7), -7),
        (np.int8, np.float32(5.0), 5),
        (np.int8, 0, 0),
        (np.int8, -math.inf, -128),
        (np.uint8, 255, 255),
        (np.uint8, -math.inf, 0),
        (np.int32, 2**31 - 1, 2**31 - 1),
        (np.uint32, 2**32 - 1, 2**32 - 1),
        (np.bool_, 1, True),
        (np.bool_, 0.0, False),
    ],
)
def test_representable_pad_value_is_used_for_integer_inputs(dtype, pad_value, expected):
    # A 1x1 window over one element padded by one on every side: the eight
    # border outputs see only padding, so they hold pad_value.
    inputs = np.zeros((1, 1, 1, 1), dtype)
    out = jaxpool.max_pool(inputs, (1, 1), padding=1, pad_value=pad_value)
    assert out.shape == (1, 3, 3, 1)
    assert out.dtype == inputs.dtype
    out = np.asarray(out)
    assert out[0, 0, 0, 0] == expected
    assert out[0, 1, 1, 0] == 0


@pytest.mark.parametrize(
    "dtype, pad_value",
    [
        (np.int64, 2**63 - 1),
        (np.int64, -(2**63)),
        (np.int64, 2**53 + 1),
        (np.uint64, 2**64 - 1),
        (np.uint64, 2**53 + 1),
    ],
    ids=["int64-max", "int64-min", "int64-2**53+1", "uint64-max", "uint64-2**53+1"],
)
def test_64_bit_integer_pad_value_is_exact(dtype, pad_value):
    # Every value of a 64-bit dtype is representable in it; a pad_value must
    # be neither rejected nor rounded through float64.
    with enable_x64(True):
        inputs = jnp.zeros((1, 1, 1, 1), dtype)
        assert inputs.dtype == dtype
        out = jaxpool.max_pool(inputs, (1, 1), padding=1, pad_value=pad_value)
        assert int(out[0, 0, 0, 0]) == pad_value


# --------------------------------------------------------------------------
# ceil_mode
# --------------------------------------------------------------------------


@pytest.mark.parametrize("ceil_mode", [1, 0, 1.0, "yes", None, "False"])
def test_ceil_mode_must_be_a_bool(pool, ceil_mode):
    with pytest.raises(TypeError, match=_names("ceil_mode", ceil_mode)):
        pool(X, (2, 2), ceil_mode=ceil_mode)


# --------------------------------------------------------------------------
# Accepted spellings, with output shapes worked out by hand.
# Output size per axis, floor mode: (L + low + high - (d * (w - 1) + 1)) // s + 1
# --------------------------------------------------------------------------


def test_numpy_ints_as_window_strides_and_dilation_entries():
    # H: (5 - 2) // 1 + 1 = 4; W: (7 - 3) // 2 + 1 = 3.
    shape = _shapes(X, (np.int64(2), np.int32(3)), strides=(np.int64(1), np.int16(2)))
    assert shape == (2, 4, 3, 3)
    # Dilation 2 on W: span 5, (7 - 5) // 1 + 1 = 3.
    shape = _shapes(X, [np.int8(2), np.uint8(3)], window_dilation=(np.int64(1), np.int64(2)))
    assert shape == (2, 4, 3, 3)


def test_numpy_ints_as_scalar_strides_padding_and_channel_axis():
    # padding 1: H: (5 + 2 - 2) // 2 + 1 = 3; W: (7 + 2 - 3) // 2 + 1 = 4.
    shape = _shapes(X, (2, 3), strides=np.int64(2), padding=np.int32(1))
    assert shape == (2, 3, 4, 3)
    nchw = np.zeros((2, 3, 5, 7), np.float32)
    assert _shapes(nchw, (2, 3), channel_axis=np.int64(1)) == (2, 3, 4, 5)
    assert _shapes(X, (2, 3), ceil_mode=np.bool_(False)) == (2, 4, 5, 3)


def test_padding_as_an_int():
    # H: (5 + 2 - 2) // 2 + 1 = 3; W: (7 + 2 - 3) // 3 + 1 = 3.
    assert _shapes(X, (2, 3), strides=(2, 3), padding=1) == (2, 3, 3, 3)
    assert _shapes(X, (2, 3), padding=0) == (2, 4, 5, 3)


def test_padding_as_per_dim_ints():
    # H: (5 + 4 - 2) // 1 + 1 = 8; W: (7 - 3) // 1 + 1 = 5.
    assert _shapes(X, (2, 3), padding=(2, 0)) == (2, 8, 5, 3)
    assert _shapes(X, (2, 3), padding=[2, 0]) == (2, 8, 5, 3)


def test_padding_as_low_high_pairs():
    # H: (5 + 1 - 2) // 2 + 1 = 3; W: (7 + 2 - 3) // 2 + 1 = 4.
    expected = (2, 3, 4, 3)
    assert _shapes(X, (2, 3), strides=2, padding=((0, 1), (2, 0))) == expected
    assert _shapes(X, (2, 3), strides=2, padding=[[0, 1], [2, 0]]) == expected
    # A pair and a symmetric int mixed: H (5 + 2 - 2) // 2 + 1 = 3.
    assert _shapes(X, (2, 3), strides=2, padding=(1, (2, 0))) == expected


def test_padding_spellings_agree():
    x = _random((2, 5, 7, 3))
    as_pairs = jaxpool.max_pool(x, (2, 3), strides=2, padding=((1, 1), (2, 2)))
    np.testing.assert_array_equal(jaxpool.max_pool(x, (2, 3), strides=2, padding=(1, 2)), as_pairs)
    as_pairs = jaxpool.max_pool(x, (2, 3), strides=2, padding=((1, 1), (1, 1)))
    np.testing.assert_array_equal(jaxpool.max_pool(x, (2, 3), strides=2, padding=1), as_pairs)
    np.testing.assert_array_equal(
        jaxpool.max_pool(x, (2, 3), padding=0), jaxpool.max_pool(x, (2, 3), padding="VALID")
    )


@pytest.mark.parametrize("spelling", ["SAME", "same", "Same", "sAmE"])
def test_same_padding_is_case_insensitive(spelling):
    # ceil(L / s): H ceil(5 / 2) = 3, W ceil(7 / 2) = 4; stride 1 keeps the size.
    assert _shapes(X, (2, 3), strides=2, padding=spelling) == (2, 3, 4, 3)
    assert _shapes(X, (2, 3), padding=spelling) == (2, 5, 7, 3)
    x = _random((2, 5, 7, 3))
    np.testing.assert_array_equal(
        jaxpool.max_pool(x, (2, 3), strides=2, padding=spelling),
        jaxpool.max_pool(x, (2, 3), strides=2, padding="SAME"),
    )


@pytest.mark.parametrize("spelling", ["VALID", "valid", "Valid"])
def test_valid_padding_is_case_insensitive(spelling):
    # H: (5 - 2) // 2 + 1 = 2; W: (7 - 3) // 2 + 1 = 3.
    assert _shapes(X, (2, 3), strides=2, padding=spelling) == (2, 2, 3, 3)
    x = _random((2, 5, 7, 3))
    np.testing.assert_array_equal(
        jaxpool.max_pool(x, (2, 3), strides=2, padding=spelling),
        jaxpool.max_pool(x, (2, 3), strides=2, padding="VALID"),
    )


@pytest.mark.parametrize("channel_axis", [1, -3])
def test_channel_axis_1_pools_the_last_two_axes_of_nchw(channel_axis):
    nhwc = _random((2, 5, 7, 3))
    nchw = np.transpose(nhwc, (0, 3, 1, 2))
    # H: (5 - 2) // 1 + 1 = 4; W: (7 - 3) // 2 + 1 = 3; C stays at axis 1.
    out = jaxpool.max_pool(nchw, (2, 3), strides=(1, 2), channel_axis=channel_axis)
    assert out.shape == (2, 3, 4, 3)
    assert _shapes(nchw, (2, 3), strides=(1, 2), channel_axis=channel_axis) == (2, 3, 4, 3)
    expected = jaxpool.max_pool(nhwc, (2, 3), strides=(1, 2))
    np.testing.assert_array_equal(out, np.transpose(expected, (0, 3, 1, 2)))


def test_channel_axis_0_with_a_chw_input():
    assert _shapes(np.zeros((3, 5, 7), np.float32), (2, 3), channel_axis=0) == (3, 4, 5)


def test_channel_axis_none():
    # (5, 7) is all spatial; (2, 5, 7) has a batch axis and no channels.
    assert _shapes(np.zeros((5, 7), np.float32), (2, 3), (1, 2), channel_axis=None) == (4, 3)
    shape = _shapes(np.zeros((2, 5, 7), np.float32), (2, 3), (1, 2), channel_axis=None)
    assert shape == (2, 4, 3)
    x = _random((2, 5, 7))
    np.testing.assert_array_equal(
        jaxpool.max_pool(x, (2, 3), channel_axis=None),
        jaxpool.max_pool(x[..., None], (2, 3))[..., 0],
    )


def test_no_batch_axes():
    # An HWC input: the default channel_axis=-1 needs no leading batch axis.
    assert _shapes(np.zeros((5, 7, 3), np.float32), (2, 3), strides=(1, 2)) == (4, 3, 3)


def test_several_batch_axes():
    x = np.zeros((2, 2, 5, 7, 3), np.float32)
    assert _shapes(x, (2, 3), strides=(1, 2)) == (2, 2, 4, 3, 3)
    x = np.zeros((1, 2, 2, 3, 5, 7), np.float32)
    assert _shapes(x, (2, 3), strides=(1, 2), channel_axis=3) == (1, 2, 2, 3, 4, 3)


def test_zero_size_batch_axis():
    assert _shapes(np.zeros((0, 5, 7, 3), np.float32), (2, 3)) == (0, 4, 5, 3)


@pytest.mark.parametrize(
    "shape, window_shape, expected",
    [
        ((2, 5, 3), (2,), (2, 4, 3)),
        ((1, 4, 5, 6, 2), (2, 2, 3), (1, 3, 4, 4, 2)),
    ],
)
def test_one_and_three_window_dims(shape, window_shape, expected):
    assert _shapes(np.zeros(shape, np.float32), window_shape) == expected


def test_jax_integer_and_bool_inputs_are_accepted():
    assert _shapes(jnp.zeros((2, 5, 7, 3)), (2, 3)) == (2, 4, 5, 3)
    assert _shapes(np.zeros((2, 5, 7, 3), np.int8), (2, 3)) == (2, 4, 5, 3)
    assert _shapes(np.zeros((2, 5, 7, 3), np.bool_), (2, 3)) == (2, 4, 5, 3)


# --------------------------------------------------------------------------
# Messages that say what was probably meant
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, channel_axis, meant",
    [
        ((2, 5, 7, 3), -1, "(3, 3)"),  # NHWC: two spatial axes
        ((2, 9, 3), -1, "(3,)"),  # NLC: one
        ((2, 5, 7), None, "(3, 3)"),  # no feature axis: all but the batch
    ],
)
def test_int_window_shape_names_the_tuple_probably_meant(pool, shape, channel_axis, meant):
    pattern = rf"window_shape.*got 3\b.*shape {re.escape(str(shape))}.*{re.escape(meant)}"
    with pytest.raises(TypeError, match=pattern):
        pool(np.zeros(shape, np.float32), 3, channel_axis=channel_axis)


@pytest.mark.parametrize(
    "shape, window_shape, channel_axis, spatial",
    [
        ((2, 5, 7, 3), (1, 3, 3, 1), -1, "(3, 3)"),  # Haiku's NHWC window
        ((2, 3, 5, 7), (1, 1, 3, 3), 1, "(3, 3)"),  # the same for NCHW
        ((2, 9, 3), (1, 2, 1), -1, "(2,)"),
    ],
)
def test_full_rank_window_points_to_haiku_layer(pool, shape, window_shape, channel_axis, spatial):
    pattern = rf"{re.escape(repr(window_shape))}.*every axis.*{re.escape(spatial)}.*jaxpool\.haiku"
    with pytest.raises(ValueError, match=pattern):
        pool(np.zeros(shape, np.float32), window_shape, channel_axis=channel_axis)


def test_full_rank_window_without_a_channel_axis_is_a_plain_window():
    # With channel_axis=None every axis may be pooled: (1, 3, 3) is a window.
    x = _random((2, 5, 7))
    out = jaxpool.max_pool(x, (1, 3, 3), channel_axis=None)
    expected = jax.lax.reduce_window(x, -np.inf, jax.lax.max, (1, 3, 3), (1, 1, 1), "VALID")
    np.testing.assert_array_equal(out, expected)


# --- Switches and indices that cannot be a max pool's, and other messages that
# must say what to do.

POOLING_2X2 = dict(window_shape=(2, 2), strides=(2, 2), channel_axis=1)
NCHW = (2, 3, 8, 8)


def _torch_style_indices(x):
    """PyTorch's return_indices for 2x2/2 windows, from the definitions: the
    flat index of each window's first maximum within its plane."""
    n, c, h, w = x.shape
    indices = np.empty((n, c, h // 2, w // 2), np.int64)
    for i, j in np.ndindex(h // 2, w // 2):
        window = x[:, :, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].reshape(n, c, 4)
        first = window.argmax(axis=-1)
        indices[:, :, i, j] = (2 * i + first // 2) * w + 2 * j + first % 2
    return indices


def test_unpool_refuses_pytorch_indices_and_names_the_conversion():
    x = _random(NCHW)
    values = jaxpool.max_pool(x, **POOLING_2X2)
    indices = _torch_style_indices(x)
    with pytest.raises(
        ValueError, match=r"switches has \d+ of 96 entries outside \[0, 4\)"
    ) as error:
        jaxpool.max_unpool(values, indices, NCHW, **POOLING_2X2)
    assert "indices_to_switches" in str(error.value)
    # The conversion it names gives what unpooling the switches gives.
    switches = jaxpool.indices_to_switches(indices, NCHW, **POOLING_2X2)
    _, expected = jaxpool.max_pool_with_argmax(x, **POOLING_2X2)
    np.testing.assert_array_equal(switches, expected)


@pytest.mark.parametrize("bad", [-1, 4, 127])
@pytest.mark.parametrize("function", ["max_unpool", "switches_to_indices"])
def test_switches_outside_the_window_are_refused(bad, function):
    values, switches = jaxpool.max_pool_with_argmax(_random(NCHW), **POOLING_2X2)
    switches = np.array(switches, np.int32)
    switches[1, 2, 3, 0] = bad
    arguments = (values, switches) if function == "max_unpool" else (switches,)
    with pytest.raises(
        ValueError, match=rf"1 of 96 entries .* first {bad} at position \(1, 2, 3, 0\)"
    ):
        getattr(jaxpool, function)(*arguments, NCHW, **POOLING_2X2)


def test_switches_outside_the_window_under_jit_fail_under_checkify():
    from jax.experimental import checkify

    values, switches = jaxpool.max_pool_with_argmax(_random(NCHW), **POOLING_2X2)
    unpool = jax.jit(lambda v, s: jaxpool.max_unpool(v, s, NCHW, **POOLING_2X2))
    error, _ = checkify.checkify(unpool)(values, switches)
    error.throw()  # valid switches pass
    bad = switches.at[0, 0, 0, 0].set(9)
    assert unpool(values, bad).shape == NCHW  # unchecked under plain jit
    error, _ = checkify.checkify(unpool)(values, bad)
    with pytest.raises(Exception, match=r"switches has entries outside \[0, 4\), the first 9"):
        error.throw()


@pytest.mark.parametrize(
    "where, bad",
    [((0, 0, 0, 0), 2), ((1, 1, 2, 3), 0), ((0, 2, 3, 3), 64), ((0, 0, 1, 1), -1)],
)
def test_indices_outside_their_window_are_refused(where, bad):
    indices = _torch_style_indices(_random(NCHW))
    indices[where] = bad  # another window's element, outside the plane, or -1 without padding
    with pytest.raises(
        ValueError, match=rf"indices has 1 of 96 entries outside their windows, the first {bad}"
    ):
        jaxpool.indices_to_switches(indices, NCHW, **POOLING_2X2)


def test_minus_one_index_is_accepted_where_the_window_reaches_into_padding():
    indices = np.full((1, 1, 2), -1)
    switches = jaxpool.indices_to_switches(
        indices, (1, 1, 3), (3,), (2,), padding=1, channel_axis=1
    )
    assert switches.tolist() == [[[0, 2]]]


def test_jvp_through_the_default_mode_names_autodiff_jvp():
    x = _random((1, 4, 4, 1))
    with pytest.raises(TypeError, match="autodiff='jvp'"):
        jax.jvp(lambda x: jaxpool.max_pool(x, (2, 2)), (x,), (x,))
    with pytest.raises(TypeError, match="autodiff='jvp'"):
        jax.jacfwd(lambda x: jaxpool.adaptive_max_pool(x, (1, 1)))(x)
    # The mode it names works.
    jax.jvp(lambda x: jaxpool.max_pool(x, (2, 2), autodiff="jvp"), (x,), (x,))


@pytest.mark.parametrize("name", ["window_shape", "strides", "padding", "window_dilation"])
def test_traced_static_arguments_say_they_must_be_static(name):
    arguments = dict(window_shape=(2, 2), strides=(1, 1), padding="VALID", window_dilation=(1, 1))

    def pool(x, n):
        traced = dict(arguments, **{name: (n, n)})
        return jaxpool.max_pool(x, **traced)

    with pytest.raises(TypeError, match=rf"{name} must be static .*static_argnums"):
        jax.jit(pool)(X, 2)


def test_traced_output_shape_says_it_must_be_static():
    with pytest.raises(TypeError, match="output_shape must be static"):
        jax.jit(lambda x, n: jaxpool.adaptive_max_pool(x, (n, n)))(X, 2)


@pytest.mark.parametrize("output_shape", [0, -3])
def test_adaptive_int_output_shape_that_is_not_positive(output_shape):
    with pytest.raises(
        ValueError, match=rf"output_shape entries must be positive.*got {output_shape}"
    ):
        jaxpool.adaptive_max_pool(X, output_shape)


def test_adaptive_positive_int_output_shape_names_the_tuple_meant():
    with pytest.raises(TypeError, match=r"\(3, 3\)"):
        jaxpool.adaptive_max_pool(X, 3)
