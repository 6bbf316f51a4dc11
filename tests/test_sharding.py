"""Pooling on many devices: runs sharding_checks.py on 8 host CPU devices in a
subprocess (the device count is fixed when JAX starts)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from jaxpool import _compat

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
    # 28 with Auto axes; 16 more with Explicit ones where this JAX pools them
    # (jax 0.7 on), else one that the error names the version needed, where
    # this JAX has Explicit axes at all.
    if _compat.supports_explicit_sharding():
        expected = 44
    else:
        import jax

        expected = 29 if hasattr(jax.sharding, "AxisType") else 28
    assert f"sharding checks passed: {expected}\n" in result.stdout, result.stdout
