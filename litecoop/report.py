"""The run report: one JSON-able dict per tuning run, and its summary table (rich)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .tables import markdown_table


# Peer latencies a report may carry (seconds): on the same CPU threads, or on the same GPU (CUDA targets).
PEERS = ("onnxruntime_latency_s", "torch_latency_s", "torch_cuda_latency_s", "torch_compile_cuda_latency_s")


def write_json(report: dict, path: Path) -> None:
    """Write `report` as indented JSON to `path` (numpy numbers as floats), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=float) + "\n")


def budget(report: dict) -> str:
    """The run's budget in words: `64 trials`, `60 s`, or both."""
    parts = [f"{report['trials']} trials" if report.get("trials") else "",
             f"{report['time_budget_s']:g} s" if report.get("time_budget_s") else ""]
    return " or ".join(p for p in parts if p)


def summary_table(report: dict) -> Table:
    """Tuned / onnxruntime first, then latencies (tuned, peers, untuned), speedup, what each task got,
    wall-time split and per-model LLM calls of one `litecoop tune` run."""
    table = Table(title=f"{report['workload']} / {report['strategy']} / {budget(report)}")
    table.add_column("what")
    table.add_column("value", justify="right")
    ms = lambda s: f"{s * 1e3:.3f} ms" if s is not None else "-"  # noqa: E731
    ratio = report.get("tuned_over_onnxruntime")
    table.add_row("tuned / onnxruntime", f"{ratio:.2f}" if ratio is not None else "-")
    table.add_row("tuned latency", ms(report["tuned_latency_s"]))
    for peer in ("onnxruntime", "torch"):
        table.add_row(f"{peer} latency ({report.get('peer_threads') or '-'} threads)", ms(report.get(f"{peer}_latency_s")))
    table.add_row("untuned latency", ms(report["untuned_latency_s"]))
    table.add_row("speedup", f"{report['speedup']:.2f}x")
    table.add_row("correct (max abs error)", f"{report['correct']} ({report['max_abs_error']:.2e})")
    for peer in PEERS:
        if peer in report:
            table.add_row(peer.removesuffix("_latency_s").replace("_", " ") + " latency", ms(report[peer]))
    for note in ("torch_cuda_error", "torch_compile_error"):
        if note in report:
            table.add_row(note.replace("_", " "), report[note])
    table.add_row("trials measured (records from earlier runs)",
                  f"{report['trials_measured_this_run']} ({report.get('records_from_earlier_runs', 0)})")
    table.add_row("search", f"{report['search_s']:.1f} s")
    for task in report.get("per_task", []):
        table.add_row(f"  task {task['task']}", f"{task['trials']} trials, best {ms(task['best_latency_s'])}")
    table.add_row("wall", f"{report['wall_s']:.1f} s")
    for phase in ("llm_s", "cost_model_s", "build_s", "run_s", "other_s"):
        table.add_row(f"  {phase.removesuffix('_s')}", f"{report[phase]:.1f} s")
    for name, usage in report.get("llm", {}).items():
        table.add_row(f"llm {name}", f"{usage['calls']} calls, {usage['prompt_tokens']}+{usage['completion_tokens']} tok, "
                                     f"{usage['seconds']:.1f} s, {usage['invalid']} invalid, {usage['duplicate']} dup, "
                                     f"{usage['regressions']} regressions")
    if report.get("llm"):
        table.add_row("larger-model share of calls", f"{report['large_model_call_share']:.0%}")
    for origin, outcome in report.get("lineages", {}).items():
        table.add_row(f"trials from {origin}", f"{outcome['measured']} ({outcome['own_measured']} own), "
                                               f"{outcome['new_bests']} new bests ({outcome['own_new_bests']} own)")
    return table


def print_summary(report: dict, console: Console | None = None) -> None:
    """Print `summary_table(report)` on `console` (stdout by default)."""
    (console or Console()).print(summary_table(report))


def gpu_peer_markdown(reports: list[dict]) -> str:
    """A markdown table of CUDA tuning reports against torch on the same GPU: untuned, tuned, torch eager and
    torch.compile latencies (ms), tuned speedup over each torch path (their latency / tuned latency; "-"
    where a peer is missing) and correctness."""
    rows = []
    for r in reports:
        tuned = r["tuned_latency_s"]
        cells = [r["workload"], r["strategy"], str(r["trials"]), f"{r['untuned_latency_s'] * 1e3:.4f}", f"{tuned * 1e3:.4f}"]
        peers = [r.get("torch_cuda_latency_s"), r.get("torch_compile_cuda_latency_s")]
        cells += [f"{p * 1e3:.4f}" if p else "-" for p in peers]
        cells += [f"{p / tuned:.2f}x" if p else "-" for p in peers]
        cells.append(f"{r['correct']} ({r['max_abs_error']:.1e})")
        rows.append(cells)
    return markdown_table(["workload", "strategy", "trials", "untuned ms", "tuned ms", "torch eager ms",
                           "torch.compile ms", "vs eager", "vs compile", "correct"], rows) + "\n"
