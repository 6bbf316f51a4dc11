"""jaxpool's gradient as XLA compiles it for a GPU and a TPU, checked without either.

Compile-only: each target's programs are compiled *deviceless* (the CUDA plugin
with XLA's H100 target description, libtpu's compile-only client for a TPU v5e)
in one subprocess per target with ``JAX_PLATFORMS=cpu``, and the optimised HLO
is read. Nothing runs on an accelerator. Needs the ``accel`` extra
(``pip install -e ".[test,accel,keras]"``); a target whose packages are missing
is skipped with the reason, or fails the run under JAXPOOL_REQUIRE_ACCELERATORS=1.
The whole file is marked ``slow`` and ``accelerator``, so
``python -m pytest -m "not accelerator"`` leaves it out and
``python -m pytest -m accelerator`` runs it alone (a minute on 2 cores).

What holds, for a few representative geometries and both autodiff modes:
the gradient has no scatter, select-and-scatter or sort; the VJP saves one
small integer per output alone (int8, int16 past 128 window positions; the
output's shape: the switches, or on a GPU for overlapping windows the
winners' keys), and the backward alone, compiled for the target, takes
exactly the cotangent and that array as its parameters; the values-only
forward is one ``reduce_window`` (the backend's plan was chosen at lowering);
and on the GPU the gradient compiles under
``--xla_gpu_deterministic_ops=true`` (where ``reduce_window``'s becomes sort and
scatter, which shows that the option took effect). The same holds on the GPU
for the gradients of ``jaxpool.keras`` max pooling layers, where Keras's own
layers (``KERAS_BACKEND=jax``) scatter, sort under deterministic ops, and save
their float input.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # plain `pytest` puts tests/, not the checkout, on the path
    sys.path.insert(0, str(ROOT))

from benchmarks import accel  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.accelerator]

# name -> (shape, window, strides, padding). Channels-last, float32.
GEOMETRIES = {
    "2x2/2 VALID": ((4, 32, 32, 128), (2, 2), (2, 2), "VALID"),
    "3x3/2 SAME": ((4, 32, 32, 128), (3, 3), (2, 2), "SAME"),
    "3x3/1 SAME": ((2, 16, 16, 128), (3, 3), (1, 1), "SAME"),
    "7x7/1 SAME": ((2, 28, 28, 128), (7, 7), (1, 1), "SAME"),
    "global 14x14": ((4, 14, 14, 128), (14, 14), (14, 14), "VALID"),
}
MODES = ("vjp", "jvp")
GPU_TARGET = "H100"
TARGETS = (GPU_TARGET, "TPU v5e")
FORBIDDEN = ("scatter", "select-and-scatter", "sort")
SUBPROCESS_TIMEOUT_S = 600
# name -> (shape, layer class, its arguments): jaxpool.keras and keras.layers alike.
KERAS_LAYERS = {
    "MaxPooling2D 3x3/2 same": ((4, 32, 32, 128), "MaxPooling2D", (3, 2, "same")),
    "MaxPooling1D 3/2 same channels_first": (
        (4, 64, 1024),
        "MaxPooling1D",
        (3, 2, "same", "channels_first"),
    ),
    "AdaptiveMaxPooling2D 30 to 7": ((4, 30, 30, 128), "AdaptiveMaxPooling2D", (7,)),
}


# --- inside the subprocess (JAX_PLATFORMS=cpu) ------------------------------------------------


def _compile_all(target: str) -> dict:
    import jax
    import jax.numpy as jnp

    import jaxpool

    found: dict = {}
    for name, (shape, window, strides, padding) in GEOMETRIES.items():
        x = jax.ShapeDtypeStruct(shape, jnp.float32)
        for mode in MODES:

            def pool(x, mode=mode, window=window, strides=strides, padding=padding):
                return jaxpool.max_pool(x, window, strides, padding, autodiff=mode)

            gradient = jax.grad(lambda x, pool=pool: pool(x).sum())
            y, vjp_function = jax.eval_shape(lambda x, pool=pool: jax.vjp(pool, x), x)
            residuals = [
                f"{leaf.dtype}{list(leaf.shape)}" for leaf in jax.tree.leaves(vjp_function)
            ]
            backward = lambda vjp_function, cotangent: vjp_function(cotangent)[0]  # noqa: E731
            found[f"{name}|{mode}"] = {
                "output": f"{y.dtype}{list(y.shape)}",
                "residuals": residuals,
                "grad": accel.measure(target, gradient, (x,)),
                "bwd": accel.measure(target, backward, (vjp_function, y)),
            }
        # The values-only forward, and which formulation the lowering chose.
        compiled_forward, _ = accel.compile_for(
            target, lambda x, w=window, s=strides, p=padding: jaxpool.max_pool(x, w, s, p), (x,)
        )
        found[f"{name}|fwd"] = {"reduce_window": "reduce-window(" in compiled_forward.as_text()}
        if accel.target_device(target).platform == "gpu":
            gradient = jax.grad(
                lambda x, w=window, s=strides, p=padding: jaxpool.max_pool(x, w, s, p).sum()
            )
            found[f"{name}|deterministic"] = accel.measure(
                target, gradient, (x,), accel.DETERMINISTIC_OPTIONS
            )
    if accel.target_device(target).platform == "gpu":
        shape, window, strides, padding = GEOMETRIES["3x3/2 SAME"]
        x = jax.ShapeDtypeStruct(shape, jnp.float32)
        found["reduce_window|deterministic"] = accel.measure(
            target,
            jax.grad(lambda x: accel.common.reduce_window_max(x, window, strides, padding).sum()),
            (x,),
            accel.DETERMINISTIC_OPTIONS,
        )
        found["keras"] = _compile_keras_layers(target)
    return found


def _compile_keras_layers(target: str) -> dict:
    """The gradients of jaxpool.keras's layers and of Keras's own, or why not."""
    import importlib.util

    import jax
    import jax.numpy as jnp

    if importlib.util.find_spec("keras") is None:
        return {"skipped": "Keras is not installed (pip install -e '.[keras]')"}
    import keras

    import jaxpool.keras

    found: dict = {}
    for name, (shape, layer_class, arguments) in KERAS_LAYERS.items():
        x = jax.ShapeDtypeStruct(shape, jnp.float32)
        for source, module in (("jaxpool", jaxpool.keras), ("keras", keras.layers)):
            layer = getattr(module, layer_class)(*arguments)
            gradient = jax.grad(lambda x, layer=layer: layer(x).sum())
            y, vjp_function = jax.eval_shape(lambda x, layer=layer: jax.vjp(layer, x), x)
            found[f"{name}|{source}"] = {
                "output": f"{y.dtype}{list(y.shape)}",
                "residuals": [f"{a.dtype}{list(a.shape)}" for a in jax.tree.leaves(vjp_function)],
                "grad": accel.measure(target, gradient, (x,)),
                "deterministic": accel.measure(target, gradient, (x,), accel.DETERMINISTIC_OPTIONS),
            }
    return found


# --- in the test process --------------------------------------------------------------------


@pytest.fixture(scope="module", params=TARGETS)
def compiled(request, tmp_path_factory):
    return _compiled(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def compiled_for_the_gpu(tmp_path_factory):
    """The GPU's compiles: deterministic ops are a GPU option only."""
    return _compiled(GPU_TARGET, tmp_path_factory)


