"""The benchmarks' million-row loader: the demo's generated customers and orders written directly.

Not part of the product: ``huitou demo`` writes its small demo through the
services. This package writes the same ``CustomerSpec`` values with COPY
(PostgreSQL) or ``executemany`` for the benchmarks, and its tests check the
rows against what the services write for the same story.
"""
