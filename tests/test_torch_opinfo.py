"""jaxpool.functional on PyTorch's own sample inputs and error inputs.

PyTorch's test suite describes each op by an OpInfo
(``torch.testing._internal.common_methods_invocations``) and each module by a
ModuleInfo (``common_modules``), both with sample inputs and error inputs.
Each sample of a pooling op that :mod:`jaxpool.functional` mirrors runs
through both libraries. Values and indices must equal PyTorch's (averages to
rounding), and so must gradients (``jax.vjp`` against ``torch.autograd`` at
one random cotangent, to rounding: overlapping windows add up), or differ
only as docs/pytorch.md says, checked to be exactly that difference. Every
error input must make jaxpool raise ``ValueError`` or ``TypeError``.

PyTorch's samples hold no NaN, so each max-pooling sample also runs with NaN
planted, to check the documented difference: with several NaN in a window
jaxpool selects the first, PyTorch the last. The expected answer is
PyTorch's own, on the input with each NaN replaced by a large number that
falls with its position, so that PyTorch's max lands on the first NaN.

Runs only where torch is installed (CI does not install it). Each new
geometry compiles, so the suite runs a deterministic share of the samples:
per op the float32 sample that covers the most argument values and
input layouts, one sample of each dtype that has code of its own in
jaxpool, one sample per ModuleInfo and dtype, and every error input.
``JAXPOOL_OPINFO=all`` runs every sample (over an hour of CPU: some 20,000
calls), and ``python tests/test_torch_opinfo.py [label ...]`` prints the
counts per op and dtype.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import inspect
import itertools
import os
import sys
import types
import unittest

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxpool import functional as F

torch = pytest.importorskip("torch")

FULL = os.environ.get("JAXPOOL_OPINFO") == "all"
# The ops whose values are selected, not computed: compared exactly.
EXACT = ("max_pool", "max_unpool", "adaptive_max_pool", "fractional_max_pool")
# Where PyTorch's samples come in these dtypes, they run; complex and bool
# are not in any pooling OpInfo's CPU dtypes.
DTYPES = {
    torch.float32: jnp.float32,
    torch.float64: jnp.float64,
    torch.bfloat16: jnp.bfloat16,
    torch.float16: jnp.float16,
    torch.int64: jnp.int64,
    torch.int32: jnp.int32,
    torch.int16: jnp.int16,
    torch.int8: jnp.int8,
    torch.uint8: jnp.uint8,
}
# Relative rounding per dtype: averages, and gradients that add overlapping
# windows (PyTorch adds 16-bit gradients in 16 bits, jaxpool in float32).
RTOL = {
    torch.float64: 1e-12,
    torch.float32: 2e-6,
    torch.bfloat16: 2.0**-6,
    torch.float16: 2.0**-9,
}
NAN_FIRST = "several NaN in a window: jaxpool selects the first, PyTorch the last"
SENTINEL = 1e6  # above every sample value (make_tensor draws from [-9, 9])


@functools.cache
def databases():
    """PyTorch's OpInfo and ModuleInfo lists.

    Their modules import ``expecttest``, a test-only package that torch's
    wheels do not install; where it is missing a stand-in serves, as only
    its ``TestCase`` base class is used when they are imported.
    """
    try:
        import expecttest  # noqa: F401
    except ImportError:
        sys.modules["expecttest"] = types.SimpleNamespace(TestCase=unittest.TestCase, ACCEPT=False)
    from torch.testing._internal import common_methods_invocations
    from torch.testing._internal import common_modules

    return common_methods_invocations.op_db, common_modules.module_db


def _op_name(opinfo) -> str | None:
    """The jaxpool.functional name of an OpInfo, or None if not mirrored."""
    module, _, name = opinfo.name.rpartition(".")
    return name if module == "nn.functional" and name in F.__all__ else None


OPINFO_OPS = [
    f"{name}{d}d{variant}"
    for name in (
        "max_pool",
        "max_unpool",
        "avg_pool",
        "adaptive_max_pool",
        "adaptive_avg_pool",
        "fractional_max_pool",
    )
    for d in (1, 2, 3)
    if f"{name}{d}d" in F.__all__
    # max_unpool's "grad" variant: the samples with unique indices (a full run only).
    for variant in (("", ".grad") if name == "max_unpool" and FULL else ("",))
]


def _opinfo(key: str):
    name, _, variant = key.partition(".")
    (opinfo,) = [
        opinfo
        for opinfo in databases()[0]
        if _op_name(opinfo) == name and opinfo.variant_test_name == variant
    ]
    return opinfo


def _family(name: str) -> str:
    return name.rstrip("123d")


# ---- conversion -----------------------------------------------------------


def _x64(case) -> contextlib.AbstractContextManager:
    """Cases with a 64-bit input or float argument run with
    jax_enable_x64, so that the dtypes match PyTorch's (int64 indices do
    not count: without x64 they are int32, as jaxpool's are)."""
    tensors = [case.input, *case.args, *case.kwargs.values()]
    wide = case.dtype in (torch.float64, torch.int64) or any(
        isinstance(t, torch.Tensor) and t.dtype == torch.float64 for t in tensors
    )
    return jax.enable_x64(True) if wide else contextlib.nullcontext()


