"""`litecoop compare-code`: code strategies pooled over several `bench-code` folders (one seed each), compared
pairwise on the runs they share (same example, same seed).

A variant is a strategy, with " +meta" when its run had meta-prompting on, so the meta-prompting ablation is one
more pair. Where two folders hold a run of the same variant, example and seed, the later folder's run counts
(a rerun after a strategy changed). A run's speedup counts only if it was significant (tests passing, confirmed
by interleaved timing); otherwise it is 1.0, as in `bench-code`'s geomean.

Each pair is also compared at equal search time: on each shared (example, seed), the costlier run is cut at the
cheaper run's search seconds (meta-prompting + LLM + validation) and keeps the candidates it had by then.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

from scipy.stats import gmean, wilcoxon

from litecoop.errors import UserError
from litecoop.report.plots import pyplot, save
from litecoop.report.run_log import load_runs
from litecoop.report.tables import markdown_table
from litecoop.codeopt.bench import proven, summarize
from litecoop.codeopt.evaluate import Evaluation


ORDER = ("moa", "ga", "single")  # pairs read "moa vs ga", "moa vs single", "ga vs single", as issue 13 asks


def variant(run: dict) -> str:
    """The run's strategy, with " +meta" if meta-prompting was on."""
    return run["strategy"] + (" +meta" if run["meta_prompting"]["enabled"] else "")


def pool_runs(folders: list[Path]) -> list[dict]:
    """Every run of `folders` (each a `bench-code --out` folder), its "strategy" replaced by its `variant`; a later
    folder's run replaces an earlier one of the same variant, example and seed. Raises UserError for a folder
    without runs.jsonl."""
    pooled = {}
    for folder in folders:
        log = folder / "runs.jsonl"
        if not log.exists():
            raise UserError(f"{folder}: no runs.jsonl (not a bench-code --out folder)")
        for run in load_runs(log):
            label = variant(run)
            pooled[(label, run["example"], run["seed"])] = dict(run, strategy=label)
    if not pooled:
        raise UserError(f"no runs in {', '.join(map(str, folders))}")
    return list(pooled.values())


def compute(run: dict) -> float:
    """The run's LLM compute, tokens x parameters."""
    return sum(usage["compute_token_params"] for usage in run["llm"].values())


def search_s(run: dict) -> float:
    """The run's search seconds: meta-prompting, LLM answers and validation (timing included)."""
    return run["meta_prompting"]["seconds"] + run["llm_s"] + run["validation_s"]


def proven_by(run: dict, seconds: float) -> float:
    """The speedup `run` had proven after `seconds` of search: `proven(run)` if the whole run fits, else the best
    of the candidates done by then, 1.0 if none. A candidate's time is the run's meta-prompting seconds plus its
    share of the rest: the run's LLM and validation seconds spread over its candidates in proportion to their
    own (an answer that made no candidate, a duplicate or an unusable one, has no recorded time). The run's best
    candidate counts at its confirmed verdict (`proven`), the others at their screening verdict, which is more
    lenient: a cut favours the run that is cut."""
    if seconds >= search_s(run) or not run["candidates"]:
        return proven(run)
    own = list(itertools.accumulate(c["llm_s"] + c["validation_s"] for c in run["candidates"]))
    scale = (search_s(run) - run["meta_prompting"]["seconds"]) / own[-1]
    best_screening = run["best"]["screening_speedup"]
    done = [c for c, at in zip(run["candidates"], own) if run["meta_prompting"]["seconds"] + at * scale <= seconds]
    return max([proven(run) if c["speedup"] == best_screening else
                c["speedup"] if Evaluation(c["passed"], speedup=c["speedup"], p_value=c["p_value"]).significant
                else 1.0 for c in done], default=1.0)


def per_seed(runs: list[dict]) -> dict[int, tuple[int, float]]:
    """{seed: (runs with a significant speedup, geomean of `proven`)}."""
    seeds = sorted({r["seed"] for r in runs})
    return {seed: (sum(r["significant"] for r in runs if r["seed"] == seed),
                   float(gmean([proven(r) for r in runs if r["seed"] == seed]))) for seed in seeds}


