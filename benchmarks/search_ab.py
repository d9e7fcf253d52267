"""Two search presets on the same models: each model tuned from scratch with each preset for the same time budget,
then both builds (and the best float32 peer, for scale) timed in one alternated series in this process.

    python benchmarks/search_ab.py --a default --b moves --models zoo:resnet50,zoo:mobilenet_v2,zoo:bert_base \
        --time-budget 3m --out results/moves

A preset is a name in litecoop/presets/search/ or a .toml path. The tunes run as `litecoop tune --fresh --no-peers`
subprocesses, so the search's state never reaches the timing; finished tunes are kept and a rerun resumes.
Writes ab.md and claims.json into --out.
"""

import argparse
import os
import statistics
from pathlib import Path

from tabulate import tabulate

from publish import publish
from runs import tune_report

import litecoop
from litecoop.api import duration_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", default="default", help="the baseline search preset")
    parser.add_argument("--b", default="no-moves", help="the search preset under test")
    parser.add_argument("--models", default="zoo:resnet50,zoo:mobilenet_v2,zoo:bert_base")
    parser.add_argument("--time-budget", default="3m", help="search time per model and preset")
    parser.add_argument("--out", type=Path, default=Path("results/moves"))
    args = parser.parse_args()
    budget_s = duration_s(args.time_budget)

    from litecoop.measure.peers import cpu_peers
    from litecoop.measure.timing import time_contenders
    from litecoop.workload import load

    rows, ratios = [], []
    for spec in args.models.split(","):
        name = spec.split(":")[-1]
        reports = {preset: tune_report(spec, budget_s, args.out / "runs" / f"{name}-{Path(preset).stem}",
                                       "--search", preset, "--fresh", "--no-peers") for preset in (args.a, args.b)}
        workload = load(spec)
        calls = {preset: litecoop.load(report["artifact"]) for preset, report in reports.items()}
        peer, = cpu_peers(int(os.environ["TVM_NUM_THREADS"]), workload.inputs, module=workload.torch_module,
                          onnx_path=workload.onnx_path, names=["openvino-f32"])
        calls["openvino-f32"] = peer.call
        samples = time_contenders(calls, workload.inputs, repeat=10)
        ms = {contender: statistics.median(values) * 1e3 for contender, values in samples.items()}
        ratios.append(ms[args.b] / ms[args.a])
        rows.append([spec, *(f"{ms[preset]:.2f} ({reports[preset]['trials_measured_this_run']} trials)"
                             for preset in (args.a, args.b)), f"{ms['openvino-f32']:.2f}", f"{ratios[-1]:.3f}",
                     "yes" if all(report["correct"] for report in reports.values()) else "NO"])
        print(rows[-1], flush=True)
    geomean = statistics.geometric_mean(ratios)
    table = tabulate(rows, ["model", f"{args.a} ms", f"{args.b} ms", "openvino-f32 ms", f"{args.b} / {args.a}",
                            "correct"], tablefmt="github", disable_numparse=True)
    number = f"geomean {geomean:.3f} over {len(ratios)} models"
    claim = f"search preset {args.b} against {args.a}, each tuned from scratch for {budget_s:g} s: latency ratio"
    publish(args.out, "ab.md", f"{table}\n\nLatency {args.b} / {args.a}: {number} (medians of 10 alternated calls).",
            [{"claim": claim, "number": number}])


if __name__ == "__main__":
    main()
