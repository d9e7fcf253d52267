"""Two search presets on the same models: each model tuned from scratch with each preset for the same time budget,
then both builds (and the best float32 peer, for scale) timed in one alternated series in this process.

    python benchmarks/search_ab.py --a default --b moves --models zoo:resnet50,zoo:mobilenet_v2,zoo:bert_base \
        --time-budget 3m --out results/moves

A preset is a name in litecoop/presets/search/ or a .toml path. The tunes run as `litecoop tune --fresh --no-peers`
subprocesses, so the search's state never reaches the timing; finished tunes are kept and a rerun resumes.
Writes ab.md and claims.json into --out.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from tabulate import tabulate

import litecoop
from litecoop.api import duration_s


def tune(spec: str, preset: str, budget_s: float, work_dir: Path) -> dict:
    """`litecoop tune --fresh --no-peers` of `spec` with search preset `preset`, unless its report is there; the
    report (a dict)."""
    report = work_dir.with_suffix(".json")
    if not report.is_file():
        subprocess.run([sys.executable, "-m", "litecoop.cli", "tune", "--workload", spec, "--search", preset,
                        "--time-budget", f"{budget_s:g}s", "--fresh", "--no-peers", "--work-dir", str(work_dir),
                        "--json", str(report)], check=True)
    return json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", default="default", help="the baseline search preset")
    parser.add_argument("--b", default="moves", help="the search preset under test")
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
        reports = {preset: tune(spec, preset, budget_s, args.out / "runs" / f"{name}-{Path(preset).stem}")
                   for preset in (args.a, args.b)}
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
    command = "python benchmarks/search_ab.py " + " ".join(sys.argv[1:])
    summary = (f"Geomean latency {args.b} / {args.a}: {geomean:.3f} over {len(ratios)} models "
               f"({budget_s:g} s of search each; medians of 10 alternated calls).")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ab.md").write_text(f"Command: `{command}`\n\n{table}\n\n{summary}\n")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    (args.out / "claims.json").write_text(json.dumps([{
        "claim": f"search preset {args.b} against {args.a}, each tuned from scratch for {budget_s:g} s: latency ratio",
        "number": f"geomean {geomean:.3f} over {len(ratios)} models", "command": command, "commit": commit}], indent=1))
    print(table, summary, sep="\n\n")


if __name__ == "__main__":
    main()
