"""`litecoop yardstick`: the question users ask, per model of a suite: is the tuned build faster than the best
runtime I could run instead?

One tuning run per workload (the zoo, the kernel suite, or any list of workloads), each finally timed in a fresh
process against every peer (`measure.final`). Writes `yardstick.md` (model, tuned ms, each peer's ms or why it
could not run, tuned / best float32 peer, correct, search and wall seconds), `yardstick.json` and
`yardstick.png`. Finished runs are kept in `runs.jsonl` and failed ones in `failures.jsonl`: rerunning resumes,
and a model whose tune fails is shown with its one-line reason while the suite goes on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rich.console import Console

from litecoop.errors import UserError
from litecoop.report.plots import pyplot, save
from litecoop.report.provenance import provenance
from litecoop.report.run_log import append_run, load_runs
from litecoop.report.tables import markdown_table
from litecoop.report.tune_report import TuneReport

CI_SUFFIX = "_ci"  # the zoo's CI-sized models, left out of the suite unless named
PEER_ORDER = ("onnxruntime", "onnxruntime-fused", "openvino-f32", "torch.compile", "torch", "openvino")


def suite_workloads(suite: str, only: list[str] | None = None) -> list[str]:
    """The workload specs of a suite: `zoo` (every zoo model but the CI-sized ones, named `*_ci`), `kernels` (the five suite
    kernels), `minilm`; `only` picks a subset by name (for the zoo without the `zoo:` prefix). Raises UserError
    for an unknown suite or name."""
    from litecoop.workload import KERNELS, zoo

    names = {"zoo": [f"zoo:{name}" for name in zoo.ZOO if not name.endswith(CI_SUFFIX)], "kernels": list(KERNELS),
             "minilm": ["minilm"]}
    if suite not in names:
        raise UserError(f"unknown suite '{suite}' (zoo, kernels, minilm)")
    if not only:
        return names[suite]
    known = {spec.removeprefix("zoo:"): spec for spec in names[suite]}
    if suite == "zoo":
        known |= {name: f"zoo:{name}" for name in zoo.ZOO}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise UserError(f"not in suite '{suite}': {', '.join(unknown)} (known: {', '.join(known)})")
    return [known[name] for name in only]


def run_yardstick(workloads: list[str], out: Path, time_budget_s: float | None, trials: int | None = None,
                  strategy: str = "mcts", seed: int = 0, fresh: bool = True, retime: bool = False,
                  console: Console | None = None) -> str:
    """Tune each workload (skipping those already finished or failed in `out`) and write the yardstick table;
    returns its Markdown. Runs start without the records of earlier runs unless `fresh` is False. With `retime`,
    tune nothing: time every finished run's saved build against its peers again (`retime_run`), e.g. on a quiet
    machine, and keep those timings."""
    from litecoop.tuning.config import TuneConfig
    from litecoop.tuning.run import run_tune

    console = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    runs = load_runs(out / "runs.jsonl", TuneReport.read)
    failures = load_runs(out / "failures.jsonl")
    done = {r.workload_spec for r in runs} | {f["workload"] for f in failures}
    for spec in [] if retime else workloads:
        if spec in done:
            continue
        console.print(f"[bold]{spec}[/bold]")
        config = TuneConfig.of(workload=spec, strategy=strategy, trials=trials, time_budget_s=time_budget_s,
                               seed=seed, resume=True, fresh=fresh,
                               work_dir=out / "runs" / spec.replace(":", "-").replace("/", "_"))
        try:
            append_run(out / "runs.jsonl", runs, run_tune(config, console))
        except UserError as err:  # the run's records are kept in its work dir and the user's store
            console.print(f"[red]{spec}: {err}[/red]")
            append_run(out / "failures.jsonl", failures, {"workload": spec, "error": str(err)})
    if retime:
        runs = [retime_run(r, console) if r.workload_spec in workloads else r for r in runs]
        (out / "runs.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in runs))
    runs = [r for r in runs if r.workload_spec in workloads]
    failures = [f for f in failures if f["workload"] in workloads]
    text = markdown(runs, failures)
    meta = provenance()
    (out / "yardstick.md").write_text(f"Command: `{meta['command']}` at commit {meta['commit']}; {meta['machine']}.\n\n"
                                      + text)
    (out / "yardstick.json").write_text(json.dumps({"provenance": meta, "failures": failures,
                                                    "runs": [r.model_dump(mode="json") for r in runs]}, indent=1))
    plot(runs, out / "yardstick.png")
    (out / "claims.json").write_text(json.dumps([claim(runs, failures, meta)], indent=1) + "\n")
    return text


def claim(runs: list[TuneReport], failures: list[dict], meta: dict) -> dict:
    """The folder's claim for results/RESULTS.md: tuned / best float32 peer, geomean and per model."""
    ratios = [r.tuned_over_best_peer for r in runs if r.tuned_over_best_peer]
    per_model = "; ".join(f"{r.workload.removeprefix('zoo:')} {r.tuned_over_best_peer:.2f}x {r.best_peer}"
                          for r in runs if r.tuned_over_best_peer)
    budgets = sorted({f"{r.time_budget_s:g} s" for r in runs if r.time_budget_s} | {f"{r.trials} trials" for r in runs if r.trials})
    geomean = f"{float(np.exp(np.mean(np.log(ratios)))):.2f}x" if ratios else "-"
    return {"claim": f"tuned / best float32 peer, fresh process, same threads ({', '.join(budgets)} of search per model)",
            "number": f"geomean {geomean} over {len(ratios)} models, faster on {sum(x < 1 for x in ratios)}"
                      + (f", {len(failures)} failed" if failures else "") + f" ({per_model})",
            "command": meta["command"], "commit": meta["commit"]}


