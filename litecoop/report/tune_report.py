"""The run report of `litecoop tune` (a typed, JSON-able TuneReport) and its summary table (rich)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict
from rich.console import Console
from rich.table import Table

from litecoop.errors import validated
from litecoop.measure.contest import Contender
from litecoop.search.lineage import LineageOutcome
from litecoop.report.plots import pyplot, save
from litecoop.report.tables import markdown_table
from litecoop.tuning.config import TuneConfig


class TaskBudget(BaseModel):
    """What one task (a fused kernel) got: its weight (occurrences in the model), measured trials, its best
    measured latency in seconds (None if none was measured), and how many records of it came from the store
    (earlier runs of any workload on this target)."""

    task: str
    weight: float
    trials: int
    best_latency_s: float | None = None
    records_from_store: int = 0


class TuneReport(BaseModel):
    """What one `litecoop tune` run did and measured. Latencies are medians in seconds. On a CPU the tuned build
    (the saved artifact in `artifact`) and its `peers` (onnxruntime, with its transformer fusions, OpenVINO in
    float32 and at its default precision, torch.compile, torch eager; for an int8 build onnxruntime's and OpenVINO's
    int8 quantizations too) were timed in a fresh process, alternated
    in shuffled order, each called the same way, on `peer_threads` threads (`measure.final`); the headline is
    `tuned_over_best_peer`, against `best_peer`, the fastest peer in float32 or in the build's `precision`.
    `speedup` = untuned / tuned latency (secondary: any schedule beats TVM's default). `correct`: the output
    matches the reference on the example inputs and on fresh ones. `history`: (trials so far, estimated latency
    in seconds, seconds since the search started) per measured batch. `llm`: per model, its usage
    (`llm.team.ModelUsage.as_dict`). `lineages`: per proposer, what its edits became. Wall time (`wall_s`) is
    split into LLM, cost model, build, run and other seconds. `baseline_latency_s`, `final_latency_s` and
    `final_speedup` are set by `litecoop bench` when it re-times all runs of a workload together; `mode` by
    `litecoop bench-warm`. Reports written by earlier versions load with defaults for what they lack."""

    model_config = ConfigDict(extra="ignore", ser_json_inf_nan="constants")

    workload: str
    workload_spec: str
    target: str
    target_preset: str = "host"
    strategy: str
    trials: int | None = None
    time_budget_s: float | None = None
    seed: int = 0
    provenance: dict = {}
    untuned_latency_s: float
    tuned_latency_s: float
    tuned_samples_s: list[float]
    speedup: float
    tuned_over_onnxruntime: float | None = None
    onnxruntime_latency_s: float | None = None
    torch_latency_s: float | None = None
    torch_cuda_latency_s: float | None = None
    torch_compile_cuda_latency_s: float | None = None
    torch_cuda_error: str | None = None
    torch_compile_error: str | None = None
    peer_threads: int | None = None
    peer_samples_s: dict[str, list[float]] = {}
    peers: list[Contender] = []
    best_peer: str | None = None
    tuned_over_best_peer: float | None = None
    artifact: str = ""
    correct: bool
    max_abs_error: float
    precision: str = "fp32"
    tolerance: float | None = None
    mean_abs_error: float | None = None
    cosine: float | None = None
    trials_measured_this_run: int = 0
    tasks: int = 0
    per_task: list[TaskBudget] = []
    records_from_earlier_runs: int = 0
    search_s: float = 0.0
    history: list[tuple[int, float, float]] = []
    lineages: dict[str, LineageOutcome] = {}
    wall_s: float
    llm_s: float = 0.0
    llm_load_s: float = 0.0
    cost_model_s: float = 0.0
    build_s: float = 0.0
    run_s: float = 0.0
    other_s: float = 0.0
    llm: dict[str, dict[str, int | float]] = {}
    large_model_call_share: float = 0.0
    flops: float | None = None
    bytes: float | None = None
    work_dir: str
    warm_start: str | None = None
    library: str = ""
    library_sha256: str = ""
    baseline_latency_s: float | None = None
    final_latency_s: float | None = None
    final_speedup: float | None = None
    mode: str | None = None

    @classmethod
    def read(cls, data: dict, what: str) -> TuneReport:
        """A report from its JSON dict. Raises UserError naming `what` (a file) for a malformed report."""
        return validated(cls, data, f"{what}: not a `litecoop tune --json` report")

    def baseline_s(self) -> float:
        """The untuned latency its speedups divide: the workload's common baseline when `litecoop bench`
        timed one, else the run's own untuned timing."""
        return self.untuned_latency_s if self.baseline_latency_s is None else self.baseline_latency_s

    def final_s(self) -> float:
        """The tuned latency: re-timed with its peers when `litecoop bench` could, else its own."""
        return self.tuned_latency_s if self.final_latency_s is None else self.final_latency_s

    def final_speedup_or_own(self) -> float:
        """The final speedup (untuned / tuned): re-timed with its peers when `litecoop bench` could, else its own."""
        return self.speedup if self.final_speedup is None else self.final_speedup


def write_json(report: TuneReport, path: Path) -> None:
    """Write `report` as indented JSON to `path`, creating its folder, and its convergence plot beside it
    (`plot_convergence`, same name with .png)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.model_dump_json(indent=2) + "\n")
    plot_convergence(report, path.with_suffix(".png"))


def plot_convergence(report: TuneReport, path: Path) -> None:
    """The best estimated latency (ms, the weighted sum of each task's best measured kernel) against search
    seconds, with the final tuned latency and the peers (onnxruntime, torch) as horizontal lines: where
    the search passed what a user runs today, if it did."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    points = [(seconds, total) for _, total, seconds in report.history if total > 0]
    if points:
        seconds, totals = zip(*points)
        best = [min(totals[: i + 1]) * 1e3 for i in range(len(totals))]
        ax.step(seconds, best, where="post", label="best in search (sum of tasks)")
    lines = [("tuned (final build)", report.tuned_latency_s, "C0"), ("onnxruntime", report.onnxruntime_latency_s, "C1"),
             ("torch", report.torch_latency_s, "C2")]
    for name, latency_s, color in lines:
        if latency_s is not None:
            ax.axhline(latency_s * 1e3, color=color, linestyle="--", label=f"{name} {latency_s * 1e3:.3g} ms")
    ax.set(yscale="log", xlabel="search seconds", ylabel="latency (ms)",
           title=f"{report.workload} / {report.strategy} / {budget(report)}")
    ax.legend(fontsize=8)
    save(fig, path)


def budget(report: TuneReport | TuneConfig) -> str:
    """A run's budget in words (from its report or its config): `64 trials`, `60 s`, or both."""
    parts = [f"{report.trials} trials" if report.trials else "",
             f"{report.time_budget_s:g} s" if report.time_budget_s else ""]
    return " or ".join(p for p in parts if p)


def summary_table(report: TuneReport) -> Table:
    """Tuned / best peer first, then latencies (tuned, every peer or its reason, untuned), speedup, what each task
    got, wall-time split and per-model LLM calls of one `litecoop tune` run."""
    table = Table(title=f"{report.workload} / {report.strategy} / {budget(report)}")
    table.add_column("what")
    table.add_column("value", justify="right")
    ms = lambda s: f"{s * 1e3:.3f} ms" if s is not None else "-"  # noqa: E731
    ratio = report.tuned_over_best_peer
    table.add_row(f"tuned / best {'float32' if report.precision == 'fp32' else 'fp32 or ' + report.precision} peer "
                  f"({report.best_peer or '-'})", f"{ratio:.2f}" if ratio is not None else "-")
    table.add_row(f"tuned latency \\[{report.precision}]", ms(report.tuned_latency_s))
    threads = report.peer_threads or "-"
    for peer in report.peers:
        value = ms(peer.latency_s) + (f" (err {peer.max_abs_error:.1e}, cos {peer.cosine:.5f})"
                                      if peer.max_abs_error is not None and peer.cosine is not None else "")
        table.add_row(f"{peer.name} \\[{peer.precision}] ({threads} threads)", value if peer.reason is None else peer.reason)
    table.add_row("untuned latency", ms(report.untuned_latency_s))
    table.add_row("speedup", f"{report.speedup:.2f}x")
    accuracy = f"{report.max_abs_error:.2e}"
    if report.mean_abs_error is not None and report.cosine is not None:
        accuracy += f", mean {report.mean_abs_error:.1e}, cos {report.cosine:.5f}"
    table.add_row("correct (max abs error)", f"{report.correct} ({accuracy})")
    for name, seconds in (("torch cuda", report.torch_cuda_latency_s),
                          ("torch compile cuda", report.torch_compile_cuda_latency_s)):
        if seconds is not None:
            table.add_row(f"{name} latency", ms(seconds))
    for name, note in (("torch cuda error", report.torch_cuda_error), ("torch compile error", report.torch_compile_error)):
        if note:
            table.add_row(name, note)
    table.add_row("trials measured (records from earlier runs)",
                  f"{report.trials_measured_this_run} ({report.records_from_earlier_runs})")
    table.add_row("search", f"{report.search_s:.1f} s")
    for task in report.per_task:
        stored = f" ({task.records_from_store} stored)" if task.records_from_store else ""
        table.add_row(f"  task {task.task}", f"{task.trials} trials{stored}, best {ms(task.best_latency_s)}")
    table.add_row("wall", f"{report.wall_s:.1f} s")
    for phase in ("llm", "cost_model", "build", "run", "other"):
        table.add_row(f"  {phase}", f"{getattr(report, phase + '_s'):.1f} s")
    for name, usage in report.llm.items():
        table.add_row(f"llm {name}", f"{usage['calls']:.0f} calls, {usage['prompt_tokens']:.0f}+"
                                     f"{usage['completion_tokens']:.0f} tok, {usage['seconds']:.1f} s, "
                                     f"{usage['invalid']:.0f} invalid, {usage['duplicate']:.0f} dup, "
                                     f"{usage['regressions']:.0f} regressions")
    if report.llm:
        table.add_row("larger-model share of calls", f"{report.large_model_call_share:.0%}")
    for origin, outcome in report.lineages.items():
        expansions = f"{outcome.expansions} expansions, " if outcome.expansions else ""
        table.add_row(f"trials from {origin}", f"{expansions}{outcome.measured} ({outcome.own_measured} own), "
                                               f"{outcome.new_bests} new bests ({outcome.own_new_bests} own)")
    return table


def print_summary(report: TuneReport, console: Console | None = None) -> None:
    """Print `summary_table(report)` on `console` (stdout by default)."""
    (console or Console()).print(summary_table(report))


def gpu_peer_markdown(reports: list[TuneReport]) -> str:
    """A markdown table of CUDA tuning reports against torch on the same GPU, torch in the report's precision:
    untuned, tuned, torch eager and torch.compile latencies (ms), tuned speedup over each torch path (their latency /
    tuned latency; "-" where a peer is missing) and correctness."""
    rows = []
    for r in reports:
        tuned = r.tuned_latency_s
        trials = f"{r.trials_measured_this_run}" + (f" of {r.trials}" if r.trials else "")
        cells = [r.workload, r.precision, r.strategy, trials, f"{r.untuned_latency_s * 1e3:.4f}",
                 f"{tuned * 1e3:.4f}"]
        peers = [r.torch_cuda_latency_s, r.torch_compile_cuda_latency_s]
        cells += [f"{p * 1e3:.4f}" if p else "-" for p in peers]
        cells += [f"{p / tuned:.2f}x" if p else "-" for p in peers]
        cells.append(f"{r.correct} ({r.max_abs_error:.1e})")
        rows.append(cells)
    return markdown_table(["workload", "precision", "strategy", "trials measured", "untuned ms", "tuned ms",
                           "torch eager ms", "torch.compile ms", "vs eager", "vs compile", "correct"], rows) + "\n"
