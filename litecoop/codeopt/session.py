"""`litecoop optimize-code`: one strategy on one file, from validation of the original to the report.

The best candidate is re-measured (20 fresh interleaved runs) before it is reported, so a lucky screening
measurement is not reported as a speedup.
"""

from __future__ import annotations

import difflib
import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from litecoop.errors import UserError
from litecoop.llm.team import Team
from litecoop.report.tables import markdown_table
from litecoop.codeopt import prompts, sandbox
from litecoop.codeopt.evaluate import Evaluator
from litecoop.codeopt.meta import Prompter
from litecoop.codeopt.search import CONFIRM_REPEAT, STRATEGIES, Candidate, Pool, run_strategy
from litecoop.codeopt.task import CodeTask


def unified_diff(task: CodeTask, source: str) -> str:
    """A unified diff (git style, a/ and b/ paths) from the task's original source to `source`."""
    name = task.path.name
    return "".join(difflib.unified_diff(task.source.splitlines(keepends=True), source.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))


def optimize(task: CodeTask, strategy: str, team: Team, budget: int = 8, seed: int = 0, meta_prompting: bool = False,
             single_model: str | None = None, console: Console | None = None, prompt_cache: Path | None = None,
             sandboxed: bool = True) -> dict:
    """Search for a faster version of `task` and return the report (JSON-able dict).

    Raises UserError, before any LLM call, if the original fails its own tests or the input generator, for
    an unknown strategy, or if no sandbox works here and `sandboxed` (False: the user's `--no-sandbox`).
    """
    if strategy not in STRATEGIES:
        raise UserError(f"unknown strategy '{strategy}' (known: {', '.join(STRATEGIES)})")
    console = console or Console(stderr=True)
    start = time.perf_counter()
    team.reset_usage()
    evaluator = Evaluator(task, sandboxed=sandboxed)
    try:
        evaluator.prepare()
        contexts = prompts.Contexts(prompts.project_context(task.lang, task.source, task.path.name),
                                    prompts.task_context(task.entry, evaluator.hot_spots()),
                                    identity=f"{task.source}\0{task.entry}")
        prompter = Prompter(team, task.lang, contexts, enabled=meta_prompting, cache=prompt_cache)

        def show(candidate: Candidate) -> None:
            e = candidate.evaluation
            verdict = (f"[green]{e.speedup:.2f}x[/green] p={e.p_value:.2g}" if e.passed else f"[red]{e.failure}[/red]")
            console.print(f"  {len(pool.candidates):>3} {candidate.origin:<14} {candidate.model:<20} {verdict}",
                          highlight=False, soft_wrap=True)
        def warn(message: str) -> None:
            console.print(f"[yellow]warning: {message}[/yellow]", highlight=False, soft_wrap=True)
        pool = Pool(team, evaluator, prompter, budget, seed, on_candidate=show, warn=warn)
        console.print(f"[bold]{task.path.name}[/bold]: strategy {strategy}, budget {budget}, "
                      f"meta-prompting {'on' if meta_prompting else 'off'}; original {evaluator.original_run_s * 1e3:.1f} ms")
        stopped, layers = None, None
        try:
            layers = run_strategy(strategy, pool, team, single_model)
        except Exception as err:  # an LLM or a server failed mid-search: report what was measured
            stopped = f"{type(err).__name__}: {(str(err).splitlines() or [''])[0][:200]}"
            warn(f"search stopped early ({stopped}); reporting the {len(pool.candidates)} candidates measured")
        best = pool.best()
        confirmed = None if best is pool.original else (
            best.confirmation or evaluator.evaluate(best.source, repeat=CONFIRM_REPEAT))
    finally:
        evaluator.close()
    usage = team.usage_report()
    wall = time.perf_counter() - start
    return {
        "file": str(task.path), "lang": task.lang, "entry": task.entry, "strategy": strategy, "budget": budget,
        "seed": seed, "meta_prompting": prompter.usage(), "isolation": sandbox.isolation(sandboxed),
        "original_s": evaluator.original_run_s, "input_size": evaluator.size,
        "speedup": confirmed.speedup if confirmed else 1.0,
        "ci": list(confirmed.ci) if confirmed else [1.0, 1.0],
        "p_value": confirmed.p_value if confirmed else 1.0,
        "significant": bool(confirmed and confirmed.significant),
        "best": {"origin": best.origin, "model": best.model, "role": best.role,
                 "screening_speedup": best.evaluation.speedup,
                 "confirmation": confirmed.as_dict() if confirmed else None, "source": best.source,
                 "diff": unified_diff(task, best.source)},
        "candidates": [{"origin": c.origin, "model": c.model, "role": c.role, "passed": c.evaluation.passed,
                        "failure": c.evaluation.failure, "speedup": c.evaluation.speedup,
                        "p_value": c.evaluation.p_value, "llm_s": c.llm_s, "validation_s": c.validation_s}
                       for c in pool.candidates],
        "llm_answers": pool.spent, "candidates_tried": len(pool.candidates), "prompts_too_long": pool.too_long,
        "stopped": stopped, "moa_layers": layers,
        "llm": usage["llm"], "llm_s": usage["llm_s"], "large_model_call_share": usage["large_model_call_share"],
        "validation_s": sum(c.validation_s for c in pool.candidates), "wall_s": wall,
    }


