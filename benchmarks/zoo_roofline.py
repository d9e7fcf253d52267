"""What bounds each zoo model on this machine, and how near each contender of a yardstick run comes to it.

    python benchmarks/zoo_roofline.py results/zoo

Per model: its FLOPs (torch's FlopCounterMode on one forward call: matmuls, convolutions and attention; elementwise
work is not counted), the bytes a call must move at least (weights, inputs and output, float32), the roofline
bound max(FLOPs / peak, bytes / bandwidth) at this machine's measured peak and bandwidth on the threads the
contenders ran on (`litecoop.measure.roofline`), and each contender's latency from the yardstick run as a fraction of that bound
(100%: at the machine's limit). Writes roofline.md beside the run's yardstick.md.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from tabulate import tabulate
from torch.utils.flop_counter import FlopCounterMode

from litecoop.measure.roofline import bound_s, machine_limits
from litecoop.workload import zoo

def flops_and_bytes(name: str) -> tuple[float, float]:
    """(FLOPs of one call, bytes it must move at least) of zoo model `name`."""
    module, inputs = zoo.build(name)
    tensors = [torch.from_numpy(x) for x in inputs]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        output = module(*tensors)
    output = output[0] if isinstance(output, (tuple, list)) else output
    output = getattr(output, "last_hidden_state", output)
    weights = sum(t.numel() * 4 for t in [*module.parameters(), *module.buffers()])
    return float(counter.get_total_flops()), float(weights + sum(x.nbytes for x in inputs) + output.numel() * 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a yardstick output folder (its yardstick.json)")
    args = parser.parse_args()
    runs = json.loads((args.run / "yardstick.json").read_text())["runs"]
    threads = runs[0]["peer_threads"]
    limits = machine_limits(threads)
    peak, bandwidth = limits["peak_flops"], limits["memory_bandwidth_Bps"]
    rows = []
    for run in runs:
        name = run["workload"].removeprefix("zoo:")
        flops, moved = flops_and_bytes(name)
        bound = bound_s(flops, moved, peak, bandwidth)
        kind = "compute" if flops / peak >= moved / bandwidth else "memory"
        contenders = {"tuned": run["tuned_latency_s"]} | {p["name"]: p["latency_s"] for p in run["peers"]}
        fractions = {k: bound / v for k, v in contenders.items() if v}
        best_peer = max((k for k in fractions if k not in ("tuned", "openvino")), key=fractions.get)
        rows.append([name, f"{flops / 1e9:.1f}", f"{moved / 1e6:.0f}", f"{bound * 1e3:.2f} ({kind})",
                     f"{fractions['tuned']:.0%}", f"{fractions[best_peer]:.0%} ({best_peer})",
                     f"{flops / run['tuned_latency_s'] / 1e9:.0f}"])
    headers = ["model", "GFLOP", "MB moved", "roofline bound ms", "tuned % of bound", "best fp32 peer % of bound",
               "tuned GFLOP/s"]
    table = tabulate(rows, headers, tablefmt="github", disable_numparse=True)
    text = (f"Command: `python benchmarks/zoo_roofline.py {args.run}`. Machine: peak {peak / 1e9:.0f} GFLOP/s, "
            f"bandwidth {bandwidth / 1e9:.1f} GB/s on {threads} threads (measured at load {limits['load']:.1f}). "
            f"Latencies from {args.run}/yardstick.json; geomean tuned % of bound "
            f"{np.exp(np.mean(np.log([float(r[4][:-1]) for r in rows]))):.0f}%.\n\n{table}\n\n"
            "Each row's contenders were timed together, but a row timed on another machine than this one has its "
            "fractions off by that machine's speed (the yardstick table names each row's commit). The bytes count "
            "every weight once, so a model that reads a small part of its weights per call (an embedding table "
            "read by a gather, as in a decode step) has no true bound here: its fractions can pass 100%.\n")
    (args.run / "roofline.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
