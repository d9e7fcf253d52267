import random


def make_inputs(size: int, seed: int) -> tuple:
    """`size` messages of up to 24 digits, mostly 1s and 2s (many decodings), some zeros."""
    rng = random.Random(seed)
    digits = "1111222223456789" + "0"
    return (["".join(rng.choice(digits) for _ in range(rng.randint(0, 24))) for _ in range(size)],)
