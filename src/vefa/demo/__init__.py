"""Believable data for people (``vefa demo``) and large data for benchmarks (``vefa bench-data``).

A plain package, not a Django app: pools of names, streets, cities and phrases in English,
Turkish, Serbian and Persian (``vefa.demo.pools``), deterministic generators built on them
(``vefa.demo.people``, ``vefa.demo.history``), the demo company (``vefa.demo.company``) and the
bulk loaders for a million customers (``vefa.demo.bench``).
"""
