"""Benchmarks over many runs: bench, regression check, statistics, verdicts, rendering."""
