"""Calls per second of one loaded tuned model served from 1, 2 and 4 client threads: each thread on its own VM (what
`litecoop.load` does) against every call behind one lock. Also what loading costs (seconds, resident memory).

    python benchmarks/serving_threads.py results/archive/zoo-3m-avx2/runs/zoo-bert_base/tuned --out results/serving

Public API only. Writes serving.md and claims.json into --out.
"""

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate

from publish import publish

LOAD_COST = """
import resource, sys, time
start = time.perf_counter()
import litecoop
fast = litecoop.load(sys.argv[1])
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def calls_per_second(call, inputs, clients: int, seconds: float) -> float:
    """Calls completed per second by `clients` threads calling `call(*inputs)` back to back for `seconds`."""
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def client(index):
        while time.perf_counter() < stop:
            call(*inputs)
            done[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifact", type=Path)
    parser.add_argument("--out", type=Path, default=Path("results/serving"))
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    import litecoop

    seconds, megabytes = map(float, subprocess.run([sys.executable, "-c", LOAD_COST, str(args.artifact)], check=True,
                                                   capture_output=True, text=True).stdout.split())
    fast = litecoop.load(args.artifact)
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(s.shape).astype(s.dtype) if s.dtype.startswith("float")
              else np.ones(s.shape, dtype=s.dtype) for s in fast.input_specs[0]]
    lock = threading.Lock()

    def locked(*xs):
        with lock:
            return fast(*xs)

    rows = []
    for clients in (1, 2, 4):  # interleaved: the two modes alternate at each client count
        rows.append([clients, *(f"{calls_per_second(call, inputs, clients, args.seconds):.1f}" for call in (fast, locked))])
    table = tabulate(rows, ["client threads", "calls/s, a VM per thread (litecoop.load)", "calls/s, one lock"],
                     tablefmt="github", disable_numparse=True)
    loading = f"Loading (`import litecoop; litecoop.load(...)` in a fresh process): {seconds:.1f} s, {megabytes:.0f} MB"
    publish(args.out, "serving.md", f"Model: {args.artifact}\n\n{table}\n\n{loading} resident.", [{
        "claim": "a loaded tuned model serves many client threads (a VM per thread) and loads without the compiler "
                 "stack",
        "number": f"calls/s at 1, 2, 4 client threads: {', '.join(r[1] for r in rows)} (VM per thread), "
                  f"{', '.join(r[2] for r in rows)} (one lock); load {seconds:.1f} s, {megabytes:.0f} MB"}])


if __name__ == "__main__":
    main()
