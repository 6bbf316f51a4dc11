"""examples/train_digits.py runs in --quick mode and reports what it should."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
