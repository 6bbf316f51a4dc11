"""Pooling on many devices: runs sharding_checks.py on 8 host CPU devices in a
subprocess (the device count is fixed when JAX starts)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

# Subprocesses that run for tens of seconds: outside the quick subset.
pytestmark = pytest.mark.slow


def test_sharded_pooling_on_eight_host_devices():
    tests = pathlib.Path(__file__).parent
    environment = dict(os.environ)
    environment["XLA_FLAGS"] = (
        environment.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    ).strip()
    environment["JAX_PLATFORMS"] = "cpu"
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(tests), *filter(None, [environment.get("PYTHONPATH")])]
    )
    result = subprocess.run(
        [sys.executable, str(tests / "sharding_checks.py")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sharding checks passed: 44" in result.stdout, result.stdout
