"""jaxpool's benchmark harness: ``python -m benchmarks --help``.

Suites (each a module here): ``op`` (one pooling op against every peer),
``scale`` (compile time, peak memory and run time as the window grows),
``model`` (whole training steps of small Flax CNNs). ``report`` turns the
JSON they write into tables, charts and the README's speed section.
"""
