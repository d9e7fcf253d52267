import random


def make_inputs(size: int, seed: int) -> tuple:
    """A key of about 16 x `size` bytes (any length modulo 4, so every tail case) and a 32-bit seed."""
    rng = random.Random(seed)
    length = 16 * size + rng.randrange(4)
    return (rng.randbytes(length), rng.randrange(1 << 32))
