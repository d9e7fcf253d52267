"""A graph rewrite's kernels against the kernels of the same model without it: the model's tasks that the rewrite
touches (their names matched by the regular expression --kernels), each tuned by MetaSchedule (`tune_tir`:
evolutionary search, XGBoost cost model) for the same number of trials, and their best measured latencies summed
over the model (each task's latency times its number of calls).

    python benchmarks/rewrite_kernels.py zoo:whisper_tiny_encoder channels_last \
        --kernels "conv1d|^transpose|^fused_transpose_add"

(TVM's evolutionary search fails on some kernels, e.g. the softmax torch.export leaves beside a mask of int8: a
literal out of range while it samples; such a rewrite is measured on whole builds with benchmarks/compare_builds.py.)

The rewrite is one of `build.graph_rewrites`' passes in the CPU pipeline; "without" builds the pipeline without it.
Writes WORKLOAD-REWRITE.md and the claim into --out (default results/rewrites).
"""

import argparse
import re
import tempfile
from pathlib import Path

from tabulate import tabulate
from tvm.s_tir import meta_schedule as ms

from publish import publish

from litecoop.build import compiler, graph_rewrites
from litecoop.measure.builder_runner import build_candidate
from litecoop.targets import load_target
from litecoop.workload import load


def touched_tasks(workload, target, rewrite, keep: bool, kernels: str) -> list:
    """The model's tasks whose names match the regular expression `kernels`, fused as the build fuses them, with
    the `rewrite` pass (`keep`) or without it."""
    passes = compiler._fusion_passes
    compiler._fusion_passes = passes if keep else (lambda t: [p for p in passes(t) if p is not rewrite])
    try:
        tasks = compiler.extract_tasks(workload.mod, target)
    finally:
        compiler._fusion_passes = passes
    return [t for t in tasks if re.search(kernels, t.task_name)]


def best_latency_s(task, target, trials: int) -> float:
    """The best mean latency (s) MetaSchedule measured for `task` in `trials` trials, each candidate built as a
    tune builds it (its weights' layout rewrite left to the final build)."""
    mod = task.dispatched[0]
    with tempfile.TemporaryDirectory() as work_dir:
        database = ms.tir_integration.tune_tir(mod, target, work_dir, trials, num_trials_per_iter=16, seed=0,
                                               builder=ms.builder.LocalBuilder(f_build=build_candidate))
        (record,) = database.get_top_k(database.commit_workload(mod), 1)
    return sum(float(s) for s in record.run_secs) / len(record.run_secs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="e.g. zoo:whisper_tiny_encoder")
    parser.add_argument("rewrite", help="a pass of litecoop.build.graph_rewrites, e.g. channels_last")
    parser.add_argument("--kernels", required=True, help="a regular expression that the touched tasks' names match")
    parser.add_argument("--trials", type=int, default=64, help="trials per kernel")
    parser.add_argument("--out", type=Path, default=Path("results/rewrites"))
    args = parser.parse_args()
    workload, target, rewrite = load(args.workload), load_target("host"), getattr(graph_rewrites, args.rewrite)
    rows, total = [], {}
    for build, keep in (("without", False), ("with", True)):
        for task in touched_tasks(workload, target, rewrite, keep, args.kernels):
            latency_s = best_latency_s(task, target, args.trials)
            total[build] = total.get(build, 0.0) + latency_s * task.weight
            rows.append([build, task.task_name[:70], str(task.weight), f"{latency_s * 1e3:.3f}"])
    rows += [[build, "the model's calls of these kernels", "", f"{seconds * 1e3:.3f}"]
             for build, seconds in total.items()]
    table = tabulate(rows, [args.rewrite, "kernel", "calls", f"best ms after {args.trials} trials"],
                     tablefmt="github", disable_numparse=True)
    name = f"{args.workload.split(':')[-1]}-{args.rewrite}"
    without_ms, with_ms = total["without"] * 1e3, total["with"] * 1e3
    publish(args.out, f"{name}.md", table, [{
        "claim": f"{args.workload}: {args.rewrite}, its kernels' latency with / without, {args.trials} trials each",
        "number": f"{with_ms / without_ms:.2f}x ({without_ms:.2f} -> {with_ms:.2f} ms)"}],
        keep_existing=lambda claim: not claim["claim"].startswith(f"{args.workload}: {args.rewrite},"))


if __name__ == "__main__":
    main()
