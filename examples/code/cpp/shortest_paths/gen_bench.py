"""Write inputs/bench.in deterministically: 1500 junctions, 6000 roads (a ring, so most pairs connect), 40 queries."""
import random
from pathlib import Path

rng = random.Random(4321)
n, extra, q = 1500, 4500, 40
roads = [(i, (i + 1) % n, rng.randint(5, 60)) for i in range(n)]
roads += [(rng.randrange(n), rng.randrange(n), rng.randint(0, 90)) for _ in range(extra)]
rng.shuffle(roads)
queries = [(rng.randrange(n), rng.randrange(n)) for _ in range(q)]
lines = [f"{n} {len(roads)} {q}"] + [f"{a} {b} {w}" for a, b, w in roads] + [f"{a} {b}" for a, b in queries]
Path(__file__).with_name("inputs").joinpath("bench.in").write_text("\n".join(lines) + "\n")