def to_jax(value):
    """A sample's argument as jaxpool takes it: tensors as arrays of the same
    dtype, ``torch.Size`` as a tuple, containers element by element."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.dtype == torch.bfloat16:
            return jnp.asarray(value.float().numpy(), jnp.bfloat16)
        return jnp.asarray(value.numpy())
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return type(value)(to_jax(v) for v in value)
    if isinstance(value, dict):
        return {k: to_jax(v) for k, v in value.items()}
    return value


def _numpy(value) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        value = value.detach()
        return value.double().numpy() if value.dtype.is_floating_point else value.long().numpy()
    value = np.asarray(value)
    return value.astype(np.float64 if jnp.issubdtype(value.dtype, jnp.floating) else np.int64)


# ---- one case -------------------------------------------------------------


@dataclasses.dataclass
class Case:
    """One call: ``name`` (a jaxpool.functional name) on ``input`` with
    PyTorch's ``args`` and ``kwargs``; ``source`` says where it came from."""

    name: str
    source: str
    input: object
    args: tuple
    kwargs: dict
    module: object = None  # for ModuleInfo cases: the torch module, PyTorch's side

    @property
    def dtype(self):
        return self.input.dtype

    def describe(self) -> str:
        shape = tuple(self.input.shape)
        return f"{self.source} {self.dtype} input {shape} args {self.args!r} kwargs {self.kwargs!r}"


@dataclasses.dataclass
class Result:
    """One library's answer, as float64 or int64 NumPy arrays, and the
    values' own dtype."""

    values: np.ndarray
    indices: np.ndarray | None
    gradient: np.ndarray | None
    values_dtype: object


def _cotangent(shape, dtype, seed: int):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(tuple(shape), generator=generator).to(dtype)


