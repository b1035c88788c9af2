"""Benchmarks and reproduction scripts; run each from the repository root as
``python -m benchmarks.NAME``."""
