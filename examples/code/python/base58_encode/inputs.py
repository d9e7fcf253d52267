import random


def make_inputs(size: int, seed: int) -> tuple:
    """`size` bytes, a few of them leading zero bytes (encoded as '1's)."""
    rng = random.Random(seed)
    zeros = min(size, rng.randint(0, 3))
    return (bytes(zeros) + bytes(rng.randrange(256) for _ in range(size - zeros)),)