def run_torch(case: Case, input, seed: int = 0) -> tuple[Result, object]:
    """PyTorch's values, indices and gradient, and the cotangent used."""
    if case.module is not None:
        outputs = case.module(input)
    else:
        outputs = getattr(torch.nn.functional, case.name)(input, *case.args, **case.kwargs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    values = outputs[0]
    gradient = cotangent = None
    if input.requires_grad and values.numel():
        cotangent = _cotangent(values.shape, values.dtype, seed)
        (gradient,) = torch.autograd.grad(values, input, cotangent)
    indices = outputs[1] if len(outputs) > 1 else None
    return Result(_numpy(values), _numpy(indices), _numpy(gradient), values.dtype), cotangent


_RUNS: dict[str, object] = {}


def _jitted_run(case: Case):
    """One jitted function per call signature: values, indices and the
    gradient from one compile (an eager call compiles each jnp op apart),
    reused by every case with the same static arguments. Tensor arguments
    (indices, ``_random_samples``) are passed in as arrays."""
    static_args = tuple(None if isinstance(a, torch.Tensor) else to_jax(a) for a in case.args)
    static_kwargs = {
        k: to_jax(v) for k, v in case.kwargs.items() if not isinstance(v, torch.Tensor)
    }
    key = repr((case.name, static_args, sorted(static_kwargs.items())))
    if key not in _RUNS:
        function = getattr(F, case.name)

        def call(x, arrays):
            array_args, array_kwargs = arrays
            args = [array_args.get(str(i), a) for i, a in enumerate(static_args)]
            outputs = function(x, *args, **static_kwargs, **array_kwargs)
            return outputs if isinstance(outputs, tuple) else (outputs,)

        def run(x, arrays, cotangent):
            if cotangent is None:
                return call(x, arrays), None
            outputs, vjp = jax.vjp(lambda x: call(x, arrays), x)
            zeros = [np.zeros(output.shape, jax.dtypes.float0) for output in outputs[1:]]
            (gradient,) = vjp((cotangent, *zeros))
            return outputs, gradient

        _RUNS[key] = jax.jit(run)
    return _RUNS[key]


def run_jax(case: Case, input, cotangent) -> Result:
    """jaxpool.functional's values, indices and gradient at ``cotangent``."""
    arrays = (
        {str(i): to_jax(a) for i, a in enumerate(case.args) if isinstance(a, torch.Tensor)},
        {k: to_jax(v) for k, v in case.kwargs.items() if isinstance(v, torch.Tensor)},
    )
    cotangent = None if cotangent is None else to_jax(cotangent)
    outputs, gradient = _jitted_run(case)(to_jax(input), arrays, cotangent)
    indices = outputs[1] if len(outputs) > 1 else None
    return Result(_numpy(outputs[0]), _numpy(indices), _numpy(gradient), outputs[0].dtype)


def _close(actual, expected, dtype) -> bool:
    if actual.shape != expected.shape:
        return False
    rtol = RTOL.get(dtype, 0.0)
    scale = max(1.0, float(np.max(np.abs(np.nan_to_num(expected)), initial=0.0)))
    return np.allclose(actual, expected, rtol=rtol, atol=rtol * scale, equal_nan=True)


def differences(case: Case, expected: Result, actual: Result) -> list[str]:
    """What differs between PyTorch's result and jaxpool's."""
    found = []
    torch_dtype = DTYPES[expected.values_dtype]
    if np.dtype(actual.values_dtype) != np.dtype(torch_dtype):
        found.append(f"values dtype {actual.values_dtype}, PyTorch's {expected.values_dtype}")
    exact = _family(case.name) in EXACT or not case.dtype.is_floating_point
    if actual.values.shape != expected.values.shape:
        found.append(f"values shape {actual.values.shape}, PyTorch's {expected.values.shape}")
    elif exact and not np.array_equal(actual.values, expected.values, equal_nan=True):
        wrong = int((~np.isclose(actual.values, expected.values, 0, 0, equal_nan=True)).sum())
        found.append(f"{wrong} of {actual.values.size} values differ")
    elif not exact and not _close(actual.values, expected.values, case.dtype):
        error = np.nanmax(np.abs(actual.values - expected.values), initial=0.0)
        found.append(f"values differ by up to {error:.3g}")
    if expected.indices is not None:
        if actual.indices is None or actual.indices.shape != expected.indices.shape:
            found.append("indices missing or of another shape")
        elif not np.array_equal(actual.indices, expected.indices):
            wrong = int((actual.indices != expected.indices).sum())
            found.append(f"{wrong} of {actual.indices.size} indices differ")
    if expected.gradient is not None:
        if actual.gradient is None or actual.gradient.shape != expected.gradient.shape:
            found.append("gradient missing or of another shape")
        elif not _close(actual.gradient, expected.gradient, case.dtype):
            error = np.nanmax(np.abs(actual.gradient - expected.gradient), initial=0.0)
            found.append(f"gradients differ by up to {error:.3g}")
    return found


def _fresh(tensor, requires_grad: bool):
    tensor = tensor.detach().clone()
    return tensor.requires_grad_(requires_grad) if tensor.dtype.is_floating_point else tensor


def check_case(case: Case) -> str:
    """Runs ``case`` in both libraries: ``"matched"``, or a documented
    difference (checked to be exactly that). Raises AssertionError otherwise."""
    input = case.input
    requires_grad = bool(input.requires_grad)
    with _x64(case):
        try:
            expected, cotangent = run_torch(case, _fresh(input, requires_grad))
        except RuntimeError as torch_error:  # a module refusing its own sample
            return check_error(case, f"{type(torch_error).__name__}: {torch_error}")
        try:
            actual = run_jax(case, input, cotangent)
        except (ValueError, TypeError) as error:
            raise AssertionError(f"jaxpool raised where PyTorch did not: {error}") from None
        found = differences(case, expected, actual)
        if found:
            raise AssertionError("; ".join(found))
    return "matched"


def check_nan_case(case: Case, d: int) -> str:
    """``case`` with NaN planted: ``"matched"`` where jaxpool's answer is
    PyTorch's, ``NAN_FIRST`` where it is PyTorch's on the first NaN instead of
    the last (the documented rule). Raises AssertionError otherwise."""
    x = case.input.detach()
    work = x.double().numpy()
    nan = np.random.default_rng(0).random(work.shape) < 0.3
    spatial = int(np.prod(work.shape[-d:]))
    position = np.arange(work.size).reshape(work.shape) % spatial
    planted = torch.tensor(np.where(nan, np.nan, work)).to(x.dtype)
    first = torch.tensor(np.where(nan, SENTINEL - position, work)).to(x.dtype)
    with _x64(case):
        nan_case = dataclasses.replace(case, input=planted, kwargs={**case.kwargs})
        expected, cotangent = run_torch(nan_case, _fresh(planted, True))
        actual = run_jax(nan_case, planted, cotangent)
        if not differences(nan_case, expected, actual):
            return "matched"
        first_nan, _ = run_torch(nan_case, _fresh(first, True))
        first_nan.values = np.where(
            first_nan.values >= SENTINEL - spatial, np.nan, first_nan.values
        )
        found = differences(nan_case, first_nan, actual)
        if found:
            raise AssertionError("with NaN planted: " + "; ".join(found))
    return NAN_FIRST


def check_error(case: Case, torch_error: str) -> str:
    """``case``, which PyTorch refuses with ``torch_error``: jaxpool must
    raise ValueError or TypeError too (called eagerly, so that the checks of
    concrete values run). Returns ``"raised"``."""
    function = getattr(F, case.name)
    with _x64(case):
        try:
            function(to_jax(case.input), *to_jax(case.args), **to_jax(case.kwargs))
        except (ValueError, TypeError):
            return "raised"
    raise AssertionError(f"jaxpool returned where PyTorch raises {torch_error!r}")


# ---- samples --------------------------------------------------------------


# The suite's share of the samples (JAXPOOL_OPINFO=all takes every one):
# float32 samples that together cover the most argument values and input
# layouts, and one sample of each dtype with code of its own in jaxpool.
SUITE_FLOAT32 = 1
SUITE_DTYPES = {
    "max_pool": (torch.bfloat16, torch.int8),
    "max_unpool": (torch.bfloat16,),
    "avg_pool": (torch.int64,),
    "adaptive_avg_pool": (torch.bfloat16,),
    "fractional_max_pool": (torch.bfloat16, torch.float16),
}


def _features(input, args, kwargs) -> set:
    """What a call exercises: each argument value, and the input's layout."""
    features = {("input", input.dim(), tuple(input.shape[:1]))}
    features |= {("arg", i, repr(a)) for i, a in enumerate(args) if not torch.is_tensor(a)}
    features |= {("kwarg", k, repr(v)) for k, v in kwargs.items() if not torch.is_tensor(v)}
    return features


def _selected(items, count: int, features) -> list:
    """Every item in a full run; else at most ``count``, chosen one by one
    for the most features not yet covered (the first of equals)."""
    items = list(items)
    if FULL:
        return items
    chosen, seen = [], set()
    while items and len(chosen) < count:
        best = max(items, key=lambda item: len(features(item) - seen))
        if chosen and not features(best) - seen:
            break
        chosen.append(best)
        seen |= features(best)
        items = [item for item in items if item is not best]
    return chosen


def _sample_features(sample) -> set:
    return _features(sample.input, sample.args, sample.kwargs)


def _suite_count(key: str, dtype) -> int:
    if dtype == torch.float32:
        return SUITE_FLOAT32
    return int(dtype in SUITE_DTYPES.get(_family(key.partition(".")[0]), ()))


def opinfo_cases(key: str):
    """The Cases of an OpInfo's samples, over its CPU dtypes."""
    opinfo = _opinfo(key)
    name = _op_name(opinfo)
    generator = torch.Generator().manual_seed(0)
    for dtype in DTYPES:
        if dtype not in opinfo.supported_dtypes("cpu") or not (FULL or _suite_count(key, dtype)):
            continue
        samples = opinfo.sample_inputs("cpu", dtype, requires_grad=dtype.is_floating_point)
        for sample in _selected(samples, _suite_count(key, dtype), _sample_features):
            kwargs = dict(sample.kwargs)
            if name.startswith("fractional") and kwargs.get("_random_samples") is None:
                # PyTorch's own draw, made here so that both get the same samples.
                batch = sample.input.shape[0] if sample.input.dim() == int(name[-2]) + 2 else 1
                shape = (batch, sample.input.shape[-int(name[-2]) - 1], int(name[-2]))
                kwargs["_random_samples"] = torch.rand(shape, generator=generator, dtype=dtype)
            source = f"OpInfo {opinfo.name}{'.' + key.partition('.')[2] if '.' in key else ''}"
            yield Case(name, source, sample.input, tuple(sample.args), kwargs)


def opinfo_error_cases(key: str):
    """The Cases of an OpInfo's error inputs."""
    opinfo = _opinfo(key)
    if opinfo.error_inputs_func is None:
        return
    for error_input in opinfo.error_inputs("cpu"):
        sample = error_input.sample_input
        source = f"OpInfo {opinfo.name} error input"
        yield Case(_op_name(opinfo), source, sample.input, tuple(sample.args), dict(sample.kwargs))


MODULES = [
    f"{kind}{d}d"
    for kind in ("MaxPool", "AvgPool", "AdaptiveMaxPool", "AdaptiveAvgPool", "LPPool")
    for d in (1, 2, 3)
] + ["FractionalMaxPool2d", "FractionalMaxPool3d"]


def _function_of(module_name: str) -> str:
    """``MaxPool2d`` -> ``max_pool2d``, ``LPPool1d`` -> ``lp_pool1d``."""
    name = module_name.replace("LPPool", "LpPool")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _module_case(name: str, module_cls, module_input, source: str) -> Case:
    """A ModuleInput as a call of the functional form (the constructor's
    arguments by name, the forward's input), with the module itself as
    PyTorch's side: it normalises its arguments before calling its
    functional form. A module whose construction fails is left None."""
    constructor = module_input.constructor_input
    bound = inspect.signature(module_cls).bind(*constructor.args, **constructor.kwargs)
    try:
        module = module_cls(*constructor.args, **constructor.kwargs)
    except Exception:  # PyTorch refuses the arguments; check_error_input says so
        module = None
    input = module_input.forward_input.args[0]
    return Case(name, source, input, (), dict(bound.arguments), module)


def module_cases(module_name: str):
    """The Cases of a ModuleInfo's samples, in its dtypes."""
    (info,) = [info for info in databases()[1] if info.module_cls.__name__ == module_name]
    name = _function_of(module_name)
    for dtype in info.dtypes:
        inputs = info.module_inputs_func(
            info, device="cpu", dtype=dtype, requires_grad=True, training=True
        )

        def features(module_input):
            constructor = module_input.constructor_input
            input = module_input.forward_input.args[0]
            return _features(input, constructor.args, constructor.kwargs)

        for module_input in _selected(inputs, 1, features):
            source = f"ModuleInfo {module_name} {module_input.desc or 'default'}"
            yield _module_case(name, info.module_cls, module_input, source)


def module_error_cases(module_name: str):
    (info,) = [info for info in databases()[1] if info.module_cls.__name__ == module_name]
    if info.module_error_inputs_func is None:
        return
    errors = info.module_error_inputs_func(
        info, device="cpu", dtype=torch.float32, requires_grad=False, training=True
    )
    for error in errors:
        source = f"ModuleInfo {module_name} error input"
        yield _module_case(
            _function_of(module_name), info.module_cls, error.module_error_input, source
        )


def check_error_input(case: Case) -> str:
    """An error input: PyTorch must refuse it (else it is compared as a
    sample), and then jaxpool must too."""
    try:
        if case.module is not None:
            case.module(case.input)
        elif case.source.startswith("ModuleInfo"):
            raise ValueError("the module's construction failed")
        else:
            getattr(torch.nn.functional, case.name)(case.input, *case.args, **case.kwargs)
    except Exception as error:  # PyTorch raises RuntimeError, ValueError, TypeError
        return check_error(case, f"{type(error).__name__}: {error}")
    return check_case(case)


NAN_FAMILIES = ("max_pool", "adaptive_max_pool", "fractional_max_pool")


def check_all(cases, check) -> tuple[collections.Counter, list[str]]:
    """Counts of each outcome, and a line for each failure."""
    counts, failures = collections.Counter(), []
    for case in cases:
        try:
            outcome = check(case)
            counts[outcome] += 1
            planted = _family(case.name) in NAN_FAMILIES and case.dtype == torch.float32
            if outcome == "matched" and planted:
                counts["planted NaN: " + check_nan_case(case, int(case.name[-2]))] += 1
        except AssertionError as error:
            failures.append(f"{case.describe()}: {error}")
    return counts, failures


def _assert_none_failed(failures: list[str]) -> None:
    assert not failures, f"{len(failures)} failed; the first:\n" + "\n".join(failures[:5])


@pytest.mark.parametrize("key", OPINFO_OPS)
def test_opinfo_samples(key):
    counts, failures = check_all(opinfo_cases(key), check_case)
    _assert_none_failed(failures)
    assert counts["matched"] > 0


@pytest.mark.parametrize("key", [key for key in OPINFO_OPS if "." not in key])
def test_opinfo_error_inputs_are_refused(key):
    counts, failures = check_all(opinfo_error_cases(key), check_error_input)
    _assert_none_failed(failures)
    if _opinfo(key).error_inputs_func is not None:
        assert counts["raised"] > 0


@pytest.mark.parametrize("module_name", MODULES)
def test_moduleinfo_samples_and_error_inputs(module_name):
    counts, failures = check_all(module_cases(module_name), check_case)
    _, error_failures = check_all(module_error_cases(module_name), check_error_input)
    _assert_none_failed(failures + error_failures)
    assert counts["matched"] > 0


def main(only: list[str]) -> None:
    """Prints the counts per op (``JAXPOOL_OPINFO=all`` for every sample),
    for the groups whose label contains one of ``only`` (all if empty)."""
    total = collections.Counter()
    groups = [(f"OpInfo {key}", opinfo_cases(key), check_case) for key in OPINFO_OPS]
    groups += [
        (f"OpInfo {key} errors", opinfo_error_cases(key), check_error_input)
        for key in OPINFO_OPS
        if "." not in key
    ]
    groups += [(f"ModuleInfo {name}", module_cases(name), check_case) for name in MODULES]
    groups += [
        (f"ModuleInfo {name} errors", module_error_cases(name), check_error_input)
        for name in MODULES
    ]
    for label, cases, check in groups:
        if only and not any(part in label for part in only):
            continue
        for dtype, group in itertools.groupby(cases, key=lambda case: case.dtype):
            counts, failures = check_all(group, check)
            counts["failed"] = len(failures)
            total.update(counts)
            print(label, dtype, dict(counts), flush=True)
            for failure in failures[:6]:
                print("    FAIL", failure[:600], flush=True)
    print("TOTAL", dict(total))


if __name__ == "__main__":
    main(sys.argv[1:])
