import random


def make_inputs(size: int, seed: int) -> tuple:
    """`size` integers up to 20000: mostly random, some primes' multiples and small numbers."""
    rng = random.Random(seed)
    numbers = []
    for _ in range(size):
        roll = rng.random()
        if roll < 0.1:
            numbers.append(rng.randint(1, 10))
        elif roll < 0.2:
            numbers.append(rng.choice([2, 3, 5, 7, 11, 13]) ** rng.randint(1, 5))
        else:
            numbers.append(rng.randint(2, 20_000))
    return (numbers,)
