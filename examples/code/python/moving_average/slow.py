"""Smooth integer sensor readings with a trailing moving average."""


def moving_average(readings: list[int], window: int) -> list[float]:
    """Return, for each reading, the mean of it and up to `window - 1` readings before it."""
    if window <= 0:
        raise ValueError("window must be positive")
    averages = []
    for end in range(1, len(readings) + 1):
        start = max(0, end - window)
        total = 0
        for i in range(start, end):
            total += readings[i]
        averages.append(total / (end - start))
    return averages
