"""Write inputs/bench.in deterministically."""
import random
from pathlib import Path

rng = random.Random(7)
letters = "abcdefghijklmnopqrstuvwxyz"
lines = []
for _ in range(10000):
    name = "".join(rng.choice(letters) for _ in range(rng.randint(4, 12)))
    if rng.random() < 0.05:
        name = name[:2] + '"' + name[2:]
    lines.append(f"{name} {rng.randint(-1000, 100000)}")
Path(__file__).with_name("inputs").joinpath("bench.in").write_text("\n".join(lines) + "\n")
