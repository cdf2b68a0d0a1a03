"""Reproducible benchmarks of dagster-agentic; ``make bench-features`` runs ``bench.features``."""
