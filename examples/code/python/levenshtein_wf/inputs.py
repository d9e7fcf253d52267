import random

ALPHABET = "ACGT"


def make_inputs(size: int, seed: int) -> tuple:
    """Two DNA-like strings: one of length `size`, the other a mutated copy (edits, insertions, deletions)."""
    rng = random.Random(seed)
    first = "".join(rng.choice(ALPHABET) for _ in range(size))
    second = []
    for char in first:
        roll = rng.random()
        if roll < 0.1:
            second.append(rng.choice(ALPHABET))
        elif roll < 0.15:
            second.append(char + rng.choice(ALPHABET))
        elif roll >= 0.2:
            second.append(char)
    return (first, "".join(second))
