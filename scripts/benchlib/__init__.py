"""The benchmark's pieces: one module per measurement, plus the shared results and session code.

``scripts/bench.py`` runs them; ``tests/test_bench_smoke.py`` runs the quick ones so they cannot rot.
"""
