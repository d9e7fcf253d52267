"""Tuned builds of one model (artifacts, e.g. from two commits) and its best float32 peer, OpenVINO in float32, timed in
one alternated series in a fresh process, each called as users call it.

    python benchmarks/compare_builds.py zoo:gpt2 before=results/archive/zoo-3m-avx512-s23/runs/zoo-gpt2/tuned \
        after=results/fusion/runs/zoo-gpt2/tuned --out results/fusion

An artifact whose library is not in the checkout (libraries are not committed) is rebuilt from its run's database
first: `litecoop build --workload zoo:gpt2 --db RUN_DIR --out RUN_DIR/tuned`. Writes WORKLOAD.md into --out and
the model's entry of --out/claims.json (the first build named is the baseline of the ratio).
"""

import argparse
import os
import statistics
from pathlib import Path

from tabulate import tabulate

from publish import publish

import litecoop
from litecoop.measure.peers import cpu_peers
from litecoop.measure.timing import time_contenders
from litecoop.workload import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="e.g. zoo:gpt2")
    parser.add_argument("builds", nargs="+", help="NAME=ARTIFACT_DIR, the baseline first")
    parser.add_argument("--out", type=Path, default=Path("results/fusion"))
    parser.add_argument("--repeat", type=int, default=10, help="samples per contender")
    args = parser.parse_args()
    builds = dict(build.split("=", 1) for build in args.builds)
    workload = load(args.workload)
    calls = {name: litecoop.load(path) for name, path in builds.items()}
    (peer,) = cpu_peers(int(os.environ["TVM_NUM_THREADS"]), workload.inputs, module=workload.torch_module,
                        onnx_path=workload.onnx_path, names=["openvino-f32"])
    calls["openvino-f32"] = peer.call
    samples = time_contenders(calls, workload.inputs, repeat=args.repeat)
    ms = {name: statistics.median(values) * 1e3 for name, values in samples.items()}
    rows = [[name, f"{ms[name]:.2f}", f"{ms[name] / ms['openvino-f32']:.3f}", builds.get(name, "peer")] for name in ms]
    table = tabulate(rows, ["build", "ms (median of 10, alternated)", "/ openvino-f32", "artifact"],
                     tablefmt="github", disable_numparse=True)
    baseline, *others = builds
    publish(args.out, f"{args.workload.split(':')[-1]}.md", table, [{
        "claim": f"{args.workload}: latency / OpenVINO f32, {baseline} -> {', '.join(others)}",
        "number": " -> ".join(f"{ms[build] / ms['openvino-f32']:.2f}x" for build in builds)}],
        keep_existing=lambda claim: not claim["claim"].startswith(args.workload + ":"))


if __name__ == "__main__":
    main()