def contrast(first: list[float], second: list[float]) -> dict:
    """Two paired lists of counted speedups (1.0 where none proven): how many exceed 1.0 in each, their geomeans,
    how often the first is higher or lower, and the two-sided Wilcoxon signed-rank p-value of the log ratios
    (scipy.stats; ties dropped, 1.0 if all tie)."""
    log_ratios = [math.log(x / y) for x, y in zip(first, second)]
    return {"significant": (sum(x > 1.0 for x in first), sum(y > 1.0 for y in second)),
            "geomean": (float(gmean(first)), float(gmean(second))),
            "higher": sum(d > 0 for d in log_ratios), "lower": sum(d < 0 for d in log_ratios),
            "wilcoxon_p": float(wilcoxon(log_ratios).pvalue) if any(log_ratios) else 1.0}


def paired(runs: list[dict], a: str, b: str) -> dict | None:
    """Variant `a` against `b` on the (example, seed) pairs both ran; None if there are none. `contrast` of their
    counted speedups at an equal count of answers (the runs as they are) and at equal search time
    ("equal_time": each pair cut at the cheaper run's `search_s`, `proven_by`), the compute ratio a/b, and per seed
    the difference in count and the geomean ratio (the spread between seeds)."""
    by_key = {(r["strategy"], r["example"], r["seed"]): r for r in runs}
    keys = sorted({key[1:] for key in by_key if key[0] == a} & {key[1:] for key in by_key if key[0] == b})
    if not keys:
        return None
    first, second = [by_key[(a, *key)] for key in keys], [by_key[(b, *key)] for key in keys]
    cuts = [min(search_s(x), search_s(y)) for x, y in zip(first, second)]
    seeds_a, seeds_b = per_seed(first), per_seed(second)
    return {
        "a": a, "b": b, "runs": len(keys), **contrast(list(map(proven, first)), list(map(proven, second))),
        "equal_time": contrast([proven_by(x, t) for x, t in zip(first, cuts)],
                               [proven_by(y, t) for y, t in zip(second, cuts)]),
        "compute_ratio": sum(map(compute, first)) / sum(map(compute, second)),
        "search_s_ratio": sum(map(search_s, first)) / sum(map(search_s, second)),
        "per_seed": {seed: (seeds_a[seed][0] - seeds_b[seed][0], seeds_a[seed][1] / seeds_b[seed][1])
                     for seed in seeds_a},
    }


def markdown(runs: list[dict], summary: dict, pairs: list[dict], folders: list[Path]) -> str:
    """Per variant over all its runs (with each seed's count and geomean), then each pair on its shared runs, then
    each run's speedup. `summary`: `bench.summarize` of the runs by variant."""
    variants = list(summary)
    lines = [f"Runs pooled from {', '.join(map(str, folders))}; a run without a significant speedup counts 1.0x.", "",
             markdown_table(["variant", "runs", "significantly faster", "geomean", "LLM compute (tok x params)",
                             "LLM s", "per seed: faster, geomean"], [
                 [name, str(s["examples"]), str(round(s["success_rate"] * s["examples"])),
                  f"{s['geomean_speedup']:.2f}x", f"{s['compute_token_params']:.3g}", f"{s['llm_s']:.0f}",
                  "; ".join(f"seed {seed}: {count}, {geomean:.2f}x" for seed, (count, geomean)
                            in per_seed([r for r in runs if r["strategy"] == name]).items())]
                 for name, s in summary.items()]), ""]
    lines += ["Pairs on the runs both ran (same example and seed):", "", markdown_table(
        ["a vs b", "shared runs", "significantly faster", "geomean", "compute a / b", "a higher / lower",
         "Wilcoxon p", "per seed: faster a - b, geomean a / b"], [
            [f"{p['a']} vs {p['b']}", str(p["runs"]), "{} vs {}".format(*p["significant"]),
             "{:.2f}x vs {:.2f}x".format(*p["geomean"]), f"{p['compute_ratio']:.2f}", f"{p['higher']} / {p['lower']}",
             f"{p['wilcoxon_p']:.2f}", "; ".join(f"seed {seed}: {count:+d}, {ratio:.2f}"
                                                 for seed, (count, ratio) in p["per_seed"].items())]
            for p in pairs])]
    lines += ["", "The same pairs at equal search time (each shared run cut at the cheaper one's seconds; `proven_by`):",
              "", markdown_table(["a vs b", "shared runs", "search s a / b", "significantly faster", "geomean",
                                  "a higher / lower", "Wilcoxon p"], [
                  [f"{p['a']} vs {p['b']}", str(p["runs"]), f"{p['search_s_ratio']:.2f}",
                   "{} vs {}".format(*t["significant"]), "{:.2f}x vs {:.2f}x".format(*t["geomean"]),
                   f"{t['higher']} / {t['lower']}", f"{t['wilcoxon_p']:.2f}"]
                  for p in pairs for t in [p["equal_time"]]])]
    examples = sorted({(r["example"], r["seed"]) for r in runs})
    by_key = {(r["strategy"], r["example"], r["seed"]): r for r in runs}
    rows = [[f"{example} (seed {seed})", *[
        "-" if (r := by_key.get((name, example, seed))) is None
        else f"{r['speedup']:.2f}x" + ("" if r["significant"] else " (n.s.)") for name in variants]]
        for example, seed in examples]
    lines += ["", markdown_table(["example", *variants], rows)]
    return "\n".join(lines) + "\n"


