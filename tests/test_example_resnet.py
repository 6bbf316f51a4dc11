"""examples/resnet18_port.py: the ResNet-18-shaped forward pass written with
jaxpool.functional equals PyTorch's on the same weights, and checks its own
shapes where torch is missing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _example():
    spec = importlib.util.spec_from_file_location(
        "resnet18_port", ROOT / "examples" / "resnet18_port.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# An odd size: ResNet-D's ceil_mode average pooling then has a window cut
# short at the edge, where count_include_pad=False matters.
ARGS = ["--size", "33", "--width", "4", "--batch", "2", "--shortcut", "avg"]


def test_equals_pytorch(capsys):
    pytest.importorskip("torch")
    _example().main(ARGS)
    out = capsys.readouterr().out
    assert "stages [(2, 4, 9, 9), (2, 8, 5, 5), (2, 16, 3, 3), (2, 32, 2, 2)]" in out, out
    assert "outputs agree: the port changed imports only" in out, out


def test_without_torch_checks_its_shapes(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    _example().main(["--size", "16", "--width", "2", "--batch", "1"])
    out = capsys.readouterr().out
    assert "logits (1, 1000)" in out and "checked the shapes only" in out, out


def test_expected_shapes_follow_the_formulas():
    assert _example().expected_shapes(2, 224, 64) == [
        (2, 64, 56, 56),
        (2, 128, 28, 28),
        (2, 256, 14, 14),
        (2, 512, 7, 7),
    ]
