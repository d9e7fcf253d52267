"""Write inputs/bench.in deterministically."""
import random
from pathlib import Path

rng = random.Random(42)
n, q = 48000, 48000
out = [str(n), " ".join(str(rng.randint(-500, 5000)) for _ in range(n)), str(q)]
for _ in range(q):
    a, b = rng.randrange(n), rng.randrange(n)
    out.append(f"{min(a, b)} {max(a, b)}")
Path(__file__).with_name("inputs").joinpath("bench.in").write_text("\n".join(out) + "\n")
