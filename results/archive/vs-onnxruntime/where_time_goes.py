"""Where a tuned build's end-to-end latency goes: each kernel call timed inside the Relax VM, against the same
task's best latency measured in search (the report's per-task table).

    python results/vs-onnxruntime/where_time_goes.py llama4_mlp llama4_mlp-10m-2threads.json /tmp/runs/llama4_mlp-10m-2t

Rebuilds the report's build from its work dir (the report's library choice), times `main` alone (VM time
evaluator), then runs it CALLS times with a VM instrument that times every call instruction (perf_counter
before and after; the instrument's own cost is in the per-call numbers, ~5-20 us) and prints, per kernel, the mean
time per model call next to the in-search best times the task's weight.
"""

import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from tvm import relax

from litecoop.measure import latency
from litecoop import targets
from litecoop.bench.check import build_from_database
from litecoop.report.tune_report import TuneReport

HERE = Path(__file__).parent
CALLS = 20


def main(name: str, report_name: str, work_dir: str) -> None:
    report = TuneReport.read(json.loads((HERE / report_name).read_text()), report_name)
    taken = [tuple(tuple(shape) for shape in t.signature) for t in report.library_path if t.taken]
    work, executable = build_from_database(name, Path(work_dir), "host", 0, taken)
    device = latency.device_of(targets.load_target("host"))
    args = latency.device_inputs(work.inputs, device)
    alone = float(np.median(latency.latency_samples(executable, args, device)[0]))

    vm = relax.VirtualMachine(executable, device)
    seconds, started = defaultdict(float), {}

    def instrument(func, symbol, before_run, ret_value, *call_args):
        if before_run:
            started[symbol] = time.perf_counter()
        else:
            seconds[symbol] += time.perf_counter() - started[symbol]
        return 0  # VMInstrumentReturnKind.NO_OP

    vm["main"](*args)
    vm.set_instrument(instrument)
    start = time.perf_counter()
    for _ in range(CALLS):
        vm["main"](*args)
    instrumented = (time.perf_counter() - start) / CALLS

    in_search = {t.task: t.weight * t.best_latency_s for t in report.per_task if t.best_latency_s}
    print(f"{name}: main alone {alone * 1e3:.2f} ms; instrumented {instrumented * 1e3:.2f} ms per call; "
          f"sum of in-search bests x weights {sum(in_search.values()) * 1e3:.2f} ms")
    for symbol, total in sorted(seconds.items(), key=lambda item: -item[1]):
        search = in_search.get(symbol)
        print(f"  {symbol:60s} {total / CALLS * 1e3:8.3f} ms per model call"
              + (f"   in search {search * 1e3:.3f} ms" if search is not None else ""))


if __name__ == "__main__":
    main(*sys.argv[1:4])
