"""A model that shares tasks (or operators at other shapes) with one tuned before it, tuned three times: from
scratch for the budget and for half of it, and from a records store that holds the first model's records for half
the budget; the three builds timed in one alternated series.

    python benchmarks/shared_records.py --first zoo:bert_base --second zoo:distilbert --time-budget 3m \
        --first-work-dir results/archive/zoo-3m-avx2/runs/zoo-bert_base --out results/shared-records

Each run has a records store of its own (LITECOOP_CACHE under --scratch): the shared one starts with the first model's
records (tuned here, or taken from --first-work-dir), the from-scratch one empty. The timing runs in this process,
which searched nothing (the tunes ran as `litecoop tune` subprocesses). Finished runs are kept: a rerun resumes.
Writes shared.md and claims.json into --out.
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
    parser.add_argument("--first", default="zoo:bert_base")
    parser.add_argument("--second", default="zoo:distilbert")
    parser.add_argument("--time-budget", default="3m", help="the from-scratch run's; the shared run gets half")
    parser.add_argument("--first-work-dir", type=Path, help="an earlier run of --first whose records to start from")
    parser.add_argument("--out", type=Path, default=Path("results/shared-records"))
    parser.add_argument("--scratch", type=Path, default=Path("runs/shared-records"), help="the runs' record stores")
    args = parser.parse_args()
    budget_s = duration_s(args.time_budget)
    shared_cache, scratch_cache = args.scratch / "cache-shared", args.scratch / "cache-scratch"
    if args.first_work_dir is None:
        tune_report(args.first, budget_s, args.out / "runs" / "first", "--no-peers", cache=shared_cache)
    elif not shared_cache.exists():
        from litecoop import records
        from litecoop.targets import load_target

        os.environ["LITECOOP_CACHE"] = str(shared_cache)
        records.keep(args.first_work_dir, records.store_dir(load_target("host")))
        del os.environ["LITECOOP_CACHE"]
    runs = {f"{label}, {budget:g} s": tune_report(args.second, budget, args.out / "runs" / run, "--no-peers", cache=cache)
            for label, budget, run, cache in [("from scratch", budget_s, "scratch", scratch_cache),
                                              ("from scratch", budget_s / 2, "scratch-half",
                                               args.scratch / "cache-scratch-half"),
                                              ("from the store", budget_s / 2, "shared", shared_cache)]}

    from litecoop.measure.timing import time_contenders
    from litecoop.workload import load

    inputs = load(args.second).inputs
    calls = {name: litecoop.load(report["artifact"]) for name, report in runs.items()}
    samples = time_contenders(calls, inputs, repeat=10)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    rows = [[name, f"{report['search_s']:.0f}", report["records_from_earlier_runs"],
             report["lineages"].get("warm-start", {}).get("own_measured", 0), report["trials_measured_this_run"],
             f"{medians[name] * 1e3:.2f}", "yes" if report["correct"] else "NO"] for name, report in runs.items()]
    table = tabulate(rows, ["run of " + args.second, "search s", "records from the store (same tasks)",
                            "trials moved from other shapes", "trials measured", "latency ms (median of 10, alternated)",
                            "correct"], tablefmt="github", disable_numparse=True)
    scratch, scratch_half, shared = medians.values()
    summary = (f"With {args.first}'s records, {args.second} tuned for half the budget runs at {shared / scratch:.2f}x "
               f"the latency of its from-scratch run (from scratch for half the budget: {scratch_half / scratch:.2f}x).")
    publish(args.out, "shared.md", f"{table}\n\n{summary}", [{
        "claim": f"{args.second} from {args.first}'s records in half the search time: latency / from scratch",
        "number": f"{shared / scratch:.2f}x (from scratch in half the time: {scratch_half / scratch:.2f}x)"}])


if __name__ == "__main__":
    main()
