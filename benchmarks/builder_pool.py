"""Seconds to build one batch of candidates: MetaSchedule's LocalBuilder (a fresh pool of worker processes per
batch, each importing TVM) against the tuner's builder (`litecoop.measure.builder_runner.TimedBuilder`, workers
kept between batches), alternated, on a batch of the size a tree search measures for a model with many tasks.

    python benchmarks/builder_pool.py --out results/builder

Writes builder.md and claims.json into --out.
"""

import argparse
import statistics
import time
from pathlib import Path

from tabulate import tabulate

from publish import publish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="flux_conv", help="its first task's design space is built")
    parser.add_argument("--batch", type=int, default=2, help="candidates per batch")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("results/builder"))
    args = parser.parse_args()
    from tvm.s_tir import meta_schedule as ms
    from tvm.s_tir.meta_schedule.builder import BuilderInput, LocalBuilder

    from litecoop.build.compiler import extract_tasks
    from litecoop.measure.builder_runner import TimedBuilder, build_candidate
    from litecoop.targets import load_target
    from litecoop.workload import load

    target = load_target("host")
    task = extract_tasks(load(args.workload).mod, target)[0]
    context = ms.TuneContext(mod=task.dispatched[0], target=target, space_generator="post-order-apply",
                             search_strategy="replay-trace", task_name=task.task_name)
    inputs = [BuilderInput(schedule.mod, target) for schedule in context.generate_design_space()[:1]] * args.batch
    builders = {"LocalBuilder (a fresh pool per batch)": LocalBuilder(max_workers=2, f_build=build_candidate),
                "TimedBuilder (workers kept)": TimedBuilder()}
    seconds = {name: [] for name in builders}
    for _ in range(args.rounds):  # alternated, so that the machine's drift hits both alike
        for name, builder in builders.items():
            start = time.perf_counter()
            results = builder.build(inputs)
            seconds[name].append(time.perf_counter() - start)
            assert all(result.error_msg is None for result in results), results[0].error_msg
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    rows = [[name, f"{medians[name]:.2f}", ", ".join(f"{s:.2f}" for s in values)] for name, values in seconds.items()]
    table = tabulate(rows, ["builder", f"median s per batch of {args.batch}", "every batch (s)"], tablefmt="github",
                     disable_numparse=True)
    old, new = medians.values()
    publish(args.out, "builder.md", f"{args.workload}'s first task, host target.\n\n{table}", [{
        "claim": "the tuner's builder keeps its worker processes: a small batch builds many times faster",
        "number": f"{old:.2f} s -> {new:.2f} s per batch of {args.batch} ({old / new:.0f}x)"}])


if __name__ == "__main__":
    main()
