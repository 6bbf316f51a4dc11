"""The examples run in --quick mode and report what they should."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Subprocesses that run for tens of seconds: outside the quick subset.
pytestmark = pytest.mark.slow

for _module in ("flax", "optax", "sklearn", "tqdm"):
    pytest.importorskip(_module)

ROOT = Path(__file__).resolve().parents[1]


def test_train_digits_quick_trains_and_matches_flax_step_for_step():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    command = [sys.executable, str(ROOT / "examples" / "train_digits.py"), "--quick"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    accuracy = re.search(r"test accuracy \(jaxpool\.nnx\.MaxPool\): ([\d.]+)%", out)
    assert accuracy, out
    # 30 steps are far from converged but well above chance (10%).
    assert float(accuracy.group(1)) > 20.0, out
    assert re.search(r"losses agree step for step: \d+ of 30 identical", out), out
    for row in ("median step time", "compiled step temp memory"):
        assert re.search(rf"{row}\s+[\d.]+ \w+\s+[\d.]+ \w+", out), out


def test_train_digits_keras_quick_trains_and_matches_keras_step_for_step():
    pytest.importorskip("keras")
    env = dict(os.environ, KERAS_BACKEND="jax")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    command = [sys.executable, str(ROOT / "examples" / "train_digits_keras.py"), "--quick"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    found = {
        pooling: re.search(
            rf"test accuracy \({re.escape(pooling)}\.MaxPooling2D\): +([\d.]+)%", out
        )
        for pooling in ("keras.layers", "jaxpool.keras")
    }
    assert all(found.values()), out
    # Two epochs are far from converged but well above chance (10%), and the same.
    assert float(found["jaxpool.keras"].group(1)) > 50.0, out
    assert found["jaxpool.keras"].group(1) == found["keras.layers"].group(1), out
    match = re.search(r"losses agree step for step: (\d+) of (\d+) identical", out)
    assert match and match.group(1) == match.group(2) == "46", out


def test_unpool_autoencoder_quick_trains_and_writes_the_figure(tmp_path):
    pytest.importorskip("matplotlib")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    figure = tmp_path / "autoencoder.png"
    script = ROOT / "examples" / "unpool_autoencoder.py"
    command = [sys.executable, str(script), "--quick", "--output", str(figure)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    error = re.search(r"test reconstruction MSE \(SegNet, max_unpool\): ([\d.]+)", out)
    mean_error = re.search(r"test MSE of the mean training image:\s+([\d.]+)", out)
    assert error and mean_error, out
    # 60 steps already decode better than the mean image.
    assert float(error.group(1)) < float(mean_error.group(1)), out
    assert figure.read_bytes().startswith(b"\x89PNG"), out


def test_unpool_autoencoder_writes_its_figure_where_git_ignores_it():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    pytest.importorskip("matplotlib")
    path = ROOT / "examples" / "unpool_autoencoder.py"
    spec = importlib.util.spec_from_file_location("unpool_autoencoder", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # definitions only: main() runs under __main__
    default = module.parse_arguments([]).output
    assert default.is_absolute() and default.is_relative_to(ROOT)  # not the working directory
    relative = default.relative_to(ROOT).as_posix()
    ignored = subprocess.run(["git", "check-ignore", "--quiet", "--no-index", relative], cwd=ROOT)
    assert ignored.returncode == 0, f"{relative} is not ignored by git"


# examples/resnet18_port.py: the ResNet-18-shaped forward pass written with
# jaxpool.functional equals PyTorch's on the same weights, and checks its own
# shapes where torch is missing.


def _resnet_example():
    spec = importlib.util.spec_from_file_location(
        "resnet18_port", ROOT / "examples" / "resnet18_port.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# An odd size: ResNet-D's ceil_mode average pooling then has a window cut
# short at the edge, where count_include_pad=False matters.
RESNET_ARGS = ["--size", "33", "--width", "4", "--batch", "2", "--shortcut", "avg"]


def test_resnet18_port_equals_pytorch(capsys):
    pytest.importorskip("torch")
    _resnet_example().main(RESNET_ARGS)
    out = capsys.readouterr().out
    assert "stages [(2, 4, 9, 9), (2, 8, 5, 5), (2, 16, 3, 3), (2, 32, 2, 2)]" in out, out
    assert "outputs agree: the port changed imports only" in out, out


def test_resnet18_port_without_torch_checks_its_shapes(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    _resnet_example().main(["--size", "16", "--width", "2", "--batch", "1"])
    out = capsys.readouterr().out
    assert "logits (1, 1000)" in out and "checked the shapes only" in out, out


def test_resnet18_port_expected_shapes_follow_the_formulas():
    assert _resnet_example().expected_shapes(2, 224, 64) == [
        (2, 64, 56, 56),
        (2, 128, 28, 28),
        (2, 256, 14, 14),
        (2, 512, 7, 7),
    ]
