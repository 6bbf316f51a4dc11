"""Benchmark jaxpool against its peers on JAX's default backend.

``python -m benchmarks [--quick] [--suite op|scale|model|all|accel] [--out DIR |
--update-committed] [--rounds N]``

``all`` is op, scale and model on JAX's default backend; ``accel`` (only when named)
compiles for a GPU and TPUs without one and writes ``benchmarks/results/<local/>accel/``
(see ``benchmarks/accel.py``).

Writes ``<suite>.json`` (every sample, the machine, versions), ``results.md``
(every table; a full run adds the design goals) and PNG charts into
``benchmarks/results/local/<backend>/`` (``<backend>-quick/`` with ``--quick``),
a folder git ignores; ``--out DIR`` writes elsewhere and ``--update-committed``
replaces the committed ``benchmarks/results/<backend>/`` that the README and
``docs/performance.md`` are generated from. Prints the tables at the end.
"""

from __future__ import annotations

from benchmarks import accel
from benchmarks import harness
from benchmarks import model
from benchmarks import op
from benchmarks import scale


def main(argv: list[str] | None = None) -> None:
    harness.main({"op": op.run, "scale": scale.run, "model": model.run, "accel": accel.run}, argv)


if __name__ == "__main__":
    main()