def summary_table(report: dict) -> Table:
    """One `optimize-code` report as a rich Table: speedup and its evidence, isolation, LLM calls and time."""
    table = Table(title=f"{Path(report['file']).name} / {report['strategy']} / budget {report['budget']}")
    table.add_column("what")
    table.add_column("value", justify="right")
    low, high = report["ci"]
    table.add_row("speedup (confirmed, 20 runs)", f"{report['speedup']:.2f}x  [{low:.2f}, {high:.2f}] 95% CI")
    table.add_row("p (Mann-Whitney, one-sided)", f"{report['p_value']:.2g}")
    table.add_row("significant (>= 5%, p < 0.05)", str(report["significant"]))
    table.add_row("best from", f"{report['best']['origin']} / {report['best']['model']}")
    passed = sum(c["passed"] for c in report["candidates"])
    table.add_row("candidates passed / tried / answers", f"{passed} / {report['candidates_tried']} / {report['llm_answers']}")
    table.add_row("prompts too long (skipped)", str(report["prompts_too_long"]))
    if report["stopped"]:
        table.add_row("search stopped early", report["stopped"])
    table.add_row("wall / llm / validation", f"{report['wall_s']:.0f} / {report['llm_s']:.0f} / {report['validation_s']:.0f} s")
    meta = report["meta_prompting"]
    table.add_row("meta-prompter calls (cache hits)", f"{meta['calls']} ({meta['cache_hits']})" if meta["enabled"] else "off")
    for name, usage in report["llm"].items():
        table.add_row(f"llm {name}", f"{usage['calls']} calls, {usage['prompt_tokens']}+{usage['completion_tokens']} tok, "
                                     f"{usage['seconds']:.0f} s, {usage['invalid']} invalid, {usage['duplicate']} dup")
    return table


def markdown(report: dict) -> str:
    """One `optimize-code` report as Markdown: speedup (95% CI, p-value), where the best came from, time split,
    per-model LLM calls, each candidate's screening verdict (speedup and p, or why it failed) and the diff."""
    low, high = report["ci"]
    return "\n".join([f"# {Path(report['file']).name}: {report['strategy']}", "",
             f"- speedup {report['speedup']:.2f}x (95% CI {low:.2f}-{high:.2f}, p={report['p_value']:.2g}), "
             f"significant: {report['significant']}",
             f"- original {report['original_s'] * 1e3:.2f} ms per run; isolation: {report['isolation']}",
             f"- best from {report['best']['origin']} ({report['best']['model']}); "
             f"{report['candidates_tried']} candidates from {report['llm_answers']} LLM answers "
             f"({report['prompts_too_long']} prompts too long, skipped)"
             + (f"; search stopped early: {report['stopped']}" if report["stopped"] else ""),
             f"- wall {report['wall_s']:.0f} s, LLM {report['llm_s']:.0f} s, validation {report['validation_s']:.0f} s",
             "", markdown_table(["model", "calls", "tokens", "seconds"],
                       [[n, str(u["calls"]), str(u["prompt_tokens"] + u["completion_tokens"]), f"{u['seconds']:.0f}"]
                        for n, u in report["llm"].items()]),
             "", markdown_table(["#", "origin", "model", "role", "screening verdict"], [
                 [str(i), c["origin"], c["model"], c["role"] or "-",
                  f"{c['speedup']:.2f}x, p={c['p_value']:.2g}" if c["passed"] else c["failure"].replace("|", "/")]
                 for i, c in enumerate(report["candidates"], start=1)]),
             "", "```diff", report["best"]["diff"].rstrip(), "```", ""])


def write_outputs(report: dict, json_path: Path) -> None:
    """The report as JSON at `json_path`, plus `.md` and `.diff` beside it."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    json_path.with_suffix(".md").write_text(markdown(report))
    json_path.with_suffix(".diff").write_text(report["best"]["diff"])
