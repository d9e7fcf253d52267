import random


def make_inputs(size: int, seed: int) -> tuple:
    rng = random.Random(seed)
    level = 20_000
    readings = []
    for _ in range(size):
        level += rng.randint(-150, 150)
        readings.append(level + rng.randint(-40, 40))
    window = max(1, size // 2)
    return (readings, window)
