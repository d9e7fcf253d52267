"""`litecoop bench-code`: every strategy on every example of `examples/code`, one team, one invocation.

Each example directory holds `example.toml` (lang, file, tests, optional entry and inputs, and for a real
function of a PyPI package a `[fetch]` table: the file is downloaded on first use, see `fetch`). Per strategy:
success rate (a significant confirmed speedup with tests passing), geometric-mean speedup (1.0 where none
was proven), LLM calls, tokens, compute (tokens x parameters), LLM seconds and wall seconds. Finished runs
are appended to `runs.jsonl`, so an interrupted bench resumes. Each strategy has its own meta-prompt
cache, so each pays for its own meta-prompts.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from rich.console import Console
from scipy.stats import gmean

from litecoop.errors import UserError
from litecoop.llm.team import Team
from litecoop.report.plots import pyplot, save
from litecoop.report.run_log import append_run, load_runs
from litecoop.report.tables import markdown_table
from litecoop.codeopt import fetch
from litecoop.codeopt.search import STRATEGIES
from litecoop.codeopt.session import optimize, write_outputs
from litecoop.codeopt.task import load_task


def load_examples(root: Path, names: list[str] | None = None) -> dict[str, object]:
    """{example name: CodeTask} for every `example.toml` under `root`, downloading the files of fetched examples
    that are missing. Raises UserError if there is none, or (one line) if a fetch fails."""
    tasks = {}
    for config_path in sorted(root.glob("**/example.toml")):
        name = config_path.parent.name
        if names and name not in names:
            continue
        config = tomllib.loads(config_path.read_text())
        directory = config_path.parent
        if "fetch" in config:
            try:
                fetch.ensure(directory, config)
            except UserError as err:
                raise UserError(f"example {name}: {err}") from None
        tasks[name] = load_task(directory / config["file"], config["lang"], config["tests"], config.get("entry"),
                                directory / config["inputs"] if "inputs" in config else None)
    if not tasks:
        raise UserError(f"no example.toml under {root}")
    return tasks


def run_bench_code(root: Path, strategies: list[str], budget: int, out: Path, seed: int = 0,
                   models_preset: str = "code-cpu", meta_prompting: bool = False, names: list[str] | None = None,
                   console: Console | None = None) -> dict:
    """Run (or resume) the comparison; write runs.jsonl, per-run reports, and bench.json, bench.md and the cost plot
    over every strategy the folder holds. One folder holds one seed: raises UserError when `out` holds runs of
    another seed (or for an unknown strategy)."""
    console = console or Console(stderr=True)
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise UserError(f"unknown strategy {unknown[0]!r} (choose from {', '.join(STRATEGIES)})")
    tasks = load_examples(root, names)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    runs = load_runs(log)
    if other_seeds := sorted({r["seed"] for r in runs} - {seed}):
        raise UserError(f"{out} holds runs of seed {other_seeds[0]}; give seed {seed} its own --out folder")
    done = {(r["example"], r["strategy"]) for r in runs}
    team = Team(models_preset, seed=seed)
    for name, task in tasks.items():
        for strategy in strategies:
            if (name, strategy) in done:
                continue
            report = optimize(task, strategy, team, budget, seed, meta_prompting, console=console,
                              prompt_cache=out / "prompts" / strategy)
            report["example"] = name
            write_outputs(report, out / "runs" / f"{name}-{strategy}.json")
            append_run(log, runs, report)
    ran = [s for s in STRATEGIES if any(r["strategy"] == s for r in runs)]  # this invocation's and earlier ones'
    summary = summarize(runs, ran)
    (out / "bench.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "bench.md").write_text(markdown(summary, runs, ran))
    plot(summary, ran, out / "cost.png")
    return summary


def proven(run: dict) -> float:
    """A run's speedup if significant, else 1.0 (what the geomeans count)."""
    return run["speedup"] if run["significant"] else 1.0


def summarize(runs: list[dict], strategies: list[str]) -> dict:
    """Per strategy totals and rates over the examples it ran on."""
    summary = {}
    for strategy in strategies:
        mine = [r for r in runs if r["strategy"] == strategy]
        if not mine:
            continue
        usage = [u for r in mine for u in r["llm"].values()]
        summary[strategy] = {
            "examples": len(mine),
            "success_rate": sum(r["significant"] for r in mine) / len(mine),
            "geomean_speedup": float(gmean([proven(r) for r in mine])),
            "llm_calls": sum(u["calls"] for u in usage),
            "tokens": sum(u["prompt_tokens"] + u["completion_tokens"] for u in usage),
            "compute_token_params": sum(u["compute_token_params"] for u in usage),
            "llm_s": sum(r["llm_s"] for r in mine),
            "wall_s": sum(r["wall_s"] for r in mine),
            "candidates": sum(r["candidates_tried"] for r in mine),
        }
    return summary


def faster(candidate: dict) -> bool:
    """A candidate that passed and was significantly faster at screening (the search's own test)."""
    p_value = candidate.get("p_value")
    return bool(candidate["passed"] and p_value is not None and p_value < 0.05 and candidate["speedup"] >= 1.05)


