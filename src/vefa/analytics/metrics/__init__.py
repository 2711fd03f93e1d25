"""Customer metrics written once as Narwhals lazy expressions.

Each metric is a plain function of lazy frames (``transactions``, ``lines``, ``customers``,
…) and keyword settings that returns a lazy frame, so the same definition runs on DuckDB on
one machine and on PySpark on a cluster (see ``vefa.analytics.engine``). Settings with their
defaults are frozen dataclasses in ``params`` (and ``params_b``); each module lists the codes
it writes (segment names, ladder steps, value classes) with translatable ``LABELS`` for the
pages, while the results themselves carry only the stable ASCII codes.

Definitions of every metric are in the module docstrings and in ``docs/analytics.md``.
"""
