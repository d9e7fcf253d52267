import random

WORDS = ["alpha", "beta", "gamma", "delta", "New York", 'say "hi"', "a,b", "line\nbreak", "", "-", "1e3"]


def field(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return str(rng.randint(-10 ** 6, 10 ** 6))
    if roll < 0.45:
        return f"{rng.uniform(-1000, 1000):.3f}"
    word = rng.choice(WORDS)
    if any(c in word for c in ',"\n') or rng.random() < 0.2:
        return '"' + word.replace('"', '""') + '"'
    return word


def make_inputs(size: int, seed: int) -> tuple:
    """About `size` fields of CSV text: rows of 1-8 fields, LF or CRLF line ends, with or without a final one."""
    rng = random.Random(seed)
    newline = rng.choice(["\n", "\r\n"])
    rows, count = [], 0
    while count < size:
        width = rng.randint(1, 8)
        rows.append(",".join(field(rng) for _ in range(width)))
        count += width
    return (newline.join(rows) + (newline if rng.random() < 0.5 else ""),)