def per_model(runs: list[dict]) -> dict[str, dict]:
    """What each model brought, over every run: code answers (its calls less meta-prompts: candidates, invalid
    and duplicate answers), usable rate (candidates / code answers), candidates that passed, faster candidates
    (`faster`), wins (runs whose significant best it wrote), tokens, LLM seconds, and faster candidates per
    1,000 tokens and per 100 seconds. Issue 13: a model that brings nothing at its cost leaves the code team."""
    stats: dict[str, dict] = {}
    for r in runs:
        for name, usage in r["llm"].items():
            s = stats.setdefault(name, dict.fromkeys(("answers", "candidates", "passed", "faster", "wins",
                                                      "tokens", "seconds"), 0))
            s["answers"] += usage["invalid"] + usage["duplicate"]
            s["tokens"] += usage["prompt_tokens"] + usage["completion_tokens"]
            s["seconds"] += usage["seconds"]
        for c in r["candidates"]:
            s = stats[c["model"]]
            s["answers"] += 1
            s["candidates"] += 1
            s["passed"] += c["passed"]
            s["faster"] += faster(c)
        if r["significant"]:
            stats[r["best"]["model"]]["wins"] += 1
    for s in stats.values():
        s["usable_rate"] = s["candidates"] / s["answers"] if s["answers"] else None
        s["faster_per_1k_tokens"] = 1000 * s["faster"] / s["tokens"] if s["tokens"] else None
        s["faster_per_100_s"] = 100 * s["faster"] / s["seconds"] if s["seconds"] else None
    return stats


def per_role(runs: list[dict]) -> dict[str, dict]:
    """Per proposer role (`prompts.ROLES`; "none" for a plain rewrite, aggregation or crossover): candidates,
    passed, faster."""
    stats: dict[str, dict] = {}
    for c in (c for r in runs for c in r["candidates"]):
        s = stats.setdefault(c.get("role") or "none", {"candidates": 0, "passed": 0, "faster": 0})
        s["candidates"] += 1
        s["passed"] += c["passed"]
        s["faster"] += faster(c)
    return stats


def _rate(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def markdown(summary: dict, runs: list[dict], strategies: list[str]) -> str:
    """Markdown: per strategy its totals and rates (`summarize`), MoA against GA when both ran, and per example
    each strategy's speedup ("(n.s.)": not significant, "-": not run)."""
    lines = [markdown_table(["strategy", "examples", "success rate", "geomean speedup", "LLM calls", "tokens",
                    "compute (tok x params)", "LLM s", "wall s", "candidates"], [
        [strategy, str(s["examples"]), f"{s['success_rate']:.0%}", f"{s['geomean_speedup']:.2f}x", str(s["llm_calls"]),
         str(s["tokens"]), f"{s['compute_token_params']:.3g}", f"{s['llm_s']:.0f}", f"{s['wall_s']:.0f}",
         str(s["candidates"])] for strategy, s in summary.items()])]
    if "moa" in summary and "ga" in summary:
        moa, ga = summary["moa"], summary["ga"]
        lines += ["", f"MoA vs GA: LLM compute {moa['compute_token_params'] / ga['compute_token_params']:.2f}x, "
                      f"wall time {moa['wall_s'] / ga['wall_s']:.2f}x, success {moa['success_rate']:.0%} vs "
                      f"{ga['success_rate']:.0%}."]

    def speedup(example: str, strategy: str) -> str:
        r = next((r for r in runs if r["example"] == example and r["strategy"] == strategy), None)
        return "-" if r is None else f"{r['speedup']:.2f}x{'' if r['significant'] else ' (n.s.)'}"

    examples = dict.fromkeys(r["example"] for r in runs)
    rows = [[example, *[speedup(example, name) for name in strategies]] for example in examples]
    lines += ["", markdown_table(["example", *strategies], rows)]
    lines += ["", "What each model brought (all strategies; faster = passed and significantly faster at screening):",
              "", markdown_table(["model", "code answers", "usable", "passed", "faster", "wins", "tokens", "LLM s",
                                  "faster / 1k tokens", "faster / 100 s"], [
                  [name, str(s["answers"]), _rate(s["usable_rate"], "{:.0%}"), str(s["passed"]), str(s["faster"]),
                   str(s["wins"]), str(s["tokens"]), f"{s['seconds']:.0f}", _rate(s["faster_per_1k_tokens"], "{:.3f}"),
                   _rate(s["faster_per_100_s"], "{:.2f}")] for name, s in per_model(runs).items()])]
    lines += ["", markdown_table(["proposer role", "candidates", "passed", "faster"], [
        [role, str(s["candidates"]), str(s["passed"]), str(s["faster"])] for role, s in per_role(runs).items()])]
    return "\n".join(lines) + "\n"


def plot(summary: dict, strategies: list[str], path: Path) -> None:
    """Geometric-mean speedup over the examples against LLM compute (tokens x parameters), one point per
    strategy, labelled with its success rate: what each strategy bought with its compute."""
    figure, axis = pyplot().subplots(figsize=(5, 3.5))
    for strategy in strategies:
        if strategy in summary:
            s = summary[strategy]
            axis.scatter(s["compute_token_params"], s["geomean_speedup"], s=60)
            axis.annotate(f"{strategy} ({s['success_rate']:.0%} of examples)",
                          (s["compute_token_params"], s["geomean_speedup"]))
    axis.set(xlabel="LLM compute (tokens x parameters)", ylabel="geomean speedup (1.0 where none proven)",
             yscale="log")
    save(figure, path)
