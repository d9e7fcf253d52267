"""Time a `K-library.json` run's tuned build again against onnxruntime and torch, in a fresh process.

    python results/vs-onnxruntime/remeasure.py K     # rebuilds from /tmp/runs/K-library with the report's library choice
    python results/vs-onnxruntime/remeasure.py minilm minilm-2threads.json /tmp/runs/minilm-t2   # any report, work dir

The tune report times its peers in the tuning process, right after the search; on the attention kernels its
onnxruntime samples there were up to 1.6x slower than in a fresh process (cause not found: the search's
worker pools or XGBoost's threads are suspects). This prints two interleaved series (10 samples each) from a
fresh process, the way `litecoop tune` times them.
"""

import json
import sys
from pathlib import Path

import numpy as np

from litecoop.measure import latency, peers, timing
from litecoop import targets
from litecoop.bench.check import build_from_database

HERE = Path(__file__).parent


def main(name: str, report_name: str | None = None, work_dir: str | None = None) -> None:
    report = json.loads((HERE / (report_name or f"{name}-library.json")).read_text())
    taken = [tuple(tuple(shape) for shape in t["signature"]) for t in report.get("library_path", []) if t["taken"]]
    work, executable = build_from_database(name, Path(work_dir or f"/tmp/runs/{name}-library"), "host", 0, taken)
    device = latency.device_of(targets.load_target("host"))
    samplers = {"tuned": latency.vm_sampler(executable, latency.device_inputs(work.inputs, device), device)[0],
                **peers.samplers(work, 2)}
    for _ in range(2):
        medians = {n: float(np.median(x)) for n, x in zip(samplers, timing.interleave(list(samplers.values()), 10))}
        print(name, f"{len(taken)} matmul shapes on OpenBLAS;", {n: f"{s * 1e3:.2f} ms" for n, s in medians.items()},
              f"tuned / onnxruntime {medians['tuned'] / medians['onnxruntime']:.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
