import random


def make_inputs(size: int, seed: int) -> tuple:
    """An acyclic graph of `size` packages: each depends on the one before it half the time (long chains,
    so many levels) and on up to two random earlier packages; some dependencies are not keys themselves."""
    rng = random.Random(seed)
    data = {}
    for i in range(size):
        deps = set()
        if i and rng.random() < 0.5:
            deps.add(f"pkg{i - 1:06d}")
        for _ in range(rng.randint(0, 2)):
            if i:
                deps.add(f"pkg{rng.randrange(i):06d}")
        if rng.random() < 0.1:
            deps.add(f"ext{rng.randrange(5)}")
        if rng.random() < 0.05:
            deps.add(f"pkg{i:06d}")  # a self-dependency, ignored
        data[f"pkg{i:06d}"] = deps
    return (data, True)