def plot(runs: list[dict], variants: list[str], path: Path) -> None:
    """Geomean speedup against mean LLM compute per run (tokens x parameters), per variant: one large marker for
    all its runs, one small marker per seed (the spread)."""
    figure, axis = pyplot().subplots(figsize=(6, 4))
    for name in variants:
        mine = [r for r in runs if r["strategy"] == name]
        groups = [mine] + [[r for r in mine if r["seed"] == seed] for seed in sorted({r["seed"] for r in mine})]
        points = [(sum(map(compute, group)) / len(group), float(gmean([proven(r) for r in group]))) for group in groups]
        (x, y), *seeds = points
        faster = sum(r["significant"] for r in mine)
        marker = axis.scatter([x], [y], s=80, label=f"{name}: {faster} of {len(mine)} runs faster")
        axis.scatter([p[0] for p in seeds], [p[1] for p in seeds], s=20, alpha=0.5, color=marker.get_facecolor())
    axis.set(xlabel="mean LLM compute per run (tokens x parameters)",
             ylabel="geomean speedup (1.0 where none proven)", yscale="log")
    axis.legend(title="large: all runs; small: one seed", fontsize="small")
    save(figure, path)


def plot_anytime(runs: list[dict], variants: list[str], path: Path) -> None:
    """Geomean counted speedup against search seconds (`proven_by`), per variant, over the (example, seed) runs
    every variant has; nothing if they share none."""
    keys = set.intersection(*[{(r["example"], r["seed"]) for r in runs if r["strategy"] == name} for name in variants])
    if not keys:
        return
    shared = [r for r in runs if (r["example"], r["seed"]) in keys]
    grid = [i * max(map(search_s, shared)) / 60 for i in range(61)]
    figure, axis = pyplot().subplots(figsize=(6, 4))
    for name in variants:
        mine = [r for r in shared if r["strategy"] == name]
        axis.plot(grid, [float(gmean([proven_by(r, t) for r in mine])) for t in grid], label=name)
    axis.set(xlabel="search seconds per run (meta-prompting + LLM + validation)",
             ylabel="geomean speedup proven by then", title=f"{len(keys)} runs (example, seed) each")
    axis.legend(fontsize="small")
    save(figure, path)


def run_compare_code(folders: list[Path], out: Path) -> str:
    """Pool `folders`, compare every pair of variants, write compare.md, compare.json, cost.png (`plot`) and
    time.png (`plot_anytime`) into `out`; returns the Markdown. Raises UserError as `pool_runs`."""
    runs = pool_runs(folders)
    variants = sorted(dict.fromkeys(r["strategy"] for r in runs), key=lambda name: (ORDER.index(name.split()[0]), name))
    pairs = [p for a, b in itertools.combinations(variants, 2) if (p := paired(runs, a, b))]
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(runs, variants)
    text = markdown(runs, summary, pairs, folders)
    (out / "compare.md").write_text(text)
    (out / "compare.json").write_text(json.dumps({"summary": summary, "pairs": pairs}, indent=2)
                                      + "\n")
    plot(runs, variants, out / "cost.png")
    plot_anytime(runs, variants, out / "time.png")
    return text
