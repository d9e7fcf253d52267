"""A model tuned at each precision for the same search budget, each run's final timing against every peer (in a
fresh process, alternated, same threads), with every contender's accuracy against torch's float32 output; then
all the tuned builds and every peer timed again together in one such series (runs minutes apart see a machine
whose speed drifts by up to 25% here).

    python benchmarks/precision.py --workload minilm --time-budget 10m --out results/precision

Each run is `litecoop tune --precision P --fresh --json` (its report kept under --out/runs: a rerun resumes).
Writes precision.md (one row per contender: precision, latency, max and mean abs error, cosine) and claims.json
into --out.
"""

import argparse
from pathlib import Path

from tabulate import tabulate

from publish import publish
from runs import tune_report

from litecoop.api import duration_s


def peers_at(precision: str) -> str:
    """The precisions a build in `precision` is compared with, in words: "fp32", "fp32 or bf16"."""
    return " or ".join(dict.fromkeys(("fp32", precision)))


def rows_of(contenders: list[dict]) -> list[list[str]]:
    """One table row per contender (a report's peer entry, or one shaped like it)."""
    rows = []
    for c in contenders:
        number = lambda key, form: format(c[key], form) if c.get(key) is not None else "-"  # noqa: E731
        rows.append([c["name"], c["precision"], number("latency_s", ".4f") if c["reason"] is None else c["reason"][:60],
                     number("max_abs_error", ".1e"), number("mean_abs_error", ".1e"), number("cosine", ".6f")])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="minilm")
    parser.add_argument("--time-budget", default="10m")
    parser.add_argument("--precisions", default="fp32,bf16,int8")
    parser.add_argument("--out", type=Path, default=Path("results/precision"))
    args = parser.parse_args()
    budget_s = duration_s(args.time_budget)
    reports = {p: tune_report(args.workload, budget_s, args.out / "runs" / f"{args.workload.replace(':', '-')}-{p}",
                              "--precision", p, "--fresh") for p in args.precisions.split(",")}
    sections, claims = [], []
    headers = ["contender", "precision", "latency s", "max abs error", "mean abs error", "cosine"]
    for precision, r in reports.items():
        tuned = {"name": f"tuned ({precision})", "precision": precision, "latency_s": r["tuned_latency_s"],
                 "max_abs_error": r["max_abs_error"], "mean_abs_error": r.get("mean_abs_error"),
                 "cosine": r.get("cosine"), "reason": None}
        table = tabulate(rows_of([tuned, *r["peers"]]), headers, tablefmt="github", disable_numparse=True)
        sections.append(f"## {args.workload} tuned in {precision}: {r['search_s']:.0f} s of search, "
                        f"{r['trials_measured_this_run']} trials, correct: {r['correct']} (tolerance "
                        f"{r['tolerance']:g})\n\n{table}\n\ntuned / best peer in "
                        f"{peers_at(precision)} ({r['best_peer']}): "
                        f"**{r['tuned_over_best_peer']:.2f}x**\n")
        claims.append({"claim": f"{args.workload} tuned in {precision} for {budget_s:g} s: latency / the best peer "
                                f"in {peers_at(precision)} ({r['best_peer']}), own run",
                       "number": f"{r['tuned_over_best_peer']:.2f}x (cosine to float32 torch {r['cosine']:.6f})",
                       "commit": r["provenance"].get("commit", "unknown")})
    from litecoop.measure.final import best_peer, time_fresh
    from litecoop.measure.peers import ALL
    from litecoop.tuning.run import THREADS
    from litecoop.workload import load

    together = time_fresh(load(args.workload), {f"tuned ({p})": Path(r["artifact"]) for p, r in reports.items()},
                          args.out / "together", THREADS, list(ALL))
    table = tabulate(rows_of([t.model_dump() for t in together]), headers, tablefmt="github", disable_numparse=True)
    sections.append(f"## Every tuned build and every peer in one series (fresh process, alternated)\n\n{table}\n")
    for precision in reports:
        tuned = next(t for t in together if t.name == f"tuned ({precision})")
        best = best_peer([t for t in together if not t.name.startswith("tuned")], precision)
        ratio = tuned.latency_s / best.latency_s
        sections.append(f"- tuned ({precision}) / best peer in {peers_at(precision)} "
                        f"({best.name}): **{ratio:.2f}x**")
        claims.append({"claim": f"{args.workload} tuned in {precision} for {budget_s:g} s, all builds and peers in one "
                                f"series: latency / the best peer in {peers_at(precision)} "
                                f"({best.name})",
                       "number": f"{ratio:.2f}x (cosine {tuned.cosine:.6f}; {best.name}: {best.cosine:.6f})",
                       "commit": reports[precision]["provenance"].get("commit", "unknown")})
    publish(args.out, "precision.md", "\n".join(sections), claims)


if __name__ == "__main__":
    main()