_COMPILED: dict[str, tuple[str, dict]] = {}


def _skip_unless_required(reason: str) -> None:
    """Skips, or fails where JAXPOOL_REQUIRE_ACCELERATORS=1 (as CI's command sets it), so
    that a venv without the packages cannot pass CI by skipping every compile."""
    if os.environ.get("JAXPOOL_REQUIRE_ACCELERATORS") == "1":
        pytest.fail(f"JAXPOOL_REQUIRE_ACCELERATORS=1, but {reason}")
    pytest.skip(reason)


def _compiled(target, tmp_path_factory):
    """Everything compiled for ``target``, in a subprocess, once per test process."""
    if target in _COMPILED:
        return _COMPILED[target]
    reason = accel.missing(accel.TARGETS[target]["platform"])
    if reason is not None:
        _skip_unless_required(f"cannot compile for {target} here: {reason}")
    out = tmp_path_factory.mktemp("accel") / "found.json"
    env = {**os.environ, **accel.WORKER_ENVIRONMENT, "KERAS_BACKEND": "jax"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    completed = subprocess.run(
        [sys.executable, __file__, target, str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    _COMPILED[target] = target, json.loads(out.read_text())
    return _COMPILED[target]


def _switch_dtype(window: tuple[int, ...]) -> str:
    """The documented switch dtype: the smallest that holds ``prod(window_shape) - 1``."""
    positions = math.prod(window)
    return "int8" if positions <= 128 else "int16" if positions <= 32768 else "int32"


def _ok(record: dict) -> dict:
    assert record["status"] == "ok", record.get("message")
    return record


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("geometry", list(GEOMETRIES))
def test_gradient_has_no_scatter_or_sort(compiled, geometry, mode):
    target, found = compiled
    for program in ("grad", "bwd"):
        record = _ok(found[f"{geometry}|{mode}"][program])
        flagged = {op: n for op, n in record["flagged"].items() if op in FORBIDDEN}
        assert flagged == {}, f"{target} {geometry} {mode} {program}: {record['flagged']}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("geometry", list(GEOMETRIES))
def test_the_residual_is_the_switches(compiled, geometry, mode):
    _, found = compiled
    entry = found[f"{geometry}|{mode}"]
    dtype = _switch_dtype(GEOMETRIES[geometry][1])
    switches = entry["output"].replace("float32", dtype)
    assert entry["residuals"] == [switches]
    # The backward alone, as compiled for the target, reads the switches and the cotangent.
    parameters = _ok(entry["bwd"])["parameters"]
    as_hlo = {entry["output"].replace("float32", "f32"), switches.replace("int", "s")}
    assert {p.replace(" ", "") for p in parameters} == {p.replace(" ", "") for p in as_hlo}


@pytest.mark.parametrize("geometry", list(GEOMETRIES))
def test_the_values_only_forward_is_a_reduce_window(compiled, geometry):
    # lax.platform_dependent chose this backend's plan at lowering: on a CPU
    # the values come from slices and elementwise maxima instead.
    target, found = compiled
    assert found[f"{geometry}|fwd"]["reduce_window"], target


@pytest.mark.parametrize("geometry", list(GEOMETRIES))
def test_gpu_gradient_compiles_with_deterministic_ops(compiled_for_the_gpu, geometry):
    _, found = compiled_for_the_gpu
    record = _ok(found[f"{geometry}|deterministic"])
    assert not set(record["flagged"]) & set(FORBIDDEN), record["flagged"]
    # The option reached the compiler: reduce_window's gradient turns to sort and scatter.
    reference = _ok(found["reduce_window|deterministic"])
    assert {"sort", "scatter"} <= set(reference["flagged"])


def _keras_compiles(found: dict) -> dict:
    if "skipped" in found["keras"]:
        _skip_unless_required(found["keras"]["skipped"])
    return found["keras"]


@pytest.mark.parametrize("layer", list(KERAS_LAYERS))
def test_keras_layer_gradient_has_no_scatter_and_compiles_with_deterministic_ops(
    compiled_for_the_gpu, layer
):
    _, found = compiled_for_the_gpu
    ours = _keras_compiles(found)[f"{layer}|jaxpool"]
    for program in ("grad", "deterministic"):
        record = _ok(ours[program])
        assert not set(record["flagged"]) & set(FORBIDDEN), (program, record["flagged"])
    # The backward keeps small integers alone: the switches (one per output,
    # for a regular pooling), not the input.
    assert ours["residuals"] and all(r.startswith("int8[") for r in ours["residuals"])
    if not layer.startswith("Adaptive"):
        assert ours["residuals"] == [ours["output"].replace("float32", "int8")]


@pytest.mark.parametrize("layer", list(KERAS_LAYERS))
def test_keras_own_layer_gradient_scatters_so_the_check_can_fail(compiled_for_the_gpu, layer):
    _, found = compiled_for_the_gpu
    theirs = _keras_compiles(found)[f"{layer}|keras"]
    assert set(_ok(theirs["grad"])["flagged"]) & {"scatter", "select-and-scatter"}
    assert {"sort", "scatter"} <= set(_ok(theirs["deterministic"])["flagged"])
    assert any(r.startswith("float32[") for r in theirs["residuals"])  # the input, saved


if __name__ == "__main__":
    target_name, result_path = sys.argv[1:3]
    Path(result_path).write_text(json.dumps(_compile_all(target_name)))
