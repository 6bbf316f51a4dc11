#!/usr/bin/env bash
# The GPU check: one command for the day a GPU is lent (see benchmarks/gpu_check.py).
#
#   benchmarks/gpu_check.sh [--dry-run] [--budget-s S] [--rounds N]
#
# Finds a Python whose jax sees a GPU: $PYTHON if set, else python3 (the device machines'
# image has a CUDA jax, pytest and pytest-xdist, and no network). Only where none is found does
# it make .venv-gpu and pip install jax[cuda12] of the version the accel extra pins, with the
# test and bench extras. Then runs the tests, the op and model suites and the comparison with
# the accelerator suite's H100 prediction, inside one budget (default 450 s; with the setup the
# whole check stays under 8 minutes), and writes into $OUT if set, else benchmarks/results/gpu.
# --dry-run checks the script on the CPU (JAX_PLATFORMS=cpu, tiny settings, current Python).
set -uo pipefail
cd "$(dirname "$0")/.."
export GPU_CHECK_STARTED="$(date +%s)"
dry_run=0
for argument in "$@"; do [ "$argument" = "--dry-run" ] && dry_run=1; done
# A dry run's results are not a GPU's: they go where git does not look.
if [ "$dry_run" = 1 ]; then OUT="${OUT:-benchmarks/results/local/gpu}"; fi
OUT="${OUT:-benchmarks/results/gpu}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
echo "gpu_check: $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv

sees_gpu() {  # $1: a python; true where its jax imports and its default backend is the GPU
  JAX_PLATFORMS=cuda timeout 120 "$1" -c \
    'import jax, sys; sys.exit(0 if jax.default_backend() == "gpu" else 1)' >/dev/null 2>&1
}
has_test_tools() {
  "$1" -c 'import pytest, xdist' >/dev/null 2>&1
}

if [ "$dry_run" = 1 ]; then
  PY="${PYTHON:-python3}"
elif [ -n "${PYTHON:-}" ] && sees_gpu "$PYTHON"; then
  PY="$PYTHON"
elif sees_gpu python3; then
  PY=python3
else
  jax_version=$(sed -n 's/.*"jax-cuda12-plugin==\([0-9.]*\)".*/\1/p' pyproject.toml)
  echo "gpu_check: no Python whose jax sees a GPU; installing jax[cuda12]==${jax_version} into .venv-gpu"
  python3 -m venv .venv-gpu && PY=.venv-gpu/bin/python
  if ! timeout 300 "$PY" -m pip install -q "jax[cuda12]==${jax_version}" -e ".[test,bench]" \
      || ! sees_gpu "$PY"; then
    echo "gpu_check: could not get a jax that sees the GPU; stopping" >&2
    exit 2
  fi
fi
if ! has_test_tools "$PY"; then
  echo "gpu_check: $PY lacks pytest or pytest-xdist; trying pip" >&2
  timeout 120 "$PY" -m pip install -q pytest pytest-xdist hypothesis chex || true
fi
echo "gpu_check: using $PY ($("$PY" -c 'import jax; print("jax", jax.__version__)' 2>/dev/null))"
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m benchmarks.gpu_check --out "$OUT" "$@"