def retime_run(report: TuneReport, console: Console) -> TuneReport:
    """`report` with its final timing taken again: its saved build and every peer in a fresh process
    (`measure.final.cpu_final`), the output checked on fresh inputs."""
    from litecoop.measure import final
    from litecoop.tuning.run import THREADS
    from litecoop.workload import load

    console.print(f"re-timing {report.workload} against its peers in a fresh process")
    work = load(report.workload_spec, report.seed)
    timed = final.cpu_final(work, Path(report.artifact), Path(report.work_dir) / "final", THREADS)
    fields = final.report_fields(timed)
    fresh_ok = timed.tuned_fresh_error is not None and work.is_correct(timed.tuned_fresh_error)
    return report.model_copy(update=fields | {"speedup": report.untuned_latency_s / fields["tuned_latency_s"],
                                              "correct": report.correct and fresh_ok})


def _peer_cell(report: TuneReport, name: str, notes: dict[str, int]) -> str:
    peer = next((p for p in report.peers if p.name == name), None)
    if peer is None:
        return "-"
    if peer.latency_s is None:
        number = notes.setdefault(f"{name}: {peer.reason}", len(notes) + 1)
        return f"n/a [{number}]"
    return f"{peer.latency_s * 1e3:.3g}"


def markdown(runs: list[TuneReport], failures: list[dict]) -> str:
    """The yardstick table: one row per run (and per failure, with its reason), peers in PEER_ORDER, numbered
    notes for the peers that could not run; then the geomean of tuned / best float32 peer."""
    notes: dict[str, int] = {}
    rows = []
    for r in runs:
        ratio = f"{r.tuned_over_best_peer:.2f} ({r.best_peer})" if r.tuned_over_best_peer else "-"
        rows.append([r.workload, f"{r.tuned_latency_s * 1e3:.3g}", *[_peer_cell(r, name, notes) for name in PEER_ORDER],
                     ratio, "yes" if r.correct else f"NO ({r.max_abs_error:.1e})", f"{r.search_s:.0f}",
                     str(r.trials_measured_this_run), f"{r.wall_s:.0f}", r.provenance.get("commit", "-")])
    for f in failures:
        rows.append([f["workload"], "failed", *["-"] * len(PEER_ORDER), "-", "-", "-", "-", "-", "-"])
    headers = ["model", "tuned ms", *[f"{name} ms" for name in PEER_ORDER[:-1]], "openvino (default precision) ms",
               "tuned / best fp32 peer", "correct", "search s", "trials", "wall s", "commit"]
    ratios = [r.tuned_over_best_peer for r in runs if r.tuned_over_best_peer]
    lines = ["Every contender timed in a fresh process after the search, alternated in shuffled order, one Python "
             "call per inference (NumPy in, NumPy out), on the same threads; medians of 10 samples. The headline "
             "divides by the fastest float32 peer; OpenVINO at its default precision (bfloat16 on CPUs with "
             "AVX512-BF16) is shown beside it.", "", markdown_table(headers, rows)]
    if ratios:
        lines += ["", f"Geomean tuned / best float32 peer over {len(ratios)} models: "
                      f"{float(np.exp(np.mean(np.log(ratios)))):.2f}; faster than the best peer on "
                      f"{sum(x < 1 for x in ratios)} of {len(ratios)}."]
    if notes or failures:
        lines += ["", *[f"[{n}] {text}" for text, n in notes.items()], *[f"failed: {f['workload']}: {f['error']}"
                                                                          for f in failures]]
    return "\n".join(lines) + "\n"


def plot(runs: list[TuneReport], path: Path) -> None:
    """yardstick.png: tuned / best float32 peer per model (log scale), the parity line at 1."""
    runs = [r for r in runs if r.tuned_over_best_peer]
    if not runs:
        return
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(runs)), 4))
    ax.bar(range(len(runs)), [r.tuned_over_best_peer for r in runs],
           color=["tab:green" if r.tuned_over_best_peer < 1 else "tab:red" for r in runs])
    ax.axhline(1.0, color="black", linewidth=1)
    ax.set_yscale("log")
    ax.set_xticks(range(len(runs)), [r.workload.removeprefix("zoo:") for r in runs], rotation=30, ha="right")
    ax.set(ylabel="tuned / best float32 peer (< 1: faster)", title="Tuned build against the best peer, fresh process")
    fig.tight_layout()
    save(fig, path)
