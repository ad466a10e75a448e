"""
Benchmarks (``python -m engine.bench NAME --out FILE.json``): speed is measured here, not in tests.

Each benchmark module defines ``register(subparsers)``; results are JSON written atomically, and every
comparison is a ratio measured within one run (machines are shared and noisy).
"""
