"""Queries on a tuning run's history: the (measured trials, estimated best latency in seconds, tuning
wall-clock seconds) triple recorded after every measured batch."""

from __future__ import annotations


def best_latency_at(history: list, trials: int) -> float | None:
    """Best estimated latency (s) after `trials` measured trials; None before the first batch."""
    seen = [total for count, total, _ in history if count <= trials and total > 0]
    return min(seen) if seen else None


def best_latency_within(history: list, seconds: float) -> float | None:
    """Best estimated latency (s) after `seconds` of tuning; None before the first batch."""
    seen = [total for _, total, elapsed in history if elapsed <= seconds and total > 0]
    return min(seen) if seen else None


def tuning_seconds(history: list) -> float:
    """Seconds from the start of tuning to its last measured batch (0 for an empty history)."""
    return history[-1][2] if history else 0.0


def seconds_to_reach(history: list, latency_s: float) -> float | None:
    """Tuning seconds until the estimate first got to `latency_s` or below; None if it never did."""
    return next((elapsed for _, total, elapsed in history if 0 < total <= latency_s), None)


def trials_to_reach(history: list, latency_s: float) -> int | None:
    """Measured trials until the estimate first got to `latency_s` or below; None if it never did."""
    return next((count for count, total, _ in history if 0 < total <= latency_s), None)
