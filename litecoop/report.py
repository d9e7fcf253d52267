"""The run report: one JSON-able dict per tuning run, and its summary table (rich)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table


def write_json(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=float) + "\n")


def summary_table(report: dict) -> Table:
    """Latency, speedup, wall-time split and per-model LLM calls of one `litecoop tune` run."""
    table = Table(title=f"{report['workload']} / {report['strategy']} / {report['trials']} trials")
    table.add_column("what")
    table.add_column("value", justify="right")
    ms = lambda s: f"{s * 1e3:.3f} ms" if s is not None else "-"  # noqa: E731
    table.add_row("untuned latency", ms(report["untuned_latency_s"]))
    table.add_row("tuned latency", ms(report["tuned_latency_s"]))
    table.add_row("speedup", f"{report['speedup']:.2f}x")
    table.add_row("correct (max abs error)", f"{report['correct']} ({report['max_abs_error']:.2e})")
    for peer in ("onnxruntime_latency_s", "torch_latency_s"):
        if peer in report:
            table.add_row(peer.removesuffix("_latency_s") + " latency", ms(report[peer]))
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
    (console or Console()).print(summary_table(report))
