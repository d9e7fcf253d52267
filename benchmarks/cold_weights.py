"""Does timing candidates with their weights cold pick better schedules for a model? Every record of a tuning run is
re-timed with its arguments after the first flushed from the caches before each call, and the run's database is
written again with those times, so that a build from it takes each task's best schedule by cold time.

    python benchmarks/cold_weights.py results/zoo-30m-avx512/runs/zoo-bert_base --out results/cold-weights
    litecoop build --workload zoo:bert_base --db results/zoo-30m-avx512/runs/zoo-bert_base --out runs/warm/tuned
    litecoop build --workload zoo:bert_base --db results/cold-weights/runs/cold --out runs/cold/tuned
    python benchmarks/compare_builds.py zoo:bert_base warm=runs/warm/tuned cold=runs/cold/tuned \
        --out results/cold-weights

MetaSchedule times a candidate warm: 3 repeats of a call count that grows until a repeat lasts 40 ms, so the
weights sit in the caches after the first call. A model's weights are cold at each call (BERT-base holds 440 MB,
this CPU's L3 32 MB). Here each record is timed by TVM's time evaluator with `number=1` and TVM's own
`cache_flush_cpu_non_first_arg` before every repeat. Writes cold.md, claims.json and runs/cold/ into --out.
"""

import argparse
import json
import shutil
import statistics
from pathlib import Path

import numpy as np
import tvm
from tabulate import tabulate
from tqdm import tqdm
from tvm.s_tir import Schedule
from tvm.s_tir import meta_schedule as ms
from tvm.s_tir.transform import RemoveWeightLayoutRewriteBlock

from publish import publish


def cold_seconds(workload: ms.database.Workload, record: ms.database.TuningRecord, repeat: int) -> list[float]:
    """Seconds per call of `record`'s schedule on the CPU, every argument but the first flushed from the caches before
    each of `repeat` calls. Raises whatever TVM raises when the schedule does not build."""
    schedule = Schedule(workload.mod)
    record.trace.apply_to_schedule(schedule, remove_postproc=False)
    library = tvm.compile(RemoveWeightLayoutRewriteBlock(skip_tensor_rewrite=True)(schedule.mod), target=record.target)
    device = tvm.cpu()
    args = [tvm.runtime.tensor(np.asarray(np.random.rand(*[int(n) for n in arg.shape])).astype(str(arg.dtype)), device)
            for arg in record.args_info]
    evaluator = library.mod.time_evaluator("main", device, number=1, repeat=repeat,
                                           f_preproc="cache_flush_cpu_non_first_arg")
    return list(evaluator(*args).results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a tuning run's work dir (database_*.json)")
    parser.add_argument("--out", type=Path, default=Path("results/cold-weights"))
    parser.add_argument("--repeat", type=int, default=10, help="cold calls per record")
    args = parser.parse_args()
    cold_dir = args.out / "runs" / "cold"
    cold_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(args.run_dir / "database_workload.json", cold_dir / "database_workload.json")
    workloads = [ms.database.Workload.from_json(json.loads(line))
                 for line in (args.run_dir / "database_workload.json").read_text().splitlines() if line.strip()]
    lines = [line for line in (args.run_dir / "database_tuning_record.json").read_text().splitlines() if line.strip()]
    kept, per_task = [], {}
    for line in tqdm(lines, desc="re-timing records cold"):
        task, record_json = json.loads(line)
        warm = record_json[1]
        if not warm or max(warm) > 1:  # a failed measurement
            continue
        cold = cold_seconds(workloads[task], ms.database.TuningRecord.from_json(record_json, workloads[task]),
                            args.repeat)
        kept.append(json.dumps([task, [record_json[0], cold, *record_json[2:]]]) + "\n")
        per_task.setdefault(task, []).append((statistics.mean(warm), statistics.mean(cold)))
    (cold_dir / "database_tuning_record.json").write_text("".join(kept))
    rows, changed = [], 0
    for task, pairs in sorted(per_task.items()):
        warm_best, cold_best = min(pairs, key=lambda p: p[0]), min(pairs, key=lambda p: p[1])
        changed += warm_best != cold_best
        rows.append([task, len(pairs), f"{warm_best[0] * 1e3:.3f}", f"{warm_best[1] * 1e3:.3f}",
                     f"{cold_best[1] * 1e3:.3f}", f"{cold_best[1] / warm_best[1]:.2f}"])
    table = tabulate(rows, ["task", "records", "warm-best ms warm", "warm-best ms cold", "cold-best ms cold",
                            "cold-best / warm-best (cold)"], tablefmt="github", disable_numparse=True)
    warm_best_warm = sum(min(p[0] for p in pairs) for pairs in per_task.values())
    warm_best_cold = sum(min(pairs, key=lambda p: p[0])[1] for pairs in per_task.values())
    cold_best_cold = sum(min(p[1] for p in pairs) for pairs in per_task.values())
    publish(args.out, "cold.md", table + "\n\nSummed over tasks (each once): the warm-best records "
            f"{warm_best_warm * 1e3:.2f} ms warm, {warm_best_cold * 1e3:.2f} ms cold; the cold-best "
            f"{cold_best_cold * 1e3:.2f} ms cold. The pick changed on {changed} of {len(per_task)} tasks.", [{
                "claim": f"{args.run_dir.name}: tasks whose best record by cold time is not the best by warm time",
                "number": f"{changed} of {len(per_task)}; summed cold time of the best records by cold / by warm time "
                          f"{cold_best_cold / warm_best_cold:.2f}x (warm-best records cold / warm "
                          f"{warm_best_cold / warm_best_warm:.2f}x)"}],
            keep_existing=lambda claim: claim["claim"].startswith("zoo:"))


if __name__ == "__main__":
    main()
