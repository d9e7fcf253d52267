"""Write inputs/bench.in deterministically."""
import random
from pathlib import Path

rng = random.Random(1234)
letters = "abcdefghijklmnopqrstuvwxyz"
vocab = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(3000)})
punct = ["", "", "", "", ",", ".", "!", "?", ";"]
lines = []
for _ in range(15000):
    words = []
    for _ in range(rng.randint(6, 14)):
        w = rng.choice(vocab)
        if rng.random() < 0.1:
            w = w.capitalize()
        words.append(w + rng.choice(punct))
    lines.append(" ".join(words))
Path(__file__).with_name("inputs").joinpath("bench.in").write_text("\n".join(lines) + "\n")
